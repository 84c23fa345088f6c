"""The ``copybook`` adapter: mainframe files described by a COBOL copybook.

Framing (fixed LRECL, RDW, BDW+RDW, text lines), several record types per file chosen by a
field value, and vectorised decoding of every field through :mod:`mig.codecs`. Registered
in the ``mig.adapters`` entry-point group as ``copybook``.
"""

from __future__ import annotations

from mig_adapters.copybook.adapter import CopybookAdapter, CopybookOptions, CopybookReader
from mig_adapters.copybook.parser import (
    Copybook,
    CopybookSyntaxError,
    Field,
    Record,
    load_copybook,
    parse_copybook,
)

__all__ = [
    "Copybook",
    "CopybookAdapter",
    "CopybookOptions",
    "CopybookReader",
    "CopybookSyntaxError",
    "Field",
    "Record",
    "load_copybook",
    "parse_copybook",
]
