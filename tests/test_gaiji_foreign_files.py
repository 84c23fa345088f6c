"""Files that are not what a ``mig gaiji`` command expects — any file a path may name —
and absurd arguments: one line, exit 2 (3 for an unreadable decisions file), never a
traceback, never the file's content, never the whole argument echoed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mig.cli import main
from mig.errors import ExitCode
from mig.gaiji.registry import load_registry

SECRET = "QZX7SECRET"


def mig(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line(result: Result, code: ExitCode) -> str:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mig: error: "), result.stderr
    return lines[0]


FOREIGN = {
    "shadow-like": f"root:{SECRET}:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n".encode(),
    "csv-like": f"氏名,住所\n{SECRET},東京都\n".encode(),
    "one-long-field": SECRET.encode() * 20_000,
    "stray-quote": f'"{SECRET}\n'.encode() + b"x" * 200_000,
    "binary": b"\x7fELF\x02\x01\x01\x00" + SECRET.encode() + b"\x00\x00",
    "not-utf8": b"\x82\xa0" + SECRET.encode(),
    "empty": b"",
}


@pytest.mark.parametrize("name", sorted(FOREIGN))
def test_registry_check_and_add_never_echo_a_foreign_file(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(FOREIGN[name])
    for result in (
        mig("gaiji", "registry", "check", path),
        mig("gaiji", "registry", "add", path, "-s", "x", "-c", "U+E000", "--mj", "MJ026199", "--decided-by", "me"),
    ):
        line = one_line(result, ExitCode.USAGE)
        assert SECRET not in line and "root:" not in line and "氏名" not in line
        assert str(path) in line
    assert path.read_bytes() == FOREIGN[name]  # add refused: nothing written


def test_registry_messages_say_what_was_expected_and_the_shape(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    path.write_bytes(FOREIGN["shadow-like"])
    line = one_line(mig("gaiji", "registry", "check", path), ExitCode.USAGE)
    assert "source,code,mj,text,status,decided_by,decided_at,evidence" in line and "found 1 field(s)" in line
    path.write_text("source,code,mj,text,status,decided_by,decided_at,evidnce\n", encoding="utf-8")
    line = one_line(mig("gaiji", "registry", "check", path), ExitCode.USAGE)
    assert "missing evidence" in line and "1 unknown" in line and "evidnce" not in line
    path.write_bytes(FOREIGN["binary"])
    assert "binary" in one_line(mig("gaiji", "registry", "check", path), ExitCode.USAGE)
    path.write_bytes(FOREIGN["not-utf8"])
    assert "not UTF-8" in one_line(mig("gaiji", "registry", "check", path), ExitCode.USAGE)
    assert "not a regular file" in one_line(mig("gaiji", "registry", "check", tmp_path), ExitCode.USAGE)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # would block a plain read forever
    assert "not a regular file" in one_line(mig("gaiji", "registry", "check", fifo), ExitCode.USAGE)


@pytest.mark.parametrize("name", ["shadow-like", "one-long-field", "stray-quote", "binary"])
def test_decide_never_echoes_a_foreign_file(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(FOREIGN[name])
    result = mig("gaiji", "decide", path, "--registry", tmp_path / "reg.csv", "--by", "me", "--source", "s")
    line = one_line(result, ExitCode.UNREADABLE_INPUT)
    assert SECRET not in line and "root:" not in line
    assert not (tmp_path / "reg.csv").exists()


def test_review_candidates_file_is_named_by_line_not_content(tmp_path: Path) -> None:
    from mig.errors import ConfigError
    from mig.gaiji.review import candidate_names

    path = tmp_path / "names.txt"
    path.write_text(f"MJ026199\n# a comment\n{SECRET}\nMJ999999\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        candidate_names(str(path))
    assert str(info.value) == f"{path}:3: not an MJ文字図形名 (MJ and 6 digits); 2 such line(s)"


def test_proposed_over_confirmed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "reg.csv"
    base = ["gaiji", "registry", "add", path, "-s", "demo", "-c", "U+E000", "--decided-by", "me"]
    assert mig(*base, "--mj", "MJ026199").exit_code == ExitCode.CLEAN
    before = path.read_bytes()
    line = one_line(mig(*base, "--mj", "MJ026200", "--proposed"), ExitCode.USAGE)
    assert "refused" in line and "confirmed decision" in line and "MJ026199" in line
    assert path.read_bytes() == before
    # a proposal for a code without a confirmed decision is still recorded
    ok = mig("gaiji", "registry", "add", path, "-s", "demo", "-c", "U+E001", "--mj", "MJ026200",
             "--decided-by", "me", "--proposed")
    assert ok.exit_code == ExitCode.CLEAN
    assert [(e.code, e.status) for e in load_registry(path).entries] == [("U+E000", "confirmed"), ("U+E001", "proposed")]


def test_lookup_caps_the_echo_and_refuses_absurd_lengths() -> None:
    line = one_line(mig("gaiji", "lookup", SECRET * 10_000), ExitCode.USAGE)
    assert "query of 100000 characters refused" in line and SECRET not in line and len(line) < 300
    line = one_line(mig("gaiji", "lookup", "x" * 60), ExitCode.USAGE)
    assert "'xxxxxxxxxxxxxxxxxxxx'…(60 characters)" in line and "x" * 21 not in line
    assert "'hello'" in one_line(mig("gaiji", "lookup", "hello"), ExitCode.USAGE)  # short: whole
    line = one_line(mig("gaiji", "registry", "add", "/nonexistent/reg.csv", "-s", "demo", "-c", "U+" + "E" * 5000,
                        "--mj", "MJ026199", "--decided-by", "me"), ExitCode.USAGE)
    assert "(5002 characters)" in line and len(line) < 300
