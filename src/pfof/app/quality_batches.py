"""One trading day cut into symbol batches, so a day whose NBBO does not fit in memory is
measured a slice of symbols at a time (``pfof quality`` out of core, and its Spark engine).

Every per-order measure depends only on the order, its fills and its symbol's NBBO, so a day
measured batch by batch gives the same rows as the day measured whole. A batch is a run of
consecutive symbols in sorted order (``first``..``last``, both inclusive) among those the day's
orders trade; the batches of a day are disjoint and cover every order.

How each table of the day is read for a batch:

* ``nbbo`` (or ``quotes``): when the day's files are clustered by symbol - sorted by
  (symbol, ts), as ``pfof simulate`` and ``pfof quotes --out`` write them - each batch reads
  only the Parquet row groups whose ``symbol`` statistics overlap its range, so the day is read
  about once in all. Otherwise (the ranges would re-read the day more than twice) the table is
  first split into one Arrow IPC file per batch in a working folder, in one streaming pass.
* ``orders`` and ``fills`` (which carry no symbol) are always split that way, in one pass each;
  a fill's batch is its order's. Fills of orders received on another day are counted and left
  out, as in the in-memory pass.

Rows keep their order within a batch (streamed in file order, stable split), so ties in
the NBBO and the order in which fills are summed are those of the in-memory pass, and the
rows it gives are equal bit for bit. Memory is one batch plus the split pass's order ids.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pfof.errors import InputError, ParameterError, PfofError
from pfof.model.tables import FILLS
from pfof.store import layout

__all__ = [
    "AUTO_BATCH_ROWS",
    "TARGET_BATCH_ROWS",
    "DaySlices",
    "DayWriter",
    "SymbolBatch",
    "nbbo_source",
    "part_rows",
    "plan_batches",
    "symbols_per_batch",
]

#: A day whose NBBO (or quotes) holds more rows than this is measured in batches by default.
AUTO_BATCH_ROWS = 40_000_000
#: NBBO rows per batch aimed at when the batch size is chosen automatically (about 0.5 GB
#: of Arrow data, a few times that while measured).
TARGET_BATCH_ROWS = 8_000_000
#: Rows per chunk while splitting a table into batches.
CHUNK_ROWS = 1 << 20
#: A range read is used while it reads the day at most this many times over in all.
MAX_REREAD = 2.0
#: DuckDB's memory limit while matching fills to orders (it spills beyond it).
JOIN_MEMORY = "1GB"
#: Batches of one day at most (each open as a file while splitting).
MAX_BATCHES = 4_000


@dataclass(frozen=True, slots=True)
class SymbolBatch:
    """Symbols ``first``..``last`` (sorted, both inclusive): batch ``index`` of its day."""

    index: int
    first: str
    last: str
    symbols: int

    @property
    def label(self) -> str:
        """``symbols A..B`` for messages."""
        return f"symbols {self.first}..{self.last}"


def plan_batches(symbols: list[str], per_batch: int) -> list[SymbolBatch]:
    """Cut sorted distinct ``symbols`` into consecutive runs of ``per_batch``."""
    if per_batch < 1:
        raise ParameterError(f"symbols per batch must be at least 1, got {per_batch}")
    return [
        SymbolBatch(k, run[0], run[-1], len(run))
        for k, run in enumerate(
            symbols[i : i + per_batch] for i in range(0, len(symbols), per_batch)
        )
    ]


def _files(part: Path) -> list[Path]:
    """The Parquet files of a partition folder, in the order pyarrow reads the folder."""
    return sorted(p for p in part.iterdir() if p.is_file() and not p.name.startswith((".", "_")))


def part_rows(part: Path) -> int:
    """Rows of a partition folder, from the Parquet footers alone."""
    try:
        return sum(pq.ParquetFile(f).metadata.num_rows for f in _files(part))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{part}: cannot read as Parquet: {exc}") from exc


def nbbo_source(root: Path, day: date) -> tuple[str, Path] | None:
    """(``nbbo`` or ``quotes``, its partition folder) of a day: the NBBO when the dataset has
    it, else the venues' quotes to consolidate it from; ``None`` when it has neither."""
    for name in ("nbbo", "quotes"):
        part = layout.partition_dir(root, name, day)
        if part.is_dir():
            return name, part
    return None


def symbols_per_batch(nbbo_rows: int, symbols: int, requested: int | None) -> int:
    """``requested``, or (``None``) all symbols at once when the day's NBBO holds at most
    :data:`AUTO_BATCH_ROWS` rows, else about :data:`TARGET_BATCH_ROWS` NBBO rows a batch."""
    if requested is not None:
        return requested
    if nbbo_rows <= AUTO_BATCH_ROWS or symbols == 0:
        return max(symbols, 1)
    return max(1, int(symbols * TARGET_BATCH_ROWS / nbbo_rows))


def _str(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True, slots=True)
class _RowGroup:
    file: Path
    index: int
    rows: int
    low: str | None  # None: no statistics, always read
    high: str | None

    def overlaps(self, batch: SymbolBatch) -> bool:
        if self.low is None or self.high is None:
            return True
        return self.high >= batch.first and self.low <= batch.last


def _row_groups(files: list[Path]) -> list[_RowGroup]:
    """Every row group of ``files`` with its ``symbol`` min/max when the footer has them."""
    groups = []
    for f in files:
        meta = pq.ParquetFile(f).metadata
        col = meta.schema.names.index("symbol") if "symbol" in meta.schema.names else -1
        for i in range(meta.num_row_groups):
            rg = meta.row_group(i)
            stats = rg.column(col).statistics if col >= 0 else None
            if stats is not None and stats.has_min_max and stats.null_count == 0:
                groups.append(_RowGroup(f, i, rg.num_rows, _str(stats.min), _str(stats.max)))
            else:
                groups.append(_RowGroup(f, i, rg.num_rows, None, None))
    return groups


def _allow_open_files(needed: int) -> None:
    """Raise the soft limit on open files towards ``needed`` (up to the hard limit)."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        top = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (top, hard))


class _Split:
    """One table of one day split into one Arrow IPC file per batch."""

    def __init__(self, folder: Path, name: str, schema: pa.Schema) -> None:
        self.folder = folder
        self.name = name
        self.schema = schema
        self.paths: dict[int, Path] = {}
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}

    def write(self, table: pa.Table, batch_of_row: np.ndarray) -> None:
        """Append each row of ``table`` to its batch's file (-1: dropped), in order."""
        order = np.argsort(batch_of_row, kind="stable")
        ids = batch_of_row[order]
        cuts = np.flatnonzero(np.diff(ids)) + 1
        starts = np.concatenate([[0], cuts]).tolist()
        ends = np.concatenate([cuts, [len(ids)]]).tolist()
        sorted_table = table.take(pa.array(order))
        for a, b in zip(starts, ends, strict=True):
            k = int(ids[a])
            if k < 0 or a == b:
                continue
            writer = self._writers.get(k)
            if writer is None:
                path = self.folder / f"{self.name}-{k:05d}.arrow"
                writer = pa.ipc.new_file(path, self.schema)
                self._writers[k], self.paths[k] = writer, path
            writer.write_table(sorted_table.slice(a, b - a))

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


def _sql_str(text: str) -> str:
    return text.replace("'", "''")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    rows = con.sql(sql).fetchall()
    return rows[0][0] if rows else None


def _numbered(files: list[Path]) -> str:
    """SQL of (r, order_id) over ``files``: ``r`` the row across the files, in read order."""
    parts, offset = [], 0
    for f in files:
        parts.append(
            f"SELECT file_row_number + {offset} AS r, order_id "
            f"FROM read_parquet('{_sql_str(str(f))}', file_row_number = true)"
        )
        offset += pq.ParquetFile(f).metadata.num_rows
    return " UNION ALL ".join(parts)


def _column(files: list[Path], column: str) -> pa.ChunkedArray:
    tables = [pq.read_table(f, columns=[column]) for f in files]
    return pa.concat_tables(tables).column(column) if tables else pa.chunked_array([], pa.string())


def _chunks(files: list[Path]) -> Iterator[pa.Table]:
    for f in files:
        for rb in pq.ParquetFile(f).iter_batches(batch_size=CHUNK_ROWS):
            yield pa.Table.from_batches([rb])


def _numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.to_numpy(zero_copy_only=False)


class DaySlices:
    """The orders, fills and NBBO (or quotes) of one day, read one symbol batch at a time.

    ``per_batch=None`` sizes batches automatically (:func:`symbols_per_batch`); ``workdir``
    is where split tables go (a temporary folder, removed by :meth:`close`, when ``None``).
    ``nbbo_table`` says which table :meth:`tables` returns third: ``nbbo``, or ``quotes`` to
    consolidate. Raises :class:`~pfof.errors.InputError` naming the partition it cannot read.
    """

    def __init__(
        self,
        root: str | Path,
        day: date,
        *,
        per_batch: int | None = None,
        workdir: str | Path | None = None,
    ) -> None:
        self.root = Path(root)
        self.day = day
        source = nbbo_source(self.root, day)
        if source is None:
            raise InputError(
                f"{layout.partition_dir(root, 'nbbo', day)} is missing, and so is "
                f"{layout.partition_dir(root, 'quotes', day)}: expected the day's NBBO, or the "
                "venues' quotes to consolidate it from"
            )
        self.nbbo_table, self._nbbo_part = source
        self._orders_part = layout.partition_dir(root, "orders", day)
        self._fills_part = layout.partition_dir(root, "fills", day)
        self._own_workdir = workdir is None
        self.workdir = (
            Path(tempfile.mkdtemp(prefix="pfof-batches-")) if workdir is None else (Path(workdir))
        )
        self._splits: dict[str, _Split] = {}
        self.dropped_fills = 0
        try:
            self._prepare(per_batch)
        except BaseException:
            self.close()
            raise

    def _read_error(self, part: Path, exc: Exception) -> InputError:
        return InputError(f"{part}: cannot read as Parquet: {exc}")

    def _prepare(self, per_batch: int | None) -> None:
        try:
            nbbo_files = _files(self._nbbo_part)
            groups = _row_groups(nbbo_files)
        except (pa.ArrowException, OSError) as exc:
            raise self._read_error(self._nbbo_part, exc) from exc
        nbbo_rows = sum(g.rows for g in groups)
        try:
            order_files = _files(self._orders_part)
            symbol = _column(order_files, "symbol")
        except (pa.ArrowException, OSError, KeyError) as exc:
            raise self._read_error(self._orders_part, exc) from exc
        if symbol.null_count:
            row = int(np.flatnonzero(_numpy(pc.is_null(symbol)))[0])
            raise InputError(f"{self._orders_part}: orders: row {row} has a null symbol")
        names = sorted(pc.unique(symbol).to_pylist())
        size = symbols_per_batch(nbbo_rows, len(names), per_batch)
        self.batches = plan_batches(names, size)
        if len(self.batches) > MAX_BATCHES:
            raise ParameterError(
                f"{len(self.batches):,} batches of {size} symbol(s) for {self.day}: at most "
                f"{MAX_BATCHES:,}; give more symbols per batch"
            )
        self.whole = len(self.batches) <= 1
        self._groups = groups
        self._nbbo_files = nbbo_files
        if self.whole:
            self._count_dropped(order_files)
            return
        _allow_open_files(len(self.batches) + 256)  # one split file per batch is open at once
        ranked = pa.array(names, pa.string())
        # batch of each order: its symbol's rank among the day's symbols // symbols per batch
        order_batch = (_numpy(pc.index_in(symbol, value_set=ranked)) // size).astype(np.int32)
        del symbol
        self._split_orders(order_files, order_batch)
        self._split_fills(order_files, order_batch)
        reread = sum(g.rows for b in self.batches for g in groups if g.overlaps(b))
        if reread > MAX_REREAD * max(nbbo_rows, 1):
            self._split_nbbo(ranked, size)

    def _count_dropped(self, order_files: list[Path]) -> None:
        """Fills of other days' orders, for a day read whole."""
        if not self._fills_part.is_dir():
            return
        try:
            fill_ids = _column(_files(self._fills_part), "order_id")
        except (pa.ArrowException, OSError, KeyError):
            return  # left to the kernel, which names what is wrong
        mine = pc.is_in(fill_ids, value_set=_column(order_files, "order_id"))
        self.dropped_fills = len(fill_ids) - (pc.sum(mine.cast(pa.int64())).as_py() or 0)

    def _split_orders(self, files: list[Path], batch_of: np.ndarray) -> None:
        try:
            schema = pq.read_schema(files[0])
            split = _Split(self.workdir, "orders", schema)
            self._splits["orders"] = split
            offset = 0
            for chunk in _chunks(files):
                split.write(chunk, batch_of[offset : offset + chunk.num_rows])
                offset += chunk.num_rows
            split.close()
        except (pa.ArrowException, OSError) as exc:
            raise self._read_error(self._orders_part, exc) from exc

    def _split_fills(self, order_files: list[Path], order_batch: np.ndarray) -> None:
        if not self._fills_part.is_dir():
            return
        try:
            files = _files(self._fills_part)
            if not files:
                return
            schema = pq.read_schema(files[0])
        except (pa.ArrowException, OSError, KeyError) as exc:
            raise self._read_error(self._fills_part, exc) from exc
        try:
            rows = self._fill_order_rows(order_files, files)
        except duckdb.Error as exc:
            raise self._read_error(self._fills_part, exc) from exc
        mine = rows >= 0
        self.dropped_fills = int(len(rows) - mine.sum())
        fill_batch = np.where(mine, order_batch[np.where(mine, rows, 0)], -1).astype(np.int32)
        del rows, mine
        try:
            split = _Split(self.workdir, "fills", schema)
            self._splits["fills"] = split
            offset = 0
            for chunk in _chunks(files):
                split.write(chunk, fill_batch[offset : offset + chunk.num_rows])
                offset += chunk.num_rows
            split.close()
        except (pa.ArrowException, OSError) as exc:
            raise self._read_error(self._fills_part, exc) from exc

    def _fill_order_rows(self, order_files: list[Path], fill_files: list[Path]) -> np.ndarray:
        """Row in the day's orders of each fill's order (-1: another day's), by a hash join
        in DuckDB under :data:`JOIN_MEMORY` (spilling to the working folder): a fraction of
        what hashing the ids in Arrow takes. A repeated order id is refused, naming its row."""
        con = duckdb.connect()
        try:
            con.execute(f"SET memory_limit = '{JOIN_MEMORY}'")
            con.execute(f"SET temp_directory = '{_sql_str(str(self.workdir / 'duckdb'))}'")
            orders, fills = _numbered(order_files), _numbered(fill_files)
            repeated = None
            if _scalar(con, f"SELECT count(*) - count(DISTINCT order_id) FROM ({orders})"):
                repeated = _scalar(
                    con,
                    f"SELECT min(r) FROM (SELECT r, row_number() OVER (PARTITION BY order_id "
                    f"ORDER BY r) AS k FROM ({orders})) WHERE k = 2",
                )
            if repeated is not None:
                oid = pq.read_table(order_files, columns=["order_id"]).column(0)[repeated]
                raise InputError(
                    f"{self._orders_part}: orders: row {repeated} repeats order_id {oid.as_py()!r}"
                )
            found = con.sql(
                f"SELECT coalesce(o.r, -1) AS row FROM ({fills}) f "
                f"LEFT JOIN ({orders}) o USING (order_id) ORDER BY f.r"
            ).to_arrow_table()
        finally:
            con.close()
        return _numpy(found.column("row")).astype(np.int64)

    def _split_nbbo(self, ranked: pa.Array, size: int) -> None:
        """Split an NBBO not clustered by symbol; rows of symbols no order trades are dropped."""
        try:
            schema = pq.read_schema(self._nbbo_files[0])
            split = _Split(self.workdir, self.nbbo_table, schema)
            self._splits["nbbo"] = split
            for chunk in _chunks(self._nbbo_files):
                rank = pc.fill_null(pc.index_in(chunk.column("symbol"), value_set=ranked), -1)
                code = _numpy(rank).astype(np.int64)
                split.write(chunk, np.where(code >= 0, code // size, -1))
            split.close()
        except (pa.ArrowException, OSError) as exc:
            raise self._read_error(self._nbbo_part, exc) from exc

    @property
    def nbbo_split(self) -> bool:
        """Whether the NBBO was split into files (it was not clustered by symbol)."""
        return "nbbo" in self._splits

    def spec(self, batch: SymbolBatch) -> BatchSpec:
        """Where batch ``batch``'s rows are: file paths only, so another process (a Spark
        executor seeing the same storage) can read them with :func:`read_batch`."""
        if self.whole:
            return BatchSpec(
                batch.first,
                batch.last,
                whole=True,
                orders=str(self._orders_part),
                fills=str(self._fills_part) if self._fills_part.is_dir() else None,
                nbbo=str(self._nbbo_part),
            )
        fills = self._splits.get("fills")
        fills_path = None if fills is None else fills.paths.get(batch.index)
        groups: tuple[tuple[str, tuple[int, ...]], ...] = ()
        nbbo_path = None
        if "nbbo" in self._splits:
            found = self._splits["nbbo"].paths.get(batch.index)
            nbbo_path = str(found) if found is not None else None
        else:
            picked: dict[Path, list[int]] = {}
            for g in self._groups:
                if g.overlaps(batch):
                    picked.setdefault(g.file, []).append(g.index)
            groups = tuple((str(f), tuple(rgs)) for f, rgs in picked.items())
        return BatchSpec(
            batch.first,
            batch.last,
            whole=False,
            orders=str(self._splits["orders"].paths[batch.index]),
            fills=None if fills_path is None else str(fills_path),
            nbbo=nbbo_path,
            row_groups=groups,
            nbbo_schema=str(self._nbbo_files[0]) if self._nbbo_files else None,
        )

    def tables(self, batch: SymbolBatch) -> tuple[pa.Table, pa.Table, pa.Table]:
        """(orders, fills, nbbo or quotes) of one batch; fills are only its orders'."""
        return read_batch(self.spec(batch))

    def close(self) -> None:
        """Remove the split files (the working folder too when it was temporary)."""
        for split in self._splits.values():
            split.close()
            for path in split.paths.values():
                path.unlink(missing_ok=True)
        self._splits.clear()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> DaySlices:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DayWriter:
    """One day's table written a batch at a time to ``target``: to a hidden ``.partial`` file
    beside it (which readers skip), renamed over ``target`` only when every batch is written,
    so a run that fails midway never leaves a day that looks complete but is not."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self._partial = target.with_name(f".{target.name}.partial")
        self._writer: pq.ParquetWriter | None = None

    def write(self, table: pa.Table) -> None:
        """Append one batch's rows. Raises :class:`~pfof.errors.PfofError` naming the file."""
        try:
            if self._writer is None:
                self.target.parent.mkdir(parents=True, exist_ok=True)
                self._writer = pq.ParquetWriter(self._partial, table.schema)
            self._writer.write_table(table)
        except OSError as exc:
            raise PfofError(f"{self.target}: cannot write: {exc}") from exc

    def __enter__(self) -> DayWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        if self._writer is not None:
            self._writer.close()
        if kind is not None:
            self._partial.unlink(missing_ok=True)
            return
        try:
            self._partial.replace(self.target)
        except OSError as exc:
            raise PfofError(f"{self.target}: cannot write: {exc}") from exc


@dataclass(frozen=True, slots=True)
class BatchSpec:
    """Where one batch's rows are (paths as strings, picklable): ``whole`` names the day's
    partition folders; otherwise ``orders``/``fills`` are split files (``None``: no rows)
    and the NBBO is the split file ``nbbo`` or the ``row_groups`` of the day's files
    overlapping ``first``..``last``."""

    first: str
    last: str
    whole: bool
    orders: str
    fills: str | None
    nbbo: str | None
    row_groups: tuple[tuple[str, tuple[int, ...]], ...] = ()
    nbbo_schema: str | None = None  # a file whose schema an empty NBBO takes


def _ipc(path: str | None, schema: pa.Schema) -> pa.Table:
    if path is None:
        return schema.empty_table()
    with pa.memory_map(path) as source:
        return pa.ipc.open_file(source).read_all()


def read_batch(spec: BatchSpec) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(orders, fills, nbbo or quotes) of the batch ``spec`` describes; fills are only its
    orders'. Raises :class:`~pfof.errors.InputError` naming a file it cannot read."""
    from pfof.store.dataset import read_part

    if spec.whole:
        orders = read_part(Path(spec.orders))
        fills = FILLS.empty_table() if spec.fills is None else read_part(Path(spec.fills))
        if fills.num_rows and "order_id" in fills.column_names:
            fills = fills.filter(
                pc.is_in(fills.column("order_id"), value_set=orders.column("order_id"))
            )
        return orders, fills, read_part(Path(spec.nbbo or ""))
    try:
        orders = _ipc(spec.orders, pa.schema([]))
        fills = _ipc(spec.fills, FILLS)
        if spec.nbbo is not None:
            return orders, fills, _ipc(spec.nbbo, pa.schema([]))
        parts = [pq.ParquetFile(f).read_row_groups(list(rgs)) for f, rgs in spec.row_groups]
        if not parts:
            return orders, fills, pq.read_schema(spec.nbbo_schema or "").empty_table()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(
            f"{spec.orders}: cannot read batch {spec.first}..{spec.last}: {exc}"
        ) from exc
    table = pa.concat_tables(parts)
    sym = table.column("symbol")
    keep = pc.and_(pc.greater_equal(sym, spec.first), pc.less_equal(sym, spec.last))
    return orders, fills, table.filter(keep)
