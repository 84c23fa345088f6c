"""Fuzzing what ``mig load`` and ``mig audit`` read from others: run-directory manifests and
handover packages (zip files).

Manifests: random JSON, structural mutations of a real run's manifest (a node replaced,
removed, duplicated or wrapped), deep nesting and huge numbers — through ``mig load`` into
SQLite and through ``mig audit``. Packages: zips whose entries have names with ``..``,
absolute paths, drive letters, backslashes, control characters, duplicates, empty and large
(compressible) sizes, nested zips several levels deep — through ``mig audit``.

Properties: the command ends with a ``mig`` exit code (0–3) and never a traceback (only
:class:`mig.errors.MigError` inside); nothing is written outside the output (the SQLite
file; the audit's work directory, empty again at the end); the run directory or package is
left as it was; no data value (``SECRET``, in the data rows) appears in any output.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import tempfile
import warnings
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.cli import main

from .fuzzcount import tried

#: A data value: never in a message or a default-mode report.
SECRET = "QZX7SECRET"

MAPPING = """
adapter = "csv"
[[files]]
layout = "juki-setai"
inputs = ["*.csv"]
[files.items]
"団体コード" = { const = "131016" }
"世帯番号" = { column = "C0" }
"世帯主氏名" = { column = "C1" }
"住所" = { column = "C2" }
"世帯となった年月日" = { const = "20200401" }
"異動事由" = { const = "01" }
"""


@cache
def real_run() -> Path:
    """A small run directory with SECRET in its data (made once per session)."""
    from mig.extract.run import extract

    root = Path(tempfile.mkdtemp(prefix="mig-fuzz-run-"))
    (root / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    rows = [f"{n},{SECRET}{n},東京都{SECRET}" for n in range(1, 6)]
    (root / "in.csv").write_text("C0,C1,C2\r\n" + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    extract(root / "mapping.toml", [root / "in.csv"], root / "run")
    return root / "run"


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(Path(d, f).relative_to(root)): Path(d, f).read_bytes()
        for d, _, files in os.walk(root) for f in files
    }


def mig(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def check_result(result: Result) -> None:
    """A mig exit code, no traceback, no data value in what was printed."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # hypothesis shows the input and the traceback
    assert result.exit_code in (0, 1, 2, 3), result.output
    assert "Traceback" not in result.output
    assert SECRET not in result.output, result.output


# -- manifests ----------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["", "data/juki-setai.csv", "../x", "/etc/passwd", "juki-setai", "0" * 64]),
)
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def paths_of(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys / indexes) to a node of a JSON tree, the root first."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths_of(value, (*prefix, index))
    return found


@st.composite
def mutated_manifests(draw: st.DrawFn) -> bytes:
    """The real manifest with one to three structural mutations, as JSON text."""
    data = json.loads((real_run() / "manifest.json").read_text(encoding="utf-8"))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_of(data)))
        if not path:
            data = draw(json_values)
            continue
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        action = draw(st.sampled_from(["replace", "remove", "duplicate", "wrap", "huge", "deep"]))
        if action == "remove":
            del parent[key]
        elif action == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        elif action == "wrap":
            parent[key] = draw(st.sampled_from([[parent[key]], {"x": parent[key]}]))
        elif action == "huge":
            parent[key] = draw(st.sampled_from([10**30, -(10**30), 1e308, -1e-308, 2**63, 2**64 - 1]))
        elif action == "deep":
            parent[key] = json.loads("[" * 60 + "]" * 60)
        else:
            parent[key] = draw(json_values)
    return json.dumps(data, ensure_ascii=draw(st.booleans())).encode()


raw_manifests = st.one_of(
    st.builds(lambda n, o: (o * n).encode(), st.integers(1, 300_000), st.sampled_from(["[", "{\"a\":", "[{\"b\":"])),
    st.builds(lambda n: b'{"format_version": ' + b"7" * n + b"}", st.integers(1, 20_000)),
    st.builds(lambda v: json.dumps(v).encode(), json_values),
    st.binary(max_size=64),
    st.sampled_from([b"", b"NaN", b'{"files": Infinity}', b'{"files": [], "totals": -0}', b"\xef\xbb\xbf{}", b"null"]),
)


@settings(max_examples=45, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(manifest=st.one_of(mutated_manifests(), raw_manifests))
def test_load_and_audit_any_manifest(manifest: bytes) -> None:
    tried("mig load + audit (run manifest)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run = Path(shutil.copytree(real_run(), root / "run"))
        (run / "manifest.json").write_bytes(manifest)
        before = snapshot(root)
        result = mig("load", run, "--target", f"sqlite:///{root / 'out.db'}")
        check_result(result)
        after = snapshot(root)
        assert {k: v for k, v in after.items() if k != "out.db"} == before, "load wrote outside its target"
        if result.exit_code != 0:
            assert "out.db" not in after or result.exit_code == 1
        for args in (("audit", run), ("audit", run, "--json")):
            result = mig(*args)
            check_result(result)
            assert result.exit_code in (0, 1), result.output  # what is in a package is a finding
        # the one file an audit adds: its report, beside the package (run → run.audit.html)
        after = snapshot(root)
        assert "run.audit.html" in after, "the audit wrote no report beside the package"
        assert {k: v for k, v in after.items() if k not in ("out.db", "run.audit.html")} == before, "audit changed the package"


# -- packages -----------------------------------------------------------------------------

NAMES = [
    "juki-setai.csv", "data/juki-setai.csv", "manifest.json", "control.csv", "x/../juki-setai.csv",
    "../evil-QZX7.csv", "../../evil-QZX7.csv", "/tmp/evil-QZX7.csv", "C:/evil-QZX7.csv", "a\\..\\evil-QZX7.csv",
    "dir/", "juki-setai.csv\x07", "juki\x00setai.csv", "juki\nsetai.csv", "é/juki-setai.csv", "nested.zip",
    "juki-setai.parquet", "report.html", "rejects/juki-setai.jsonl", "." * 3, "a/" * 40 + "x.csv",
]


@st.composite
def zip_packages(draw: st.DrawFn, depth: int = 0) -> bytes:
    """A zip of a few entries (names from NAMES or random; contents a real file, random
    bytes, zeros or another zip), possibly duplicated names, stored or deflated."""
    run = real_run()
    contents = [
        (run / "data" / "juki-setai.csv").read_bytes(), (run / "manifest.json").read_bytes(),
        b"file,rows\njuki-setai.csv,5\n", b"", b"\0" * draw(st.sampled_from([1, 4096, 3 * 1024 * 1024])),
    ]
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # duplicate names are the point
        for _ in range(draw(st.integers(0, 5))):
            name = draw(st.one_of(st.sampled_from(NAMES), st.text(min_size=1, max_size=12)))
            kind = draw(st.sampled_from(["real", "bytes", "zip"] if depth < 3 else ["real", "bytes"]))
            if kind == "real":
                data = draw(st.sampled_from(contents))
            elif kind == "bytes":
                data = draw(st.binary(max_size=200))
            else:
                data = draw(zip_packages(depth + 1))
            method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
            info = zipfile.ZipInfo(name)
            info.compress_type = method
            if draw(st.booleans()):
                info.external_attr = draw(st.sampled_from([0o120777, 0o060644, 0o100644, 0o040755])) << 16
            try:
                archive.writestr(info, data)
            except (ValueError, OSError):  # a name zipfile itself refuses to write
                continue
    return buffer.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(package=zip_packages(), max_mib=st.sampled_from([2, 64]), ratio=st.sampled_from([2.0, 200.0]))
def test_audit_any_zip_package(package: bytes, max_mib: int, ratio: float) -> None:
    tried("mig audit (zip package)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "a" / "b"  # room for ../ names to land in, if anything wrote them
        root.mkdir(parents=True)
        path = root / "handover.zip"
        path.write_bytes(package)
        work = root / "work"
        work.mkdir()
        before = snapshot(Path(tmp))
        os.environ["TMPDIR"] = str(work)  # the audit's private work directory goes here
        tempfile.tempdir = None
        try:
            result = mig("audit", path, "--json", "--max-unpacked-gib", str(max_mib / 1024), "--max-ratio", str(ratio))
        finally:
            del os.environ["TMPDIR"]
            tempfile.tempdir = None
        check_result(result)
        assert result.exit_code in (0, 1), result.output
        after = snapshot(Path(tmp))
        report_file = "a/b/handover.audit.html"  # the one file an audit adds: its report, beside the package
        assert report_file in after, "the audit wrote no report beside the package"
        assert {k: v for k, v in after.items() if k != report_file} == before, (
            "the audit wrote outside its work directory or changed the package"
        )
        assert not any(work.iterdir()), "the audit's work directory was not removed"
        assert not any(p.name.startswith("evil-") for p in Path(tmp).rglob("*"))
        assert not Path("/tmp/evil-QZX7.csv").exists()
        report = json.loads(result.stdout)
        assert report["package_kind"] == "zip"
