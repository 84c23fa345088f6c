"""Binary COPY (:mod:`mig.load.pgbinary`): the bytes decode to the batch, and the server
stores from them exactly what it stores from the CSV form of the same rows.

The decoder here follows PostgreSQL's documented binary format (``int16`` field count,
``int32`` length or -1, ``numeric`` as base-10000 groups, ``date`` as days from
2000-01-01), independently of the encoder; a real server compares the two COPY forms.
"""

from __future__ import annotations

import datetime as dt
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_load import JUMIN_ITEMS, jumin_rows, make_run

from mig.load import load_run
from mig.load.ddl import Column
from mig.load.pgbinary import HEADER, TRAILER, NotBinary, binary_copy_supported, binary_for_copy
from mig.load.postgresql import csv_for_copy

POSTGRES_EPOCH = dt.date(2000, 1, 1)


def decode(data: bytes, kinds: list[str]) -> list[tuple[Any, ...]]:
    """Rows of a binary COPY body (no header / trailer) — a plain reference reader."""
    rows = []
    at = 0
    while at < len(data):
        (count,) = struct.unpack_from(">h", data, at)
        at += 2
        assert count == len(kinds)
        row: list[Any] = []
        for kind in kinds:
            (length,) = struct.unpack_from(">i", data, at)
            at += 4
            if length == -1:
                row.append(None)
                continue
            field = data[at : at + length]
            at += length
            if kind == "text":
                row.append(field.decode("utf-8"))
            elif kind == "date":
                (days,) = struct.unpack(">i", field)
                row.append(POSTGRES_EPOCH + dt.timedelta(days=days))
            else:
                ndigits, weight, sign, dscale = struct.unpack_from(">hhHH", field)
                groups = struct.unpack_from(f">{ndigits}h", field, 8)
                assert all(0 <= g < 10_000 for g in groups) and sign in (0, 0x4000)
                value = sum(Decimal(g) * Decimal(10_000) ** (weight - i) for i, g in enumerate(groups))
                row.append((-value if sign else value).quantize(Decimal(1).scaleb(-dscale)))
        rows.append(tuple(row))
    return rows


def _column(name: str, kind: str, length: int = 10, scale: int = 0) -> Column:
    sql = {"text": "text", "varchar": f"varchar({length})", "date": "date"}.get(kind, f"numeric({length},{scale})")
    data_type = {"text": "全角文字", "varchar": "半角文字", "date": "日付"}.get(kind, "数値")
    return Column(name, data_type, length, scale, sql, False, 0)


texts = st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cs",)), max_size=12))
dates = st.one_of(st.none(), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)))


@st.composite
def numerics(draw: st.DrawFn) -> tuple[int, int, list[Decimal | None]]:
    precision = draw(st.integers(1, 18))
    scale = draw(st.integers(0, precision))
    bound = 10**precision - 1
    values = draw(st.lists(st.one_of(st.none(), st.integers(-bound, bound)), min_size=1, max_size=30))
    return precision, scale, [None if v is None else Decimal(v).scaleb(-scale) for v in values]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(numerics(), st.data())
def test_binary_rows_decode_back_to_the_batch(numeric: tuple[int, int, list[Decimal | None]], data: st.DataObject) -> None:
    precision, scale, amounts = numeric
    count = len(amounts)
    names = data.draw(st.lists(texts, min_size=count, max_size=count))
    days = data.draw(st.lists(dates, min_size=count, max_size=count))
    # codes of one byte length (the fixed-width path), NULLs among them or not
    width = data.draw(st.integers(0, 6))
    code = st.text("0123456789AZｱ", min_size=width, max_size=width).filter(lambda c: len(c.encode()) == width)
    codes = data.draw(st.lists(st.one_of(st.none(), code) if data.draw(st.booleans()) else code, min_size=count, max_size=count))
    batch = pa.record_batch(
        {
            "n": pa.array(amounts, pa.decimal128(precision, scale)),
            "s": pa.array(names, pa.large_string()),
            "d": pa.array([None if d is None else d.strftime("%Y%m%d").zfill(8) for d in days], pa.large_string()),
            "c": pa.array(codes, pa.string()),
        }
    )
    columns = [_column("n", "numeric", precision, scale), _column("s", "text"), _column("d", "date"), _column("c", "varchar", 6)]
    # 64-bit arithmetic: the digits scaled to whole base-10000 groups must stay below 10**19
    assert binary_copy_supported(columns, batch.schema) == (precision + (-scale % 4) <= 19)
    if not binary_copy_supported(columns, batch.schema):
        return
    kinds = ["numeric", "text", "date", "text"]
    got = decode(binary_for_copy(batch, columns).to_pybytes(), kinds)
    assert got == list(zip(amounts, names, days, codes, strict=True))
    # a slice of a batch (an Arrow offset) encodes its own rows only
    half = batch.slice(count // 2)
    assert decode(binary_for_copy(half, columns).to_pybytes(), kinds) == got[count // 2 :]


@pytest.mark.parametrize("value", ["2024-01-01", "20240230", "00000101", "2024010", "202401011", "２０２４０１０１", "2024 101", "19800100"])
def test_a_date_without_a_binary_form_is_named_by_column_never_by_value(value: str) -> None:
    batch = pa.record_batch({"d": pa.array(["20240101", value, None], pa.large_string())})
    with pytest.raises(NotBinary) as caught:
        binary_for_copy(batch, [_column("生年月日", "date")])
    assert "生年月日" in str(caught.value) and value not in str(caught.value)


def test_tables_without_a_binary_form_stay_csv() -> None:
    wide = _column("n", "numeric", 30, 2)  # more digits than 64-bit integers hold
    assert not binary_copy_supported([wide], pa.schema([("n", pa.decimal128(30, 2))]))
    assert not binary_copy_supported([_column("n", "numeric", 12, 2)], pa.schema([("n", pa.decimal128(12, 3))]))
    assert not binary_copy_supported([_column("n", "numeric", 12, 0)], pa.schema([("n", pa.uint64())]))
    assert binary_copy_supported([_column("n", "numeric", 12, 0)], pa.schema([("n", pa.int64())]))
    assert binary_copy_supported([_column("s", "varchar", 3)], pa.schema([("s", pa.string_view())]))


EDGE_ROWS: dict[str, list[Any]] = {
    "n0": [Decimal(0), Decimal(-1), Decimal(999_999_999_999_999_999), Decimal(-999_999_999_999_999_999), Decimal(10_000), None, Decimal(1)],
    "n4": [Decimal("0.0001"), Decimal("-12345678901234.5678"), Decimal("0.0000"), Decimal("10000.0000"), Decimal("-0.5"), None, Decimal("1.1")],
    "n5": [Decimal("0.00001"), Decimal("-12345678901.23456"), Decimal("99999.00000"), None, Decimal("1.10000"), Decimal(0), Decimal("-0.00010")],
    "n3": [Decimal("0.001"), Decimal("-999.999"), None, Decimal("12.500"), Decimal(0), Decimal("100.000"), Decimal("-0.010")],
    "i": [0, -1, 2**62, -(2**63), None, 10_000, 9_999],
    "d": ["00010101", "19000228", "20000229", "99991231", None, "20000101", "19891231"],
    "s": ["", None, 'a "quoted", comma\nline\r\n', "\\.", "葛\U000e0100飾", "\t\\N", "NULL"],
    "v": ["abc", "", None, "ｱｲｳ", "x" * 10, "0012", " "],
}


def test_binary_and_csv_copy_store_the_same_values(pg_url: str) -> None:
    """Edge values through both COPY forms into tables of the same DDL: the server holds
    the same values (text form, numeric scale, NULL and '' apart)."""
    batch = pa.record_batch(
        {
            "n0": pa.array(EDGE_ROWS["n0"], pa.decimal128(18, 0)),
            "n4": pa.array(EDGE_ROWS["n4"], pa.decimal128(18, 4)),
            "n5": pa.array(EDGE_ROWS["n5"], pa.decimal128(16, 5)),
            "n3": pa.array(EDGE_ROWS["n3"], pa.decimal128(6, 3)),
            "i": pa.array(EDGE_ROWS["i"], pa.int64()),
            "d": pa.array(EDGE_ROWS["d"], pa.large_string()),
            "s": pa.array(EDGE_ROWS["s"], pa.large_string()),
            "v": pa.array(EDGE_ROWS["v"], pa.string()),
        }
    )
    columns = [
        _column("n0", "numeric", 18, 0), _column("n4", "numeric", 18, 4), _column("n5", "numeric", 16, 5),
        _column("n3", "numeric", 6, 3), _column("i", "numeric", 19, 0), _column("d", "date"),
        _column("s", "text"), _column("v", "varchar", 10),
    ]
    assert binary_copy_supported(columns, batch.schema)
    body = ", ".join(f"{c.name} {c.sql_type}" for c in columns)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SET DateStyle = ISO, YMD")
        for table in ("by_csv", "by_binary"):
            conn.execute(f"CREATE TABLE {table} (row serial, {body})")
        names = ", ".join(c.name for c in columns)
        with conn.cursor() as cursor:
            with cursor.copy(f"COPY by_csv ({names}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(csv_for_copy(batch).to_pybytes())
            with cursor.copy(f"COPY by_binary ({names}) FROM STDIN (FORMAT binary)") as copy:
                copy.write(HEADER + binary_for_copy(batch, columns).to_pybytes() + TRAILER)
        as_text = ", ".join(f"{c.name}::text, {c.name} IS NULL" for c in columns)
        by_csv = conn.execute(f"SELECT {as_text} FROM by_csv ORDER BY row").fetchall()
        by_binary = conn.execute(f"SELECT {as_text} FROM by_binary ORDER BY row").fetchall()
    assert len(by_csv) == batch.num_rows and by_binary == by_csv
    assert by_binary[0][0:2] == ("0", False) and by_binary[1][2:4] == ("-12345678901234.5678", False)
    assert by_binary[0][10:12] == ("0001-01-01", False) and by_binary[0][12:14] == ("", False)


def test_a_date_only_the_server_can_read_still_loads_as_it_reads_it(tmp_path: Path, pg_url: str) -> None:
    """A 日付 the binary form cannot carry ('1980-01-02' is no 8-digit date) gives the one
    binary stream up; the table goes in as CSV and the server reads the value as before."""
    rows = jumin_rows(40) | {"生年月日": ["19800102"] * 40}
    rows["生年月日"][37] = "1980-01-02"
    items = [dict(i, unknown="none") if i["name"] == "生年月日" else i for i in JUMIN_ITEMS]
    run = make_run(tmp_path / "run", {"juki-jumin": (items, rows, ["宛名番号"])})
    f = load_run(run, pg_url, batch_rows=16).files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_load_rejected) == (40, 40, 0)
    with psycopg.connect(pg_url) as conn:
        dates = conn.execute('SELECT DISTINCT "生年月日" FROM juki_jumin').fetchall()
    assert dates == [(dt.date(1980, 1, 2),)]


def test_the_stream_is_binary_for_a_table_that_has_the_form_and_csv_otherwise() -> None:
    from mig.load.postgresql import BinaryRows, PostgresTarget

    target = PostgresTarget("postgresql://mig@127.0.0.1:1/none")  # no connection is made
    batch = pa.record_batch({"d": pa.array(["20240101"], pa.large_string())})
    assert isinstance(target.encode_stream(batch, [_column("d", "date")]), BinaryRows)
    wide = pa.record_batch({"n": pa.array([Decimal("1.5")], pa.decimal128(30, 1))})
    assert isinstance(target.encode_stream(wide, [_column("n", "numeric", 30, 1)]), pa.Buffer)
    bad = pa.record_batch({"d": pa.array(["20240230"], pa.large_string())})
    assert isinstance(target.encode_stream(bad, [_column("d", "date")]), NotBinary)


def test_a_date_only_the_server_can_read_in_a_parallel_load_ends_as_in_the_serial_load(
    tmp_path: Path, pg_url: str
) -> None:
    """The part holding it gives its binary COPY up; the table goes the serial way."""
    rows = jumin_rows(120) | {"生年月日": ["19800102"] * 120}
    rows["生年月日"][100] = "1980-01-03"
    items = [dict(i, unknown="none") if i["name"] == "生年月日" else i for i in JUMIN_ITEMS]
    run = make_run(tmp_path / "run", {"juki-jumin": (items, rows, ["宛名番号"])})
    f = load_run(run, pg_url, batch_rows=16, jobs=3, parallel_min_rows=1, part_rows=40).files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_load_rejected) == (120, 120, 0)
    with psycopg.connect(pg_url) as conn:
        dates = conn.execute('SELECT "生年月日", count(*) FROM juki_jumin GROUP BY 1 ORDER BY 1').fetchall()
        staging = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'mig_staging_%'").fetchone()
    assert dates == [(dt.date(1980, 1, 2), 119), (dt.date(1980, 1, 3), 1)] and staging == (0,)


def test_the_next_tables_read_ahead_fails_when_its_turn_comes_and_nothing_stays(
    tmp_path: Path, pg_url: str
) -> None:
    """The next table's first batch is read while the server finishes the one before; the
    ``fail`` 外字 policy refusing a character in it still aborts the whole load, naming
    that table, with nothing committed and no reading thread left behind."""
    import threading

    from test_load import SETAI_ITEMS, setai_rows

    from mig.gaiji.policy import GaijiPolicyError

    rows = jumin_rows(40) | {"生年月日": [None] * 40}
    rows["氏名"][3] = "山田\ue000"  # Private Use: outside JIS X 0213
    run = make_run(
        tmp_path / "run",
        {"juki-setai": (SETAI_ITEMS, setai_rows(30), ["世帯番号"]), "juki-jumin": (JUMIN_ITEMS, rows, ["宛名番号"])},
    )
    with pytest.raises(GaijiPolicyError, match="juki_jumin"):
        load_run(run, pg_url, batch_rows=8, gaiji_policy="fail", jobs=1)
    with psycopg.connect(pg_url) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    assert tables == []
    assert not [t.name for t in threading.enumerate() if t.name.startswith("mig-load-read")]
    rows["氏名"][3] = "山田"
    clean = make_run(
        tmp_path / "clean",
        {"juki-setai": (SETAI_ITEMS, setai_rows(30), ["世帯番号"]), "juki-jumin": (JUMIN_ITEMS, rows, ["宛名番号"])},
    )
    result = load_run(clean, pg_url, batch_rows=8, gaiji_policy="fail", jobs=1)
    assert [(f.table, f.rows_loaded) for f in result.files] == [("juki_setai", 30), ("juki_jumin", 40)]
