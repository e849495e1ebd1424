"""``pfof quality --engine spark``: PySpark runs the per-(day, symbol batch) kernels and the
per-order table equals the local engine's, row for row, on the simulated market.

Needs Java (Debian's openjdk-17-jre-headless, installed by .ci/run): skipped without it on a
developer's machine, a failure in CI. One Spark session (local[2], no UI) serves the module.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import SimMarket
from pfof.app.measure import QualityRun, measure_quality
from pfof.cli import app
from pfof.errors import InputError
from pfof.store import layout
from pfof.store.dataset import read_days

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    """One local[2] session for the module (stopped at its end)."""
    if shutil.which("java") is None:
        message = "Spark needs Java (apt-get install openjdk-17-jre-headless)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("pyspark")
    from pfof.app.spark_quality import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def sim(sim_market: SimMarket) -> Path:
    return sim_market.out


@pytest.fixture(scope="module")
def local(sim: Path) -> QualityRun:
    """The local engine's run: what the Spark engine must give."""
    return measure_quality(sim)


def test_spark_engine_equals_the_local_engine_row_for_row(
    spark: SparkSession, sim: Path, local: QualityRun, tmp_path: Path
) -> None:
    from pfof.app.spark_quality import spark_quality

    seen: list[tuple[int, int, object]] = []
    run = spark_quality(sim, out=tmp_path / "oq", spark=spark, progress=lambda *a: seen.append(a))
    assert run.days == local.days
    assert seen == [(i + 1, len(local.days), d) for i, d in enumerate(local.days)]
    for day, table in read_days(tmp_path / "oq"):
        assert table.equals(local.kept[day])  # a day in one batch: the same order too
    assert run.summary == local.summary
    assert run.dropped_fills == local.dropped_fills


def test_spark_engine_in_symbol_batches_equals_the_local_batched_pass(
    spark: SparkSession, sim: Path, local: QualityRun
) -> None:
    from pfof.app.spark_quality import spark_quality

    run = spark_quality(sim, spark=spark, batch_symbols=3)
    batched = measure_quality(sim, batch_symbols=3)
    for day in local.days:
        assert run.kept[day].equals(batched.kept[day])
        assert run.kept[day].sort_by("order_id").equals(local.kept[day].sort_by("order_id"))
    assert run.summary.orders == local.summary.orders
    assert run.summary.nbbo_states == local.summary.nbbo_states


def test_an_executors_error_names_the_partition_and_batch(
    spark: SparkSession, sim: Path, tmp_path: Path
) -> None:
    from pfof.app.spark_quality import spark_quality

    root = tmp_path / "bad"
    for table in ("orders", "fills", "nbbo"):
        for day, part in layout.day_parts(sim, table).items():
            data = pq.read_table(part)
            if table == "fills":  # a non-positive fill price: the kernel refuses it
                price = data.column("price").to_numpy().copy()
                price[0] = -1.0
                data = data.set_column(data.schema.get_field_index("price"), "price", [price])
            target = layout.day_part(root, table, day)
            target.parent.mkdir(parents=True)
            pq.write_table(data, target)
    with pytest.raises(InputError) as err:
        spark_quality(root, spark=spark, batch_symbols=4)
    day = layout.days(root)[0]
    assert f"{root}: {layout.partition_name(day)}: symbols " in str(err.value)
    assert "price -1.0, expected a positive number" in str(err.value)


def test_cli_engine_spark_writes_the_local_table(
    spark: SparkSession, sim: Path, local: QualityRun, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        app, ["quality", str(sim), "--engine", "spark", "--out", str(tmp_path / "oq")]
    )
    assert result.exit_code == 0, result.output
    written = pa.concat_tables([t for _, t in read_days(tmp_path / "oq")])
    assert written.equals(local.table)
    assert len(pc.unique(written.column("order_id"))) == local.summary.orders
    assert spark.range(3).count() == 3  # the active session was reused, not stopped
