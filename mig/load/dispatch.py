"""``load``: one run directory into the target a URL names — a database or a loader bundle.

``bundle:DIR`` writes a loader bundle (:func:`mig.load.bundle.write_bundle`); every other
URL goes to a database target (:func:`mig.load.run.load_run`, chosen by URL scheme). The
bundle-only options are refused for a database target, before anything is read.

>>> load(Path("run"), "sqlite:///x.db", encoding="cp932")
Traceback (most recent call last):
...
mig.errors.ConfigError: --encoding and --fixed-width apply to --target bundle:DIR only
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mig.errors import ConfigError
from mig.load.bundle import BundleResult, bundle_path, write_bundle
from mig.load.run import BATCH_ROWS, LoadResult, load_run
from mig.load.targets import Progress

__all__ = ["load"]


def load(
    run_dir: Path,
    target: str,
    *,
    replace: bool = False,
    gaiji_policy: str = "keep",
    shrink_order: str | Sequence[str] | None = None,
    rejects_dir: Path | None = None,
    batch_rows: int = BATCH_ROWS,
    encoding: str | None = None,
    fixed_width: bool = False,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> LoadResult | BundleResult:
    """Load ``run_dir`` into ``target``: a database URL, or ``bundle:DIR`` for a loader bundle.

    ``encoding`` (default ``utf-8``) and ``fixed_width`` apply to bundles only;
    ``rejects_dir`` to databases that isolate refused rows, ``jobs`` (parallel
    connections, default the cores) to databases that stage (PostgreSQL). Both results have
    ``exit_code``, ``to_dict()`` and ``summary_lines()``.
    """
    bundle = bundle_path(target)
    if bundle is None:
        if encoding or fixed_width:
            raise ConfigError("--encoding and --fixed-width apply to --target bundle:DIR only")
        return load_run(
            run_dir, target, replace=replace, progress=progress, batch_rows=batch_rows,
            gaiji_policy=gaiji_policy, shrink_order=shrink_order, rejects_dir=rejects_dir,
            jobs=jobs,
        )
    return write_bundle(
        run_dir, bundle, encoding=encoding or "utf-8", format="fixed" if fixed_width else "csv",
        gaiji_policy=gaiji_policy, shrink_order=shrink_order, replace=replace,
        batch_rows=batch_rows, progress=progress,
    )
