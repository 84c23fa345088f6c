"""``mig gaiji review`` and ``mig gaiji decide``: the 外字 identification workbench.

Thin click commands over :mod:`mig.gaiji.review`; :mod:`mig.cli.gaiji` attaches them to
the ``gaiji`` group.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mig.cli.common import emit_json, json_option, progress_bar, quiet_option, user_errors
from mig.errors import ExitCode
from mig.i18n import text

__all__ = ["decide", "review"]


@click.command("review")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--font", "vendor_font", type=click.Path(path_type=Path),
              help="The vendor's gaiji glyphs: TrueType/OpenType (EUDC .tte), BDF, PCF, or a directory / zip of "
                   "images named by code (E000.png, F040.bmp, 0x80A1.png).")
@click.option("--names", "glyph_names", help=text("glyphs.names-help"))
@click.option("--auto-confirm", type=click.FloatRange(0.5, 1.0, max_open=True), help=text("glyphs.auto-confirm-help"))
@click.option("--trust-auto", is_flag=True, help=text("glyphs.trust-auto-help"))
@click.option("--registry", "registry_path", type=click.Path(path_type=Path), help=text("glyphs.registry-help"))
@click.option("--out", "-o", type=click.Path(path_type=Path),
              help="HTML sheet to write (default RUN_DIR/gaiji-review.html); the CSV template goes beside it.")
@click.option("--top", default=10, show_default=True, type=click.IntRange(1, 100), help="Candidates per character.")
@click.option("--candidates", default="all", show_default=True,
              help="MJ characters to rank: all, juki (住基ネット統一文字), koseki (戸籍統一文字) or a file of MJ文字図形名.")
@click.option("--source", help="Registry source name for the template (default: the run's [gaiji] source).")
@click.option("--hints", type=click.Path(path_type=Path), help="CSV code,radical,strokes: radical / stroke hints.")
@click.option("--mj-font", type=click.Path(path_type=Path), help="IPAmj明朝 font file (default: found via fontconfig).")
@click.option("--show-values", is_flag=True, help="List the カナ contexts used for the reading match in the sheet.")
@quiet_option
@json_option
@user_errors
def review(
    run_dir: Path, vendor_font: Path | None, out: Path | None, top: int, candidates: str, source: str | None,
    hints: Path | None, mj_font: Path | None, show_values: bool, quiet: bool, as_json: bool,
    glyph_names: str | None = None, auto_confirm: float | None = None, trust_auto: bool = False,
    registry_path: Path | None = None,
) -> None:
    """Write an identification sheet (HTML) for the unresolved 外字 of RUN_DIR, with ranked
    MJ candidates, and a decisions CSV template beside it."""
    from mig.gaiji.review import review_run

    with progress_bar(not quiet) as bar:
        progress = (lambda done, total: bar("MJ glyph index", done, total)) if bar is not None else None
        result = review_run(
            run_dir, out, vendor_font=vendor_font, mj_font=mj_font, top=top, candidates=candidates,
            source=source, hints=hints, show_values=show_values, progress=progress, glyph_names=glyph_names,
            auto_confirm=auto_confirm, trust_auto=trust_auto, registry=registry_path,
        )
    if as_json:
        emit_json(result.summary())
        return
    for note in result.notes:
        click.echo(text("gaiji.note", note=note), err=True)
    for entry in result.entries:
        best = entry.candidates[0] if entry.candidates else None
        shown = f"{best.mj} ({best.score:.3f})" if best is not None else text("gaiji.no-candidate")
        click.echo(text("gaiji.review-entry", code=entry.code, count=entry.count, best=shown))
    click.echo(text("gaiji.review-done", characters=len(result.entries), html=result.html, csv=result.csv))
    auto = result.summary()["auto_confirm"]
    if auto is not None:
        click.echo(text("glyphs.auto-summary", precision=auto["precision"], auto=auto["auto"], status=auto["status"],
                        own=auto["own"], review=auto["review"], registry=auto["registry"]))


@click.command("decide")
@click.argument("decisions", type=click.Path(path_type=Path))
@click.option("--registry", "-r", "registry_path", required=True, type=click.Path(path_type=Path),
              help="Registry file to update (created when missing).")
@click.option("--source", help="Registry source for rows without one.")
@click.option("--by", "decided_by", help="Who decided, for rows without decided_by.")
@json_option
@user_errors
def decide(decisions: Path, registry_path: Path, source: str | None, decided_by: str | None, as_json: bool) -> None:
    """Apply DECISIONS (CSV from the review sheet) to a registry as confirmed entries."""
    from mig.gaiji.review import apply_decisions

    result = apply_decisions(decisions, registry_path, source=source, decided_by=decided_by)
    if as_json:
        emit_json({
            "registry": str(result.registry), "added": result.added, "unchanged": result.unchanged,
            "skipped": result.skipped, "entries": result.entries, "codes": list(result.codes),
        })
    else:
        click.echo(text(
            "gaiji.decide-done", registry=result.registry, added=result.added, unchanged=result.unchanged,
            skipped=result.skipped, entries=result.entries,
        ))
    sys.exit(int(ExitCode.CLEAN))
