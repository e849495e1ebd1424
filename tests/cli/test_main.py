"""The root app: a ``PfofError`` ends any command as one ``error:`` line with its exit status;
usage errors stay Typer's; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pfof.cli import PfofGroup, app
from pfof.errors import InputError, PfofError, StoreError

PFOF = Path(sys.executable).with_name("pfof")


def _orders_partition(root: Path) -> Path:
    part = root / "orders" / "date=2026-01-02"
    part.mkdir(parents=True)
    return part


def test_malformed_input_file_exits_2_with_one_line_naming_it(tmp_path: Path) -> None:
    part = _orders_partition(tmp_path)
    (part / "part-0.parquet").write_bytes(b"this is not parquet")
    result = CliRunner().invoke(app, ["quality", str(tmp_path)])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {part}: cannot read as Parquet")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_missing_store_exits_2_with_one_line_naming_it(tmp_path: Path) -> None:
    db = tmp_path / "none.duckdb"
    result = CliRunner().invoke(app, ["brokers", "--db", str(db)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {db}: no such store; run `pfof ingest PATH... --db {db}`"
    ]


def _app_raising(exc: BaseException) -> typer.Typer:
    sub = typer.Typer(cls=PfofGroup)

    @sub.command()
    def fail() -> None:
        raise exc

    @sub.command()
    def other() -> None:  # two commands, so that "fail" is a sub-command
        pass

    return sub


@pytest.mark.parametrize(
    ("exc", "code"),
    [(InputError("a.xml: not XML"), 2), (StoreError("s.duckdb: locked"), 1), (PfofError("x"), 1)],
)
def test_pfof_errors_exit_with_their_exit_code(exc: PfofError, code: int) -> None:
    result = CliRunner().invoke(_app_raising(exc), ["fail"])
    assert result.exit_code == code
    assert result.stderr == f"error: {exc}\n"


def test_error_message_is_escaped_and_kept_on_one_line() -> None:
    exc = InputError("[bold]x.csv[/bold]: line 3:\n  expected a number, got 'a'")
    result = CliRunner().invoke(_app_raising(exc), ["fail"], env={"COLUMNS": "30"})
    assert result.stderr == "error: [bold]x.csv[/bold]: line 3: expected a number, got 'a'\n"


def test_other_exceptions_are_bugs_and_are_not_turned_into_error_lines() -> None:
    result = CliRunner().invoke(_app_raising(RuntimeError("bug")), ["fail"])
    assert isinstance(result.exception, RuntimeError)
    assert "error:" not in result.output


def test_usage_errors_stay_typers_own() -> None:
    result = CliRunner().invoke(app, ["quality"])
    assert result.exit_code == 2
    assert "Usage:" in result.output and "Missing argument" in result.output


def test_pfof_script_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    if not PFOF.exists():
        pytest.skip(f"{PFOF}: no pfof console script beside the interpreter")
    part = _orders_partition(tmp_path)
    (part / "part-0.parquet").write_bytes(b"PAR1 truncated")
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run(
        [str(PFOF), "quality", str(tmp_path)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: {part}: cannot read as Parquet")
