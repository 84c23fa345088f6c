"""The loader bundle: DDL + data in the target encoding + loader files + 外字 report + sums."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from test_gaiji_policy import ivs_run  # noqa: F401  (fixture: demo data, 外字 with IVS)
from test_load import JUMIN_ITEMS, jumin_rows, make_run

from mig.charsets import cp932_repertoire
from mig.cli import main
from mig.errors import ConfigError, ExitCode, OutputExistsError
from mig.gaiji.mj import codepoints, parse_codepoints
from mig.gaiji.policy import get_policy
from mig.load import read_manifest
from mig.load.bundle import BundleRefusedError, write_bundle

TEXT = ("全角文字", "半角文字", "混在文字")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name)


def expected_after_policy(run: Path, layout: str, policy: str, target: str) -> pl.DataFrame:
    entry = next(f for f in read_manifest(run)["files"] if f["layout"] == layout)
    frame = pl.read_parquet(run / f"data/{layout}.parquet")
    frame = frame.with_columns(pl.all().cast(pl.String))
    text = [i["name"] for i in entry["items"] if i["type"] in TEXT]
    return get_policy(policy, target=target).apply(frame, text)[0]


def read_csv(data: bytes, encoding: str) -> pl.DataFrame:
    text = data.decode(encoding)  # strict: every byte must decode
    return pl.read_csv(io.StringIO(text), infer_schema=False)


def test_cp932_bundle_with_shrink(ivs_run: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "handover"
    result = write_bundle(ivs_run, out, encoding="cp932", gaiji_policy="shrink")
    assert leftovers(tmp_path) == []
    files = tree(out)
    assert {"README.md", "SHA256SUMS", "bundle.json", "gaiji-report.json", "ddl/postgresql.sql",
            "ddl/oracle.sql", "ddl/sqlserver.sql", "load/postgresql.psql", "load/sqlserver.sql"} <= set(files)

    # every other file's sha256, verifiable with sha256sum -c
    sums = dict(reversed(line.split("  ", 1)) for line in files["SHA256SUMS"].decode().splitlines())
    assert set(sums) == set(files) - {"SHA256SUMS"}
    assert all(hashlib.sha256(files[p]).hexdigest() == digest for p, digest in sums.items())

    manifest = read_manifest(ivs_run)
    for entry in manifest["files"]:
        layout, table = entry["layout"], entry["layout"].replace("-", "_")
        names = [i["name"] for i in entry["items"]]
        data = read_csv(files[f"data/{layout}.csv"], "cp932")
        expected = expected_after_policy(ivs_run, layout, "shrink", "cp932")
        assert data.columns == names
        assert data.height == entry["rows_out"]
        assert data.equals(expected), layout  # value for value, after the policy
        held = "".join(data.select(pl.col(pl.String).str.join("")).row(0))
        assert set(held) <= cp932_repertoire() | {chr(c) for c in range(0xE000, 0xE758)}
        ctl = files[f"load/{layout}.ctl"].decode("cp932")
        fmt = files[f"load/{layout}.fmt"].decode("cp932")
        psql = files["load/postgresql.psql"].decode()
        assert "CHARACTERSET JA16SJIS" in ctl and f'INTO TABLE "{table}"' in ctl
        assert all(f'"{n}"' in ctl and f" {n} " in fmt and f'"{n}"' in psql for n in names)
        assert fmt.splitlines()[1] == str(len(names))
        assert f"\\copy \"{table}\"" in psql and "ENCODING 'SJIS'" in psql
        assert f'CREATE TABLE "{table}"' in files["ddl/oracle.sql"].decode()
    assert "CODEPAGE = '932'" in files["load/sqlserver.sql"].decode()

    # the per-character report: every changed character, by code point, never a value
    report = json.loads(files["gaiji-report.json"])
    assert report["encoding"] == "cp932" and report["gaiji_policy"]["target"] == "cp932"
    chars = report["characters"]
    assert chars and chars == list(result.characters)
    assert {c["action"] for c in chars} <= {"shrunk", "stripped", "private-use"}
    assert any(c["action"] == "shrunk" for c in chars)
    for c in chars:
        assert c["code"].startswith("U+") and c["count"] == sum(c["items"].values()) > 0
        assert bytes.fromhex(c["target_bytes"]).decode("cp932") == parse_codepoints(c["to_code"])
    # every variation sequence and every character CP932 lacks in the source is reported,
    # with its exact number of occurrences per item
    unit = r"[^\U000e0100-\U000e01ef][\U000e0100-\U000e01ef]|[^\x00-\uffff]"
    seen: dict[str, dict[str, int]] = {}
    for entry in manifest["files"]:
        frame = pl.read_parquet(ivs_run / f"data/{entry['layout']}.parquet")
        for item in (i["name"] for i in entry["items"] if i["type"] in TEXT):
            found = frame[item].drop_nulls().str.extract_all(unit).explode().drop_nulls()
            for text, n in found.value_counts().rows():
                seen.setdefault(codepoints(text), {})[item] = n
    assert seen, "the demo run holds IVS"
    assert {c["code"]: c["items"] for c in chars if c["code"] in seen} == seen
    by_code = {c["code"]: c for c in chars}
    assert "U+9AD9" not in by_code  # 髙 is an IBM extension of CP932: kept as it is
    readme = files["README.md"].decode()
    assert all(c["code"] in readme for c in chars) and "CP932" in readme and "shrink" in readme
    jumin = pl.read_parquet(ivs_run / "data/juki-jumin.parquet")
    for name in jumin["氏名"].head(20).to_list():  # no personal value in the report or README
        assert name not in readme and name not in files["gaiji-report.json"].decode()


def test_bundle_is_deterministic(ivs_run: Path, tmp_path: Path) -> None:  # noqa: F811
    one = write_bundle(ivs_run, tmp_path / "one", encoding="cp932", gaiji_policy="shrink")
    two = write_bundle(ivs_run, tmp_path / "two", encoding="cp932", gaiji_policy="shrink")
    assert tree(Path(one.bundle)) == tree(Path(two.bundle))
    again = write_bundle(ivs_run, tmp_path / "one", encoding="cp932", gaiji_policy="shrink", replace=True)
    assert tree(Path(again.bundle)) == tree(Path(two.bundle))
    assert leftovers(tmp_path) == []


def refusable_run(tmp_path: Path) -> Path:
    rows = jumin_rows(6)
    rows["氏名"] = ["山田　太郎", "俱知安　𠮷子", "𠮷田", "渡邊\U000E010F", "\ue000田", "佐藤"]
    return make_run(tmp_path / "run", {"juki-jumin": (JUMIN_ITEMS, rows, ["宛名番号"])})


def test_unencodable_characters_refuse_the_bundle(tmp_path: Path) -> None:
    run = refusable_run(tmp_path)
    out = tmp_path / "handover"
    with pytest.raises(BundleRefusedError) as info:
        write_bundle(run, out, encoding="cp932")  # keep: 𠮷, 俱 and the IVS do not fit
    message = str(info.value)
    assert info.value.exit_code == ExitCode.FINDINGS and "\n" not in message
    assert message.startswith("3 distinct character(s) cannot be written in CP932")
    assert "U+20BB7 ×2" in message and "no bundle was written" in message
    assert "𠮷" not in message and "山田" not in message
    assert not out.exists() and leftovers(tmp_path) == []
    report = json.loads(info.value.report.read_text(encoding="utf-8"))
    assert info.value.report == tmp_path / "handover.gaiji-refused.json"
    bad = {c["code"]: c for c in report["characters"] if c["action"] == "not-encodable"}
    assert set(bad) == {"U+20BB7", "U+4FF1", "U+908A U+E010F"}
    assert bad["U+908A U+E010F"]["mj"] == "MJ026199" and bad["U+20BB7"]["items"] == {"氏名": 2}
    private = [c for c in report["characters"] if c["action"] == "private-use"]
    assert [(c["code"], c["target_bytes"]) for c in private] == [("U+E000", "F040")]

    # shrink handles 𠮷 and the IVS, but 俱 (JIS X 0213, not CP932) has no candidate
    with pytest.raises(BundleRefusedError, match=r"^1 distinct character\(s\).*U\+4FF1 ×1"):
        write_bundle(run, out, encoding="cp932", gaiji_policy="shrink")
    assert not out.exists()
    # UTF-8 holds everything: the same run makes a bundle, and the stale refusal report goes
    result = write_bundle(run, out, encoding="utf-8")
    assert not (tmp_path / "handover.gaiji-refused.json").exists()
    assert [(c["code"], c["action"]) for c in result.characters] == [("U+E000", "private-use")]


def test_private_use_passes_as_user_defined_code_unless_fail(tmp_path: Path) -> None:
    rows = jumin_rows(3)
    rows["氏名"] = ["\ue000田", "山\ue757", "佐藤"]
    run = make_run(tmp_path / "run", {"juki-jumin": (JUMIN_ITEMS, rows, ["宛名番号"])})
    result = write_bundle(run, tmp_path / "b", encoding="cp932", gaiji_policy="shrink")
    assert [(c["code"], c["action"], c["target_bytes"]) for c in result.characters] == [
        ("U+E000", "private-use", "F040"), ("U+E757", "private-use", "F9FC")]
    data = (tmp_path / "b/data/juki-jumin.csv").read_bytes()
    assert b"\xf0\x40" in data and b"?" not in data
    assert "U+E000" in (tmp_path / "b/README.md").read_text(encoding="utf-8")
    with pytest.raises(BundleRefusedError.__mro__[1], match="outside CP932"):
        write_bundle(run, tmp_path / "c", encoding="cp932", gaiji_policy="fail")
    assert not (tmp_path / "c").exists()


def test_utf8_with_bom_keeps_ivs(ivs_run: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "b"
    result = write_bundle(ivs_run, out, encoding="utf-8-sig")
    assert result.characters == ()
    for entry in read_manifest(ivs_run)["files"]:
        data = (out / f"data/{entry['layout']}.csv").read_bytes()
        assert data.startswith(b"\xef\xbb\xbf") and not data[3:].startswith(b"\xef\xbb\xbf")
        frame = read_csv(data, "utf-8-sig")
        assert frame.equals(expected_after_policy(ivs_run, entry["layout"], "keep", "jisx0213"))
    jumin = (out / "data/juki-jumin.csv").read_text(encoding="utf-8-sig")
    assert any("\U000e0100" <= c <= "\U000e01ef" for c in jumin)  # IVS kept
    assert "ENCODING 'UTF8'" in (out / "load/postgresql.psql").read_text(encoding="utf-8")
    assert "CHARACTERSET AL32UTF8" in (out / "load/juki-jumin.ctl").read_text(encoding="utf-8")


def test_fixed_width_lengths(ivs_run: Path, tmp_path: Path) -> None:  # noqa: F811
    out = tmp_path / "b"
    result = write_bundle(ivs_run, out, encoding="cp932", format="fixed", gaiji_policy="shrink")
    facts = json.loads((out / "bundle.json").read_text(encoding="utf-8"))
    readme = (out / "README.md").read_text(encoding="utf-8")
    for table, info in zip(result.tables, facts["tables"], strict=True):
        data = (out / table.data).read_bytes()
        assert table.record_bytes == sum(c["bytes"] for c in info["columns"]) + 2
        assert len(data) == table.record_bytes * table.rows_written
        records = [data[i : i + table.record_bytes] for i in range(0, len(data), table.record_bytes)]
        assert all(r.endswith(b"\r\n") for r in records)
        expected = expected_after_policy(ivs_run, table.layout, "shrink", "cp932")
        for column in info["columns"]:
            values = [r[column["from"] - 1 : column["to"]].decode("cp932").rstrip(" ") or None for r in records]
            assert values == expected[column["name"]].to_list(), column["name"]
        assert f"{table.record_bytes} bytes per record" in readme
        ctl = (out / f"load/{table.layout}.ctl").read_text(encoding="cp932")
        assert all(f'"{c["name"]}" POSITION({c["from"]}:{c["to"]})' in ctl for c in info["columns"])
    jumin = next(t for t in facts["tables"] if t["layout"] == "juki-jumin")
    assert {c["name"]: c["bytes"] for c in jumin["columns"]}["氏名"] == 120  # the layout's bytes
    assert not (out / "load/postgresql.psql").exists()


def test_fixed_width_refuses_what_padding_would_hide(tmp_path: Path) -> None:
    rows = jumin_rows(3)
    rows["氏名"] = ["山田 ", "佐藤", "鈴木"]
    run = make_run(tmp_path / "run", {"juki-jumin": (JUMIN_ITEMS, rows, ["宛名番号"])})
    with pytest.raises(Exception, match=r"item 氏名: 1 value\(s\) empty or ending in a space") as info:
        write_bundle(run, tmp_path / "b", encoding="cp932", format="fixed")
    assert "山田" not in str(info.value)
    assert not (tmp_path / "b").exists() and leftovers(tmp_path) == []
    with pytest.raises(ConfigError, match="cp932"):
        write_bundle(run, tmp_path / "b", encoding="utf-8", format="fixed")


def test_existing_directory_is_not_replaced_unless_a_bundle(tmp_path: Path) -> None:
    run = make_run(tmp_path / "run")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="exists; use --replace"):
        write_bundle(run, tmp_path / "mine")
    with pytest.raises(OutputExistsError, match="not a mig loader bundle"):
        write_bundle(run, tmp_path / "mine", replace=True)
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_cli(tmp_path: Path) -> None:
    run = refusable_run(tmp_path)
    runner = CliRunner()
    out = tmp_path / "b"
    refused = runner.invoke(main, ["load", str(run), "-t", f"bundle:{out}", "--encoding", "cp932", "--json"])
    assert refused.exit_code == ExitCode.FINDINGS
    data: dict[str, Any] = json.loads(refused.stdout)
    assert {c["code"] for c in data["characters"] if c["action"] == "not-encodable"} == {
        "U+20BB7", "U+4FF1", "U+908A U+E010F"}
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("mig: error: 3 distinct")
    assert not out.exists()
    ok = runner.invoke(main, ["load", str(run), "-t", f"bundle:{out}", "--encoding", "utf-8-sig"])
    assert ok.exit_code == 0, ok.output
    assert "sha256sum -c SHA256SUMS" in ok.stdout
    wrong = runner.invoke(main, ["load", str(run), "-t", f"sqlite:///{tmp_path / 'x.db'}", "--encoding", "cp932"])
    assert wrong.exit_code == ExitCode.USAGE and "bundle:DIR only" in wrong.stderr
