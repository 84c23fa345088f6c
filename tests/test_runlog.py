"""``mig --log-file``: a plain-text run log, appended to, never a value or a credential;
a log that cannot be opened is one line and exit 3, never a traceback."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mig.cli import main
from mig.cli.runlog import command_line


def test_a_log_that_cannot_be_opened_is_one_line_and_exit_3(tmp_path: Path) -> None:
    for path in (tmp_path / "no" / "such" / "x.log", Path("/proc/version")):
        result = CliRunner().invoke(main, ["--log-file", str(path), "layouts", "list"])
        assert result.exit_code == 3, result.output
        assert result.stderr.startswith(f"mig: error: {path}: cannot write: ")
        assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_the_log_records_the_command_its_messages_and_the_exit(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    CliRunner().invoke(main, ["--log-file", str(log), "layouts", "list"])
    CliRunner().invoke(main, ["--log-file", str(log), "layouts", "show", "nope"])
    lines = log.read_text(encoding="utf-8").splitlines()
    assert [line.split(" ", 2)[2] for line in lines if " start " in line] == [
        f"start mig --log-file {log} layouts list", f"start mig --log-file {log} layouts show nope",
    ]
    assert any(line.endswith("INFO mig: error: unknown layout 'nope'; known: juki-ido, juki-jumin, juki-setai")
               or "INFO mig: error: unknown layout 'nope'" in line for line in lines)
    assert [line.split(" INFO ")[1].split(" (")[0] for line in lines if " end " in line] == ["end exit 0", "end exit 2"]
    # what the command printed on stdout (the layout list) is not copied into the log
    assert not any("中間標準レイアウト" in line for line in lines)


def test_the_log_file_comes_from_the_environment_too(tmp_path: Path) -> None:
    log = tmp_path / "env.log"
    CliRunner().invoke(main, ["layouts", "list"], env={"MIG_LOG_FILE": str(log)})
    assert "start mig layouts list" in log.read_text(encoding="utf-8")


@given(st.text(alphabet="ABCXYZ@:/%?&=", min_size=1, max_size=16))
def test_a_password_in_a_target_url_never_reaches_the_log_line(password: str) -> None:
    from urllib.parse import quote

    shown = command_line(["load", "run", "--target", f"postgresql://mig:{quote(password, safe='')}@db/x"])
    assert not any(c in shown for c in "ABCXYZ")  # letters only the password holds
