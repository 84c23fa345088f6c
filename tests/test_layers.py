"""Layering: the core (mig/) never imports the CLI or the adapters; plugins go through entry points."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "mig"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


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
