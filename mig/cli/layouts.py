"""``mig layouts``: the packaged standard layouts."""

from __future__ import annotations

import click

from mig.cli.common import emit_json, json_option, user_errors


@click.group()
def layouts() -> None:
    """The packaged standard layouts."""


@layouts.command("list")
@json_option
@user_errors
def layouts_list(as_json: bool) -> None:
    """List layout ids."""
    import mig

    found = mig.list_layouts()
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
    import mig

    layout = mig.get_layout(layout_id)
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

import mig.cli.layouts_import  # noqa: E402,F401  (registers `mig layouts import` on this group)
