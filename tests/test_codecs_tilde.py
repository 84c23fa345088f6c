"""The 〜 family (mig.codecs.tilde): decoded exactly as the named encoding does, then
normalised per mapping (``[source] normalise``), every replacement counted in the report."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mig.codecs.tilde import PAIRS, normalise_frame
from mig.errors import ConfigError
from mig.extract.run import extract

#: the same bytes for every encoding: 0x8160 〜, 0x817C −, 0x8161 ‖ (decoded differently by CP932 and Shift_JIS)
NAMES = [b"\x8eR\x93c\x81\x60\x89\xd4\x8eq", b"\x97\xe9\x96\xd8\x81\x7c\x88\xea\x98Y", b"\x8d\xb2\x93\xa1\x81\x61", b"\x93c\x92\x86"]


def _run(tmp_path: Path, encoding: str, normalise: str | None, name: str = "run") -> tuple[list[str], dict[str, int]]:
    path = tmp_path / "JUMIN.csv"
    path.write_bytes(b"KOJIN_NO,SHIMEI\r\n" + b"".join(b"%d,%s\r\n" % (i, n) for i, n in enumerate(NAMES, 1)))
    option = f'normalise = "{normalise}"\n' if normalise else ""
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        f'adapter = "csv"\n[severity]\n"required-missing" = "warning"\n[source]\nencoding = "{encoding}"\n{option}[[files]]\nlayout = "juki-jumin"\ninputs = ["JUMIN*.csv"]\n'
        '[files.items]\n"宛名番号" = { column = "KOJIN_NO" }\n"氏名" = { column = "SHIMEI" }\n', encoding="utf-8")
    result = extract(mapping, [path], tmp_path / name)
    totals = result.manifest["totals"]
    assert totals["rows_in"] == totals["rows_out"] + totals["rows_rejected"] == len(NAMES)
    names = pl.read_parquet(tmp_path / name / "data" / "juki-jumin.parquet")["氏名"].to_list()
    report = json.loads((tmp_path / name / "report.json").read_text(encoding="utf-8"))
    return names, report["files"][0]["normalised"]


def test_each_encoding_decodes_its_own_way_without_normalisation(tmp_path: Path) -> None:
    cp932, counts = _run(tmp_path, "cp932", None, "a")
    sjis, _ = _run(tmp_path, "shift_jis", None, "b")
    assert cp932[0] == "山田\uff5e花子" and sjis[0] == "山田\u301c花子"
    assert cp932[1] == "鈴木\uff0d一郎" and cp932[2] == "佐藤\u2225" and sjis[2] == "佐藤\u2016"
    assert counts == {}


def test_normalise_jis_and_cp932_make_one_code_point_and_count_it(tmp_path: Path) -> None:
    to_jis, counts = _run(tmp_path, "cp932", "jis", "a")
    assert to_jis == ["山田\u301c花子", "鈴木\u2212一郎", "佐藤\u2016", "田中"]
    assert counts == {"U+FF5E→U+301C": 1, "U+FF0D→U+2212": 1, "U+2225→U+2016": 1}
    to_cp932, counts = _run(tmp_path, "shift_jis", "cp932", "b")
    assert to_cp932 == ["山田\uff5e花子", "鈴木\uff0d一郎", "佐藤\u2225", "田中"]
    assert counts == {"U+301C→U+FF5E": 1, "U+2212→U+FF0D": 1, "U+2016→U+2225": 1}
    for name in to_cp932:  # a CP932 target holds every one of them: nothing becomes '?'
        assert name.encode("cp932").decode("cp932") == name


def test_an_unknown_normalise_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="normalise must be one of jis, cp932, none"):
        _run(tmp_path, "cp932", "unicode")
    assert not (tmp_path / "run").exists()


_FAMILY = [c for pair in PAIRS for c in pair]


@given(st.lists(st.sampled_from([*_FAMILY, "a", "山", "～"]), max_size=30).map("".join))
def test_normalising_twice_changes_nothing_more_and_the_counts_add_up(text: str) -> None:
    frame = pl.DataFrame({"row": [1], "a": [text]})
    for target, side in (("jis", 0), ("cp932", 1)):
        once, counts = normalise_frame(frame, target)  # type: ignore[arg-type]
        value = once["a"].item()
        assert not any(pair[1 - side] in value for pair in PAIRS)
        assert len(value) == len(text) and sum(counts.values()) == sum(a != b for a, b in zip(text, value, strict=True))
        again, more = normalise_frame(once, target)  # type: ignore[arg-type]
        assert again.equals(once) and more == {}
