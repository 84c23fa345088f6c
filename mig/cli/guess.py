"""``mig guess``: a thin command over :func:`mig.guess`."""

from __future__ import annotations

from pathlib import Path

import click

from mig.cli.common import user_errors


@click.command("guess")
@click.argument("samples", metavar="SAMPLE...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--layout", "-l", "layout", required=True, help="Layout id (mig layouts list) or a layout file.")
@click.option("--out", "-o", type=click.Path(path_type=Path), help="Write the mapping here instead of stdout.")
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
@user_errors
def guess(samples: tuple[Path, ...], layout: str, out: Path | None, force: bool) -> None:
    """Draft a mapping (TOML) of the sample exports SAMPLE... onto a standard layout."""
    import mig
    from mig.i18n import text

    result = mig.guess(list(samples), layout, out=out, force=force)
    if out is None:
        click.echo(result.toml, nl=False)
    else:
        click.echo(text("guess.wrote", path=out), err=True)
    click.echo(
        text(
            "guess.summary", matched=len(result.matches), items=len(mig.get_layout(result.layout).items),
            unmatched=len(result.unmatched_columns), required=len(result.required_missing),
        ),
        err=True,
    )
