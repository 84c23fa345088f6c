"""``mig layouts``: the layout catalogue (packaged layouts and installed layout packs)."""

from __future__ import annotations

import sys
import unicodedata

import click

from mig.cli.common import emit_json, json_option, user_errors
from mig.errors import ExitCode


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (全角 characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - used, 0)


@click.group()
def layouts() -> None:
    """The layout catalogue: packaged layouts and installed layout packs."""


@layouts.command("list")
@click.option("--standard", help="Only this standard (中間標準レイアウト, 基本データリスト, …).")
@click.option("--version", "version", help="Only this version of the standard (2.x, 2.1, …).")
@click.option("--business", help="Only this 業務 (住民基本台帳, 介護保険, …).")
@json_option
@user_errors
def layouts_list(standard: str | None, version: str | None, business: str | None, as_json: bool) -> None:
    """List the layouts of the catalogue: id, standard and version, 業務, file, provenance."""
    import mig

    found = mig.list_layouts(standard=standard, version=version, business=business)
    if as_json:
        emit_json([
            {
                "id": x.id, "standard": x.standard, "standard_version": x.standard_version,
                "business": x.business, "name": x.name, "items": len(x.items),
                "origin": x.origin, "provenance": x.provenance, "source": x.source,
            }
            for x in found
        ])
        return
    for x in found:
        click.echo(
            f"{x.id:<18} {_pad(x.standard, 18)} {x.standard_version:<6} {_pad(x.business, 14)} "
            f"{_pad(x.name, 14)} {len(x.items):>3} items  {x.origin}"
        )


@layouts.command("show")
@click.argument("layout_id", metavar="ID_OR_PATH")
@json_option
@user_errors
def layouts_show(layout_id: str, as_json: bool) -> None:
    """Show one layout's items (a catalogue id or a layout file path)."""
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


@layouts.command("diff")
@click.argument("old", metavar="OLD")
@click.argument("new", metavar="NEW")
@json_option
@user_errors
def layouts_diff(old: str, new: str, as_json: bool) -> None:
    """What changed from layout OLD to layout NEW (ids or layout file paths); exit 1 when
    anything differs, 0 when they are equal."""
    import mig
    from mig.layout_diff import diff_layouts

    diff = diff_layouts(mig.get_layout(old), mig.get_layout(new))
    if as_json:
        emit_json(diff.to_dict())
    else:
        for side, x in (("old", diff.old), ("new", diff.new)):
            click.echo(f"{side}: {x['id']} — {x['standard']} {x['standard_version']} / {x['business']} / {x['name']} ({x['origin']})")
        for d in diff.differences:
            click.echo(f"  {d.describe()}")
        counts = ", ".join(f"{n} {kind}" for kind, n in diff.counts().items())
        click.echo(f"{len(diff.differences)} differences" + (f": {counts}" if counts else ""))
    sys.exit(int(ExitCode.CLEAN if diff.equal else ExitCode.FINDINGS))


import mig.cli.layouts_import  # noqa: E402,F401  (registers `mig layouts import` on this group)
