"""The XML adapter: records and their exact bytes, encodings, 外字, and hostile documents."""

from __future__ import annotations

import codecs
import tracemalloc
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.cli import main
from mig.errors import ConfigError, ExitCode, InputError, UnknownNameError
from mig.plugin import RECORD_SCHEMA, SourceBatch
from mig.registry import get_adapter

NS = {"j": "urn:example:juki", "a": "urn:example:addr"}
OPTIONS: dict[str, object] = {
    "record": "/j:移行データ/j:世帯一覧/j:世帯",
    "namespaces": NS,
    "columns": {"NO": "@番号", "NAME": "j:世帯主/j:氏名", "ADDR": "a:住所", "YMD": "j:日付[@種別='世帯']"},
}
# Characters CP932, Shift_JIS, EUC-JP and UTF-8 all hold, with XML's own specials and CP932's
# troublesome trail bytes (表 ソ 能 end in 0x5C / 0x5D-range bytes).
TEXT = "あいうアイウｱｲｳ山田太郎ー　ABCabc0123<>&\"']]表ソ能"



# The required items a test mapping does not read from the file, as constants: a mapping
# that leaves a required item unmapped is refused before any row is read.
SETAI_REQUIRED = (
    '"団体コード" = { const = "131016" }\n"世帯主氏名" = { const = "山田　太郎" }\n"住所" = { const = "東京都" }\n'
    '"世帯となった年月日" = { const = "20200401" }\n"異動事由" = { const = "01" }\n'
)
IDO_REQUIRED = (
    '"団体コード" = { const = "131016" }\n"異動連番" = { const = "1" }\n"異動事由" = { const = "01" }\n'
    '"異動年月日" = { const = "20200401" }\n'
)

def document(records: list[tuple[str, str, str, str]], encoding: str = "utf-8", *, extras: bool = False) -> str:
    """A namespaced export of (no, name, addr, ymd) records, with distractors around them."""
    out = [f'<?xml version="1.0" encoding="{encoding}"?>\n',
           '<j:移行データ xmlns:j="urn:example:juki" xmlns:a="urn:example:addr">\n',
           "<!-- 出力: <j:世帯> は世帯ごと -->\n<j:見出し><j:世帯>見出しの世帯は対象外</j:世帯></j:見出し>\n",
           "<j:世帯一覧>\n"]
    for i, (no, name, addr, ymd) in enumerate(records):
        name_xml = f"<![CDATA[{name.replace(']]>', ']]]]><![CDATA[>')}]]>" if extras and i % 3 == 0 else escape(name)
        out.append(
            f"  <j:世帯 番号={quoteattr(no)}>\n    <j:世帯主><j:氏名>{name_xml}</j:氏名></j:世帯主>\n"
            f"    <a:住所>{escape(addr)}</a:住所><j:日付 種別='住民'>0</j:日付><j:日付 種別=\"世帯\">{escape(ymd)}</j:日付>\n"
            + ("    <?pi <j:世帯> ?><!-- </j:世帯> -->\n" if extras and i % 2 else "")
            + "  </j:世帯>\n"
        )
        if extras and i % 4 == 1:
            out.append('  <x:世帯 xmlns:x="urn:other"><x:not/></x:世帯>\n')  # another namespace: not a record
    out.append("</j:世帯一覧>\n</j:移行データ>\n")
    return "".join(out)


def read(path: Path, options: dict[str, object] = OPTIONS, batch_bytes: int = 1 << 20) -> list[SourceBatch]:
    reader = get_adapter("xml").open(path, options, batch_bytes=batch_bytes)
    return list(reader.batches())


def rows_of(batches: list[SourceBatch]) -> list[tuple[str, ...]]:
    frames = [b.data.drop("row") for b in batches if b.data.height]
    return [tuple(r) for r in pl.concat(frames).iter_rows()] if frames else []


def records_of(batches: list[SourceBatch]) -> pl.DataFrame:
    return pl.concat([pl.DataFrame(schema=RECORD_SCHEMA)] + [b.records for b in batches])


values = st.text(alphabet=st.sampled_from(TEXT), max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(st.tuples(values, values, values, values), min_size=1, max_size=12),
    encoding=st.sampled_from(["utf-8", "cp932", "euc-jp", "shift_jis"]),
    batch_bytes=st.integers(min_value=1, max_value=400),
)
def test_records_values_and_exact_spans(tmp_path: Path, records: list[tuple[str, ...]], encoding: str, batch_bytes: int) -> None:
    data = document(records, encoding, extras=True).encode(encoding)  # type: ignore[arg-type]
    path = tmp_path / "x.xml"
    path.write_bytes(data)
    batches = read(path, batch_bytes=batch_bytes)
    assert rows_of(batches) == [tuple(r) for r in records]
    meta = records_of(batches)
    assert meta["row"].to_list() == list(range(1, len(records) + 1))  # one record per element, in order
    assert all(b.rejects.height == 0 for b in batches)
    for offset, raw in zip(meta["offset"], meta["raw"], strict=True):
        assert data[offset: offset + len(raw)] == raw  # the record's exact source span
        assert raw.startswith("<j:世帯 ".encode(encoding)) and raw.endswith("</j:世帯>".encode(encoding))
    lines = data.split(b"\n")
    for line, raw in zip(meta["line"], meta["raw"], strict=True):
        assert lines[line - 1].lstrip().startswith(raw.split(b"\n")[0])


def test_utf16_and_bom(tmp_path: Path) -> None:
    records = [("1", "山田", "東京都", "20240101"), ("2", "髙橋", "", "")]
    for encoding, prefix in (("utf-16", b""), ("utf-8", codecs.BOM_UTF8)):
        path = tmp_path / f"{encoding}.xml"
        path.write_bytes(prefix + document(records, encoding).encode(encoding))
        assert rows_of(read(path, batch_bytes=7)) == records


def test_absent_elements_are_empty_and_positions_address_repeats(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_text(
        '<r xmlns="urn:d"><i k="1"><h><d>a</d></h><h><d>b</d></h></i><i/></r>', encoding="utf-8"
    )
    options = {"record": "/d:r/d:i", "namespaces": {"d": "urn:d"},
               "columns": {"K": "@k", "H2": "d:h[2]/d:d", "N": "count(d:h)", "X": "d:missing"}}
    assert rows_of(read(path, options)) == [("1", "b", "2", ""), ("", "", "0", "")]


def test_cp932_user_defined_area_is_private_use(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    body = '<?xml version="1.0" encoding="Windows-31J"?><r><i n="'.encode("cp932") + b"\xf0\x40" + b'"/></r>'
    path.write_bytes(body)
    batches = read(path, {"record": "/r/i", "columns": {"N": "@n"}})
    assert rows_of(batches) == [("\ue000",)]  # as the CSV adapter decodes it


def test_wrong_or_missing_encoding(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_bytes(document([("1", "山田", "東京", "")], "utf-8").encode("cp932"))  # declares UTF-8
    with pytest.raises(InputError, match=r"\(line 2, byte 42\): bytes 88 are not valid utf-8 — wrong or missing encoding.*"):
        read(path)
    assert rows_of(read(path, {**OPTIONS, "encoding": "cp932"})) == [("1", "山田", "東京", "")]
    path.write_bytes(document([], "x-unknown").encode())
    with pytest.raises(InputError, match="declares encoding 'x-unknown'"):
        read(path)
    with pytest.raises(UnknownNameError):
        read(path, {**OPTIONS, "encoding": "ebcdic"})


def test_malformed_mid_file_fails_with_its_line(tmp_path: Path) -> None:
    text = document([(str(i), "山田", "東京", "") for i in range(50)])
    cut = text.index('<j:世帯 番号="30"')
    broken = text[:cut] + text[cut:].replace("東京</a:住所>", "東京", 1)  # an unclosed tag in record 30
    path = tmp_path / "x.xml"
    path.write_text(broken, encoding="utf-8")
    end_of_record_30 = broken[:broken.index("</j:世帯>", cut)].count("\n") + 1
    with pytest.raises(InputError, match=rf"\(line {end_of_record_30}\): malformed XML: tag name mismatch"):
        read(path, batch_bytes=64)


def test_record_path_matching_nothing_lists_paths_seen(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_text(document([("1", "a", "b", "c")]), encoding="utf-8")
    with pytest.raises(ConfigError, match="selects no element; element paths seen: /j:移行データ, /j:移行データ/j:見出し") as info:
        read(path, {**OPTIONS, "record": "/j:移行データ/j:世帯"})
    assert "/j:移行データ/j:世帯一覧/j:世帯/j:世帯主/j:氏名" in str(info.value)


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"columns": {"NAME": "j:世帯主/["}}, "column NAME: not a valid XPath"),
        ({"columns": {"NAME": "q:x"}}, "column NAME: not a valid XPath"),
        ({"record": "//j:世帯"}, "absolute path of element names"),
        ({"record": "/j:a[1]"}, "absolute path of element names"),
        ({"record": "/z:a"}, "prefix z: is not in namespaces"),
        ({"max_depth": "deep"}, "max_depth: expected a positive integer"),
        ({"namespaces": {"": "urn:d"}}, "'' is not a usable prefix"),
        ({"namespaces": {"j:k": "urn:d"}}, "'j:k' is not a usable prefix"),
        ({"unknown": 1}, "unknown option"),
    ],
)
def test_option_mistakes_are_config_errors(tmp_path: Path, options: dict[str, object], pattern: str) -> None:
    path = tmp_path / "x.xml"
    path.write_text(document([("1", "a", "b", "c")]), encoding="utf-8")
    with pytest.raises(ConfigError, match=pattern):
        read(path, {**OPTIONS, **options})


# -- hostile documents ---------------------------------------------------------------------


def hostile(tmp_path: Path, doctype: str, body: str) -> Path:
    path = tmp_path / "hostile.xml"
    path.write_text(f'<?xml version="1.0"?>\n{doctype}\n<r><i n="{body}">{body}</i></r>\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("doctype", "body"),
    [
        ('<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"),
        ('<!DOCTYPE r [<!ENTITY x SYSTEM "SECRET">]>', "&x;"),
        ('<!DOCTYPE r SYSTEM "SECRET">', "&x;"),
        ('<!DOCTYPE r [<!ENTITY % p SYSTEM "SECRET"> %p;]>', "x"),
        ("<!DOCTYPE r [" + "".join(
            f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10)) if i else "lol"}">' for i in range(10)
        ) + "]>", "&l9;"),
    ],
    ids=["xxe-passwd", "xxe-secret", "external-dtd", "parameter-entity", "billion-laughs"],
)
def test_entities_and_dtds_are_refused_never_read(tmp_path: Path, doctype: str, body: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE", encoding="utf-8")
    path = hostile(tmp_path, doctype.replace("SECRET", secret.as_uri()), body)
    with pytest.raises(InputError, match="declares a DTD .* refused — mig never loads DTDs or expands entities"):
        read(path, {"record": "/r/i", "columns": {"N": "@n", "T": "."}})
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'adapter = "xml"\n[source]\nrecord = "/r/i"\ncolumns = { N = "@n" }\n'
        '[[files]]\nlayout = "juki-ido"\ninputs = ["*.xml"]\n[files.items]\n"宛名番号" = { column = "N" }\n'
        + IDO_REQUIRED,
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["extract", "-m", str(mapping), str(path), "--out", str(tmp_path / "run")])
    assert result.exit_code == ExitCode.UNREADABLE_INPUT
    assert "refused" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
    assert "TOP-SECRET" not in result.output and "root:" not in result.output


def test_plain_doctype_is_accepted(tmp_path: Path) -> None:
    path = hostile(tmp_path, "<!DOCTYPE r>", "1")
    assert rows_of(read(path, {"record": "/r/i", "columns": {"N": "@n"}})) == [("1",)]


def test_deep_nesting_is_refused_early(tmp_path: Path) -> None:
    path = tmp_path / "deep.xml"
    depth = 100_000
    path.write_bytes(b"<r>" + b"<d>" * depth + b"</d>" * depth + b"</r>")
    with pytest.raises(InputError, match=r"nest deeper than 100 \(max_depth\)"):
        read(path, {"record": "/r/d", "columns": {"N": "@n"}}, batch_bytes=4096)
    with pytest.raises(InputError, match=r"nest deeper than 5"):
        read(path, {"record": "/r/d", "columns": {"N": "@n"}, "max_depth": 5}, batch_bytes=1 << 20)


@pytest.mark.parametrize("inside", [True, False], ids=["in-a-record", "between-records"])
def test_huge_text_node_stops_at_the_limit_with_bounded_memory(tmp_path: Path, inside: bool) -> None:
    path = tmp_path / "huge.xml"
    size = 50 * 1024 * 1024
    with path.open("wb") as fh:
        fh.write(b"<r><i n='1'/>" + (b"<i>" if inside else b"<h>"))
        fh.write(b"a" * size)
        fh.write(b"</i></r>" if inside else b"</h></r>")
    options = {"record": "/r/i", "columns": {"N": "@n"}, "max_record_bytes": 4 * 1024 * 1024}
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"\(line 1, byte 13\): a record or text runs over 4194304 bytes \(max_record_bytes\)"):
            read(path, options, batch_bytes=1 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 24 * 1024 * 1024  # a few windows of the limit, not the 50 MB node


def test_one_record_per_repeated_child_keyed_to_its_parent(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    people = "".join(
        f'<j:住民 宛名番号="{p}"><j:氏名>n{p}</j:氏名>'
        + "".join(f'<j:履歴 連番="{k}"><j:日付>2024010{k}</j:日付></j:履歴>' for k in range(1, p % 3 + 2))
        + "</j:住民>\n"
        for p in range(1, 30)
    )
    path.write_text(f'<j:r xmlns:j="urn:j"><j:住民一覧>\n{people}</j:住民一覧></j:r>', encoding="utf-8")
    options = {"record": "/j:r/j:住民一覧/j:住民/j:履歴", "namespaces": {"j": "urn:j"},
               "columns": {"KOJIN": "../@宛名番号", "SEQ": "@連番", "YMD": "j:日付"}}
    expected = [(str(p), str(k), f"2024010{k}") for p in range(1, 30) for k in range(1, p % 3 + 2)]
    for batch_bytes in (50, 1 << 20):
        assert rows_of(read(path, options, batch_bytes=batch_bytes)) == expected


def test_mig_preview_shows_the_first_records_with_their_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_bytes(document([("1", "山田", "東京", "20240101"), ("2", "佐藤", "", "")], "shift_jis").encode("shift_jis"))
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'adapter = "xml"\n[source]\nrecord = "/j:移行データ/j:世帯一覧/j:世帯"\n'
        'namespaces = { j = "urn:example:juki", a = "urn:example:addr" }\n'
        "columns = { NO = \"@番号\", NAME = \"j:世帯主/j:氏名\" }\n"
        '[[files]]\nlayout = "juki-setai"\ninputs = ["*.xml"]\n[files.items]\n"世帯番号" = { column = "NO" }\n'
        + SETAI_REQUIRED,
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["preview", "-m", str(mapping), str(path), "-n", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("adapter xml, charset shift_jis")
    assert lines[1].startswith("record 6  offset ")
    assert [line.split() for line in lines[2:]] == [["NO", '"1"'], ["NAME", '"山田"']]


def test_values_holding_the_batch_separators_are_read_the_slow_way(tmp_path: Path) -> None:
    records = [("1", "a\ufdd0b", "\ufdd1", "x"), ("2", "山田", "東京", "y")]
    path = tmp_path / "x.xml"
    path.write_text(document(records), encoding="utf-8")
    assert rows_of(read(path)) == records  # not split at the separators inside the values
    path.write_text(document(records[1:]), encoding="utf-8")
    assert rows_of(read(path)) == records[1:]


def test_column_xpaths_cannot_reach_outside_the_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text("<s>TOP-SECRET-VALUE</s>", encoding="utf-8")
    path = tmp_path / "x.xml"
    path.write_text(document([("1", "a", "b", "c")]), encoding="utf-8")
    with pytest.raises(ConfigError, match="column NAME: not a valid XPath"):
        read(path, {**OPTIONS, "columns": {"NAME": f"document('{secret.as_uri()}')"}})


def test_malformed_mid_file_leaves_no_run_directory(tmp_path: Path) -> None:
    records = [(f"{i:06d}", "山田", "東京", "") for i in range(30_000)]  # a few MiB: several batches
    text = document(records)
    cut = text.index('<j:世帯 番号="029000"')
    path = tmp_path / "x.xml"
    path.write_text(text[:cut] + text[cut:].replace("東京</a:住所>", "東京", 1), encoding="utf-8")
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'adapter = "xml"\n[source]\nrecord = "/j:移行データ/j:世帯一覧/j:世帯"\n'
        'namespaces = { j = "urn:example:juki", a = "urn:example:addr" }\ncolumns = { NO = "@番号" }\n'
        '[[files]]\nlayout = "juki-setai"\ninputs = ["*.xml"]\n[files.items]\n"世帯番号" = { column = "NO" }\n'
        + SETAI_REQUIRED,
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["extract", "-m", str(mapping), str(path), "--out", str(tmp_path / "run"), "--batch-mb", "1"])
    assert result.exit_code == ExitCode.UNREADABLE_INPUT
    line = text[:cut].count("\n") + 1
    assert f"x.xml (line {line + 3}): malformed XML: tag name mismatch" in result.output
    assert not (tmp_path / "run").exists()  # the records before the error are not kept


def resident_kib_per_batch(path: Path, batch_bytes: int) -> tuple[int, list[int]]:
    """(records read, resident KiB after each batch) of a fresh process reading ``path``."""
    import subprocess
    import sys

    code = (
        "import re, sys\nfrom pathlib import Path\nfrom mig.registry import get_adapter\n"
        "opts = {'record': '/r/l/i', 'columns': {'N': '@n', 'A': 'a', 'B': 'b/c'}}\n"
        f"reader = get_adapter('xml').open(Path(sys.argv[1]), opts, batch_bytes={batch_bytes})\n"
        "n, marks = 0, []\n"
        "for batch in reader.batches():\n"
        "    n += batch.data.height\n"
        "    marks.append(re.search(r'VmRSS:\\s+(\\d+)', Path('/proc/self/status').read_text()).group(1))\n"
        "print(n, *marks)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True).stdout
    rows, *marks = out.split()
    return int(rows), [int(m) for m in marks]


def test_memory_is_bounded_by_the_batch_not_the_file(tmp_path: Path) -> None:
    record = '<i n="1"><a>山田　太郎</a><b><c>東京都千代田区</c></b></i>\n'.encode()
    count = 400_000  # about 26 MB, read in 1 MiB batches
    path = tmp_path / "large.xml"
    path.write_bytes(b"<r><l>\n" + record * count + b"</l></r>\n")
    rows, marks = resident_kib_per_batch(path, 1 << 20)
    assert rows == count and len(marks) > 20
    # Kept elements would add several times the 21 MB read after the fifth batch.
    assert max(marks[5:]) - marks[5] < 12 * 1024


def test_xml_adapter_passes_the_conformance_kit(tmp_path: Path) -> None:
    """`mig adapters check xml` on test data: every check of the kit, the run-time plugin
    contract on every batch included, passes (issue 14's must-show)."""
    from mig.registry import get_adapter
    from mig.testing import check_adapter

    sample = tmp_path / "juki.xml"
    sample.write_text(
        document([(f"{n:015d}", TEXT, "19800101", "1") for n in range(1, 120)], extras=True),
        encoding="utf-8",
    )
    results = check_adapter(get_adapter("xml"), [sample], OPTIONS)
    assert [(r.check, r.problems) for r in results if not r.ok] == []
    assert {r.check for r in results} >= {"conservation", "record-bytes", "batch-sizes", "hostile-inputs", "memory"}
    # one document per file: the kit cannot repeat the sample, and says so (memory is bounded
    # by test_huge_text_node_stops_at_the_limit_with_bounded_memory and the streaming test)
    notes = [n for r in results if r.check == "memory" for n in r.notes]
    assert any("memory not measured" in n for n in notes), notes


def test_mig_adapters_check_xml_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mig.cli import main

    sample = tmp_path / "juki.xml"
    sample.write_text(document([(f"{n:015d}", TEXT, "19800101", "1") for n in range(1, 40)]), encoding="utf-8")
    columns = ", ".join(f'{k} = "{v}"' for k, v in OPTIONS["columns"].items())  # type: ignore[attr-defined]
    result = CliRunner().invoke(main, [
        "adapters", "check", "xml", str(sample),
        "--option", f"record={OPTIONS['record']}",
        "--option", 'namespaces={j = "urn:example:juki", a = "urn:example:addr"}',
        "--option", f"columns={{{columns}}}",
    ])
    assert result.exit_code == 0, result.output
    assert "all 7 checks passed" in result.output
