"""``mig gaiji``: the MJ table lookup and registry helpers (thin click commands).

``review`` and ``decide`` (the identification workbench) live in
:mod:`mig.cli.gaiji_review` and are attached here when that module is installed.
"""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from mig.cli.common import emit_json, json_option, user_errors
from mig.i18n import text as message


@click.group()
def gaiji() -> None:
    """外字: MJ table lookup, registries, identification."""


def _record_line(record: dict[str, Any]) -> str:
    parts = [
        record["mj"],
        record["text"] or "-",
        record["codepoints"] or "-",
    ]
    for label, key in (("住基", "juki"), ("戸籍", "koseki"), ("X0213", "x0213")):
        if record.get(key):
            parts.append(f"{label} {record[key]}")
    if record.get("x0213") and record.get("x0213_inclusion"):
        parts[-1] += f" (包摂 {record['x0213_inclusion']})"
    if record.get("radical") is not None:
        inner = record.get("inner_strokes")
        parts.append(f"部首 {record['radical']}+{inner if inner is not None else '?'}")
    parts.append(f"総画 {record['strokes']}")
    if record.get("readings"):
        parts.append("読み " + "・".join(record["readings"]))
    return "  ".join(str(p) for p in parts)


@gaiji.command("lookup")
@click.argument("query")
@json_option
@user_errors
def lookup_command(query: str, as_json: bool) -> None:
    """Show the MJ record(s) for QUERY: a character (with or without IVS), MJ文字図形名,
    J+XXXX, 戸籍統一文字番号, 登記統一文字番号, 面-区-点 or U+XXXX."""
    from mig.gaiji.mj import lookup

    records = lookup(query)
    if as_json:
        emit_json(records)
        return
    for record in records:
        click.echo(_record_line(record))


@gaiji.group("registry")
def registry_group() -> None:
    """Registries: vendor 外字 code → MJ character, with provenance."""


@registry_group.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@json_option
@user_errors
def registry_check(paths: tuple[Path, ...], as_json: bool) -> None:
    """Load and merge registry files; report the entries per source and status."""
    from mig.gaiji.registry import load_registries

    registry = load_registries(paths)
    counts: dict[str, dict[str, int]] = {}
    for entry in registry.entries:
        per = counts.setdefault(entry.source, {"confirmed": 0, "proposed": 0})
        per[entry.status] = per.get(entry.status, 0) + 1  # "own" (not in MJ) only where there are some
    if as_json:
        emit_json({"files": [str(p) for p in paths], "sources": counts})
        return
    for source, per in sorted(counts.items()):
        line = message("gaiji.registry-counts", source=source, confirmed=per["confirmed"], proposed=per["proposed"])
        click.echo(line + (message("glyphs.registry-own", own=per["own"]) if per.get("own") else ""))


@registry_group.command("add")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--source", "-s", required=True, help="Source system / charset, e.g. demo-vendor-cp932.")
@click.option("--code", "-c", required=True, help="Code as the source holds it: U+E000 or 0x80A1.")
@click.option("--mj", "mj_name", help="MJ文字図形名 the code stands for.")
@click.option("--text", help="Text it stands for (characters or U+ notation), when not an MJ character.")
@click.option("--proposed", is_flag=True, help="Record a candidate, not a decision.")
@click.option("--decided-by", required=True, help="Who decided.")
@click.option("--decided-at", help="When (ISO 8601); default: now, UTC.")
@click.option("--evidence", default="", help="What the decision rests on.")
@json_option
@user_errors
def registry_add(
    path: Path,
    source: str,
    code: str,
    mj_name: str | None,
    text: str | None,
    proposed: bool,
    decided_by: str,
    decided_at: str | None,
    evidence: str,
    as_json: bool,
) -> None:
    """Add one entry to the registry file PATH (created when missing; written atomically)."""
    from mig.gaiji.registry import (
        Registry,
        RegistryError,
        load_registry,
        make_entry,
        write_registry,
    )

    registry = load_registry(path) if path.exists() else Registry()
    entry = make_entry(
        source=source,
        code=code,
        mj=mj_name,
        text=text,
        status="proposed" if proposed else "confirmed",
        decided_by=decided_by,
        decided_at=decided_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        evidence=evidence,
        origin="--",
    )
    confirmed = registry.confirmed(entry.source, entry.code)
    if entry.status == "proposed" and confirmed is not None:
        # a confirmed decision supersedes proposed entries: this one would be dropped
        raise RegistryError(
            f"{path}: refused: {entry.source} {entry.code} already has a confirmed decision, "
            f"{confirmed.describe()}; a proposed entry would be ignored (nothing written)"
        )
    registry = registry.add(entry)
    write_registry(registry, path)
    if as_json:
        emit_json({"path": str(path), "entries": len(registry.entries), "added": {
            "source": entry.source, "code": entry.code, "mj": entry.mj, "status": entry.status,
        }})
        return
    click.echo(message(
        "gaiji.registry-added", path=path, source=entry.source, code=entry.code, described=entry.describe(),
        entries=len(registry.entries),
    ))


def _attach_review_commands() -> None:
    """Attach ``review`` / ``decide`` from :mod:`mig.cli.gaiji_review` when it exists."""
    module_name = "mig.cli.gaiji_review"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        return
    for attribute in ("review", "decide"):
        command = getattr(module, attribute, None)
        if isinstance(command, click.Command):
            gaiji.add_command(command)


_attach_review_commands()
