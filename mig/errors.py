"""One exception tree and the exit codes, defined once.

Findings about data are *data* (see :mod:`mig.validation.findings`); these exceptions are for
failures that stop a command. Everything a user can cause derives from
:class:`UserError` and is shown as one line, never as a traceback.

A message can come from the catalogue (:mod:`mig.i18n`): raise the error with a
:class:`Msg` — a message id and its parameters, rendered only when the error is shown, in
the language of that moment (``--lang``, ``LANG``)::

    >>> err = ConfigError(Msg("errors.no-such-file", path="in.csv"))
    >>> err.render("en"), err.render("ja")
    ('in.csv: no such file', 'in.csv: ファイルがありません')

A plain string still works (shown as it is, in English). The errors users hit most —
:class:`UnknownNameError`, :class:`InputError`'s location, :class:`OutputError`, the
configuration checker of :mod:`mig.schema` — render through the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mig.i18n import Lang


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


class Msg:
    """A catalogue message not rendered yet: its id (``<domain>.<key>``) and parameters.

    ``str()`` renders it in the current language; a parameter that is itself a
    :class:`Msg` is rendered in the same language (a phrase inside a sentence).

    >>> Msg("errors.where-line", line=3).render("en")
    'line 3'
    >>> Msg("errors.where-line", line=3).render("ja")
    '3 行目'
    """

    __slots__ = ("id", "params")

    def __init__(self, msg_id: str, /, **params: object) -> None:
        self.id = msg_id
        self.params: Mapping[str, object] = params

    def render(self, lang: Lang | None = None) -> str:
        from mig.i18n import text

        return text(self.id, lang=lang, **{k: render(v, lang) for k, v in self.params.items()})

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Msg({self.id!r}, **{dict(self.params)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and (self.id, dict(self.params)) == (other.id, dict(other.params))

    def __hash__(self) -> int:
        return hash(self.id)

    def __reduce__(self) -> tuple[object, ...]:
        return (_msg, (self.id, dict(self.params)))


def _msg(msg_id: str, params: dict[str, object]) -> Msg:
    return Msg(msg_id, **params)


def render(value: object, lang: Lang | None = None) -> object:
    """``value`` rendered in ``lang`` when it is a :class:`Msg` (or an error holding one),
    else unchanged.

    >>> render(Msg("errors.none-known"), "ja"), render(3, "ja")
    ('（なし）', 3)
    """
    if isinstance(value, Msg):
        return value.render(lang)
    if isinstance(value, MigError):
        return value.render(lang)
    return value


class MigError(Exception):
    """Root of every error mig raises on purpose.

    Its message is a string or a :class:`Msg` (rendered when shown, in the language of
    that moment).
    """

    exit_code: ExitCode = ExitCode.USAGE

    def render(self, lang: Lang | None = None) -> str:
        """The message in ``lang`` (default: the current language)."""
        if len(self.args) == 1 and isinstance(self.args[0], Msg):
            return self.args[0].render(lang)
        return super().__str__()

    def __str__(self) -> str:
        return self.render()


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
        listing: object = ", ".join(self.known) if self.known else Msg("errors.none-known")
        super().__init__(Msg("errors.unknown-name", kind=_kind_word(kind), name=repr(name), listing=listing))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.kind, self.name, self.known))


def _kind_word(kind: str) -> object:
    """The word for a kind of name (``layout``) from the catalogue when it has one."""
    from mig.i18n import has

    msg_id = "errors.kind-" + kind.replace(" ", "-")
    return Msg(msg_id) if has(msg_id) else kind


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

    >>> OutputError("/mnt/run", 28).render("en")
    '/mnt/run: cannot write: No space left on device'
    >>> OutputError("/mnt/run", 28).render("ja")
    '/mnt/run: 書き込めません: No space left on device'
    """

    exit_code = ExitCode.CANNOT_WRITE

    def __init__(self, path: str, errno: int | None, reason: str | None = None) -> None:
        import os

        reason = reason or (os.strerror(errno) if errno else "input/output error")
        super().__init__(errno, reason)
        self.path = path
        self.message = f"{path}: cannot write: {reason}"

    def render(self, lang: Lang | None = None) -> str:
        return Msg("errors.cannot-write", path=self.path, reason=self.strerror).render(lang)

    def __reduce__(self) -> tuple[type[OutputError], tuple[str, int | None, str | None]]:
        return (type(self), (self.path, self.errno, self.strerror))


class InputError(UserError):
    """An input file that cannot be read (exit code 3).

    The message names the file, where in it (line or byte offset) and the rule broken
    (a string, or a :class:`Msg` rendered in the language of the moment).

    >>> err = InputError("a.csv", Msg("errors.no-such-file-rule"), line=3, offset=120)
    >>> err.render("en")
    'a.csv (line 3, byte 120): no such file'
    >>> err.render("ja")
    'a.csv (3 行目、120 バイト目): ファイルがありません'

    A rule given as English text that the catalogue knows (``errors.rule-…``) is shown in
    the current language too:

    >>> InputError("b.csv", "file is empty").render("ja")
    'b.csv: ファイルが空です'
    """

    exit_code = ExitCode.UNREADABLE_INPUT

    def __init__(
        self,
        path: str,
        rule: str | Msg,
        *,
        line: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.path = path
        #: the rule in English (callers match and rewrite it); :meth:`render` shows it in
        #: the language of the moment
        self.rule = rule.render("en") if isinstance(rule, Msg) else rule
        self.line = line
        self.offset = offset
        super().__init__(path, rule)

    def __reduce__(self) -> tuple[object, ...]:
        # keep where in the file when sent from a worker process (a partition)
        return (_input_error, (self.path, self.args[1], self.line, self.offset))

    def render(self, lang: Lang | None = None) -> str:
        rule = self.args[1]
        if isinstance(rule, str):
            rule = _known_rule(rule) or rule
        where: list[Msg] = []
        if self.line is not None:
            where.append(Msg("errors.where-line", line=self.line))
        if self.offset is not None:
            where.append(Msg("errors.where-byte", offset=self.offset))
        if not where:
            return f"{self.path}: {render(rule, lang)}"
        from mig.i18n import text

        location = text("errors.where-join", lang=lang).join(m.render(lang) for m in where)
        return f"{self.path} ({location}): {render(rule, lang)}"


def _input_error(path: str, rule: str | Msg, line: int | None, offset: int | None) -> InputError:
    return InputError(path, rule, line=line, offset=offset)


def _known_rule(rule: str) -> Msg | None:
    """The catalogue entry (``errors.rule-…``) whose English text is ``rule``, if any."""
    from mig.i18n import catalogue

    for msg_id, texts in catalogue().items():
        if msg_id.startswith("errors.rule-") and texts["en"] == rule:
            return Msg(msg_id)
    return None


class AdapterContractError(ConfigError):
    """An adapter broke the plugin contract (:mod:`mig.extract.contract`): exit code 2.

    The message names the adapter, its distribution and version, the batch and the rule,
    never a value; nothing half-written is kept.
    """


class PartitionError(MigError):
    """A partition of a run failed: the error it raised, after the input and the byte
    range it read, with that error's exit code.

    >>> err = PartitionError("a.csv", 0, 100, InputError("a.csv", "file is empty"))
    >>> err.render("en"), err.exit_code
    ('a.csv bytes 0–100: a.csv: file is empty', <ExitCode.UNREADABLE_INPUT: 3>)
    """

    def __init__(self, file: str, start: int, end: int, cause: MigError) -> None:
        self.file, self.start, self.end, self.cause = file, start, end, cause
        self.exit_code = cause.exit_code
        super().__init__(file, start, end, cause)

    def render(self, lang: Lang | None = None) -> str:
        from mig.i18n import text

        return text("partitions.failed", lang=lang, file=self.file, start=self.start, end=self.end,
                    error=self.cause.render(lang))

    def __reduce__(self) -> tuple[type[PartitionError], tuple[str, int, int, MigError]]:
        return (PartitionError, (self.file, self.start, self.end, self.cause))
