"""Which orders Rule 605 covers, and when a resting order became executable.

A covered order (17 CFR 242.600(b), as amended in 2024; Staff Legal Bulletin 13) is received
during regular trading hours and carries no special-handling instruction: orders to execute at
the opening or closing price, not-held orders, all-or-none orders and any other instruction a
log lists in ``orders.special_handling`` are left out. Non-marketable limit orders and orders
with a stop price count only once they become executable; immediate-or-cancel limit orders are
categorised at receipt (the amended order types list them: ``LNYYN``, ``LNNYN``).

"Executable" is read from the data: a resting limit order becomes executable at its first
fill or when the NBBO first reaches its limit (ask at or below a buy limit, bid at or above a
sell limit); a stop order when the NBBO reaches its stop price (ask at or above a buy stop,
bid at or below a sell stop: pfof's proxy for FINRA Rule 5350's trade at the stop price, and
the simulator's trigger), a stop limit order then as a limit order. Without an NBBO table only
fills show executability. Only times before the session's close count. docs/rule605.md has
the sources.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from pfof.model.enums import OrderType, SpecialHandling
from pfof.model.market_time import MARKET_TZ

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

    _Chain = Then | ChainedThen

__all__ = [
    "AMENDED_ORDER_TYPES",
    "CLOSING_TIF",
    "EXCLUSION_REASONS",
    "OPENING_TIF",
    "ORDER_COLUMNS",
    "add_exclusions",
    "executable_times",
    "needs_executable",
    "regular_sessions",
    "with_executable",
    "with_order_attributes",
    "with_sessions",
]

#: The amended detailed report's order types (``OrderType`` column) and what they are, as
#: filers' files and the NMS plan's layout list them (../shared/sec-605, field 7).
AMENDED_ORDER_TYPES: dict[str, str] = {
    "MXXNN": "market",
    "LYNNN": "marketable limit",
    "LYNYN": "marketable IOC",
    "LNYNN": "midpoint-or-better limit (executable)",
    "LNYYN": "midpoint-or-better IOC",
    "LNNNN": "non-marketable limit (executable)",
    "LNNYN": "non-marketable IOC",
    "MXXNY": "stop market (executable)",
    "LYNNY": "stop limit, marketable when triggered",
    "LNNNY": "stop limit, non-marketable when triggered (executable)",
}
#: ``orders`` columns the 605 engine reads beyond ``ORDER_QUALITY``.
ORDER_COLUMNS = ("time_in_force", "stop_price", "held", "special_handling")
#: Times in force (FIX 59 = 2 / 7) asking for the opening or the closing price.
OPENING_TIF = frozenset({"OPG"})
CLOSING_TIF = frozenset({"CLS"})
_UNTIMED = ("IOC", "FOK")
_OPEN_CLOSE_CODES = [
    SpecialHandling.AT_THE_OPEN.value,
    SpecialHandling.AT_THE_CLOSE.value,
    "MOO",
    "LOO",
    "MOC",
    "LOC",
]
#: Exclusion reasons this module adds, in the order they are tested.
EXCLUSION_REASONS = (
    "opening_closing",
    "not_held",
    "all_or_none",
    "special_handling",
    "outside_regular_hours",
)
_CALENDAR = "XNYS"


# ---------------------------------------------------------------- regular trading hours


@lru_cache(maxsize=64)
def _sessions_of_year(year: int) -> tuple[tuple[date, int, int], ...]:
    """(day, open ns, close ns) of every regular session of ``year`` (early closes kept)."""
    import exchange_calendars as xcals  # a maintained NYSE calendar: holidays, half days

    try:
        cal = xcals.get_calendar(_CALENDAR, start=f"{year}-01-01", end=f"{year}-12-31")
    except ValueError:  # the calendar's errors (dates out of its bounds) are ValueErrors
        return ()
    out = []
    for label, row in cal.schedule.iterrows():
        out.append((label.date(), int(row["open"].value), int(row["close"].value)))
    return tuple(out)


def regular_sessions(first: date, last: date) -> pl.DataFrame:
    """The NYSE regular sessions from ``first`` to ``last``: ``day`` (New York date),
    ``session_open_ns`` and ``session_close_ns`` (UTC ns; 13:00 on early-close days).

    >>> regular_sessions(date(2026, 11, 26), date(2026, 11, 27)).rows()  # Thanksgiving, half day
    [(datetime.date(2026, 11, 27), 1795789800000000000, 1795802400000000000)]
    """
    rows = [
        r
        for year in range(first.year, last.year + 1)
        for r in _sessions_of_year(year)
        if first <= r[0] <= last
    ]
    return pl.DataFrame(
        rows,
        schema={"day": pl.Date, "session_open_ns": pl.Int64, "session_close_ns": pl.Int64},
        orient="row",
    )


def with_sessions(lf: pl.LazyFrame, received: pl.Series) -> pl.LazyFrame:
    """``lf`` with ``session_open_ns`` and ``session_close_ns`` of the session on the New York
    date of ``received_ts`` (null on a day without a session); ``received`` is that column,
    to bound the calendar."""
    valid = received.drop_nulls()
    if valid.len() == 0:
        return lf.with_columns(
            session_open_ns=pl.lit(None, pl.Int64), session_close_ns=pl.lit(None, pl.Int64)
        )
    local = valid.dt.convert_time_zone(MARKET_TZ).dt.date()
    first, last = local.min(), local.max()
    assert isinstance(first, date) and isinstance(last, date)
    sessions = regular_sessions(first - timedelta(days=1), last + timedelta(days=1))
    day = pl.col("received_ts").dt.convert_time_zone(MARKET_TZ).dt.date().alias("_day")
    return (
        lf.with_columns(day)
        .join(sessions.lazy(), left_on="_day", right_on="day", how="left")
        .drop("_day")
    )


# ---------------------------------------------------------------- order attributes


_ATTRIBUTE_TYPES: dict[str, type[pl.DataType]] = {
    "time_in_force": pl.String,
    "stop_price": pl.Float64,
    "held": pl.Boolean,
    "special_handling": pl.String,
}


def with_order_attributes(lf: pl.LazyFrame, orders: pa.Table | pl.DataFrame | None) -> pl.LazyFrame:
    """``lf`` (one row per ``order_id``) with the :data:`ORDER_COLUMNS` of an ``ORDERS``
    table; a column the log lacks (``special_handling`` in older logs), or every one when
    ``orders`` is None, reads as null."""
    if orders is None:
        return lf.with_columns(pl.lit(None, t).alias(c) for c, t in _ATTRIBUTE_TYPES.items())
    od = orders if isinstance(orders, pl.DataFrame) else pl.from_arrow(orders)
    assert isinstance(od, pl.DataFrame)
    attrs = od.lazy().select(
        "order_id",
        *(
            pl.col(c).cast(t) if c in od.columns else pl.lit(None, t).alias(c)
            for c, t in _ATTRIBUTE_TYPES.items()
        ),
    )
    return lf.join(attrs, on="order_id", how="left")


def _handling_has(codes: list[str]) -> pl.Expr:
    tokens = pl.col("special_handling").str.to_uppercase().str.split(" ")
    return tokens.list.eval(pl.element().is_in(codes)).list.any().fill_null(False)


def _tif_in(values: frozenset[str]) -> pl.Expr:
    return pl.col("time_in_force").str.to_uppercase().is_in(list(values)).fill_null(False)


def add_exclusions(reason: _Chain) -> _Chain:
    """Extend a ``when/then`` chain of exclusion reasons with the covered-order rules that
    need no price: opening/closing, not held, all or none, other special handling, receipt
    outside regular trading hours. Needs the :data:`ORDER_COLUMNS` and the session columns
    of :func:`with_sessions`."""
    handling = pl.col("special_handling").str.strip_chars().fill_null("")
    recv = pl.col("received_ts").dt.epoch("ns")
    in_session = (recv >= pl.col("session_open_ns")) & (recv < pl.col("session_close_ns"))
    return (
        reason.when(_tif_in(OPENING_TIF | CLOSING_TIF) | _handling_has(_OPEN_CLOSE_CODES))
        .then(pl.lit("opening_closing"))
        .when(
            (pl.col("held") == False)  # noqa: E712 - null (not stated) is a held order
            | _handling_has([SpecialHandling.NOT_HELD.value])
        )
        .then(pl.lit("not_held"))
        .when(_handling_has([SpecialHandling.ALL_OR_NONE.value]))
        .then(pl.lit("all_or_none"))
        .when(handling != "")
        .then(pl.lit("special_handling"))
        .when(~in_session.fill_null(False))
        .then(pl.lit("outside_regular_hours"))
    )


def needs_executable() -> pl.Expr:
    """True for orders that count only once executable: stop orders and non-marketable
    limit orders that are not immediate-or-cancel."""
    ioc = pl.col("time_in_force").str.to_uppercase().is_in(_UNTIMED).fill_null(False)
    resting = (pl.col("order_type") == OrderType.NON_MARKETABLE_LIMIT.value) & ~ioc
    return (pl.col("stop_price").is_not_null() | resting).fill_null(False)


# ---------------------------------------------------------------- executable times


def _quotes(nbbo: pa.Table | pl.DataFrame) -> pl.DataFrame:
    q = nbbo if isinstance(nbbo, pl.DataFrame) else pl.from_arrow(nbbo)
    assert isinstance(q, pl.DataFrame)
    return q.select(
        "symbol", ts_ns=pl.col("ts").dt.epoch("ns"), q_bid=pl.col("bid"), q_ask=pl.col("ask")
    ).sort("symbol", "ts_ns")


def _first_time(
    orders: pl.DataFrame, quotes: pl.DataFrame, start: str, condition: pl.Expr
) -> pl.DataFrame:
    """Per order (``order_id``, ``symbol``, the ``start`` column, ``end_ns`` and whatever
    ``condition`` reads), the first time from ``start`` until ``end_ns`` (the close, or the
    order's cancellation) at which the NBBO satisfies ``condition``: the quote in force at
    ``start`` counts at ``start``. Columns ``order_id``, ``t`` and the quote at that time."""
    base = orders.filter(pl.col(start) < pl.col("end_ns")).sort(start)
    in_force = base.join_asof(  # sorted by time, hence within each symbol
        quotes,
        left_on=start,
        right_on="ts_ns",
        by="symbol",
        strategy="backward",
        check_sortedness=False,
    ).with_columns(t=pl.col(start))
    later = (
        base.join(quotes, on="symbol", how="inner")
        .filter((pl.col("ts_ns") > pl.col(start)) & (pl.col("ts_ns") < pl.col("end_ns")))
        .with_columns(t=pl.col("ts_ns"))
    )
    cols = [*base.columns, "t", "q_bid", "q_ask"]
    both = pl.concat([in_force.select(cols), later.select(cols)])
    return (
        both.filter(condition.fill_null(False))
        .sort("order_id", "t")
        .group_by("order_id", maintain_order=True)
        .first()
        .select("order_id", "t", "q_bid", "q_ask")
    )


def executable_times(
    orders: pl.DataFrame, nbbo: pa.Table | pl.DataFrame | None = None
) -> pl.DataFrame:
    """When each order of ``orders`` became executable (``executable_ns``, null if not
    before the close) and, for stop limit orders, whether it was marketable when triggered
    (``stop_marketable``, null when unknown).

    ``orders`` has ``order_id``, ``symbol``, ``side``, ``limit_price``, ``stop_price``,
    ``recv_ns``, ``session_close_ns``, ``first_ns`` (its first execution, null if none) and
    optionally ``cancel_ns`` (its last cancellation: an order cancelled before the NBBO
    reached it never became executable). The earlier of the first fill and the time the NBBO
    made the order executable wins.
    """
    if "cancel_ns" not in orders.columns:
        orders = orders.with_columns(cancel_ns=pl.lit(None, pl.Int64))
    o = orders.with_columns(
        buy=pl.col("side") == "buy",
        limit_price=pl.col("limit_price").cast(pl.Float64),
        stop_price=pl.col("stop_price").cast(pl.Float64),
        recv_ns=pl.col("recv_ns").cast(pl.Int64),
        first_ns=pl.col("first_ns").cast(pl.Int64),
        session_close_ns=pl.col("session_close_ns").cast(pl.Int64),
    ).with_columns(end_ns=pl.min_horizontal("session_close_ns", pl.col("cancel_ns").cast(pl.Int64)))
    stop, limit = pl.col("stop_price"), pl.col("limit_price")
    if nbbo is not None and o.height:
        quotes = _quotes(nbbo)
        buy, bid, ask = pl.col("buy"), pl.col("q_bid"), pl.col("q_ask")
        # a stop order is triggered when the NBBO reaches its stop price; others start live
        triggered = _first_time(
            o.filter(stop.is_not_null()),
            quotes,
            "recv_ns",
            pl.when(buy).then(ask >= stop).otherwise(bid <= stop),
        ).select("order_id", trigger_ns="t")
        live = o.join(triggered, on="order_id", how="left").with_columns(
            start_ns=pl.when(stop.is_not_null()).then(pl.col("trigger_ns")).otherwise("recv_ns")
        )
        limited = _first_time(
            live.filter(limit.is_not_null()),
            quotes,
            "start_ns",
            pl.when(buy).then(ask <= limit).otherwise(bid >= limit),
        ).select("order_id", limit_ns="t")
        o = live.join(limited, on="order_id", how="left").with_columns(
            nbbo_ns=pl.when(limit.is_null()).then("start_ns").otherwise("limit_ns"),
            stop_marketable=pl.when(stop.is_not_null() & limit.is_not_null()).then(
                (pl.col("limit_ns") == pl.col("start_ns")).fill_null(False)
            ),
        )
    else:
        o = o.with_columns(nbbo_ns=pl.lit(None, pl.Int64), stop_marketable=pl.lit(None, pl.Boolean))
    t = pl.min_horizontal("nbbo_ns", "first_ns")
    return o.select(
        "order_id",
        executable_ns=pl.when(t < pl.col("session_close_ns")).then(t),
        stop_marketable="stop_marketable",
    )


def with_executable(
    lf: pl.LazyFrame,
    *,
    nbbo: pa.Table | pl.DataFrame | None = None,
    fills: pa.Table | pl.DataFrame | None = None,
    cancels: pa.Table | pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """``lf`` with ``executable_ns`` and ``stop_marketable`` (:func:`executable_times`) for
    the orders that count only once executable (:func:`needs_executable`), null for the
    others. ``lf`` needs the ``ORDER_QUALITY`` columns, :data:`ORDER_COLUMNS` and the
    session columns; the first fill is the earliest of ``first_fill_ts`` and ``fills``, and
    ``cancels`` (``CANCELS``) ends an order's life at its last cancellation."""
    resting = lf.filter(needs_executable()).select(
        "order_id",
        "symbol",
        "side",
        "limit_price",
        "stop_price",
        "session_close_ns",
        recv_ns=pl.col("received_ts").dt.epoch("ns"),
        first_ns=pl.col("first_fill_ts").dt.epoch("ns"),
    )
    if fills is not None:
        fl = fills if isinstance(fills, pl.DataFrame) else pl.from_arrow(fills)
        assert isinstance(fl, pl.DataFrame)
        first = fl.lazy().group_by("order_id").agg(f_ns=pl.col("exec_ts").dt.epoch("ns").min())
        resting = (
            resting.join(first, on="order_id", how="left")
            .with_columns(first_ns=pl.min_horizontal("first_ns", "f_ns"))
            .drop("f_ns")
        )
    if cancels is not None:
        cl = cancels if isinstance(cancels, pl.DataFrame) else pl.from_arrow(cancels)
        assert isinstance(cl, pl.DataFrame)
        last = cl.lazy().group_by("order_id").agg(cancel_ns=pl.col("ts").dt.epoch("ns").max())
        resting = resting.join(last, on="order_id", how="left")
    times = executable_times(resting.collect(), nbbo)
    return lf.join(times.lazy(), on="order_id", how="left")
