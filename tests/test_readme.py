"""The README's quick start is what CI runs, and its examples match the code."""

from __future__ import annotations

import re
from pathlib import Path

from mig.extract.transforms import TRANSFORMS
from mig.registry import adapter_infos
from mig.validation.findings import FINDING_TYPES
from mig.version import DISTRIBUTION

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    block = README.split("## クイックスタート / Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_two_quick_start_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[0].endswith("mig demo")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_commands()[1] in ci.splitlines()


def test_every_finding_type_and_transform_is_documented() -> None:
    builtin = [t.code for info in adapter_infos() if info.distribution == DISTRIBUTION for t in info.finding_types]
    for code in [*FINDING_TYPES, *builtin]:  # mig's own and those its built-in adapters declare
        assert f"`{code}`" in README, code
    for name in TRANSFORMS:
        assert f"`{name}`" in README, name
    from mig.audit.findings import AUDIT_FINDING_TYPES

    for code in AUDIT_FINDING_TYPES:
        assert f"`{code}`" in README, code


def test_mapping_example_parses(tmp_path: Path) -> None:
    import tomllib

    example = re.search(r"### Mapping files.*?```toml\n(.*?)```", README, re.S)
    assert example is not None
    parsed = tomllib.loads(example.group(1))
    assert parsed["files"][0]["layout"] == "juki-jumin"
