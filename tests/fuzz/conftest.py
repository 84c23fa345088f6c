"""Fuzzing suite support: show how many inputs each target tried in the test summary.

Every target calls ``fuzzcount.tried`` (this folder) once per generated input; the summary
(always printed, so CI's log shows it) lists ``fuzz: TARGET tried N inputs``.
"""

from __future__ import annotations

import pytest

from .fuzzcount import TRIED

# the coverage-guided targets run by hand (README.md here) and need atheris, which the
# test extra does not install: never collect them, not even for doctests
collect_ignore = ["atheris_fuzz.py"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TRIED:
        return
    terminalreporter.section("fuzz inputs tried")
    for target, count in sorted(TRIED.items()):
        terminalreporter.write_line(f"fuzz: {target} tried {count} inputs")
