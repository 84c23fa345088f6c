"""Fuzzing mapping files: TOML shapes generated from the mapping's own schema
(:data:`mig.extract.mapping.MAPPING_SCHEMA`), with right and wrong types at every key,
unknown keys and nesting.

Properties: ``load_mapping`` returns a :class:`~mig.extract.mapping.Mapping` or raises a
:class:`~mig.errors.ConfigError` (exit 2), never another exception; a mapping that loads
runs ``mig extract`` over a small CSV whose records (and, for a headerless file, its first
line) hold a marker value — nothing but a :class:`~mig.errors.MigError` escapes, the
marker is in no error message nor default-mode report, and every record is conserved.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.errors import ConfigError, MigError
from mig.extract.mapping import MAPPING_SCHEMA, Mapping, load_mapping
from mig.extract.transforms import TRANSFORMS
from mig.layout import get_layout
from mig.schema import AnyValue, Bool, Int, ListOf, MapOf, OneOf, Shape, Str, Table, Text
from mig.validation.findings import FINDING_TYPES, SEVERITIES

from .fuzzcount import tried

#: The marker value of the data file: it must never appear in a message or report.
MARKER = "QZX7MARK"
#: A value in the mapping itself: a wrong-typed value must never be echoed (a right-typed
#: name may be, e.g. an unknown layout name: it is the configuration's own word).
CONF_MARKER = "QZX7CONF"
COLUMNS = ["NO", "NAME", "ADDR", "ZIP", "ERA", "YMD"]
LAYOUTS = ["juki-setai", "juki-jumin", "juki-ido"]
ITEM_NAMES = sorted({i.name for lid in LAYOUTS for i in get_layout(lid).items})
#: Only these are ever imported as hooks: a generated reference must not import any module.
HOOKS = [
    "mig.demo.hooks:zip_digits", "mig.demo.hooks:nothing", "mig.demo.hooks", ":", "a:",
    "mig_fuzz_no_such_module:f", "builtins:len", "builtins:str", "mig.demo.hooks:pl",
]
#: Strategies for the words of particular keys (else a shape's generic one).
WORDS: dict[str, st.SearchStrategy[Any]] = {
    "layout": st.sampled_from(LAYOUTS * 3 + ["juki-nope", ""]),
    "adapter": st.sampled_from(["csv"] * 4 + ["copybook", "nope", ""]),
    "hook": st.sampled_from(HOOKS),
    "transforms": st.sampled_from(list(TRANSFORMS) + ["shout"]),
    "column": st.sampled_from(COLUMNS),
    "era": st.sampled_from(COLUMNS),
    "type": st.sampled_from(["半角文字", "全角文字", "混在文字", "数字", "数値", "日付", "コード", "x"]),
    "inputs": st.sampled_from(["*.csv", "*", "S*.csv", "*.txt"]),
    "code_map": st.sampled_from(["m", "n"]),
}
#: Keys of tables whose keys are free (MapOf), per parent key.
MAP_KEYS: dict[str, st.SearchStrategy[str]] = {
    "items": st.sampled_from(ITEM_NAMES + ["no such item"]),
    "severity": st.sampled_from(sorted(FINDING_TYPES) + ["nope"]),
    "code_maps": st.sampled_from(["m", "n"]),
    "source": st.sampled_from(["encoding", "header", "columns", "delimiter", "quote", "nope", "_columns"]),
    "gaiji": st.sampled_from(["source", "registry", "nope"]),
}
text = st.text(st.sampled_from("ab1 -_.:,\"'\\\n\t山田髙" + "\u3000"), max_size=6)
leaf = st.one_of(
    text, st.integers(-3, 10), st.integers(), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False), st.just(CONF_MARKER),
)
#: True 11 times in 12 (hypothesis favours the first choice when it simplifies).
usually = st.sampled_from([True] * 11 + [False])
any_value = st.recursive(
    leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3), max_leaves=6
)


def values(shape: Shape, key: str = "", depth: int = 0) -> st.SearchStrategy[Any]:
    """Mostly right-typed values of ``shape`` (nested from the schema), 1 in 12 anything."""
    return usually.flatmap(lambda yes: right(shape, key, depth) if yes else any_value)


def right(shape: Shape, key: str, depth: int) -> st.SearchStrategy[Any]:
    if key in WORDS and isinstance(shape, Str | ListOf | OneOf):
        words = WORDS[key]
        return st.lists(words, max_size=3) if isinstance(shape, ListOf) else words
    if isinstance(shape, Str):
        return st.sampled_from(shape.choices) if shape.choices else (st.sampled_from(COLUMNS) | text)
    if isinstance(shape, Int):
        return st.integers(-2, 12)
    if isinstance(shape, Bool):
        return st.booleans()
    if isinstance(shape, Text):
        return text | st.integers(0, 200) | st.just(CONF_MARKER)
    if isinstance(shape, ListOf):
        return st.lists(values(shape.item, key, depth + 1), max_size=3 if depth < 2 else 1)
    if isinstance(shape, OneOf):
        return st.one_of([right(s, key, depth) for s in shape.shapes])
    if isinstance(shape, Table):
        optional = {k: values(s, k, depth + 1) for k, s in shape.fields.items() if k not in shape.required}
        required = {k: values(s, k, depth + 1) for k, s in shape.fields.items() if k in shape.required}
        table = st.fixed_dictionaries(required, optional=optional)
        unknown = st.dictionaries(st.sampled_from(["colour", "extension", "_x", ""]), any_value, max_size=1)
        return st.tuples(table, unknown, usually).map(lambda t: t[0] if t[2] else {**t[0], **t[1]})
    if isinstance(shape, MapOf):
        value = (
            st.sampled_from(list(SEVERITIES) + ["fatal"]) if key == "severity"
            else values(shape.value, key, depth + 1)
        )
        return st.dictionaries(MAP_KEYS.get(key, text), value, max_size=4)
    if isinstance(shape, AnyValue):
        if key == "source":
            return st.dictionaries(MAP_KEYS["source"], any_value, max_size=3)
        return any_value
    raise AssertionError(f"no strategy for {shape!r}")  # pragma: no cover - a new shape type


def toml_value(value: Any) -> str:
    """A value in TOML (inline tables and arrays; TOML 1.0 allows mixed arrays)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) and "e" not in repr(value) else "1.5"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{ " + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()) + " }"


def toml_document(document: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}\n" for k, v in document.items())


# Mostly with an adapter and some [[files]] (else nearly every input stops at "no [[files]]").
files = st.lists(right(MAPPING_SCHEMA.fields["files"].item, "", 1), min_size=1, max_size=2)  # type: ignore[attr-defined]
mappings = st.tuples(right(MAPPING_SCHEMA, "", 0), files, usually).map(
    lambda t: {"adapter": "csv", **t[0], "files": t[1]} if t[2] else t[0]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=mappings)
def test_load_mapping_returns_a_mapping_or_a_config_error(document: dict[str, Any]) -> None:
    tried("mapping TOML shapes (load)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mapping.toml"
        path.write_text(toml_document(document), encoding="utf-8")
        try:
            mapping = load_mapping(path)
        except ConfigError as exc:
            assert "\n" not in str(exc), f"not one line: {exc}"
            if ": expected " in str(exc):  # a type error names the key and the type only
                assert CONF_MARKER not in str(exc), f"a value in the message: {exc}"
            return
    assert isinstance(mapping, Mapping) and mapping.files


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=mappings, headerless=st.booleans(), header=st.lists(st.sampled_from(COLUMNS), max_size=6, unique=True))
def test_extract_with_a_generated_mapping_never_leaks_the_marker(
    document: dict[str, Any], headerless: bool, header: list[str]
) -> None:
    from mig.extract.run import extract

    tried("mapping TOML shapes (extract)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "mapping.toml"
        path.write_text(toml_document(document), encoding="utf-8")
        width = max(len(header), 2)
        record = ",".join([MARKER] + ["山田髙", "1"][: width - 1] + ["x"] * (width - 3))
        lines = ([] if headerless or not header else [",".join(header)]) + [record, record]
        source = root / "SETAI.csv"
        source.write_text("\n".join(lines) + "\n", encoding="utf-8")
        out = root / "run"
        try:
            result = extract(path, [source], out)
        except MigError as exc:
            assert MARKER not in str(exc), f"a value in the message: {exc}"
            assert "\n" not in str(exc), f"not one line: {exc}"
            return
        for f in result.manifest["files"]:
            assert f["rows_in"] == f["rows_out"] + f["rows_rejected"]
        for name in ("report.json", "report.html", "manifest.json"):
            assert MARKER not in (out / name).read_text(encoding="utf-8"), f"a value in {name}"
