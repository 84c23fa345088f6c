"""A package's ``control.csv`` may be anything: a huge field, a count past Python's
integer-digit limit, a stray quote or column names made of data are one ``control-invalid``
finding naming the rule and the line, never a traceback and never the cell's content."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mig.audit import audit_package
from mig.audit.control import parse_control
from mig.errors import InputError

SECRET = "QZX7SECRET"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("file,rows\nx.csv," + "1" * 5000 + "\n", "(line 2): rows must be a non-negative integer of at most 18 digits"),
        ("file,rows,bytes\nx.csv,1," + "9" * 19 + "\n", "bytes must be a non-negative integer of at most 18 digits"),
        (SECRET * 20_000, "(line 1): no header row naming a file column"),
        (f"file,rows\nx.csv,1\n\"{SECRET}" + "x" * 200_000, "not CSV"),
        (f"{SECRET},rows\n", "(line 1): no header row naming a file column"),
    ],
    ids=["huge-rows", "long-bytes", "long-field", "stray-quote", "data-as-column"],
)
def test_hostile_control_file(tmp_path: Path, text: str, rule: str) -> None:
    path = tmp_path / "control.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(rule)) as info:
        parse_control(path)
    assert SECRET not in str(info.value)
    (tmp_path / "juki-setai.csv").write_text("世帯番号\r\n1\r\n", encoding="utf-8")
    report = audit_package(tmp_path)
    [invalid] = [f for f in report.findings if f.type == "control-invalid"]
    assert invalid.path == "control.csv" and SECRET not in invalid.message and not report.passed
