"""Market data in: one entry point for quotes (:func:`read_quotes`) and tape trades
(:func:`read_tape_trades`) that tells the source's format and calls its reader.

Formats (``format=``): ``databento`` (DBN, zstd or not: :mod:`.quotes_databento`),
``polygon`` (v3 REST JSON pages: :mod:`.quotes_polygon`), ``taq`` (per-exchange TAQ
layouts: :mod:`.quotes_taq`) and ``table`` (any CSV or Parquet through a column map:
:mod:`.quotes_table`). Without ``format`` the format is told by content: the DBN or zstd
magic number, JSON, then a CSV/Parquet's columns (TAQ's ``EX``/``BID``/... or canonical
names); ``columns=`` implies ``table``.

What comes back: per-venue quotes as ``QUOTES`` (TAQ, one exchange's Databento feed, a table
with a venue column), consolidated quotes as ``NBBO_VENUES`` (Polygon's NBBO, Databento's
consolidated BBO, a table without venue column). ``engine.nbbo.quotes_to_nbbo`` turns either
into the NBBO. Times are UTC nanoseconds; prices dollars; sizes shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import pyarrow as pa

from pfof.errors import InputError, ParameterError
from pfof.formats import quotes_databento, quotes_polygon, quotes_table, quotes_taq
from pfof.model.tables import NBBO_VENUES, QUOTES, TRADES

__all__ = ["FORMATS", "MarketDataFormat", "detect_format", "read_quotes", "read_tape_trades"]

MarketDataFormat = Literal["databento", "polygon", "taq", "table"]
FORMATS: tuple[str, ...] = ("databento", "polygon", "taq", "table")

Source = str | Path | Sequence[str | Path]
_SUFFIXES = (".dbn", ".zst", ".json", ".csv", ".gz", ".parquet", ".pq")


def _paths(source: Source) -> list[Path]:
    """The files of ``source``: a file, a folder (its files with a market-data suffix, sorted)
    or a sequence of these."""
    items = [source] if isinstance(source, str | Path) else list(source)
    if not items:
        raise ParameterError("no market-data file given")
    out: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in _SUFFIXES)
            if not found:
                raise InputError(
                    f"{path}: a folder without market-data files ({', '.join(_SUFFIXES)})"
                )
            out.extend(found)
        elif not path.exists():
            raise InputError(f"{path}: no such file")
        else:
            out.append(path)
    return out


def detect_format(path: str | Path) -> MarketDataFormat:
    """The format of one market-data file, told by its content (then its columns).

    Raises :class:`~pfof.errors.InputError` naming the file when it is none pfof reads.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    if quotes_databento.is_dbn(head):
        return "databento"
    if head.lstrip()[:1] in (b"{", b"["):
        return "polygon"
    table, _ = quotes_table.load_table(path)
    if quotes_taq.is_taq(table.column_names):
        return "taq"
    names = {c.lower() for c in table.column_names}
    if {"bid", "ask"} <= names or {"price", "size"} <= names:
        return "table"
    raise InputError(
        f"{path}: not a market-data layout pfof recognises (columns "
        f"{', '.join(table.column_names)}); pass format='table' with a column map "
        "(--map bid=BidPx,ask=AskPx,...)"
    )


def _check_format(format: str | None, columns: object) -> str | None:
    if format is not None and format not in FORMATS:
        raise ParameterError(
            f"unknown market-data format {format!r}; expected one of {', '.join(FORMATS)}"
        )
    if columns is not None and format not in (None, "table"):
        raise ParameterError(f"a column map is for format 'table', not {format!r}")
    return "table" if columns is not None else format


def _concat(tables: list[pa.Table], paths: list[Path]) -> pa.Table:
    kinds = {t.schema.names == QUOTES.names for t in tables}
    if len(kinds) > 1:
        per_venue = [str(p) for p, t in zip(paths, tables, strict=True) if t.schema.equals(QUOTES)]
        raise InputError(
            f"{', '.join(per_venue)}: per-venue quotes mixed with consolidated quotes from other "
            "files; read them separately (an NBBO cannot be rebuilt from both)"
        )
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def read_quotes(
    source: Source,
    *,
    format: MarketDataFormat | None = None,
    tz: str | None = None,
    columns: str | Mapping[str, str] | None = None,
    symbol: str | None = None,
) -> pa.Table:
    """Quotes from market-data files: per-venue ``QUOTES`` or consolidated ``NBBO_VENUES``.

    ``source`` is a file, a folder or a list of them, all per-venue or all consolidated.
    ``format`` is told from the content when not given (``databento``, ``polygon``, ``taq``,
    ``table``). ``tz`` is the zone of times written without one (refused without it, except
    TAQ's documented default); ``columns`` maps canonical columns to a CSV/Parquet's own
    (``"bid=BidPx,ask=AskPx"``); ``symbol`` names the symbol of a source that has none
    (Polygon pages, a one-symbol CSV). ``pfof.quotes_to_nbbo`` turns the result into the NBBO.

    >>> import pfof
    >>> quotes = pfof.read_quotes("sampleQDataRaw.parquet")  # doctest: +SKIP
    >>> quotes.column_names  # doctest: +SKIP
    ['symbol', 'ts', 'venue', 'bid', 'bid_size', 'ask', 'ask_size']
    >>> pfof.quotes_to_nbbo(quotes).num_rows  # doctest: +SKIP
    26871

    Raises :class:`~pfof.errors.InputError` naming the file (and line, field or record) that
    cannot be read and what was expected, and :class:`~pfof.errors.ParameterError` for an
    unknown format, zone or column-map key.
    """
    paths = _paths(source)
    fmt = _check_format(format, columns)
    quotes_table.check_zone(tz)
    formats = [fmt or detect_format(p) for p in paths]
    tables: list[pa.Table] = []
    order: list[Path] = []
    polygon = [p for p, f in zip(paths, formats, strict=True) if f == "polygon"]
    if polygon:
        tables.append(quotes_polygon.read_polygon_quotes(polygon, symbol=symbol))
        order.append(polygon[0])
    for path, f in zip(paths, formats, strict=True):
        if f == "databento":
            tables.append(quotes_databento.read_databento_quotes(path))
        elif f == "taq":
            tables.append(quotes_taq.read_taq_quotes(path, tz=tz))
        elif f == "table":
            tables.append(
                quotes_table.read_quote_table(path, columns=columns, tz=tz, symbol=symbol)
            )
        else:
            continue
        order.append(path)
    table = _concat(tables, order)
    assert table.schema.equals(QUOTES) or table.schema.equals(NBBO_VENUES)
    return table


def read_tape_trades(
    source: Source,
    *,
    format: MarketDataFormat | None = None,
    tz: str | None = None,
    columns: str | Mapping[str, str] | None = None,
    symbol: str | None = None,
) -> pa.Table:
    """Trades printed on the tape (every participant's, not an investor's own) as ``TRADES``,
    from the same formats and with the same arguments as :func:`read_quotes`.

    >>> from pfof.formats.market_data import read_tape_trades
    >>> read_tape_trades("trades_v3_AAPL_limit2.json", symbol="AAPL").num_rows  # doctest: +SKIP
    2
    """
    paths = _paths(source)
    fmt = _check_format(format, columns)
    quotes_table.check_zone(tz)
    formats = [fmt or detect_format(p) for p in paths]
    tables: list[pa.Table] = []
    polygon = [p for p, f in zip(paths, formats, strict=True) if f == "polygon"]
    if polygon:
        tables.append(quotes_polygon.read_polygon_trades(polygon, symbol=symbol))
    for path, f in zip(paths, formats, strict=True):
        if f == "databento":
            tables.append(quotes_databento.read_databento_trades(path))
        elif f == "taq":
            tables.append(quotes_taq.read_taq_trades(path, tz=tz))
        elif f == "table":
            tables.append(
                quotes_table.read_trade_table(path, columns=columns, tz=tz, symbol=symbol)
            )
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    assert table.schema.equals(TRADES)
    return table
