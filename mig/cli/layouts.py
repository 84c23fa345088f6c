"""``mig layouts``: the layout catalogue (packaged layouts and installed layout packs)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from mig.cli.common import emit_json, json_option, user_errors
from mig.errors import ExitCode
from mig.i18n import text
from mig.jp import display_width, pad_display

if TYPE_CHECKING:
    from mig.layout import Item, Layout


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
            f"{x.id:<18} {pad_display(x.standard, 18)} {x.standard_version:<6} {pad_display(x.business, 14)} "
            f"{pad_display(x.name, 14)} {pad_display(text('layouts.items-count', count=len(x.items)), 9, '>')}  {x.origin}"
        )


@layouts.command("show")
@click.argument("layout_id", metavar="ID_OR_PATH")
@click.option("--brief", is_flag=True, help="Items only: no descriptions, no code tables.")
@json_option
@user_errors
def layouts_show(layout_id: str, brief: bool, as_json: bool) -> None:
    """Show one layout (a catalogue id or a layout file path): its keys, its items with
    their descriptions, and the code tables they use."""
    import mig

    layout = mig.get_layout(layout_id)
    if as_json:
        emit_json(layout.to_dict())
        return
    for line in show_lines(layout, brief=brief):
        click.echo(line)


def show_lines(layout: Layout, *, brief: bool = False) -> list[str]:
    """The text of ``mig layouts show``: columns aligned by display width (全角 counts 2),
    words in the current language.

    >>> from mig.i18n import set_lang
    >>> from mig.layout import get_layout
    >>> set_lang("en")
    >>> lines = show_lines(get_layout("juki-jumin"))
    >>> lines[0]
    'juki-jumin: 住民基本台帳 / 住民(個人) — 中間標準レイアウト 2.x'
    >>> [line for line in lines if line.startswith("   11 ")]
    ['   11  性別                    コード         1  required, code 性別']
    >>> set_lang(None)
    """
    lines = [f"{layout.id}: {layout.business} / {layout.name} — {layout.standard} {layout.standard_version}"]
    lines.append(f"  {layout.provenance}")
    if layout.description and not brief:
        lines.append(f"  {layout.description}")
    if layout.primary_key:
        lines.append("  " + text("layouts.primary-key", items=", ".join(layout.primary_key)))
    for fk in layout.foreign_keys:
        lines.append("  " + text("layouts.foreign-key", item=fk.item, layout=fk.layout, target=fk.target_item))
    if any(item.bytes for item in layout.items):
        lines.append("  " + text("layouts.byte-encoding", encoding=layout.byte_encoding))
    lines.append("")
    name_width = max([display_width(text("layouts.col-name")), *(display_width(i.name) for i in layout.items)])
    type_width = max([display_width(text("layouts.col-type")), *(display_width(i.type) for i in layout.items)])
    sizes = [f"{i.length},{i.scale}" if i.scale else str(i.length) for i in layout.items]
    size_width = max([display_width(text("layouts.col-length")), *map(len, sizes)])
    lines.append(
        f"  {pad_display(text('layouts.col-no'), 3, '>')}  {pad_display(text('layouts.col-name'), name_width)}  "
        f"{pad_display(text('layouts.col-type'), type_width)}  {pad_display(text('layouts.col-length'), size_width, '>')}  "
        f"{text('layouts.col-attributes')}".rstrip()
    )
    indent = " " * (2 + 3 + 2)
    for item, size in zip(layout.items, sizes, strict=True):
        lines.append(
            f"  {item.no:>3}  {pad_display(item.name, name_width)}  {pad_display(item.type, type_width)}  "
            f"{size:>{size_width}}  {_attributes(item)}".rstrip()
        )
        if item.description and not brief:
            lines.append(indent + item.description)
    used = {i.code_table for i in layout.items if i.code_table}
    tables = [t for name, t in sorted(layout.codes.items()) if name in used]
    if tables and not brief:
        lines += ["", text("layouts.code-tables")]
        for table in tables:
            users = ", ".join(i.name for i in layout.items if i.code_table == table.name)
            head = f"  {table.name} " + text("layouts.code-table-used-by", items=users)
            lines.append(head + (f" — {table.description}" if table.description else ""))
            width = max(display_width(code) for code in table.codes) if table.codes else 0
            lines += [f"    {pad_display(code, width)}  {label}" for code, label in table.codes.items()]
    return lines


def _attributes(item: Item) -> str:
    return ", ".join(
        x for x in (
            text("layouts.required") if item.required else "",
            text("layouts.bytes", bytes=item.bytes) if item.bytes else "",
            text("layouts.code", table=item.code_table) if item.code_table else "",
            text("layouts.check", check=item.check) if item.check else "",
            text("layouts.unknown", unknown=item.unknown) if item.unknown != "none" else "",
            text("layouts.extension") if item.extension else "",
        ) if x
    )


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
        click.echo(text("layouts.differences", count=len(diff.differences)) + (f": {counts}" if counts else ""))
    sys.exit(int(ExitCode.CLEAN if diff.equal else ExitCode.FINDINGS))


import mig.cli.layouts_import  # noqa: E402,F401  (registers `mig layouts import` on this group)
