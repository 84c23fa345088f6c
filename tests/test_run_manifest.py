"""The run directory contract: file names and the typed, versioned manifest (write → read)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.cli import main
from mig.demo.generator import generate_legacy_export
from mig.errors import ExitCode, InputError
from mig.extract.run import RunResult, extract
from mig.load import ddl_for, load_run
from mig.run.manifest import (
    FORMAT_VERSION,
    MANIFEST_NAME,
    Digest,
    FileDigest,
    GaijiEntry,
    Manifest,
    ManifestFile,
    ManifestInput,
    ManifestItem,
    Totals,
    layout_outputs,
    load_manifest,
    read_manifest,
    write_manifest,
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    export = generate_legacy_export(tmp_path_factory.mktemp("legacy"), rows=60, seed=3)
    out = tmp_path_factory.mktemp("runs") / "run"
    return extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], out)


def copy_run(run: RunResult, dest: Path, change: Any = None) -> Path:
    """A copy of the run directory whose manifest JSON went through ``change``."""
    for path in run.run_dir.rglob("*"):
        if path.is_file():
            target = dest / path.relative_to(run.run_dir)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    if change is not None:
        data = json.loads((dest / MANIFEST_NAME).read_text(encoding="utf-8"))
        change(data)
        (dest / MANIFEST_NAME).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return dest


def test_extract_writes_what_reads_back(run: RunResult) -> None:
    text = (run.run_dir / MANIFEST_NAME).read_text(encoding="utf-8")
    assert json.loads(text)["format_version"] == FORMAT_VERSION == 1
    # the file is the typed manifest's JSON form, keys sorted, two-space indent
    assert text == json.dumps(run.run_manifest.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    assert load_manifest(run.run_dir) == run.run_manifest
    assert read_manifest(run.run_dir) == run.manifest
    for entry in run.run_manifest.files:
        assert tuple(o.path for o in entry.outputs) == layout_outputs(entry.layout)
        assert entry.rows_in == entry.rows_out + entry.rows_rejected


def test_round_trip_of_every_field(tmp_path: Path) -> None:
    item = ManifestItem(name="生年月日", type="日付", length=8, bytes=None, required=True, unknown="day", no=3)
    text = ManifestItem(name="氏名", type="混在文字", length=60, bytes=120, unknown="none", no=4, extension=True)
    file = ManifestFile(
        layout="juki-jumin", layout_name="住民(個人)", business="住民基本台帳", items=(item, text),
        primary_key=("生年月日",), rows_in=5, rows_out=3, rows_rejected=2,
        outputs=(FileDigest("data/juki-jumin.parquet", "ab" * 32, 10),),
    )
    manifest = Manifest(
        tool_version="9.9", created_at="2026-01-02T03:04:05Z", adapter="copybook",
        mapping=Digest("mapping.toml", "cd" * 32),
        gaiji=GaijiEntry("vendor-x", (Digest("r.csv", "ef" * 32),), confirmed=7),
        inputs=(ManifestInput("JUMIN.dat", "01" * 32, 99, "juki-jumin", "jef", {"records": 5}),),
        files=(file,), totals=Totals(5, 3, 2),
    )
    write_manifest(tmp_path, manifest)
    assert load_manifest(tmp_path) == manifest
    assert json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8")) == manifest.to_dict()


def test_manifest_without_format_version_still_reads_and_loads(run: RunResult, tmp_path: Path) -> None:
    def older(data: dict[str, Any]) -> None:  # as written before format_version, gaiji and "unknown"
        del data["format_version"], data["gaiji"]
        for entry in data["files"]:
            for item in entry["items"]:
                del item["unknown"]

    old = copy_run(run, tmp_path / "old", older)
    manifest = load_manifest(old)
    assert manifest.format_version is None and manifest.gaiji is None
    assert [f.layout for f in manifest.files] == [f.layout for f in run.run_manifest.files]
    assert manifest.totals == run.run_manifest.totals
    jumin = manifest.file("juki-jumin")
    assert jumin is not None and all(item.unknown is None for item in jumin.items)
    # a 日付 of unknown 不詳-ness stays text, as before
    assert '"生年月日" DATE' not in ddl_for(jumin, "postgresql")
    result = load_run(old, f"sqlite:///{tmp_path / 'old.db'}")
    assert [f.rows_loaded for f in result.files] == [f.rows_out for f in manifest.files]


@pytest.mark.parametrize("version", [99, FORMAT_VERSION + 1])
def test_newer_format_version_is_refused_by_name(run: RunResult, tmp_path: Path, version: int) -> None:
    newer = copy_run(run, tmp_path / "newer", lambda m: m.__setitem__("format_version", version))
    with pytest.raises(InputError, match=rf"manifest.json: format_version {version} is newer than this mig reads \(up to 1\)") as info:
        load_manifest(newer)
    assert info.value.exit_code == ExitCode.UNREADABLE_INPUT
    result = CliRunner().invoke(main, ["load", str(newer), "--target", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == ExitCode.UNREADABLE_INPUT
    assert f"format_version {version} is newer" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("bad", ["1", True, 0, -1, 1.0, None])
def test_format_version_must_be_a_positive_integer(run: RunResult, tmp_path: Path, bad: Any) -> None:
    broken = copy_run(run, tmp_path / "bad", lambda m: m.__setitem__("format_version", bad))
    if bad is None:  # an explicit null reads like a manifest without the key
        assert load_manifest(broken).format_version is None
        return
    with pytest.raises(InputError, match="'format_version' must be a positive integer"):
        load_manifest(broken)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.__setitem__("totals", {"rows_in": -1}), "'totals' must hold"),
        (lambda m: m["inputs"][0].__setitem__("sha256", "xyz"), r"inputs\[0\]: 'sha256' must be 64 hex digits"),
        (lambda m: m.__setitem__("gaiji", {"source": 3}), "gaiji: must be null or an object"),
        (lambda m: m.__setitem__("mapping", []), "'mapping' must be an object"),
        (lambda m: m["files"][0]["items"][0].__setitem__("no", "1"), "'no' must be a non-negative integer"),
        (lambda m: m["files"][0].__setitem__("rows_in", "5"), "'rows_in' must be an integer"),
        (lambda m: m.__setitem__("created_at", 5), "'created_at' must be a string"),
    ],
)
def test_malformed_fields_name_the_rule(run: RunResult, tmp_path: Path, change: Any, message: str) -> None:
    broken = copy_run(run, tmp_path / "broken", change)
    with pytest.raises(InputError, match=message):
        load_manifest(broken)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 2**70) | st.text(max_size=5) | st.floats(allow_nan=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hostile_manifest_gives_one_error_never_a_crash(run: RunResult, data: st.DataObject) -> None:
    manifest = run.manifest
    paths = _paths(manifest)
    where = data.draw(st.sampled_from(paths[1:]))
    value = data.draw(_json)
    target: Any = manifest
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    try:
        parsed = Manifest.from_dict(manifest)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(parsed, Manifest)
