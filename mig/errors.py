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
    #: The same code: an output that cannot be written (disk full, read-only) is, like an
    #: unreadable input, a state of the machine rather than of the data or of the options.
    CANNOT_WRITE = 3
    INTERRUPTED = 130
    TERMINATED = 143


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
    """The output location already holds a run and ``--force`` was not given, or holds
    something mig will not replace (see :func:`mig.fs.output_dir`)."""


class OutputBusyError(ConfigError):
    """Another mig process is writing the same output (exit code 2); the message names it."""


class OutputError(MigError, OSError):
    """An output that cannot be written — disk full, read-only, no permission (exit code 3).

    The message names the output path and the operating system's reason, never the data.
    It is also an :class:`OSError` (with ``errno`` and ``strerror``), so callers that handle
    file errors keep handling it.

    >>> str(OutputError("/mnt/run", 28))
    '/mnt/run: cannot write: No space left on device'
    """

    exit_code = ExitCode.CANNOT_WRITE

    def __init__(self, path: str, errno: int | None, reason: str | None = None) -> None:
        import os

        reason = reason or (os.strerror(errno) if errno else "input/output error")
        super().__init__(errno, reason)
        self.path = path
        self.message = f"{path}: cannot write: {reason}"

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[type[OutputError], tuple[str, int | None, str | None]]:
        return (type(self), (self.path, self.errno, self.strerror))


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


class AdapterContractError(ConfigError):
    """An adapter broke the plugin contract (:mod:`mig.extract.contract`): exit code 2.

    The message names the adapter, its distribution and version, the batch and the rule,
    never a value; nothing half-written is kept.
    """
