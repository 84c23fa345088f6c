"""Findings are data: a stable type code, a message template and a default severity.

A batch's findings travel as a Polars frame with the columns of :data:`FINDING_SCHEMA`:
``row`` (the record's id within the run), ``item`` (項目名称, or ``""`` for the whole
record), ``type`` (a code below) and ``detail`` (a short detail naming non-personal facts
only: a field count, a code map and the code it lacks, the row of a rejected parent).
Severity ``error`` sends the record to the rejects; ``warning`` keeps it. Values (names,
addresses, numbers) never appear in findings unless the user asks for them
(``--show-values``: a ``value`` column, the source value that caused the finding), and
個人番号 is masked even then.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from mig.errors import ConfigError, UnknownNameError
from mig.i18n import Lang, current_lang, text
from mig.plugin import SEVERITIES, FindingType, Severity

__all__ = [
    "COMMON_ADAPTER_TYPES", "FINDING_SCHEMA", "FINDING_TYPES", "SEVERITIES", "FindingType", "Severity",
    "concat_sorted", "declare_finding_types", "empty_findings", "finding_type", "findings_where",
    "known_finding_types", "message", "severity_table",
]

def _own(code: str, severity: Severity) -> FindingType:
    """One of mig's own types, its templates from the message catalogue (``findings.<code>``)."""
    return FindingType(code, text(f"findings.{code}", lang="en"), severity, text(f"findings.{code}", lang="ja"))


_TYPES = [
    # source framing (adapter)
    _own("ragged-row", "error"),
    _own("unbalanced-quote", "error"),
    _own("embedded-nul", "error"),
    # mapping
    _own("code-unmapped", "error"),
    _own("wareki-invalid", "error"),
    _own("wareki-out-of-era", "error"),
    _own("split-missing", "warning"),
    # validation
    _own("required-missing", "error"),
    _own("length-exceeded", "error"),
    _own("bytes-exceeded", "error"),
    # warning: the intermediate files are UTF-8; a target that cannot hold the character is
    # handled at load time by the 外字 policy (縮退 or fail), not by rejecting the person.
    _own("not-encodable", "warning"),
    _own("type-digits", "error"),
    _own("type-number", "error"),
    _own("charclass-zenkaku", "error"),
    _own("charclass-hankaku", "error"),
    _own("charclass-control", "error"),
    _own("date-invalid", "error"),
    _own("date-unknown-not-allowed", "error"),
    _own("yearmonth-invalid", "error"),
    _own("code-unknown", "error"),
    _own("checkdigit", "error"),
    _own("key-duplicate", "error"),
    _own("fk-missing", "error"),
    _own("fk-parent-rejected", "error"),
    _own("fk-not-checked", "warning"),
    _own("column-missing", "error"),
    _own("column-extra", "warning"),
    _own("gaiji-unresolved", "warning"),
    # a first line that is no header: its words may be data, so they are only counted
    _own("columns-withheld", "warning"),
]

#: mig's own finding types (mapping, validation, and the framing types any adapter may
#: report: ragged-row, unbalanced-quote, embedded-nul). Adapters' own types are declared by
#: the adapter and merged in by :func:`declare_finding_types`; look a code up with
#: :func:`finding_type` or :func:`known_finding_types`, which see both.
FINDING_TYPES: dict[str, FindingType] = {t.code: t for t in _TYPES}

#: Framing finding types any adapter may put in its rejects without declaring them.
COMMON_ADAPTER_TYPES: frozenset[str] = frozenset({"ragged-row", "unbalanced-quote", "embedded-nul"})

#: Declared by adapters: code → (adapter name, type).
_DECLARED: dict[str, tuple[str, FindingType]] = {}
_INSTALLED_LOADED = False

def declare_finding_types(owner: str, types: Iterable[FindingType]) -> None:
    """Merge an adapter's declared finding types into the registry.

    A code must not be one of mig's own nor declared differently by another adapter (the
    form of a code and its templates is checked by :class:`~mig.plugin.FindingType`
    itself). Declaring the same type again is a no-op.

    >>> declare_finding_types("demo", [FindingType("demo-odd", "record is odd ({detail})", "error")])
    >>> message("demo-odd", "", "3")
    'record is odd (3)'
    """
    for t in types:
        if not isinstance(t, FindingType):
            raise ConfigError(f"adapter {owner}: finding_types must hold mig.plugin.FindingType, not {type(t).__name__}")
        if t.code in FINDING_TYPES:
            raise ConfigError(f"adapter {owner}: finding type {t.code} is mig's own; report it without declaring it")
        earlier = _DECLARED.get(t.code)
        if earlier is not None and earlier[0] != owner and earlier[1] != t:
            raise ConfigError(f"adapter {owner}: finding type {t.code} is already declared by adapter {earlier[0]}")
        _DECLARED[t.code] = (owner, t)


def _load_installed() -> None:
    """Merge the declared types of every installed adapter once (a broken one is skipped:
    ``mig adapters list`` shows it)."""
    global _INSTALLED_LOADED
    if _INSTALLED_LOADED:
        return
    _INSTALLED_LOADED = True
    from mig.registry import adapter_infos

    for info in adapter_infos():
        if info.error is None:
            try:
                declare_finding_types(info.name, info.finding_types)
            except ConfigError:
                continue


def known_finding_types() -> dict[str, FindingType]:
    """mig's own finding types, then those declared by adapters (installed or in use)."""
    if not _INSTALLED_LOADED:
        _load_installed()
    return {**FINDING_TYPES, **{code: t for code, (_, t) in _DECLARED.items()}}


def finding_type(code: str) -> FindingType:
    """The finding type ``code`` (mig's own or an adapter's); an unknown one lists the known."""
    found = FINDING_TYPES.get(code) or (_DECLARED[code][1] if code in _DECLARED else None)
    if found is not None:
        return found
    known = known_finding_types()
    if code not in known:
        raise UnknownNameError("finding type", code, known)
    return known[code]

FINDING_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.Int64(),
    "item": pl.String(),
    "type": pl.String(),
    "detail": pl.String(),
}


def empty_findings() -> pl.DataFrame:
    """A findings frame with no rows."""
    return pl.DataFrame(schema=FINDING_SCHEMA)


def concat_sorted(parts: list[tuple[int, str, pl.DataFrame]]) -> pl.DataFrame:
    """Concatenate ``(item order, type, findings)`` parts sorted by row, item order, type.

    Each part has one item and one type, so the sort key is a small integer rank per
    part plus the row: no string comparison over the findings themselves. Within a row,
    a part keeps its own order (the sort is stable).
    """
    if not parts:
        return empty_findings()
    ranked = sorted(parts, key=lambda part: (part[0], part[1]))
    return (
        pl.concat(
            [
                frame.with_columns(pl.lit(rank, dtype=pl.Int32).alias("__rank"))
                for rank, (_, _, frame) in enumerate(ranked)
            ],
            how="vertical",
        )
        .sort(["row", "__rank"], maintain_order=True)
        .drop("__rank")
    )


def findings_where(
    frame: pl.DataFrame, condition: pl.Expr, item: str, type_code: str, detail: str | None = None
) -> pl.DataFrame:
    """Findings of ``type_code`` for every row of ``frame`` where ``condition`` is true.

    ``frame`` must carry the record id column ``row``.

    >>> df = pl.DataFrame({"row": [1, 2], "x": ["a", ""]})
    >>> findings_where(df, pl.col("x") == "", "x", "required-missing")["row"].to_list()
    [2]
    """
    if type_code not in FINDING_TYPES:
        raise UnknownNameError("finding type", type_code, FINDING_TYPES)
    return frame.lazy().filter(condition.fill_null(False)).select(
        pl.col("row").cast(pl.Int64),
        pl.lit(item, dtype=pl.String).alias("item"),
        pl.lit(type_code, dtype=pl.String).alias("type"),
        pl.lit(detail, dtype=pl.String).alias("detail"),
    ).collect()


def severity_table(overrides: dict[str, str] | None = None) -> pl.DataFrame:
    """Type code → severity, with a mapping file's overrides applied."""
    known = known_finding_types()
    severities = {code: t.severity for code, t in known.items()}
    for code, severity in (overrides or {}).items():
        if code not in known:
            raise UnknownNameError("finding type", code, known)
        if severity not in SEVERITIES:
            raise ConfigError(f"severity of {code} must be one of {', '.join(SEVERITIES)}")
        severities[code] = severity  # type: ignore[assignment]
    return pl.DataFrame(
        {"type": list(severities), "severity": list(severities.values())},
        schema={"type": pl.String, "severity": pl.String},
    )


def message(type_code: str, item: str, detail: str | None, lang: Lang | None = None) -> str:
    """Render a finding's message in ``lang`` (default: the current language) from its
    template and ``detail``, which names non-personal facts only (an empty Japanese
    template falls back to English); values never appear in it.

    >>> message("required-missing", "氏名", None, lang="ja")
    '氏名: 必須項目が空欄です'
    >>> message("required-missing", "氏名", None, lang="en")
    '氏名: required value is empty'
    """
    chosen = lang or current_lang()
    found = finding_type(type_code)
    template = (found.template_ja or found.template) if chosen == "ja" else found.template
    return template.format(item=item or text("findings.record", lang=chosen), detail=detail or "")
