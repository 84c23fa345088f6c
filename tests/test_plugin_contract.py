"""mig enforces the plugin contract at run time, and shows each plugin as it is.

The adapters of :mod:`tests.support.broken_adapters` are installed as a plugin
distribution would be (a ``.dist-info`` with entry points on ``sys.path``): no mock.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner, Result

from mig.cli import main
from mig.errors import AdapterContractError, ConfigError
from mig.extract.contract import ContractState, check_batch, check_end
from mig.extract.run import extract
from mig.plugin import API_VERSION, RECORD_SCHEMA, FindingType, SourceBatch, empty_rejects
from mig.registry import adapter_info, adapter_infos, describe_adapter
from mig.version import DISTRIBUTION
from tests.support import broken_adapters
from tests.support.broken_adapters import BROKEN, DIST, DIST_VERSION, LineAdapter

MAPPING = """
adapter = "{adapter}"
[[files]]
layout = "juki-setai"
inputs = ["*.txt"]
[files.items]
"団体コード" = {{ const = "131016" }}
"世帯番号" = {{ column = "NO" }}
"世帯主氏名" = {{ column = "NAME" }}
"住所" = {{ const = "東京都千代田区" }}
"世帯となった年月日" = {{ const = "20200401" }}
"異動事由" = {{ const = "01" }}
"""
LINES = "NO,NAME\n000000000000001,山田　太郎\n000000000000002,山田　花子\nragged\n000000000000003,鈴木　一郎\n"


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = broken_adapters.install(tmp_path / "site", {"no-such": "mig_no_such_plugin:Adapter"})
    monkeypatch.syspath_prepend(str(site))
    return site


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write_case(tmp_path: Path, adapter: str) -> tuple[Path, Path]:
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING.format(adapter=adapter), encoding="utf-8")
    data = tmp_path / "in.txt"
    data.write_bytes(LINES.encode("utf-8"))
    return mapping, data


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_mig_extract_stops_a_broken_adapter_with_one_line(tmp_path: Path, plugins: Path, name: str) -> None:
    mapping, data = write_case(tmp_path, name)
    out = tmp_path / "run"
    result = run("extract", "-m", str(mapping), "-o", str(out), "-q", str(data))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    line = lines[0]
    assert line.startswith(f"mig: error: adapter {name} ({DIST} {DIST_VERSION}) broke the plugin contract: in.txt")
    assert BROKEN[name][1] in line
    assert "山田" not in line  # no value
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("name", ["lines", "own-type"])
def test_adapters_that_keep_the_contract_run(tmp_path: Path, plugins: Path, name: str) -> None:
    mapping, data = write_case(tmp_path, name)
    result = run("extract", "-m", str(mapping), "-o", str(tmp_path / "run"), "-q", str(data))
    assert result.exit_code in (0, 1), result.output
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["totals"]["rows_in"] == 4 and manifest["totals"]["rows_rejected"] >= 1
    rejects = (tmp_path / "run" / "rejects" / "juki-setai.jsonl").read_text(encoding="utf-8")
    expected = "line has 1 fields" if name == "own-type" else "record has 1 fields"
    assert expected in rejects  # the adapter's declared template renders the message


def test_library_api_takes_an_adapter_object(tmp_path: Path) -> None:
    mapping, data = write_case(tmp_path, "misaligned")
    with pytest.raises(AdapterContractError, match=r"adapter misaligned \(not installed, version 0.1.0\) broke .* in.txt batch 1: data and records"):
        extract(mapping, [data], tmp_path / "run", adapter=broken_adapters.Misaligned())
    assert not (tmp_path / "run").exists()
    mapping.write_text(MAPPING.format(adapter="lines"), encoding="utf-8")
    result = extract(mapping, [data], tmp_path / "run", adapter=LineAdapter())
    assert result.manifest["totals"]["rows_in"] == 4


def test_declared_options_are_checked_before_open(tmp_path: Path, plugins: Path) -> None:
    mapping, data = write_case(tmp_path, "lines")
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("[[files]]", "[source]\nnote = 3\n[[files]]"), encoding="utf-8")
    result = run("extract", "-m", str(mapping), "-o", str(tmp_path / "run"), "-q", str(data))
    assert result.exit_code == 2 and "lines adapter option note: expected a string" in result.stderr
    mapping.write_text(mapping.read_text(encoding="utf-8").replace("note = 3", "nope = 1"), encoding="utf-8")
    result = run("extract", "-m", str(mapping), "-o", str(tmp_path / "run"), "-q", str(data))
    assert result.exit_code == 2 and "lines adapter: unknown option(s) nope; known: note" in result.stderr


def test_list_shows_a_broken_plugin_and_the_others_still_work(plugins: Path) -> None:
    result = run("adapters", "list")
    assert result.exit_code == 0
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "BROKEN" in lines["no-such"] and "ModuleNotFoundError" in lines["no-such"]
    assert "Traceback" not in result.output
    assert "[jichitai-mig 0.1.0, API 1]" in lines["csv"] and f"[{DIST} 0.1.0, API {API_VERSION}]" in lines["lines"]
    listed = json.loads(run("adapters", "list", "--json").stdout)
    assert {row["name"]: bool(row["broken"]) for row in listed}["no-such"] is True
    shown = run("adapters", "show", "no-such")
    assert shown.exit_code == 0 and "BROKEN: failed to load: ModuleNotFoundError" in shown.stdout
    with pytest.raises(ConfigError, match="adapter 'no-such' is broken"):
        adapter_info("no-such")


def test_show_names_distribution_options_and_finding_types(plugins: Path) -> None:
    shown = json.loads(run("adapters", "show", "copybook", "--json").stdout)
    assert shown["distribution"] == DISTRIBUTION and shown["api_version"] == API_VERSION
    assert {t["code"] for t in shown["finding_types"]} >= {"record-truncated", "record-long"}
    assert all(t["template_ja"] for t in shown["finding_types"])
    assert {o["name"]: o["default"] for o in shown["options"]}["framing"] == "fixed"
    text = run("adapters", "show", "own-type").stdout
    assert "line-odd [error] line has {detail} fields" in text and "行の項目数が {detail}" in text
    assert "note — a string: ignored" in text
    assert run("adapters", "show", "nope").exit_code == 2


def test_malformed_declarations_make_a_plugin_broken() -> None:
    class Future(LineAdapter):
        api_version = API_VERSION + 1

    with pytest.raises(ConfigError, match="needs plugin API 2"):
        describe_adapter(Future())

    class Loose(LineAdapter):
        finding_types = ("record-odd",)  # type: ignore[assignment]

    with pytest.raises(ConfigError, match="finding_types must be a list of mig.plugin.FindingType"):
        describe_adapter(Loose())
    with pytest.raises(ConfigError, match="only {item} and {detail}"):
        FindingType("line-odd", "value {value}", "error")


def test_a_plugin_may_not_redeclare_migs_own_type(tmp_path: Path) -> None:
    class Thief(LineAdapter):
        finding_types = (FindingType("ragged-row", "mine", "warning"),)

    mapping, data = write_case(tmp_path, "lines")
    with pytest.raises(ConfigError, match="ragged-row is mig's own"):
        extract(mapping, [data], tmp_path / "run", adapter=Thief())


def test_builtin_adapters_load_with_their_declarations() -> None:
    infos = {info.name: info for info in adapter_infos()}
    assert infos["csv"].options is not None and infos["csv"].error is None
    assert infos["copybook"].finding_types and infos["copybook"].version == "0.1.0"


# -- the function API the conformance kit shares ---------------------------------------------


def state(size: int | None = 100) -> ContractState:
    return ContractState("adapter t (d 1)", "f.dat", size, frozenset({"ragged-row"}))


def batch(rows: list[int], offsets: list[int], reject_rows: tuple[int, ...] = ()) -> SourceBatch:
    records = pl.DataFrame(
        {"row": rows, "line": rows, "offset": offsets, "raw": [b"ab"] * len(rows)}, schema=RECORD_SCHEMA
    )
    rejects = empty_rejects()
    if reject_rows:
        rejects = pl.DataFrame(
            {"row": list(reject_rows), "line": list(reject_rows), "offset": [90] * len(reject_rows),
             "raw": [b"x"] * len(reject_rows), "type": ["ragged-row"] * len(reject_rows), "detail": ["1"] * len(reject_rows)},
            schema=rejects.schema,
        )
    return SourceBatch(pl.DataFrame({"row": rows}, schema={"row": pl.Int64}), records, rejects)


def test_check_batch_carries_rows_and_offsets_across_batches() -> None:
    s = state()
    check_batch(batch([1, 2], [0, 2]), s)
    check_batch(batch([3], [4], reject_rows=(4,)), s)
    assert (s.last_row, s.rows, s.raw_bytes) == (4, 4, 7)
    with pytest.raises(AdapterContractError, match="batch 3: row ids not increasing"):
        check_batch(batch([4], [95]), s)


@pytest.mark.parametrize(
    ("made", "rule"),
    [
        (batch([2, 1], [0, 2]), "row ids not increasing"),
        (batch([1, 2], [2, 0]), "byte offsets not increasing"),
        (batch([1, 2], [0, 99]), "runs past the end of the file"),
        (batch([1, 2], [0, 2], reject_rows=(2,)), "duplicate row id"),
    ],
)
def test_check_batch_rules(made: SourceBatch, rule: str) -> None:
    with pytest.raises(AdapterContractError, match=rule):
        check_batch(made, state())


def test_offsets_past_the_file_pass_when_raw_is_not_the_files() -> None:
    check_batch(batch([1, 2], [0, 99]), state(None))


def test_check_end_counts_records() -> None:
    class Counted:
        def coverage(self):  # type: ignore[no-untyped-def]
            from mig.plugin import Coverage

            return Coverage(records=3)

    s = state()
    check_batch(batch([1, 2], [0, 2]), s)
    with pytest.raises(AdapterContractError, match="counts 3 record\\(s\\) but returned 2"):
        check_end(Counted(), s)
    check_end(object(), s)  # no coverage reported: nothing to check


def drive(name: str, path: Path, options: dict[str, object], batch_bytes: int) -> ContractState:
    from mig.registry import open_reader

    info = adapter_info(name)
    reader = open_reader(info, path, options, batch_bytes=batch_bytes)
    s = ContractState.of(info, path, reader)
    for made in reader.batches():
        check_batch(made, s)
    check_end(reader, s)
    return s


@pytest.mark.parametrize("batch_bytes", [7, 64, 1 << 20])
def test_csv_reports_coverage_and_keeps_the_contract(tmp_path: Path, batch_bytes: int) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(b"\xef\xbb\xbfA,B\r\n1,2\r\n\r\n3,4,5\r\nx\x00,y\r\n6,7")
    s = drive("csv", path, {"encoding": "utf-8"}, batch_bytes)
    assert s.rows == 5 and s.raw_bytes + 3 + len(b"A,B\r\n") == path.stat().st_size


def test_copybook_reports_its_record_count_and_keeps_the_contract() -> None:
    committed = Path(__file__).parent / "data" / "mainframe"
    s = drive("copybook", committed / "JUKI.DAT", {
        "copybook": str(committed / "JUKI.cpy"), "charset": "jef-ebcdik", "lrecl": 300, "record": "JUMIN-REC",
        "record_selector": "REC-KBN", "record_types": {"1": "SETAI-REC", "2": "JUMIN-REC"},
    }, 1 << 12)
    assert s.rows == 41


def refusing_target(url: str) -> object:
    """A load-target factory that refuses every URL: proves the dispatch reached it."""
    raise ConfigError(f"refusing target reached for {url.split(':')[0]}")


def test_load_targets_come_from_the_mig_targets_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import entry_points

    from mig.load import known_targets, open_target

    builtin = {ep.name: ep.value for ep in entry_points(group="mig.targets")}
    assert builtin["sqlite"] == "mig.load.sqlite:SqliteTarget" and "bundle" in builtin
    site = broken_adapters.install(tmp_path / "site", targets={
        "refusing": "tests.test_plugin_contract:refusing_target", "gone": "mig_no_such_target:Target",
    })
    monkeypatch.syspath_prepend(str(site))
    assert {"refusing", "gone", "sqlite", "postgresql", "duckdb"} <= set(known_targets())
    with pytest.raises(ConfigError, match="refusing target reached for refusing"):
        open_target("refusing://x")
    with pytest.raises(ConfigError, match=r"load target gone \(broken-plugins\) failed to load: ModuleNotFoundError"):
        open_target("gone://x")
    assert type(open_target(f"sqlite:///{tmp_path / 'x.db'}")).__name__ == "SqliteTarget"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_mig_adapters_check_names_the_broken_contract(tmp_path: Path, plugins: Path, name: str) -> None:
    """The conformance kit applies the same run-time contract: each broken adapter fails
    `mig adapters check` (exit 1) with the violated rule named, no traceback."""
    _, data = write_case(tmp_path, name)
    result = CliRunner().invoke(main, ["adapters", "check", name, str(data), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    problems = [p for c in report["checks"] for p in c["problems"]]
    assert report["failed"] and any(
        f"adapter {name} ({DIST} {DIST_VERSION}) broke the plugin contract" in p and BROKEN[name][1] in p
        for p in problems
    ), problems
    assert "Traceback" not in result.output and "山田" not in result.output

