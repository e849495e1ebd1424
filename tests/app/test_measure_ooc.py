"""``measure_quality`` in symbol batches (out of core): the same rows as the in-memory pass,
grouped by batch, whichever way each table is read (NBBO row groups by symbol range, or
split into files when it is not clustered), and the errors naming the batch."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import SimMarket
from pfof.app import measure, quality_batches
from pfof.app.measure import measure_quality
from pfof.app.quality_batches import DaySlices, plan_batches
from pfof.cli import app
from pfof.errors import InputError, ParameterError
from pfof.store import layout
from pfof.store.dataset import read_days


@pytest.fixture(scope="module")
def sim(sim_market: SimMarket) -> Path:
    """The session's simulated market, as ``pfof simulate`` writes it (read only)."""
    return sim_market.out


@pytest.fixture(scope="module")
def whole(sim: Path) -> measure.QualityRun:
    """The in-memory pass over the simulated market: what every batched pass must equal."""
    return measure_quality(sim)


def _symbols(root: Path, day: date) -> list[str]:
    orders = pq.read_table(layout.partition_dir(root, "orders", day), columns=["symbol"])
    return sorted(set(orders.column("symbol").to_pylist()))


def _regrouped(table: pa.Table, symbols: list[str], per_batch: int) -> pa.Table:
    """``table``'s rows regrouped by batches of ``per_batch`` consecutive sorted symbols,
    keeping their order within a batch: what a batched pass must write."""
    runs = [symbols[i : i + per_batch] for i in range(0, len(symbols), per_batch)]
    parts = [table.filter(pc.is_in(table.column("symbol"), pa.array(run))) for run in runs]
    return pa.concat_tables(parts)


def _copy(sim: Path, root: Path, tables: tuple[str, ...]) -> Path:
    for table in tables:
        for day, part in layout.day_parts(sim, table).items():
            target = layout.day_part(root, table, day)
            target.parent.mkdir(parents=True)
            target.write_bytes((part / layout.PART_FILE).read_bytes())
    return root


def test_batched_pass_writes_the_in_memory_rows_grouped_by_symbol_batch(
    sim: Path, whole: measure.QualityRun, tmp_path: Path
) -> None:
    seen: list[tuple[date, int, int]] = []
    batched = measure_quality(
        sim, out=tmp_path / "oq", batch_symbols=2, batch_progress=lambda *a: seen.append(a)
    )
    assert batched.days == whole.days
    for day, table in read_days(tmp_path / "oq"):
        symbols = _symbols(sim, day)
        batches = -(-len(symbols) // 2)
        assert batches >= 4  # many batches, each a separate read and kernel call
        assert [s for s in seen if s[0] == day] == [
            (day, k, batches) for k in range(1, 1 + batches)
        ]
        expected = whole.kept[day]
        assert table.schema.equals(expected.schema)
        assert table.equals(_regrouped(expected, symbols, 2))
        assert table.sort_by("order_id").equals(expected.sort_by("order_id"))
    assert batched.dropped_fills == whole.dropped_fills
    assert batched.summary.orders == whole.summary.orders
    assert batched.summary.nbbo_states == whole.summary.nbbo_states
    assert batched.summary.effective_spread == pytest.approx(whole.summary.effective_spread)


def test_one_batch_holding_every_symbol_is_the_in_memory_table_in_its_order(
    sim: Path, whole: measure.QualityRun
) -> None:
    batched = measure_quality(sim, batch_symbols=10_000)
    assert batched.table.equals(whole.table)
    assert batched.summary == whole.summary


def _nbbo_rewritten(sim: Path, root: Path, how: str) -> Path:
    """A copy of ``sim`` whose NBBO is clustered in small row groups or shuffled."""
    _copy(sim, root, ("orders", "fills"))
    rng = np.random.default_rng(3)
    for day, part in layout.day_parts(sim, "nbbo").items():
        nbbo = pq.read_table(part)
        target = layout.day_part(root, "nbbo", day)
        target.parent.mkdir(parents=True)
        if how == "clustered":
            pq.write_table(nbbo.sort_by([("symbol", "ascending")]), target, row_group_size=500)
        else:
            pq.write_table(nbbo.take(pa.array(rng.permutation(nbbo.num_rows))), target)
    return root


@pytest.mark.parametrize("how", ["clustered", "shuffled"])
def test_nbbo_read_by_row_group_or_split_gives_the_in_memory_rows(
    sim: Path, tmp_path: Path, how: str
) -> None:
    root = _nbbo_rewritten(sim, tmp_path / how, how)
    day = layout.days(root)[0]
    with DaySlices(root, day, per_batch=3) as slices:
        assert slices.nbbo_split == (how == "shuffled")
        if how == "clustered":  # each batch reads only the row groups of its symbols
            groups = pq.ParquetFile(layout.day_part(root, "nbbo", day)).num_row_groups
            read = [sum(len(g) for _, g in slices.spec(b).row_groups) for b in slices.batches]
            assert max(read) < groups / 2
            assert sum(read) < 2 * groups
    in_memory = measure_quality(root)
    batched = measure_quality(root, batch_symbols=3)
    for day in in_memory.days:
        expected = _regrouped(in_memory.kept[day], _symbols(root, day), 3)
        assert batched.kept[day].equals(expected)


def test_quotes_are_consolidated_per_batch_as_for_the_whole_day(sim: Path, tmp_path: Path) -> None:
    root = _copy(sim, tmp_path / "q", ("orders", "fills", "quotes"))
    in_memory = measure_quality(root)
    batched = measure_quality(root, batch_symbols=4)
    for day in in_memory.days:
        expected = _regrouped(in_memory.kept[day], _symbols(root, day), 4)
        assert batched.kept[day].equals(expected)


def test_fills_of_another_days_orders_are_counted_and_left_out_in_batches(
    sim: Path, tmp_path: Path
) -> None:
    root = _copy(sim, tmp_path / "f", ("orders", "nbbo"))
    for day, part in layout.day_parts(sim, "fills").items():
        fills = pq.read_table(part)
        stray = fills.slice(0, 2).set_column(0, "order_id", pa.array(["elsewhere-1", "e-2"]))
        target = layout.day_part(root, "fills", day)
        target.parent.mkdir(parents=True)
        pq.write_table(pa.concat_tables([stray, fills]), target)
    in_memory = measure_quality(root)
    batched = measure_quality(root, batch_symbols=2)
    assert in_memory.dropped_fills == batched.dropped_fills == 2 * len(in_memory.days)
    assert batched.table.sort_by("order_id").equals(in_memory.table.sort_by("order_id"))


def test_a_large_day_is_batched_automatically(
    sim: Path, whole: measure.QualityRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = whole.days[0]
    nbbo_rows = pq.ParquetFile(layout.day_part(sim, "nbbo", day)).metadata.num_rows
    monkeypatch.setattr(measure, "AUTO_BATCH_ROWS", nbbo_rows - 1)
    monkeypatch.setattr(quality_batches, "AUTO_BATCH_ROWS", nbbo_rows - 1)
    monkeypatch.setattr(quality_batches, "TARGET_BATCH_ROWS", nbbo_rows // 4)
    seen: list[tuple[date, int, int]] = []
    batched = measure_quality(sim, batch_progress=lambda *a: seen.append(a))
    symbols = _symbols(sim, day)
    # symbols per batch for about TARGET_BATCH_ROWS NBBO rows each, rounded down
    per_batch = max(1, len(symbols) * (nbbo_rows // 4) // nbbo_rows)
    assert per_batch < len(symbols)
    assert (day, 1, -(-len(symbols) // per_batch)) in seen
    assert batched.kept[day].equals(_regrouped(whole.kept[day], symbols, per_batch))


def test_plan_batches_cuts_sorted_symbols_into_disjoint_runs() -> None:
    batches = plan_batches(["A", "B", "C", "D", "E"], 2)
    assert [(b.first, b.last, b.symbols) for b in batches] == [
        ("A", "B", 2),
        ("C", "D", 2),
        ("E", "E", 1),
    ]
    with pytest.raises(ParameterError):
        plan_batches(["A"], 0)


def test_bad_batch_size_and_a_nan_price_in_a_batch_are_named(sim: Path, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="batch_symbols"):
        measure_quality(sim, batch_symbols=0)
    root = _copy(sim, tmp_path / "nan", ("orders", "fills"))
    day = layout.days(sim)[0]
    for d, part in layout.day_parts(sim, "nbbo").items():
        nbbo = pq.read_table(part)
        if d == day:
            null = pc.is_null(nbbo.column("bid")).to_numpy(zero_copy_only=False)
            bid = nbbo.column("bid").to_numpy().copy()
            bid[5] = np.nan
            null[5] = False
            nbbo = nbbo.set_column(2, "bid", pa.array(bid, mask=null))
            symbols = nbbo.column("symbol").to_pylist()
        target = layout.day_part(root, "nbbo", d)
        target.parent.mkdir(parents=True)
        pq.write_table(nbbo, target)
    with pytest.raises(InputError) as err:
        measure_quality(root, batch_symbols=2, out=tmp_path / "oq")
    message = str(err.value)
    # the day's earlier batches were written to a hidden partial file, removed on failure
    partition = layout.folder_part(tmp_path / "oq", day).parent
    assert not partition.exists() or list(partition.iterdir()) == []
    assert str(layout.partition_dir(root, "nbbo", day)) in message
    assert "bid on row" in message and "of symbols" in message and "nan" in message
    batch = next(b for b in plan_batches(_symbols(root, day), 2) if b.first <= symbols[5] <= b.last)
    # the row within the batch: rows of its symbols before it, in file order
    row = sum(batch.first <= s <= batch.last for s in symbols[:5])
    assert f"bid on row {row} of symbols {batch.first}..{batch.last} is nan" in message


def test_cli_batch_symbols_writes_the_same_rows(
    sim: Path, whole: measure.QualityRun, tmp_path: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["quality", str(sim), "--out", str(tmp_path / "oq"), "--batch-symbols", "3"]
    )
    assert result.exit_code == 0, result.output
    written = pa.concat_tables([t for _, t in read_days(tmp_path / "oq")])
    assert written.sort_by("order_id").equals(whole.table.sort_by("order_id"))
    bad = runner.invoke(app, ["quality", str(sim), "--master", "local[1]"])
    assert bad.exit_code == 2


def test_an_order_id_repeated_across_batches_is_refused_naming_its_row(
    sim: Path, tmp_path: Path
) -> None:
    root = _copy(sim, tmp_path / "dup", ("fills", "nbbo"))
    for day, part in layout.day_parts(sim, "orders").items():
        orders = pq.read_table(part)
        target = layout.day_part(root, "orders", day)
        target.parent.mkdir(parents=True)
        symbols = orders.column("symbol").to_pylist()
        # the last order takes the id of the first order of another symbol (another batch)
        first = next(i for i, s in enumerate(symbols) if s != symbols[-1])
        ids = orders.column("order_id").to_pylist()
        ids[-1] = ids[first]
        pq.write_table(orders.set_column(0, "order_id", pa.array(ids)), target)
    first_day = layout.days(root)[0]
    last_row = pq.ParquetFile(layout.day_part(root, "orders", first_day)).metadata.num_rows - 1
    with pytest.raises(InputError, match=rf"orders: row {last_row} repeats order_id"):
        measure_quality(root, batch_symbols=1)
