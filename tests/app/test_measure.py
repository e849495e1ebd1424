"""``measure_quality``: a dataset folder measured day by day, kept or written, and every way
a dataset can be wrong named by folder or partition."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import SIM_CONFIG, SimMarket
from pfof.app.measure import measure_quality
from pfof.engine.quality import order_quality
from pfof.engine.quality_summary import summarize_quality
from pfof.errors import InputError, ParameterError
from pfof.model.tables import NBBO, ORDER_QUALITY
from pfof.store import layout


@pytest.fixture(scope="module")
def sim(sim_market: SimMarket) -> Path:
    """The session's simulated market, as ``pfof simulate`` writes it (read only)."""
    return sim_market.out


DAYS = SIM_CONFIG.days


def _copy(sim: Path, root: Path, tables: tuple[str, ...]) -> Path:
    for table in tables:
        for day, part in layout.day_parts(sim, table).items():
            target = layout.day_part(root, table, day)
            target.parent.mkdir(parents=True)
            target.write_bytes((part / layout.PART_FILE).read_bytes())
    return root


def test_kept_run_equals_the_engine_on_each_day_and_its_summary(sim: Path) -> None:
    run = measure_quality(sim, stale_after_ms=0)
    assert run.out is None and len(run.days) == DAYS == len(run.kept)
    for day, table in run.day_tables():
        read = {t: pq.read_table(layout.partition_dir(sim, t, day)) for t in ("orders", "nbbo")}
        fills = pq.read_table(layout.partition_dir(sim, "fills", day))
        mine = pa.compute.is_in(fills.column("order_id"), read["orders"].column("order_id"))
        expected = order_quality(
            read["orders"], fills.filter(mine), read["nbbo"], stale_after_ns=None
        )
        assert table.equals(expected)
    assert run.table.num_rows == run.summary.orders
    # per-day sums added up equal the sums over the whole table (up to float rounding)
    whole = summarize_quality(run.table).as_dict()
    assert run.summary.as_dict() == {
        k: pytest.approx(v, rel=1e-12) if isinstance(v, float) else v for k, v in whole.items()
    }


def test_written_run_reads_back_the_same_table_as_a_kept_one(sim: Path, tmp_path: Path) -> None:
    seen: list[tuple[int, int, date]] = []
    written = measure_quality(
        sim, out=tmp_path / "oq", workers=2, progress=lambda *a: seen.append(a)
    )
    kept = measure_quality(sim)
    assert written.kept == {} and written.out == tmp_path / "oq"
    assert sorted(layout.partitions(tmp_path / "oq")) == written.days == kept.days
    assert written.table.equals(kept.table)
    assert written.table.schema.equals(ORDER_QUALITY)
    assert written.summary == kept.summary
    assert seen == [(i + 1, DAYS, d) for i, d in enumerate(kept.days)]


def test_nbbo_is_consolidated_from_quotes_when_the_dataset_has_none(
    sim: Path, tmp_path: Path
) -> None:
    root = _copy(sim, tmp_path / "ds", ("orders", "fills", "quotes"))
    from_quotes = measure_quality(root, stale_after_ms=0)
    assert from_quotes.summary.orders == measure_quality(sim, stale_after_ms=0).summary.orders
    assert from_quotes.summary.filled > 0


def test_fills_of_orders_from_another_day_are_counted_as_dropped(sim: Path, tmp_path: Path) -> None:
    root = _copy(sim, tmp_path / "ds", ("orders", "nbbo"))
    day = layout.days(root)[0]
    fills = pq.read_table(layout.partition_dir(sim, "fills", day))
    stray = fills.slice(0, 3).set_column(
        0, "order_id", pa.array(["elsewhere-1", "elsewhere-2", "elsewhere-3"])
    )
    target = layout.day_part(root, "fills", day)
    target.parent.mkdir(parents=True)
    pq.write_table(pa.concat_tables([fills, stray]), target)
    run = measure_quality(root)
    assert run.dropped_fills == 3


def test_a_missing_dataset_folder_is_an_input_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=f"{tmp_path / 'nope'}: not a folder"):
        measure_quality(tmp_path / "nope")
    with pytest.raises(InputError, match="orders is missing: expected"):
        measure_quality(tmp_path)


def test_a_folder_that_is_not_a_partition_is_named(sim: Path, tmp_path: Path) -> None:
    root = _copy(sim, tmp_path / "ds", ("orders", "nbbo"))
    (root / "orders" / "2026-03-02").mkdir()
    with pytest.raises(InputError, match="2026-03-02: expected a partition folder named date="):
        measure_quality(root)


def test_a_day_without_nbbo_or_quotes_names_both_partitions(sim: Path, tmp_path: Path) -> None:
    root = _copy(sim, tmp_path / "ds", ("orders", "fills"))
    day = layout.days(root)[0]
    with pytest.raises(InputError) as info:
        measure_quality(root)
    message = str(info.value)
    assert str(layout.partition_dir(root, "nbbo", day)) in message
    assert str(layout.partition_dir(root, "quotes", day)) in message


def test_an_unreadable_partition_is_named(sim: Path, tmp_path: Path) -> None:
    root = _copy(sim, tmp_path / "ds", ("orders", "fills", "nbbo"))
    day = layout.days(root)[-1]
    layout.day_part(root, "nbbo", day).write_bytes(b"not parquet")
    with pytest.raises(InputError, match=f"{layout.partition_dir(root, 'nbbo', day)}: cannot read"):
        measure_quality(root, workers=2)


def test_a_table_the_engine_refuses_is_named_with_its_day(sim: Path, tmp_path: Path) -> None:
    root = _copy(sim, tmp_path / "ds", ("orders", "fills"))
    for day in layout.days(root):
        target = layout.day_part(root, "nbbo", day)
        target.parent.mkdir(parents=True)
        pq.write_table(NBBO.empty_table().drop_columns(["bid"]), target)
    first = layout.days(root)[0]
    with pytest.raises(InputError, match=f"{root}: {layout.partition_name(first)}: nbbo"):
        measure_quality(root)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"stale_after_ms": -1.0}, "stale_after_ms"), ({"workers": 0}, "workers")],
)
def test_bad_arguments_are_parameter_errors(sim: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        measure_quality(sim, **kwargs)
