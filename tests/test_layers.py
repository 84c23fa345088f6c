"""Layering: the core (mig/) never imports the CLI or the adapters; plugins go through entry points."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "mig"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in the file (lazy imports in functions and
    ``TYPE_CHECKING`` blocks included); relative imports resolved inside ``mig``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from mig import jp`` imports the module mig.jp, not a name of the façade
            submodules = {f"{node.module}.{alias.name}" for alias in node.names}
            submodules = {name for name in submodules if _is_module(name)}
            names.update(submodules)
            if len(submodules) < len(node.names):
                names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0 and CORE in path.parents:
            parts = package.split(".")
            base = parts[: len(parts) - (node.level - 1)]
            names.add(".".join(base + ([node.module] if node.module else [])))
    return names


def _is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_core_never_imports_cli_or_adapters() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        if path.name == "__main__.py" or CORE / "cli" in path.parents:  # the command line
            continue
        for name in imported_modules(path):
            if name == "mig.cli" or name.startswith("mig.cli.") or name.startswith("mig_adapters") or name == "click":
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_adapters_never_import_the_cli() -> None:
    for path in sorted((ROOT / "adapters").rglob("*.py")):
        assert "mig.cli" not in imported_modules(path), path


def test_builtin_adapter_is_registered_as_an_entry_point() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="mig.adapters")}
    assert names.get("csv") == "mig_adapters.csv:CsvAdapter"


def test_installed_top_level_names_are_not_generic() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    top_level = {Path(p).name for p in packages}
    assert top_level == {"mig", "mig_adapters"}


# The layers inside the core, lowest first. A module may import modules of its own layer
# or of a lower one, never of a higher one. Layers are module-name prefixes: a prefix no
# module has yet (a package another change is still creating) simply matches nothing.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", (
        "mig.version", "mig.errors", "mig.resources", "mig.charsets", "mig.jp", "mig.fs",
        "mig.layout", "mig.layout_diff", "mig.plugin", "mig.registry", "mig.codecs", "mig.i18n",
        "mig.schema", "mig.machine",
    )),
    ("stages", ("mig.validation", "mig.gaiji", "mig.run", "mig.html", "mig.layout_import")),
    ("pipelines", ("mig.extract", "mig.load", "mig.audit")),
    # mig guess drafts mappings for the extract pipeline and recognises dates with extract's
    # own converters (one owner of 和暦 and date formats), so it sits above the pipelines
    # rather than beside them; nothing below imports it.
    ("drafting", ("mig.guess",)),
    # the plugin kit: conformance checks (may call the pipelines' contract) and the scaffold
    ("kit", ("mig.testing", "mig.scaffold")),
    ("demo", ("mig.demo",)),
    ("façade", ("mig",)),  # mig/__init__.py only
    ("cli", ("mig.cli", "mig.__main__")),
)
LEVEL = {name: level for level, (name, _) in enumerate(LAYERS)}

# Pipelines are independent of each other: what two of them share lives in a stage.
INDEPENDENT = {"pipelines"}

# Imports that break the contract today, each with where it is going. Remove an entry
# when its import is gone; nothing else may be added here without an architecture note.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


def layer_of(module: str) -> str | None:
    """The layer of a ``mig`` module: its longest matching prefix."""
    best: tuple[int, str] | None = None
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            exact = prefix == "mig"  # the façade is the package module itself, not its children
            if module == prefix or (not exact and module.startswith(prefix + ".")):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), name)
    return best[1] if best else None


def _pipeline(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_core_modules_each_belong_to_a_layer() -> None:
    unplaced = [module_name(p) for p in sorted(CORE.rglob("*.py")) if layer_of(module_name(p)) is None]
    assert unplaced == [], "modules in no layer of tests/test_layers.py LAYERS: " + ", ".join(unplaced)


def test_core_layers_import_only_downward() -> None:
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        module = module_name(path)
        layer = layer_of(module)
        if layer is None:
            continue  # reported by test_core_modules_each_belong_to_a_layer
        for name in sorted(imported_modules(path)):
            if name != "mig" and not name.startswith("mig."):
                continue
            target = layer_of(name)
            if target is None or (module, name) in KNOWN_EXCEPTIONS:
                continue
            upward = LEVEL[target] > LEVEL[layer]
            sideways = target == layer in INDEPENDENT and _pipeline(name) != _pipeline(module)
            if upward or sideways:
                offenders.append(f"{module} ({layer}) imports {name} ({target})")
    assert offenders == [], "imports against the layers:\n" + "\n".join(offenders)


def test_layer_contract_catches_an_upward_import() -> None:
    """The contract's own check: the rules above do flag what they are meant to."""
    assert layer_of("mig") == "façade" and layer_of("mig.load.run") == "pipelines"
    assert layer_of("mig.cli.load") == "cli" and layer_of("mig.jp.eras") == "foundation"
    assert layer_of("mig.validation") == "stages" and layer_of("mig.migrate") is None
    assert LEVEL[layer_of("mig.extract.run") or ""] > LEVEL[layer_of("mig.validation.rules") or ""]
    # the partition stage and the engines are extract's own modules: a worker imports no CLI
    for module in ("mig.extract.partitions", "mig.extract.engines", "mig.extract.ray_engine"):
        assert layer_of(module) == "pipelines"
