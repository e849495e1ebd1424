"""Where each order went first, and the orders as each market center received them.

A broker's order is received by the market center of its first route (``routes.seq`` = 1)
at that route's time. Rule 605 measures a market center's execution quality from its own
receipt, so the center's view of an order is the broker's order with ``received_ts``
replaced by the first route's ``routed_ts``; fills at another venue count as executed away.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from pfof.engine.nbbo import conform
from pfof.model.tables import ORDERS, ROUTES, TS

#: Schema of ``first_routes``.
FIRST_ROUTES = pa.schema([("order_id", pa.string()), ("venue", pa.string()), ("routed_ts", TS)])


def first_routes(routes: pa.Table) -> pa.Table:
    """``order_id``, ``venue``, ``routed_ts`` of each order's first route (lowest ``seq``)."""
    r = pl.from_arrow(
        conform(routes, ROUTES, "routes").select(["order_id", "seq", "venue", "routed_ts"])
    )
    assert isinstance(r, pl.DataFrame)
    first = r.sort("order_id", "seq").unique("order_id", keep="first", maintain_order=True)
    return first.select("order_id", "venue", "routed_ts").to_arrow().cast(FIRST_ROUTES)


def with_first_venue(table: pa.Table, routes: pa.Table, column: str = "venue") -> pa.Table:
    """``table`` (one row per order, with ``order_id``) plus the venue of each order's first
    route as ``column``; null for orders never routed. Row order is kept."""
    first = pl.from_arrow(first_routes(routes))
    left = pl.from_arrow(table)
    assert isinstance(first, pl.DataFrame) and isinstance(left, pl.DataFrame)
    joined = left.join(
        first.select("order_id", pl.col("venue").alias(column)),
        on="order_id",
        how="left",
        maintain_order="left",
    )
    return joined.to_arrow().cast(table.schema.append(pa.field(column, pa.string())))


def received_by_market_center(orders: pa.Table, routes: pa.Table) -> pa.Table:
    """The orders that were routed, as their first venue received them: ``ORDERS`` columns
    with ``received_ts`` set to the first route's time, plus ``market_center`` (the venue).
    Rows keep the order of ``orders``."""
    o = pl.from_arrow(conform(orders, ORDERS, "orders"))
    first = pl.from_arrow(first_routes(routes))
    assert isinstance(o, pl.DataFrame) and isinstance(first, pl.DataFrame)
    joined = o.join(first, on="order_id", how="inner", maintain_order="left")
    late = joined.filter(pl.col("routed_ts") < pl.col("received_ts"))
    if late.height:
        raise ValueError(
            f"routes: order {late.get_column('order_id')[0]!r} is routed before it was received"
        )
    out = joined.with_columns(received_ts=pl.col("routed_ts")).rename({"venue": "market_center"})
    schema = ORDERS.append(pa.field("market_center", pa.string()))
    return out.select(*ORDERS.names, "market_center").to_arrow().cast(schema)
