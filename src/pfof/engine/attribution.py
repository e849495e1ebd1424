"""Per-order payment for order flow: which arrangement paid how much for each order.

Each fill executed by a venue the broker routed the order to is priced under the broker's
arrangement with that venue (``arrangements``: per share, per contract, or a fraction of the
NBBO quoted spread at receipt) in force on the fill's trading day, and rounded **per fill** to
the micro-dollar, half away from zero, as a venue's statement would be. The per-fill amounts
are summed per order, venue and month. Summed per (broker, venue, month, section, order type)
they are the ``payments`` table when the payments follow the arrangements; :func:`reconcile`
shows any difference. All money is integer micro-dollars until it is written as
``DECIMAL(26, 6)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import duckdb
import pyarrow as pa

from pfof.model.market_time import MARKET_TZ
from pfof.model.tables import (
    ARRANGEMENTS,
    FILLS,
    MONEY,
    NBBO,
    ORDERS,
    PAYMENTS,
    ROUTES,
    with_optional_columns,
)

#: Which routes of an order are the broker's own routing decisions.
#: ``first``: the order's first route (lowest ``seq``); later routes are taken to be the
#: receiving venue routing the order on (as the simulator's wholesalers do), which the
#: broker does not report and is not paid for. ``all``: every route is the broker's.
RoutesScope = Literal["first", "all"]

ATTRIBUTION = pa.schema(
    [
        ("order_id", pa.string()),
        ("broker", pa.string()),
        ("customer_id", pa.string()),
        ("venue", pa.string()),
        ("month", pa.date32()),  # first day of the month of the fills (trading day, New York)
        ("section", pa.string()),
        ("order_type", pa.string()),
        ("directed", pa.bool_()),
        ("held", pa.bool_()),
        ("basis", pa.string()),  # model.enums.PaymentBasis of the arrangement applied
        ("rate", pa.decimal128(18, 8)),
        ("quantity", pa.float64()),  # shares (contracts) of the paid fills
        ("fills", pa.int64()),
        ("amount", MONEY),  # USD, positive = paid by the venue to the broker
    ]
)

RECONCILIATION = pa.schema(
    [
        ("broker", pa.string()),
        ("venue", pa.string()),
        ("month", pa.date32()),
        ("section", pa.string()),
        ("order_type", pa.string()),
        ("attributed", MONEY),  # null when no order was attributed to the cell
        ("paid", MONEY),  # null when the payments table has no row for the cell
        ("difference", MONEY),  # paid - attributed (nulls as 0)
    ]
)


def as_arrow(table: Any, name: str, schema: pa.Schema | None = None) -> pa.Table:
    """An Arrow table from an Arrow table, a Polars DataFrame or a DuckDB relation,
    restricted to (and cast to) ``schema``'s columns when given."""
    if isinstance(table, pa.Table):
        out = table
    elif hasattr(table, "to_arrow_table"):  # DuckDB relation
        out = table.to_arrow_table()
    elif hasattr(table, "to_arrow"):  # Polars DataFrame
        out = table.to_arrow()
    else:
        raise TypeError(
            f"{name}: expected an Arrow table, Polars DataFrame or DuckDB relation, "
            f"got {type(table).__name__}"
        )
    if schema is None:
        return out
    out = with_optional_columns(out, schema)  # columns older tables predate
    missing = [c for c in schema.names if c not in out.column_names]
    if missing:
        raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")
    try:
        return out.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"{name}: columns do not match the canonical schema: {exc}") from exc


def broker_routes_sql(scope: RoutesScope) -> str:
    """SQL selecting the broker's (order_id, venue) routing pairs from ``routes``."""
    if scope == "first":
        return (
            "SELECT order_id, venue, quantity, routed_ts FROM routes "
            "QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY seq) = 1"
        )
    if scope == "all":
        return "SELECT order_id, venue, quantity, routed_ts FROM routes"
    raise ValueError(f"routes scope must be 'first' or 'all', got {scope!r}")


def _half_away(num: str, divisor: str) -> str:
    return f"sign({num}) * ((abs({num}) + {divisor} // 2) // {divisor})"


def payment_attribution(
    orders: Any,
    routes: Any,
    fills: Any,
    arrangements: Any,
    nbbo: Any | None = None,
    *,
    routes_scope: RoutesScope = "first",
) -> pa.Table:
    """The ``ATTRIBUTION`` table: one row per order, paying venue, month and arrangement.

    ``nbbo`` is needed only when an arrangement pays a fraction of the quoted spread (the
    spread at receipt: the last NBBO at or before ``received_ts`` on the same trading day;
    none, or a one-sided or crossed quote, pays 0). Fills at venues without an arrangement
    in force are not attributed. Rows are sorted by order, month and venue.
    """
    con = duckdb.connect()
    try:
        con.register("orders", as_arrow(orders, "orders", ORDERS))
        con.register("routes", as_arrow(routes, "routes", ROUTES))
        con.register("fills", as_arrow(fills, "fills", FILLS))
        arr = as_arrow(arrangements, "arrangements", ARRANGEMENTS)
        con.register("arrangements", arr)
        spread_needed = "spread_fraction" in set(arr.column("basis").to_pylist())
        if spread_needed and nbbo is None:
            raise ValueError("arrangements pay a fraction of the quoted spread: pass the nbbo")
        if spread_needed:
            con.register("nbbo", as_arrow(nbbo, "nbbo", NBBO))
            spread = f"""
                SELECT o.order_id,
                  CASE WHEN n.bid IS NULL OR n.ask IS NULL OR n.ask <= n.bid THEN 0::HUGEINT
                       ELSE CAST(round((n.ask - n.bid) * 1e6) AS HUGEINT) END AS spread_micro
                FROM (SELECT order_id, symbol, received_ts,
                        CAST(timezone('{MARKET_TZ}', received_ts) AS DATE) AS day
                      FROM orders WHERE order_id IN (SELECT order_id FROM paid)) o
                ASOF LEFT JOIN (SELECT *, CAST(timezone('{MARKET_TZ}', ts) AS DATE) AS day
                                FROM nbbo) n
                  ON o.symbol = n.symbol AND o.day = n.day AND o.received_ts >= n.ts
            """
        else:
            spread = "SELECT order_id, 0::HUGEINT AS spread_micro FROM orders WHERE false"
        per_unit = _half_away("rate_e8 * qty_micro", "100000000::HUGEINT")
        fraction = _half_away(
            "rate_e8 * coalesce(s.spread_micro, 0) * qty_micro * mult", "100000000000000::HUGEINT"
        )
        sql = f"""
        WITH broker_routes AS (
          SELECT DISTINCT order_id, venue FROM ({broker_routes_sql(routes_scope)})),
        paid AS (
          SELECT f.order_id, f.venue, o.broker, o.customer_id, o.section, o.order_type,
                 o.directed, o.held, f.quantity,
                 CAST(timezone('{MARKET_TZ}', f.exec_ts) AS DATE) AS day,
                 CAST(round(f.quantity * 1e6) AS HUGEINT) AS qty_micro,
                 CASE WHEN o.section = 'options' THEN 100 ELSE 1 END::HUGEINT AS mult
          FROM fills f
          JOIN broker_routes r ON r.order_id = f.order_id AND r.venue = f.venue
          JOIN orders o ON o.order_id = f.order_id
        ),
        spread AS ({spread}),
        priced AS (
          SELECT p.*, a.basis, a.rate, CAST(a.rate * 100000000 AS HUGEINT) AS rate_e8
          FROM paid p JOIN arrangements a
            ON a.broker = p.broker AND a.venue = p.venue AND a.section = p.section
           AND a.order_type = p.order_type AND a.valid_from <= p.day
           AND (a.valid_to IS NULL OR p.day <= a.valid_to)
        ),
        money AS (
          SELECT p.*,
            CASE WHEN p.basis = 'spread_fraction' THEN {fraction} ELSE {per_unit} END AS micro
          FROM priced p LEFT JOIN spread s ON s.order_id = p.order_id
        )
        SELECT order_id, broker, customer_id, venue, date_trunc('month', day)::DATE AS month,
               section, order_type, directed, held, basis, rate,
               sum(quantity) AS quantity, count(*) AS fills,
               CAST(CAST(sum(micro) AS DECIMAL(32, 0)) * 0.000001::DECIMAL(7, 6)
                    AS DECIMAL(26, 6)) AS amount
        FROM money
        GROUP BY ALL
        ORDER BY order_id, month, venue
        """
        table = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    return table.cast(ATTRIBUTION)


def payments_from_attribution(attribution: Any) -> pa.Table:
    """The ``payments`` table implied by an attribution (exact sums, sorted rows)."""
    con = duckdb.connect()
    try:
        con.register("attribution", as_arrow(attribution, "attribution", ATTRIBUTION))
        table = con.sql(
            "SELECT broker, venue, month, section, order_type, "
            "CAST(sum(amount) AS DECIMAL(26, 6)) AS amount FROM attribution "
            "GROUP BY ALL ORDER BY broker, venue, month, section, order_type"
        ).to_arrow_table()
    finally:
        con.close()
    return table.cast(PAYMENTS)


def reconcile(attribution: Any, payments: Any) -> pa.Table:
    """Attributed versus paid per (broker, venue, month, section, order type), every cell of
    either side; ``difference`` is 0 everywhere when the payments follow the arrangements."""
    con = duckdb.connect()
    try:
        con.register("implied", payments_from_attribution(attribution))
        con.register("payments", as_arrow(payments, "payments", PAYMENTS))
        table = con.sql(
            """
            SELECT broker, venue, month, section, order_type,
                   i.amount AS attributed, p.amount AS paid,
                   CAST(coalesce(p.amount, 0) - coalesce(i.amount, 0) AS DECIMAL(26, 6))
                     AS difference
            FROM implied i FULL OUTER JOIN payments p
              USING (broker, venue, month, section, order_type)
            ORDER BY broker, venue, month, section, order_type
            """
        ).to_arrow_table()
    finally:
        con.close()
    return table.cast(RECONCILIATION)


def unreconciled(attribution: Any, payments: Any) -> list[dict[str, Any]]:
    """The cells of :func:`reconcile` whose difference is not zero (as Python dicts)."""
    rows = reconcile(attribution, payments).to_pylist()
    return [r for r in rows if r["difference"] != 0]


def attribution_by_order(attribution: Any) -> Mapping[str, list[dict[str, Any]]]:
    """Attribution rows grouped by order id (for per-order display)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in as_arrow(attribution, "attribution", ATTRIBUTION).to_pylist():
        out.setdefault(row["order_id"], []).append(row)
    return out
