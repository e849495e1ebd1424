"""``pfof quality --engine spark``: the per-(day, symbol batch) quality kernels run by PySpark.

The work is cut as in the out-of-core pass (:mod:`pfof.app.quality_batches`): each day into
batches of consecutive symbols. The driver plans the batches and splits each day's orders and
fills into one file per batch under ``staging`` (one streaming pass over them; the NBBO, by far
the largest table, is read by the executors straight from the dataset's row groups when it is
clustered by symbol). Spark then runs one task per (day, batch) through ``mapInArrow`` over a
small DataFrame of task descriptions: each task reads its batch, runs
:func:`pfof.engine.quality.order_quality` and writes its rows to an Arrow file in ``staging``;
the driver finally writes each day's table as ``OUT/date=YYYY-MM-DD/part-0.parquet`` in batch
order, so the result is the local engine's, row for row.

The dataset and ``staging`` must be paths every executor sees (one machine: any folder; a
cluster: a shared mount); docs/scale.md says how to submit it. PySpark is imported here only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from pfof.app.measure import DayProgress, QualityRun, checked_batch, checked_dataset
from pfof.app.quality_batches import BatchSpec, DaySlices, DayWriter, SymbolBatch
from pfof.engine.quality import order_quality
from pfof.engine.quality_summary import QualitySummary, QualityTotals
from pfof.errors import InputError, ParameterError, PfofError
from pfof.model.tables import ORDER_QUALITY
from pfof.store import layout

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["spark_quality", "spark_session"]

#: What each task returns to the driver: its number, rows written, and an error message.
#: Tasks per core a job aims at: small days are grouped into one job until they have this.
TASKS_PER_CORE = 2
_RESULT = "task long, rows long, error string"
_RESULT_SCHEMA = pa.schema([("task", pa.int64()), ("rows", pa.int64()), ("error", pa.string())])


def spark_session(master: str = "local[2]") -> SparkSession:
    """A Spark session for the quality pass: no UI, two shuffle partitions, Arrow on; a
    local master runs its Python workers with this interpreter (which has pfof).

    Raises :class:`~pfof.errors.ParameterError` when PySpark or Java is missing.
    """
    SparkSession = _spark_class()
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise ParameterError(
            "the spark engine needs a Java runtime (e.g. apt-get install "
            "openjdk-17-jre-headless) on the PATH or in JAVA_HOME"
        )
    builder = (
        SparkSession.builder.master(master)
        .appName("pfof-quality")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):  # workers forked here: this interpreter, unless set
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    with _quiet():
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")  # a task's error comes back as an InputError
    return session


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """PySpark warns at every Arrow call that it does not yet fully support pandas 3, which
    pfof does not use through it: that warning is not shown."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        yield


def _spark_class() -> type[SparkSession]:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ParameterError("the spark engine needs PySpark: pip install 'pfof[spark]'") from exc
    return SparkSession


def _active() -> SparkSession | None:
    return _spark_class().getActiveSession()


def _task(spec: dict[str, Any], stale: int | None) -> tuple[int, str | None]:
    """Run one (day, batch) task: measure, write the rows; (rows, error message)."""
    batch = spec["batch"]
    batch["row_groups"] = tuple((f, tuple(rgs)) for f, rgs in batch["row_groups"])
    root, day = Path(spec["root"]), date.fromisoformat(spec["day"])
    where = f"{root}: {layout.partition_name(day)}: symbols {batch['first']}..{batch['last']}"
    try:
        tables = checked_batch(root, day, spec["nbbo_table"], BatchSpec(**batch))
    except PfofError as exc:
        return 0, str(exc)
    try:
        table = order_quality(*tables, stale_after_ns=stale)
    except (PfofError, ValueError) as exc:
        return 0, f"{where}: {exc}"
    with pa.OSFile(spec["result"], "wb") as sink, pa.ipc.new_file(sink, table.schema) as w:
        w.write_table(table)
    return table.num_rows, None


def _run_tasks(batches: Iterator[pa.RecordBatch], *, stale: int | None) -> Iterator[pa.RecordBatch]:
    """``mapInArrow``'s function: every task row of a partition, one result row each."""
    for rb in batches:
        out: dict[str, list[Any]] = {"task": [], "rows": [], "error": []}
        for row in rb.to_pylist():
            rows, error = _task(json.loads(row["spec"]), stale)
            out["task"].append(row["task"])
            out["rows"].append(rows)
            out["error"].append(error)
        yield pa.RecordBatch.from_pydict(
            out,
            schema=pa.schema([("task", pa.int64()), ("rows", pa.int64()), ("error", pa.string())]),
        )


def spark_quality(
    dataset: str | Path,
    *,
    out: str | Path | None = None,
    master: str = "local[2]",
    stale_after_ms: float = 0.0,
    batch_symbols: int | None = None,
    progress: DayProgress | None = None,
    staging: str | Path | None = None,
    spark: SparkSession | None = None,
) -> QualityRun:
    """:func:`pfof.app.measure.measure_quality` with the (day, symbol batch) kernels run by
    Spark. ``master``: Spark master URL, used when neither ``spark`` is given nor a session
    is active (the session started then is stopped at the end). ``staging``: folder for
    split inputs and per-batch results, seen by every executor (default: a temporary
    folder). ``batch_symbols``: symbols per batch (``None``: automatic, as in
    ``measure_quality``).

    Raises :class:`~pfof.errors.InputError` as ``measure_quality`` does.
    """
    root, days, stale = checked_dataset(dataset, stale_after_ms, batch_symbols)
    target = Path(out) if out is not None else None
    work = Path(tempfile.mkdtemp(prefix="pfof-spark-", dir=staging))
    own = spark is None and _active() is None  # stopped at the end only if started here
    session = spark if spark is not None else spark_session(master)
    run = QualityRun(QualitySummary(), days, 0, target)
    totals = QualityTotals()
    wanted = max(2, session.sparkContext.defaultParallelism * TASKS_PER_CORE)
    done = 0
    group: list[tuple[date, DaySlices]] = []
    try:
        for i, day in enumerate(days):
            folder = work / layout.partition_name(day)
            folder.mkdir()
            group.append((day, DaySlices(root, day, per_batch=batch_symbols, workdir=folder)))
            if sum(len(s.batches) for _, s in group) < wanted and i + 1 < len(days):
                continue  # small days share a Spark job
            _run_group(session, root, group, stale)
            for day_done, slices in group:
                _collect(day_done, slices, run, totals)
                run.dropped_fills += slices.dropped_fills
                slices.close()
                done += 1
                if progress is not None:
                    progress(done, len(days), day_done)
            group = []
    finally:
        for _, slices in group:
            slices.close()
        shutil.rmtree(work, ignore_errors=True)
        if own:
            session.stop()
    run.summary = totals.summary()
    return run


def _result(slices: DaySlices, batch: SymbolBatch) -> Path:
    return slices.workdir / f"result-{batch.index:05d}.arrow"


def _run_group(
    spark: SparkSession, root: Path, group: list[tuple[date, DaySlices]], stale: int | None
) -> None:
    """One Spark job: a task per (day, batch) of the group's days, rows written to files."""
    specs = [
        json.dumps(
            {
                "root": str(root),
                "day": day.isoformat(),
                "nbbo_table": slices.nbbo_table,
                "batch": asdict(slices.spec(b)),
                "result": str(_result(slices, b)),
            }
        )
        for day, slices in group
        for b in slices.batches
    ]
    if not specs:
        return
    parts = min(len(specs), max(2, spark.sparkContext.defaultParallelism * TASKS_PER_CORE))
    # the task rows are spread over `parts` partitions when created: no shuffle stage
    rows = spark.sparkContext.parallelize(list(enumerate(specs)), parts)
    with _quiet():
        tasks = spark.createDataFrame(rows, "task long, spec string")
    with _quiet():
        done = tasks.mapInArrow(partial(_run_tasks, stale=stale), _RESULT).collect()
    errors = sorted((r["task"], r["error"]) for r in done if r["error"])
    if errors:
        raise InputError(errors[0][1])


def _collect(day: date, slices: DaySlices, run: QualityRun, totals: QualityTotals) -> None:
    """Add the batches' rows to the summary and write (or keep) them in batch order, one
    batch in memory at a time when written."""
    target = None if run.out is None else layout.folder_part(run.out, day)
    kept: list[pa.Table] = []
    paths: list[Path | None] = [_result(slices, b) for b in slices.batches] or [None]
    with contextlib.ExitStack() as stack:
        writer = None if target is None else stack.enter_context(DayWriter(target))
        for path in paths:
            table = ORDER_QUALITY.empty_table() if path is None else _read_result(path)
            totals.add(table)
            if writer is None:
                kept.append(table)
            else:
                writer.write(table)
    if target is None:
        run.kept[day] = pa.concat_tables(kept)


def _read_result(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()
