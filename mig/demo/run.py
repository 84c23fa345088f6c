"""``mig demo``: a synthetic legacy 住民記録 export taken through extract → validate → load.

The directory it writes::

    DIR/legacy/   the old vendor's export: SETAI.csv, JUMIN.csv, IDO.csv (CP932) + mapping.toml
    DIR/run/      the run directory (see :mod:`mig.run.writer`)
    DIR/demo.db   the SQLite database the run was loaded into
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mig.demo.generator import DemoExport, generate_legacy_export
from mig.errors import OutputExistsError
from mig.extract.run import Progress, RunResult, extract
from mig.fs import write_text
from mig.load import LoadResult, load_run

MARKER = ".mig-demo"


@dataclass(frozen=True)
class DemoResult:
    """Where the demo wrote what, and the counts."""

    out: Path
    export: DemoExport
    run: RunResult
    loaded: LoadResult
    database: Path

    @property
    def export_dir(self) -> Path:
        return self.export.out_dir

    @property
    def run_dir(self) -> Path:
        return self.run.run_dir

    @property
    def manifest(self) -> dict[str, Any]:
        return self.run.manifest

    def rejection_reasons(self) -> dict[str, int]:
        """Rejected rows per finding type (errors only), over all files."""
        counts: dict[str, int] = {}
        for file in self.run.report.files:
            for finding in file.findings:
                if finding.severity == "error":
                    counts[finding.type] = counts.get(finding.type, 0) + finding.count
        return dict(sorted(counts.items()))

    def summary_lines(self) -> list[str]:
        manifest = self.run.run_manifest
        totals = manifest.totals
        conserved = totals.rows_in == totals.rows_out + totals.rows_rejected
        lines = [
            f"rows_in {totals.rows_in} = rows_out {totals.rows_out} + rows_rejected "
            f"{totals.rows_rejected}  {'✓' if conserved else '✗'}",
            "rejected because: " + ", ".join(f"{k} {v}" for k, v in self.rejection_reasons().items()),
        ]
        gaiji = [g for f in self.run.report.files for g in f.gaiji]
        if manifest.gaiji is not None:
            lines.append(
                f"外字 registry {manifest.gaiji.source}: "
                f"{manifest.gaiji.confirmed} confirmed; unresolved {sum(g['count'] for g in gaiji)}"
            )
        if gaiji:
            lines.append(
                "外字 (unresolved, kept as Private Use characters): "
                + ", ".join(f"{g['item']} {g.get('code') or ''} {g['count']} rows" for g in gaiji)
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        manifest = self.run.run_manifest
        return {
            "export_dir": str(self.export_dir),
            "run_dir": str(self.run_dir),
            "database": str(self.database),
            "totals": manifest.totals.to_dict(),
            "files": [f.to_dict() for f in manifest.files],
            "rejection_reasons": self.rejection_reasons(),
            "deliberately_broken": dict(self.export.broken),
            "load": self.loaded.to_dict(),
        }


def run_demo(
    out: Path,
    *,
    rows: int = 1000,
    seed: int = 0,
    force: bool = False,
    progress: Progress | None = None,
    gaiji_registry: bool = False,
) -> DemoResult:
    """Generate a legacy export under ``out``, extract it, and load it into SQLite.

    >>> result = run_demo(Path("mig-demo"), rows=1000)  # doctest: +SKIP
    >>> result.manifest["totals"]["rows_rejected"] > 0  # doctest: +SKIP
    True
    """
    if out.exists() and any(out.iterdir()):
        if not force:
            raise OutputExistsError(f"{out}: is not empty; use --force to replace an earlier demo")
        if not (out / MARKER).exists():
            raise OutputExistsError(f"{out}: is not a mig demo directory; refusing to replace it")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / MARKER, "written by mig demo\n")
    export = generate_legacy_export(out / "legacy", rows=rows, seed=seed)
    if gaiji_registry:
        from mig.demo.registry import attach_demo_registry

        attach_demo_registry(export.mapping)
    run = extract(
        export.mapping,
        [export.setai_csv, export.jumin_csv, export.ido_csv],
        out / "run",
        progress=progress,
    )
    database = out / "demo.db"
    loaded = load_run(run.run_dir, f"sqlite:///{database.resolve()}")
    return DemoResult(out=out, export=export, run=run, loaded=loaded, database=database)
