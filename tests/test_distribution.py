"""The distribution name: ``jichitai-mig`` on the package index (``mig`` there is an unrelated
project); the import name and the command stay ``mig``."""

from __future__ import annotations

import tomllib
from importlib.metadata import distribution
from pathlib import Path

from mig.scaffold import new_adapter
from mig.version import DISTRIBUTION, __version__

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_names_the_distribution_and_keeps_the_command() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DISTRIBUTION == "jichitai-mig"
    assert project["scripts"] == {"mig": "mig.cli:main"}
    # the installed metadata (this checkout, editable) answers to the new name
    assert distribution(DISTRIBUTION).version == __version__


def test_readme_installs_the_new_name() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"pip install {DISTRIBUTION}" in readme
    assert "pip install 'mig[" not in readme and "Depend on `mig>=`" not in readme


def test_ci_wheel_check_installs_the_renamed_wheel() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # hatchling writes the wheel under the normalised name (jichitai_mig-0.1.0-py3-none-any.whl)
    assert '"$work"/dist/jichitai_mig-*.whl' in ci


def test_scaffolded_plugin_depends_on_the_distribution(tmp_path: Path) -> None:
    project = new_adapter("vendor_x", tmp_path / "mig-vendor-x")
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert meta["dependencies"] == [f"{DISTRIBUTION}>={__version__}"]
    assert meta["name"] == "mig-vendor-x"
