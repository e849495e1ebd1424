"""Careless and hostile arguments and inputs end as one ``error:`` line (exit 2) or a bounded
run: devices and FIFOs among the inputs, listings of thousands, sizes no machine holds, dates
outside the timestamps, output paths that are files or read-only, non-finite prices."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pfof.cli import app
from support.bounded_run import run_bounded, without_privilege
from support.hostile_inputs import fifo, zero_symlink, zip_of

runner = CliRunner()
LEGACY_BAD = "T|TVIRT|201612|A|12|21|x|y|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0"


def one_error_line(result: object, *needles: str) -> str:
    """The single ``error:`` line of a CLI result that exited 2 without a traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output  # type: ignore[attr-defined]
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    (line,) = [x for x in result.stderr.splitlines() if x.strip()]  # type: ignore[attr-defined]
    assert line.startswith(("error: ", "Error: ")), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def test_ingest_skips_a_dev_zero_symlink_and_a_fifo_in_bounded_time_and_memory(
    tmp_path: Path, schwab: Path
) -> None:
    folder = tmp_path / "in"
    zero_symlink(folder, "zero.xml")
    fifo(folder, "pipe.xml")
    shutil.copy(schwab / "606-CHAS-2022Q4.xml", folder / "real.xml")
    run = run_bounded(["ingest", str(folder), "--db", str(tmp_path / "s.duckdb")], timeout=60)
    assert run.killed == "" and run.returncode == 0, run
    assert "1 ingested" in run.stderr and "2 skipped" in run.stderr
    assert run.stderr.count("not a regular file") == 2
    assert run.peak_mb < 600, run.peak_mb


def test_thousands_of_rejected_zip_members_are_listed_with_a_count(tmp_path: Path) -> None:
    bulk = tmp_path / "bulk.zip"
    members = {f"r{i:05d}.xml": b"<notAReport/>" for i in range(3_000)}
    members.update({f"n{i:05d}.pdf": b"%PDF" for i in range(3_000)})
    bulk.write_bytes(zip_of(members))
    result = runner.invoke(app, ["ingest", str(bulk), "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 1, result.output
    assert len(result.output) < 20_000, len(result.output)
    assert "... and 2,980 more rejected" in result.output
    assert "... and 2,980 more skipped" in result.output
    assert "0 ingested (0 rows), 3000 skipped, 3000 rejected" in result.output


def test_rule605_validate_lists_a_capped_number_of_100000_issues(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text((LEGACY_BAD + "\n") * 50_000)
    result = runner.invoke(app, ["rule605", "validate", str(path)], env={"COLUMNS": "100"})
    assert result.exit_code == 1
    assert len(result.output.splitlines()) < 80
    assert "... and 99,950 more issues (--json lists all)" in result.output
    assert "100000 errors" in result.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--orders-per-day", "1000000000"], "--orders-per-day must be from 1 to 2,000,000"),
        (["--quotes-per-day", "10000000000"], "--quotes-per-day must be from"),
        (["--days", "1000000000"], "--days must be from 1 to 2,520"),
        (["--symbols", "1000000"], "--symbols must be from 2 to 10,000"),
        (["--start", "9999-12-30"], "--start 9999-12-30: expected a date from 1900-01-01"),
        (["--start", "0001-01-01"], "--start 0001-01-01"),
    ],
)
def test_simulate_refuses_sizes_and_dates_it_cannot_hold(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    result = runner.invoke(app, ["simulate", "--out", str(tmp_path / "o"), *args])
    one_error_line(result, needle)
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_simulate_and_demo_refuse_a_negative_seed(tmp_path: Path) -> None:
    for command in ("simulate", "demo"):
        result = runner.invoke(app, [command, "--out", str(tmp_path), "--seed", "-1"])
        assert result.exit_code == 2 and "'--seed'" in result.output, command


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--broker", "B", "--year", "9999", "--quarter", "4", "--out", "x.xml"],
        ["generate", "--broker", "B", "--year", "0", "--quarter", "1", "--out", "x.xml"],
        [
            "customer",
            "--broker",
            "B",
            "--customer",
            "c",
            "--from",
            "9999-12-31",
            "--to",
            "9999-12-31",
        ],
        [
            "customer",
            "--broker",
            "B",
            "--customer",
            "c",
            "--from",
            "0001-01-01",
            "--to",
            "0001-01-02",
        ],
    ],
    ids=lambda a: (
        f"{a[0]} {a[a.index('--year') + 1] if '--year' in a else a[a.index('--from') + 1]}"
    ),
)
def test_rule606_from_logs_refuses_years_outside_the_timestamps(
    tmp_path: Path, args: list[str]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    result = runner.invoke(app, ["rule606", *args, "--data", str(data)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 2, result.output
    assert "1900" in result.output or "2199" in result.output, result.output


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["simulate", "--days", "1", "--out", "{file}"],
        ["demo", "--days", "1", "--out", "{file}"],
        ["quality", "{data}", "--out", "{file}"],
    ],
    ids=lambda a: a[0],
)
def test_an_out_folder_that_is_a_file_is_one_error_line(
    tmp_path: Path, a_file: Path, args: list[str]
) -> None:
    data = tmp_path / "data"
    (data / "orders" / "date=2026-01-02").mkdir(parents=True)
    argv = [a.format(file=a_file, data=data) for a in args]
    one_error_line(runner.invoke(app, argv), str(a_file), "is a file; expected a folder")


@pytest.mark.parametrize(
    "args",
    [
        ["rule606", "generate", "--broker", "B", "--year", "2026", "--quarter", "4"],
        [
            *("rule606", "customer", "--broker", "B", "--customer", "c"),
            *("--from", "2026-01-02", "--to", "2026-01-02"),
        ],
    ],
    ids=lambda a: a[1],
)
def test_an_out_file_that_is_a_folder_is_one_error_line(tmp_path: Path, args: list[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    result = runner.invoke(app, [*args, "--data", str(data), "--out", str(tmp_path)])
    one_error_line(result, str(tmp_path), "is a folder; expected a file name")


def _read_only(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    return folder


def test_a_read_only_output_folder_is_one_error_line(tmp_path: Path) -> None:
    out = _read_only(tmp_path / "ro")
    run = without_privilege(
        ["simulate", "--days", "1", "--symbols", "3", "--orders-per-day", "20", "--out", str(out)],
        timeout=120,
    )
    assert run.returncode == 2, run
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"error: --out {out}: cannot write in {out}") and "Traceback" not in line


def test_a_store_in_a_read_only_folder_is_one_error_line(tmp_path: Path, schwab: Path) -> None:
    db = tmp_path / "ro" / "s.duckdb"
    db.parent.mkdir()
    result = runner.invoke(app, ["ingest", str(schwab / "606-CHAS-2022Q1.xml"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    _read_only(db.parent)  # the store file stays writable; its folder takes no new file
    run = without_privilege(["ingest", str(schwab / "606-CHAS-2022Q2.xml"), "--db", str(db)])
    assert run.returncode == 2, run
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"error: --db {db}: cannot write in {db.parent}"), line


def test_non_finite_prices_are_one_error_line_naming_the_partition(
    sim_market, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pfof.store import layout

    data = tmp_path / "data"
    day = sim_market.days()[0]
    for table in ("orders", "fills", "nbbo"):
        source = layout.day_part(sim_market.out, table, day)
        target = layout.day_part(data, table, day)
        target.parent.mkdir(parents=True)
        shutil.copy(source, target)
    part = layout.day_part(data, "nbbo", day)
    nbbo = pq.read_table(part)
    bids = nbbo.column("bid").to_pylist()
    bids[3] = float("nan")
    pq.write_table(nbbo.set_column(nbbo.column_names.index("bid"), "bid", pa.array(bids)), part)
    result = runner.invoke(app, ["quality", str(data), "--out", str(tmp_path / "q")])
    one_error_line(result, str(part.parent), "bid on row 3 is nan; expected a finite price")


def test_stale_after_ms_inf_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "orders" / "date=2026-01-02").mkdir(parents=True)
    result = runner.invoke(app, ["quality", str(tmp_path), "--stale-after-ms", "inf"])
    one_error_line(result, "inf")


@pytest.mark.parametrize("content", [b"<a>", b"not xml at all", b"<root/>"])
def test_xsd_that_is_malformed_or_no_schema_is_one_error_line(
    tmp_path: Path, schwab: Path, content: bytes
) -> None:
    xsd = tmp_path / "bad.xsd"
    xsd.write_bytes(content)
    result = runner.invoke(
        app, ["rule606", "validate", "--xsd", str(xsd), str(schwab / "606-CHAS-2022Q4.xml")]
    )
    one_error_line(result, str(xsd))


def test_an_xsd_or_metadata_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    pipe = fifo(tmp_path, "pipe.xsd")
    legacy = tmp_path / "l.txt"
    legacy.write_text("T|TVIRT|201612|AAPL|13|21|2|300|0|300|0|300|0|0|0|0||||||||||\n")
    for args in (
        ["rule606", "validate", "--xsd", str(pipe), str(legacy)],
        ["rule605", "validate", "--metadata", str(pipe), str(legacy)],
        ["rule605", "show", "--metadata", str(pipe), str(legacy)],
    ):
        run = run_bounded(args, timeout=30)
        assert run.killed == "" and run.returncode == 2, (args, run)
        assert "not a regular file" in run.stderr
