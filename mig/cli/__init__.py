"""The ``mig`` command: thin click commands over the library.

Each command parses options, calls one library function and turns library errors into a
one-line message with the exit code defined in :class:`mig.errors.ExitCode`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from mig.errors import ConfigError, ExitCode, MigError
from mig.fs import json_text, write_text
from mig.version import __version__

if TYPE_CHECKING:
    from mig.load.bundle import BundleResult
    from mig.load.run import LoadResult
    from mig.run.manifest import ManifestFile

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(command: F) -> F:
    """Show a :class:`MigError` as ``mig: error: …`` and exit with its code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MigError as exc:
            click.echo(f"mig: error: {exc}", err=True)
            sys.exit(int(exc.exit_code))

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    click.echo(json_text(data), nl=False)


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """A rich progress bar on stderr; ``None`` when off (not a TTY, or ``--quiet``)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        console=Console(stderr=True), transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def advance(path: str, done: int, total: int) -> None:
            if path not in tasks:
                tasks[path] = bar.add_task(Path(path).name, total=total)
            bar.update(tasks[path], completed=done)

        yield advance


quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output on stdout.")


class MigGroup(click.Group):
    """The top-level group; command groups of other areas load from ``mig/cli_*.py`` on use.

    Loading them lazily keeps ``mig --help`` fast and lets those modules import helpers
    from this one without an import cycle.
    """

    AREAS = {
        "audit": ("mig.cli.audit", "audit"),
        "gaiji": ("mig.cli.gaiji", "gaiji"),
        "preview": ("mig.cli.preview", "preview"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        import importlib.util

        present = {n for n, (module, _) in self.AREAS.items() if importlib.util.find_spec(module)}
        return sorted(set(super().list_commands(ctx)) | present)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.AREAS:
            import importlib
            import importlib.util

            module_name, attribute = self.AREAS[cmd_name]
            if importlib.util.find_spec(module_name) is None:
                return None
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=MigGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mig")
def main() -> None:
    """mig — 中間標準レイアウト migration toolkit (extract, validate, load, 外字)."""


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--mapping", "-m", "mapping_path", required=True, type=click.Path(path_type=Path), help="Mapping file (TOML).")
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="Run directory to create.")
@click.option("--adapter", "-a", help="Adapter name (default: the mapping's adapter).")
@click.option("--encoding", help="Override the source encoding (cp932, shift_jis, euc-jp, utf-8, utf-8-sig, utf-16…).")
@click.option("--force", is_flag=True, help="Replace an existing run directory.")
@click.option("--show-values", is_flag=True, help="Put offending values into findings and reports (個人番号 stays masked).")
@click.option("--batch-mb", default=32, show_default=True, type=click.IntRange(1, 4096), help="Bytes read per batch, in MiB.")
@quiet_option
@json_option
@user_errors
def extract(
    inputs: tuple[Path, ...], mapping_path: Path, out: Path, adapter: str | None, encoding: str | None,
    force: bool, show_values: bool, batch_mb: int, quiet: bool, as_json: bool,
) -> None:
    """Convert legacy export files INPUTS into a run directory in the standard layout."""
    from mig.extract.run import extract as run_extract

    with progress_bar(not quiet) as progress:
        result = run_extract(
            mapping_path, list(inputs), out, adapter=adapter, force=force, show_values=show_values,
            batch_bytes=batch_mb * 1024 * 1024,
            source_overrides={"encoding": encoding} if encoding else None, progress=progress,
        )
    if as_json:
        emit_json({"run_dir": str(result.run_dir), "manifest": result.manifest})
    else:
        _print_counts(result.run_manifest.files, result.run_dir)
    sys.exit(int(ExitCode.FINDINGS if result.has_findings else ExitCode.CLEAN))


def _print_counts(files: Sequence[ManifestFile], run_dir: Path) -> None:
    from mig.run.manifest import REPORT_HTML

    click.echo(f"{'layout':<14} {'rows_in':>10} {'rows_out':>10} {'rejected':>10}")
    for f in files:
        rows_in = "" if f.rows_in is None else f.rows_in
        click.echo(f"{f.layout:<14} {rows_in:>10} {f.rows_out:>10} {f.rows_rejected:>10}")
    click.echo(f"run directory: {run_dir}  (report: {run_dir / REPORT_HTML})")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--layout", "-l", "layout_id", required=True, help="Layout id (see `mig layouts list`).")
@click.option("--ref", "refs", multiple=True, metavar="LAYOUT=PATH", help="File of a referenced layout, for cross-file keys.")
@click.option("--encoding", help="Encoding of CSV input (default: detected).")
@click.option("--show-values", is_flag=True, help="Include offending values (個人番号 stays masked).")
@click.option("--report", "report_path", type=click.Path(path_type=Path), help="Also write the report as HTML.")
@json_option
@user_errors
def validate(
    paths: tuple[Path, ...], layout_id: str, refs: tuple[str, ...], encoding: str | None,
    show_values: bool, report_path: Path | None, as_json: bool,
) -> None:
    """Validate intermediate CSV or Parquet files PATHS against a layout."""
    from mig.html.run_report import render_report_html
    from mig.validation.files import validate_files

    references = {}
    for ref in refs:
        name, sep, value = ref.partition("=")
        if not sep:
            raise ConfigError(f"--ref {ref!r}: expected LAYOUT=PATH")
        references[name] = Path(value)
    report = validate_files(list(paths), layout_id, references=references, encoding=encoding, show_values=show_values)
    if report_path:
        write_text(report_path, render_report_html(report.to_dict()))
    if as_json:
        click.echo(report.to_json(), nl=False)
    else:
        for f in report.files:
            for s in f.sources:
                click.echo(f"{s.path}: {f.rows_in} rows, {f.rows_rejected} with errors")
            for finding in f.findings:
                rows = ", ".join(map(str, finding.rows))
                click.echo(f"  {finding.severity:<7} {finding.type:<26} {finding.count:>8}  {finding.message}" + (f"  rows {rows}" if rows else ""))
    errors = any(x.severity == "error" for f in report.files for x in f.findings)
    sys.exit(int(ExitCode.FINDINGS if errors else ExitCode.CLEAN))


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--target", "-t", required=True, help="Target URL, e.g. sqlite:///mig.db")
@click.option("--replace", is_flag=True, help="Replace tables that exist.")
@click.option("--gaiji-policy", type=click.Choice(["keep", "strip", "shrink", "fail"]), default="keep", show_default=True,
              help="What to do with characters the target may not hold: keep IVS, strip variation selectors, shrink (縮退) to JIS X 0213, or fail.")
@click.option("--shrink-order", help="MJ縮退マップ tables for --gaiji-policy shrink, in order (comma-separated names or aliases: jis,582-1,582-2,koseki,2842-zoku,2842-betsu,2842-mujirushi,5202,jisho,ruisui).")
@click.option("--rejects", "rejects_dir", type=click.Path(path_type=Path), help="Folder for the rows the target refuses (default RUN_DIR/load-rejects).")
@click.option("--batch-rows", default=65_536, show_default=True, type=click.IntRange(1, 10_000_000), help="Rows per batch written.")
@click.option("--encoding", type=click.Choice(["utf-8", "utf-8-sig", "cp932"]), help="bundle:DIR only: data file encoding (default utf-8; utf-8-sig writes a BOM).")
@click.option("--fixed-width", is_flag=True, help="bundle:DIR only: fixed-width .dat files (byte lengths from the layout; needs --encoding cp932).")
@quiet_option
@json_option
@user_errors
def load(
    run_dir: Path, target: str, replace: bool, gaiji_policy: str, shrink_order: str | None, rejects_dir: Path | None,
    batch_rows: int, encoding: str | None, fixed_width: bool, quiet: bool, as_json: bool
) -> None:
    """Load a run directory into a database (exit 1 when the target refused rows), or write a
    loader bundle with --target bundle:DIR (DDL, data files, psql/SQL*Loader/bcp files)."""
    from mig.load import load_run
    from mig.load.bundle import BundleRefusedError, bundle_path, write_bundle

    bundle = bundle_path(target)
    if bundle is None and (encoding or fixed_width):
        raise ConfigError("--encoding and --fixed-width apply to --target bundle:DIR only")
    options: dict[str, Any] = {"gaiji_policy": gaiji_policy, "shrink_order": shrink_order, "replace": replace, "batch_rows": batch_rows}
    try:
        result: LoadResult | BundleResult = (
            load_run(run_dir, target, rejects_dir=rejects_dir, **options) if bundle is None
            else write_bundle(run_dir, bundle, encoding=encoding or "utf-8", format="fixed" if fixed_width else "csv", **options)
        )
    except BundleRefusedError as exc:
        if as_json:
            emit_json(exc.to_dict())
        raise
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo("\n".join(result.summary_lines()))
    sys.exit(int(result.exit_code))


@main.group()
def layouts() -> None:
    """The packaged standard layouts."""


@layouts.command("list")
@json_option
@user_errors
def layouts_list(as_json: bool) -> None:
    """List layout ids."""
    from mig.layout import list_layouts

    found = list_layouts()
    if as_json:
        emit_json([{"id": x.id, "business": x.business, "name": x.name, "items": len(x.items)} for x in found])
        return
    for x in found:
        click.echo(f"{x.id:<14} {x.business} / {x.name} ({len(x.items)} items)")


@layouts.command("show")
@click.argument("layout_id")
@json_option
@user_errors
def layouts_show(layout_id: str, as_json: bool) -> None:
    """Show one layout's items."""
    from mig.layout import get_layout

    layout = get_layout(layout_id)
    if as_json:
        emit_json(layout.to_dict())
        return
    click.echo(f"{layout.id}: {layout.business} / {layout.name} — {layout.standard} {layout.standard_version}")
    click.echo(f"  {layout.provenance}")
    for item in layout.items:
        extra = ", ".join(
            x for x in (
                "必須" if item.required else "",
                f"bytes {item.bytes}" if item.bytes else "",
                f"code {item.code_table}" if item.code_table else "",
                f"check {item.check}" if item.check else "",
                f"不詳 {item.unknown}" if item.unknown != "none" else "",
            ) if x
        )
        size = f"{item.length},{item.scale}" if item.scale else str(item.length)
        click.echo(f"  {item.no:>3} {item.name:<16} {item.type:<6} {size:>6}  {extra}")


@main.group()
def adapters() -> None:
    """Installed extractor plugins."""


@adapters.command("list")
@json_option
@user_errors
def adapters_list(as_json: bool) -> None:
    """List the adapters registered in the ``mig.adapters`` entry-point group."""
    from mig.registry import adapter_names, get_adapter

    rows = [{"name": n, "description": get_adapter(n).description} for n in adapter_names()]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<10} {row['description']}")


@main.command()
@click.option("--out", "-o", default="mig-demo", show_default=True, type=click.Path(path_type=Path))
@click.option("--rows", default=1000, show_default=True, type=click.IntRange(10, 10_000_000), help="住民 rows to generate.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--force", is_flag=True, help="Replace an existing demo directory.")
@click.option("--gaiji-registry", is_flag=True, help="Resolve the vendor 外字 through the demo's registry (MJ characters, IVS kept).")
@quiet_option
@json_option
@user_errors
def demo(out: Path, rows: int, seed: int, force: bool, gaiji_registry: bool, quiet: bool, as_json: bool) -> None:
    """Generate a synthetic legacy 住民記録 export, extract, validate and load it into SQLite."""
    from mig.demo.run import run_demo

    with progress_bar(not quiet) as progress:
        result = run_demo(out, rows=rows, seed=seed, force=force, progress=progress, gaiji_registry=gaiji_registry)
    if as_json:
        emit_json(result.to_dict())
        return
    click.echo(f"legacy export: {result.export_dir}")
    _print_counts(result.run.run_manifest.files, result.run_dir)
    click.echo(f"loaded into:   {result.database}")
    for line in result.summary_lines():
        click.echo(line)

