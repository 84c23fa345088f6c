"""``mig codecs``: what a code of a legacy charset decodes to, and what a site overlay
changes (a thin command over :mod:`mig.codecs.inspect`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mig.cli.common import emit_json, json_option, user_errors
from mig.i18n import text


def _shown(points: str | None) -> str:
    return points if points is not None else "-"


@click.group(help=text("codecs.cli-help"))
def codecs() -> None:
    pass


@codecs.command("show", help=text("codecs.show-help"))
@click.argument("charset")
@click.argument("code")
@click.option("--overlay", type=click.Path(path_type=Path), help=text("codecs.overlay-help"))
@json_option
@user_errors
def show(charset: str, code: str, overlay: Path | None, as_json: bool) -> None:
    from mig.codecs.inspect import show_code
    from mig.codecs.overlay import load_overlay

    result: dict[str, Any] = show_code(charset.lower(), code, load_overlay(overlay) if overlay else None)
    if as_json:
        emit_json({k: v for k, v in result.items() if k != "text"})
        return
    click.echo(text("codecs.show-head", charset=result["charset"], code=result["code"], table=result["table"]))
    for entry in result["entries"]:
        click.echo(text("codecs.show-entry", unicode=_shown(entry["unicode"]), options=" ".join(entry["options"])))
    if not result["entries"]:
        click.echo(text("codecs.show-no-entry", gaiji=text("codecs.show-gaiji") if result["gaiji"] else ""))
    if result["decodes_to"] is None:
        click.echo(text("codecs.show-unmapped"))
    else:
        click.echo(text("codecs.show-decodes", text=result["text"], points=result["decodes_to"]))
    if result["compat"] != result["decodes_to"]:
        click.echo(text("codecs.show-compat", points=_shown(result["compat"])))
    if "overlay" in result:
        o = result["overlay"]
        click.echo(text("codecs.show-overlay", path=o["path"], sha256=o["sha256"][:12], points=_shown(o["decodes_to"])))


@codecs.command("diff", help=text("codecs.diff-help"))
@click.argument("charset")
@click.option("--overlay", "overlay_path", required=True, type=click.Path(path_type=Path), help=text("codecs.overlay-help"))
@json_option
@user_errors
def diff(charset: str, overlay_path: Path, as_json: bool) -> None:
    from mig.codecs.inspect import overlay_diff
    from mig.codecs.overlay import load_overlay

    overlay = load_overlay(overlay_path)
    changes = overlay_diff(charset.lower(), overlay)
    if as_json:
        emit_json({"charset": charset.lower(), "overlay": {"path": overlay.path, "sha256": overlay.sha256},
                   "changes": [{k: v for k, v in c.items() if not k.endswith("_text")} for c in changes]})
        return
    if not changes:
        click.echo(text("codecs.diff-none", path=overlay.path, charset=charset.lower()))
        return
    for c in changes:
        before = f"{c['before_text'] or ''} {_shown(c['before'])}".strip(" ")
        after = f"{c['after_text'] or ''} {_shown(c['after'])}".strip(" ")
        click.echo(text("codecs.diff-line", code=c["code"], before=before, after=after, line=c["line"],
                        decided_by=c["decided_by"], decided_at=c["decided_at"], note=c["note"]))
    click.echo(text("codecs.diff-total", path=overlay.path, sha256=overlay.sha256[:12], count=len(changes), charset=charset.lower()))
