"""JSON from outside (a run's manifest, a package's manifest, a bundle's ``bundle.json``) is
read through :func:`mig.fs.read_json`: size checked before reading, depth before parsing,
every problem one :class:`~mig.errors.InputError` (exit 3) that names the file, never its
content."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_audit_support import make_demo_run

from mig.audit import audit_package
from mig.cli import main
from mig.errors import ExitCode, InputError
from mig.fs import json_depth, read_json
from mig.load.bundle import _is_bundle
from mig.run.manifest import load_manifest

SECRET = "QZX7SECRET"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_run(tmp_path_factory.mktemp("read-json"), rows=60)[1]


def run_with_manifest(demo_run: Path, tmp_path: Path, text: str | bytes) -> Path:
    run = tmp_path / "run"
    shutil.copytree(demo_run, run)
    data = text.encode() if isinstance(text, str) else text
    (run / "manifest.json").write_bytes(data)
    return run


@pytest.mark.parametrize(
    ("data", "depth"),
    [
        (b"", 0), (b"1", 0), (b"[]", 1), (b"[[1], [2, [3]]]", 3), (b'{"a": "[[[{{{"}', 1),
        (b'["\\"[", ["\\\\"], "]]]"]', 2), (b'{"k\\"{": {"x": []}}', 3), (b"[" * 1000, 1000),
    ],
)
def test_depth_ignores_brackets_inside_strings(data: bytes, depth: int) -> None:
    assert json_depth(data) == depth


def test_limits_and_messages(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"a": [1, 2]}', encoding="utf-8")
    assert read_json(path) == {"a": [1, 2]}
    cases: list[tuple[bytes, dict[str, int], str]] = [
        (b"[" * 200_000, {}, "JSON nested deeper than 64 levels"),
        (b"[" * 11 + b"]" * 11, {"max_depth": 10}, "nested deeper than 10"),
        (b'{"a": "' + b"x" * 200 + b'"}', {"max_bytes": 100}, "larger than 100 bytes"),
        (b'{"n": ' + b"9" * 5000 + b"}", {}, "not valid JSON"),
        (b'{"a": "' + SECRET.encode() + b'" ,,}', {}, "not valid JSON"),
        (b'{"a": "\xff' + SECRET.encode() + b'"}', {}, "not UTF-8"),
    ]
    for data, limits, rule in cases:
        path.write_bytes(data)
        with pytest.raises(InputError, match=rule) as info:
            read_json(path, **limits)
        assert info.value.exit_code == ExitCode.UNREADABLE_INPUT
        assert str(path) in str(info.value) and SECRET not in str(info.value)
    with pytest.raises(InputError, match="not found"):
        read_json(tmp_path / "missing.json")
    with pytest.raises(InputError, match="found a directory"):
        read_json(tmp_path)


@pytest.mark.parametrize(
    "text",
    ["[" * 200_000, '{"a":' * 200_000, '{"format_version": ' + "1" * 5000 + "}", '{"files": [' * 40 + "]}" * 40],
    ids=["arrays", "objects", "huge-int", "deep-files"],
)
def test_hostile_manifest_is_one_line_for_load_and_audit(demo_run: Path, tmp_path: Path, text: str) -> None:
    run = run_with_manifest(demo_run, tmp_path, text)
    with pytest.raises(InputError) as info:
        load_manifest(run)
    assert info.value.exit_code == ExitCode.UNREADABLE_INPUT
    result = CliRunner().invoke(main, ["load", str(run), "--target", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == ExitCode.UNREADABLE_INPUT, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("mig: error: ")
    assert not (tmp_path / "x.db").exists()
    report = audit_package(run)
    invalid = [f for f in report.findings if f.type == "control-invalid"]
    assert [f.path for f in invalid] == ["manifest.json"] and not report.passed
    result = CliRunner().invoke(main, ["audit", str(run)])
    assert result.exit_code == ExitCode.FINDINGS and "Traceback" not in result.output


def test_oversized_manifest_is_not_read(demo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mig.fs

    run = run_with_manifest(demo_run, tmp_path, (demo_run / "manifest.json").read_bytes())
    monkeypatch.setattr(mig.fs, "JSON_MAX_BYTES", 1000)
    with pytest.raises(InputError, match=r"manifest.json: manifest larger than 1000 bytes"):
        load_manifest(run)


def test_a_hostile_bundle_json_is_not_a_bundle(tmp_path: Path) -> None:
    (tmp_path / "bundle.json").write_text("[" * 200_000, encoding="utf-8")
    assert not _is_bundle(tmp_path)
    (tmp_path / "bundle.json").write_text(json.dumps({"kind": "mig-loader-bundle"}), encoding="utf-8")
    assert _is_bundle(tmp_path)
