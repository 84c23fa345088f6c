"""What a run tells its plain-text log (``mig --log-file PATH``): counts, layout ids, file
names and type codes — never a value.

Stages log through the standard :mod:`logging` tree under the logger ``mig``; nothing is
written anywhere unless the command line attached a file to it
(:mod:`mig.cli.runlog`). The lines are built here so that "no values" is checked in one
place.

>>> from mig.run.manifest import Manifest, ManifestFile
>>> entry = ManifestFile(layout="juki-jumin", items=(), rows_in=120, rows_out=114, rows_rejected=6, outputs=())
>>> manifest_lines(Manifest(files=(entry,)))
['juki-jumin: rows_in 120 = rows_out 114 + rows_rejected 6']
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mig.run.manifest import Manifest

LOGGER_NAME = "mig"
"""The root of every logger mig writes its run log through."""

logger = logging.getLogger(LOGGER_NAME)


def manifest_lines(manifest: Manifest) -> list[str]:
    """The per-layout counts of a manifest, one line each (the conservation equation)."""
    return [
        f"{f.layout}: rows_in {'?' if f.rows_in is None else f.rows_in} = rows_out {f.rows_out} "
        f"+ rows_rejected {f.rows_rejected}"
        for f in manifest.files
    ]


def log_manifest(manifest: Manifest) -> None:
    """Log a manifest that was just written: its counts, file by file."""
    if not logger.isEnabledFor(logging.INFO):
        return
    for line in manifest_lines(manifest):
        logger.info("manifest %s", line)
