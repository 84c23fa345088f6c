"""Hostile packages: zip bombs, path traversal, symlinks, lying headers, special files.

Each is refused (or reported) with a clear message while the audit goes on with what is
safe, and nothing is written outside the audit's private work directory — which is gone
when the audit ends.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import struct
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_audit_support import all_files, make_demo_run, zip_dir

from mig.audit import AuditOptions, Limits, audit_package
from mig.audit.package import Entry, EntryError, _Hasher, _LimitedReader, display_name, unsafe_name
from mig.demo.generator import DemoExport
from mig.errors import InputError


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoExport, Path]:
    return make_demo_run(tmp_path_factory.mktemp("audit-hostile"))


@pytest.fixture
def setai_csv(demo: tuple[DemoExport, Path]) -> bytes:
    return (demo[1] / "data" / "juki-setai.csv").read_bytes()


def refusals(report, path: str | None = None) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {
        f.path: (f.type, f.detail) for f in report.findings
        if f.type in ("entry-unsafe", "zip-bomb") and (path is None or f.path == path)
    }


def audit_in(tmp_path: Path, package: Path, **options: object):  # type: ignore[no-untyped-def]
    """Audit with the work directory under tmp_path; check it is left empty."""
    work = tmp_path / "work"
    report = audit_package(package, AuditOptions(work_root=work, **options))  # type: ignore[arg-type]
    assert not work.exists() or all_files(work) == set()
    return report


def test_zipped_run_directory_passes_like_the_directory(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    package = zip_dir(demo[1], tmp_path / "handover.zip")
    report = audit_in(tmp_path, package)
    direct = audit_package(demo[1])
    assert report.passed and report.package_kind == "zip" and len(report.package_sha256) == 64
    assert [(f.path, f.rows, f.sha256) for f in report.files] == [(f.path, f.rows, f.sha256) for f in direct.files]
    assert [f.type for f in report.findings] == [f.type for f in direct.findings]


def test_zip_bomb_is_refused_from_the_central_directory(setai_csv: bytes, tmp_path: Path) -> None:
    package = tmp_path / "bomb.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("juki-setai.csv", setai_csv)
        with archive.open("juki-jumin.csv", "w") as member:  # 64 MiB of zeros, ~64 KiB compressed
            block = b"\0" * (1024 * 1024)
            for _ in range(64):
                member.write(block)
    before = all_files(tmp_path)
    report = audit_in(tmp_path, package)
    kind, detail = refusals(report)["juki-jumin.csv"]
    assert kind == "zip-bomb" and "compression ratio" in detail
    assert [f.path for f in report.files] == ["juki-setai.csv"]  # the safe entry is audited
    statuses = {x.layout: x.status for x in report.businesses[0].layouts}
    assert statuses["juki-jumin"] == "refused" and not report.passed
    assert all_files(tmp_path) - before <= {"work"}  # nothing written anywhere else


def test_total_size_limit_refuses_what_does_not_fit(setai_csv: bytes, tmp_path: Path) -> None:
    package = tmp_path / "big.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("juki-setai.csv", setai_csv)
        archive.writestr("juki-ido.csv", setai_csv)
    limits = Limits(max_total_bytes=len(setai_csv) + 10)
    report = audit_in(tmp_path, package, limits=limits)
    # entries are taken in central-directory order until the total is spent
    assert refusals(report) == {
        "juki-ido.csv": ("zip-bomb", f"the package would inflate beyond the total limit of {len(setai_csv) + 10} bytes")
    }
    assert [f.path for f in report.files] == ["juki-setai.csv"]


def test_limits_are_enforced_on_the_bytes_actually_inflated() -> None:
    # a stream that yields more than its entry declares (a lying header) is stopped
    entry = Entry("x.csv", size=1000, compressed=10)
    reader = _LimitedReader(io.BytesIO(b"a" * 5000), entry, Limits(), [0])
    with pytest.raises(EntryError, match="beyond its declared 1000 bytes"):
        while reader.read(512):
            pass
    # the package total is shared across entries
    spent = [0]
    limits = Limits(max_total_bytes=1500)
    first = _LimitedReader(io.BytesIO(b"a" * 1000), Entry("a", 1000, 1000), limits, spent)
    assert len(first.read(4096)) == 1000
    second = _LimitedReader(io.BytesIO(b"b" * 1000), Entry("b", 1000, 1000), limits, spent)
    with pytest.raises(EntryError, match="total limit"):
        second.read(4096)
    # the ratio, on real bytes, once past the floor
    ratio = _LimitedReader(io.BytesIO(b"c" * 4096), Entry("c", 4096, 4), Limits(max_ratio=10, ratio_floor=100), [0])
    with pytest.raises(EntryError, match="10× its compressed size"):
        ratio.read(4096)


def _patch_sizes(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite the uncompressed size an entry declares (local header and central directory)."""
    out = bytearray(data)
    local = out.index(b"PK\x03\x04")
    struct.pack_into("<I", out, local + 22, size)
    central = out.index(b"PK\x01\x02")
    while out[central + 46:central + 46 + len(name)] != name:
        central = out.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<I", out, central + 24, size)
    return bytes(out)


def test_lying_header_is_caught_while_reading(setai_csv: bytes, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("juki-setai.csv", setai_csv)
    package = tmp_path / "liar.zip"
    package.write_bytes(_patch_sizes(buffer.getvalue(), b"juki-setai.csv", 1000))
    report = audit_in(tmp_path, package)
    kind, detail = refusals(report)["juki-setai.csv"]
    assert kind == "entry-unsafe" and "corrupt member" in detail and "CRC" in detail
    assert report.files == [] and not report.passed


def test_traversal_and_absolute_names_are_refused(setai_csv: bytes, tmp_path: Path) -> None:
    token = f"evil-{os.getpid()}"
    names = {
        f"../{token}-1.csv": "path leaves the package (..)",
        f"data/../../{token}-2.csv": "path leaves the package (..)",
        f"/tmp/{token}-3.csv": "absolute path",
        f"C:/{token}-4.csv": "drive letter (absolute path)",
        f"..\\{token}-5.csv": "backslash in name",
    }
    package = tmp_path / "pkg" / "traversal.zip"
    package.parent.mkdir()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("juki-setai.csv", setai_csv)
        for name in names:
            info = zipfile.ZipInfo("placeholder")
            info.filename = name  # ZipInfo would normalise some of these; write them raw
            archive.writestr(info, setai_csv)
    before = all_files(tmp_path)
    report = audit_in(tmp_path, package)
    assert {path: detail for path, (_, detail) in refusals(report).items()} == names
    assert [f.path for f in report.files] == ["juki-setai.csv"]
    assert all_files(tmp_path) - before <= {"work"}
    for root in (tmp_path, tmp_path.parent, Path(tempfile.gettempdir()), Path("/tmp"), Path.cwd()):
        assert not [p for p in root.glob(f"{token}*")], root


def test_symlink_entries_in_a_zip_are_refused(setai_csv: bytes, tmp_path: Path) -> None:
    package = tmp_path / "links.zip"
    with zipfile.ZipFile(package, "w") as archive:
        link = zipfile.ZipInfo("juki-jumin.csv")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        fifo = zipfile.ZipInfo("juki-ido.csv")
        fifo.create_system = 3
        fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
        archive.writestr(fifo, "")
        archive.writestr("juki-setai.csv", setai_csv)
    report = audit_in(tmp_path, package)
    assert refusals(report) == {
        "juki-jumin.csv": ("entry-unsafe", "symbolic link (not followed)"),
        "juki-ido.csv": ("entry-unsafe", "not a regular file"),
    }
    assert [f.path for f in report.files] == ["juki-setai.csv"]


def test_duplicate_names_encryption_and_other_methods_are_refused(setai_csv: bytes, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("juki-setai.csv", setai_csv)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("juki-setai.csv", b"other\r\n")
        archive.writestr("juki-ido.csv", setai_csv, compress_type=zipfile.ZIP_BZIP2)
        archive.writestr("secret.txt", b"x")
    data = bytearray(buffer.getvalue())
    # mark secret.txt encrypted in the central directory
    central = data.index(b"PK\x01\x02")
    while data[central + 46:central + 56] != b"secret.txt":
        central = data.index(b"PK\x01\x02", central + 4)
    struct.pack_into("<H", data, central + 8, struct.unpack_from("<H", data, central + 8)[0] | 1)
    package = tmp_path / "odd.zip"
    package.write_bytes(bytes(data))
    report = audit_in(tmp_path, package)
    found = refusals(report)
    assert found["juki-setai.csv"] == ("entry-unsafe", "the name appears 2 times")
    assert found["juki-ido.csv"][1].startswith("compression method 12")
    assert found["secret.txt"] == ("entry-unsafe", "encrypted")
    assert report.files == []


def test_overlapping_entries_are_refused(setai_csv: bytes, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("juki-setai.csv", setai_csv)
    data = buffer.getvalue()
    start = data.index(b"PK\x01\x02")
    end = data.index(b"PK\x05\x06")
    record = data[start:end]
    twin = record.replace(b"juki-setai.csv", b"juki-jumin.csv")  # same local header offset
    eocd = bytearray(data[end:])
    struct.pack_into("<HHII", eocd, 8, 2, 2, len(record) * 2, start)
    package = tmp_path / "overlap.zip"
    package.write_bytes(data[:start] + record + twin + bytes(eocd))
    report = audit_in(tmp_path, package)
    assert refusals(report) == {
        "juki-setai.csv": ("zip-bomb", "its data overlaps another entry"),
        "juki-jumin.csv": ("zip-bomb", "its data overlaps another entry"),
    }


def test_directory_symlinks_and_special_files_are_not_followed(setai_csv: bytes, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "juki-jumin.csv").write_bytes(setai_csv)
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "juki-setai.csv").write_bytes(setai_csv)
    (package / "juki-jumin.csv").symlink_to(outside / "juki-jumin.csv")
    (package / "sub").symlink_to(outside, target_is_directory=True)
    os.mkfifo(package / "juki-ido.csv")  # opening it would block the audit for ever
    report = audit_package(package)
    assert refusals(report) == {
        "juki-jumin.csv": ("entry-unsafe", "symbolic link (not followed)"),
        "sub": ("entry-unsafe", "symbolic link (not followed)"),
        "juki-ido.csv": ("entry-unsafe", "not a regular file (device, FIFO or socket)"),
    }
    assert [f.path for f in report.files] == ["juki-setai.csv"]
    assert {x.layout: x.status for x in report.businesses[0].layouts} == {
        "juki-ido": "refused", "juki-jumin": "refused", "juki-setai": "present",
    }


def test_not_a_package(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="not a directory or a zip archive"):
        audit_package(tmp_path / "x.txt")
    broken = tmp_path / "broken.zip"
    good = io.BytesIO()
    with zipfile.ZipFile(good, "w") as archive:
        archive.writestr("a.csv", "a\r\n")
    broken.write_bytes(good.getvalue()[:-30] + b"\0" * 30)
    with pytest.raises(InputError):
        audit_package(broken)


def test_names_and_cp932_zips() -> None:
    assert unsafe_name("data/juki-setai.csv") is None
    assert unsafe_name("a/\x01b") == "control character in name"
    info = zipfile.ZipInfo("住民.csv".encode("cp932").decode("cp437"))  # a Japanese Windows zip, no UTF-8 flag
    assert info.flag_bits == 0 and display_name(info) == "住民.csv"


def test_work_directory_is_removed(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    package = zip_dir(demo[1], tmp_path / "handover.zip", top=None)
    work = tmp_path / "work"
    audit_package(package, AuditOptions(work_root=work))
    assert work.is_dir() and list(work.iterdir()) == []
    shutil.rmtree(work)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300).map(lambda b: b.replace(b"\x00", b"\n")), st.lists(st.integers(1, 40), max_size=30))
def test_digest_counts_lines_and_the_longest_line(data: bytes, cuts: list[int]) -> None:
    hasher = _Hasher()
    position = 0
    for size in cuts + [len(data)]:
        hasher.update(data[position:position + size])
        position += size
    digest = hasher.result()
    assert digest.line_feeds == data.count(b"\n") and digest.bytes == len(data)
    assert digest.longest_line == max(len(line) for line in data.split(b"\n"))
    assert digest.sha256 == hashlib.sha256(data).hexdigest()


def test_csv_with_an_endless_line_is_not_parsed(setai_csv: bytes, tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "juki-setai.csv").write_bytes(setai_csv)
    (package / "juki-ido.csv").write_bytes(setai_csv.splitlines()[0] + b"\r\n" + b"9" * 5000)
    report = audit_package(package, AuditOptions(limits=Limits(max_line_bytes=1000)))
    [unreadable] = [f for f in report.findings if f.type == "file-unreadable"]
    assert (unreadable.path, unreadable.detail) == (
        "juki-ido.csv", "a line is longer than 1000 bytes (not parsed, to bound memory)"
    )
    assert {f.path: bool(f.read_error) for f in report.files} == {"juki-ido.csv": True, "juki-setai.csv": False}


def test_a_runs_findings_are_not_taken_for_layout_data(demo: tuple[DemoExport, Path], tmp_path: Path) -> None:
    package = tmp_path / "outer"
    shutil.copytree(demo[1], package / "run")
    report = audit_package(package)
    assert sorted(f.path for f in report.files) == sorted(
        f"run/data/{lid}.{ext}" for lid in ("juki-ido", "juki-jumin", "juki-setai") for ext in ("csv", "parquet")
    )
    unexpected = {f.path for f in report.findings if f.type == "file-unexpected"}
    assert "run/findings/juki-jumin.parquet" in unexpected and "run/rejects/juki-jumin.jsonl" in unexpected


def test_lying_header_on_a_vendor_named_file_is_caught_while_recognising(setai_csv: bytes, tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("世帯.csv", setai_csv)
    package = tmp_path / "liar.zip"
    package.write_bytes(_patch_sizes(buffer.getvalue(), "世帯.csv".encode(), 1000))
    report = audit_in(tmp_path, package)
    kind, detail = refusals(report)["世帯.csv"]  # reading its head to recognise it already refuses it
    assert kind == "entry-unsafe" and "corrupt member" in detail
    assert report.files == [] and not report.passed
