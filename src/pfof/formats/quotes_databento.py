"""Databento DBN files (zstd-compressed or not) into ``QUOTES``, ``NBBO_VENUES`` or ``TRADES``,
decoded by the ``databento-dbn`` package.

Quote schemas: ``mbp-1`` (top of book after every event), ``tbbo`` (the book just before each
trade), ``bbo-1s``/``bbo-1m`` (the book sampled each second/minute), ``mbp-10`` (its top
level), and the consolidated ``cmbp-1``, ``tcbbo``, ``cbbo-1s``/``cbbo-1m``. Trade schemas:
``trades`` and the trade records of ``tbbo``, ``tcbbo`` and ``mbp-1``.

Mapping: prices are fixed-point integers of 1e-9 dollars; the price ``INT64_MAX``
(``UNDEF_PRICE``) marks an empty side, which becomes a missing side (null price and size),
never a price. The time is ``ts_recv`` (Databento's capture time, the index every schema
has; ``ts_event`` is undefined in ``bbo-1s``). The venue is the record's publisher
(``model.venue_codes.DATABENTO_VENUES``): a single exchange's feed (``XNAS.ITCH``) gives
per-venue quotes; a consolidated publisher (``EQUS.MINI``, ``EQUS.PLUS``, ...) or a
consolidated schema (``cmbp-1``, ``cbbo``) gives NBBO-shaped quotes, the venues at the best
bid and ask named when the schema says them. Symbols come from the file's symbology
(``instrument_id`` -> requested symbol, per UTC day) or its symbol-mapping records.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import databento_dbn as dbn
import numpy as np
import pyarrow as pa

from pfof.errors import InputError
from pfof.model.tables import NBBO_VENUES, QUOTES, TRADES, TS
from pfof.model.venue_codes import DATABENTO_CONSOLIDATED, DATABENTO_VENUES

__all__ = ["is_dbn", "read_databento_quotes", "read_databento_trades"]

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_DBN_MAGIC = b"DBN"
_CHUNK = 1 << 24
_UNDEF_PRICE = dbn.UNDEF_PRICE
_SCALE = float(dbn.FIXED_PRICE_SCALE)
_NS_PER_DAY = 86_400_000_000_000
#: Record classes whose book is consolidated across venues whatever their publisher.
_CONSOLIDATED_RECORDS = ("CMBP1Msg", "CBBOMsg")
#: Record classes whose ``price``/``size`` is a trade when ``action`` is ``T``.
_TRADE_ACTION_RECORDS = ("MBP1Msg", "MBP10Msg", "CMBP1Msg")


def is_dbn(head: bytes) -> bool:
    """True when a file's first bytes are DBN, or zstd (Databento's compression)."""
    return head.startswith(_DBN_MAGIC) or head.startswith(_ZSTD_MAGIC)


@dataclass(slots=True)
class _Records:
    """The decoded records of one file, as one structured numpy array per record class."""

    path: Path
    metadata: Any
    arrays: dict[str, tuple[np.ndarray, np.ndarray]]  # class -> (file positions, records)
    mappings: dict[int, str]  # from symbol-mapping records: instrument_id -> symbol


def _chunks(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                yield chunk
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}") from exc


def _decode(path: Path) -> _Records:
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if not is_dbn(head):
        raise InputError(f"{path}: not a Databento DBN file (no DBN or zstd header)")
    compression = dbn.Compression.from_str("zstd" if head.startswith(_ZSTD_MAGIC) else "none")
    decoder = dbn.DBNDecoder(compression=compression)
    metadata = None
    parts: dict[str, tuple[list[int], list[bytes], Any]] = {}
    mappings: dict[int, str] = {}
    position = 0
    try:
        for chunk in _chunks(path):
            for record in decoder.write_and_decode(chunk):
                if isinstance(record, dbn.Metadata):
                    metadata = record
                    continue
                if isinstance(record, dbn.SymbolMappingMsg):
                    mappings[record.instrument_id] = record.stype_out_symbol
                    continue
                name = type(record).__name__
                positions, blobs, _ = parts.setdefault(name, ([], [], type(record)))
                positions.append(position)
                blobs.append(bytes(record))
                position += 1
        if decoder.buffer():
            raise InputError(f"{path}: truncated: the last record is incomplete")
    except dbn.DBNError as exc:
        raise InputError(f"{path}: not a readable DBN file: {exc}") from exc
    if metadata is None:
        raise InputError(f"{path}: no DBN metadata header decoded (a truncated or empty file?)")
    arrays = {
        name: (
            np.array(positions, dtype=np.int64),
            np.frombuffer(b"".join(blobs), dtype=np.dtype(cls._dtypes)),
        )
        for name, (positions, blobs, cls) in parts.items()
    }
    return _Records(path, metadata, arrays, mappings)


def _symbols(records: _Records, instrument: np.ndarray, ts: np.ndarray) -> pa.Array:
    """The requested symbol of each record, by instrument id and UTC day."""
    out = np.full(len(instrument), None, dtype=object)
    day = ts // _NS_PER_DAY
    meta = records.metadata
    if str(meta.stype_out) == "instrument_id":
        for raw, intervals in (meta.mappings or {}).items():
            for interval in intervals:
                try:
                    iid = int(interval["symbol"])
                except (TypeError, ValueError):
                    continue
                start = interval["start_date"].toordinal() - 719_163
                end = interval["end_date"].toordinal() - 719_163
                hit = (instrument == iid) & (day >= start) & (day < end)
                out[hit] = raw
    for iid, symbol in records.mappings.items():
        out[(instrument == iid) & (out == None)] = symbol  # noqa: E711 (object array)
    if len(meta.symbols or []) == 1 and str(meta.stype_in) == "raw_symbol":
        out[out == None] = meta.symbols[0]  # noqa: E711
    missing = np.flatnonzero(out == None)  # noqa: E711
    if len(missing):
        raise InputError(
            f"{records.path}: record {int(missing[0]) + 1}: instrument_id "
            f"{int(instrument[missing[0]])} has no symbol in the file's symbology"
        )
    return pa.array(out, pa.string())


def _venue_of(records: _Records, publisher: np.ndarray) -> np.ndarray:
    """pfof venue code of each record's publisher; InputError for a publisher not known."""
    ids = np.unique(publisher)
    unknown = [int(p) for p in ids if int(p) not in DATABENTO_VENUES]
    if unknown:
        raise InputError(
            f"{records.path}: Databento publisher id {unknown[0]} (dataset "
            f"{records.metadata.dataset}) is not a US equity or options venue pfof knows"
        )
    table = np.array([DATABENTO_VENUES.get(i, "") for i in range(int(ids.max()) + 1)], dtype=object)
    return table[publisher]


def _prices(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dollars and the mask of the undefined-price sentinel."""
    undefined = raw == _UNDEF_PRICE
    return np.where(undefined, 0, raw).astype(np.float64) / _SCALE, undefined


def _concat(
    records: _Records, need: str, names: tuple[str, ...] = ()
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Positions, field arrays (in file order) and record-class names of the records whose
    class has the field ``need`` (and is one of ``names`` when given)."""
    chosen = [
        (n, pos, arr)
        for n, (pos, arr) in records.arrays.items()
        if need in (arr.dtype.names or ()) and (not names or n in names)
    ]
    if not chosen:
        return np.zeros(0, np.int64), {}, np.zeros(0, dtype=object)
    positions = np.concatenate([pos for _, pos, _ in chosen])
    order = np.argsort(positions, kind="stable")
    fields = {}
    for field in (
        "publisher_id",
        "instrument_id",
        "ts_recv",
        "price",
        "size",
        "action",
        "flags",
        "bid_px_00",
        "ask_px_00",
        "bid_sz_00",
        "ask_sz_00",
        "bid_pb_00",
        "ask_pb_00",
    ):
        if all(field in (arr.dtype.names or ()) for _, _, arr in chosen):
            fields[field] = np.concatenate([arr[field] for _, _, arr in chosen])[order]
    kinds = np.concatenate([np.full(len(pos), n, dtype=object) for n, pos, _ in chosen])[order]
    return positions[order], fields, kinds


def read_databento_quotes(path: str | Path) -> pa.Table:
    """Quotes of a DBN file: ``QUOTES`` (one exchange's book per publisher) or ``NBBO_VENUES``
    (a consolidated book); an empty side is a missing side.

    Raises :class:`~pfof.errors.InputError` naming the file when it is not DBN, holds no
    quote records, or mixes per-venue and consolidated books.
    """
    records = _decode(Path(path))
    _, f, kinds = _concat(records, "bid_px_00")
    if not f:
        raise InputError(
            f"{path}: no quote records (schema {records.metadata.schema}); expected mbp-1, "
            "tbbo, bbo-1s, bbo-1m, mbp-10, cmbp-1, tcbbo or cbbo"
        )
    ts = f["ts_recv"].astype(np.int64)
    venue = _venue_of(records, f["publisher_id"])
    consolidated = np.isin(kinds, _CONSOLIDATED_RECORDS) | np.isin(
        venue, list(DATABENTO_CONSOLIDATED)
    )
    if consolidated.any() and not consolidated.all():
        raise InputError(
            f"{path}: mixes one venue's quotes with consolidated ones; read them separately"
        )
    symbol = _symbols(records, f["instrument_id"], ts)
    bid, no_bid = _prices(f["bid_px_00"])
    ask, no_ask = _prices(f["ask_px_00"])
    columns: dict[str, pa.Array] = {
        "symbol": symbol,
        "ts": pa.array(ts, TS),
        "bid": pa.array(bid, mask=no_bid),
        "bid_size": pa.array(f["bid_sz_00"].astype(np.int64), mask=no_bid),
        "ask": pa.array(ask, mask=no_ask),
        "ask_size": pa.array(f["ask_sz_00"].astype(np.int64), mask=no_ask),
    }
    if not consolidated.all():
        columns["venue"] = pa.array(venue, pa.string())
        return pa.table([columns[c.name] for c in QUOTES], schema=QUOTES)
    for side, missing in (("bid", no_bid), ("ask", no_ask)):
        key = f"{side}_pb_00"
        if key in f:
            names = _venue_of(records, f[key])
            known = ~np.isin(names, list(DATABENTO_CONSOLIDATED)) & ~missing
            columns[f"{side}_venue"] = pa.array(names, pa.string(), mask=~known)
        else:
            columns[f"{side}_venue"] = pa.nulls(len(ts), pa.string())
    return pa.table([columns[c.name] for c in NBBO_VENUES], schema=NBBO_VENUES)


def read_databento_trades(path: str | Path) -> pa.Table:
    """Trades of a DBN file (``trades`` records, and ``T`` actions of book schemas) as
    ``TRADES``; the venue is the publisher's MIC, null for a consolidated publisher."""
    records = _decode(Path(path))
    _, f, _ = _concat(records, "action", ("TradeMsg", *_TRADE_ACTION_RECORDS))
    if f:
        keep = f["action"] == b"T"
        f = {k: v[keep] for k, v in f.items()}
    if not f or not len(f["ts_recv"]):
        raise InputError(
            f"{path}: no trade records (schema {records.metadata.schema}); expected trades, "
            "tbbo, tcbbo or mbp-1"
        )
    ts = f["ts_recv"].astype(np.int64)
    venue = _venue_of(records, f["publisher_id"])
    consolidated = np.isin(venue, list(DATABENTO_CONSOLIDATED))
    price, undefined = _prices(f["price"])
    n = len(ts)
    table = pa.table(
        [
            _symbols(records, f["instrument_id"], ts),
            pa.array(ts, TS),
            pa.array(venue, pa.string(), mask=consolidated),
            pa.array(price, mask=undefined),
            pa.array(f["size"].astype(np.float64)),
            pa.nulls(n, pa.string()),
            pa.nulls(n, pa.int32()),
        ],
        schema=TRADES,
    )
    return table
