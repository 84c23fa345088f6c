"""Keys across records and files: the primary key within a file, foreign keys between files.

- :class:`KeyTracker` remembers the primary keys of a file's accepted records, batch after
  batch, and flags a record whose key an earlier one already took (``key-duplicate``);
- :func:`check_foreign_keys` flags a value with no match in the referenced file's key set
  (``fk-missing``);
- :func:`unchecked_references` is the file-level note for each foreign key whose
  referenced file was not given (``fk-not-checked``);
- :func:`owned_keys` copies key values out of a batch before they are kept across
  batches, so that what is kept is the keys alone.

Why copies: a Polars String column is a view array whose values longer than 12 bytes point
into the data buffers of the column they were cut from, and ``filter``, ``drop_nulls``,
``concat`` and a one-column ``concat_str`` keep those buffers. A key kept from a batch
would keep that batch's whole field buffer alive, and memory would grow with the input
(measured at 1M 住民 rows and 8 MiB batches: 1,219 MB peak with views, 635 MB with
copies; see benchmarks/README.md). The
copies are the exact strings, compact (16 bytes a value plus the bytes of values over 12
bytes), rather than 64-bit hashes: a hash would still need the exact string of an earlier
key to tell a collision from a real duplicate or parent, and at one short key per record
the strings cost a few tens of MB per million records.

:func:`mig.validation.batch.validate_batch` runs them for every caller (extract, validate,
audit); nothing here loops over rows.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from mig.layout import Layout
from mig.validation.findings import FINDING_SCHEMA, concat_sorted, findings_where
from mig.validation.report import FindingSummary, file_note
from mig.validation.rules import require_columns


def owned_keys(keys: pl.Series) -> pl.Series:
    """``keys`` as String values in buffers of their own: a compact copy that shares no
    buffer with the batch the values came from (see the module docstring for why).

    The copy goes through Arrow's ``large_string`` layout, whose values are one contiguous
    buffer by definition, so it holds the key bytes and nothing else whatever Polars's
    view-buffer heuristics do. Values, order, nulls and name are kept.

    >>> batch = pl.Series("k", ["0000000000001" + "x" * 100, None]).str.slice(0, 13)
    >>> copy = owned_keys(batch)
    >>> copy.to_list(), copy.name, copy.dtype
    (['0000000000001', None], 'k', String)
    """
    values = keys.cast(pl.String).to_arrow(compat_level=pl.CompatLevel.oldest())
    return pl.Series(keys.name, values, dtype=pl.String)


def occurring(known: pl.Series, values: pl.Series) -> pl.Series:
    """The ``known`` keys a membership test of ``values`` in ``known`` needs: those that
    occur among ``values`` (or all of ``known`` when it is no longer than ``values``).

    ``values.is_in(known)`` hashes all of ``known`` — every batch, and a file's keys or a
    referenced file's grow to millions — while ``known.is_in(values)`` hashes the batch's
    values and only looks the known keys up (about ten times cheaper at 1M known keys and
    130k values); the few keys found then make the second test cheap. Same membership.

    >>> occurring(pl.Series(["a", "b", "c", "d", "e"]), pl.Series(["c", None, "x", "a"])).to_list()
    ['a', 'c']
    """
    if known.len() <= values.len():  # the smaller side is hashed already
        return known
    found: pl.Series = known.filter(known.is_in(values.drop_nulls().implode()))
    return found


class KeyTracker:
    """Remembers the primary keys of accepted rows so that a repeated key is rejected.

    Memory grows with the number of distinct keys (one short string per record, copied
    out of its batch by :func:`owned_keys`), not with the width of the data or the
    number of batches.

    >>> from mig.layout import Item, Layout
    >>> layout = Layout("t", "b", "n", "s", "1", "", "", (Item(1, "k", "数字", 3),), primary_key=("k",))
    >>> tracker = KeyTracker(layout)
    >>> none = pl.Series("row", [], dtype=pl.Int64)
    >>> tracker.duplicates(pl.DataFrame({"row": [1, 2], "k": ["1", "1"]}), none).rows()
    [(2, 'k', 'key-duplicate', 'k')]
    >>> tracker.duplicates(pl.DataFrame({"row": [3, 4], "k": ["1", "2"]}), pl.Series([4])).rows()
    [(3, 'k', 'key-duplicate', 'k')]
    """

    def __init__(self, layout: Layout) -> None:
        self.items = list(layout.primary_key)
        self.seen = pl.Series("key", [], dtype=pl.String)

    def accepted_keys(self, item: str) -> pl.Series | None:
        """The distinct keys of the rows accepted so far when ``item`` alone is the primary
        key, else ``None``: the key set a foreign key to ``item`` checks against, so that a
        file referenced by its primary key keeps its keys once, not twice.

        Exact, given that :func:`mig.validation.batch.validate_batch` passes every row it
        rejects for other reasons: a row's key is recorded when the row is not rejected and
        its key is new; a row accepted with a taken key (``key-duplicate`` not an error)
        adds nothing new; empty keys are recorded like any other.

        >>> from mig.layout import Item, Layout
        >>> layout = Layout("t", "b", "n", "s", "1", "", "", (Item(1, "k", "数字", 3),), primary_key=("k",))
        >>> tracker = KeyTracker(layout)
        >>> _ = tracker.duplicates(pl.DataFrame({"row": [1, 2, 3], "k": ["1", "1", "2"]}), pl.Series([3]))
        >>> tracker.accepted_keys("k").to_list(), tracker.accepted_keys("other")
        (['1'], None)
        """
        return self.seen.rename(item) if self.items == [item] else None

    def duplicates(self, mapped: pl.DataFrame, rejected_rows: pl.Series) -> pl.DataFrame:
        """Findings for rows (not already rejected) whose key is taken; records the others."""
        candidates = mapped.lazy().filter(~pl.col("row").is_in(rejected_rows.implode())).select(
            "row", pl.concat_str([pl.col(i) for i in self.items], separator="\x1f").alias("key")
        ).filter(pl.col("key").is_not_null()).collect()  # lazy: only the key columns are filtered
        taken = occurring(self.seen, candidates.get_column("key"))
        flagged = candidates.with_columns(
            (~pl.col("key").is_first_distinct() | pl.col("key").is_in(taken.implode())).alias("dup")
        )
        fresh = owned_keys(flagged.filter(~pl.col("dup")).get_column("key"))
        self.seen = pl.concat([self.seen, fresh], rechunk=True)
        return flagged.filter(pl.col("dup")).select(
            pl.col("row"),
            pl.lit(self.items[0], dtype=pl.String).alias("item"),
            pl.lit("key-duplicate", dtype=pl.String).alias("type"),
            pl.lit(", ".join(self.items), dtype=pl.String).alias("detail"),
        ).cast(FINDING_SCHEMA)  # type: ignore[arg-type]


def check_foreign_keys(
    frame: pl.DataFrame,
    layout: Layout,
    keys: Mapping[str, pl.Series | None],
    rejected: Mapping[str, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Findings for ``layout.foreign_keys``: values with no match in the referenced file.

    ``keys`` maps a referenced layout id to the Series of its known key values (the
    ``target_item`` column of that file), or to ``None`` when that file was not part of
    the run; a layout id missing from ``keys`` counts as ``None``. ``rejected`` maps a
    referenced layout id to the keys of its *rejected* records: a frame ``key``, ``row``
    (see :func:`rejected_keys`).

    - a non-empty value absent from the key set → ``fk-missing`` on that row, detail
      ``"<target_item> in <layout id>"``; when the value is the key of a rejected record of
      the referenced file → ``fk-parent-rejected`` instead, detail
      ``"<target_item> in <layout id>, row <N>"`` (N: that record's row, as in its rejects);
    - key set ``None`` → a single ``fk-not-checked`` finding for the whole file, with
      ``row = -1`` and detail = the referenced layout id.

    >>> from mig.layout import ForeignKey, Item, Layout
    >>> layout = Layout("a", "b", "n", "s", "1", "", "", (Item(1, "k", "数字", 3),),
    ...                 foreign_keys=(ForeignKey("k", "p", "id"),))
    >>> df = pl.DataFrame({"row": [1, 2, 3, 4], "k": ["1", "9", "", "7"]})
    >>> check_foreign_keys(df, layout, {"p": pl.Series(["1", "2"])}).rows()
    [(2, 'k', 'fk-missing', 'id in p'), (4, 'k', 'fk-missing', 'id in p')]
    >>> gone = pl.DataFrame({"key": ["7"], "row": [12]})
    >>> check_foreign_keys(df, layout, {"p": pl.Series(["1", "2"])}, {"p": gone}).rows()
    [(2, 'k', 'fk-missing', 'id in p'), (4, 'k', 'fk-parent-rejected', 'id in p, row 12')]
    >>> check_foreign_keys(df, layout, {}).rows()
    [(-1, 'k', 'fk-not-checked', 'p')]
    """
    require_columns(frame, [fk.item for fk in layout.foreign_keys], layout)
    order = {name: n for n, name in enumerate(layout.item_names)}
    parts: list[tuple[int, str, pl.DataFrame]] = []
    for fk in layout.foreign_keys:
        known = keys.get(fk.layout)
        if known is None:
            whole_file = pl.DataFrame({"row": [-1]}, schema={"row": pl.Int64})
            found = findings_where(whole_file, pl.lit(True), fk.item, "fk-not-checked", fk.layout)
            parts.append((order[fk.item], "fk-not-checked", found))
            continue
        # as given: membership needs no distinct values, and the key sets extract passes are
        # distinct already — a unique() here would redo the referenced file's keys every batch
        v = pl.col(fk.item).cast(pl.String)
        key_set = occurring(known.cast(pl.String).drop_nulls(), frame.get_column(fk.item).cast(pl.String))
        missing = v.is_not_null() & (v != "") & ~v.is_in(key_set.implode())
        detail = f"{fk.target_item} in {fk.layout}"
        gone = (rejected or {}).get(fk.layout)
        if gone is None or gone.height == 0:
            parts.append((order[fk.item], "fk-missing", findings_where(frame, missing, fk.item, "fk-missing", detail)))
            continue
        # the unmatched values (few) joined to the rejected parents' keys (few): no row loop
        unmatched = frame.lazy().filter(missing.fill_null(False)).select(
            pl.col("row").cast(pl.Int64), v.alias("__key")
        ).join(
            gone.lazy().select(pl.col("key").cast(pl.String).alias("__key"), pl.col("row").alias("__parent")),
            on="__key", how="left", maintain_order="left",
        ).collect()
        parent_missing = unmatched.filter(pl.col("__parent").is_null())
        parent_rejected = unmatched.filter(pl.col("__parent").is_not_null())
        parts.append((order[fk.item], "fk-missing", findings_where(parent_missing, pl.lit(True), fk.item, "fk-missing", detail)))
        parts.append((
            order[fk.item],
            "fk-parent-rejected",
            parent_rejected.select(
                "row",
                pl.lit(fk.item, dtype=pl.String).alias("item"),
                pl.lit("fk-parent-rejected", dtype=pl.String).alias("type"),
                pl.format("{}, row {}", pl.lit(detail), pl.col("__parent")).alias("detail"),
            ).cast(FINDING_SCHEMA),  # type: ignore[arg-type]
        ))
    return concat_sorted(parts)


def rejected_keys(mapped: pl.DataFrame, rejected_rows: pl.Series, item: str) -> pl.DataFrame:
    """The keys (``item``) of a batch's rejected records with their rows, for
    :func:`check_foreign_keys`: the first row of each key only, empty keys left out.

    >>> df = pl.DataFrame({"row": [1, 2, 3], "id": ["a", "b", "b"]})
    >>> rejected_keys(df, pl.Series([2, 3]), "id").rows()
    [('b', 2)]
    """
    found = (
        mapped.lazy()
        .filter(pl.col("row").is_in(rejected_rows.implode()))
        .select(pl.col(item).cast(pl.String).alias("key"), pl.col("row").cast(pl.Int64))
        .filter(pl.col("key").is_not_null() & (pl.col("key") != ""))
        .sort("row")
        .unique(subset="key", keep="first", maintain_order=True)
        .collect()
    )
    return found.with_columns(owned_keys(found.get_column("key")))  # kept across batches


def unchecked_references(
    layout: Layout, keys: Mapping[str, pl.Series | None], severities: pl.DataFrame | None = None
) -> list[FindingSummary]:
    """A file-level ``fk-not-checked`` note per foreign key whose referenced file was not
    given (its key set is ``None`` or absent from ``keys``)."""
    return [
        file_note("fk-not-checked", fk.item, fk.layout, severities)
        for fk in layout.foreign_keys
        if keys.get(fk.layout) is None
    ]
