"""``pfof serve``: which store it serves, what it says when there is none, and that it binds
127.0.0.1 unless told otherwise (Uvicorn itself is replaced here: no server is started)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

import pfof
from pfof.cli import app

runner = CliRunner()


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    return calls


def test_without_a_store_it_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2 and started == []
    assert "pfof demo" in result.output and "pfof ingest" in result.output


def test_a_missing_db_is_refused(tmp_path: Path, started: list) -> None:
    result = runner.invoke(app, ["serve", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2 and "no such store" in result.output and started == []


def test_it_serves_the_demo_store_on_localhost_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started: list
) -> None:
    (tmp_path / "pfof-demo").mkdir()
    pfof.connect(tmp_path / "pfof-demo" / "pfof.duckdb").close()
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 0, result.output
    assert started[0]["host"] == "127.0.0.1" and started[0]["port"] == 8606
    assert started[0]["app"].state.view.db == Path("pfof-demo/pfof.duckdb")


def test_host_and_port_are_options(tmp_path: Path, started: list) -> None:
    db = tmp_path / "s.duckdb"
    pfof.connect(db).close()
    result = runner.invoke(app, ["serve", "--db", str(db), "--host", "0.0.0.0", "--port", "9000"])
    assert result.exit_code == 0, result.output
    assert (started[0]["host"], started[0]["port"]) == ("0.0.0.0", 9000)
