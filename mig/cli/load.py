"""``mig load``: a thin command over :func:`mig.load` (a database, or ``bundle:DIR``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import get_args

import click

from mig import BundleEncoding, GaijiPolicyName
from mig.cli.common import emit_json, json_option, quiet_option, user_errors
from mig.errors import ConfigError, Msg


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--target", "-t", help="Target URL, e.g. sqlite:///mig.db. A PostgreSQL password is better left out of it: PGPASSWORD, ~/.pgpass, a service file (postgresql://?service=NAME) or --url-env.")
@click.option("--url-env", metavar="VAR", help="Take the target URL from the environment variable VAR (keeps a password off the command line).")
@click.option("--replace", is_flag=True, help="Replace tables that exist.")
@click.option("--gaiji-policy", type=click.Choice(get_args(GaijiPolicyName)), default="keep", show_default=True,
              help="What to do with characters the target may not hold: keep IVS, strip variation selectors, shrink (縮退) to JIS X 0213, or fail.")
@click.option("--shrink-order", help="MJ縮退マップ tables for --gaiji-policy shrink, in order (comma-separated names or aliases: jis,582-1,582-2,koseki,2842-zoku,2842-betsu,2842-mujirushi,5202,jisho,ruisui).")
@click.option("--rejects", "rejects_dir", type=click.Path(path_type=Path), help="Folder for the rows the target refuses (default RUN_DIR/load-rejects).")
@click.option("--batch-rows", default=65_536, show_default=True, type=click.IntRange(1, 10_000_000), help="Rows per batch written.")
@click.option("--encoding", type=click.Choice(get_args(BundleEncoding)), help="bundle:DIR only: data file encoding (default utf-8; utf-8-sig writes a BOM).")
@click.option("--fixed-width", is_flag=True, help="bundle:DIR only: fixed-width .dat files (byte lengths from the layout; needs --encoding cp932).")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), help="PostgreSQL: parallel connections loading parts of the tables through staging tables, still all or nothing (default: one on two cores or fewer, else the cores; loads under 200,000 rows use one).")
@click.option("--allow-partial", is_flag=True, help="Load a trial run (mig extract --limit) all the same.")
@quiet_option
@json_option
@user_errors
def load(
    run_dir: Path, target: str | None, url_env: str | None, replace: bool, gaiji_policy: GaijiPolicyName, shrink_order: str | None,
    rejects_dir: Path | None, batch_rows: int, encoding: BundleEncoding | None, fixed_width: bool,
    allow_partial: bool, jobs: int | None, quiet: bool, as_json: bool,
) -> None:
    """Load a run directory into a database (exit 1 when the target refused rows), or write a
    loader bundle with --target bundle:DIR (DDL, data files, psql/SQL*Loader/bcp files)."""
    import logging

    import mig
    from mig.load.bundle import BundleRefusedError
    from mig.load.targets import url_from_env

    if target is not None and url_env is not None:
        raise ConfigError(Msg("load.target-twice"))
    if target is None:
        if url_env is None:
            raise ConfigError(Msg("load.target-needed"))
        target = url_from_env(url_env)
    try:
        result = mig.load(
            run_dir, target, replace=replace, gaiji_policy=gaiji_policy, shrink_order=shrink_order,
            rejects_dir=rejects_dir, batch_rows=batch_rows, encoding=encoding, fixed_width=fixed_width,
            allow_partial=allow_partial, jobs=jobs,
        )
    except BundleRefusedError as exc:
        if as_json:
            emit_json(exc.to_dict())
        raise
    lines = result.summary_lines()  # counts, SQLSTATEs, code points and the redacted URL: no values
    for line in lines:
        logging.getLogger("mig.load").info("load %s", line)
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo("\n".join(lines))
    sys.exit(int(result.exit_code))
