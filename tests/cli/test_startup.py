"""An instant CLI: importing the commands and building ``pfof --help`` loads no data library
and no pfof layer below the CLI (they load inside the command that needs them)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "pyarrow",
    "polars",
    "duckdb",
    "lxml",
    "numpy",
    "pandas",
    "plotly",
    "exchange_calendars",
    "jinja2",
    "pfof.formats",
    "pfof.store",
    "pfof.engine",
    "pfof.sim",
    "pfof.app",
    "pfof.reports",
)

#: Imports the CLI, renders the root help and every command's, and lists what got imported.
PROBE = """
import json, sys
import typer
from typer.testing import CliRunner
import pfof.cli
from pfof.cli import app
runner = CliRunner()
helps = {"": runner.invoke(app, ["--help"])}
command = typer.main.get_command(app)
for name, sub in command.commands.items():
    helps[name] = runner.invoke(app, [name, "--help"])
    for inner in getattr(sub, "commands", {}):
        helps[f"{name} {inner}"] = runner.invoke(app, [name, inner, "--help"])
failed = {k: r.output for k, r in helps.items() if r.exit_code != 0}
json.dump({"modules": sorted(sys.modules), "helps": sorted(helps), "failed": failed},
          sys.stdout)
"""


def _probe() -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_help_of_every_command_imports_no_heavy_module() -> None:
    probe = _probe()
    assert probe["failed"] == {}
    for command in ("demo", "quality", "simulate", "ingest", "brokers", "venues", "audit"):
        assert command in probe["helps"]
    assert any(h.startswith("rule606 ") for h in probe["helps"])
    assert any(h.startswith("rule605 ") for h in probe["helps"])
    loaded = [m for m in probe["modules"] if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []
    cmd_modules = [m for m in probe["modules"] if m.startswith("pfof.cli.cmd_")]
    assert sorted(cmd_modules) == [
        "pfof.cli.cmd_audit",
        "pfof.cli.cmd_demo",
        "pfof.cli.cmd_disclosures",
        "pfof.cli.cmd_quality",
        "pfof.cli.cmd_quotes",
        "pfof.cli.cmd_render",
        "pfof.cli.cmd_reports",
        "pfof.cli.cmd_rule605",
        "pfof.cli.cmd_rule606",
        "pfof.cli.cmd_serve",
        "pfof.cli.cmd_simulate",
    ]
