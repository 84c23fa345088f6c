"""``mig adapters``: the installed extractor plugins."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from mig.cli.common import emit_json, json_option, user_errors
from mig.i18n import text as message


@click.group()
def adapters() -> None:
    """Installed extractor plugins."""


def _origin(row: dict[str, Any]) -> str:
    return " ".join(str(p) for p in (row["distribution"], row["version"]) if p) or "-"


@adapters.command("list")
@json_option
@user_errors
def adapters_list(as_json: bool) -> None:
    """List the adapters registered in the ``mig.adapters`` entry-point group.

    A plugin that fails to load is listed as broken with its error; the others still work.
    """
    from mig.registry import adapter_infos

    rows = [info.to_dict() for info in adapter_infos()]
    if as_json:
        emit_json([
            {k: row[k] for k in ("name", "description", "distribution", "version", "api_version", "broken")}
            for row in rows
        ])
        return
    for row in rows:
        if row["broken"]:
            click.echo(f"{row['name']:<10} {message('adapters.broken')} ({_origin(row)}): {row['broken']}")
        else:
            click.echo(f"{row['name']:<10} {row['description']}  [{_origin(row)}, API {row['api_version']}]")


@adapters.command("show")
@click.argument("name")
@json_option
@user_errors
def adapters_show(name: str, as_json: bool) -> None:
    """Show one adapter: distribution and version, API version, options, finding types."""
    from mig.errors import UnknownNameError
    from mig.registry import adapter_infos

    found = [info for info in adapter_infos() if info.name == name]
    if not found:
        raise UnknownNameError("adapter", name, [info.name for info in adapter_infos()])
    row = found[0].to_dict()
    if as_json:
        emit_json(row)
        return
    click.echo(f"{row['name']}: {row['description']}" if row["description"] else row["name"])
    click.echo(message("adapters.distribution", origin=_origin(row)))
    if row["broken"]:
        click.echo(message("adapters.broken-line", error=row["broken"]))
        return
    click.echo(message("adapters.api", version=row["api_version"]))
    if row["options"] is None:
        click.echo(message("adapters.options-undeclared"))
    else:
        click.echo(message("adapters.options" if row["options"] else "adapters.options-none"))
        for option in row["options"]:
            default = (
                message("adapters.default", value=json.dumps(option["default"], ensure_ascii=False))
                if option["default"] is not None else ""
            )
            help_text = f": {option['help']}" if option["help"] else ""
            click.echo(f"    {option['name']} — {option['type']}{default}{help_text}")
    click.echo(message("adapters.finding-types" if row["finding_types"] else "adapters.finding-types-none"))
    for t in row["finding_types"]:
        click.echo(f"    {t['code']} [{t['severity']}] {t['template']}")
        if t["template_ja"]:
            click.echo(f"      {t['template_ja']}")


def _option_value(text: str) -> object:
    """``--option`` value: a TOML value (``300``, ``true``, ``["a"]``, ``{"1" = "X"}``) or else a string."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


@adapters.command("check")
@click.argument("name")
@click.argument("samples", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="A [source] option for the adapter (a TOML value or plain text); repeatable.")
@json_option
@user_errors
def adapters_check(name: str, samples: tuple[Path, ...], options: tuple[str, ...], as_json: bool) -> None:
    """Run the conformance checks (mig.testing) on the installed adapter NAME with SAMPLE files.

    Relative paths in options are taken from the current folder. Exit 1 names every
    failed check; 0 when all pass.
    """
    from mig.errors import ConfigError, ExitCode, Msg
    from mig.registry import get_adapter
    from mig.testing import check_adapter

    given: dict[str, object] = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(Msg("adapters.option-syntax", item=repr(item)))
        given[key.strip()] = _option_value(value.strip())
    results = check_adapter(get_adapter(name), list(samples), given)
    failed = [r.check for r in results if not r.ok]
    if as_json:
        emit_json({"adapter": name, "ok": not failed, "failed": failed, "checks": [r.as_dict() for r in results]})
    else:
        for r in results:
            click.echo(f"{'ok  ' if r.ok else 'FAIL'} {r.check}")
            for line in r.problems:
                click.echo(f"       {line}")
        if failed:
            click.echo(message("adapters.checks-failed", name=name, failed=", ".join(failed)), err=True)
        else:
            click.echo(message("adapters.checks-passed", name=name, count=len(results)))
    if failed:
        sys.exit(int(ExitCode.FINDINGS))


@adapters.command("new")
@click.argument("name")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The project folder to create (default ./mig-NAME); never an existing one.")
@user_errors
def adapters_new(name: str, out: Path | None) -> None:
    """Write a pip-installable plugin project for adapter NAME: a fixed-width text adapter
    with a sample file, its tests (mig's conformance kit) and a README."""
    from mig.registry import adapter_names
    from mig.scaffold import new_adapter

    target = new_adapter(name, out, installed=adapter_names())
    click.echo(message("adapters.wrote", target=target))
    click.echo(message("adapters.next", target=target))
