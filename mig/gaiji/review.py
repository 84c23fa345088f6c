"""The 外字 identification workbench: ``mig gaiji review`` and ``mig gaiji decide``.

:func:`review_run` finds every Private Use character still in a run directory, renders
its glyph from the vendor's gaiji font, ranks MJ candidates and writes

- an HTML sheet (self-contained: glyphs as inline PNG, inline CSS and a small inline
  script that exports the choices as CSV; no external asset; same inputs → same bytes);
- a decisions CSV template beside it (``source,code,mj,text,decided_by,evidence,count,
  candidates``): fill ``mj`` (or ``text``) for the characters you identified and give it
  to :func:`apply_decisions` (``mig gaiji decide``).

Where the characters come from: the data Parquet files of the run (every String column
scanned with one vectorised ``str.extract_all`` per column) and the run's
``gaiji-unresolved`` findings (which also cover rejected rows and give row ids).

Ranking — each candidate's score is a sum, shown broken down in the sheet::

    score = glyph + 0.05 × reading + 0.03 × [radical hint matches] + 0.02 × stroke hint

- ``glyph``: cosine similarity (−1…1) of the vendor glyph to the MJ glyph
  (:class:`~mig.gaiji.glyphs.GlyphIndex`, all candidates in one matrix product); the
  :data:`GLYPH_POOL` most similar are re-ranked with the hints below.
- ``reading`` (0…1): the share of the character's occurrences whose カナ item (``氏名カナ``
  for ``氏名``: the item's name + ``カナ``) contains one of the candidate's MJ readings —
  aligned by word when the value and its カナ have the same number of space-separated
  words: a character at the start of its word must match the start of the カナ word, at the
  end its end, alone the whole word. Voiced marks are ignored (サキ matches ザキ) and a
  reading of three or more morae also counts without its last one (タカイ → タカ). One-mora
  readings count 0.3, stems 0.8.
- hints: a CSV given with ``--hints`` (``code,radical,strokes``; 康熙部首 number and 総画数,
  either may be empty) adds 0.03 when the radical is the candidate's and 0.02 when the
  strokes are equal (0.01 when off by one).

Without a vendor font (or for a code the font lacks: a "no glyph" cell) candidates are
ranked by readings and hints alone.

Glyph sources (``vendor_font``, :func:`~mig.gaiji.glyphs.open_glyphs`): a TrueType /
OpenType font, a BDF font, or a directory / zip of per-character images named by code;
vendor codes map to the run's Private Use characters through the 外字 area of the run's
input charsets (:func:`~mig.gaiji.glyphs.user_area_map`).

Confidence and auto-confirmation: the first candidate of a character with a glyph gets a
calibrated confidence (:func:`~mig.gaiji.glyphs.glyph_confidence`: its glyph score, its
margin over the best other MJ record — IVS variants of it included, since an entry names
one record — and its reading match); a character
whose best glyph score is under the calibration's ``abstain_below`` and whose first
candidate's reading does not match its カナ is flagged *not in MJ*. With ``auto_confirm=P`` each character gets a ``decision``: ``auto`` (confidence ≥ P,
not flagged — the threshold is the lowest confidence at which the held-out calibration
set's auto-confirmed characters still had precision P,
:meth:`~mig.gaiji.glyphs.Calibration.threshold`: written to the registry as ``proposed``, or ``confirmed`` with
``trust_auto``, with the evidence), ``own`` (flagged: written with status ``own`` — kept
as Private Use, its glyph in the evidence, never mapped) or ``review``. The sheet lists
the ``review`` characters first, most rows first; ``--json`` keeps code order. The sheet shows no value from the data; with
``show_values`` it lists the カナ contexts it matched readings against.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl

from mig.charsets import private_use_pattern
from mig.errors import ConfigError, InputError
from mig.fs import check_output_file, write_text
from mig.gaiji.glyphs import (
    FEATURE_VERSION,
    BitmapGlyphs,
    GlyphIndex,
    MJFont,
    VendorFont,
    auto_confirm_threshold,
    glyph_features,
    load_calibration,
    open_glyphs,
    png_data_uri,
    user_area_map,
)
from mig.gaiji.mj import MalformedCodeError, codepoints, mj_table, normalise_mj_name, shown
from mig.html.render import labels, render
from mig.i18n import Lang, current_lang
from mig.i18n import text as message
from mig.run.manifest import (
    GAIJI_REVIEW_HTML,
    MANIFEST_NAME,
    RUN_FOLDERS,
    RUN_REPORTS,
    data_parquet,
    findings_parquet,
    load_manifest,
)

__all__ = [
    "DECISION_COLUMNS",
    "AUTO_DECIDER",
    "GLYPH_POOL",
    "Candidate",
    "DecideResult",
    "Occurrence",
    "ReviewEntry",
    "ReviewResult",
    "apply_decisions",
    "candidate_names",
    "kana_contexts",
    "rank",
    "reading_scores",
    "render_sheet",
    "render_template",
    "review_run",
    "run_source",
    "scan_run",
]

UNRESOLVED = "gaiji-unresolved"
GLYPH_POOL = 200
"""How many glyph-nearest MJ characters are re-ranked with readings and hints."""
W_READING = 0.05
W_RADICAL = 0.03
W_STROKES = 0.02
FIRST_ROWS = 10
MAX_CONTEXTS = 50
DECISION_COLUMNS: tuple[str, ...] = (
    "source", "code", "mj", "text", "decided_by", "evidence", "count", "candidates",
)
GLYPH_PX = 64
AUTO_DECIDER = "mig gaiji review --auto-confirm"
Decision = Literal["auto", "own", "review"]
_SHEET_ORDER = {"review": 0, "own": 1, "auto": 2}

_SPACES = r"[ \u3000]+"


# ---------------------------------------------------------------------------------------
# what is unresolved


@dataclass(frozen=True)
class Occurrence:
    """Where a character occurs: layout, item, how many rows, the first row ids."""

    layout: str
    item: str
    count: int
    rows: tuple[int, ...]


def _data_files(run_dir: Path) -> list[tuple[str, Path]]:
    return [(f.layout, run_dir / data_parquet(f.layout)) for f in load_manifest(run_dir).files]


def run_source(run_dir: Path) -> str | None:
    """The registry source recorded in the run's manifest (its mapping's ``[gaiji]``), if any."""
    try:
        gaiji = load_manifest(run_dir).gaiji
    except InputError:
        return None
    return gaiji.source if gaiji is not None and gaiji.source else None


def _pua_frames(layout: str, data: pl.DataFrame) -> list[pl.LazyFrame]:
    """One lazy frame per String column: (layout, item, char, value, kana) for each
    distinct Private Use character of each value holding one."""
    frames = []
    columns = [c for c, t in data.schema.items() if t == pl.String]
    for name in columns:
        kana = f"{name}カナ"
        kana_expr = pl.col(kana) if kana in columns else pl.lit(None, dtype=pl.String)
        frames.append(
            data.lazy()
            .filter(pl.col(name).str.contains(private_use_pattern()).fill_null(False))
            .select(
                pl.lit(layout, dtype=pl.String).alias("layout"),
                pl.lit(name, dtype=pl.String).alias("item"),
                pl.col(name).str.extract_all(private_use_pattern()).list.unique().alias("char"),
                pl.col(name).alias("value"),
                kana_expr.alias("kana"),
            )
            .explode("char")
        )
    return frames


_SCAN_SCHEMA = {"layout": pl.String, "item": pl.String, "char": pl.String, "value": pl.String, "kana": pl.String}


def scan_run(run_dir: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The Private Use characters of a run.

    Returns ``(hits, where)``: ``hits`` has one row per accepted data row, item and
    distinct character (``layout, item, char, value, kana``) — values stay in memory for
    the reading match and never leave it unless asked; ``where`` has ``code, layout, item,
    count, rows`` (row ids, list) from the ``gaiji-unresolved`` findings, or from the data
    when a run has no findings file.
    """
    run_dir = Path(run_dir)
    frames: list[pl.LazyFrame] = []
    finding_parts: list[pl.DataFrame] = []
    for layout, path in _data_files(run_dir):
        if path.is_file():
            frames += _pua_frames(layout, pl.read_parquet(path))
        findings = run_dir / findings_parquet(layout)
        if findings.is_file():
            f = pl.read_parquet(findings, columns=["row", "item", "type", "detail"])
            finding_parts.append(
                f.filter(pl.col("type") == UNRESOLVED).select(
                    pl.lit(layout, dtype=pl.String).alias("layout"), "item",
                    pl.col("detail").alias("code"), pl.col("row").cast(pl.Int64),
                )
            )
    hits = pl.concat(pl.collect_all(frames)) if frames else pl.DataFrame(schema=_SCAN_SCHEMA)
    hits = hits.cast(_SCAN_SCHEMA)  # type: ignore[arg-type]
    from_findings = pl.concat(finding_parts) if finding_parts else pl.DataFrame(
        schema={"layout": pl.String, "item": pl.String, "code": pl.String, "row": pl.Int64}
    )
    data_where = (
        _with_code(hits.group_by("layout", "item", "char").agg(pl.len().alias("count")), "char", "code")
        .with_columns(pl.lit([], dtype=pl.List(pl.Int64)).alias("rows"))
        .select("code", "layout", "item", pl.col("count").cast(pl.Int64), "rows")
    )
    finding_where = (
        from_findings.sort("row")
        .group_by("code", "layout", "item")
        .agg(pl.len().cast(pl.Int64).alias("count"), pl.col("row").head(FIRST_ROWS).alias("rows"))
    )
    # findings win where they exist (they count rejected rows too)
    known = finding_where.select("code", "layout", "item")
    where = pl.concat([
        finding_where.select("code", "layout", "item", "count", "rows"),
        data_where.join(known, on=["code", "layout", "item"], how="anti"),
    ]).sort("code", "layout", "item")
    return hits, where


def _with_code(frame: pl.DataFrame, column: str, alias: str) -> pl.DataFrame:
    """``frame`` with ``alias`` = the ``U+XXXX`` of the one-character column ``column``
    (computed once per distinct character, applied with one ``replace_strict``)."""
    distinct = [c for c in frame.get_column(column).unique().to_list() if c]
    table = {c: codepoints(c) for c in distinct}
    return frame.with_columns(
        pl.col(column).replace_strict(table, default=None, return_dtype=pl.String).alias(alias)
    )


# ---------------------------------------------------------------------------------------
# readings


@cache
def _unvoice_table() -> tuple[list[str], list[str]]:
    """Voiced / semi-voiced kana → unvoiced; hiragana → katakana; half-width → full-width."""
    keys: list[str] = []
    values: list[str] = []
    for cp in range(0x3041, 0x30FA):
        ch = chr(cp)
        target = ch
        if 0x3041 <= cp <= 0x3096:
            target = chr(cp + 0x60)
        decomposed = unicodedata.normalize("NFD", target)
        if len(decomposed) == 2 and decomposed[1] in "\u3099\u309a":
            target = decomposed[0]
        if target != ch:
            keys.append(ch)
            values.append(target)
    for cp in range(0xFF66, 0xFF9E):
        keys.append(chr(cp))
        values.append(unicodedata.normalize("NFKC", chr(cp)))
    keys += ["\uff9e", "\uff9f", "\u309b", "\u309c"]
    values += ["", "", "", ""]
    return keys, values


def _plain_kana(expr: pl.Expr) -> pl.Expr:
    keys, values = _unvoice_table()
    return expr.str.replace_many(keys, values)


def kana_contexts(hits: pl.DataFrame) -> pl.DataFrame:
    """Per character: the カナ contexts of its occurrences, aligned by word where possible.

    Returns ``char, kana, mode, weight``: ``kana`` without voiced marks, ``mode`` one of
    ``whole`` / ``start`` / ``end`` / ``inside`` (the character's place in its word when
    the value and the カナ split into the same number of words) or ``any`` (the whole カナ);
    ``weight`` = how many occurrences give that context. At most :data:`MAX_CONTEXTS`
    contexts per character (the most frequent). Vectorised.

    >>> hits = pl.DataFrame({"char": ["\\ue001"], "value": ["山\\ue001　花子"], "kana": ["ヤマザキ　ハナコ"]})
    >>> kana_contexts(hits).rows()
    [('\\ue001', 'ヤマサキ', 'end', 1)]
    """
    base = hits.filter(pl.col("kana").is_not_null() & (pl.col("kana").str.strip_chars() != ""))
    if base.height == 0:
        return pl.DataFrame(schema={"char": pl.String, "kana": pl.String, "mode": pl.String, "weight": pl.Int64})
    base = base.select(
        "char",
        pl.col("value").str.strip_chars(" \u3000").str.replace_all(_SPACES, " ").str.split(" ").alias("words"),
        _plain_kana(pl.col("kana").str.strip_chars(" \u3000").str.replace_all(_SPACES, " ")).str.split(" ").alias("kwords"),
    )
    aligned = base.filter(pl.col("words").list.len() == pl.col("kwords").list.len())
    loose = base.filter(pl.col("words").list.len() != pl.col("kwords").list.len())
    per_word = (
        aligned.explode("words", "kwords")
        .filter(pl.col("words").str.contains(pl.col("char"), literal=True))
        .select(
            "char",
            pl.col("kwords").alias("kana"),
            pl.when(pl.col("words") == pl.col("char")).then(pl.lit("whole"))
            .when(pl.col("words").str.starts_with(pl.col("char"))).then(pl.lit("start"))
            .when(pl.col("words").str.ends_with(pl.col("char"))).then(pl.lit("end"))
            .otherwise(pl.lit("inside")).alias("mode"),
        )
    )
    anywhere = loose.select("char", pl.col("kwords").list.join("").alias("kana"), pl.lit("any").alias("mode"))
    contexts = pl.concat([per_word, anywhere]).filter(pl.col("kana") != "")
    return (
        contexts.group_by("char", "kana", "mode").agg(pl.len().cast(pl.Int64).alias("weight"))
        .sort(["char", "weight", "kana", "mode"], descending=[False, True, False, False])
        .group_by("char", maintain_order=True).head(MAX_CONTEXTS)
    )


@cache
def _mj_readings() -> pl.DataFrame:
    """``row`` (position in :func:`mj_table`), ``reading`` (plain kana), ``strength``."""
    table = mj_table().with_row_index("row").select("row", "readings").explode("readings")
    table = table.filter(pl.col("readings").is_not_null() & (pl.col("readings") != ""))
    plain = table.select("row", _plain_kana(pl.col("readings")).alias("reading"))
    full = plain.with_columns(
        pl.when(pl.col("reading").str.len_chars() == 1).then(0.3).otherwise(1.0).alias("strength")
    )
    stems = plain.filter(pl.col("reading").str.len_chars() >= 3).select(
        "row", pl.col("reading").str.slice(0, pl.col("reading").str.len_chars() - 1).alias("reading"),
        pl.lit(0.8).alias("strength"),
    )
    return (
        pl.concat([full, stems]).group_by("row", "reading").agg(pl.col("strength").max())
        .sort("row", "reading").with_columns(pl.col("row").cast(pl.Int64))
    )


def reading_scores(contexts: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
    """Reading score (0…1) of candidate MJ rows for characters.

    ``contexts`` from :func:`kana_contexts`; ``pairs`` has ``char`` and ``row`` (position in
    :func:`mj_table`). Returns ``char, row, reading``: the weighted share of the character's
    contexts that one of the row's readings matches (best reading per context). One join.
    """
    if contexts.height == 0 or pairs.height == 0:
        return pairs.select("char", "row").with_columns(pl.lit(0.0).alias("reading"))
    total = contexts.group_by("char").agg(pl.col("weight").sum().alias("total"))
    joined = (
        pairs.select("char", pl.col("row").cast(pl.Int64))
        .join(contexts, on="char")
        .join(_mj_readings(), on="row")
    )
    r, k = pl.col("reading"), pl.col("kana")
    mode = pl.col("mode")
    hit = (
        pl.when(mode == "whole").then(k == r)
        .when(mode == "start").then(k.str.starts_with(r))
        .when(mode == "end").then(k.str.ends_with(r))
        .otherwise(k.str.contains(r, literal=True))
    )
    best = (
        joined.with_columns(pl.when(hit).then(pl.col("strength")).otherwise(0.0).alias("m"))
        .group_by("char", "row", "kana", "mode").agg(pl.col("m").max(), pl.col("weight").first())
        .group_by("char", "row").agg((pl.col("m") * pl.col("weight")).sum().alias("s"))
        .join(total, on="char")
        .select("char", "row", (pl.col("s") / pl.col("total")).alias("reading"))
    )
    return pairs.select("char", pl.col("row").cast(pl.Int64)).join(best, on=["char", "row"], how="left").with_columns(
        pl.col("reading").fill_null(0.0)
    )


# ---------------------------------------------------------------------------------------
# candidates and ranking


def candidate_names(scope: str) -> list[str]:
    """MJ文字図形名 to rank: ``all``, ``juki`` (those with a 住基ネット統一文字コード),
    ``koseki`` (with a 戸籍統一文字番号), or a file listing MJ names (one per line, ``#``
    comments). Unknown names in a file are a :class:`~mig.errors.ConfigError`.
    """
    table = mj_table()
    if scope == "all":
        return table["mj"].to_list()
    if scope in ("juki", "koseki"):
        return table.filter(pl.col(scope).is_not_null())["mj"].to_list()
    path = Path(scope)
    if not path.is_file():
        raise ConfigError(f"--candidates {scope!r}: give all, juki, koseki or a file of MJ文字図形名")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError):
        raise InputError(str(path), "cannot read candidate list (UTF-8 text expected)") from None
    names: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        name = line.split("#", 1)[0].strip().upper()
        if name:
            names.append((number, name))
    known = set(table["mj"].to_list())
    unknown = [(number, n) for number, n in names if n not in known]
    if unknown:  # the line, not its content: the path may name any file
        number, name = unknown[0]
        what = "not in the MJ table" if _is_mj_name(name) else "not an MJ文字図形名 (MJ and 6 digits)"
        raise ConfigError(f"{path}:{number}: {what}; {len(unknown)} such line(s)")
    if not names:
        raise ConfigError(f"{path}: no MJ文字図形名 listed")
    return sorted({n for _, n in names})


def _is_mj_name(name: str) -> bool:
    """Whether ``name`` has the form of an MJ文字図形名."""
    try:
        normalise_mj_name(name)
    except MalformedCodeError:
        return False
    return True


def _read_hints(path: Path | None) -> pl.DataFrame:
    schema = {"code": pl.String, "hint_radical": pl.Int64, "hint_strokes": pl.Int64}
    if path is None:
        return pl.DataFrame(schema=schema)
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (OSError, pl.exceptions.PolarsError):
        raise InputError(str(path), "cannot read hints CSV (code,radical,strokes)") from None
    if "code" not in frame.columns:
        raise InputError(str(path), "hints CSV needs a code column (and radical and/or strokes)")
    out = frame.select(
        pl.col("code").str.strip_chars().str.to_uppercase().str.replace(r"^U\+", "U+"),
        pl.col("radical").str.strip_chars().cast(pl.Int64, strict=False).alias("hint_radical")
        if "radical" in frame.columns else pl.lit(None, dtype=pl.Int64).alias("hint_radical"),
        pl.col("strokes").str.strip_chars().cast(pl.Int64, strict=False).alias("hint_strokes")
        if "strokes" in frame.columns else pl.lit(None, dtype=pl.Int64).alias("hint_strokes"),
    )
    return out.cast(schema)  # type: ignore[arg-type]


def rank(
    chars: Sequence[str],
    *,
    index: GlyphIndex | None,
    raw: np.ndarray[Any, np.dtype[np.float32]] | None,
    has_glyph: Sequence[bool],
    contexts: pl.DataFrame,
    hints: pl.DataFrame,
    candidates: Sequence[str],
    top: int,
) -> pl.DataFrame:
    """Ranked candidates for ``chars``: ``char, rank, row, glyph, reading, hint, score``.

    ``raw`` holds the glyph features of ``chars`` (rows with ``has_glyph`` False are
    ignored); ``row`` is the position in :func:`mj_table`. See the module docstring for the
    score. Glyph similarity is one matrix product for all characters.
    """
    table = mj_table()
    row_of = {name: i for i, name in enumerate(table["mj"].to_list())}
    parts: list[pl.DataFrame] = []
    with_glyph = [i for i, ok in enumerate(has_glyph) if ok] if index is not None and raw is not None else []
    if with_glyph and index is not None and raw is not None:
        pool = max(GLYPH_POOL, top)
        idx, scores = index.search(raw[with_glyph], pool)
        index_rows = np.asarray([row_of[n] for n in index.names], np.int64)
        parts.append(pl.DataFrame({
            "char": np.repeat(np.asarray([chars[i] for i in with_glyph], dtype=object), idx.shape[1]).tolist(),
            "row": index_rows[idx].reshape(-1),
            "glyph": scores.reshape(-1).astype(np.float64),
        }, schema={"char": pl.String, "row": pl.Int64, "glyph": pl.Float64}))
    without = [chars[i] for i, ok in enumerate(has_glyph) if not ok or i not in with_glyph]
    if without:
        allowed = pl.DataFrame({"row": [row_of[n] for n in candidates]}, schema={"row": pl.Int64})
        parts.append(
            _pairs_without_glyph(without, contexts, hints)
            .join(allowed, on="row", how="semi")
            .with_columns(pl.lit(0.0).alias("glyph"))
        )
    if not parts:
        return pl.DataFrame(schema={
            "char": pl.String, "rank": pl.Int64, "row": pl.Int64, "glyph": pl.Float64,
            "reading": pl.Float64, "hint": pl.Float64, "score": pl.Float64,
        })
    pairs = pl.concat(parts)
    scored = _with_hints(pairs.join(reading_scores(contexts, pairs), on=["char", "row"], how="left"), hints)
    return (
        scored.with_columns(
            pl.col("reading").fill_null(0.0),
            (pl.col("glyph") + W_READING * pl.col("reading").fill_null(0.0) + pl.col("hint")).alias("score"),
        )
        .sort(["char", "score", "row"], descending=[False, True, False])
        .group_by("char", maintain_order=True).head(top)
        .with_columns(pl.int_range(1, pl.len() + 1).over("char").cast(pl.Int64).alias("rank"))
        .select("char", "rank", "row", "glyph", "reading", "hint", "score")
    )


def _pairs_without_glyph(chars: list[str], contexts: pl.DataFrame, hints: pl.DataFrame) -> pl.DataFrame:
    """Candidate (char, row) pairs when there is no glyph: MJ rows with a reading that is
    a substring of one of the character's カナ contexts (an equality join on every
    substring), and rows that fit the character's radical / stroke hints (both, when both
    are given; strokes ±1)."""
    mine = contexts.filter(pl.col("char").is_in(chars))
    substrings = (
        mine.select("char", "kana")
        .with_columns(pl.int_ranges(0, pl.col("kana").str.len_chars()).alias("start"))
        .explode("start")
        .with_columns(pl.int_ranges(1, pl.col("kana").str.len_chars() - pl.col("start") + 1).alias("length"))
        .explode("length")
        .select("char", pl.col("kana").str.slice(pl.col("start"), pl.col("length")).alias("reading"))
        .unique()
    )
    by_reading = substrings.join(_mj_readings().select("row", "reading"), on="reading").select("char", "row")
    table = mj_table().with_row_index("row").select(
        pl.col("row").cast(pl.Int64), pl.col("radical").cast(pl.Int64), pl.col("strokes").cast(pl.Int64)
    )
    wanted = _with_code(pl.DataFrame({"char": chars}, schema={"char": pl.String}), "char", "code").join(
        hints, on="code"
    )
    strokes_ok = pl.col("hint_strokes").is_null() | ((pl.col("hint_strokes") - pl.col("strokes")).abs() <= 1)
    by_radical = (
        wanted.filter(pl.col("hint_radical").is_not_null())
        .join(table, left_on="hint_radical", right_on="radical")
        .filter(strokes_ok)
        .select("char", "row")
    )
    by_strokes = (
        wanted.filter(pl.col("hint_radical").is_null() & pl.col("hint_strokes").is_not_null())
        .with_columns((pl.col("hint_strokes") + pl.lit([-1, 0, 1])).alias("strokes"))
        .explode("strokes")
        .join(table.drop("radical"), on="strokes")
        .select("char", "row")
    )
    return pl.concat([by_reading, by_radical, by_strokes]).unique().sort("char", "row")


def _with_hints(frame: pl.DataFrame, hints: pl.DataFrame) -> pl.DataFrame:
    """Add ``hint`` (radical / stroke bonus) from the hints table (by the char's code)."""
    table = mj_table().with_row_index("row").select(
        pl.col("row").cast(pl.Int64), pl.col("radical").cast(pl.Int64).alias("_radical"),
        pl.col("strokes").cast(pl.Int64).alias("_strokes"),
    )
    out = _with_code(frame, "char", "_code").join(table, on="row", how="left")
    out = out.join(hints, left_on="_code", right_on="code", how="left")
    diff = (pl.col("hint_strokes") - pl.col("_strokes")).abs()
    bonus = (
        pl.when(pl.col("hint_radical") == pl.col("_radical")).then(W_RADICAL).otherwise(0.0)
        + pl.when(diff == 0).then(W_STROKES).when(diff == 1).then(W_STROKES / 2).otherwise(0.0)
    )
    return out.with_columns(bonus.fill_null(0.0).alias("hint")).drop(
        "_code", "_radical", "_strokes", "hint_radical", "hint_strokes"
    )


# ---------------------------------------------------------------------------------------
# the review


@dataclass(frozen=True)
class Candidate:
    """One ranked MJ candidate of a character."""

    rank: int
    mj: str
    text: str
    ucs: str | None
    ivs: str | None
    readings: tuple[str, ...]
    radical: int | None
    inner_strokes: int | None
    strokes: int | None
    juki: str | None
    koseki: str | None
    glyph: float
    reading: float
    hint: float
    score: float
    image: str | None = None


@dataclass(frozen=True)
class ReviewEntry:
    """One unresolved character: where it occurs, its vendor glyph, its candidates."""

    code: str
    count: int
    where: tuple[Occurrence, ...]
    has_glyph: bool
    image: str | None
    strokes_estimate: float | None
    candidates: tuple[Candidate, ...]
    contexts: tuple[str, ...] = ()
    confidence: float | None = None
    margin: float | None = None
    not_in_mj: bool = False
    decision: Decision | None = None


@dataclass(frozen=True)
class ReviewResult:
    """What :func:`review_run` wrote."""

    html: Path
    csv: Path
    source: str
    entries: tuple[ReviewEntry, ...]
    vendor_font: str | None
    mj_font: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    registry: Path | None = None
    auto_confirm: float | None = None
    registry_status: str | None = None

    @property
    def sheet_entries(self) -> tuple[ReviewEntry, ...]:
        """The entries as the sheet lists them: what needs a decision first (``review``,
        then ``own``, then ``auto``), most rows first, then by code."""
        return tuple(sorted(
            # U+XXXX codes in code-point order: shorter first, then by text (no parsing to fail on)
            self.entries, key=lambda e: (_SHEET_ORDER.get(e.decision or "review", 0), -e.count, len(e.code), e.code),
        ))

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (no data values)."""
        return {
            "html": str(self.html),
            "csv": str(self.csv),
            "source": self.source,
            "vendor_font": self.vendor_font,
            "mj_font": self.mj_font,
            "characters": [
                {
                    "code": e.code, "count": e.count, "has_glyph": e.has_glyph,
                    "where": [{"layout": o.layout, "item": o.item, "count": o.count, "rows": list(o.rows)} for o in e.where],
                    "candidates": [
                        {"rank": c.rank, "mj": c.mj, "codepoints": codepoints(c.text), "score": round(c.score, 4),
                         "glyph": round(c.glyph, 4), "reading": round(c.reading, 4), "hint": round(c.hint, 4)}
                        for c in e.candidates
                    ],
                    "confidence": round(e.confidence, 4) if e.confidence is not None else None,
                    "margin": round(e.margin, 4) if e.margin is not None else None,
                    "not_in_mj": e.not_in_mj,
                    "decision": e.decision,
                }
                for e in self.entries
            ],
            "notes": list(self.notes),
            "auto_confirm": None if self.auto_confirm is None else {
                "precision": self.auto_confirm, "registry": str(self.registry), "status": self.registry_status,
                "auto": sum(e.decision == "auto" for e in self.entries),
                "own": sum(e.decision == "own" for e in self.entries),
                "review": sum(e.decision == "review" for e in self.entries),
            },
        }


def review_run(
    run_dir: Path,
    out: Path | None = None,
    *,
    vendor_font: Path | None = None,
    mj_font: Path | None = None,
    top: int = 10,
    candidates: str = "all",
    source: str | None = None,
    hints: Path | None = None,
    show_values: bool = False,
    index: GlyphIndex | None = None,
    progress: Callable[[int, int], None] | None = None,
    glyph_names: str | None = None,
    auto_confirm: float | None = None,
    trust_auto: bool = False,
    registry: Path | None = None,
    now: datetime | None = None,
) -> ReviewResult:
    """Write the identification sheet (HTML) and the decisions template (CSV) of a run.

    ``out`` defaults to ``RUN/gaiji-review.html``; the CSV is written beside it with the
    suffix ``.csv``. ``vendor_font``: the vendor's gaiji font (optional; not a font →
    :class:`~mig.errors.InputError`). ``mj_font``: IPAmj明朝 (found automatically).
    ``candidates``: ``all`` / ``juki`` / ``koseki`` / a file of MJ names
    (:func:`candidate_names`). ``index``: a prebuilt :class:`GlyphIndex` (else the cached
    one for ``candidates`` is used, built on first use — about a minute for all 58,862).
    ``glyph_names``: file-name pattern of glyph images (:class:`~mig.gaiji.glyphs.BitmapGlyphs`).
    ``auto_confirm``: write the characters whose first candidate's calibrated confidence
    reaches this precision to ``registry`` (default: beside the sheet, ``.registry.csv``;
    merged into an existing registry) as ``proposed`` (``confirmed`` with ``trust_auto``),
    and those not in MJ as ``own``; ``now`` stamps ``decided_at`` (default: now, UTC).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(str(run_dir), "run directory does not exist")
    if top < 1:
        raise ConfigError("--top must be at least 1")
    out = Path(out) if out is not None else run_dir / GAIJI_REVIEW_HTML
    csv_path = out.with_suffix(".csv")
    if csv_path == out:
        raise ConfigError(f"--out {out}: give the sheet's .html name; the decisions template is written beside it as .csv")
    read = [run_dir / MANIFEST_NAME, *(run_dir / d for d in RUN_FOLDERS), *(run_dir / r for r in RUN_REPORTS)]
    read += [p for p in (vendor_font, mj_font, hints) if p is not None]
    read += [Path(candidates)] if candidates not in ("all", "juki", "koseki") else []
    for output in (out, csv_path):
        check_output_file(output, inputs=read, option="--out")
    if auto_confirm is not None:
        if not 0.5 <= auto_confirm < 1.0:
            raise ConfigError(f"--auto-confirm {auto_confirm}: give the precision to reach, e.g. 0.995 (0.5 ≤ P < 1)")
        registry = Path(registry) if registry is not None else out.with_suffix(".registry.csv")
        check_output_file(registry, inputs=[p for p in read if p != registry], option="--registry")
    vendor = (
        open_glyphs(vendor_font, names=glyph_names, code_map=user_area_map(_run_encodings(run_dir)))
        if vendor_font is not None else None
    )
    hint_table = _read_hints(hints)
    names = candidate_names(candidates) if index is None else list(index.names)
    source = source or run_source(run_dir) or ""
    if auto_confirm is not None and not source:
        raise ConfigError("--auto-confirm: no registry source (give --source or a run whose mapping has [gaiji] source)")

    hits, where = scan_run(run_dir)
    codes = sorted(set(where["code"].to_list()), key=lambda c: int(c[2:], 16))
    chars = [chr(int(c[2:], 16)) for c in codes]
    contexts = kana_contexts(hits)
    notes: list[str] = []

    has_glyph = [vendor.has(c) if vendor is not None else False for c in chars]
    mj: MJFont | None = None
    needs_mj = bool(chars)
    if needs_mj:
        mj = MJFont(mj_font)
    raw = None
    if vendor is not None and any(has_glyph):
        if index is None:
            assert mj is not None
            table = mj_table().filter(pl.col("mj").is_in(names))
            index = GlyphIndex.cached(
                mj, table["mj"].to_list(),
                table.select(pl.coalesce("ivs", "ucs")).to_series().to_list(),
                table["strokes"].to_list(), progress,
            )
        raw = glyph_features(vendor.inks(chars))
    if vendor is None:
        notes.append(message("gaiji.note-no-font"))
    missing = [c for c, ok in zip(codes, has_glyph, strict=True) if vendor is not None and not ok]
    if missing:
        notes.append(message("gaiji.note-missing-glyphs", count=len(missing), codes=", ".join(missing[:10])))

    ranked = rank(
        chars, index=index, raw=raw, has_glyph=has_glyph, contexts=contexts, hints=hint_table,
        candidates=names, top=top,
    )
    fitted = index is not None and index.stroke_sigma > 0
    estimates = index.predict_strokes(raw) if fitted and index is not None and raw is not None else None
    entries = _entries(
        codes, chars, where, ranked, has_glyph, vendor, mj, estimates, contexts if show_values else None,
    )
    if index is not None and raw is not None:
        if load_calibration() is None:
            notes.append("no glyph calibration for these features: no confidence, nothing auto-confirmed")
        entries = _with_confidence(entries, chars, index, raw, ranked, contexts, auto_confirm)
    status = None
    if auto_confirm is not None:
        assert registry is not None
        if index is None or raw is None:
            entries = [_replace(e, decision="review") for e in entries]
        status = "confirmed" if trust_auto else "proposed"
        _write_auto(entries, vendor, registry, source, status, auto_confirm, now)
    result = ReviewResult(
        html=out, csv=csv_path, source=source, entries=tuple(entries),
        vendor_font=vendor.path.name if vendor is not None else None,
        mj_font=mj.path.name if mj is not None else None, notes=tuple(notes),
        registry=registry if auto_confirm is not None else None, auto_confirm=auto_confirm, registry_status=status,
    )
    _write_text(out, render_sheet(result))
    _write_text(csv_path, render_template(result), bom=True)
    return result


def _run_encodings(run_dir: Path) -> list[str | None]:
    """The input encodings the run's manifest records (for the 外字 area of glyph names)."""
    try:
        return [f.encoding for f in load_manifest(run_dir).inputs]
    except InputError:
        return []


def _replace(entry: ReviewEntry, **changes: Any) -> ReviewEntry:
    from dataclasses import replace

    return replace(entry, **changes)


def _with_confidence(
    entries: list[ReviewEntry],
    chars: list[str],
    index: GlyphIndex,
    raw: np.ndarray[Any, np.dtype[np.float32]],
    ranked: pl.DataFrame,
    contexts: pl.DataFrame,
    auto_confirm: float | None,
) -> list[ReviewEntry]:
    """Entries with the calibrated confidence of their first candidate, the not-in-MJ flag
    and (with ``auto_confirm``) a decision. One search for all characters with a glyph."""
    calibration = load_calibration()
    row_of = {name: i for i, name in enumerate(mj_table()["mj"].to_list())}
    index_rows = np.asarray([row_of[n] for n in index.names], np.int64)  # each MJ record its own: variants too
    with_glyph = [i for i, e in enumerate(entries) if e.has_glyph and e.candidates]
    if not with_glyph or calibration is None:
        return [_replace(e, decision="review") if auto_confirm is not None else e for e in entries]
    threshold = calibration.threshold(auto_confirm) if auto_confirm is not None else 1.0
    top, scores = index.search(raw[with_glyph], GLYPH_POOL)
    firsts = ranked.filter(pl.col("rank") == 1)
    first_row = dict(zip(firsts["char"].to_list(), firsts["row"].to_list(), strict=True))
    first_glyph = dict(zip(firsts["char"].to_list(), firsts["glyph"].to_list(), strict=True))
    first_reading = dict(zip(firsts["char"].to_list(), firsts["reading"].to_list(), strict=True))
    known_chars = set(contexts["char"].to_list()) if contexts.height else set()
    picked = [chars[i] for i in with_glyph]
    chosen = np.asarray([first_row[c] for c in picked], np.int64)
    other = index_rows[top] != chosen[:, None]
    best_other = np.where(other.any(axis=1), np.max(np.where(other, scores, -np.inf), axis=1), scores[:, -1])
    glyph = np.asarray([first_glyph[c] for c in picked], np.float32)
    margin = (glyph - best_other).astype(np.float32)
    reading = np.asarray([first_reading[c] for c in picked], np.float32)
    known = np.asarray([c in known_chars for c in picked], np.float32)
    confidence = calibration.confidence(glyph, margin, reading, known)
    far = (scores[:, 0] < calibration.abstain_below) & (reading < 0.5)  # as glyph_confidence flags it
    out = list(entries)
    for j, i in enumerate(with_glyph):  # per distinct character, not per row
        decision: Decision | None = None
        if auto_confirm is not None:
            decision = "own" if far[j] else "auto" if confidence[j] >= threshold else "review"
        out[i] = _replace(
            entries[i], confidence=float(confidence[j]), margin=float(margin[j]), not_in_mj=bool(far[j]), decision=decision,
        )
    if auto_confirm is not None:
        out = [e if e.decision is not None else _replace(e, decision="review") for e in out]
    return out


def _write_auto(
    entries: list[ReviewEntry],
    vendor: VendorFont | BitmapGlyphs | None,
    registry_path: Path,
    source: str,
    status: str,
    precision: float,
    now: datetime | None,
) -> None:
    """Add the ``auto`` and ``own`` decisions to the registry file (created when missing);
    a code that already has a confirmed entry keeps it."""
    from mig.gaiji.registry import OWN, Registry, load_registry, make_entry, write_registry

    decided = [e for e in entries if e.decision in ("auto", "own")]
    if not decided:
        return
    threshold = auto_confirm_threshold(precision) or precision
    registry = load_registry(registry_path) if registry_path.exists() else Registry()
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    glyphs = vendor.path.name if vendor is not None else "-"
    for e in decided:
        if registry.confirmed(source, e.code) is not None:
            continue  # a person's (or an earlier) confirmed decision stays
        first = e.candidates[0]
        reading = f"reading {first.reading:.2f}" if e.contexts or first.reading else "reading 0 (no match)"
        if e.decision == "auto":
            entry = make_entry(
                source=source, code=e.code, mj=first.mj, status=status, decided_by=AUTO_DECIDER, decided_at=stamp,
                evidence=(f"auto-confirm {precision} (confidence ≥ {threshold:.4f}): confidence {e.confidence:.4f}, glyph {first.glyph:.4f}, "
                          f"margin {e.margin:.4f}, {reading}; glyph source {glyphs}; features v{FEATURE_VERSION}"),
            )
        else:
            picture = vendor.image(chr(int(e.code[2:], 16)), 32) if vendor is not None else None
            entry = make_entry(
                source=source, code=e.code, status=OWN, decided_by=AUTO_DECIDER, decided_at=stamp,
                evidence=(f"not in MJ: no MJ glyph close (best {first.mj} glyph {first.glyph:.4f}); kept as Private Use; "
                          f"glyph source {glyphs}; glyph {png_data_uri(picture) if picture is not None else '-'}"),
            )
        registry = registry.add(entry)
    write_registry(registry, registry_path)


def _entries(
    codes: list[str],
    chars: list[str],
    where: pl.DataFrame,
    ranked: pl.DataFrame,
    has_glyph: list[bool],
    vendor: VendorFont | BitmapGlyphs | None,
    mj: MJFont | None,
    estimates: np.ndarray[Any, np.dtype[np.float32]] | None,
    contexts: pl.DataFrame | None,
) -> list[ReviewEntry]:
    table = mj_table()
    records = table.select(
        "mj", "ucs", "ivs", "readings", "radical", "inner_strokes", "strokes", "juki", "koseki",
        pl.coalesce("ivs", "ucs", "ucs_corresponding").alias("text"),
    )
    by_char = {c: g for (c,), g in ranked.partition_by("char", as_dict=True).items()} if ranked.height else {}
    where_by = {c: g for (c,), g in where.partition_by("code", as_dict=True).items()} if where.height else {}
    entries = []
    for position, (code, char, ok) in enumerate(zip(codes, chars, has_glyph, strict=True)):  # per distinct character
        occ = where_by.get(code)
        occurrences = tuple(
            Occurrence(r["layout"], r["item"], int(r["count"]), tuple(int(x) for x in (r["rows"] or [])))
            for r in (occ.iter_rows(named=True) if occ is not None else [])
        )
        cands = []
        group = by_char.get(char)
        if group is not None:
            joined = group.join(records.with_row_index("row").with_columns(pl.col("row").cast(pl.Int64)), on="row")
            for r in joined.sort("rank").iter_rows(named=True):
                image = None
                if mj is not None:
                    gid = mj.glyph_id(r["mj"], r["text"])
                    image = png_data_uri(mj.image(gid, GLYPH_PX)) if gid is not None else None
                cands.append(Candidate(
                    rank=r["rank"], mj=r["mj"], text=r["text"] or "", ucs=r["ucs"], ivs=r["ivs"],
                    readings=tuple(r["readings"] or ()), radical=r["radical"], inner_strokes=r["inner_strokes"],
                    strokes=r["strokes"], juki=r["juki"], koseki=r["koseki"], glyph=float(r["glyph"]),
                    reading=float(r["reading"]), hint=float(r["hint"]), score=float(r["score"]), image=image,
                ))
        image = None
        estimate = None
        if ok and vendor is not None:
            picture = vendor.image(char, GLYPH_PX)
            image = png_data_uri(picture) if picture is not None else None
        if estimates is not None and ok:
            estimate = float(estimates[position])
        shown: tuple[str, ...] = ()
        if contexts is not None and contexts.height:
            mine = contexts.filter(pl.col("char") == char)
            shown = tuple(f"{k} ({m}, {w})" for k, m, w in mine.select("kana", "mode", "weight").iter_rows())
        entries.append(ReviewEntry(
            code=code, count=sum(o.count for o in occurrences), where=occurrences, has_glyph=ok,
            image=image, strokes_estimate=estimate, candidates=tuple(cands), contexts=shown,
        ))
    return entries


# ---------------------------------------------------------------------------------------
# output


def _write_text(path: Path, text: str, *, bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text, encoding="utf-8-sig" if bom else "utf-8")


def render_template(result: ReviewResult) -> str:
    """The decisions CSV template: one row per character, ``mj`` / ``text`` to fill in."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(DECISION_COLUMNS)
    for e in result.entries:
        writer.writerow([
            result.source, e.code, "", "", "", "", e.count,
            " ".join(f"{c.mj}:{c.score:.3f}" for c in e.candidates),
        ])
    return buffer.getvalue()


def render_sheet(result: ReviewResult, lang: Lang | None = None) -> str:
    """The review sheet as one self-contained HTML page (deterministic), rendered from
    ``mig/html/templates/gaiji_review.html.j2`` in ``lang`` (default: the current language;
    headings carry the other language too)."""
    lang = lang or current_lang()
    return render(
        "gaiji_review.html.j2", result=result, codepoints=codepoints, lang=lang,
        L=labels("gaiji", lang, "sheet-"),
        T={key: message(f"gaiji.sheet-{key}", lang=lang) for key in labels("gaiji", lang, "sheet-")},
    )


# ---------------------------------------------------------------------------------------
# decide


@dataclass(frozen=True)
class DecideResult:
    """What :func:`apply_decisions` did."""

    registry: Path
    added: int
    unchanged: int
    skipped: int
    entries: int
    codes: tuple[str, ...]


_CODE_RE = re.compile(r"^(U\+[0-9A-Fa-f]{4,6}|0[xX][0-9A-Fa-f]{2,8})$")


def apply_decisions(
    decisions: Path,
    registry_path: Path,
    *,
    source: str | None = None,
    decided_by: str | None = None,
    now: datetime | None = None,
) -> DecideResult:
    """Apply a decisions CSV (the template of :func:`review_run` or the sheet's export) to
    a registry file, as confirmed entries with provenance.

    Columns: ``code`` and ``mj`` and/or ``text`` (required); ``source``, ``decided_by``,
    ``decided_at``, ``evidence`` (optional; ``source`` / ``decided_by`` default to the
    arguments, ``decided_at`` to now, UTC); other columns are ignored. Rows with neither
    ``mj`` nor ``text`` are skipped (undecided). A decision that contradicts a confirmed
    registry entry — or another row — raises a :class:`~mig.errors.ConfigError` naming
    both; nothing is written then. The registry is written atomically.
    """
    from mig.gaiji.registry import Registry, load_registry, make_entry, write_registry

    decisions, registry_path = Path(decisions), Path(registry_path)
    if decisions.exists() and not decisions.is_file():
        raise InputError(str(decisions), "not a regular file")
    try:
        text = decisions.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise InputError(str(decisions), f"cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise InputError(str(decisions), "decisions file is not UTF-8", offset=exc.start) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
        if "code" not in header or not ({"mj", "text"} & set(header)):
            raise InputError(str(decisions), "decisions CSV needs a code column and an mj or text column")
        reader.fieldnames = header
        rows = list(reader)
    except csv.Error:
        raise InputError(
            str(decisions), "not a decisions CSV (a field over the size limit or a stray quote)", line=reader.reader.line_num
        ) from None
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    registry = load_registry(registry_path) if registry_path.exists() else Registry()
    added = unchanged = skipped = 0
    codes: list[str] = []
    for line, row in enumerate(rows, start=2):
        values = {k: (v or "").strip() for k, v in row.items() if k is not None}
        mj_name, text_value = values.get("mj", ""), values.get("text", "")
        if not mj_name and not text_value:
            skipped += 1
            continue
        where = f"{decisions.name}:{line}"
        code = values.get("code", "")
        if not _CODE_RE.match(code):
            raise InputError(str(decisions), f"malformed code {shown(code)} (expected U+E000 or 0x80A1)", line=line)
        row_source = values.get("source") or source
        if not row_source:
            raise ConfigError(f"{where}: no source (give the source column or --source)")
        who = values.get("decided_by") or decided_by
        if not who:
            raise ConfigError(f"{where}: no decided_by (fill the column or give --by)")
        entry = make_entry(
            source=row_source, code=code, mj=mj_name or None, text=text_value or None, status="confirmed",
            decided_by=who, decided_at=values.get("decided_at") or stamp,
            evidence=values.get("evidence") or "mig gaiji decide", origin=where,
        )
        existing = registry.confirmed(entry.source, entry.code)
        registry = registry.add(entry)
        if existing is not None and existing.text == entry.text:
            unchanged += 1
        else:
            added += 1
            codes.append(entry.code)
    if added:
        write_registry(registry, registry_path)
    return DecideResult(
        registry=registry_path, added=added, unchanged=unchanged, skipped=skipped,
        entries=len(registry.entries), codes=tuple(codes),
    )
