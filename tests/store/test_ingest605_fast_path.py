"""The fast path of ``store.ingest605`` (DuckDB's CSV reader) against the exact path.

Every test ingests the same files twice, once with the fast path allowed and once with the
exact reader only (``ingest605.FAST_PATH = False``), and compares what the store holds: the
row tables in insertion order, ``sources_605`` (all but ``ingested_at``) and the outcomes.
Whether the fast path took a file is observed by wrapping ``ingest605._store_fast``: tests
say when it must (clean files, one deviation) and when it must give way (anything the row
readers judge differently from DuckDB's lenient parsing).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import shared_path
from pfof.model.records605 import DETAILED_FIELDS, LEGACY_FIELDS
from pfof.store import ingest605
from pfof.store.ingest import ingest
from pfof.store.schema import RULE605_ROW_TABLES, connect
from support.files605 import detailed_file, legacy_file

_SOURCE_COLUMNS = (
    "sha256, path, format, market_center, month, market_centers, months, strict_valid, "
    "warnings, n_rows"
)


class _Taken:
    """Records, per file, whether the fast path stored it (True) or gave way (False)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: dict[str, bool] = {}
        real = getattr(ingest605._store_fast, "__wrapped__", ingest605._store_fast)

        def wrapped(con: Any, entry: Any, *args: Any) -> Any:
            try:
                outcome = real(con, entry, *args)
            except BaseException:
                self.paths[entry.path] = False
                raise
            self.paths[entry.path] = True
            return outcome

        wrapped.__wrapped__ = real  # type: ignore[attr-defined]  # one level, however often
        monkeypatch.setattr(ingest605, "_store_fast", wrapped)


def _snapshot(db: Path, sources: list[Path]) -> dict[str, Any]:
    con = connect(db)
    try:
        outcomes = ingest([str(s) for s in sources], con).outcomes
        tables = {
            table: con.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table, _ in RULE605_ROW_TABLES
        }
        stored = con.execute(f"SELECT {_SOURCE_COLUMNS} FROM sources_605 ORDER BY path").fetchall()
    finally:
        con.close()
    return {
        "tables": tables,
        "sources": stored,
        "outcomes": [
            (
                o.path,
                o.status,
                o.reason,
                o.sha256,
                o.rows,
                o.warnings,
                o.format,
                o.market_center,
                o.month,
            )
            for o in outcomes
        ],
    }


def _both(
    tmp: Path, sources: list[Path], monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], dict[str, bool]]:
    """Ingest ``sources`` by both paths into new stores; assert the stores and outcomes are
    equal and return the fast store's snapshot and which files the fast path took."""
    tmp.mkdir(parents=True, exist_ok=True)
    taken = _Taken(monkeypatch)
    monkeypatch.setattr(ingest605, "FAST_PATH", True)
    fast = _snapshot(tmp / "fast.duckdb", sources)
    monkeypatch.setattr(ingest605, "FAST_PATH", False)
    exact = _snapshot(tmp / "exact.duckdb", sources)
    monkeypatch.setattr(ingest605, "FAST_PATH", True)
    assert fast["outcomes"] == exact["outcomes"]
    assert fast["sources"] == exact["sources"]
    for table in fast["tables"]:
        assert fast["tables"][table] == exact["tables"][table], table
    return fast, taken.paths


def _warnings(snapshot: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    for row in snapshot["sources"]:
        if row[1] == str(path):
            return list(json.loads(row[8]))
    raise AssertionError(f"{path} not stored")


def _lines(path: Path) -> list[list[str]]:
    return [line.split("|") for line in path.read_text().split("\n") if line]


def _save(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("".join("|".join(r) + "\n" for r in rows))
    return path


_LEGACY_INDEX = {name: i for i, (name, _) in enumerate(LEGACY_FIELDS)}
_DETAILED_INDEX = {attr: i for i, (_, attr, _) in enumerate(DETAILED_FIELDS)}


# ---------------------------------------------------------------- clean files


def test_generated_files_take_the_fast_path_and_store_what_the_exact_path_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    legacy = legacy_file(tmp_path / "in" / "TVIRT_201708.txt", 3000, seed=3)
    detailed = detailed_file(tmp_path / "in" / "NSDQ_202608.txt", 4000, seed=4)
    fast, taken = _both(tmp_path / "db", [legacy, detailed], monkeypatch)
    assert taken == {str(legacy): True, str(detailed): True}
    assert len(fast["tables"]["rows_605_legacy"]) == 3000
    assert len(fast["tables"]["rows_605_detailed"]) == 4000
    # the values are the file's text, exactly: a few cells read back independently
    cells = _lines(detailed)[1:]
    for row, stored in zip(cells[:50], fast["tables"]["rows_605_detailed"][:50], strict=True):
        assert stored[1 + _DETAILED_INDEX["symbol"]] == row[_DETAILED_INDEX["symbol"]]
        value = stored[1 + _DETAILED_INDEX["covered_notional"]]
        assert value == Decimal(row[_DETAILED_INDEX["covered_notional"]])


def test_a_second_file_in_the_same_store_and_a_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    one = detailed_file(tmp_path / "in" / "A_202608.txt", 700, seed=5)
    two = detailed_file(tmp_path / "in" / "B_202609.txt", 900, seed=6, month=202609)
    _, taken = _both(tmp_path / "db", [one, two, one], monkeypatch)
    assert taken == {str(one): True, str(two): True}


def test_the_real_legacy_excerpts_are_stored_as_the_exact_path_stores_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sorted(shared_path("sec-605", "legacy-real").glob("*.txt"))
    assert real
    _, taken = _both(tmp_path / "db", real, monkeypatch)
    assert taken == {str(p): True for p in real}  # real files: no cell DuckDB reads otherwise


# ---------------------------------------------------------------- deviations


def _legacy_rows(tmp: Path, n: int = 400) -> list[list[str]]:
    tmp.mkdir(parents=True, exist_ok=True)
    return _lines(legacy_file(tmp / "base.txt", n, seed=7))


def _marketable(rows: list[list[str]]) -> list[int]:
    return [i for i, r in enumerate(rows) if r[_LEGACY_INDEX["order_type"]] in ("11", "12")]


def test_one_deviation_takes_the_fast_path_with_the_exact_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _legacy_rows(tmp_path / "gen")
    picked = _marketable(rows)[3:6]
    spread = _LEGACY_INDEX["avg_effective_spread"]
    for i in picked:
        rows[i][spread] = "-0.0125"
    (tmp_path / "in").mkdir()
    path = _save(tmp_path / "in" / "X.txt", rows)
    fast, taken = _both(tmp_path / "db", [path], monkeypatch)
    assert taken == {str(path): True}
    (warning,) = _warnings(fast, path)
    assert warning["rule"] == "negative-effective-spread"
    assert warning["line"] == picked[0] + 1  # no header: row i is line i + 1
    assert warning["message"].startswith("3 rows (the first here)")


def test_each_detailed_deviation_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gen").mkdir()
    base = _lines(detailed_file(tmp_path / "gen" / "base.txt", 300, seed=8))
    idx = _DETAILED_INDEX

    def eq_points(row: list[str]) -> None:
        row[idx["avg_effective_spread"]], row[idx["avg_quoted_spread"]] = "0.02", "0.04"
        row[idx["avg_eq_ratio"]] = "50"

    def sentinel(row: list[str]) -> None:
        row[idx["order_size"]] = "200000"
        row[idx["covered_orders"]] = "1"
        row[idx["covered_notional"]] = "9999999999"

    def away(row: list[str]) -> None:
        executed = int(row[idx["executed_qty"]])
        row[idx["pi_qty"]] = str(executed + 5)
        row[idx["at_quote_qty"]], row[idx["outside_quote_qty"]] = "0", "0"

    def negative(row: list[str]) -> None:
        row[idx["avg_effective_spread"]] = "-0.001"

    cases = {
        "eq-percent-points": eq_points,
        "size-sentinel": sentinel,
        "away-in-quote-split": away,
        "negative-effective-spread": negative,
    }
    (tmp_path / "in").mkdir()
    paths = {}
    for n, (rule, change) in enumerate(cases.items()):
        rows = [list(r) for r in base]
        for i in (10 + n, 40 + n):  # data rows; line = index + 1 (the header is line 1)
            change(rows[i])
        paths[rule] = _save(tmp_path / "in" / f"{rule}.txt", rows)
    fast, taken = _both(tmp_path / "db", list(paths.values()), monkeypatch)
    for n, (rule, path) in enumerate(paths.items()):
        assert taken[str(path)], rule
        found = [w for w in _warnings(fast, path) if w["rule"] == rule]
        assert [w["line"] for w in found] == [11 + n], rule


def test_two_deviations_give_way_to_the_exact_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = _legacy_rows(tmp_path / "gen")
    first, second = _marketable(rows)[:2]
    rows[first][_LEGACY_INDEX["avg_effective_spread"]] = "-0.01"
    executed = int(rows[second][_LEGACY_INDEX["exec_shares_mc"]])
    rows[second][_LEGACY_INDEX["exec_shares_mc"]] = str(executed - 1)
    rows[second][_LEGACY_INDEX["exec_shares_away"]] = str(
        int(rows[second][_LEGACY_INDEX["exec_shares_away"]]) + 1
    )
    (tmp_path / "in").mkdir()
    path = _save(tmp_path / "in" / "TWO.txt", rows)
    fast, taken = _both(tmp_path / "db", [path], monkeypatch)
    assert taken == {str(path): False}
    rules = [w["rule"] for w in _warnings(fast, path)]
    assert sorted(rules) == ["away-in-quote-split", "negative-effective-spread"]


def test_a_dat_name_is_a_file_suffix_warning_on_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    path = detailed_file(tmp_path / "in" / "NSDQ_201901.dat", 200, seed=9)
    fast, taken = _both(tmp_path / "db", [path], monkeypatch)
    assert taken == {str(path): True}
    assert [w["rule"] for w in _warnings(fast, path)] == ["file-suffix"]


def test_a_consistency_warning_gives_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _legacy_rows(tmp_path / "gen")
    covered = _LEGACY_INDEX["covered_shares"]
    rows[17][covered] = str(int(rows[17][covered]) + 1)
    (tmp_path / "in").mkdir()
    path = _save(tmp_path / "in" / "W.txt", rows)
    fast, taken = _both(tmp_path / "db", [path], monkeypatch)
    assert taken == {str(path): False}
    assert [(w["rule"], w["line"]) for w in _warnings(fast, path)] == [("shares-accounted", 18)]


def test_zip_members_are_copied_out_for_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "gen").mkdir()
    inner = detailed_file(tmp_path / "gen" / "NSDQ_202608.txt", 150, seed=10)
    legacy = legacy_file(tmp_path / "gen" / "TVIRT_201708.txt", 120, seed=10)
    (tmp_path / "in").mkdir()
    archive = tmp_path / "in" / "month.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(inner, "NSDQ_202608.txt")
        zf.write(legacy, "old/TVIRT_201708.dat")  # a .dat member: the suffix warning
    copies = set(Path(tempfile.gettempdir()).glob("pfof605-*"))
    fast, taken = _both(tmp_path / "db", [archive], monkeypatch)
    members = {f"{archive}!NSDQ_202608.txt", f"{archive}!old/TVIRT_201708.dat"}
    assert taken == dict.fromkeys(members, True)
    assert set(Path(tempfile.gettempdir()).glob("pfof605-*")) == copies  # removed
    rules = [w["rule"] for w in _warnings(fast, Path(f"{archive}!old/TVIRT_201708.dat"))]
    assert rules == ["file-suffix"]


# ---------------------------------------------------------------- odd but valid cells


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("avg_realized_spread", "+0.5"),
        ("avg_realized_spread", "5."),
        ("avg_realized_spread", ".5"),
        ("avg_realized_spread", "-0"),
        ("avg_realized_spread", "0.000001"),
        ("avg_realized_spread", "1.1234567"),  # 7 decimals: read as DECIMAL(38, 12)
        ("avg_realized_spread", "-123456789012.123456789012"),
        ("avg_realized_spread", "0000000000.5"),
        ("avg_realized_spread", ""),
        ("covered_orders", "+{}"),
        ("covered_orders", "00{}"),
    ],
)
def test_odd_but_valid_cells_take_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str, cell: str
) -> None:
    rows = _legacy_rows(tmp_path / "gen", 80)
    index = _LEGACY_INDEX[column]
    original = rows[4][index]
    for i in (4, 33):
        rows[i][index] = cell.format(rows[i][index])
    (tmp_path / "in").mkdir()
    path = _save(tmp_path / "in" / "ODD.txt", rows)
    fast, taken = _both(tmp_path / "db", [path], monkeypatch)
    assert taken == {str(path): True}
    stored = fast["tables"]["rows_605_legacy"][4][1 + index]
    if column == "covered_orders":
        assert stored == int(original)
    else:
        assert stored == (Decimal(cell) if cell else None)


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("avg_realized_spread", "1234567890123456.1234567"),  # 16 digits, read wide
        ("avg_realized_spread", "1234567890123456"),
        ("avg_realized_spread", "1.1234567890123"),  # 13 decimals
        ("avg_realized_spread", "0x10"),
        ("avg_realized_spread", "5e-1"),
        ("covered_orders", "5.0"),  # DuckDB's integer cast would read 5
        ("covered_orders", "-5"),
        ("order_type", "+12"),
        ("yyyymm", "201713"),
        ("symbol", ""),
    ],
)
def test_cells_the_row_readers_refuse_are_judged_by_the_exact_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str, cell: str
) -> None:
    rows = _legacy_rows(tmp_path / "gen", 60)
    rows[7][_LEGACY_INDEX[column]] = cell
    (tmp_path / "in").mkdir()
    path = _save(tmp_path / "in" / "BAD.txt", rows)
    fast, taken = _both(tmp_path / "db", [path], monkeypatch)
    assert taken.get(str(path)) is not True
    assert [o[1] for o in fast["outcomes"]] == ["rejected"]


# ---------------------------------------------------------------- mutated files

#: Cells DuckDB's parsing and the row readers may read differently, and ordinary ones.
_CELLS = (
    "1e5", "5.e1", "5E-1", "1_000", "5.5_5", " 5", "5 ", "\t5", "+5", "-5", "-0", "5.", ".5",
    "0x10", "0b1", "", "5.5", "1.1234567", "1.1234567890123", "1234567890123", "0000000000000005",
    "99999999999999999", "abc", "nan", "inf", "\u00a05", "\uff15", "5,0", "-", ".", "202613",
    "20260", "7", "MXXNN", "0.000001", "123456789012.5",
)  # fmt: skip


_LAYOUTS = ("plain", "plain", "plain", "crlf", "blank-line", "no-final-break", "extra-field")
_LAYOUTS += ("missing-field", "bom", "header-title")


def _base(tmp: Path, kind: str) -> list[list[str]]:
    path = tmp / f"base_{kind}.txt"
    if not path.exists():
        tmp.mkdir(parents=True, exist_ok=True)
        if kind == "legacy":
            legacy_file(path, 60, seed=11)
        else:
            detailed_file(path, 60, seed=12)
    return _lines(path)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("base605")


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(["legacy", "detailed"]),
    edits=st.lists(
        st.tuples(st.integers(0, 59), st.integers(0, 54), st.sampled_from(_CELLS)),
        min_size=1,
        max_size=3,
    ),
    layout=st.sampled_from(_LAYOUTS),
)
def test_mutated_files_store_the_same_by_both_paths(
    base_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    edits: list[tuple[int, int, str]],
    layout: str,
) -> None:
    rows = [list(r) for r in _base(base_dir, kind)]
    header = 1 if kind == "detailed" else 0
    width = len(rows[-1])
    for row, column, cell in edits:
        rows[header + row][column % width] = cell
    if layout == "extra-field":
        rows[header + edits[0][0]].append("1")
    elif layout == "missing-field":
        rows[header + edits[0][0]].pop()
    elif layout == "header-title" and header:
        rows[0][3] = "Sym"
    text = "".join("|".join(r) + "\n" for r in rows)
    if layout == "crlf":
        text = text.replace("\n", "\r\n")
    elif layout == "blank-line":
        at = text.index("\n", len(text) // 2)
        text = text[: at + 1] + "\n" + text[at + 1 :]
    elif layout == "no-final-break":
        text = text.rstrip("\n")
    elif layout == "bom":
        text = "\ufeff" + text
    tmp = tmp_path_factory.mktemp("mutated")
    (tmp / "in").mkdir()
    path = tmp / "in" / "M.txt"
    path.write_bytes(text.encode())
    _both(tmp / "db", [path], monkeypatch)


def test_the_scan_rules_out_what_duckdb_reads_leniently() -> None:
    import io

    def fast(data: bytes) -> bool:
        return ingest605._hash_and_scan(io.BytesIO(data))[1].fast

    line = b"T|TVIRT|201612|AAPL|13|21|2|300|0|300|0|300|0|0|0|0|0.5||||||||\n"
    assert fast(line * 3)
    for bad in (b"5e1", b"5.e1", b"5_1", b" 5", b"5\r", b"\xc2\xa05", b"1.1234567890123"):
        assert not fast(line.replace(b"0.5", bad)), bad
    assert not fast(b"\n" + line)
    wide = ingest605._hash_and_scan(io.BytesIO(line.replace(b"0.5", b"0.1234567")))[1]
    assert wide.fast and wide.wide
    assert ingest605._hash_and_scan(io.BytesIO(line))[1].lines == 1
    # a pattern across the boundary of the chunks the scan reads: still found
    cases = [(b"5e1", 1, False, False), (b"1.1234567", 4, True, True)]
    cases += [(b" 5", 0, False, False), (b"\xc2\xa05", 0, False, False), (b"5", 0, True, False)]
    for bad, split, fast_, wide_ in cases:
        odd = line.replace(b"0.5", bad)
        target = ingest605._CHUNK - odd.index(bad) - split  # `split` bytes of `bad` before
        n, rem = divmod(target, len(line))
        prefix = line.replace(b"AAPL", b"AAPL" + b"A" * rem) + line * (n - 1)
        assert len(prefix) == target
        scan = ingest605._hash_and_scan(io.BytesIO(prefix + odd))[1]
        assert (scan.fast, scan.wide) == (fast_, wide_), bad
    assert ingest605._hash_and_scan(io.BytesIO(line.rstrip(b"\n")))[1].lines == 1


def test_the_fast_path_leaves_nothing_behind_when_it_gives_way(tmp_path: Path) -> None:
    rows = _legacy_rows(tmp_path / "gen", 50)
    rows[5][_LEGACY_INDEX["covered_orders"]] = "5.0"  # DuckDB would round it; an error here
    path = _save(tmp_path / "bad.txt", rows)
    con = connect(tmp_path / "s.duckdb")
    try:
        (outcome,) = ingest([str(path)], con).outcomes
        assert outcome.status == "rejected"
        assert con.execute("SELECT count(*) FROM rows_605_legacy").fetchall() == [(0,)]
        assert con.execute("SELECT count(*) FROM sources_605").fetchall() == [(0,)]
    finally:
        con.close()


# ---------------------------------------------------------------- interruptions


def test_an_interruption_on_the_fast_path_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = detailed_file(tmp_path / "NSDQ_202608.txt", 3000, seed=13)
    db = tmp_path / "i.duckdb"

    def interrupted(*args: Any) -> None:  # after DuckDB inserted the rows, before the commit
        raise KeyboardInterrupt

    monkeypatch.setattr(ingest605, "_fast_verify", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest(str(path), db)
    con = connect(db)
    try:
        counts = [
            con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("rows_605_detailed", "sources_605")
        ]
        assert counts == [0, 0]
    finally:
        con.close()
    monkeypatch.undo()
    (outcome,) = ingest(str(path), db).outcomes
    assert (outcome.status, outcome.rows) == ("ingested", 3000)


def test_a_process_killed_on_the_fast_path_leaves_no_partial_file(tmp_path: Path) -> None:
    path = detailed_file(tmp_path / "NSDQ_202608.txt", 20000, seed=14)
    db = tmp_path / "k.duckdb"
    script = textwrap.dedent(
        f"""
        import os, signal
        from pfof.store import ingest605
        from pfof.store.ingest import ingest
        def killed(*args):
            os.kill(os.getpid(), signal.SIGKILL)
        ingest605._fast_verify = killed
        ingest([{str(path)!r}], {str(db)!r})
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr.decode()
    con = connect(db)
    try:
        counts = [
            con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("rows_605_detailed", "sources_605")
        ]
        assert counts == [0, 0]
    finally:
        con.close()
