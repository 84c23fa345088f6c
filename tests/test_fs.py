"""Atomic outputs (mig.fs): a failed write leaves the earlier file or directory and no temporary."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mig import fs


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class FailingDisk:
    """Bytes written to a file object fail with ENOSPC after ``limit`` bytes (a full disk)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, limit: int = 3) -> None:
        real = Path.write_bytes

        def write_bytes(path: Path, data: bytes) -> int:
            real(path, data[:limit])
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(Path, "write_bytes", write_bytes)


def test_write_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_bytes(b"old")
    fs.write_text(target, "新しい\r\n", encoding="utf-8")
    assert target.read_bytes() == "新しい\r\n".encode()
    assert names(tmp_path) == ["report.html"]


def test_failed_write_keeps_the_old_file_and_removes_the_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "registry.csv"
    target.write_bytes(b"old contents\n")
    FailingDisk(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        fs.write_text(target, "new contents that do not fit\n")
    assert target.read_bytes() == b"old contents\n"
    assert names(tmp_path) == ["registry.csv"]


def test_failed_write_of_a_new_file_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FailingDisk(monkeypatch)
    with pytest.raises(OSError):
        fs.write_json(tmp_path / "a.json", {"a": 1})
    assert names(tmp_path) == []


def test_exception_inside_atomic_file_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "index.npz"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), fs.atomic_file(target) as temporary:
        temporary.write_bytes(b"half")
        assert names(tmp_path) == sorted(["index.npz", temporary.name])
        assert temporary.name.startswith(".index.npz.partial-")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert names(tmp_path) == ["index.npz"]


def test_a_stale_temporary_of_the_same_name_is_not_touched(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    with fs.atomic_file(target) as first:
        pass
    number = int(first.name.removesuffix(".tmp").rpartition("-")[2])
    stale = first.with_name(first.name.replace(f"-{number}.tmp", f"-{number + 1}.tmp"))
    stale.write_bytes(b"someone else's")  # the name the next write picks first
    fs.write_bytes(target, b"new")
    assert stale.read_bytes() == b"someone else's"
    assert target.read_bytes() == b"new"


def test_new_files_get_the_usual_permissions(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    try:
        fs.write_bytes(tmp_path / "a", b"x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == 0o644


@settings(max_examples=50, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
))
def test_json_text_round_trips_and_is_canonical(data: object) -> None:
    text = fs.json_text(data)
    assert json.loads(text) == data
    assert text.endswith("\n") and fs.json_text(json.loads(text)) == text


def test_pending_file_publish_and_discard(tmp_path: Path) -> None:
    kept, dropped = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    dropped.write_text("earlier\n", encoding="utf-8")
    a, b = fs.PendingFile(kept), fs.PendingFile(dropped)
    a.write("1\n")
    b.write("2\n")
    assert not kept.exists()
    a.publish()
    b.discard()
    assert kept.read_text(encoding="utf-8") == "1\n"
    assert dropped.read_text(encoding="utf-8") == "earlier\n"
    assert names(tmp_path) == ["a.jsonl", "b.jsonl"]


def test_atomic_dir_swaps_in_and_keeps_the_old_one_on_failure(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with fs.atomic_dir(out) as building:
        assert building.name == f".run.partial-{os.getpid()}"
        (building / "a").write_text("1", encoding="utf-8")
        assert not out.exists()
    assert names(out) == ["a"]
    with pytest.raises(RuntimeError), fs.atomic_dir(out) as building:
        (building / "b").write_text("2", encoding="utf-8")
        raise RuntimeError("crash")
    assert names(out) == ["a"]
    with fs.atomic_dir(out) as building:
        (building / "c").write_text("3", encoding="utf-8")
    assert names(out) == ["c"]
    assert names(tmp_path) == ["run"]
