"""``mig adapters``: the installed extractor plugins."""

from __future__ import annotations

import click

from mig.cli.common import emit_json, json_option, user_errors


@click.group()
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
