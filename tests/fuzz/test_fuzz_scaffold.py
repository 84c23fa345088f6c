"""The adapter ``mig adapters new`` writes, on any text of lines, through the conformance
kit's own checks: every line in data or rejects with its bytes, whatever the batch size."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mig.scaffold import new_adapter
from mig.testing import bytes_problems, conservation_problems, read_source

from .fuzzcount import tried


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    project = new_adapter("fuzzdemo", tmp_path_factory.mktemp("scaffold") / "mig-fuzzdemo")
    spec = importlib.util.spec_from_file_location("mig_fuzzdemo_adapter", project / "src" / "mig_fuzzdemo" / "adapter.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LINE = st.one_of(
    st.text(alphabet="0123456789 ｱ架空太郎\u3000\t\r", max_size=40),
    st.builds(lambda a, b: a + " " * max(0, 34 - len(a) - len(b)) + b,  # mostly of the right width
              st.text(alphabet="0123456789架空", max_size=26), st.text(alphabet="0123456789", max_size=8)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, max_size=30), end=st.sampled_from(["\n", "\r\n"]), last=st.booleans(),
       batch=st.integers(min_value=1, max_value=200))
def test_scaffold_adapter_conserves_every_line(
    scaffolded: ModuleType, lines: list[str], end: str, last: bool, batch: int
) -> None:
    tried("scaffold adapter (lines)")
    text = end.join(lines) + (end if last and lines else "")
    content = text.encode("utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.txt"
        path.write_bytes(content)
        adapter = scaffolded.FuzzdemoAdapter()
        whole = read_source(adapter, path, {}, batch_bytes=1 << 20)
        small = read_source(adapter, path, {}, batch_bytes=batch)
    assert conservation_problems(whole, len(content)) == []
    assert bytes_problems(whole.records, content, "records") == []
    assert bytes_problems(whole.rejects, content, "rejects") == []
    assert whole.records.height + whole.rejects.height == content.count(b"\n") + (0 if content.endswith(b"\n") or not content else 1)
    for a, b in ((whole.data, small.data), (whole.records, small.records), (whole.rejects, small.rejects)):
        assert a.equals(b, null_equal=True)
