"""Mapping files: how a legacy export's columns become standard-layout items.

A mapping is TOML (format in README.md, "Mapping files"). Each target item takes exactly
one source — ``column``, ``const``, ``concat``, ``split``, ``wareki`` or ``hook`` — then
optional ``transforms`` (in order) and an optional ``code_map``. All of it compiles to
Polars expressions evaluated in one lazy plan per batch; what an item reads more than once
(its transformed value, a 和暦 conversion) is a staged column computed once.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from mig import jp
from mig.errors import ConfigError, UnknownNameError
from mig.extract.transforms import PARAMETERISED, TransformStep, transform_step, wareki_stages
from mig.gaiji.resolve import GaijiSettings, gaiji_settings
from mig.i18n import text
from mig.layout import Item, Layout, get_layout, parse_item
from mig.schema import AnyValue, Bool, Int, ListOf, MapOf, OneOf, Str, Table, Text, check, key_text
from mig.validation.findings import FINDING_SCHEMA, severity_table
from mig.validation.report import mask_values

SOURCE_KINDS = ("column", "const", "concat", "split", "wareki", "hook")

#: A transform with parameters (mig.extract.transforms.PARAMETERISED): one kind per table.
TRANSFORM_SCHEMA = Table({
    "date": Str(nonempty=True), "regex_replace": Str(nonempty=True), "replacement": Str(),
    "pad_left": Int(minimum=1), "fill": Str(nonempty=True),
})
assert set(PARAMETERISED) <= set(TRANSFORM_SCHEMA.fields)
# The shape of a mapping file, checked before anything is built from it (mig.schema): a
# wrong type is one ConfigError naming the key path and the expected type, never the value.
ITEM_SCHEMA = Table({
    "column": Str(), "const": Text(), "concat": ListOf(Str(), nonempty=True), "split": Str(),
    "wareki": Str(), "hook": Str(), "separator": Str(), "index": Int(), "era": Str(),
    "columns": ListOf(Str()), "transforms": ListOf(OneOf((Str(), TRANSFORM_SCHEMA))), "code_map": Str(),
})
#: A declared extension item: the item table of a layout file (mig.layout.parse_item).
EXTENSION_SCHEMA = Table(
    {
        "no": Int(minimum=0), "name": Str(nonempty=True), "type": Str(), "length": Int(minimum=1),
        "scale": Int(minimum=0), "bytes": Int(minimum=1), "required": Bool(), "code_table": Str(),
        "check": Str(), "unknown": Str(), "extension": Bool(), "description": Str(),
    },
    required=frozenset({"name", "type", "length"}),
)
FILE_SCHEMA = Table(
    {
        "layout": Str(nonempty=True),
        "inputs": OneOf((Str(), ListOf(Str()))),
        # a bare string is short for { column = "X" }
        "items": MapOf(OneOf((Str(), ITEM_SCHEMA))),
        "extensions": ListOf(EXTENSION_SCHEMA),
        "source": MapOf(AnyValue()),  # adapter options: the adapter's schema checks them
    },
    required=frozenset({"layout"}),
)
MAPPING_SCHEMA = Table({
    "adapter": Str(),
    "description": Str(),
    "source": MapOf(AnyValue()),  # adapter options: the adapter's schema checks them
    "severity": MapOf(Str()),  # finding type → severity: names checked by severity_table
    "code_maps": MapOf(MapOf(Text())),
    "files": ListOf(FILE_SCHEMA, label="files"),
    "gaiji": MapOf(AnyValue()),  # checked by its owner, mig.gaiji.resolve.gaiji_settings
})

@dataclass(frozen=True)
class ItemMapping:
    """How one target item is filled."""

    target: str
    kind: str
    columns: tuple[str, ...] = ()
    const: str | None = None
    separator: str = ""
    index: int = 0
    era: str | None = None
    hook: str | None = None
    transforms: tuple[TransformStep, ...] = ()
    code_map: str | None = None
    #: The hook's expression, built and checked once when the mapping is loaded.
    hook_expr: pl.Expr | None = field(default=None, compare=False, repr=False)

    @property
    def source_columns(self) -> tuple[str, ...]:
        return self.columns + ((self.era,) if self.era else ())


@dataclass(frozen=True)
class FileMapping:
    """One target layout file and the inputs that feed it."""

    layout: Layout
    inputs: tuple[str, ...]
    items: tuple[ItemMapping, ...]
    #: This file's own adapter options, merged over the mapping's ``[source]``.
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def source_columns(self) -> list[str]:
        """Source columns the mapping reads, in first-use order."""
        seen: dict[str, None] = {}
        for item in self.items:
            for column in item.source_columns:
                seen.setdefault(column, None)
        return list(seen)


@dataclass(frozen=True)
class Mapping:
    """A whole mapping file."""

    path: str
    sha256: str
    adapter: str
    source: dict[str, Any]
    severity: dict[str, str]
    code_maps: dict[str, dict[str, str]]
    files: tuple[FileMapping, ...] = field(default_factory=tuple)
    gaiji: GaijiSettings | None = None
    """The ``[gaiji]`` table: registry source and entries that resolve Private Use characters."""

    def severities(self) -> pl.DataFrame:
        return severity_table(self.severity)


def load_mapping(path: Path, layouts_root: Path | None = None) -> Mapping:
    """Read and check a mapping file; every mistake is a one-line :class:`ConfigError`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read mapping: {exc.strerror}") from None
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid UTF-8 TOML mapping: {exc}") from None
    check(raw, MAPPING_SCHEMA, path.name)
    code_maps = {
        name: {k: str(v) for k, v in table.items()} for name, table in raw.get("code_maps", {}).items()
    }
    files = []
    for n, file_raw in enumerate(raw.get("files", []), 1):
        where = f"{path.name} [[files]] {n}"
        layout = get_layout(file_raw["layout"], layouts_root, base=path.parent)  # an id or a path
        extensions = [
            parse_item({**ext, "extension": True}, f"{where} extension {m}", layout.codes)
            for m, ext in enumerate(file_raw.get("extensions", []), 1)
        ]
        layout = layout.with_extensions(extensions)
        inputs = file_raw.get("inputs", ["*"])
        if isinstance(inputs, str):
            inputs = [inputs]
        items = tuple(
            _parse_item_mapping(target, spec, layout, code_maps, where, path.parent)
            for target, spec in file_raw.get("items", {}).items()
        )
        file_source = file_raw.get("source", {})
        _no_reserved_keys(file_source, f"{where} source")
        files.append(FileMapping(layout=layout, inputs=tuple(inputs), items=items, source=dict(file_source)))
    if not files:
        raise ConfigError(f"{path}: no [[files]] — nothing to map")
    _no_reserved_keys(raw.get("source", {}), f"{path.name} [source]")
    layouts = [f.layout.id for f in files]
    if len(set(layouts)) != len(layouts):
        raise ConfigError(f"{path}: a layout appears in more than one [[files]]")
    mapping = Mapping(
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
        adapter=raw.get("adapter", ""),
        source=dict(raw.get("source", {})),
        severity=dict(raw.get("severity", {})),
        code_maps=code_maps,
        files=tuple(files),
        gaiji=gaiji_settings(raw["gaiji"], path) if "gaiji" in raw else None,
    )
    mapping.severities()  # unknown finding types / severities fail here, not mid-run
    return mapping


def _no_reserved_keys(options: dict[str, Any], where: str) -> None:
    """Adapter options starting with ``_`` are context set by mig, never by a mapping."""
    reserved = sorted(key_text(k) for k in options if str(k).startswith("_"))
    if reserved:
        raise ConfigError(f"{where}: option names starting with '_' are reserved for mig: {', '.join(reserved)}")


def _parse_item_mapping(
    target: str,
    spec: str | dict[str, Any],
    layout: Layout,
    code_maps: dict[str, dict[str, str]],
    where: str,
    base: Path | None = None,
) -> ItemMapping:
    """One item of ``[files.items]``, its shape already checked against :data:`ITEM_SCHEMA`."""
    where = f"{where} item {target!r}"
    if isinstance(spec, str):
        spec = {"column": spec}
    layout.item(target)  # unknown target names list the layout's items
    kinds = [k for k in SOURCE_KINDS if k in spec]
    if len(kinds) != 1:
        raise ConfigError(f"{where}: give exactly one of {', '.join(SOURCE_KINDS)}")
    kind = kinds[0]
    value = spec[kind]
    columns: tuple[str, ...] = ()
    const = hook = None
    hook_expr: pl.Expr | None = None
    if kind in ("column", "split", "wareki"):
        columns = (value,)
    elif kind == "concat":
        columns = tuple(value)
    elif kind == "const":
        const = str(value)
    else:
        hook = value
        columns = tuple(spec.get("columns", []))
        hook_expr = compile_hook(hook, columns, where, base)
    transforms = tuple(
        transform_step(entry, f"{where} transforms[{n}]") for n, entry in enumerate(spec.get("transforms", []), 1)
    )
    code_map = spec.get("code_map")
    if code_map is not None and code_map not in code_maps:
        raise UnknownNameError(f"code map (in {where})", code_map, code_maps)
    return ItemMapping(
        target=target,
        kind=kind,
        columns=columns,
        const=const,
        separator=spec.get("separator", ""),
        index=spec.get("index", 0),
        era=spec.get("era") or None,
        hook=hook,
        transforms=transforms,
        code_map=code_map,
        hook_expr=hook_expr,
    )


def _hook_file(module_name: str, base: Path | None) -> Path | None:
    """The mapping directory's own file for ``module_name`` (``a.b`` → ``a/b.py``), if any."""
    if base is None or not all(part.isidentifier() for part in module_name.split(".")):
        return None
    candidate = base.joinpath(*module_name.split(".")).with_suffix(".py")
    return candidate if candidate.is_file() else None


def _import_hook_module(module_name: str, base: Path | None) -> Any:
    """The hook's module: a file of that name in the mapping's directory first, else an
    installed module.

    A file beside the mapping is loaded by its location under a name scoped to that
    directory (``mig_mapping_<hash>.<module>``): ``sys.path`` is never changed, and two
    mappings with a ``hooks.py`` each get each their own.
    """
    location = _hook_file(module_name, base)
    if location is None:
        return importlib.import_module(module_name)
    location = location.resolve()
    scope = hashlib.sha256(str(location.parent).encode("utf-8")).hexdigest()[:12]
    scoped = f"mig_mapping_{scope}.{module_name.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(scoped, location)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {location.name}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[scoped] = module  # while it runs: dataclasses and typing look it up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[scoped]
        raise
    return module


def _load_hook(reference: str, where: str, base: Path | None = None) -> Callable[..., Any]:
    module_name, _, function_name = reference.partition(":")
    if not module_name or not function_name:
        raise ConfigError(f"{where}: hook must be 'package.module:function', not {reference!r}")
    try:
        function = getattr(_import_hook_module(module_name, base), function_name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{where}: cannot load hook {reference!r}: {exc}") from None
    except Exception as exc:  # the hook's module fails on import: its own bug, named by type
        raise ConfigError(f"{where}: cannot load hook {reference!r}: importing it raised {type(exc).__name__}") from None
    if not callable(function):
        raise ConfigError(f"{where}: hook {reference!r} is not callable")
    return function  # type: ignore[no-any-return]


def compile_hook(reference: str, columns: Sequence[str], where: str, base: Path | None = None) -> pl.Expr:
    """Load hook ``reference`` (``package.module:function``; a ``module.py`` in ``base``,
    the mapping's directory, comes before an installed module), call it once with one
    ``polars.Expr`` per source column and check what it returns: a Polars expression that
    evaluates on String columns. Done when the mapping is loaded, never per batch or row;
    a hook that breaks the contract is one :class:`ConfigError` naming it.
    """
    function = _load_hook(reference, where, base)
    try:
        expr = function(*[pl.col(c) for c in columns])
    except Exception as exc:  # the hook's own bug; no data is involved yet
        raise ConfigError(
            f"{where}: hook {reference} raised {type(exc).__name__} when called with "
            f"{len(columns)} column expression(s)"
        ) from None
    if not isinstance(expr, pl.Expr):
        raise ConfigError(
            f"{where}: hook {reference} returned {type(expr).__name__}, not a polars expression (polars.Expr)"
        )
    try:  # on no rows: the expression's columns and types, never a value
        pl.DataFrame(schema=dict.fromkeys(columns, pl.String)).select(expr.cast(pl.String))
    except Exception as exc:
        raise ConfigError(
            f"{where}: hook {reference} returned an expression that does not evaluate on the "
            f"String column(s) {', '.join(columns) or '(none)'} ({type(exc).__name__})"
        ) from None
    return expr


def _empty(expr: pl.Expr) -> pl.Expr:
    return expr.is_null() | (expr == "")


@dataclass(frozen=True)
class _Check:
    """A mapping check: where ``condition`` holds, a finding of ``type``.

    ``detail`` names non-personal facts only (a code map and the code it lacks, a split
    index); ``source`` is the source value that caused it, shown with ``--show-values`` only.
    """

    condition: pl.Expr
    type: str
    detail: pl.Expr
    source: pl.Expr


#: A code is named in a finding's detail (without ``--show-values``) only when it looks
#: like a code: at most six printable ASCII characters. A longer or non-ASCII value mapped
#: through a code map by mistake (a name, a date, a number column) may be personal data:
#: then only the map is named.
_SHOWN_CODE = r"^[\x21-\x7E]{1,6}$"


def code_unmapped_detail(code_map: str, code: pl.Expr) -> pl.Expr:
    """The detail of ``code-unmapped``: the code map and, when it looks like a code, the code.

    >>> df = pl.DataFrame({"c": ["X", "山田太郎", "19540710"]})
    >>> df.select(code_unmapped_detail("性別", pl.col("c"))).to_series().to_list()
    ['性別: "X"', '性別', '性別']
    """
    return (
        pl.when(code.str.contains(_SHOWN_CODE))
        .then(pl.format('{}: "{}"', pl.lit(code_map), code))
        .otherwise(pl.lit(code_map))
    )


_ERA_NAMES = {
    **{str(e.code): e.name for e in jp.ERAS},
    **{e.initial: e.name for e in jp.ERAS},
    **{e.initial.lower(): e.name for e in jp.ERAS},
    **{e.name: e.name for e in jp.ERAS},
}
_ERA_TOKEN = "^[ 　]*(" + "|".join(e.name for e in jp.ERAS) + "|[0-9A-Za-z])"


def era_name(text: pl.Expr) -> pl.Expr:
    """The era a 和暦 text (or era column) starts with, by name: an era is no personal data.

    >>> df = pl.DataFrame({"d": ["H310501", "平成31年5月1日", "4", "x"]})
    >>> df.select(era_name(pl.col("d"))).to_series().to_list()
    ['平成', '平成', '平成', None]
    """
    token = text.cast(pl.String).str.extract(_ERA_TOKEN, 1)
    return token.replace_strict(_ERA_NAMES, default=None, return_dtype=pl.String)


def concat_nonempty(parts: Sequence[pl.Expr], separator: str) -> pl.Expr:
    """The non-empty ``parts`` joined by ``separator``; ``""`` when all are empty or null.

    One ``concat_str`` that skips nulls (an empty part made null first): no list column.

    >>> df = pl.DataFrame({"sei": ["山田", "", None], "mei": ["太郎", "花子", None]})
    >>> df.select(concat_nonempty([pl.col("sei"), pl.col("mei")], "　")).to_series().to_list()
    ['山田\u3000太郎', '花子', '']
    """
    kept = [pl.when(p != "").then(p) for p in parts]
    return pl.concat_str(kept, separator=separator, ignore_nulls=True)


def _source_text(columns: Sequence[str]) -> pl.Expr:
    """The source value(s) an item reads, as one text: several joined by a space."""
    exprs = [pl.col(c).cast(pl.String).fill_null("") for c in columns]
    if not exprs:
        return pl.lit(None, dtype=pl.String)
    return exprs[0] if len(exprs) == 1 else pl.concat_str(exprs, separator=" ")


class _Staging:
    """Intermediate columns of a mapping, evaluated level by level before its final ``select``.

    An expression used more than once — an item's value (read by its emptiness test, its
    code map and its checks), a 和暦 conversion (value and error) — is computed once as a
    named column at one level; expressions reading it sit at a later level. Polars does not
    share such repeats itself: a transformed value read twice was computed twice.
    Names are ``__s{n}`` (and a 和暦 conversion's ``__s{n}__*``).
    """

    def __init__(self) -> None:
        self.levels: list[list[pl.Expr]] = []
        self.lookups: list[tuple[list[str], list[list[pl.Expr]], str]] = []
        self._names = 0

    def lookup(self, columns: Sequence[str], stages: list[list[pl.Expr]], name: str) -> pl.Expr:
        """Column ``name``, computed by ``stages`` from ``columns`` once per distinct
        combination of their values and joined back (readable from level 0 on).

        For a conversion that is a function of a few columns whose values repeat — a 和暦
        date and its era: a batch of 200,000 birth dates holds about 36,000 distinct ones.
        """
        self.lookups.append((list(dict.fromkeys(columns)), stages, name))
        return pl.col(name)

    def add(self, expr: pl.Expr, level: int) -> pl.Expr:
        """Compute ``expr`` at ``level``; the returned column may be read from ``level + 1`` on."""
        name = self.new_name()
        self.at(level).append(expr.alias(name))
        return pl.col(name)

    def new_name(self) -> str:
        self._names += 1
        return f"__s{self._names}"

    def at(self, level: int) -> list[pl.Expr]:
        while len(self.levels) <= level:
            self.levels.append([])
        return self.levels[level]

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        for columns, stages, name in self.lookups:
            keys = frame.select(columns)
            distinct = keys.unique()
            for stage in stages:
                distinct = distinct.with_columns(stage)
            # the key columns alone joined (keeping no order), put back in order by their
            # index and set beside the frame: cheaper than the whole frame joined in order
            looked = (
                keys.with_row_index("__order")
                .join(distinct.select(*columns, name), on=columns, how="left", nulls_equal=True)
                .sort("__order")
                .select(name)
            )
            frame = pl.concat([frame, looked], how="horizontal")
        for level in self.levels:
            if level:
                frame = frame.with_columns(level)
        return frame


def _compile_item(
    item: ItemMapping, code_maps: dict[str, dict[str, str]], staging: _Staging
) -> tuple[pl.Expr, list[_Check]]:
    """The item's value expression and its checks; what they read more than once is
    computed once in ``staging``."""
    checks: list[_Check] = []
    level = 0
    none = pl.lit(None, dtype=pl.String)
    if item.kind == "column":
        value = pl.col(item.columns[0])
    elif item.kind == "const":
        value = pl.lit(item.const, dtype=pl.String)
    elif item.kind == "concat":
        value = concat_nonempty([pl.col(c) for c in item.columns], item.separator)
    elif item.kind == "split":
        source = pl.col(item.columns[0])
        value = source.str.split(item.separator or " ").list.get(item.index, null_on_oob=True)
        checks.append(_Check(~_empty(source) & value.is_null(), "split-missing", pl.lit(str(item.index)), source))
    elif item.kind == "wareki":
        era = pl.col(item.era) if item.era else None
        # the conversion's own stages (as wareki_to_seireki runs them), once per distinct date
        name = staging.new_name()
        stages = wareki_stages(pl.col(item.columns[0]).cast(pl.String), era.cast(pl.String) if era is not None else None, name)
        converted = staging.lookup(item.source_columns, stages, name)
        value = converted.struct.field("value")
        error = converted.struct.field("error")
        # the era column first: 和暦 reads era then date (``4 310501``)
        shown = _source_text(((item.era,) if item.era else ()) + item.columns)
        checks.append(_Check(error == "wareki-invalid", "wareki-invalid", none, shown))
        era_text = pl.col(item.era) if item.era else pl.col(item.columns[0])
        checks.append(_Check(error == "wareki-out-of-era", "wareki-out-of-era", era_name(era_text), shown))
    else:
        assert item.hook is not None
        value = item.hook_expr if item.hook_expr is not None else compile_hook(item.hook, item.columns, item.target)
    value = value.cast(pl.String)
    for step in item.transforms:
        if step.failure is not None:  # a value the step could not read (e.g. a date not in its format)
            before = staging.add(value, level)
            value = staging.add(step.apply(before), level + 1)
            level += 2
            blank = _empty(before.str.strip_chars(" \t\u3000"))  # spaces only: no value, not a bad one
            checks.append(_Check(~blank & value.is_null(), step.failure, pl.lit(step.detail, dtype=pl.String), before))
        else:
            value = step.apply(value)
    if item.transforms or item.kind not in ("column", "const"):
        value = staging.add(value, level)
        level += 1
    if item.code_map is not None:
        table = code_maps[item.code_map]
        mapped = value.replace_strict(
            list(table), list(table.values()), default=None, return_dtype=pl.String
        )
        mapped = staging.add(mapped, level)
        checks.append(
            _Check(
                ~_empty(value) & mapped.is_null(), "code-unmapped",
                code_unmapped_detail(item.code_map, value), value,
            )
        )
        value = mapped
    return pl.when(_empty(value)).then(None).otherwise(value), checks


def apply_mapping(
    data: pl.DataFrame,
    file_mapping: FileMapping,
    code_maps: dict[str, dict[str, str]],
    *,
    show_values: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Map a batch of source records (``row`` + String columns) onto the layout.

    Returns the standard-layout frame (``row`` + one String column per item, empty values
    as null) and the mapping's findings. With ``show_values`` the findings carry a
    ``value`` column: the source value that caused each (before mapping: the code the code
    map lacks, the 和暦 text with its era), 個人番号 masked
    (:func:`~mig.validation.report.mask_values`).
    """
    by_target = {item.target: item for item in file_mapping.items}
    values: list[pl.Expr] = [pl.col("row")]
    flags: list[pl.Expr] = []
    flag_meta: list[tuple[str, str, _Check]] = []
    staging = _Staging()
    for item in file_mapping.layout.items:
        spec = by_target.get(item.name)
        if spec is None:
            values.append(pl.lit(None, dtype=pl.String).alias(item.name))
            continue
        value, checks = _compile_item(spec, code_maps, staging)
        values.append(value.alias(item.name))
        for n, rule in enumerate(checks):
            name = f"__flag_{len(flag_meta)}_{n}"
            flags.append(rule.condition.fill_null(False).alias(name))
            flag_meta.append((name, item.name, rule))
    result = staging.apply(data.lazy()).select(values + flags).collect()
    fired = result.select(pl.col(name).any() for name, _, _ in flag_meta).row(0, named=True) if flag_meta else {}
    # details and source values only for the rows a check fired on (few): the source
    # records are filtered first, so nothing is computed over the whole batch twice
    findings = [
        staging.apply(data.filter(result.get_column(name)).lazy()).select(
            pl.col("row"),
            pl.lit(target, dtype=pl.String).alias("item"),
            pl.lit(rule.type, dtype=pl.String).alias("type"),
            rule.detail.cast(pl.String).alias("detail"),
            *([rule.source.cast(pl.String).alias("value")] if show_values else []),
        )
        for name, target, rule in flag_meta
        if fired[name]
    ]
    mapped = result.select(["row"] + file_mapping.layout.item_names)
    schema = {**FINDING_SCHEMA, **({"value": pl.String()} if show_values else {})}
    if not findings:
        return mapped, pl.DataFrame(schema=schema)
    found = pl.concat(pl.collect_all(findings)).cast(schema)  # type: ignore[arg-type]
    if show_values:
        found = mask_values(found, file_mapping.layout)
    return mapped, found


def require_mapped(mapping: Mapping) -> None:
    """Every required item of every ``[[files]]`` has a mapping, or one :class:`ConfigError`
    listing those that have none (before any row is read: otherwise each record would be
    rejected as ``required-missing``). A mapping that lowers ``required-missing`` below
    ``error`` in its ``[severity]`` keeps such records, so there the check is skipped.

    >>> from mig.layout import Item, Layout
    >>> layout = Layout("t", "b", "n", "s", "1", "", "", (Item(1, "氏名", "全角文字", 10, required=True),))
    >>> require_mapped(Mapping("m.toml", "", "csv", {}, {}, {}, (FileMapping(layout, ("*",), ()),)))
    Traceback (most recent call last):
    ...
    mig.errors.ConfigError: m.toml [[files]] 1 (t): required item(s) with no mapping: 氏名
    """
    if mapping.severity.get("required-missing", "error") != "error":
        return
    for n, file in enumerate(mapping.files, 1):
        mapped = {item.target for item in file.items}
        unmapped = [item.name for item in file.layout.items if item.required and item.name not in mapped]
        if unmapped:
            where = f"{Path(mapping.path).name} [[files]] {n} ({file.layout.id})"
            raise ConfigError(text("extract.required-unmapped", where=where, items=", ".join(unmapped)))


def identity_mapping(layout: Layout) -> FileMapping:
    """A mapping that reads each item from the column of the same 項目名称."""
    return FileMapping(
        layout=layout,
        inputs=("*",),
        items=tuple(ItemMapping(target=i.name, kind="column", columns=(i.name,)) for i in layout.items),
    )


def extension_items(file_mapping: FileMapping) -> list[Item]:
    """The declared extension items of a file mapping (carried through, never dropped)."""
    return [item for item in file_mapping.layout.items if item.extension]
