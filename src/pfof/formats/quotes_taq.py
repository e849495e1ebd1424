"""Consolidated-tape quotes and trades in TAQ style, one row per exchange quote or print, into
the canonical ``QUOTES`` and ``TRADES`` tables.

Two layouts are read (Parquet or CSV; column names in either case):

* the R package highfrequency's (``sampleQDataRaw``): ``DT, EX, BID, BIDSIZ, OFR, OFRSIZ,
  SYMBOL`` for quotes and ``DT, EX, SYMBOL, COND, SIZE, PRICE, CORR`` for trades, ``DT`` a
  timestamp without zone that is UTC;
* WRDS Daily TAQ's: ``DATE, TIME_M, EX, SYM_ROOT, SYM_SUFFIX, BID, BIDSIZ, ASK, ASKSIZ`` and
  ``DATE, TIME_M, EX, SYM_ROOT, SYM_SUFFIX, TR_SCOND, SIZE, PRICE, TR_CORR``, times of day
  in New York time.

Their times carry no zone, so each layout has a documented default (:data:`DEFAULT_TZ`:
``UTC`` for ``DT``, ``America/New_York`` for ``DATE``/``TIME_M``) that ``tz`` overrides.
``EX`` letters become MICs (``model.venue_codes.TAQ_EXCHANGES``); an unknown letter is an
error. TAQ quote sizes are round lots: they are multiplied by ``lot_size`` (100 shares) into
shares; trade sizes are shares already. Zero prices and sizes (no interest on that side) are
kept as they are: the NBBO consolidation ignores such a side.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pfof.errors import InputError
from pfof.formats.quotes_table import (
    check_zone,
    float_column,
    int_column,
    load_table,
    row_label,
    utc_timestamps,
)
from pfof.model.tables import QUOTES, TRADES
from pfof.model.venue_codes import TAQ_EXCHANGES

__all__ = ["DEFAULT_TZ", "LOT_SIZE", "is_taq", "read_taq_quotes", "read_taq_trades"]

#: The zone of a layout's zone-less times, keyed by its time column.
DEFAULT_TZ: dict[str, str] = {"DT": "UTC", "TIME_M": "America/New_York"}
#: Shares per round lot, the unit of TAQ quote sizes.
LOT_SIZE = 100

#: Canonical column -> its TAQ names (highfrequency's first, then WRDS's).
_QUOTE_COLUMNS: dict[str, tuple[str, ...]] = {
    "bid": ("BID",),
    "bid_size": ("BIDSIZ",),
    "ask": ("OFR", "ASK"),
    "ask_size": ("OFRSIZ", "ASKSIZ"),
}
_CONDITIONS = ("COND", "TR_SCOND")
_CORRECTION = ("CORR", "TR_CORR")


def is_taq(column_names: list[str]) -> bool:
    """True when a table's columns are one of the TAQ layouts (quotes or trades)."""
    upper = {c.upper() for c in column_names}
    has_time = "DT" in upper or {"DATE", "TIME_M"} <= upper
    has_symbol = "SYMBOL" in upper or "SYM_ROOT" in upper
    return has_time and has_symbol and "EX" in upper


def _columns(table: pa.Table) -> dict[str, str]:
    return {c.upper(): c for c in table.column_names}


def _pick(cols: dict[str, str], names: tuple[str, ...], what: str, path: str) -> str:
    for name in names:
        if name in cols:
            return cols[name]
    raise InputError(f"{path}: no {' or '.join(names)} column ({what}); not a TAQ layout")


def _base(
    path: str | Path, tz: str | None
) -> tuple[pa.Table, dict[str, str], bool, dict[str, pa.ChunkedArray]]:
    """The table, its columns by upper-case name, whether CSV, and symbol/ts/venue columns."""
    name = str(path)
    table, csv_file = load_table(path)
    cols = _columns(table)
    if not is_taq(table.column_names):
        raise InputError(
            f"{name}: not a TAQ layout; expected DT (or DATE and TIME_M), EX and SYMBOL (or "
            f"SYM_ROOT) columns; the file has {', '.join(table.column_names)}"
        )
    check_zone(tz)
    if "DT" in cols:
        times, default = table.column(cols["DT"]), DEFAULT_TZ["DT"]
        column = cols["DT"]
    else:
        day = table.column(cols["DATE"])
        if pa.types.is_date(day.type) or pa.types.is_timestamp(day.type):
            day = day.cast(pa.date32())
        clock = pc.utf8_trim_whitespace(table.column(cols["TIME_M"]).cast(pa.string()))
        clock = pc.replace_substring_regex(clock, r"^(\d):", r"0\1:")  # WRDS writes 9:30:00
        times = pc.binary_join_element_wise(
            pc.utf8_trim_whitespace(day.cast(pa.string())), clock, "T"
        )
        default, column = DEFAULT_TZ["TIME_M"], f"{cols['DATE']}/{cols['TIME_M']}"
    ts = utc_timestamps(times, tz=tz or default, path=name, column=column, csv_file=csv_file)
    if "SYMBOL" in cols:
        symbol = table.column(cols["SYMBOL"]).cast(pa.string())
    else:
        symbol = table.column(cols["SYM_ROOT"]).cast(pa.string())
        if "SYM_SUFFIX" in cols:
            suffix = pc.fill_null(table.column(cols["SYM_SUFFIX"]).cast(pa.string()), "")
            suffix = pc.utf8_trim_whitespace(suffix)
            dotted = pc.binary_join_element_wise(symbol, suffix, ".")
            symbol = pc.if_else(pc.equal(suffix, ""), symbol, dotted)
    symbol = pc.utf8_trim_whitespace(symbol)
    empty = pc.fill_null(pc.equal(symbol, ""), True).to_numpy(zero_copy_only=False)
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise InputError(f"{row_label(name, row, csv_file)}: the symbol is empty")
    return (
        table,
        cols,
        csv_file,
        {"symbol": symbol, "ts": ts, "venue": _venues(table, cols, name, csv_file)},
    )


def _venues(table: pa.Table, cols: dict[str, str], path: str, csv_file: bool) -> pa.ChunkedArray:
    letters = pc.utf8_trim_whitespace(table.column(cols["EX"]).cast(pa.string()))
    codes = pa.array(sorted(TAQ_EXCHANGES))
    index = pc.index_in(letters, value_set=codes)
    if index.null_count:
        row = int(np.flatnonzero(pc.is_null(index).to_numpy(zero_copy_only=False))[0])
        raise InputError(
            f"{row_label(path, row, csv_file)}: EX {letters[row].as_py()!r} is not a TAQ "
            f"exchange code; expected one of {' '.join(sorted(TAQ_EXCHANGES))}"
        )
    mics = pa.array([TAQ_EXCHANGES[c] for c in sorted(TAQ_EXCHANGES)], pa.string())
    return pa.chunked_array([pc.take(mics, index.combine_chunks())])


def read_taq_quotes(
    path: str | Path, *, tz: str | None = None, lot_size: int = LOT_SIZE
) -> pa.Table:
    """Per-exchange TAQ quotes as ``QUOTES`` (sizes in shares, times UTC, venues as MICs).

    ``tz`` is the zone of the file's times, by default :data:`DEFAULT_TZ` for its layout.
    Raises :class:`~pfof.errors.InputError` naming the file, and the row and column of the
    first value that cannot be read.
    """
    name = str(path)
    table, cols, csv_file, out = _base(path, tz)
    for key, names in _QUOTE_COLUMNS.items():
        column = _pick(cols, names, key, name)
        if key.endswith("_size"):
            sizes = int_column(table.column(column), name, column, csv_file)
            out[key] = pc.multiply(sizes, lot_size)
        else:
            out[key] = float_column(table.column(column), name, column, csv_file)
    return pa.table([out[f.name] for f in QUOTES], schema=QUOTES)


def read_taq_trades(path: str | Path, *, tz: str | None = None) -> pa.Table:
    """TAQ trades (every exchange's and FINRA's prints) as ``TRADES``; corrections kept with
    their ``CORR`` code (0 = regular) for the caller to filter."""
    name = str(path)
    table, cols, csv_file, out = _base(path, tz)
    for key in ("price", "size"):
        column = _pick(cols, (key.upper(),), key, name)
        out[key] = float_column(table.column(column), name, column, csv_file)
    n = table.num_rows
    cond = next((cols[c] for c in _CONDITIONS if c in cols), None)
    out["conditions"] = (
        pc.utf8_trim_whitespace(table.column(cond).cast(pa.string()))
        if cond
        else pa.chunked_array([pa.nulls(n, pa.string())])
    )
    corr = next((cols[c] for c in _CORRECTION if c in cols), None)
    out["correction"] = (
        int_column(table.column(corr), name, corr, csv_file).cast(pa.int32())
        if corr
        else pa.chunked_array([pa.nulls(n, pa.int32())])
    )
    return pa.table([out[f.name] for f in TRADES], schema=TRADES)
