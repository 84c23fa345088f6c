"""The ``mig`` command: thin click commands over the library façade (:mod:`mig`).

One module per command group (``mig/cli/<group>.py``), loaded when the command is used;
each parses options, calls one façade function and turns library errors into a one-line
message with the exit code defined in :class:`mig.errors.ExitCode`
(:func:`mig.cli.common.user_errors`).
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import click

# The shared helpers, also importable from here (command modules of other areas use them).
from mig.cli.common import emit_json, json_option, progress_bar, quiet_option, user_errors
from mig.version import __version__

__all__ = ["MigGroup", "emit_json", "json_option", "main", "progress_bar", "quiet_option", "user_errors"]


class MigGroup(click.Group):
    """The top-level group; each command (group) loads from its module in ``mig/cli/`` on use.

    Loading them lazily keeps ``mig --help`` fast and lets those modules import helpers
    from :mod:`mig.cli.common` without an import cycle. A module that is not installed
    leaves its command out.
    """

    AREAS = {
        "adapters": ("mig.cli.adapters", "adapters"),
        "audit": ("mig.cli.audit", "audit"),
        "codecs": ("mig.cli.codecs", "codecs"),
        "demo": ("mig.cli.demo", "demo"),
        "extract": ("mig.cli.extract", "extract"),
        "gaiji": ("mig.cli.gaiji", "gaiji"),
        "guess": ("mig.cli.guess", "guess"),
        "layouts": ("mig.cli.layouts", "layouts"),
        "load": ("mig.cli.load", "load"),
        "preview": ("mig.cli.preview", "preview"),
        "validate": ("mig.cli.validate", "validate"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        present = {n for n, (module, _) in self.AREAS.items() if importlib.util.find_spec(module)}
        return sorted(set(super().list_commands(ctx)) | present)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.AREAS:
            module_name, attribute = self.AREAS[cmd_name]
            if importlib.util.find_spec(module_name) is None:
                return None
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        """Run the command, into the run log when ``--log-file`` (or ``MIG_LOG_FILE``) asks."""
        from mig.cli.runlog import open_log, run_log

        log_file = ctx.meta.get("mig.log_file")
        stream = user_errors(open_log)(log_file) if log_file is not None else None
        with run_log(stream, ctx.meta.get("mig.argv", [])):
            return super().invoke(ctx)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["mig.argv"] = list(args)  # the whole command line, for the run log
        return super().parse_args(ctx, args)


def _set_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from mig.i18n import set_lang

    set_lang(value)  # type: ignore[arg-type]  # click.Choice allows only ja / en
    return value


def _set_log_file(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    ctx.meta["mig.log_file"] = value
    return value


@click.group(cls=MigGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mig")
@click.option(
    "--lang", type=click.Choice(["ja", "en"]), default=None, expose_value=False, is_eager=True,
    callback=_set_lang, help="Language of messages (ja / en); default from LC_ALL, LC_MESSAGES, LANG.",
)
@click.option(
    "--log-file", type=click.Path(path_type=Path, dir_okay=False), envvar="MIG_LOG_FILE", expose_value=False,
    is_eager=True, callback=_set_log_file,
    help="Append a plain-text log of this run (command, counts, errors; never a value) to this file.",
)
def main() -> None:
    """mig — 中間標準レイアウト migration toolkit (extract, validate, load, 外字)."""
