"""``mig adapters``: the installed extractor plugins."""

from __future__ import annotations

import json
from typing import Any

import click

from mig.cli.common import emit_json, json_option, user_errors


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
            click.echo(f"{row['name']:<10} BROKEN ({_origin(row)}): {row['broken']}")
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
    click.echo(f"  distribution: {_origin(row)}")
    if row["broken"]:
        click.echo(f"  BROKEN: {row['broken']}")
        return
    click.echo(f"  plugin API: {row['api_version']}")
    if row["options"] is None:
        click.echo("  options: not declared (the adapter checks its own)")
    else:
        click.echo("  options:" if row["options"] else "  options: none")
        for option in row["options"]:
            default = f" (default {json.dumps(option['default'], ensure_ascii=False)})" if option["default"] is not None else ""
            help_text = f": {option['help']}" if option["help"] else ""
            click.echo(f"    {option['name']} — {option['type']}{default}{help_text}")
    click.echo("  finding types:" if row["finding_types"] else "  finding types: none of its own")
    for t in row["finding_types"]:
        click.echo(f"    {t['code']} [{t['severity']}] {t['template']}")
        if t["template_ja"]:
            click.echo(f"      {t['template_ja']}")
