"""Findings are data: a stable type code, a message template and a default severity.

A batch's findings travel as a Polars frame with the columns of :data:`FINDING_SCHEMA`:
``row`` (the record's id within the run), ``item`` (項目名称, or ``""`` for the whole
record), ``type`` (a code below) and ``detail`` (a short, value-free detail such as a
field count). Severity ``error`` sends the record to the rejects; ``warning`` keeps it.
Values never appear in findings unless the user asks for them (``--show-values``).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from mig.errors import ConfigError, UnknownNameError
from mig.plugin import SEVERITIES, FindingType, Severity

__all__ = [
    "COMMON_ADAPTER_TYPES", "FINDING_SCHEMA", "FINDING_TYPES", "SEVERITIES", "FindingType", "Severity",
    "concat_sorted", "declare_finding_types", "empty_findings", "finding_type", "findings_where",
    "known_finding_types", "message", "severity_table",
]

_TYPES = [
    # source framing (adapter)
    FindingType("ragged-row", "record has {detail} fields; the header has a different count", "error"),
    FindingType("unbalanced-quote", "record opens a quote it never closes", "error"),
    FindingType("embedded-nul", "record holds a NUL byte", "error"),
    # mapping
    FindingType("code-unmapped", "{item}: source code has no entry in code map {detail}", "error"),
    FindingType("wareki-invalid", "{item}: not a recognisable 和暦 date", "error"),
    FindingType("wareki-out-of-era", "{item}: date lies outside its era (e.g. 平成31年5月1日)", "error"),
    FindingType("split-missing", "{item}: split produced no part {detail}", "warning"),
    # validation
    FindingType("required-missing", "{item}: required value is empty", "error"),
    FindingType("length-exceeded", "{item}: longer than {detail} characters", "error"),
    FindingType("bytes-exceeded", "{item}: longer than {detail} bytes", "error"),
    # warning: the intermediate files are UTF-8; a target that cannot hold the character is
    # handled at load time by the 外字 policy (縮退 or fail), not by rejecting the person.
    FindingType("not-encodable", "{item}: holds a character the byte encoding {detail} cannot hold", "warning"),
    FindingType("type-digits", "{item}: 数字 item holds a character other than 0-9", "error"),
    FindingType("type-number", "{item}: not a 数値 of the declared digits and scale ({detail})", "error"),
    FindingType("charclass-zenkaku", "{item}: 全角文字 item holds a half-width character", "error"),
    FindingType("charclass-hankaku", "{item}: 半角文字 item holds a full-width or non-ASCII character", "error"),
    FindingType("charclass-control", "{item}: holds a control character", "error"),
    FindingType("date-invalid", "{item}: not a real calendar date (YYYYMMDD)", "error"),
    FindingType("date-unknown-not-allowed", "{item}: 不詳 date part where the layout allows none", "error"),
    FindingType("yearmonth-invalid", "{item}: not a real year and month (YYYYMM)", "error"),
    FindingType("code-unknown", "{item}: code not in code table {detail}", "error"),
    FindingType("checkdigit", "{item}: check digit does not match ({detail})", "error"),
    FindingType("key-duplicate", "{item}: key ({detail}) already used by an earlier record", "error"),
    FindingType("fk-missing", "{item}: no matching {detail}", "error"),
    FindingType("fk-not-checked", "{item}: reference to {detail} not checked (file not given)", "warning"),
    FindingType("column-missing", "{item}: the file has no column for this item", "error"),
    FindingType("column-extra", "{item}: column is not an item of the layout (undeclared)", "warning"),
    FindingType("gaiji-unresolved", "{item}: holds the Private Use (外字) character {detail}, not resolved by a registry", "warning"),
    # a first line that is no header: its words may be data, so they are only counted
    FindingType("columns-withheld", "{detail} column name(s) not in the layout withheld: the first line does not look like a header", "warning"),
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


def message(type_code: str, item: str, detail: str | None) -> str:
    """Render a finding's message from its template; values never appear in it."""
    return finding_type(type_code).template.format(item=item or "record", detail=detail or "")
