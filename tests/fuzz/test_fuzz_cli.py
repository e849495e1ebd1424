"""Every CLI command, driven with mutated and hostile inputs built from the shared samples,
ends in an ordinary way: its documented exit status (0; 2 for bad input; 1 only for the
commands whose verdict it is: a file found invalid or rejected), never a traceback, within
a time bound; and a file ``pfof ingest`` rejects leaves the store's totals as they were.

Examples are few and derandomized in CI (tests/conftest.py), so the suite takes seconds.
"""

from __future__ import annotations

import functools
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from conftest import shared_path
from pfof.cli import app
from support.fuzz_inputs import HOSTILE_TEXT, mutated_bytes, mutated_lines, mutated_xml
from support.hostile_inputs import ESCAPE_FILE_NAME, MARKUP_NAME, no_raw_controls, zip_of

runner = CliRunner()
SECONDS = 30.0
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WIDE = {"COLUMNS": "120"}


def invoke(args: list[str], codes: tuple[int, ...] = (0, 2)) -> Result:
    """``pfof ARGS`` in-process: an exit status in ``codes``, no traceback, in time."""
    started = time.perf_counter()
    result = runner.invoke(app, args, env=WIDE)
    seconds = time.perf_counter() - started
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        result.exception,
    )
    assert result.exit_code in codes, (args, result.exit_code, result.output[-2000:])
    assert "Traceback" not in result.output
    assert seconds < SECONDS, (args, seconds)
    return result


@functools.cache
def report(name: str) -> bytes:
    return shared_path("real-606", "schwab", name).read_bytes()


@pytest.fixture(scope="module")
def base_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store holding Schwab's 2022 Q4 report, and its ``brokers --json`` totals."""
    folder = tmp_path_factory.mktemp("fuzz-store")
    source = folder / "q4.xml"
    source.write_bytes(report("606-CHAS-2022Q4.xml"))
    db = folder / "base.duckdb"
    invoke(["ingest", str(source), "--db", str(db)], (0,))
    return db, invoke(["brokers", "--json", "--db", str(db)], (0,)).stdout


@FUZZ
@given(data=st.data())
def test_ingest_of_a_mutated_report_never_changes_the_totals_when_rejected(
    base_store: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    db0, totals = base_store
    folder = tmp_path_factory.mktemp("fuzz-ingest")
    db = folder / "store.duckdb"
    shutil.copy(db0, db)
    base = report(data.draw(st.sampled_from(["606-CHAS-2022Q3.xml", "606-CHAS-2022Q4.xml"])))
    xml = data.draw(mutated_xml(base))
    name = data.draw(st.sampled_from(["r.xml", f"{ESCAPE_FILE_NAME}.xml"]))
    if data.draw(st.booleans()):
        (folder / "bulk.zip").write_bytes(zip_of({name: xml, f"{MARKUP_NAME}.pdf": b"%PDF"}))
        target = folder / "bulk.zip"
    else:
        target = folder / name
        target.write_bytes(xml)
    result = invoke(["ingest", str(target), "--db", str(db)], (0, 1))
    assert no_raw_controls(result.output)
    after = invoke(["brokers", "--json", "--db", str(db)], (0,)).stdout
    if result.exit_code == 1:  # the report was rejected: nothing of it reached the totals
        assert after == totals
    for args in (["brokers"], ["brokers", "--csv"], ["venues", "--all", "--wide"]):
        shown = invoke([*args, "--db", str(db)], (0,))
        assert no_raw_controls(shown.output), args


@FUZZ
@given(data=st.data())
def test_rule606_commands_on_mutated_reports(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    base = shared_path("sec-606", data.draw(st.sampled_from(_SEC_606)))
    stem = data.draw(st.sampled_from(["f", "[link=x]y", ESCAPE_FILE_NAME]))
    path = tmp_path_factory.getbasetemp() / f"{stem}.xml"
    path.write_bytes(data.draw(mutated_xml(base.read_bytes())))
    for args in (
        ["validate", str(path)],
        ["validate", "--strict", "--json", str(path)],
        ["summary", str(path)],
        ["summary", "--json", "--wide", str(path)],
    ):
        assert no_raw_controls(invoke(["rule606", *args], (0, 1)).output)


_SEC_606 = [
    "606a1_held_order_public_report.xml",
    "606b1_held_exempt_not_held_customer_routing.xml",
    "606b3_not_held_customer_handling.xml",
]


@functools.cache
def lines_605() -> list[tuple[list[str], str]]:
    legacy = shared_path("sec-605", "legacy-real", "TVIRT_201612_selected_symbols.txt")
    summary = shared_path("sec-605", "oes", "data", "sample.csv")
    return [(legacy.read_text().splitlines()[:30], "|"), (summary.read_text().splitlines(), ",")]


@FUZZ
@given(data=st.data())
def test_rule605_commands_on_mutated_files(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    lines, delimiter = data.draw(st.sampled_from(lines_605()))
    raw = data.draw(mutated_lines(lines, delimiter)).encode("utf-8", "surrogateescape")
    if data.draw(st.booleans()):
        raw = data.draw(mutated_bytes(raw))
    path = tmp_path_factory.getbasetemp() / "fuzz605.csv"
    path.write_bytes(raw)
    metadata = str(shared_path("sec-605", "oes", "src", "oes-metadata.json"))
    for args in (
        ["validate", str(path)],
        ["validate", "--json", "--strict", str(path)],
        ["validate", "--metadata", metadata, str(path)],
        ["show", str(path)],
        ["show", "--wide", str(path)],
    ):
        assert no_raw_controls(invoke(["rule605", *args], (0, 1, 2)).output)


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One simulated day: 3 symbols, 200 orders."""
    out = tmp_path_factory.mktemp("fuzz-data") / "data"
    args = ["--days", "1", "--symbols", "3", "--orders-per-day", "200", "--quotes-per-day", "600"]
    invoke(["simulate", "--out", str(out), *args], (0,))
    return out


_DAMAGE = st.sampled_from(["bytes", "nan", "negative", "type", "drop"])


@FUZZ
@given(data=st.data())
def test_quality_on_damaged_partitions(
    small_dataset: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("fuzz-quality") / "data"
    for table in ("orders", "fills", "nbbo"):
        shutil.copytree(small_dataset / table, root / table)
    table = data.draw(st.sampled_from(["orders", "fills", "nbbo"]))
    (part,) = (root / table).glob("date=*/part-0.parquet")
    damage = data.draw(_DAMAGE)
    if damage == "bytes":
        part.write_bytes(data.draw(mutated_bytes(part.read_bytes()[:4096])))
    else:
        values = pq.read_table(part)
        column = data.draw(st.sampled_from(values.column_names))
        index = values.column_names.index(column)
        if damage == "drop":
            values = values.remove_column(index)
        elif damage == "type":
            values = values.set_column(index, column, pa.array(["x"] * values.num_rows))
        elif pa.types.is_floating(values.schema.field(column).type):
            bad = float("nan") if damage == "nan" else -1.0
            cells = values.column(column).to_pylist()
            cells[data.draw(st.integers(0, len(cells) - 1))] = bad
            values = values.set_column(index, column, pa.array(cells, pa.float64()))
        pq.write_table(values, part)
    invoke(["quality", str(root), "--out", str(root / "q")], (0, 2))


#: Option values each command must refuse (usage error or one error line, exit 2).
_BAD_OPTIONS: dict[tuple[str, ...], dict[str, list[str]]] = {
    ("simulate",): {
        "--days": ["0", "-1", "99999999999", "x"],
        "--orders-per-day": ["0", "1000000000", "1e3"],
        "--symbols": ["1", "10000000"],
        "--start": ["9999-12-31", "0001-01-01", "2026-02-30", ESCAPE_FILE_NAME],
        "--seed": ["-1", "x"],
        "--preset": ["[/]", ESCAPE_FILE_NAME],
    },
    ("demo",): {
        "--days": ["0", "64", "x"],
        "--quarters": ["0", "13"],
        "--seed": ["-5"],
    },
    ("rule606", "generate"): {
        "--year": ["0", "9999", "x"],
        "--quarter": ["0", "5"],
        "--routes": ["[/]", "none"],
    },
    ("rule606", "customer"): {
        "--from": ["9999-12-31", "0000-01-01", "2026-13-01", MARKUP_NAME],
        "--routes": ["[/]"],
    },
    ("quality",): {"--stale-after-ms": ["inf", "nan", "-1", "1e999"], "--workers": ["0", "-3"]},
    ("brokers",): {"--year": ["x", "1e9"]},
}
_REQUIRED: dict[tuple[str, ...], list[str]] = {
    ("rule606", "generate"): ["--broker", "B", "--year", "2026", "--quarter", "4"],
    ("rule606", "customer"): [
        *("--broker", "B", "--customer", "c"),
        *("--from", "2026-01-02", "--to", "2026-01-02"),
    ],
}


@FUZZ
@given(data=st.data())
def test_hostile_option_values_end_in_one_error(
    small_dataset: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    command = data.draw(st.sampled_from(sorted(_BAD_OPTIONS)))
    option = data.draw(st.sampled_from(sorted(_BAD_OPTIONS[command])))
    value = data.draw(st.sampled_from(_BAD_OPTIONS[command][option]))
    out = tmp_path_factory.getbasetemp() / "fuzz-out"
    args = [*command, *_REQUIRED.get(command, []), option, value]
    if command[0] == "rule606":
        args += ["--data", str(small_dataset), "--out", str(out / "r.xml")]
    elif command == ("quality",):
        args += [str(small_dataset), "--out", str(out / "q")]
    elif command == ("brokers",):
        args += ["--db", str(out / "none.duckdb")]
    else:
        args += ["--out", str(out / command[0])]
    result = invoke(args, (2,))
    assert no_raw_controls(result.output)


@FUZZ
@given(value=st.sampled_from(HOSTILE_TEXT))
def test_hostile_paths_are_one_error_line_for_every_file_argument(value: str) -> None:
    """A path that does not exist, named with markup or escapes, in every path argument."""
    path = f"/nonexistent/{value.replace('/', '_')[:80]}"
    for args in (
        ["ingest", path, "--db", f"{path}.duckdb"],
        ["brokers", "--db", path],
        ["venues", "--db", path],
        ["rule606", "validate", path],
        ["rule606", "summary", path],
        ["rule605", "validate", path],
        ["rule605", "show", path],
        ["quality", path],
    ):
        result = invoke(args, (1, 2))
        assert no_raw_controls(result.output), args


#: Commands driven above with hostile inputs (their own file contents or option values).
FUZZED = {
    "ingest",
    "brokers",
    "venues",
    "rule606 validate",
    "rule606 summary",
    "rule606 generate",
    "rule606 customer",
    "rule605 validate",
    "rule605 show",
    "quality",
    "simulate",
    "demo",
}
#: Commands that serve until stopped: never started here.
LONG_RUNNING = {"serve"}


def _commands() -> list[str]:
    root = typer.main.get_command(app)
    names = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        inner = getattr(command, "commands", None)
        names += [f"{name} {sub}" for sub in inner] if inner else [name]
    return sorted(names)


def test_the_fuzzed_commands_are_commands() -> None:
    assert FUZZED <= set(_commands())


@pytest.mark.parametrize("command", [c for c in _commands() if c not in FUZZED | LONG_RUNNING])
def test_every_other_command_refuses_a_hostile_missing_file_in_one_line(
    command: str, tmp_path: Path
) -> None:
    """Commands written elsewhere get the same minimum: a hostile, missing path as their
    argument ends in exit 2 (or 1) without a traceback, within the time bound."""
    path = str(tmp_path / f"{ESCAPE_FILE_NAME}[/].csv")
    outcome: list[Any] = []
    worker = threading.Thread(
        target=lambda: outcome.append(runner.invoke(app, [*command.split(), path], env=WIDE)),
        daemon=True,
    )
    worker.start()
    worker.join(SECONDS)
    assert outcome, f"{command} did not end within {SECONDS} s"
    result = outcome[0]
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (1, 2), result.output
    assert no_raw_controls(result.output)
