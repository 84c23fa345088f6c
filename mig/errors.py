"""One exception tree and the exit codes, defined once.

Findings about data are *data* (see :mod:`mig.validation.findings`); these exceptions are for
failures that stop a command. Everything a user can cause derives from
:class:`UserError` and is shown as one line, never as a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of every ``mig`` command."""

    CLEAN = 0
    FINDINGS = 1
    USAGE = 2
    UNREADABLE_INPUT = 3


class MigError(Exception):
    """Root of every error mig raises on purpose."""

    exit_code: ExitCode = ExitCode.USAGE


class UserError(MigError):
    """A mistake in what the user asked for or gave: shown as one line."""


class ConfigError(UserError):
    """A usage, option, mapping or layout problem (exit code 2)."""

    exit_code = ExitCode.USAGE


class UnknownNameError(ConfigError):
    """A name that does not exist; the message lists the names that do."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        listing = ", ".join(self.known) if self.known else "(none)"
        super().__init__(f"unknown {kind} {name!r}; known: {listing}")


class OutputExistsError(ConfigError):
    """The output location already holds a run and ``--force`` was not given."""


class InputError(UserError):
    """An input file that cannot be read (exit code 3).

    The message names the file, where in it (line or byte offset) and the rule broken.
    """

    exit_code = ExitCode.UNREADABLE_INPUT

    def __init__(
        self,
        path: str,
        rule: str,
        *,
        line: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.path = path
        self.rule = rule
        self.line = line
        self.offset = offset
        where = []
        if line is not None:
            where.append(f"line {line}")
        if offset is not None:
            where.append(f"byte {offset}")
        location = f" ({', '.join(where)})" if where else ""
        super().__init__(f"{path}{location}: {rule}")
