"""Auditing an investor's trades: the trades file and market data in, per-trade figures out.

:func:`audit` reads the trades (:func:`pfof.formats.trades.read_trades`) and the quote
sources (``pfof.read_quotes``; per-venue quotes are consolidated into one NBBO by
:func:`pfof.engine.nbbo.quotes_to_nbbo`, consolidated sources are taken as they are), loads
the broker's Rule 606(a)(1) cells from a store when one is given, and runs
:func:`pfof.engine.trade_audit.audit_trades`. The result is typed (:class:`AuditResult`) and
prints nothing; ``pfof audit`` and the web dashboard call this, so the command line, Python
and the browser give the same numbers.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pfof.errors import InputError, Issue, ParameterError, PfofError
from pfof.model.money import money_str, round_half_up

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from pfof.engine.order_payment import PaymentRateBook
    from pfof.engine.trade_audit import AuditSummary, TradeAudit
    from pfof.formats.market_data import MarketDataFormat
    from pfof.formats.trades import Format, TradesSource

__all__ = ["AUDIT_CSV_COLUMNS", "AUDIT_JSON_KEYS", "AuditResult", "QuoteSource", "audit"]

#: A quote file (path) for ``read_quotes``, or a table already in the canonical ``quotes``
#: (per venue, with a ``venue`` column) or ``nbbo`` shape.
QuoteSource = str | os.PathLike[str] | Any
#: Places of the ratios (E/Q, price improvement per PFOF dollar) in JSON and CSV.
RATIO_PLACES = 6

#: Places of ``vol_points_cost`` (volatility points) in JSON and CSV.
VOL_POINTS_PLACES = 6

#: Per-trade keys of :meth:`AuditResult.to_json`, in order (the issue's list, the options'
#: ``vol_points_cost``, then ``flags``).
AUDIT_JSON_KEYS = (
    "trade_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "quote_time",
    "nbbo_bid",
    "nbbo_ask",
    "quote_age_ms",
    "position",
    "price_improvement_per_share",
    "price_improvement_usd",
    "effective_spread",
    "eq_ratio",
    "pfof_estimate_usd",
    "vol_points_cost",
    "flags",
)
#: Columns of :meth:`AuditResult.to_csv`: the JSON keys plus what explains the estimate.
AUDIT_CSV_COLUMNS = (
    *AUDIT_JSON_KEYS[:-1],
    "section",
    "order_type",
    "price_improvement_per_contract",
    "broker",
    "venue",
    "pfof_rate",
    "pfof_basis",
    "pfof_venue",
    "line",
    "flags",
)


def _exact(value: Decimal | None) -> str | None:
    """A decimal as plain text without trailing zeros (``10``, ``0.5``), ``None`` kept."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else _exact(round_half_up(value, RATIO_PLACES))


def iso_ns(ts_ns: int | None) -> str | None:
    """A UTC nanosecond time as ISO 8601 with all nine fraction digits and ``Z``."""
    if ts_ns is None:
        return None
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{nanos:09d}Z"


def _vol_points(trade: TradeAudit) -> float | None:
    cost = trade.vol_points_cost
    return None if cost is None else round(cost, VOL_POINTS_PLACES) + 0.0  # no -0.0


def _age_ms(trade: TradeAudit) -> float | None:
    age = trade.quote_age_ns
    return None if age is None else float(Decimal(age) / 1_000_000)


@dataclass
class AuditResult:
    """What :func:`audit` found: one :class:`~pfof.engine.trade_audit.TradeAudit` per trade
    read, their :class:`~pfof.engine.trade_audit.AuditSummary`, the rows of the trades file
    that could not be read (``issues``) and notes on what the figures rest on."""

    source: str
    trades: list[TradeAudit]
    summary: AuditSummary
    issues: tuple[Issue, ...] = ()
    notes: list[str] = field(default_factory=list)
    quote_sources: list[str] = field(default_factory=list)

    def trade_json(self, trade: TradeAudit) -> dict[str, Any]:
        """One trade as the JSON object of ``pfof audit --json``."""
        return {
            "trade_id": trade.trade_id,
            "symbol": trade.symbol,
            "side": trade.side,
            "quantity": _exact(trade.quantity),
            "price": money_str(trade.price),
            "quote_time": iso_ns(trade.quote_ts),
            "nbbo_bid": money_str(trade.nbbo_bid),
            "nbbo_ask": money_str(trade.nbbo_ask),
            "quote_age_ms": _age_ms(trade),
            "position": trade.position.value,
            "price_improvement_per_share": money_str(trade.price_improvement_per_share),
            "price_improvement_usd": money_str(trade.price_improvement_usd),
            "effective_spread": money_str(trade.effective_spread),
            "eq_ratio": _ratio(trade.eq_ratio),
            "pfof_estimate_usd": money_str(trade.pfof_estimate_usd),
            "vol_points_cost": _vol_points(trade),
            "flags": [f.value for f in trade.flags],
        }

    def summary_json(self) -> dict[str, Any]:
        """The ``summary`` object of ``pfof audit --json``."""
        s = self.summary
        return {
            "trades": s.trades,
            "with_quote": s.with_quote,
            "total_price_improvement_usd": money_str(s.total_price_improvement_usd),
            "total_pfof_estimate_usd": money_str(s.total_pfof_estimate_usd),
            "price_improvement_per_pfof_dollar": _ratio(s.price_improvement_per_pfof_dollar),
        }

    def to_json(self) -> dict[str, Any]:
        """``{"trades": [...], "summary": {...}}``: money as exact decimal strings, ratios
        rounded half-up to 6 places, ``quote_age_ms`` and ``vol_points_cost`` (rounded to 6
        places) numbers, ``null`` where undefined."""
        return {
            "trades": [self.trade_json(t) for t in self.trades],
            "summary": self.summary_json(),
        }

    def to_csv(self) -> str:
        """One CSV row per trade (:data:`AUDIT_CSV_COLUMNS`); flags joined with ``;``."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(AUDIT_CSV_COLUMNS)
        for trade in self.trades:
            row = self.trade_json(trade)
            row.update(
                section=trade.section.value,
                order_type=None if trade.order_type is None else trade.order_type.value,
                price_improvement_per_contract=money_str(trade.price_improvement_per_contract),
                broker=trade.broker,
                venue=trade.venue,
                pfof_rate=_exact(
                    None if trade.pfof_rate is None else round_half_up(trade.pfof_rate, 4)
                ),
                pfof_basis=trade.pfof_basis,
                pfof_venue=trade.pfof_venue,
                line=trade.line,
                flags=";".join(row["flags"]),
            )
            writer.writerow(["" if row[c] is None else row[c] for c in AUDIT_CSV_COLUMNS])
        return out.getvalue()

    def write_html(self, path: str | Path, *, title: str | None = None) -> Path:
        """The self-contained HTML report of the audit (works offline); returns the path."""
        from pfof.reports.audit_html import AuditReport, write_audit_html

        report = AuditReport(
            title=title or f"Trade audit: {Path(self.source).name}",
            trades=self.trades,
            summary=self.summary,
            notes=[*self.notes, *(str(i) for i in self.issues)],
            sources=[self.source, *self.quote_sources],
        )
        return write_audit_html(report, path)


def _source_label(source: Any) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return f"<{type(source).__name__}>"


def _quote_tables(
    sources: Sequence[QuoteSource],
    *,
    format: str | None,
    tz: str | None,
    columns: Any,
    symbol: str | None,
) -> Iterator[tuple[str, pa.Table]]:
    """(label, table) of each source: tables as given, files through ``read_quotes``.

    Polygon/Massive pages are read together, so that a later page without a ticker takes it
    from the first page's ``next_url``.
    """
    import pyarrow as pa

    from pfof.formats.market_data import detect_format, read_quotes

    pages: list[Path] = []
    for source in sources:
        if isinstance(source, pa.Table):
            yield _source_label(source), source
        elif hasattr(source, "to_arrow") and not isinstance(source, str | os.PathLike):
            yield _source_label(source), source.to_arrow()  # a Polars DataFrame
        else:
            path = Path(source)
            if format in (None, "polygon") and path.is_file() and detect_format(path) == "polygon":
                pages.append(path)
                continue
            fmt = cast("MarketDataFormat | None", format)  # read_quotes checks the name
            table = read_quotes(path, format=fmt, tz=tz, columns=columns, symbol=symbol)
            yield str(path), table
    if pages:
        yield str(pages[0]), read_quotes(pages, format="polygon", tz=tz, symbol=symbol)


def _load_quotes(
    sources: Sequence[QuoteSource],
    *,
    format: str | None,
    tz: str | None,
    columns: Any,
    symbol: str | None,
) -> tuple[pa.Table, dict[str, int], list[str]]:
    """(NBBO, last time the data covers per symbol, notes) from every quote source together.

    A symbol's data ends with the last record of the sources that quote it: a trade later
    than that is outside the data, whatever other sources cover.

    Per-venue sources are concatenated and consolidated once (a symbol quoted on venues
    spread over several files gets one NBBO); consolidated sources are appended as they are.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from pfof.engine.nbbo import quotes_to_nbbo
    from pfof.model.tables import NBBO, QUOTES

    kinds: dict[bool, list[pa.Table]] = {True: [], False: []}  # per venue?
    for label, table in _quote_tables(
        sources, format=format, tz=tz, columns=columns, symbol=symbol
    ):
        per_venue = "venue" in table.column_names
        schema = QUOTES if per_venue else NBBO
        missing = [c for c in schema.names if c not in table.column_names]
        if missing:
            raise InputError(
                f"{label}: quotes lack column(s) {', '.join(missing)}; "
                f"expected {', '.join(schema.names)}"
            )
        kinds[per_venue].append(table.select(schema.names).cast(schema))
    ends: dict[str, int] = {}  # symbol -> the last time its sources cover
    for table in kinds[True] + kinds[False]:
        if table.num_rows:
            end = pc.max(table.column("ts").cast(pa.int64())).as_py()
            for name in pc.unique(table.column("symbol")).to_pylist():
                ends[name] = max(end, ends.get(name, end))
    try:
        parts = [quotes_to_nbbo(pa.concat_tables(group)) for group in kinds.values() if group]
    except PfofError:
        raise
    except ValueError as exc:  # a table given in Python with a null key, say ("quotes: ...")
        raise InputError(str(exc)) from exc
    nbbo = pa.concat_tables(parts) if parts else NBBO.empty_table()
    notes: list[str] = []
    if len(parts) == 2:
        per_venue_symbols, consolidated_symbols = (
            set(pc.unique(p.column("symbol")).to_pylist()) for p in parts
        )
        both = per_venue_symbols & consolidated_symbols
        if both:
            notes.append(
                f"{', '.join(sorted(both))}: quoted both per venue and as a consolidated NBBO; "
                "the latest row of either is taken as the NBBO"
            )
    return nbbo, ends, notes


def _rate_book(
    db: str | os.PathLike[str] | duckdb.DuckDBPyConnection, quarters: Iterable[tuple[int, int]]
) -> PaymentRateBook:
    import duckdb
    import pyarrow as pa

    from pfof.engine.order_payment import PaymentRateBook
    from pfof.store.queries import disclosure_cells
    from pfof.store.schema import connect

    def cells(con: duckdb.DuckDBPyConnection) -> pa.Table:
        tables = [disclosure_cells(con, year=y, quarter=q) for y, q in sorted(set(quarters))]
        return pa.concat_tables(tables)

    if isinstance(db, duckdb.DuckDBPyConnection):
        return PaymentRateBook(cells(db))
    path = Path(db)
    if not path.exists():
        raise InputError(
            f"{path}: no such store; fill one with pfof ingest 606-REPORTS --db {path}"
        )
    con = connect(path, read_only=True)
    try:
        return PaymentRateBook(cells(con))
    finally:
        con.close()


def _symbols(sp500: str | os.PathLike[str] | Iterable[str] | None) -> frozenset[str] | None:
    if sp500 is None:
        return None
    if isinstance(sp500, str | os.PathLike):
        from pfof.formats.trades import read_symbols

        return read_symbols(sp500)
    return frozenset(sp500)


def audit(
    trades: TradesSource,
    quotes: QuoteSource | Sequence[QuoteSource],
    *,
    tz: str | None = None,
    columns: dict[str, str] | str | None = None,
    trades_format: Format | None = None,
    quotes_format: str | None = None,
    quotes_tz: str | None = None,
    quotes_columns: dict[str, str] | str | None = None,
    quotes_symbol: str | None = None,
    db: str | os.PathLike[str] | duckdb.DuckDBPyConnection | None = None,
    sp500: str | os.PathLike[str] | Iterable[str] | None = None,
    broker: str | None = None,
    max_quote_age_s: float | None = None,
    name: str | None = None,
    rate: float | None = None,
    dividend_yield: float | None = None,
) -> AuditResult:
    """Audit an investor's trades against the NBBO and the broker's 606 disclosures.

    ``trades``: the trades file (path, bytes or open file) in the template of docs/audit.md;
    ``tz`` and ``columns`` read its times without offset and another layout
    (``"symbol=Ticker,..."``), ``name`` names in-memory bytes. ``quotes``: one or several
    market-data files (Databento DBN, Polygon JSON, TAQ or any CSV/Parquet; ``quotes_format``,
    ``quotes_tz``, ``quotes_columns`` and ``quotes_symbol`` as for ``read_quotes``) or
    canonical Arrow tables.
    ``db``: a store holding the broker's Rule 606(a)(1) reports (``pfof ingest``), for the
    payment estimate; ``broker`` names the broker of rows that name none. ``sp500``: the
    S&P 500 symbols (a file, one per line, or an iterable), which 606 reports apart from
    other stocks; without it stocks count as "other stocks" and are flagged.
    ``max_quote_age_s``: a quote older than this is not used (``no_quote``, flagged).
    ``rate`` and ``dividend_yield``: the continuous annual risk-free rate and dividend yield
    that price option trades' cost in volatility points (``vol_points_cost``; defaults
    :data:`~pfof.engine.trade_audit.DEFAULT_RATE` 0.045 and 0), measured when the quotes
    hold the underlying's NBBO at the trade's time too.

    Unreadable rows of the trades file are left out and listed in ``issues``; a trade whose
    symbol or time the quotes do not cover is kept as ``no_quote``.

    >>> import pfof
    >>> result = pfof.audit("trades.csv", ["quotes_page1.json"], db="pfof.duckdb",
    ...                     broker="Charles Schwab")                     # doctest: +SKIP
    >>> result.summary.with_quote, result.to_json()["summary"]["total_price_improvement_usd"]
    ... # doctest: +SKIP
    (3, '2.00')
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from pfof.engine.trade_audit import (
        DEFAULT_DIVIDEND_YIELD,
        DEFAULT_RATE,
        audit_trades,
        market_date,
        summarise_audit,
    )
    from pfof.formats.trades import read_trades
    from pfof.model.market_time import year_quarter

    if max_quote_age_s is not None and not (max_quote_age_s >= 0):
        raise ParameterError(f"max_quote_age_s must be a number >= 0, got {max_quote_age_s}")
    for label, value in (("rate", rate), ("dividend_yield", dividend_yield)):
        if value is not None and not (-1 < value < 1):
            raise ParameterError(
                f"{label} must be a continuous annual rate between -1 and 1 (0.045 = 4.5%), "
                f"got {value}"
            )
    read = read_trades(trades, format=trades_format, tz=tz, columns=columns, name=name)
    if read.table.num_rows == 0:
        first = f"; first problem: {read.issues[0]}" if read.issues else ""
        raise InputError(f"{read.source}: no trade could be read{first}")
    if isinstance(quotes, str | os.PathLike) or not isinstance(quotes, Sequence):
        quotes = [quotes]
    if not quotes:
        raise ParameterError("no quote source given; pass at least one (--quotes FILE)")
    nbbo, data_end, notes = _load_quotes(
        quotes, format=quotes_format, tz=quotes_tz, columns=quotes_columns, symbol=quotes_symbol
    )
    rates = None
    if db is not None:
        times = pc.coalesce(read.table.column("order_ts"), read.table.column("execution_ts"))
        quarters = {year_quarter(market_date(t)) for t in times.cast(pa.int64()).to_pylist()}
        rates = _rate_book(db, quarters)
    else:
        notes.append("no store of 606 reports given (--db): no payment estimates")
    members = _symbols(sp500)
    measured = audit_trades(
        read.table,
        nbbo,
        data_end_ns=data_end,
        max_quote_age_ns=None if max_quote_age_s is None else int(max_quote_age_s * 1e9),
        sp500=members,
        rates=rates,
        broker=broker,
        rate=DEFAULT_RATE if rate is None else rate,
        dividend_yield=DEFAULT_DIVIDEND_YIELD if dividend_yield is None else dividend_yield,
    )
    if rates is not None and members is None:
        notes.append(
            "no S&P 500 list given (--sp500): stocks are priced at 606's 'other stocks' rates "
            "(flag section_assumed)"
        )
    return AuditResult(
        source=read.source,
        trades=measured,
        summary=summarise_audit(measured),
        issues=read.issues,
        notes=notes,
        quote_sources=[_source_label(q) for q in quotes],
    )
