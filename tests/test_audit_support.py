"""Helpers shared by the audit tests (no tests here): packages built from a real demo run.

Every fixture package is generated in the test's temporary directory: the `mig demo`
legacy export taken through `mig extract`, then copied, edited, re-signed or zipped.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

from mig.demo.generator import DemoExport, generate_legacy_export
from mig.extract.run import extract

LAYOUT_IDS = ("juki-ido", "juki-jumin", "juki-setai")


def make_demo_run(base: Path, rows: int = 200) -> tuple[DemoExport, Path]:
    """A demo legacy export and the run directory `mig extract` makes of it."""
    export = generate_legacy_export(base / "legacy", rows=rows)
    out = base / "run"
    extract(export.mapping, [export.setai_csv, export.jumin_csv, export.ido_csv], out)
    return export, out


def copy_run(run: Path, dest: Path) -> Path:
    """A fresh copy of ``run`` at ``dest`` (tests edit copies, never the shared run)."""
    shutil.copytree(run, dest)
    return dest


def read_csv(path: Path) -> pl.DataFrame:
    """An intermediate CSV as text columns."""
    return pl.read_csv(path, infer_schema=False, encoding="utf8")


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """Write an intermediate CSV the way the run directory does (UTF-8, CRLF)."""
    frame.write_csv(path, line_terminator="\r\n")


def edit_csv(path: Path, edit: Callable[[pl.DataFrame], pl.DataFrame]) -> None:
    write_csv(edit(read_csv(path)), path)


def resign(run: Path) -> None:
    """Re-record every output's sha256 and size in the manifest, as if the vendor had
    produced the package exactly like this (so only the edit itself is a finding)."""
    manifest_path = run / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        for output in entry["outputs"]:
            data = (run / output["path"]).read_bytes()
            output["sha256"] = hashlib.sha256(data).hexdigest()
            output["bytes"] = len(data)
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def zip_dir(src: Path, dest: Path, top: str | None = "run") -> Path:
    """Zip a directory (deflate), under one top folder like a zipped folder would be."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            name = path.relative_to(src).as_posix()
            archive.write(path, f"{top}/{name}" if top else name)
    return dest


def all_files(root: Path) -> set[str]:
    """Every file under ``root`` (relative paths), to prove nothing was written elsewhere."""
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def values_of(run: Path, layout: str, item: str) -> list[str]:
    """Distinct non-empty values of one item (to prove none appears in a report)."""
    column = read_csv(run / "data" / f"{layout}.csv").get_column(item)
    return sorted({v for v in column.to_list() if v})
