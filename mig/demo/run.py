"""``mig demo``: a synthetic legacy 住民記録 export taken through extract → validate → load.

The directory it writes::

    DIR/legacy/   the old vendor's export: SETAI.csv, JUMIN.csv, IDO.csv (CP932) + mapping.toml
    DIR/run/      the run directory (see :mod:`mig.run.writer`)
    DIR/demo.db   the SQLite database the run was loaded into
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mig.demo.generator import DemoExport, generate_legacy_export
from mig.extract.run import Progress, RunResult, extract
from mig.fs import Owner, output_dir, write_text, writing
from mig.load import LoadResult, load_run

MARKER = ".mig-demo"
MARKER_TEXT = "written by mig demo\n"
#: A demo directory is recognised by its ``.mig-demo`` file: replaced (``--force``) only then.
DEMO_OWNER = Owner("demo", MARKER, lambda data: data == MARKER_TEXT.encode("utf-8"))


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
        return self.run.report.rejection_reasons()

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
    out = Path(out)
    with writing(out, every=True):
        out.absolute().parent.mkdir(parents=True, exist_ok=True)
    with output_dir(out, DEMO_OWNER, replace=force, option="--force") as building:
        write_text(building / MARKER, MARKER_TEXT)
        export = generate_legacy_export(building / "legacy", rows=rows, seed=seed)
        if gaiji_registry:
            from mig.demo.registry import attach_demo_registry

            attach_demo_registry(export.mapping)
        run = extract(
            export.mapping,
            [export.setai_csv, export.jumin_csv, export.ido_csv],
            building / "run",
            progress=progress,
        )
        loaded = load_run(run.run_dir, f"sqlite:///{(building / 'demo.db').resolve()}")
    # built under a temporary name: the paths it reports are those it now has
    database = out / "demo.db"
    export = dataclasses.replace(
        export, out_dir=out / "legacy",
        **{name: out / "legacy" / getattr(export, name).name
           for name in ("setai_csv", "jumin_csv", "ido_csv", "mapping")},
    )
    run = dataclasses.replace(run, run_dir=out / "run")
    loaded = dataclasses.replace(
        loaded, run_dir=str(run.run_dir), target=f"sqlite:///{database.resolve()}"
    )
    return DemoResult(out=out, export=export, run=run, loaded=loaded, database=database)
