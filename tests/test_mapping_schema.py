"""The mapping's shape and the adapters' options are checked with types before anything is
built: a wrong type is one line (exit 2) naming the key path and the expected type, never
the value; hooks are compiled and checked once, when the mapping is loaded."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mig.cli import main
from mig.errors import ConfigError, ExitCode
from mig.extract.mapping import load_mapping
from mig.extract.run import extract
from mig.plugin import Bool, Int, ListOf, OptionsSchema, Str
from mig.registry import get_adapter
from mig.schema import MapOf, OneOf, Table, Text, check

HEAD = 'adapter = "csv"\n'
FILE = '[[files]]\nlayout = "juki-setai"\n'
GOOD = FILE + (
    '[files.items]\n"団体コード" = { const = "131016" }\n"世帯番号" = { column = "NO" }\n'
    # the other required items of juki-setai: a mapping leaving one unmapped is refused
    '"世帯主氏名" = { const = "山田　太郎" }\n"住所" = { const = "東京都" }\n'
    '"世帯となった年月日" = { const = "20200401" }\n"異動事由" = { const = "01" }\n'
)
#: A value that must never be echoed by a shape error.
MARK = "QZX7MARK"


def write(tmp_path: Path, text: str, head: str = HEAD) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(head + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        ("files = [1, 2]\n", "mapping.toml [[files]] 1:", "expected a table, not an integer"),
        ("code_maps = 1\n" + GOOD, "mapping.toml code_maps:", "expected a table, not an integer"),
        ("severity = \"x\"\n" + GOOD, "mapping.toml severity:", "expected a table, not a string"),
        ("source = 5\n" + GOOD, "mapping.toml source:", "expected a table, not an integer"),
        (FILE + "items = 3\n", "mapping.toml [[files]] 1 items:", "expected a table, not an integer"),
        (FILE + "inputs = 5\n", "mapping.toml [[files]] 1 inputs:", "expected a string or a list, each a string"),
        (FILE + 'extensions = "x"\n', "mapping.toml [[files]] 1 extensions:", "expected a list, each a table"),
        (FILE + 'source = "x"\n', "mapping.toml [[files]] 1 source:", "expected a table, not a string"),
        (GOOD + FILE.replace("setai", "jumin") + '[files.items]\n"氏名" = { split = "A", index = "x" }\n',
         "mapping.toml [[files]] 2 items.氏名.index:", "expected an integer, not a string"),
        (FILE + '[files.items]\n"氏名" = { concat = "AB" }\n', "items.氏名.concat:", "expected a list, each a string"),
        (FILE + '[files.items]\n"氏名" = { concat = [] }\n', "items.氏名.concat:", "expected a non-empty list"),
        (FILE + '[files.items]\n"氏名" = { hook = "m:f", columns = "A" }\n', "items.氏名.columns:", "expected a list"),
        (FILE + '[files.items]\n"氏名" = { column = "A", transforms = "trim" }\n', "items.氏名.transforms:", "expected a list"),
        (FILE + '[files.items]\n"氏名" = { column = ["A"] }\n', "items.氏名.column:", "expected a string, not a list"),
        (FILE + '[files.items]\n"氏名" = { column = "A", index = true }\n', "items.氏名.index:", "expected an integer, not true/false"),
        (FILE + '[files.items]\n"氏名" = 3\n', "items.氏名:", "expected a string or a table, not an integer"),
        (FILE + '[files.items]\n"氏名" = { column = "A", colour = "red" }\n', "items.氏名:", "unknown key(s) colour"),
        ('[code_maps."性別"]\nM = true\n' + GOOD, "code_maps.性別.M:", "expected a string or an integer, not true/false"),
        ('[severity]\n"ragged-row" = 1\n' + GOOD, "severity.ragged-row:", "expected a string, not an integer"),
        (FILE.replace('"juki-setai"', "1"), "mapping.toml [[files]] 1 layout:", "expected a non-empty string"),
        ("[[files]]\ninputs = []\n", "mapping.toml [[files]] 1:", "missing key 'layout'"),
        (FILE + "[[files.extensions]]\nname = \"x\"\ntype = \"半角文字\"\nlength = 3\nrequired = \"no\"\n",
         "[[files]] 1 extensions[1].required:", "expected true or false, not a string"),
        (FILE + "[[files.extensions]]\nname = \"x\"\ntype = \"半角文字\"\nlength = 3\nscale = \"2\"\n",
         "[[files]] 1 extensions[1].scale:", "expected an integer of at least 0"),
        (FILE + "[[files.extensions]]\nname = \"x\"\ntype = \"半角文字\"\nlength = 0\n",
         "[[files]] 1 extensions[1].length:", "expected a positive integer"),
        ("description = []\n" + GOOD, "mapping.toml description:", "expected a string, not a list"),
        ("gaiji = 3\n" + GOOD, "mapping.toml gaiji:", "expected a table"),
        ("colour = 3\n" + GOOD, "mapping.toml:", "unknown key(s) colour"),
    ],
)
def test_a_wrong_type_names_the_key_path_and_the_expected_type(
    tmp_path: Path, body: str, path: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_mapping(write(tmp_path, body))
    message = str(info.value)
    assert path in message and expected in message, message
    assert "\n" not in message


def test_the_adapter_name_is_a_string(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^mapping.toml adapter: expected a string, not an integer$"):
        load_mapping(write(tmp_path, "adapter = 1\n" + GOOD, head=""))


def test_the_value_is_never_shown(tmp_path: Path) -> None:
    bodies = [
        FILE + f'[files.items]\n"氏名" = {{ split = "A", index = "{MARK}" }}\n',
        FILE + f'[files.items]\n"氏名" = {{ column = "A", separator = ["{MARK}"] }}\n',
        f'[code_maps.x]\nM = ["{MARK}"]\n' + GOOD,
        FILE + f'inputs = [["{MARK}"]]\n',
    ]
    for body in bodies:
        with pytest.raises(ConfigError) as info:
            load_mapping(write(tmp_path, body))
        assert MARK not in str(info.value)
        assert "expected" in str(info.value)


def test_keys_that_are_not_plain_words_are_quoted_on_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_mapping(write(tmp_path, FILE + '[files.items]\n"a.b\\nc" = 3\n'))
    assert 'items."a.b\\nc":' in str(info.value)
    assert "\n" not in str(info.value)


def test_reserved_and_unknown_option_names_are_shown_on_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:  # found by the mapping fuzz target
        load_mapping(write(tmp_path, FILE + 'source = { "_x\\n" = 1 }\n'))
    assert str(info.value).endswith('reserved for mig: "_x\\n"')
    with pytest.raises(ConfigError) as info:
        OptionsSchema("x", {}).check({"a\nb": 1})
    assert str(info.value).startswith('x adapter: unknown option(s) "a\\nb"; known: ')


def test_integers_are_taken_as_their_digits_where_text_is_expected(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, '[code_maps."事由"]\n110 = 1\n' + FILE + textwrap.dedent("""
        [files.items]
        "団体コード" = { const = 131016 }
        "異動事由" = { column = "JIYU", code_map = "事由" }
        "世帯主氏名" = "NAME"
        """)))
    assert mapping.code_maps == {"事由": {"110": "1"}}
    items = {i.target: i for i in mapping.files[0].items}
    assert items["団体コード"].const == "131016"
    assert items["世帯主氏名"].columns == ("NAME",)


def test_cli_wrong_type_exits_2_with_one_line(tmp_path: Path) -> None:
    mapping = write(tmp_path, FILE + '[files.items]\n"世帯番号" = { split = "NO", index = "x" }\n')
    (tmp_path / "s.csv").write_text("NO\n1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", "--mapping", str(mapping), "--out", str(tmp_path / "run"),
                                       "--quiet", str(tmp_path / "s.csv")])
    assert result.exit_code == ExitCode.USAGE
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "[[files]] 1 items.世帯番号.index: expected an integer, not a string" in lines[0]
    assert not (tmp_path / "run").exists()


# -- adapter options ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('header = "no"', "csv adapter option header: expected true or false, not a string"),
        ('header = false\ncolumns = "A"', "csv adapter option columns: expected a list, each a string, not a string"),
        ("encoding = 932", "csv adapter option encoding: expected a string, not an integer"),
        ("delimiter = [1]", "csv adapter option delimiter: expected a string, not a list"),
        ("quote = 1", "csv adapter option quote: expected a string or true or false, not an integer"),
        ("quote = true", "give the quote character"),
        ("colour = 1", "csv adapter: unknown option(s) colour"),
    ],
)
def test_csv_options_are_typed(tmp_path: Path, source: str, expected: str) -> None:
    mapping = write(tmp_path, f"[source]\n{source}\n" + GOOD.replace('"juki-setai"\n', '"juki-setai"\ninputs = ["*.csv"]\n'))
    (tmp_path / "s.csv").write_text("NO\n1\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", "--mapping", str(mapping), "--out", str(tmp_path / "run"),
                                       "--quiet", str(tmp_path / "s.csv")])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_header_false_still_reads_the_first_line_as_data(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("1,a\n2,b\n", encoding="utf-8")
    reader = get_adapter("csv").open(path, {"header": False, "columns": ["NO", "X"]}, batch_bytes=1 << 20)
    assert [b.data.height for b in reader.batches()] == [2]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"lrecl": "300"}, "copybook adapter option lrecl: expected a positive integer, not a string"),
        ({"lrecl": 0}, "copybook adapter option lrecl: expected a positive integer"),
        ({"record_types": 1}, "copybook adapter option record_types: expected a table, not an integer"),
        ({"record_types": {"1": 2}}, "copybook adapter option record_types.1: expected a string, not an integer"),
        ({"copybook_format": "cobol"}, "copybook adapter option copybook_format: expected one of auto, fixed, free"),
        ({"framing": ["rdw"]}, "copybook adapter option framing: expected a string, not a list"),
        ({"copybook": 3}, "copybook adapter option copybook: expected a non-empty string, not an integer"),
    ],
)
def test_copybook_options_are_typed(tmp_path: Path, options: dict[str, object], expected: str) -> None:
    (tmp_path / "R.cpy").write_text("01 R.\n  05 A PIC X(4).\n", encoding="utf-8")
    (tmp_path / "R.DAT").write_bytes(b"")
    given = {"copybook": "R.cpy", "charset": "jef-ebcdik", "_mapping_dir": str(tmp_path)} | options
    with pytest.raises(ConfigError) as info:
        get_adapter("copybook").open(tmp_path / "R.DAT", given, batch_bytes=1 << 20)
    assert expected in str(info.value)


def test_an_options_schema_lets_mig_context_pass_and_ignores_absent_values() -> None:
    schema = OptionsSchema("x", {"n": Int(minimum=1), "flag": Bool(), "names": ListOf(Str())})
    schema.check({"n": 2, "flag": False, "names": ["a"], "_mapping_dir": "/", "_columns": ["a"]})
    schema.check({"n": None})  # a library caller's "not given"
    with pytest.raises(ConfigError, match="x adapter option n: expected a positive integer, not true/false"):
        schema.check({"n": True})


def test_one_of_checks_the_matching_alternative_deeply() -> None:
    shape = MapOf(OneOf((Str(), Table({"index": Int()}))))
    check({"a": "x", "b": {"index": 1}}, shape, "m")
    with pytest.raises(ConfigError, match=r"^m b\.index: expected an integer, not a string$"):
        check({"b": {"index": "1"}}, shape, "m")
    with pytest.raises(ConfigError, match=r"^m a: expected a string or an integer, not a number with a point$"):
        check({"a": 1.5}, MapOf(Text()), "m")


# -- hooks --------------------------------------------------------------------------------

HOOKS = '''
import polars as pl

CALLS = []

def counted(x):
    CALLS.append(1)
    return x.str.replace_all("-", "", literal=True)

def not_an_expression(x):
    return "1020083"

def raises(x):
    raise RuntimeError("hook bug")

def other_column(x):
    return pl.col("NOT_GIVEN")

def wrong_type(x):
    return x.dt.year()  # a date operation on a String column

NOT_CALLABLE = 3
'''


@pytest.fixture
def hooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # an installed module (on sys.path), not a file beside the mapping (tests/test_transforms_hooks.py)
    site = tmp_path / "site"
    site.mkdir()
    (site / "hooks_under_test.py").write_text(HOOKS, encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    yield "hooks_under_test"
    sys.modules.pop("hooks_under_test", None)


def hook_mapping(tmp_path: Path, reference: str) -> Path:
    return write(tmp_path, '[source]\nencoding = "utf-8"\n' + GOOD + f'"郵便番号" = {{ hook = "{reference}", columns = ["ZIP"] }}\n')


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("not_an_expression", "hook hooks_under_test:not_an_expression returned str, not a polars expression"),
        ("raises", "hook hooks_under_test:raises raised RuntimeError when called with 1 column expression(s)"),
        ("other_column", "hook hooks_under_test:other_column returned an expression that does not evaluate"),
        ("wrong_type", "hook hooks_under_test:wrong_type returned an expression that does not evaluate"),
        ("NOT_CALLABLE", "is not callable"),
        ("missing", "cannot load hook"),
    ],
)
def test_a_hook_that_breaks_the_contract_is_named_when_the_mapping_loads(
    tmp_path: Path, hooks: str, function: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load_mapping(hook_mapping(tmp_path, f"{hooks}:{function}"))
    assert expected in str(info.value)
    assert "item '郵便番号'" in str(info.value) and "\n" not in str(info.value)


def test_a_hook_is_called_once_per_run_not_per_batch(tmp_path: Path, hooks: str) -> None:
    rows = "".join(f"{n},102-{n:04d}\n" for n in range(1, 400))
    (tmp_path / "s.csv").write_text("NO,ZIP\n" + rows, encoding="utf-8")
    result = extract(hook_mapping(tmp_path, f"{hooks}:counted"), [tmp_path / "s.csv"], tmp_path / "run",
                     batch_bytes=256)
    assert result.report.files[0].rows_in == 399
    assert len(sys.modules[hooks].CALLS) == 1
