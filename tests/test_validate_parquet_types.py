"""Intermediate Parquet files with columns that cannot be text (nested types, binary that is
not UTF-8) are one-line input errors naming the column and its type — for ``mig validate``
(exit 3) and ``mig audit`` (a ``file-unreadable`` finding) — never a traceback."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from mig.audit import audit_package
from mig.cli import main
from mig.errors import ExitCode, InputError
from mig.layout import get_layout
from mig.validation.files import parquet_batches, validate_files

SETAI = get_layout("juki-setai")


def setai_table(extra: dict[str, pa.Array]) -> pa.Table:
    columns: dict[str, pa.Array] = {name: pa.array(["1", "2"]) for name in SETAI.item_names}
    return pa.table({**columns, **extra})


NESTED = {
    "list": pa.array([[1, 2], [3]]),
    "large_list": pa.array([["a"], []], pa.large_list(pa.string())),
    "fixed_size_list": pa.array([[1, 2], [3, 4]], pa.list_(pa.int32(), 2)),
    "struct": pa.array([{"a": 1}, {"a": 2}]),
    "map": pa.array([[("k", 1)], []], pa.map_(pa.string(), pa.int64())),
}


@pytest.mark.parametrize("kind", sorted(NESTED))
def test_nested_column_is_one_line_naming_column_and_type(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "juki-setai.parquet"
    pq.write_table(setai_table({"X": NESTED[kind]}), path)
    with pytest.raises(InputError, match=rf"column 'X' has the nested Parquet type {kind.split('_')[0]}"):
        parquet_batches(path)
    result = CliRunner().invoke(main, ["validate", str(path), "-l", "juki-setai"])
    assert result.exit_code == ExitCode.UNREADABLE_INPUT, result.output
    assert "Traceback" not in result.output
    [line] = result.stderr.splitlines()
    assert line.startswith(f"mig: error: {path}: column 'X' has the nested Parquet type")
    report = audit_package(tmp_path)
    [unreadable] = [f for f in report.findings if f.type == "file-unreadable"]
    assert unreadable.path == "juki-setai.parquet" and not report.passed
    assert "column 'X' has the nested Parquet type" in unreadable.message


def test_binary_columns_must_be_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "juki-setai.parquet"
    pq.write_table(setai_table({"B": pa.array([b"ok", "住所".encode()])}), path)
    report = validate_files([path], "juki-setai")  # binary that is UTF-8 reads as text
    assert report.files[0].rows_in == 2 and report.files[0].unmapped_columns == ["B"]
    pq.write_table(setai_table({"B": pa.array([b"ok", b"\xff\xfe"])}), path)
    with pytest.raises(InputError, match=r"column 'B' \(binary\) holds values that are not UTF-8 text"):
        validate_files([path], "juki-setai")


def test_flat_types_still_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "juki-setai.parquet"
    pq.write_table(setai_table({
        "F": pa.array([1.5, None]), "D": pa.array(["a", "b"]).dictionary_encode(), "N": pa.nulls(2),
    }), path)
    columns, batches = parquet_batches(path)
    [frame] = list(batches)
    assert columns[-3:] == ["F", "D", "N"]
    assert frame.get_column("row").to_list() == [1, 2]
    assert frame.get_column("F").to_list() == ["1.5", None] and frame.get_column("D").to_list() == ["a", "b"]
