"""Layout ids and item names cannot inject SQL or break a loader script.

Ids are checked against a safe pattern and item names for control characters when a
layout file or a manifest is read (one-line errors naming the field, never the value);
every identifier and literal of the DDL and loader files is quoted per dialect, and the
psql script of a bundle is run against a real server with awkward item names.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from test_load import make_run

from mig.errors import ConfigError, InputError
from mig.layout import load_layout_file, name_problem
from mig.load import ddl_for, load_run, read_manifest
from mig.load.bundle import write_bundle

AWKWARD = "氏名 'カナ' Ａ"
"""An item name with a space, a single quote and 全角 characters."""


def _layout_file(tmp_path: Path, layout_id: str, name: str) -> Path:
    folder = tmp_path / "layouts" / "x"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "x.toml"
    path.write_text(
        f'id = {json.dumps(layout_id)}\nbusiness = "b"\nname = "n"\n\n'
        f'[[items]]\nno = 1\nname = {json.dumps(name)}\ntype = "半角文字"\nlength = 4\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "layout_id", ["x'; DROP TABLE t; --", "a b", "../up", "-x", "ｘ", "a" * 64, "a$(B)", 'q"'],
)
def test_unsafe_layout_ids_are_refused_on_read(tmp_path: Path, layout_id: str) -> None:
    path = _layout_file(tmp_path, layout_id, "氏名")
    with pytest.raises(ConfigError) as info:
        load_layout_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: 'id' must be ASCII letters")
    assert layout_id not in message and "\n" not in message


@pytest.mark.parametrize("char", ["\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u202e", "\ufeff"])
def test_control_characters_in_item_names_are_refused_on_read(tmp_path: Path, char: str) -> None:
    name = f"氏{char}名"
    path = _layout_file(tmp_path, "ok-id", name)
    with pytest.raises(ConfigError) as info:
        load_layout_file(path)
    message = str(info.value)
    assert message == f"x.toml item 1: 'name' holds a control character (U+{ord(char):04X})"
    assert load_layout_file(_layout_file(tmp_path, "ok-id.v2_7", AWKWARD)).items[0].name == AWKWARD


def _awkward_items(name: str) -> list[dict[str, Any]]:
    return [
        {"no": 1, "name": "番号", "type": "数字", "length": 4, "required": True},
        {"no": 2, "name": name, "type": "全角文字", "length": 10},
    ]


def _awkward_run(tmp_path: Path, name: str, layout: str = "test-names") -> Path:
    rows = {"番号": ["0001", "0002", "0003"], name: ["山田 'x' 太郎", None, "𠮷野"]}
    return make_run(tmp_path / "run", {layout: (_awkward_items(name), rows, ["番号"])}, rejected=0)


def _edit_manifest(run: Path, change: Any) -> None:
    path = run / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest["files"][0])
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def test_manifest_with_unsafe_names_is_refused_before_anything(tmp_path: Path) -> None:
    run = _awkward_run(tmp_path, AWKWARD)
    target = f"sqlite:///{tmp_path / 'out.db'}"
    _edit_manifest(run, lambda e: e.__setitem__("layout", "x'y"))
    with pytest.raises(InputError) as info:
        load_run(run, target)
    assert "files[0]: 'layout' must be ASCII letters" in str(info.value) and "x'y" not in str(info.value)
    with pytest.raises(InputError):
        write_bundle(run, tmp_path / "bundle")
    _edit_manifest(run, lambda e: (e.__setitem__("layout", "test-names"), e["items"][1].__setitem__("name", "氏\n名")))
    with pytest.raises(InputError) as info:
        load_run(run, target)
    assert str(info.value) == f"{run / 'manifest.json'}: files[0]: items[2]: 'name' holds a control character (U+000A)"
    assert not (tmp_path / "out.db").exists() and not (tmp_path / "bundle").exists()


def test_name_problem_is_the_one_rule() -> None:
    assert name_problem("juki-jumin", ["氏名", AWKWARD, 'a "b"']) is None
    assert name_problem("juki-jumin", ["氏名\u0000"]) == "items[1]: 'name' holds a control character (U+0000)"


psql = shutil.which("psql") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))), None)


@pytest.mark.skipif(psql is None, reason="psql is not installed")
def test_psql_script_of_a_bundle_loads_awkward_names(tmp_path: Path, pg_url: str) -> None:
    run = _awkward_run(tmp_path, AWKWARD)
    bundle = tmp_path / "bundle"
    write_bundle(run, bundle)
    done = subprocess.run(
        [str(psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-d", pg_url,
         "-f", "ddl/postgresql.sql", "-f", "load/postgresql.psql"],
        cwd=bundle, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    with psycopg.connect(pg_url) as conn:
        cursor = conn.execute('SELECT * FROM "test_names" ORDER BY "番号"')
        assert [d.name for d in cursor.description or []] == ["番号", AWKWARD]
        assert cursor.fetchall() == [("0001", "山田 'x' 太郎"), ("0002", None), ("0003", "𠮷野")]
    fmt = (bundle / "load" / "test-names.fmt").read_text(encoding="utf-8")
    assert fmt.splitlines()[3].split()[-2:] == ["c2", '""']  # bcp: a blank would split the name
    assert "sqlcmd -I" in (bundle / "load" / "sqlserver.sql").read_text(encoding="utf-8")
    assert "`-I` (QUOTED_IDENTIFIER ON)" in (bundle / "README.md").read_text(encoding="utf-8")


def test_double_quote_in_a_name(tmp_path: Path, pg_url: str) -> None:
    name = '氏名 "通称"'
    run = _awkward_run(tmp_path, name)
    entry = read_manifest(run)["files"][0]
    assert '"氏名 ""通称""" text' in ddl_for(entry, "postgresql")
    assert '"氏名 ""通称""" NVARCHAR(40)' in ddl_for(entry, "sqlserver")
    with pytest.raises(ConfigError, match=r"^layout test-names, items\[2\]: 'name' holds '\"', which an Oracle"):
        ddl_for(entry, "oracle")
    with pytest.raises(ConfigError, match="Oracle identifier"):  # every bundle carries the Oracle DDL
        write_bundle(run, tmp_path / "bundle")
    assert not (tmp_path / "bundle").exists()
    result = load_run(run, pg_url)  # PostgreSQL itself quotes it fine
    assert result.files[0].rows_loaded == 3
    with psycopg.connect(pg_url) as conn:
        assert conn.execute('SELECT "氏名 ""通称""" FROM test_names WHERE "番号" = %s', ("0003",)).fetchone() == ("𠮷野",)

