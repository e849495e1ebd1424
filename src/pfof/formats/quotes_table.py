"""Quotes or tape trades in any CSV or Parquet file, read through a column map, and the time
rules every market-data reader shares.

A column map names, for each canonical column, the file's column: ``bid=BidPx,ask=AskPx``
(a string, as ``--map`` takes it) or ``{"bid": "BidPx", "ask": "AskPx"}``. A canonical column
left out of the map is looked up under its own name, case-insensitively. Quote columns:
``symbol, ts, venue, bid, bid_size, ask, ask_size`` and, for consolidated files,
``bid_venue, ask_venue``; trade columns: ``symbol, ts, venue, price, size, conditions,
correction``. ``date`` names an optional date column when the times are a time of day
(``date=DATE,ts=TIME_M``, as WRDS TAQ files have them).

A file with a venue column holds per-venue quotes (``QUOTES``; the NBBO is built from them);
one without is read as consolidated quotes (``NBBO_VENUES``). ``symbol=`` gives the symbol
of a file that has no symbol column.

Times (:func:`utc_timestamps`): a time with a zone or UTC offset is exact; a time without one
is refused unless ``tz`` names the zone it is in (``"UTC"``, ``"America/New_York"``); an
integer is seconds, milliseconds, microseconds or nanoseconds since the Unix epoch (UTC), the
unit told by its size. Everything comes out as UTC nanoseconds.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pfof.errors import InputError, ParameterError
from pfof.model.tables import NBBO_VENUES, QUOTES, TRADES, TS

__all__ = [
    "QUOTE_KEYS",
    "TRADE_KEYS",
    "ColumnMap",
    "check_zone",
    "column_map",
    "float_column",
    "int_column",
    "load_table",
    "read_quote_table",
    "read_trade_table",
    "row_label",
    "utc_timestamps",
]

#: What ``columns=`` accepts: ``"bid=BidPx,ask=AskPx"`` or a mapping.
ColumnMap = str | Mapping[str, str]

QUOTE_KEYS = (
    "symbol",
    "ts",
    "date",
    "venue",
    "bid",
    "bid_size",
    "ask",
    "ask_size",
    "bid_venue",
    "ask_venue",
)
TRADE_KEYS = ("symbol", "ts", "date", "venue", "price", "size", "conditions", "correction")

_NS_PER = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def column_map(columns: ColumnMap | None, keys: tuple[str, ...]) -> dict[str, str]:
    """``{canonical column: file column}`` from a map string or mapping.

    Raises :class:`~pfof.errors.ParameterError` for an entry without ``=`` or a key that is
    not one of ``keys``.
    """
    if columns is None:
        return {}
    pairs: list[tuple[str, str]] = []
    if isinstance(columns, str):
        for entry in (e.strip() for e in columns.split(",")):
            if not entry:
                continue
            key, sep, value = entry.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ParameterError(
                    f"column map entry {entry!r}: expected COLUMN=FILE_COLUMN, e.g. bid=BidPx"
                )
            pairs.append((key, value))
    else:
        pairs = [(str(k), str(v)) for k, v in columns.items()]
    out: dict[str, str] = {}
    for key, value in pairs:
        name = key.strip().lower()
        if name not in keys:
            raise ParameterError(
                f"column map: {key.strip()!r} is not a column pfof reads here; expected one of "
                f"{', '.join(keys)}"
            )
        out[name] = value.strip()
    return out


def check_zone(tz: str | None) -> str | None:
    """``tz`` itself when it is a known IANA time zone (or ``None``); ParameterError if not."""
    if tz is None:
        return None
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ParameterError(
            f"unknown time zone {tz!r}: expected an IANA name such as America/New_York or UTC"
        ) from exc
    return tz


def row_label(path: str, row: int, csv_file: bool) -> str:
    """``FILE: line N`` (CSV, counting the header) or ``FILE: row N`` (1-based)."""
    return f"{path}: line {row + 2}" if csv_file else f"{path}: row {row + 1}"


def _first(mask: np.ndarray | pa.Array | pa.ChunkedArray) -> int:
    if not isinstance(mask, np.ndarray):
        mask = pc.fill_null(mask, True).to_numpy(zero_copy_only=False)
    return int(np.flatnonzero(mask)[0])


def utc_timestamps(
    values: pa.Array | pa.ChunkedArray,
    *,
    tz: str | None,
    path: str,
    column: str,
    csv_file: bool = False,
) -> pa.ChunkedArray:
    """``values`` (strings, timestamps or epoch integers) as ``timestamp[ns, UTC]``.

    ``path`` and ``column`` name the source in messages. Raises
    :class:`~pfof.errors.InputError` naming the first bad row: a null, a string that is not an
    ISO 8601 time, or a time without zone while ``tz`` is ``None`` (the message says to pass
    ``tz``).
    """
    check_zone(tz)
    col = values if isinstance(values, pa.ChunkedArray) else pa.chunked_array([values])
    if col.null_count:
        raise InputError(f"{row_label(path, _first(pc.is_null(col)), csv_file)}: {column} is empty")
    typ = col.type
    if pa.types.is_dictionary(typ):
        col, typ = col.cast(typ.value_type), typ.value_type
    if pa.types.is_integer(typ):
        ints = col.cast(pa.int64()).to_numpy()
        top = int(np.abs(ints).max()) if len(ints) else 0
        unit = "s" if top < 10**11 else "ms" if top < 10**14 else "us" if top < 10**17 else "ns"
        return pa.chunked_array([pa.array(ints * _NS_PER[unit], TS)])
    if pa.types.is_timestamp(typ):
        if typ.tz is not None:
            return col.cast(pa.timestamp("ns", tz=typ.tz)).cast(TS)
        return _assume_zone(col.cast(pa.timestamp("ns")), tz, path, column, csv_file)
    if not (pa.types.is_string(typ) or pa.types.is_large_string(typ)):
        raise InputError(f"{path}: column {column} has type {typ}, expected times")
    col = pc.utf8_trim_whitespace(col.cast(pa.string()))
    try:
        return col.cast(TS)  # every value has a zone or an offset
    except pa.ArrowInvalid:
        pass
    try:
        return _assume_zone(col.cast(pa.timestamp("ns")), tz, path, column, csv_file)
    except pa.ArrowInvalid:
        pass  # some values have a zone and some not, or some are no time at all
    texts = col.to_pylist()
    zoned = [_parses(t, TS) for t in texts]
    for row, text in enumerate(texts):
        if not zoned[row] and not _parses(text, pa.timestamp("ns")):
            raise InputError(
                f"{row_label(path, row, csv_file)}: {column} {text!r} is not an ISO 8601 time; "
                "expected e.g. 2022-05-10T10:11:12.800638-04:00"
            )
    mask = pa.array(zoned)
    local = _assume_zone(
        pc.if_else(mask, None, col).cast(pa.timestamp("ns")), tz, path, column, csv_file
    )
    exact = pc.if_else(mask, col, None).cast(TS)
    return pc.if_else(mask, exact, local)


def _parses(text: str, typ: pa.DataType) -> bool:
    try:
        pa.array([text]).cast(typ)
    except pa.ArrowInvalid:
        return False
    return True


def _assume_zone(
    naive: pa.ChunkedArray, tz: str | None, path: str, column: str, csv_file: bool
) -> pa.ChunkedArray:
    if tz is None:
        valid = pc.is_valid(naive)
        row = _first(valid) if pc.any(valid).as_py() else 0
        raise InputError(
            f"{row_label(path, row, csv_file)}: {column} {naive[row]} has no time zone; pass "
            "tz (--tz), e.g. tz='America/New_York', to say which zone the times are in"
        )
    try:
        # the earlier reading of a repeated autumn hour, as the trades reader does
        return pc.assume_timezone(naive, tz, ambiguous="earliest", nonexistent="raise").cast(TS)
    except pa.ArrowInvalid as exc:
        raise InputError(
            f"{path}: column {column}: a time does not exist in {tz} (a spring-forward gap): "
            f"{str(exc).splitlines()[0]}"
        ) from exc


def load_table(path: str | Path) -> tuple[pa.Table, bool]:
    """A CSV (optionally gzipped) or Parquet file as an Arrow table, and whether it was CSV.

    Parquet is told by its ``PAR1`` magic number, anything else is read as CSV with every
    column as text first where a number could be mistaken for text (symbols) or a time for a
    number. Raises :class:`~pfof.errors.InputError` naming the file.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if head == b"PAR1":
        try:
            return pq.read_table(path), False
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{path}: not a readable Parquet file: {exc}") from exc
    try:
        source: Any = gzip.open(path, "rb") if head[:2] == b"\x1f\x8b" else path
        table = pacsv.read_csv(
            source, convert_options=pacsv.ConvertOptions(null_values=[""], strings_can_be_null=True)
        )
    except (pa.ArrowException, OSError, EOFError) as exc:
        raise InputError(f"{path}: not a readable CSV or Parquet file: {exc}") from exc
    return table, True


def _resolve(
    table: pa.Table, mapping: dict[str, str], keys: tuple[str, ...], path: str
) -> dict[str, str]:
    """Canonical column -> the file's column, for the columns present."""
    names = table.column_names
    lower = {n.lower(): n for n in names}
    out: dict[str, str] = {}
    for key in keys:
        if key in mapping:
            if mapping[key] not in names:
                raise InputError(
                    f"{path}: no column {mapping[key]!r} (mapped to {key}); the file has "
                    f"{', '.join(names)}"
                )
            out[key] = mapping[key]
        elif key in lower:
            out[key] = lower[key]
    return out


def float_column(col: pa.ChunkedArray, path: str, column: str, csv_file: bool) -> pa.ChunkedArray:
    """``col`` as float64 (nulls kept); InputError naming the first value that is no number."""
    try:
        return col.cast(pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    for row, value in enumerate(col.to_pylist()):
        try:
            pa.array([value]).cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise InputError(
                f"{row_label(path, row, csv_file)}: {column} {value!r} is not a number"
            ) from None
    raise InputError(f"{path}: column {column} has type {col.type}, expected numbers")


def int_column(col: pa.ChunkedArray, path: str, column: str, csv_file: bool) -> pa.ChunkedArray:
    """``col`` as int64 (nulls kept; whole floats accepted); InputError naming a bad value."""
    values = float_column(col, path, column, csv_file)
    values = pc.if_else(pc.is_nan(values), pa.scalar(None, pa.float64()), values)
    arr = values.to_numpy()
    bad = ~np.isnan(arr) & (arr != np.round(arr))
    if bad.any():
        row = _first(bad)
        raise InputError(
            f"{row_label(path, row, csv_file)}: {column} {arr[row]!r} is not a whole number"
        )
    return values.cast(pa.int64())


def _text_column(col: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return pc.utf8_trim_whitespace(col.cast(pa.string()))


def _times(
    table: pa.Table, cols: dict[str, str], tz: str | None, path: str, csv_file: bool
) -> pa.ChunkedArray:
    if "ts" not in cols:
        raise InputError(
            f"{path}: no time column; map one with columns (--map), e.g. ts=Time; the file has "
            f"{', '.join(table.column_names)}"
        )
    ts = table.column(cols["ts"])
    if "date" in cols:
        day = table.column(cols["date"])
        if pa.types.is_date(day.type) or pa.types.is_timestamp(day.type):
            day = day.cast(pa.date32())
        clock = ts.cast(pa.string()) if not pa.types.is_string(ts.type) else ts
        ts = pc.binary_join_element_wise(_text_column(day), _text_column(clock), "T")
    return utc_timestamps(ts, tz=tz, path=path, column=cols["ts"], csv_file=csv_file)


def _symbols(
    table: pa.Table, cols: dict[str, str], symbol: str | None, path: str, csv_file: bool
) -> pa.ChunkedArray:
    if "symbol" in cols:
        if symbol is not None:
            raise ParameterError(
                f"{path} has a symbol column ({cols['symbol']}); symbol= is for files without one"
            )
        out = _text_column(table.column(cols["symbol"]))
        empty = pc.or_kleene(pc.is_null(out), pc.equal(out, ""))
        if pc.any(empty).as_py():
            raise InputError(f"{row_label(path, _first(empty), csv_file)}: symbol is empty")
        return out
    if symbol is None:
        raise InputError(
            f"{path}: no symbol column; map one with columns (--map symbol=...) or pass symbol="
        )
    return pa.chunked_array([pa.array([symbol] * table.num_rows, pa.string())])


def read_quote_table(
    path: str | Path,
    *,
    columns: ColumnMap | None = None,
    tz: str | None = None,
    symbol: str | None = None,
) -> pa.Table:
    """Quotes from a CSV or Parquet file: ``QUOTES`` when it has a venue column, else
    ``NBBO_VENUES``. Raises :class:`~pfof.errors.InputError` naming the file (and the line
    or row and column) when a required column is missing or a value cannot be read."""
    name = str(path)
    table, csv_file = load_table(path)
    cols = _resolve(table, column_map(columns, QUOTE_KEYS), QUOTE_KEYS, name)
    per_venue = "venue" in cols
    need = ("bid", "ask", "bid_size", "ask_size") if per_venue else ("bid", "ask")
    missing = [k for k in need if k not in cols]
    if missing:
        what = "per-venue quotes" if per_venue else "quotes"
        raise InputError(
            f"{name}: {what} need the column(s) {', '.join(missing)}; map them with columns "
            f"(--map {missing[0]}=...); the file has {', '.join(table.column_names)}"
        )
    out: dict[str, pa.ChunkedArray] = {
        "symbol": _symbols(table, cols, symbol, name, csv_file),
        "ts": _times(table, cols, tz, name, csv_file),
    }
    if per_venue:
        venue = _text_column(table.column(cols["venue"]))
        empty = pc.or_kleene(pc.is_null(venue), pc.equal(venue, ""))
        if pc.any(empty).as_py():
            raise InputError(f"{row_label(name, _first(empty), csv_file)}: venue is empty")
        out["venue"] = venue
    n = table.num_rows
    for key in ("bid", "ask"):
        out[key] = float_column(table.column(cols[key]), name, cols[key], csv_file)
    for key in ("bid_size", "ask_size"):
        out[key] = (
            int_column(table.column(cols[key]), name, cols[key], csv_file)
            if key in cols
            else pa.chunked_array([pa.nulls(n, pa.int64())])
        )
    schema = QUOTES if per_venue else NBBO_VENUES
    if not per_venue:
        for key in ("bid_venue", "ask_venue"):
            out[key] = (
                _text_column(table.column(cols[key]))
                if key in cols
                else pa.chunked_array([pa.nulls(n, pa.string())])
            )
    return pa.table([out[f.name] for f in schema], schema=schema)


def read_trade_table(
    path: str | Path,
    *,
    columns: ColumnMap | None = None,
    tz: str | None = None,
    symbol: str | None = None,
) -> pa.Table:
    """Tape trades (``TRADES``) from a CSV or Parquet file through a column map."""
    name = str(path)
    table, csv_file = load_table(path)
    cols = _resolve(table, column_map(columns, TRADE_KEYS), TRADE_KEYS, name)
    missing = [k for k in ("price", "size") if k not in cols]
    if missing:
        raise InputError(
            f"{name}: trades need the column(s) {', '.join(missing)}; map them with columns "
            f"(--map {missing[0]}=...); the file has {', '.join(table.column_names)}"
        )
    n = table.num_rows
    out = {
        "symbol": _symbols(table, cols, symbol, name, csv_file),
        "ts": _times(table, cols, tz, name, csv_file),
        "venue": _text_column(table.column(cols["venue"]))
        if "venue" in cols
        else pa.chunked_array([pa.nulls(n, pa.string())]),
        "price": float_column(table.column(cols["price"]), name, cols["price"], csv_file),
        "size": float_column(table.column(cols["size"]), name, cols["size"], csv_file),
        "conditions": _text_column(table.column(cols["conditions"]))
        if "conditions" in cols
        else pa.chunked_array([pa.nulls(n, pa.string())]),
        "correction": int_column(
            table.column(cols["correction"]), name, "correction", csv_file
        ).cast(pa.int32())
        if "correction" in cols
        else pa.chunked_array([pa.nulls(n, pa.int32())]),
    }
    return pa.table([out[f.name] for f in TRADES], schema=TRADES)
