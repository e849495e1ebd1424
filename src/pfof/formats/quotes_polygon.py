"""Quotes and trades as the Polygon/Massive v3 REST API returns them (``/v3/quotes/{ticker}``,
``/v3/trades/{ticker}``): JSON pages ``{"results": [...], "next_url": ...}``.

A quote result is a consolidated (SIP) NBBO update: ``bid_price``, ``bid_size``,
``bid_exchange``, the same for the ask, ``sip_timestamp`` (UTC nanoseconds, the time pfof
uses), ``participant_timestamp`` and ``sequence_number``; it becomes a row of
``NBBO_VENUES`` with the exchanges as MICs (``model.venue_codes.POLYGON_EXCHANGES``). A trade
result (``price``, ``size``, ``exchange``, ``conditions``, ``correction``, ``trf_id``)
becomes a row of ``TRADES``; an off-exchange print (exchange 4, the FINRA facility) is put on
its trade reporting facility's MIC when ``trf_id`` names one.

Pages come newest first; rows are returned in time order (SIP timestamp, then sequence
number). The results carry no ticker: the symbol is ``symbol=`` when given, else the ticker
in a page's ``next_url`` (``/v3/quotes/AAPL?cursor=...``), shared by the pages read
together. Quote sizes were round lots (100 shares) until the SIPs moved to shares on
2025-11-03; pfof turns them into shares by that date. Option quotes (``O:`` tickers) keep
their sizes in contracts and their exchange ids unmapped (options exchanges have their own).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from pfof.errors import InputError, ParameterError
from pfof.model.tables import NBBO_VENUES, TRADES, TS
from pfof.model.venue_codes import POLYGON_EXCHANGES

__all__ = ["SHARES_SINCE_NS", "polygon_kind", "read_polygon_quotes", "read_polygon_trades"]

#: 2025-11-03 00:00 New York time (05:00 UTC): quote sizes are shares from then on.
SHARES_SINCE_NS = 1_762_146_000_000_000_000
_ROUND_LOT = 100
_FINRA_FACILITY = 4
_TICKER_IN_URL = re.compile(r"/v3/(?:quotes|trades)/([^/?]+)")


def _load(path: Path) -> list[dict[str, Any]]:
    """The pages of one file: a page object, a list of pages, or a bare list of results."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    except RecursionError:
        raise InputError(f"{path}: not JSON this reader accepts (nested too deeply)") from None
    except ValueError as exc:  # not JSON, not UTF-8, or a number beyond Python's digit limit
        raise InputError(f"{path}: not JSON ({exc})") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise InputError(f'{path}: expected a JSON page {{"results": [...]}} or a list')
    if data and all(isinstance(p, dict) and "results" in p for p in data):
        pages = data
    elif all(isinstance(r, dict) and "results" not in r for r in data):
        pages = [{"results": data}]
    else:
        raise InputError(f"{path}: expected API pages with a results list, or a list of results")
    for page in pages:
        if not isinstance(page["results"], list):
            raise InputError(f"{path}: results is not a list")
        if page.get("status") not in (None, "OK", "DELAYED"):
            raise InputError(f"{path}: the API answered status {page.get('status')!r}, not OK")
    return pages


def polygon_kind(results: list[dict[str, Any]]) -> str | None:
    """``"quotes"``, ``"trades"`` or ``None`` (no results) from the fields of the results."""
    if not results:
        return None
    first = results[0]
    if "bid_price" in first or "ask_price" in first:
        return "quotes"
    if "price" in first and "size" in first:
        return "trades"
    return "unknown"


def _read(
    paths: Sequence[str | Path], symbol: str | None, want: str
) -> list[tuple[Path, int, dict[str, Any], str]]:
    """(file, index, result, symbol) of every result of the wanted kind, in file order."""
    files = [Path(p) for p in paths]
    loaded = [(f, _load(f)) for f in files]
    tickers = set()
    for _, pages in loaded:
        for page in pages:
            match = _TICKER_IN_URL.search(str(page.get("next_url") or ""))
            if match:
                tickers.add(match.group(1))
    if symbol is None and len(tickers) > 1:
        raise ParameterError(
            f"{', '.join(map(str, files))}: pages of several tickers "
            f"({', '.join(sorted(tickers))}) read together; read each ticker's pages separately"
        )
    shared = symbol or (next(iter(tickers)) if tickers else None)
    out = []
    for f, pages in loaded:
        for page in pages:
            results = page["results"]
            kind = polygon_kind(results)
            if kind not in (None, want):
                other = "read_tape_trades" if want == "quotes" else "read_quotes"
                raise InputError(f"{f}: holds {kind}, not {want}; read it with {other}")
            for k, result in enumerate(results):
                sym = shared or result.get("ticker") or result.get("T")
                if not sym:
                    raise InputError(
                        f"{f}: result {k + 1}: no ticker (the results carry none and no page "
                        "read with it has a next_url naming one); pass symbol="
                    )
                out.append((f, k, result, str(sym)))
    return out


def _int(result: dict[str, Any], key: str, where: str) -> int | None:
    value = result.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise InputError(f"{where}: {key} {value!r} is not an integer")
    return value


def _time(result: dict[str, Any], where: str) -> int:
    value = _int(result, "sip_timestamp", where)
    if value is None:
        raise InputError(f"{where}: no sip_timestamp")
    return value


def _number(result: dict[str, Any], key: str, where: str) -> float | None:
    value = result.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{where}: {key} {value!r} is not a number")
    return float(value)


def _sorted_table(cols: dict[str, list[Any]], schema: pa.Schema, seq: list[int | None]) -> pa.Table:
    """The columns as a table of ``schema``, in (SIP time, sequence number) order."""
    arrays = [
        pa.array(cols[f.name], pa.int64()).cast(TS)
        if f.name == "ts"
        else pa.array(cols[f.name], f.type)
        for f in schema
    ]
    keys = (
        np.array([-1 if s is None else s for s in seq], np.int64),
        np.array(cols["ts"], np.int64),
    )
    return pa.table(arrays, schema=schema).take(pa.array(np.lexsort(keys)))


def read_polygon_quotes(paths: Sequence[str | Path], *, symbol: str | None = None) -> pa.Table:
    """NBBO updates from v3 quotes pages as ``NBBO_VENUES``, in time order.

    A side whose price or size is 0 or absent is a missing side (null). Raises
    :class:`~pfof.errors.InputError` naming the file and result when a field cannot be read.
    """
    rows = _read(paths, symbol, "quotes")
    cols: dict[str, list[Any]] = {f.name: [] for f in NBBO_VENUES}
    seq: list[int | None] = []
    for f, k, result, sym in rows:
        where = f"{f}: result {k + 1}"
        ts = _time(result, where)
        option = sym.startswith("O:")
        lot = 1 if option or ts >= SHARES_SINCE_NS else _ROUND_LOT
        cols["symbol"].append(sym)
        cols["ts"].append(ts)
        for side in ("bid", "ask"):
            price = _number(result, f"{side}_price", where)
            size = _number(result, f"{side}_size", where)
            exchange = _int(result, f"{side}_exchange", where)
            if price is None or price <= 0 or size is None or size <= 0:
                price = size = exchange = None
            cols[side].append(price)
            cols[f"{side}_size"].append(None if size is None else int(size * lot))
            venue = None if exchange is None or option else POLYGON_EXCHANGES.get(exchange)
            cols[f"{side}_venue"].append(venue)
        seq.append(_int(result, "sequence_number", where))
    return _sorted_table(cols, NBBO_VENUES, seq)


def read_polygon_trades(paths: Sequence[str | Path], *, symbol: str | None = None) -> pa.Table:
    """Trades from v3 trades pages as ``TRADES``, in time order (sale conditions as their
    numeric codes, space-separated; corrections kept with their code)."""
    rows = _read(paths, symbol, "trades")
    cols: dict[str, list[Any]] = {f.name: [] for f in TRADES}
    seq: list[int | None] = []
    for f, k, result, sym in rows:
        where = f"{f}: result {k + 1}"
        price, size = _number(result, "price", where), _number(result, "size", where)
        if price is None or size is None:
            raise InputError(f"{where}: a trade needs a price and a size")
        exchange = _int(result, "exchange", where)
        trf = _int(result, "trf_id", where)
        if sym.startswith("O:"):
            venue = None
        elif exchange == _FINRA_FACILITY and trf in POLYGON_EXCHANGES and trf != exchange:
            venue = POLYGON_EXCHANGES[trf]
        else:
            venue = POLYGON_EXCHANGES.get(exchange) if exchange is not None else None
        conditions = result.get("conditions") or []
        if not isinstance(conditions, list):
            raise InputError(f"{where}: conditions {conditions!r} is not a list")
        cols["symbol"].append(sym)
        cols["ts"].append(_time(result, where))
        cols["venue"].append(venue)
        cols["price"].append(price)
        cols["size"].append(size)
        cols["conditions"].append(" ".join(str(c) for c in conditions) or None)
        cols["correction"].append(_int(result, "correction", where))
        seq.append(_int(result, "sequence_number", where))
    return _sorted_table(cols, TRADES, seq)
