"""Reading a run directory's ``manifest.json`` and checking the files it lists.

The manifest is the contract between ``mig extract`` and everything downstream: the
load step trusts nothing in a run directory that the manifest does not vouch for.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

from mig.errors import InputError
from mig.layout import entry_name_problem
from mig.run.writer import sha256_file

MANIFEST_NAME = "manifest.json"


def read_manifest(run_dir: Path) -> dict[str, Any]:
    """Read and structurally check ``run_dir/manifest.json``.

    A missing run directory or manifest, bad JSON, or a manifest lacking what the load
    step needs raises :class:`~mig.errors.InputError` naming the file.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(str(run_dir), "run directory not found")
    path = run_dir / MANIFEST_NAME
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(where, "manifest not found; is this a run directory?") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(where, f"cannot read manifest ({type(exc).__name__})") from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(where, f"not valid JSON ({exc.msg})", line=exc.lineno) from None
    if not isinstance(manifest, dict):
        raise InputError(where, "manifest must be a JSON object")
    files = manifest.get("files")
    if not isinstance(files, list):
        raise InputError(where, "'files' must be a list")
    layouts: set[str] = set()
    for index, entry in enumerate(files):
        check_file_entry(entry, where, f"files[{index}]")
        if entry["layout"] in layouts:
            raise InputError(where, f"files[{index}]: layout {entry['layout']!r} listed twice")
        layouts.add(entry["layout"])
    return manifest


def check_file_entry(entry: Any, where: str, label: str = "file entry") -> None:
    """Check one ``files[]`` entry of a manifest; raise InputError(where, …) if malformed."""
    check_table_entry(entry, where, label)
    label = f"{label} ({entry['layout']})"

    def fail(rule: str) -> InputError:
        return InputError(where, f"{label}: {rule}")

    for key in ("rows_out", "rows_rejected"):
        if not _is_count(entry.get(key)):
            raise fail(f"{key!r} must be a non-negative integer")
    outputs = entry.get("outputs")
    if not isinstance(outputs, list):
        raise fail("'outputs' must be a list")
    for n, output in enumerate(outputs):
        if not isinstance(output, dict):
            raise fail(f"outputs[{n}] must be an object")
        rel = output.get("path")
        if not isinstance(rel, str) or not _is_inside(rel):
            raise fail(f"outputs[{n}]: 'path' must be a relative path inside the run directory")
        digest = output.get("sha256")
        if not isinstance(digest, str) or len(digest) != 64 or not _is_hex(digest):
            raise fail(f"outputs[{n}] ({rel}): 'sha256' must be 64 hex digits")
        if not _is_count(output.get("bytes")):
            raise fail(f"outputs[{n}] ({rel}): 'bytes' must be a non-negative integer")


def check_table_entry(entry: Any, where: str, label: str = "file entry") -> None:
    """Check the table-defining keys of a ``files[]`` entry: layout, items, primary_key."""

    def fail(rule: str) -> InputError:
        return InputError(where, f"{label}: {rule}")

    if not isinstance(entry, dict):
        raise fail("must be an object")
    layout = entry.get("layout")
    if not isinstance(layout, str) or not layout:
        raise fail("'layout' must be a non-empty string")
    if problem := entry_name_problem(entry):
        raise fail(problem)
    label = f"{label} ({layout})"
    items = entry.get("items")
    if not isinstance(items, list) or not items:
        raise fail("'items' must be a non-empty list")
    names: set[str] = set()
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise fail(f"items[{n}] must be an object")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise fail(f"items[{n}]: 'name' must be a non-empty string")
        if name in names:
            raise fail(f"item {name!r} listed twice")
        names.add(name)
        if not isinstance(item.get("type"), str):
            raise fail(f"item {name!r}: 'type' must be a string")
        if not _is_count(item.get("length")) or not _is_count(item.get("scale", 0)):
            raise fail(f"item {name!r}: 'length' and 'scale' must be non-negative integers")
        if not isinstance(item.get("required", False), bool):
            raise fail(f"item {name!r}: 'required' must be true or false")
        if item.get("unknown", "none") not in ("none", "day", "month"):
            raise fail(f"item {name!r}: 'unknown' must be one of none, day, month")
        if item.get("bytes") is not None and not _is_count(item.get("bytes")):
            raise fail(f"item {name!r}: 'bytes' must be a non-negative integer or null")
    primary_key = entry.get("primary_key", [])
    if not isinstance(primary_key, list) or not all(isinstance(k, str) for k in primary_key):
        raise fail("'primary_key' must be a list of item names")
    unknown = [k for k in primary_key if k not in names]
    if unknown:
        raise fail(f"primary_key names unknown items: {', '.join(unknown)}")
    if len(set(primary_key)) != len(primary_key):
        raise fail("primary_key names an item twice")


def verify_outputs(run_dir: Path, manifest: dict[str, Any]) -> None:
    """Check that every output the manifest lists exists with its recorded size and sha256.

    The first file (in manifest order) that is missing or differs raises
    :class:`~mig.errors.InputError` ("does not match manifest"), so nothing tampered with or
    half-written is loaded. Hashing streams each file (memory does not grow with its size);
    the files are hashed in parallel, since hashlib releases the GIL.
    """
    run_dir = Path(run_dir)
    listed: list[tuple[Path, str]] = []
    for entry in manifest["files"]:
        for output in entry["outputs"]:
            path = run_dir / output["path"]
            where = str(path)
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                raise InputError(where, "listed in the manifest but missing") from None
            except OSError as exc:
                raise InputError(where, f"cannot read ({type(exc).__name__})") from None
            if not path.is_file():
                raise InputError(where, "listed in the manifest but not a regular file")
            if size != output["bytes"]:
                raise InputError(
                    where,
                    f"does not match manifest (size {size} bytes, manifest says {output['bytes']})",
                )
            listed.append((path, output["sha256"].lower()))
    with ThreadPoolExecutor(max_workers=max(1, min(len(listed), os.cpu_count() or 1))) as pool:
        digests = list(pool.map(sha256_file, [path for path, _ in listed]))
    for (path, expected), digest in zip(listed, digests, strict=True):
        if digest != expected:
            raise InputError(str(path), "does not match manifest (sha256 differs)")


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


def _is_inside(rel: str) -> bool:
    pure = PurePosixPath(rel)
    return bool(rel) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in rel
