"""The one validation loop body: every check a batch of standard-layout rows goes through.

``mig extract``, ``mig validate`` and ``mig audit`` all call :func:`validate_batch` once per
batch, so the same rows give the same findings whichever command reads them. It runs

1. the adapter's framing rejects (records it could not split into fields) and the
   mapping's findings, as given;
2. the mapping-independent rules of the layout (:func:`~mig.validation.rules.validate_frame`,
   unresolved 外字 included: one finding per character);
3. foreign keys against the referenced files' key sets and the primary key against the
   earlier accepted records of the file (:mod:`mig.validation.keys`);

(1 and 2 are :func:`check_rows`, row-local; 3 and 4 :func:`check_keys`, which needs the
other records' keys — a partitioned extract runs them apart, see
:mod:`mig.extract.partitions`);
4. severities (a mapping's overrides applied) and the reject decision: a record with any
   ``error`` finding is rejected, the others are accepted.

Callers keep their own concerns only: extract writes the accepted rows and the rejects,
validate builds its report, audit counts 準拠率 and 外字 per repertoire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from mig.layout import Layout
from mig.validation.findings import FINDING_SCHEMA, empty_findings
from mig.validation.keys import KeyTracker, check_foreign_keys
from mig.validation.report import attach_values
from mig.validation.rules import validate_frame


@dataclass(frozen=True)
class BatchResult:
    """What one batch came to."""

    findings: pl.DataFrame
    """:data:`~mig.validation.findings.FINDING_SCHEMA` + ``severity`` (+ ``value`` with
    ``show_values``), sorted by row, item, type; row-level findings only (``row >= 0``)."""
    rejected_rows: pl.Series
    """Ids of the records with an ``error`` finding (framing rejects included), unique."""
    accepted: pl.DataFrame
    """The rows of the frame that are not rejected."""

    @property
    def errors(self) -> pl.DataFrame:
        """The findings of severity ``error``: the reasons of the rejects."""
        return self.findings.filter(pl.col("severity") == "error")


def validate_batch(
    frame: pl.DataFrame,
    layout: Layout,
    *,
    severities: pl.DataFrame,
    references: Mapping[str, pl.Series | None],
    primary_keys: KeyTracker | None,
    framing: pl.DataFrame | None = None,
    mapping_findings: pl.DataFrame | None = None,
    show_values: bool = False,
    rejected_references: Mapping[str, pl.DataFrame] | None = None,
) -> BatchResult:
    """Check one batch and decide which of its records are rejected.

    ``frame`` is the batch already in the layout (``row`` + one String column per item;
    other columns are carried along). ``severities`` is a
    :func:`~mig.validation.findings.severity_table`; ``references`` maps a referenced layout
    id to its key values (``None``: that file was not given, see
    :func:`~mig.validation.keys.unchecked_references` for the file-level note);
    ``primary_keys`` is the file's tracker (``None`` when the layout has no primary key).
    ``framing`` holds the adapter's rejected records (``row``, ``type``, ``detail``), which
    are not in ``frame``; ``mapping_findings`` the mapping's findings on ``frame``
    (:data:`~mig.validation.findings.FINDING_SCHEMA`, with ``show_values`` also ``value``:
    the source value; a ``value`` column of ``framing`` is the record's text).
    ``rejected_references`` maps a referenced layout id to its rejected records' keys
    (``key``, ``row``): a value found there is ``fk-parent-rejected``, not ``fk-missing``.

    A required item whose value the mapping already rejected is not also reported as
    ``required-missing``. The primary key is checked on the records no other error
    rejected, so that a rejected record does not take its key.

    It is :func:`check_rows` (what each record says of itself) then :func:`check_keys`
    (what needs the other records: keys); a partitioned ``mig extract`` runs the first
    half in the partitions and the second in the merge.

    >>> from mig.layout import Item, Layout
    >>> from mig.validation.findings import severity_table
    >>> layout = Layout("t", "b", "n", "s", "1", "", "", (Item(1, "k", "数字", 3),), primary_key=("k",))
    >>> frame = pl.DataFrame({"row": [1, 2, 3], "k": ["1", "x", "1"]})
    >>> result = validate_batch(frame, layout, severities=severity_table(), references={},
    ...                         primary_keys=KeyTracker(layout))
    >>> result.findings.select("row", "type", "severity").rows()
    [(2, 'type-digits', 'error'), (3, 'key-duplicate', 'error')]
    >>> result.accepted["row"].to_list()
    [1]
    """
    local = check_rows(
        frame, layout, severities=severities, framing=framing,
        mapping_findings=mapping_findings, show_values=show_values,
    )
    return check_keys(
        local, frame, layout, severities=severities, references=references,
        primary_keys=primary_keys, show_values=show_values, rejected_references=rejected_references,
    )


@dataclass(frozen=True)
class RowChecks:
    """What the row-local half of the checks found in one batch (:func:`check_rows`)."""

    findings: pl.DataFrame
    """:data:`~mig.validation.findings.FINDING_SCHEMA` + ``severity`` (+ ``value`` where the
    caller carried values), in the order found (not yet sorted)."""
    rejected_rows: pl.Series
    """Ids of the records with an ``error`` finding so far, unique."""

    def shifted(self, base: int) -> RowChecks:
        """The same checks with every row id moved by ``base`` (a partition's first row − 1)."""
        if base == 0:
            return self
        return RowChecks(
            self.findings.with_columns(pl.col("row") + base), self.rejected_rows + base
        )


def check_rows(
    frame: pl.DataFrame,
    layout: Layout,
    *,
    severities: pl.DataFrame,
    framing: pl.DataFrame | None = None,
    mapping_findings: pl.DataFrame | None = None,
    show_values: bool = False,
) -> RowChecks:
    """The checks of :func:`validate_batch` that look at each record alone: framing
    rejects, mapping findings and the layout's rules, with their severities.

    Their result does not depend on the other records, so a partition of a file computes
    it on its own (``row`` ids local to the partition; see :meth:`RowChecks.shifted`).
    """
    mapped = empty_findings() if mapping_findings is None else mapping_findings
    # the values a caller already knows: the mapping's source values, a framing reject's text
    carried = show_values and (
        "value" in mapped.columns or (framing is not None and "value" in framing.columns)
    )
    schema = _schema(carried)
    if not carried:
        mapped = mapped.select(list(FINDING_SCHEMA))
    parts = []
    if framing is not None:
        shown = [pl.col("value")] if carried and "value" in framing.columns else []
        parts.append(
            framing.select("row", pl.lit("", dtype=pl.String).alias("item"), "type", "detail", *shown)
        )
    parts += [mapped, _not_reported_twice(validate_frame(frame, layout), mapped, severities)]
    findings = _with_severity(parts, schema, severities)
    return RowChecks(findings, _error_rows(findings))


def check_keys(
    local: RowChecks,
    frame: pl.DataFrame,
    layout: Layout,
    *,
    severities: pl.DataFrame,
    references: Mapping[str, pl.Series | None],
    primary_keys: KeyTracker | None,
    show_values: bool = False,
    rejected_references: Mapping[str, pl.DataFrame] | None = None,
) -> BatchResult:
    """The checks of :func:`validate_batch` that need the other records — foreign keys,
    then the primary key against the earlier accepted records — and the reject decision.

    Batches must come in row order (``row`` ids of the whole file), as the key sets grow.
    """
    findings = local.findings
    rejected = local.rejected_rows
    if layout.foreign_keys:
        references_found = _with_severity(
            [check_foreign_keys(frame, layout, references, rejected_references)],
            _schema("value" in findings.columns), severities,
        )
        if references_found.height:
            findings = pl.concat([findings, references_found])
            rejected = pl.concat([rejected, _error_rows(references_found)]).unique()
    if primary_keys is not None and layout.primary_key:
        duplicates = primary_keys.duplicates(frame, rejected).join(
            severities, on="type", how="left", maintain_order="left"
        )
        if duplicates.height:
            findings = pl.concat([findings, duplicates], how="diagonal")
            rejected = pl.concat([rejected, _error_rows(duplicates)]).unique()
    if show_values:
        findings = attach_values(findings, frame, layout)
    elif "value" in findings.columns:  # pragma: no cover - carried is false then
        findings = findings.drop("value")
    return BatchResult(
        findings=findings.sort("row", "item", "type", maintain_order=True),
        rejected_rows=rejected,
        accepted=frame.filter(~pl.col("row").is_in(rejected.implode())),
    )


def _schema(carried: bool) -> dict[str, pl.DataType]:
    return {**FINDING_SCHEMA, "value": pl.String()} if carried else dict(FINDING_SCHEMA)


def _with_severity(
    parts: list[pl.DataFrame], schema: dict[str, pl.DataType], severities: pl.DataFrame
) -> pl.DataFrame:
    """The parts as one findings frame of ``schema``, row-level only, with their severities."""
    found = pl.concat(
        [part.select([c for c in schema if c in part.columns]) for part in parts], how="diagonal"
    )
    return (
        found.with_columns(pl.lit(None, dtype).alias(c) for c, dtype in schema.items() if c not in found.columns)
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
        .filter(pl.col("row") >= 0)  # fk-not-checked is a note on the file, not on a row
        .join(severities, on="type", how="left", maintain_order="left")
    )


def _error_rows(findings: pl.DataFrame) -> pl.Series:
    return findings.filter(pl.col("severity") == "error").get_column("row").unique()


def _not_reported_twice(
    validation: pl.DataFrame, mapping_findings: pl.DataFrame, severities: pl.DataFrame
) -> pl.DataFrame:
    """Drop required-missing where the mapping already rejected the item's value."""
    if mapping_findings.height == 0:
        return validation
    failed = (
        mapping_findings.join(severities, on="type")
        .filter(pl.col("severity") == "error")
        .select("row", "item", pl.lit("required-missing").alias("type"))
    )
    return validation.join(failed, on=["row", "item", "type"], how="anti")
