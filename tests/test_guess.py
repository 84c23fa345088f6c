"""``mig guess``: a draft mapping from a sample export that ``mig extract`` runs unedited."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mig
from mig.cli import main
from mig.errors import ConfigError, ExitCode, InputError
from mig.extract.mapping import load_mapping
from mig.guess.draft import standard_code
from mig.guess.match import heading_score, match_columns
from mig.guess.sniff import sniff_delimiter, sniff_quote

# Another vendor's export: headings near the 項目名称 but not the same, 和暦 as text in two
# forms, 男/女, 続柄 without its leading zero, 半角カナ, 西暦 with slashes, 〒 with a hyphen.
HEADER = [
    "市区町村コード", "宛名コード", "世帯ｺｰﾄﾞ", "氏　名", "ｶﾅ氏名", "誕生日", "男女", "続柄",
    "住民となった日", "住民となった事由", "〒", "現住所", "住民区分", "更新年月日", "備考",
]
ROWS = [
    ["131016", "1001", "501", "山田　太郎", "ﾔﾏﾀﾞ ﾀﾛｳ", "昭和50年1月2日", "男", "1", "2001/4/1", "01", "102-0083", "東京都千代田区麹町一丁目1番", "1", "20240331", "転入"],
    ["131016", "1002", "501", "山田　花子", "ﾔﾏﾀﾞ ﾊﾅｺ", "S52.11.30", "女", "2", "2001/04/01", "01", "102-0083", "東京都千代田区麹町一丁目1番", "1", "20240331", ""],
    ["131016", "1003", "501", "山田　一郎", "ﾔﾏﾀﾞ ｲﾁﾛｳ", "平成15年6月7日", "男", "11", "2003/06/07", "02", "102-0083", "東京都千代田区麹町一丁目1番", "1", "20240331", ""],
    ["131016", "1004", "502", "鈴木　次郎", "ｽｽﾞｷ ｼﾞﾛｳ", "H1.1.8", "男", "1", "2010/10/10", "01", "100-0001", "東京都千代田区千代田1番1号", "1", "20240401", ""],
    ["131016", "1005", "503", "佐藤　和子", "ｻﾄｳ ｶｽﾞｺ", "昭和65年1月1日", "女", "1", "2015/02/28", "01", "100-0005", "東京都千代田区丸の内二丁目", "1", "20240401", "要確認"],
]


def write_export(folder: Path, name: str = "JUMIN_export.csv", encoding: str = "cp932", delimiter: str = ",") -> Path:
    path = folder / name
    lines = [delimiter.join(HEADER)] + [delimiter.join(row) for row in ROWS]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_guess_drafts_a_mapping_that_extract_runs_unedited(tmp_path: Path) -> None:
    sample = write_export(tmp_path)
    runner = CliRunner()
    drafted = runner.invoke(main, ["guess", str(sample), "--layout", "juki-jumin", "--out", str(tmp_path / "mapping.toml")])
    assert drafted.exit_code == 0, drafted.output
    assert "wrote the draft mapping to" in drafted.stderr
    toml = (tmp_path / "mapping.toml").read_text(encoding="utf-8")
    draft = tomllib.loads(toml)
    assert draft["source"] == {"encoding": "cp932", "delimiter": ",", "quote": '"', "header": True}
    assert draft["files"][0]["inputs"] == ["JUMIN_export.csv"]
    items = draft["files"][0]["items"]
    assert items["生年月日"] == {"wareki": "誕生日"}
    assert items["氏名カナ"] == {"column": "ｶﾅ氏名", "transforms": ["trim", "zenkaku"]}
    assert items["住民となった年月日"] == {"column": "住民となった日", "transforms": [{"date": "%Y/%m/%d"}]}
    assert items["郵便番号"] == {"column": "〒", "transforms": ["digits"]}
    assert items["性別"] == {"column": "男女", "code_map": "性別"}
    assert items["団体コード"] == {"column": "市区町村コード"}
    assert items["世帯番号"] == {"column": "世帯ｺｰﾄﾞ"}
    assert "code_map" not in items["住民となった事由"]  # its values are standard codes already
    assert draft["code_maps"] == {"性別": {"女": "2", "男": "1"}, "続柄": {"1": "01", "11": "11", "2": "02"}}
    # a confidence per item, the unmatched column listed, no personal data in the comments
    assert '"氏名" = { column = "氏　名", transforms = ["trim"] }  # 0.95 same name after width and kana folding' in toml
    assert "source columns no item uses: 備考" in toml
    for personal in ("山田", "ﾔﾏﾀﾞ", "千代田", "1001", "102-0083", "転入", "要確認"):
        assert personal not in toml, personal

    run = runner.invoke(main, ["extract", str(sample), "-m", str(tmp_path / "mapping.toml"), "-o", str(tmp_path / "run")])
    assert run.exit_code == int(ExitCode.FINDINGS), run.output  # one 和暦 date is impossible (昭和65年)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    (entry,) = manifest["files"]
    assert (entry["rows_in"], entry["rows_out"], entry["rows_rejected"]) == (5, 4, 1)
    data = pl.read_parquet(tmp_path / "run" / "data" / "juki-jumin.parquet")
    first = data.row(0, named=True)
    assert (first["生年月日"], first["性別"], first["続柄"], first["氏名カナ"]) == ("19750102", "1", "01", "ヤマダ　タロウ")
    assert (first["住民となった年月日"], first["郵便番号"], first["最終更新年月日"]) == ("20010401", "1020083", "20240331")
    assert data["生年月日"].to_list() == ["19750102", "19771130", "20030607", "19890108"]
    assert data["続柄"].to_list() == ["01", "02", "11", "01"]
    findings = pl.read_parquet(tmp_path / "run" / "findings" / "juki-jumin.parquet")
    assert findings.filter(pl.col("severity") == "error").select("item", "type").rows() == [("生年月日", "wareki-invalid")]


def test_guess_prints_to_stdout_and_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    sample = write_export(tmp_path)
    runner = CliRunner()
    printed = runner.invoke(main, ["guess", str(sample), "--layout", "juki-jumin"])
    assert printed.exit_code == 0
    assert tomllib.loads(printed.stdout)["files"][0]["layout"] == "juki-jumin"
    out = tmp_path / "mine.toml"
    out.write_text("# my own mapping\n", encoding="utf-8")
    refused = runner.invoke(main, ["guess", str(sample), "--layout", "juki-jumin", "--out", str(out)])
    assert refused.exit_code == int(ExitCode.USAGE)
    assert "exists; give --force" in refused.stderr and "Traceback" not in refused.output
    assert out.read_text(encoding="utf-8") == "# my own mapping\n"
    forced = runner.invoke(main, ["guess", str(sample), "--layout", "juki-jumin", "--out", str(out), "--force"])
    assert forced.exit_code == 0 and out.read_text(encoding="utf-8") == printed.stdout
    clash = runner.invoke(main, ["guess", str(sample), "--layout", "juki-jumin", "--out", str(sample), "--force"])
    assert clash.exit_code == int(ExitCode.USAGE) and "is also an input" in clash.stderr


def test_euc_jp_tab_separated_and_utf8_bom_are_sniffed(tmp_path: Path) -> None:
    euc = mig.guess([write_export(tmp_path, "a.tsv", "euc-jp", "\t")], "juki-jumin")
    assert (euc.samples[0].encoding, euc.samples[0].delimiter) == ("euc-jp", "\t")
    bom = mig.guess([write_export(tmp_path, "b.csv", "utf-8-sig")], "juki-jumin")
    assert bom.samples[0].encoding == "utf-8-sig" and bom.samples[0].columns[0] == "市区町村コード"
    plain = mig.guess([write_export(tmp_path, "c.csv", "utf-8")], "juki-jumin")
    assert plain.samples[0].encoding == "utf-8"
    cp932 = mig.guess([write_export(tmp_path, "d.csv", "cp932")], "juki-jumin")
    for other in (euc, bom, plain):  # the same items, whatever the encoding and delimiter
        assert tomllib.loads(other.toml)["files"][0]["items"] == tomllib.loads(cp932.toml)["files"][0]["items"]


def test_an_eucjp_ms_sample_is_read_through_mig_own_tables(tmp_path: Path) -> None:
    """Python has no eucjp-ms codec: the sample is read as the csv adapter reads it."""
    path = write_export(tmp_path, "m.csv", "euc-jp")
    lines = path.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b",", b",\xad\xa1", 1)  # ① (NEC row 13): only eucjp-ms decodes it
    path.write_bytes(b"\n".join(lines))
    result = mig.guess([path], "juki-jumin")
    assert result.samples[0].encoding == "eucjp-ms"
    assert result.samples[0].columns[0] == "市区町村コード"


def test_two_samples_of_one_form_feed_one_files_entry_and_other_forms_are_refused(tmp_path: Path) -> None:
    a = write_export(tmp_path, "J1.csv")
    b = write_export(tmp_path, "J2.csv")
    result = mig.guess([b, a], "juki-jumin")
    assert tomllib.loads(result.toml)["files"][0]["inputs"] == ["J1.csv", "J2.csv"]
    with pytest.raises(ConfigError, match="differ from"):
        mig.guess([a, write_export(tmp_path, "E.csv", "euc-jp")], "juki-jumin")


def test_a_file_without_header_keeps_its_first_line_out_of_the_draft(tmp_path: Path) -> None:
    sample = tmp_path / "noheader.csv"
    sample.write_bytes(("\r\n".join(",".join(r) for r in ROWS) + "\r\n").encode("cp932"))
    result = mig.guess([sample], "juki-jumin")
    draft = tomllib.loads(result.toml)
    assert draft["source"]["header"] is False
    assert draft["source"]["columns"] == [f"c{n}" for n in range(1, 16)]
    assert "山田" not in result.toml and "千代田" not in result.toml
    assert "does not look like a header" in result.toml
    assert load_mapping(_written(tmp_path, result.toml)).files[0].layout.id == "juki-jumin"


def _written(folder: Path, toml: str) -> Path:
    path = folder / "draft.toml"
    path.write_text(toml, encoding="utf-8")
    return path


def test_comments_follow_the_language(tmp_path: Path) -> None:
    sample = write_export(tmp_path)
    result = CliRunner().invoke(main, ["--lang", "ja", "guess", str(sample), "--layout", "juki-jumin"])
    assert result.exit_code == 0
    assert "どの項目にも対応しなかった元の列: 備考" in result.stdout
    assert "同義の名称" in result.stdout and "項目を対応付けました" in result.stderr
    english = CliRunner().invoke(main, ["--lang", "en", "guess", str(sample), "--layout", "juki-jumin"])
    # only the comments differ: the mapping itself is the same in either language
    assert tomllib.loads(result.stdout) == tomllib.loads(english.stdout)
    assert result.stdout != english.stdout


def test_unreadable_samples_and_unknown_layouts_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(main, ["guess", str(tmp_path / "nope.csv"), "--layout", "juki-jumin"])
    assert missing.exit_code == int(ExitCode.UNREADABLE_INPUT) and missing.stderr.count("\n") == 1
    (tmp_path / "empty.csv").write_bytes(b"")
    empty = runner.invoke(main, ["guess", str(tmp_path / "empty.csv"), "--layout", "juki-jumin"])
    assert empty.exit_code == int(ExitCode.UNREADABLE_INPUT) and "empty" in empty.stderr
    layout = runner.invoke(main, ["guess", str(write_export(tmp_path)), "--layout", "juki-nope"])
    assert layout.exit_code == int(ExitCode.USAGE) and "juki-jumin" in layout.stderr
    with pytest.raises(InputError):
        mig.guess([tmp_path], "juki-jumin")


@given(data=st.binary(max_size=600) | st.text(alphabet="a,\t\"'\r\n山ｶ1-/年S.", max_size=300).map(lambda t: t.encode("cp932")))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_sample_gives_a_draft_or_a_one_line_error(tmp_path: Path, data: bytes) -> None:
    sample = tmp_path / "any.csv"
    sample.write_bytes(data)
    result = CliRunner().invoke(main, ["guess", str(sample), "--layout", "juki-setai"])
    assert result.exit_code in (0, int(ExitCode.USAGE), int(ExitCode.UNREADABLE_INPUT)), result.output
    assert isinstance(result.exception, SystemExit | type(None)), repr(result.exception)
    if result.exit_code == 0:
        tomllib.loads(result.stdout)
        load_mapping(_written(tmp_path, result.stdout))
    else:
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


# -- the parts ---------------------------------------------------------------------------


def test_heading_scores_rank_exact_normalised_synonym_similar() -> None:
    assert heading_score("氏名カナ", "氏名カナ") == (1.0, "exact")
    assert heading_score("ｼﾒｲｶﾅ", "しめいかな")[1] == "normalised"
    for a, b in [("誕生日", "生年月日"), ("カナ氏名", "氏名カナ"), ("フリガナ", "氏名カナ"),
                 ("世帯人員", "世帯員数"), ("更新年月日", "最終更新年月日"), ("最終更新日", "最終更新年月日")]:
        assert heading_score(a, b) == (0.9, "synonym"), (a, b)
    assert heading_score("備考", "住所")[0] < 0.6
    # one column per item, the better pair first; 現住所 is too far from 前住所 to be taken
    matches = match_columns(["現住所", "住所"], ["住所", "前住所"])
    assert [(m.item, m.column, m.how) for m in matches] == [("住所", "住所", "exact")]
    matches = match_columns(["住民となった日"], ["住民となった届出年月日", "住民となった年月日"])
    assert [(m.item, m.how) for m in matches] == [("住民となった年月日", "similar")]


def test_sniffing_delimiters_quotes_and_codes() -> None:
    assert sniff_delimiter(["a|b|c", "1|2|3"]) == ("|", 2)
    assert sniff_delimiter(["a;b", "1;2", "x;y"]) == (";", 1)
    assert sniff_quote(['"a";"b"'], ";") == '"'
    assert standard_code("ｵﾄｺ", {"1": "オトコ"}) == "1" and standard_code("3", {"1": "男"}) is None


def test_padded_codes_are_trimmed_before_their_code_map_and_extract_agrees(tmp_path: Path) -> None:
    sample = tmp_path / "s.csv"
    sample.write_text(
        "世帯番号,世帯主氏名,住所,異動事由,世帯員数,世帯となった日\n"
        "1,山田　太郎,東京都,  1,2,2020-01-31\n2,鈴木　花子,東京都,11 ,1,2021-02-28\n3,佐藤　一郎,東京都,01,3,2022-12-01\n",
        encoding="utf-8",
    )
    result = mig.guess([sample], "juki-setai")
    draft = tomllib.loads(result.toml)
    items = draft["files"][0]["items"]
    assert items["異動事由"] == {"column": "異動事由", "transforms": ["trim"], "code_map": "異動事由"}
    assert draft["code_maps"] == {"異動事由": {"01": "01", "1": "01", "11": "11"}}
    assert result.required_missing == ("団体コード",)
    assert '# "団体コード" = { const = "" }  # required: no column matched' in result.toml
    # with the one required item the sample lacks filled in, extract converts every row
    mapping = tmp_path / "m.toml"
    mapping.write_text(result.toml.replace('# "団体コード" = { const = "" }', '"団体コード" = { const = "131016" }'), encoding="utf-8")
    mig.extract(mapping, [sample], tmp_path / "run")
    data = pl.read_parquet(tmp_path / "run" / "data" / "juki-setai.parquet")
    assert data["異動事由"].to_list() == ["01", "11", "01"]
    assert data["世帯となった年月日"].to_list() == ["20200131", "20210228", "20221201"]


def test_a_header_naming_a_column_twice_is_refused_as_extract_refuses_it(tmp_path: Path) -> None:
    sample = tmp_path / "dup.csv"
    sample.write_text("氏名,住所,氏名\n山田,東京,山田\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"header names a column twice \(fields 1 and 3\)"):
        mig.guess([sample], "juki-jumin")


def test_a_header_only_sample_drafts_from_the_headings(tmp_path: Path) -> None:
    sample = tmp_path / "h.csv"
    sample.write_text("世帯番号,世帯主氏名\n", encoding="utf-8")
    result = mig.guess([sample], "juki-setai")
    assert [(m.item, m.column) for m in result.matches] == [("世帯番号", "世帯番号"), ("世帯主氏名", "世帯主氏名")]


def test_an_era_column_beside_a_yymmdd_column_is_drafted_as_wareki_with_era(tmp_path: Path) -> None:
    sample = tmp_path / "era.csv"
    sample.write_text(
        "団体コード,宛名番号,世帯番号,氏名,生年月日元号,生年月日,性別,続柄,住民となった年月日,住民となった事由,住所,住民状態\n"
        "131016,1,1,山田　太郎,3,500102,1,01,20010401,01,東京都,1\n"
        "131016,2,1,山田　花子,S,521130,2,02,20010401,01,東京都,2\n"
        "131016,3,1,山田　一郎,平成,150607,1,11,20030607,02,東京都,3\n",
        encoding="utf-8",
    )
    result = mig.guess([sample], "juki-jumin")
    items = tomllib.loads(result.toml)["files"][0]["items"]
    assert items["生年月日"] == {"wareki": "生年月日", "era": "生年月日元号"}
    assert items["団体コード"] == {"column": "団体コード"}  # 131016 is no 明治13年 date: 住民状態 is no era column
    assert "生年月日元号" not in result.unmatched_columns and not result.required_missing
    mapping = tmp_path / "m.toml"
    mapping.write_text(result.toml, encoding="utf-8")
    mig.extract(mapping, [sample], tmp_path / "run")
    data = pl.read_parquet(tmp_path / "run" / "data" / "juki-jumin.parquet")
    assert data["生年月日"].to_list() == ["19750102", "19771130", "20030607"]


def test_a_layout_given_as_a_file_is_named_so_that_the_mapping_works_from_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    packaged = Path(mig.__file__).resolve().parent.parent / "layouts" / "juki"
    (tmp_path / "layouts").mkdir()
    for name in ("juki-setai.toml", "codes.toml"):
        (tmp_path / "layouts" / name).write_bytes((packaged / name).read_bytes())
    (tmp_path / "s.csv").write_text("世帯番号,世帯主氏名\n1,山田　太郎\n", encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["guess", "s.csv", "--layout", "layouts/juki-setai.toml", "--out", "elsewhere/m.toml"])
    assert result.exit_code == 0, result.output
    mapping = load_mapping(tmp_path / "elsewhere" / "m.toml")
    assert mapping.files[0].layout.source == "file"
    assert [i.target for i in mapping.files[0].items] == ["世帯番号", "世帯主氏名"]
