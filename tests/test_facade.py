"""The library façade (:mod:`mig`): what the CLI calls, typed, cheap to import."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import get_args

import pytest
from test_load import make_run

import mig


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_option_literals_match_their_owners() -> None:
    from mig.charsets import REPERTOIRES
    from mig.gaiji.policy import POLICIES
    from mig.load.bundle import BUNDLE_ENCODINGS, BUNDLE_FORMATS

    assert get_args(mig.GaijiPolicyName) == tuple(POLICIES)
    assert set(get_args(mig.BundleEncoding)) == set(BUNDLE_ENCODINGS)
    assert set(get_args(mig.BundleFormat)) == set(BUNDLE_FORMATS)
    assert set(get_args(mig.Repertoire)) == set(REPERTOIRES)


def test_every_public_name_resolves() -> None:
    for name in mig.__all__:
        assert getattr(mig, name) is not None, name
    assert mig.MigError is __import__("mig.errors").errors.MigError
    with pytest.raises(AttributeError):
        _ = mig.no_such_name  # type: ignore[attr-defined]


def test_import_mig_is_cheap() -> None:
    loaded = _python(
        "import sys, mig; print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('polars', 'pyarrow', 'numpy', 'click', 'mig')))"
    )
    assert loaded == "['mig', 'mig.version']"


@pytest.mark.parametrize(
    "imports",
    [
        "import mig.load.run, mig.extract.run; import mig",
        "import mig; import mig.load.run, mig.extract.run",
        "import mig; from mig.load import load_run; from mig.extract.run import extract",
    ],
)
def test_facade_functions_are_not_shadowed_by_the_subpackages(imports: str) -> None:
    """``mig/load/`` and ``mig/extract/`` are subpackages too: importing them must not
    replace the façade functions, and the subpackages stay importable."""
    out = _python(
        f"{imports}\nimport sys, types\n"
        "print(type(mig.load).__name__, type(mig.extract).__name__, "
        "isinstance(sys.modules['mig.load.run'], types.ModuleType), "
        "sys.modules['mig.load'].load_run is sys.modules['mig.load.run'].load_run)"
    )
    assert out == "function function True True"
    assert isinstance(mig.load, types.FunctionType)


def test_load_dispatches_database_and_bundle_targets(tmp_path: Path) -> None:
    from mig.load.bundle import BundleResult
    from mig.load.run import LoadResult

    run = make_run(tmp_path / "run")
    loaded = mig.load(run, f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(loaded, LoadResult)
    assert [f.rows_loaded for f in loaded.files] == [40, 7]
    bundled = mig.load(run, f"bundle:{tmp_path / 'bundle'}", encoding="cp932", fixed_width=True)
    assert isinstance(bundled, BundleResult)
    assert (tmp_path / "bundle" / "bundle.json").is_file()


def test_load_refuses_bundle_options_for_a_database(tmp_path: Path) -> None:
    with pytest.raises(mig.ConfigError, match="apply to --target bundle:DIR only"):
        mig.load(tmp_path / "absent", f"sqlite:///{tmp_path / 'x.db'}", encoding="utf-8")
    assert not (tmp_path / "x.db").exists()
