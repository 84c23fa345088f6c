"""Which layout is this file? Recognising a vendor's file by its content.

Vendors name files their own way (``住民基本台帳_住民.csv``), so a file is matched to a
layout in this order, and the report says which way and with what confidence:

1. ``map`` — the user's ``--map FILE=LAYOUT`` (confidence 1);
2. ``name`` — the file is named ``<layout-id>.csv|.parquet`` (confidence 1);
3. ``header`` — its header row against each layout's 項目名称, both sides through
   :func:`mig.jp.normalise_heading` (全角/半角, カナ/かな, spaces and punctuation folded):
   a layout is a candidate when the line is a plausible header for it (the one rule of
   :mod:`mig.validation.header`), scored by the Dice overlap ``2·matched / (columns + items)``;
4. ``fields`` — a file without a header row: the layouts with as many items as the first
   record has fields, scored by the share of sampled records the layout's own rules accept
   (:func:`mig.validation.batch.validate_batch`, the one validation loop: types, lengths,
   code tables, check digits tell a 1-digit code from a 2-digit one).

Every layout of the audited 業務 is scored — 中間標準レイアウト, 基本データリスト and
imported layout packs alike (they are all in the catalogue). Only the first
:data:`HEAD_BYTES` of a file are read to recognise it. A best score within :data:`TIE` of the
runner-up is a tie (the file is not assigned; the report asks for ``--map``); a best score
under :data:`CONFIDENT` is assigned with a warning asking to confirm it with ``--map``.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl
import pyarrow.parquet as pq

from mig.audit.conformance import value_free
from mig.codecs.euc import sample_text
from mig.errors import ConfigError, InputError
from mig.i18n import text
from mig.jp import normalise_heading
from mig.layout import Layout
from mig.registry import get_adapter
from mig.validation.batch import validate_batch
from mig.validation.findings import severity_table
from mig.validation.header import WITHHOLD_SHARE, HeaderMatch

MatchMethod = Literal["map", "name", "header", "fields", ""]
HEAD_BYTES = 256 * 1024
"""Bytes of a file read to recognise it (whole records only)."""
PLAUSIBLE = WITHHOLD_SHARE
"""The least share of sampled records a layout must accept to be a header-less file's match
(the first line is a header row when :class:`mig.validation.header.HeaderMatch` says so)."""
CONFIDENT = 0.8
"""A score from which a match needs no confirmation."""
TIE = 0.01
"""Scores closer than this to the best are a tie."""


@dataclass(frozen=True)
class Recognition:
    """How a file was matched to a layout (``layout`` empty: not recognised).

    ``header``: whether the file's first line is a header row; ``rename``: file column →
    項目名称 where they differ only by width, kana or punctuation; ``candidates``: the
    scored layouts, best first (``(layout id, score)``); ``problem``: ``tie`` or ``low``.
    """

    layout: str
    method: MatchMethod
    confidence: float
    header: bool = True
    rename: tuple[tuple[str, str], ...] = ()
    candidates: tuple[tuple[str, float], ...] = ()
    problem: Literal["", "tie", "low"] = ""
    encoding: str = ""
    fields: int = 0
    detail: str = ""

    @staticmethod
    def fixed(layout: str, method: MatchMethod) -> Recognition:
        return Recognition(layout, method, 1.0)


@dataclass(frozen=True)
class _Scored:
    layout: str
    score: float
    rename: tuple[tuple[str, str], ...] = field(default=())
    plausible: bool = True


def header_score(columns: Sequence[str], layout: Layout) -> _Scored:
    """Dice overlap of a header row with a layout's 項目名称 (normalised), and the renames.

    >>> from mig.layout import Item, Layout
    >>> x = Layout("x", "b", "n", "s", "1", "", "", (Item(1, "氏名", "全角文字", 10), Item(2, "氏名フリガナ", "全角文字", 10)))
    >>> header_score(["氏名", "ｼﾒｲ_ﾌﾘｶﾞﾅ"], x)
    _Scored(layout='x', score=0.5, rename=(), plausible=True)
    >>> header_score(["氏名", "氏名_ﾌﾘｶﾞﾅ"], x)
    _Scored(layout='x', score=1.0, rename=(('氏名_ﾌﾘｶﾞﾅ', '氏名フリガナ'),), plausible=True)
    >>> header_score(["山田", "ﾔﾏﾀﾞ"], x).plausible
    False
    """
    items = {normalise_heading(name): name for name in reversed(layout.item_names)}
    seen: set[str] = set()
    rename = []
    for column in columns:
        key = normalise_heading(column)
        if key in items and key not in seen:
            seen.add(key)
            if column != items[key]:
                rename.append((column, items[key]))
    total = len(columns) + len(items)
    score = round(2 * len(seen) / total, 6) if total else 0.0
    # whether the line is a header at all: the one rule of mig.validation.header, on normalised names
    plausible = HeaderMatch.of([normalise_heading(c) for c in columns], list(items)).plausible
    return _Scored(layout.id, score, tuple(rename), plausible)


def _decide(scored: list[_Scored], method: MatchMethod, *, encoding: str, fields: int,
            header: bool = True) -> Recognition:
    scored.sort(key=lambda s: (-s.score, s.layout))
    candidates = tuple((s.layout, s.score) for s in scored[:5])
    best = scored[0]
    if len(scored) > 1 and best.score - scored[1].score < TIE:
        return Recognition("", method, best.score, header=header, candidates=candidates, problem="tie",
                           encoding=encoding, fields=fields)
    return Recognition(best.layout, method, best.score, header=header, rename=best.rename,
                       candidates=candidates, problem="" if best.score >= CONFIDENT else "low",
                       encoding=encoding, fields=fields)


def recognise_parquet(path: Path, layouts: Sequence[Layout]) -> Recognition:
    """A Parquet file by its column names (its schema; no row is read)."""
    try:
        columns = list(pq.ParquetFile(path).schema_arrow.names)
    except Exception as exc:  # a hostile file: not recognised, the audit goes on
        return Recognition("", "", 0.0, detail=f"cannot read its schema ({type(exc).__name__})")
    scored = [s for s in (header_score(columns, x) for x in layouts) if s.plausible]
    if not scored:
        return Recognition("", "", 0.0, fields=len(columns), detail=text("audit.why-no-items"))
    return _decide(scored, "header", fields=len(columns), encoding="parquet")


def _sample(head: bytes) -> bytes:
    cut = head.rfind(b"\n")
    return head[: cut + 1] if cut >= 0 else head


def _first_record(path: Path, delimiter: str = ",") -> tuple[list[str], str]:
    """The fields of the first record and the encoding (detected by the csv adapter).

    Read as a one-column file without a header, so a first line that is a data record (with
    repeated values) is no error: it comes back framed, with its raw bytes, and only that
    one line is split here.
    """
    reader = get_adapter("csv").open(path, {"header": False, "columns": ["_"], "delimiter": delimiter},
                                     batch_bytes=HEAD_BYTES * 2)
    for batch in reader.batches():
        for frame in (batch.rejects, batch.records):
            first = frame.filter(pl.col("row") == 1)
            if first.height:
                raw = bytes(first.get_column("raw").item())
                line = sample_text(raw, reader.encoding).lstrip("\ufeff").rstrip("\r\n")
                fields = next(csv.reader([line], delimiter=delimiter), [])
                return [f.strip() for f in fields], reader.encoding
    return [], reader.encoding


def sample_columns(head: bytes, work_root: Path | None = None) -> list[str] | None:
    """The first record's fields of a CSV or TSV sample (``None``: not readable as one)."""
    sample = _sample(head)
    first = sample.split(b"\n", 1)[0]
    delimiter = "\t" if first.count(b"\t") > first.count(b",") else ","
    with tempfile.TemporaryDirectory(prefix="mig-recognise-", dir=work_root) as folder:
        path = Path(folder) / "head.csv"
        path.write_bytes(sample)
        try:
            return _first_record(path, delimiter)[0]
        except Exception:  # not a table: neither a control file nor a layout file by header
            return None


def recognise_csv(head: bytes, layouts: Sequence[Layout], work_root: Path | None = None) -> Recognition:
    """A CSV file by its first :data:`HEAD_BYTES` (``head``): header row, else field count
    and item patterns. Never raises for what the bytes hold."""
    sample = _sample(head)
    if not sample.strip():
        return Recognition("", "", 0.0, detail=text("audit.why-empty"))
    with tempfile.TemporaryDirectory(prefix="mig-recognise-", dir=work_root) as folder:
        path = Path(folder) / "head.csv"
        path.write_bytes(sample)
        try:
            columns, encoding = _first_record(path)
        except (InputError, ConfigError) as exc:
            return Recognition("", "", 0.0, detail=value_free(exc.rule) if isinstance(exc, InputError) else str(exc))
        except Exception as exc:  # a hostile file must not stop the audit of the others
            return Recognition("", "", 0.0, detail=f"cannot be read ({type(exc).__name__})")
        headed = [s for s in (header_score(columns, x) for x in layouts) if s.plausible]
        if headed:
            return _decide(headed, "header", encoding=encoding, fields=len(columns))
        same = [x for x in layouts if len(x.items) == len(columns)]
        if not same:
            return Recognition("", "", 0.0, encoding=encoding, fields=len(columns),
                               detail=text("audit.why-no-count", fields=len(columns)))
        scored = [_Scored(x.id, _pattern_score(path, encoding, x)) for x in same]
        if max(s.score for s in scored) < PLAUSIBLE:
            best = max(scored, key=lambda s: (s.score, s.layout))
            return Recognition("", "", best.score, header=False, encoding=encoding, fields=len(columns),
                               detail=text("audit.why-no-fit", fields=len(columns), layout=best.layout,
                                           score=f"{best.score:.2f}"))
        return _decide(scored, "fields", header=False, encoding=encoding, fields=len(columns))


def _pattern_score(path: Path, encoding: str, layout: Layout) -> float:
    """Share of the sample's records that ``layout``'s rules accept (0 when unreadable)."""
    try:
        options = {"header": False, "columns": list(layout.item_names), "encoding": encoding}
        reader = get_adapter("csv").open(path, options, batch_bytes=HEAD_BYTES * 2)
        rows = accepted = 0
        for batch in reader.batches():
            frame = batch.data.select(["row", *layout.item_names])
            result = validate_batch(frame, layout, severities=severity_table(), references=dict.fromkeys(
                                        (fk.layout for fk in layout.foreign_keys), None),
                                    primary_keys=None, framing=batch.rejects.select("row", "type", "detail"))
            rows += frame.height + batch.rejects.height
            accepted += result.accepted.height
    except Exception:  # a sample this layout cannot even frame scores nothing
        return 0.0
    return round(accepted / rows, 6) if rows else 0.0
