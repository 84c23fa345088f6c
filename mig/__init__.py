"""mig — move Japanese local-government data through the 中間標準レイアウト.

The public library API; the ``mig`` command is a thin layer over it.

>>> import mig
>>> from pathlib import Path
>>> "juki-jumin" in [layout.id for layout in mig.list_layouts()]
True
>>> mig.load(Path("run"), "sqlite:///x.db", fixed_width=True)
Traceback (most recent call last):
...
mig.errors.ConfigError: --encoding and --fixed-width apply to --target bundle:DIR only

``import mig`` stays cheap: the stages are imported by the function that needs them, and
the classes below (errors, the layout model, audit options) on first use.

``mig.extract`` and ``mig.load`` are the façade functions, although ``mig/extract/`` and
``mig/load/`` are also subpackages: importing a submodule (``import mig.load.run``) would
normally rebind the attribute of the parent package to the subpackage, so this module
keeps its own function under those names (see :class:`_Facade`). Reach the subpackages
with ``from mig.load import …`` / ``from mig.load.run import …``, which go through
``sys.modules`` and are unaffected.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from mig.version import __version__

if TYPE_CHECKING:
    from pathlib import Path

    from mig.audit import AuditOptions, AuditReport, Limits
    from mig.demo.run import DemoResult
    from mig.errors import (
        ConfigError,
        ExitCode,
        InputError,
        MigError,
        OutputExistsError,
        UnknownNameError,
        UserError,
    )
    from mig.extract.run import RunResult
    from mig.guess import GuessResult
    from mig.layout import Item, Layout, get_layout, list_layouts
    from mig.layout_import import ImportResult
    from mig.load.bundle import BundleRefusedError, BundleResult
    from mig.load.run import LoadResult
    from mig.plugin import Adapter
    from mig.validation.report import Report

__all__ = [
    "AuditOptions",
    "BundleEncoding",
    "BundleFormat",
    "BundleRefusedError",
    "ConfigError",
    "ExitCode",
    "GaijiPolicyName",
    "InputError",
    "Item",
    "Layout",
    "Limits",
    "MigError",
    "OutputExistsError",
    "Repertoire",
    "UnknownNameError",
    "UserError",
    "__version__",
    "audit_package",
    "extract",
    "get_layout",
    "guess",
    "import_layouts",
    "list_layouts",
    "load",
    "preview",
    "run_demo",
    "validate_files",
    "validate_run",
    "write_bundle",
]

GaijiPolicyName = Literal["keep", "strip", "shrink", "fail"]
"""``gaiji_policy`` of :func:`load` / :func:`write_bundle` (:data:`mig.gaiji.policy.POLICIES`)."""

BundleEncoding = Literal["utf-8", "utf-8-sig", "cp932"]
"""Data file encoding of a loader bundle (:data:`mig.load.bundle.BUNDLE_ENCODINGS`)."""

BundleFormat = Literal["csv", "fixed"]
"""Data file format of a loader bundle (:data:`mig.load.bundle.BUNDLE_FORMATS`)."""

Repertoire = Literal["jisx0213", "cp932", "jisx0213+cp932"]
"""Target character repertoire of an audit's 外字 count (:data:`mig.charsets.REPERTOIRES`)."""

FileProgress = Callable[[str, int, int], None]
"""``progress(path, bytes_done, bytes_total)``, called as input is read."""

RowProgress = Callable[[int], None]
"""``progress(rows)``, called after every batch written; once negative when a table's
first attempt is undone (a row refused) and written again batch by batch."""

DEFAULT_BATCH_BYTES = 32 * 1024 * 1024
DEFAULT_BATCH_ROWS = 65_536


def extract(
    mapping: Path,
    inputs: Sequence[Path],
    out: Path,
    *,
    adapter: str | Adapter | None = None,
    encoding: str | None = None,
    force: bool = False,
    show_values: bool = False,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    progress: FileProgress | None = None,
    limit: int | None = None,
    excel: bool = False,
    workers: int | None = None,
    engine: Literal["local", "ray"] = "local",
    address: str | None = None,
    resume: bool = False,
    partition_bytes: int | None = None,
) -> RunResult:
    """Convert legacy export files into the run directory ``out`` (decode → map → validate).

    ``encoding`` overrides the source encoding of the mapping (``cp932``, ``shift_jis``,
    ``euc-jp``, ``utf-8``, ``utf-8-sig``, ``utf-16`` …); ``adapter`` its adapter: an
    installed adapter's name, or an adapter object (see :mod:`mig.plugin`) used without
    an entry point. ``limit``: a trial on the first ``limit`` records of each input (the
    manifest marks the run partial). ``excel``: also write, per layout, a UTF-8-with-BOM
    CSV of the findings for spreadsheets (and of the rejects' decoded fields with
    ``show_values``).

    Large inputs run in partitions (:mod:`mig.extract.partitions`) on ``workers`` local
    processes (default: every core this process may use) or on Ray (``engine="ray"``,
    ``address``), cut at about ``partition_bytes`` (default 64 MiB); the run directory is
    the same bytes whatever the partitioning. ``resume``: reuse the partitions an
    interrupted run into ``out`` completed.
    """
    from mig.extract.run import extract as run_extract

    return run_extract(
        mapping, list(inputs), out, adapter=adapter, force=force, show_values=show_values,
        batch_bytes=batch_bytes, source_overrides={"encoding": encoding} if encoding else None,
        progress=progress, limit=limit, excel=excel, workers=workers, engine=engine, address=address,
        resume=resume, partition_bytes=partition_bytes,
    )


def validate_files(
    paths: Sequence[Path],
    layout_id: str,
    *,
    references: Mapping[str, Path] | None = None,
    encoding: str | None = None,
    show_values: bool = False,
) -> Report:
    """Validate intermediate CSV or Parquet files against a layout; ``references`` maps a
    referenced layout id to its file (cross-file keys)."""
    from mig.validation.files import validate_files as run_validate

    return run_validate(
        list(paths), layout_id, references=references, encoding=encoding, show_values=show_values
    )


def validate_run(run_dir: Path, *, show_values: bool = False) -> Report:
    """Validate a run directory's data files against the layouts its manifest names
    (foreign keys against the referenced layouts' files in the same run)."""
    from mig.validation.files import validate_run as run_validate

    return run_validate(run_dir, show_values=show_values)


def load(
    run_dir: Path,
    target: str,
    *,
    replace: bool = False,
    gaiji_policy: GaijiPolicyName = "keep",
    shrink_order: str | Sequence[str] | None = None,
    rejects_dir: Path | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    encoding: BundleEncoding | None = None,
    fixed_width: bool = False,
    progress: RowProgress | None = None,
    allow_partial: bool = False,
    jobs: int | None = None,
) -> LoadResult | BundleResult:
    """Load a run directory into ``target``: a database URL (``sqlite:///x.db``,
    ``duckdb:///x.duckdb``, ``postgresql://…``) or ``bundle:DIR`` for a loader bundle
    (see :func:`mig.load.dispatch.load`). A trial run (``mig extract --limit``) is refused
    (:class:`ConfigError`) unless ``allow_partial``. ``jobs``: parallel connections into
    PostgreSQL (default: one on two cores or fewer, else the cores;
    :func:`mig.machine.default_workers`, :mod:`mig.load.parallel`)."""
    from mig.load.dispatch import load as run_load
    from mig.run.manifest import refuse_partial

    refuse_partial(run_dir, allow=allow_partial)

    return run_load(
        run_dir, target, replace=replace, gaiji_policy=gaiji_policy, shrink_order=shrink_order,
        rejects_dir=rejects_dir, batch_rows=batch_rows, encoding=encoding,
        fixed_width=fixed_width, progress=progress, jobs=jobs,
    )


def write_bundle(
    run_dir: Path,
    out: Path,
    *,
    encoding: BundleEncoding = "utf-8",
    format: BundleFormat = "csv",  # noqa: A002  (the option's name)
    gaiji_policy: GaijiPolicyName = "keep",
    shrink_order: str | Sequence[str] | None = None,
    replace: bool = False,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    progress: RowProgress | None = None,
    allow_partial: bool = False,
) -> BundleResult:
    """Write the loader bundle of a run directory to the directory ``out`` (DDL, data
    files, psql / SQL*Loader / bcp control files, sha256). A trial run (``mig extract
    --limit``) is refused (:class:`ConfigError`) unless ``allow_partial``."""
    from mig.load.bundle import write_bundle as run_write_bundle
    from mig.run.manifest import refuse_partial

    refuse_partial(run_dir, allow=allow_partial)

    return run_write_bundle(
        run_dir, out, encoding=encoding, format=format, gaiji_policy=gaiji_policy,
        shrink_order=shrink_order, replace=replace, batch_rows=batch_rows, progress=progress,
    )


def audit_package(package: Path, options: AuditOptions | None = None) -> AuditReport:
    """Audit a contract-end handover package (directory or zip): complete, conformant,
    untampered, 外字 left. ``options``: :class:`AuditOptions` (with :class:`Limits`)."""
    from mig.audit import audit_package as run_audit

    return run_audit(package, options)


def preview(
    mapping: Path, input_path: Path, *, limit: int = 10, adapter: str | None = None, mapped: bool = False
) -> dict[str, Any]:
    """The first ``limit`` records of a legacy file as the mapping's adapter decodes them,
    with each field's byte offset (:func:`mig.extract.preview.preview_source`); with
    ``mapped``, taken through the mapping and the layout's rules instead: each item beside
    its source fields, and the findings (:func:`mig.extract.preview.preview_mapped`). The
    values are the file's data: show them to the user, never log them."""
    from mig.extract.preview import preview_mapped, preview_source

    if mapped:
        return preview_mapped(mapping, input_path, limit=limit, adapter=adapter)
    return preview_source(mapping, input_path, limit=limit, adapter=adapter)


def guess(
    samples: Sequence[Path], layout: str, *, out: Path | None = None, force: bool = False
) -> GuessResult:
    """Draft a mapping of the sample exports ``samples`` onto ``layout`` (:mod:`mig.guess`):
    sniffed encoding, delimiter, quoting and header, headings matched to 項目名称, dates,
    半角カナ and code columns detected. With ``out`` the TOML is written there atomically;
    an existing file is replaced only with ``force``."""
    from pathlib import Path

    from mig.errors import OutputExistsError
    from mig.fs import check_output_file, write_text
    from mig.guess import guess_mapping
    from mig.i18n import text

    if out is not None:
        check_output_file(out, inputs=[Path(s) for s in samples], option="--out")
        if (out.exists() or out.is_symlink()) and not force:
            raise OutputExistsError(text("guess.exists", path=out))
    result = guess_mapping([Path(s) for s in samples], layout)
    if out is not None:
        write_text(out, result.toml)
    return result


def run_demo(
    out: Path,
    *,
    rows: int = 1000,
    seed: int = 0,
    force: bool = False,
    gaiji_registry: bool = False,
    progress: FileProgress | None = None,
) -> DemoResult:
    """Generate a synthetic legacy 住民記録 export under ``out``, extract it and load it
    into SQLite."""
    from mig.demo.run import run_demo as run

    return run(out, rows=rows, seed=seed, force=force, progress=progress, gaiji_registry=gaiji_registry)


def import_layouts(
    workbook: Path,
    out: Path | None = None,
    *,
    standard: str | None = None,
    version: str | None = None,
    business: str | None = None,
    id_prefix: str | None = None,
    columns: Path | None = None,
) -> ImportResult:
    """Read a specification workbook (.xlsx) into layouts and code tables
    (:mod:`mig.layout_import`) and, with ``out``, write them there as layout files. The
    zip is opened with the audit's hostile-zip reader (entry sizes and ratios bounded)."""
    from mig.audit.package import EntryError, Limits, ZipPackage
    from mig.errors import ConfigError, InputError
    from mig.layout_import import load_overrides, read_workbook, sniff, write_import

    sniff(workbook)
    overrides = load_overrides(columns) if columns is not None else None
    limits = Limits(max_total_bytes=2 * 1024**3, max_entry_bytes=1024**3, max_entries=10_000)
    try:
        with ZipPackage(workbook, limits) as package:
            result = read_workbook(
                workbook, package, standard=standard, version=version, business=business,
                id_prefix=id_prefix, overrides=overrides,
            )
    except InputError as exc:  # not a zip after all: a usage error like any bad workbook
        raise ConfigError(str(exc)) from None
    except EntryError as exc:
        raise ConfigError(f"{workbook}: a part of the workbook was refused: {exc.detail}") from None
    return write_import(result, out) if out is not None else result


_LAZY = {
    "AuditOptions": "mig.audit",
    "AuditReport": "mig.audit",
    "Limits": "mig.audit",
    "BundleRefusedError": "mig.load.bundle",
    "BundleResult": "mig.load.bundle",
    "ConfigError": "mig.errors",
    "ExitCode": "mig.errors",
    "InputError": "mig.errors",
    "MigError": "mig.errors",
    "OutputExistsError": "mig.errors",
    "UnknownNameError": "mig.errors",
    "UserError": "mig.errors",
    "Item": "mig.layout",
    "Layout": "mig.layout",
    "get_layout": "mig.layout",
    "list_layouts": "mig.layout",
    "LoadResult": "mig.load.run",
    "RunResult": "mig.extract.run",
    "GuessResult": "mig.guess",
    "Report": "mig.validation.report",
    "DemoResult": "mig.demo.run",
}


def __getattr__(name: str) -> Any:
    """The classes and layout functions, imported on first use (keeps ``import mig`` cheap)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mig' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


_FACADE_NAMES = frozenset({"extract", "guess", "load"})


class _Facade(ModuleType):
    """The ``mig`` module: the import system's ``setattr(mig, "load", <mig.load>)`` on the
    first import of a subpackage of the same name is ignored, so ``mig.load`` stays the
    façade function whatever was imported before."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _FACADE_NAMES and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade
