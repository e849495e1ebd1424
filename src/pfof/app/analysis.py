"""Library entry points that join the store and the engine: broker comparison from stored
disclosures, the stored reports and which of them count, and Rule 606 reports built from a
broker's order logs.

The CLI's ``pfof brokers``, ``pfof reports``, ``pfof rule606 generate`` and
``pfof rule606 customer`` call these, so Python and the command line give the same numbers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pfof.errors import ParameterError

if TYPE_CHECKING:
    import duckdb

    from pfof.engine.broker_comparison import BrokerQuarter
    from pfof.model.reports606 import A1Cell, CustomerRoutingReport, HeldOrderRoutingReport
    from pfof.store.queries import StoredReport

__all__ = ["broker_quarters", "customer_report", "generate_606", "stored_reports"]

RoutesScope = Literal["first", "all"]


def broker_quarters(
    source: str | os.PathLike[str] | duckdb.DuckDBPyConnection | Iterable[A1Cell] | Any,
    *,
    broker: str | None = None,
    year: int | None = None,
    quarter: int | None = None,
) -> list[BrokerQuarter]:
    """Net payment for order flow per broker and quarter from Rule 606(a)(1) disclosures.

    ``source`` is a pfof store (a DuckDB file path or an open connection, as filled by
    :func:`pfof.ingest`) or the reported cells themselves (``A1Cell`` objects or an Arrow
    table of them). ``broker``, ``year`` and ``quarter`` narrow a store to those reports
    (``broker`` as the report spells it). Each :class:`BrokerQuarter` holds net payments by
    section and order type, payment-weighted rates (cents per 100 shares, per contract for
    options), the quarter-over-quarter change, implied volume, venue concentration and warnings;
    ``.to_json()`` gives the exact decimal strings of ``pfof brokers --json``.

    >>> import pfof
    >>> con = pfof.connect("pfof.duckdb")                 # doctest: +SKIP
    >>> pfof.ingest(["606-reports/"], con)                # doctest: +SKIP
    >>> [(q.broker, q.year, q.quarter, q.total_usd) for q in pfof.broker_quarters(con)]
    ... # doctest: +SKIP
    [('Charles Schwab', 2020, 1, Decimal('53577202.81')), ...]
    """
    import duckdb

    from pfof.engine.broker_comparison import broker_quarters as compare
    from pfof.store.queries import disclosure_cells
    from pfof.store.schema import connect

    if isinstance(source, duckdb.DuckDBPyConnection):
        cells = disclosure_cells(source, broker=broker, year=year, quarter=quarter)
    elif isinstance(source, str | os.PathLike):
        con = connect(Path(source), read_only=True)
        try:
            cells = disclosure_cells(con, broker=broker, year=year, quarter=quarter)
        finally:
            con.close()
    else:
        if broker is not None or year is not None or quarter is not None:
            raise ParameterError("broker, year and quarter filter a store, not given cells")
        cells = source
    return compare(cells)


def stored_reports(
    source: str | os.PathLike[str] | duckdb.DuckDBPyConnection, *, history: bool = False
) -> list[StoredReport]:
    """The reports in a pfof store and whether each counts, as ``pfof reports`` lists them.

    Every figure pfof sums comes from **current** reports: of the editions of one report
    (report type, broker, year and quarter, and for a FINRA bulk file the filer's CRD) the
    latest counts, by bulk-file version ``V<k>``, then ``<timestamp>``, then ingestion order.
    ``history`` adds the superseded editions and the duplicate files (the same report in
    another byte form, recorded but not stored again). Another filer's report identical to a
    current one (affiliated broker-dealers filing the same figures under their own CRD or
    name) is always listed, as ``affiliated``, and counts once, as the report it repeats.
    ``source`` is a store path (opened read-only) or an open connection. Each
    :class:`~pfof.store.queries.StoredReport` has its ``status`` (``current``,
    ``superseded``, ``duplicate``, ``affiliated``), path, identity and ``.to_json()``.

    >>> import pfof
    >>> pfof.ingest(["606-reports/"], "pfof.duckdb")               # doctest: +SKIP
    >>> [(r.broker, r.year, r.quarter, r.status) for r in pfof.stored_reports("pfof.duckdb")]
    ... # doctest: +SKIP
    [('Charles Schwab', 2020, 1, 'current'), ...]
    """
    import duckdb

    from pfof.store.queries import stored_reports as listing
    from pfof.store.schema import connect

    if isinstance(source, duckdb.DuckDBPyConnection):
        return listing(source, history=history)
    con = connect(Path(source), read_only=True)
    try:
        return listing(con, history=history)
    finally:
        con.close()


def generate_606(
    source: str | Path | duckdb.DuckDBPyConnection,
    broker: str,
    year: int,
    quarter: int,
    *,
    routes: RoutesScope = "first",
    all_venues: bool = False,
    timestamp: datetime | None = None,
) -> HeldOrderRoutingReport:
    """A broker's quarterly Rule 606(a)(1) report built from its order logs.

    ``source`` holds the canonical ``orders``, ``routes``, ``fills`` and ``arrangements``
    tables (a dataset folder as ``pfof simulate`` writes, a DuckDB file, or a connection).
    Routing shares and net payments are computed per month, section, order type and venue;
    ``routes="first"`` counts an order's first route (later ones are the venue routing it on),
    ``"all"`` every route. Only the top ten venues plus any with 5 % or more of the orders are
    listed unless ``all_venues``. Write it with :func:`pfof.write_606`.

    >>> import pfof
    >>> report = pfof.generate_606("market", "Demo Brokerage", 2026, 4)  # doctest: +SKIP
    >>> pfof.write_606(report, "Demo_2026Q4.xml")                      # doctest: +SKIP
    """
    from pfof.engine.generate606 import TOP_VENUES, held_order_routing_report, report_timestamp
    from pfof.model.market_time import quarter_bounds
    from pfof.store.order_logs import load_order_logs

    _check_scope(routes)
    first, last = quarter_bounds(year, quarter)
    tables = load_order_logs(source, broker=broker, start=first, end=last)
    return held_order_routing_report(
        tables,
        broker,
        year,
        quarter,
        routes_scope=routes,
        max_venues=None if all_venues else TOP_VENUES,
        timestamp=timestamp or report_timestamp(),
    )


def customer_report(
    source: str | Path | duckdb.DuckDBPyConnection,
    broker: str,
    customer: str,
    start: date | str,
    end: date | str,
    *,
    routes: RoutesScope = "all",
    timestamp: datetime | None = None,
) -> CustomerRoutingReport:
    """One customer's Rule 606(b)(1) report: every order received from ``start`` to ``end``
    (UTC dates, inclusive), the venues it was routed to and the time of each execution.

    ``source`` is as for :func:`generate_606`. Dates are ``date`` objects or ``YYYY-MM-DD``.

    >>> import pfof
    >>> report = pfof.customer_report(
    ...     "market", "Demo Brokerage", "C000042", "2026-10-01", "2026-10-31"
    ... )  # doctest: +SKIP
    >>> len(report.held or ())                                  # doctest: +SKIP
    17
    """
    from pfof.engine.generate606 import customer_routing_report, report_timestamp
    from pfof.model.market_time import as_date
    from pfof.store.order_logs import load_order_logs

    _check_scope(routes)
    first, last = as_date(start, "start"), as_date(end, "end")
    if last < first:
        raise ParameterError(f"end date {last} is before start date {first}")
    tables = load_order_logs(source, broker=broker, start=first, end=last, customer=customer)
    return customer_routing_report(
        tables,
        broker,
        customer,
        first,
        last,
        routes_scope=routes,
        timestamp=timestamp or report_timestamp(),
    )


def _check_scope(routes: str) -> None:
    if routes not in ("first", "all"):
        raise ParameterError(f"routes must be 'first' or 'all', got {routes!r}")
