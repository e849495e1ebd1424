"""Amended Rule 605 aggregation: per-order quality (``ORDER_QUALITY``) to the detailed
(605(a)(1)) and summary (605(a)(2)) monthly reports.

Orders are bucketed by notional order size (shares x NBBO midpoint at receipt, the limit
price or the one quoted side when there is no two-sided NBBO), by lot size (fractional, odd
lot, round lot) and by the amended order types. All statistics are share-weighted.

Exactness: every float input is first rounded onto a fixed decimal grid - prices to 1e-9
dollars, share quantities to 1e-6 shares, times to the nanosecond - and then summed as
128-bit integers in Polars, so sums are exact and independent of row order. Averages are
exact integer ratios of those sums, divided once into a 34-digit ``Decimal``; the writers
round them only when the file is written. docs/rule605.md has every formula.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from pfof.engine.covered605 import (
    add_exclusions,
    needs_executable,
    with_executable,
    with_order_attributes,
    with_sessions,
)
from pfof.model.enums import OrderType, Section
from pfof.model.market_time import MARKET_TZ
from pfof.model.records605 import (
    ALL_BELOW_200K,
    DETAILED_TIME_BUCKETS,
    NOTIONAL_BUCKETS,
    SUMMARY_SIZE_ORDER,
    DetailedRecord,
    LotSize,
    SummaryOrderType,
    SummaryRecord,
)
from pfof.model.tables import HORIZONS_NS

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

    #: A ``when/then`` chain still open to more ``when`` branches: polars types its first
    #: link ``Then`` and every later one ``ChainedThen``.
    _Chain = Then | ChainedThen

#: Integer grids: value_on_grid = round(value * SCALE).
PRICE_SCALE = 10**9
QTY_SCALE = 10**6
_DEC = Context(prec=34)
#: Round-lot size by price (Regulation NMS, as amended): (highest price, shares per lot).
ROUND_LOTS: tuple[tuple[int | None, int], ...] = ((250, 100), (1_000, 40), (10_000, 10), (None, 1))
_UNTIMED = ("IOC", "FOK")
_LOT_ORDER = {LotSize.FRACTIONAL.value: 0, LotSize.ODD.value: 1, LotSize.ROUND.value: 2}
_POSITIONS = ("inside", "at", "outside")


@dataclass(frozen=True, slots=True)
class Rule605Rows:
    """Report rows plus how many orders were left out, by reason."""

    rows: tuple[SummaryRecord, ...] | tuple[DetailedRecord, ...]
    excluded: Mapping[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- per-order preparation


def _grid(name: str, scale: int) -> pl.Expr:
    return (pl.col(name) * float(scale)).round().cast(pl.Int128)


def order_frame(
    order_quality: pa.Table | pl.DataFrame,
    *,
    orders: pa.Table | pl.DataFrame | None = None,
    fills: pa.Table | pl.DataFrame | None = None,
    market_center_venues: Collection[str] = (),
    month: int | None = None,
    nbbo: pa.Table | pl.DataFrame | None = None,
    cancels: pa.Table | pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """One row per covered order with its report categories and integer-grid measures.

    ``orders`` (``ORDERS`` schema) refines order types (IOC/FOK, stop orders) and gives the
    special-handling instructions that leave an order out (:mod:`pfof.engine.covered605`);
    ``nbbo`` (``NBBO``) tells when a resting limit or stop order became executable (without
    it, its first fill does) and ``cancels`` (``CANCELS``) until when it could. ``fills``
    (``FILLS``) gives per-execution times and venues (executions at a venue outside
    ``market_center_venues`` count as away when that set is given). Without fills, all of an
    order's shares count as executed at the center at the time of its last fill.
    ``month`` (YYYYMM) keeps orders received in that New York calendar month.
    """
    oq = order_quality if isinstance(order_quality, pl.DataFrame) else pl.from_arrow(order_quality)
    assert isinstance(oq, pl.DataFrame)
    # a quality table computed with other horizons lacks some realized-spread columns
    missing = [f"realized_spread_{h}" for h in HORIZONS_NS if f"realized_spread_{h}" not in oq]
    lf = oq.lazy().with_columns(pl.lit(None, pl.Float64).alias(name) for name in missing)
    lf = with_sessions(with_order_attributes(lf, orders), oq.get_column("received_ts"))

    bid, ask = _grid("nbbo_bid", PRICE_SCALE), _grid("nbbo_ask", PRICE_SCALE)
    # a crossed quote has a midpoint too (docs/rule605.md, "Definitions and sources", E5)
    two_sided = bid.is_not_null() & ask.is_not_null() & (bid > 0) & (ask > 0)
    lf = lf.with_columns(
        mid2=pl.when(two_sided).then(bid + ask),
        q=_grid("quantity", QTY_SCALE),
        x=_grid("executed_qty", QTY_SCALE).fill_null(0),
        qs=_grid("quoted_spread", PRICE_SCALE),
        eff=_grid("effective_spread", PRICE_SCALE),
        pi=_grid("price_improvement_per_share", PRICE_SCALE),
        limit2=2 * _grid("limit_price", PRICE_SCALE),
        side2=2 * pl.coalesce(bid, ask),
        recv_ns=pl.col("received_ts").dt.epoch("ns").cast(pl.Int128),
        last_ns=pl.col("last_fill_ts").dt.epoch("ns").cast(pl.Int128),
        **{f"rs_{h}": _grid(f"realized_spread_{h}", PRICE_SCALE) for h in HORIZONS_NS},
    )
    # notional basis (twice a price, in nano-dollars): midpoint, else limit, else quoted side
    lf = lf.with_columns(basis2=pl.coalesce("mid2", "limit2", "side2"))
    lf = with_executable(lf, nbbo=nbbo, fills=fills, cancels=cancels)
    # the first reason that leaves an order out of the report, null for covered orders
    reason: _Chain = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    if month is not None:
        local = pl.col("received_ts").dt.convert_time_zone(MARKET_TZ)
        reason = reason.when(local.dt.year() * 100 + local.dt.month() != month).then(
            pl.lit("other_month")
        )
    reason = reason.when(
        ~pl.col("section").is_in([Section.SP500.value, Section.OTHER_STOCKS.value]).fill_null(False)
    ).then(pl.lit("not_nms_stock"))
    # covered orders (E2): special handling, receipt outside regular trading hours
    reason = add_exclusions(reason)
    reason = (
        # an order with a stop price is a stop order whatever its 606 bucket ("other")
        reason.when(
            pl.col("order_type").is_null()
            | ((pl.col("order_type") == OrderType.OTHER.value) & pl.col("stop_price").is_null())
        )
        .then(pl.lit("other_order_type"))
        .when(~(pl.col("q") > 0).fill_null(False))
        .then(pl.lit("no_quantity"))
        .when(~(pl.col("basis2") > 0).fill_null(False))
        .then(pl.lit("no_price_for_notional"))
        # non-marketable limit and stop orders count once executable (E4)
        .when(needs_executable() & pl.col("executable_ns").is_null())
        .then(pl.lit("never_executable"))
    )
    lf = lf.with_columns(_excluded=reason).with_columns(
        notional=pl.col("q") * pl.col("basis2"),  # units: 1e-6 sh x 0.5e-9 $ = 5e-16 $
        measured=pl.col("quote_position").is_not_null()
        & pl.col("mid2").is_not_null()
        & (pl.col("x") > 0),
    )
    lf = lf.with_columns(
        size=_size_bucket(pl.col("notional")),
        lot=_lot_size(pl.col("q"), pl.col("basis2")),
        type_code=_type_code(),
        summary_type=_summary_type(),
        sp500=pl.col("section") == Section.SP500.value,
    )
    everything = lf.collect()
    counts = everything.get_column("_excluded").drop_nulls().value_counts()
    excluded = {str(k): int(v) for k, v in counts.iter_rows()}
    frame = everything.filter(pl.col("_excluded").is_null()).drop("_excluded")
    frame = _execution_times(frame, fills, market_center_venues)
    return frame, excluded


def _size_bucket(notional: pl.Expr) -> pl.Expr:
    expr: _Chain = pl.when(pl.lit(False)).then(pl.lit(0))
    for code, (_low, high) in NOTIONAL_BUCKETS.items():
        if high is not None:
            expr = expr.when(notional < 2 * high * PRICE_SCALE * QTY_SCALE).then(pl.lit(code))
    return expr.otherwise(pl.lit(max(NOTIONAL_BUCKETS))).cast(pl.Int64)


def _lot_size(q: pl.Expr, basis2: pl.Expr) -> pl.Expr:
    chain: _Chain = pl.when(pl.lit(False)).then(pl.lit(1))
    for price, shares in ROUND_LOTS:
        if price is not None:
            chain = chain.when(basis2 <= 2 * price * PRICE_SCALE).then(pl.lit(shares))
    lot = chain.otherwise(pl.lit(ROUND_LOTS[-1][1])).cast(pl.Int128)
    return (
        pl.when(q < QTY_SCALE)
        .then(pl.lit(LotSize.FRACTIONAL.value))
        .when(q < lot * QTY_SCALE)
        .then(pl.lit(LotSize.ODD.value))
        .otherwise(pl.lit(LotSize.ROUND.value))
    )


def _flag(condition: pl.Expr) -> pl.Expr:
    return pl.when(condition.fill_null(False)).then(pl.lit("Y")).otherwise(pl.lit("N"))


def _type_code() -> pl.Expr:
    """The amended order type: one of the ten codes of ``covered605.AMENDED_ORDER_TYPES``
    (letters: market/limit, marketable, midpoint-or-better, IOC, stop).

    A market order is ``MXXNN`` whatever its time in force (the list has no market IOC); an
    order with a stop price is ``MXXNY`` without a limit, else ``LYNNY`` when marketable once
    triggered (from the NBBO, else its 606 bucket) and ``LNNNY`` otherwise; limit orders are
    ``LYNNN`` / ``LYNYN`` (IOC) when marketable, ``LNYNN`` / ``LNNNN`` when not (priced at
    or better than the midpoint at receipt, or not), ``LNYYN`` / ``LNNYN`` when also IOC.
    """
    kind = pl.col("order_type")
    ioc = _flag(pl.col("time_in_force").str.to_uppercase().is_in(_UNTIMED))
    stop = pl.col("stop_price").is_not_null()
    buy = pl.col("side") == "buy"
    limit2 = pl.col("limit2")
    mob = _flag(pl.when(buy).then(limit2 >= pl.col("mid2")).otherwise(limit2 <= pl.col("mid2")))
    stop_marketable = pl.col("stop_marketable").fill_null(kind == OrderType.MARKETABLE_LIMIT.value)
    return (
        pl.when(stop & pl.col("limit_price").is_null())
        .then(pl.lit("MXXNY"))
        .when(stop & stop_marketable.fill_null(False))
        .then(pl.lit("LYNNY"))
        .when(stop)
        .then(pl.lit("LNNNY"))
        .when(kind == OrderType.MARKET.value)
        .then(pl.lit("MXXNN"))
        .when(kind == OrderType.MARKETABLE_LIMIT.value)
        .then(pl.concat_str(pl.lit("LYN"), ioc, pl.lit("N")))
        .otherwise(pl.concat_str(pl.lit("LN"), mob, ioc, pl.lit("N")))
    )


def _summary_type() -> pl.Expr:
    """M / ML for the summary report: the orders of the detailed ``MXXNN`` and ``LYNNN``
    types (market orders of any time in force, marketable limit orders that are neither
    IOC/FOK nor stop orders); null for the rest."""
    ioc = pl.col("time_in_force").str.to_uppercase().is_in(_UNTIMED).fill_null(False)
    plain = pl.col("stop_price").is_null()
    kind = pl.col("order_type")
    return (
        pl.when(plain & (kind == OrderType.MARKET.value))
        .then(pl.lit(SummaryOrderType.MARKET.value))
        .when(plain & ~ioc & (kind == OrderType.MARKETABLE_LIMIT.value))
        .then(pl.lit(SummaryOrderType.MARKETABLE_LIMIT.value))
    )


def _execution_times(
    frame: pl.DataFrame, fills: pa.Table | pl.DataFrame | None, venues: Collection[str]
) -> pl.DataFrame:
    """Add ``xt`` (sum of shares x ns since receipt), ``timed_x`` (the shares it weighs),
    ``away`` (shares executed away), the time-bucket shares, the per-position measures of
    :func:`_positions` and the realized-spread weights of :func:`_realized_weights`."""
    names = [name for name, _ in DETAILED_TIME_BUCKETS]
    if fills is None:
        dt = pl.col("last_ns") - pl.col("recv_ns")
        timed = (pl.col("x") > 0) & dt.is_not_null()
        out = frame.with_columns(
            xt=pl.when(timed).then(pl.col("x") * dt).otherwise(0),
            timed_x=pl.when(timed).then(pl.col("x")).otherwise(0),
            away=pl.lit(0, pl.Int128),
        )
        out = out.with_columns(
            pl.when(timed & (_bucket_index(dt) == i)).then(pl.col("x")).otherwise(0).alias(n)
            for i, n in enumerate(names)
        )
        return _realized_weights(_positions(out))
    fl = fills if isinstance(fills, pl.DataFrame) else pl.from_arrow(fills)
    assert isinstance(fl, pl.DataFrame)
    f = fl.select(
        "order_id",
        fq=_grid("quantity", QTY_SCALE),
        fp=_grid("price", PRICE_SCALE),
        exec_ns=pl.col("exec_ts").dt.epoch("ns").cast(pl.Int128),
        venue=pl.col("venue"),
    ).join(
        frame.select(
            "order_id",
            "recv_ns",
            buy=pl.col("side") == "buy",
            bid=_grid("nbbo_bid", PRICE_SCALE),
            ask=_grid("nbbo_ask", PRICE_SCALE),
        ),
        on="order_id",
        how="inner",
    )
    dt = pl.max_horizontal(pl.col("exec_ns") - pl.col("recv_ns"), pl.lit(0, pl.Int128))
    # each execution's own price improvement (SLB 12R): far side at receipt minus its price
    pi = (
        pl.when(pl.col("buy"))
        .then(pl.col("ask") - pl.col("fp"))
        .otherwise(pl.col("fp") - pl.col("bid"))
    )
    f = f.with_columns(dt=dt, fpi=pi).with_columns(fpos=_position_of(pl.col("fpi")))
    per_fill_position = []
    for p in _POSITIONS:
        mine = pl.col("fpos") == p
        per_fill_position += [
            pl.col("fq").filter(mine).sum().alias(f"ex_{p}"),
            (pl.col("fq") * pl.col("fpi")).filter(mine).sum().alias(f"epi_{p}"),
            (pl.col("fq") * pl.col("dt")).filter(mine).sum().alias(f"ext_{p}"),
        ]
    per_order = f.group_by("order_id").agg(
        *per_fill_position,
        xt=(pl.col("fq") * pl.col("dt")).sum(),
        timed_x=pl.col("fq").sum(),
        away=(pl.col("fq") * (~pl.col("venue").is_in(list(venues))).cast(pl.Int128)).sum()
        if venues
        else pl.lit(0, pl.Int128),
        _fills=pl.len(),
        **{
            n: pl.col("fq").filter(_bucket_index(pl.col("dt")) == i).sum()
            for i, n in enumerate(names)
        },
    )
    out = frame.join(per_order, on="order_id", how="left")
    out = out.with_columns(pl.col("xt", "timed_x", "away", *names).fill_null(0).cast(pl.Int128))
    return _realized_weights(_positions(out))


def _position_of(pi: pl.Expr) -> pl.Expr:
    """``inside`` / ``at`` / ``outside`` of a price improvement on the price grid; within one
    grid step (1e-9 $, ``engine.quality.PRICE_EPS``) of zero is at the quote."""
    return (
        pl.when(pi > 1)
        .then(pl.lit(_POSITIONS[0]))
        .when(pi < -1)
        .then(pl.lit(_POSITIONS[2]))
        .when(pi.is_not_null())
        .then(pl.lit(_POSITIONS[1]))
    )


def _positions(frame: pl.DataFrame) -> pl.DataFrame:
    """Per quote position p: ``ex_p`` shares, ``epi_p`` shares x price improvement and
    ``ext_p`` shares x ns since receipt.

    An order with rows in ``fills`` (column ``_fills`` set) splits by each fill's own price
    (the ``*_p`` columns from fills); an order without is classified whole by its average
    price (``quote_position``).
    """
    has_fills = pl.col("_fills").is_not_null() if "_fills" in frame.columns else pl.lit(False)
    columns = []
    for p in _POSITIONS:
        mine = (pl.col("quote_position") == p).fill_null(False)
        for name, whole in (
            ("ex", pl.col("x")),
            ("epi", pl.col("x") * pl.col("pi")),
            ("ext", pl.col("xt")),
        ):
            order_level = pl.when(mine).then(whole).otherwise(pl.lit(0, pl.Int128))
            if "_fills" in frame.columns:
                fill_level = pl.col(f"{name}_{p}").fill_null(0)
                order_level = pl.when(has_fills).then(fill_level).otherwise(order_level)
            columns.append(order_level.cast(pl.Int128).alias(f"{name}_{p}"))
    out = frame.with_columns(columns)
    return out.drop("_fills") if "_fills" in out.columns else out


def _realized_weights(frame: pl.DataFrame) -> pl.DataFrame:
    """``rq_<h>``: each order's shares with a valid midpoint at horizon h (the quality
    table's ``realized_qty_<h>``); its executed shares where that column is absent or null
    (a table written before the column existed)."""
    return frame.with_columns(
        (
            pl.coalesce(_grid(f"realized_qty_{h}", QTY_SCALE), pl.col("x"))
            if f"realized_qty_{h}" in frame.columns
            else pl.col("x")
        ).alias(f"rq_{h}")
        for h in HORIZONS_NS
    )


def _bucket_index(dt: pl.Expr) -> pl.Expr:
    expr: _Chain = pl.when(pl.lit(False)).then(pl.lit(0))
    for i, (_name, upper) in enumerate(DETAILED_TIME_BUCKETS):
        if upper is not None:
            expr = expr.when(dt < upper).then(pl.lit(i))
    return expr.otherwise(pl.lit(len(DETAILED_TIME_BUCKETS) - 1))


# ---------------------------------------------------------------- group sums


def _sum_exprs() -> list[pl.Expr]:
    """Integer sums per group; names are the keys of ``_Sums``.

    Receipt-quote statistics run over measured orders (``measured``: executed, with a
    midpoint and a far side at receipt, crossed quotes included); the quoted spread and E/Q
    over those whose quoted spread is defined (not crossed); the quote positions over each
    execution (``ex_p`` ...); realized spreads over every executed order with a valid
    horizon quote, weighted by the shares that had one (``rq_h``).
    """
    x, m = pl.col("x"), pl.col("measured")
    mx = pl.when(m).then(x).otherwise(0)
    per_order_time = pl.col("xt")
    quoted = m & pl.col("qs").is_not_null()

    def where(cond: pl.Expr, value: pl.Expr) -> pl.Expr:
        return pl.when(cond.fill_null(False)).then(value).otherwise(0).sum()

    exprs = [
        pl.len().alias("n"),
        pl.col("q").sum().alias("q"),
        pl.col("notional").sum().alias("notional"),
        x.sum().alias("x"),
        pl.col("away").sum().alias("away"),
        pl.max_horizontal(pl.col("q") - x, pl.lit(0, pl.Int128)).sum().alias("cancel"),
        per_order_time.sum().alias("xt"),
        pl.col("timed_x").sum().alias("xt_w"),
        where(x >= pl.col("q"), pl.lit(1)).alias("n_filled"),
        where(x >= pl.col("q"), per_order_time).alias("filled_xt"),
        where(x >= pl.col("q"), pl.col("timed_x")).alias("filled_x"),
        mx.sum().alias("wx"),
        where(m, x * pl.col("mid2")).alias("mx"),
        where(m, x * pl.col("eff")).alias("eff"),
        where(m, pl.sum_horizontal(*(pl.col(f"epi_{p}") for p in _POSITIONS))).alias("pi"),
        where(quoted, x * pl.col("qs")).alias("qs"),
        where(quoted, x).alias("qs_w"),
        where(quoted, x * pl.col("mid2")).alias("qs_mx"),
        where(quoted, x * pl.col("eff")).alias("eff_q"),
    ]
    for p in _POSITIONS:
        exprs += [
            where(m, pl.col(f"ex_{p}")).alias(f"x_{p}"),
            where(m, pl.col(f"epi_{p}")).alias(f"pi_{p}"),
            where(m, pl.col(f"ext_{p}")).alias(f"xt_{p}"),
        ]
    for h in HORIZONS_NS:
        rs, rq = pl.col(f"rs_{h}"), pl.col(f"rq_{h}")
        cond = (x > 0) & rs.is_not_null() & (rq > 0)
        exprs += [
            where(cond, rq * rs).alias(f"rs_{h}"),
            where(cond, rq).alias(f"rs_{h}_w"),
            # the percentage needs the receipt midpoint: measured orders only
            where(cond & m, rq * rs).alias(f"rs_{h}_pn"),
            where(cond & m, rq * pl.col("mid2")).alias(f"rs_{h}_mx"),
        ]
    exprs += [pl.col(name).sum().alias(name) for name, _ in DETAILED_TIME_BUCKETS]
    return exprs


def _group_sums(frame: pl.DataFrame, keys: list[str]) -> dict[tuple[object, ...], dict[str, int]]:
    if frame.height == 0:
        return {}
    grouped = frame.group_by(keys).agg(_sum_exprs())
    out: dict[tuple[object, ...], dict[str, int]] = {}
    for row in grouped.iter_rows(named=True):
        key = tuple(row.pop(k) for k in keys)
        out[key] = {k: int(v or 0) for k, v in row.items()}
    return out


def _add(a: Mapping[str, int], b: Mapping[str, int]) -> dict[str, int]:
    return {k: a.get(k, 0) + b.get(k, 0) for k in set(a) | set(b)}


def _ratio(num: int, den: int, scale: int = 1) -> Decimal | None:
    """``num / (den * scale)`` rounded once to 34 digits; ``None`` when the denominator is 0.

    Both operands are exact integers (``Decimal(int)`` is exact at any precision)."""
    if den == 0:
        return None
    return _DEC.divide(Decimal(num), Decimal(den * scale))


# ---------------------------------------------------------------- statistics


def summary_stats(s: Mapping[str, int]) -> dict[str, Decimal | None]:
    """Summary-report figures (``SummaryRecord`` attribute names) from group sums."""
    return {
        "avg_order_qty": _ratio(s["q"], s["n"], QTY_SCALE),
        "avg_order_notional": _ratio(s["notional"], s["n"], 2 * PRICE_SCALE * QTY_SCALE),
        "avg_midpoint": _ratio(s["mx"], s["wx"], 2 * PRICE_SCALE),
        "pct_at_quote_or_better": _ratio(s["x_at"] + s["x_inside"], s["wx"]),
        "pct_price_improved": _ratio(s["x_inside"], s["wx"]),
        "avg_pct_price_improvement": _ratio(2 * s["pi"], s["mx"]),
        "avg_effective_spread_pct": _ratio(2 * s["eff"], s["mx"]),
        "avg_quoted_spread_pct": _ratio(2 * s["qs"], s["qs_mx"]),
        "avg_eq_ratio": _ratio(s["eff_q"], s["qs"]),
        "realized_spread_pct_15s": _ratio(2 * s["rs_15s_pn"], s["rs_15s_mx"]),
        "realized_spread_pct_1m": _ratio(2 * s["rs_1m_pn"], s["rs_1m_mx"]),
        "avg_execution_time_ms": _ratio(s["xt"], s["xt_w"], 10**6),
    }


def detailed_stats(s: Mapping[str, int]) -> dict[str, Decimal | int | None]:
    """Detailed-report figures (``DetailedRecord`` attribute names) from group sums."""
    ms = 10**6  # ns per ms
    out: dict[str, Decimal | int | None] = {
        "covered_orders": s["n"],
        "covered_notional": _ratio(s["notional"], 1, 2 * PRICE_SCALE * QTY_SCALE),
        "covered_qty": _ratio(s["q"], QTY_SCALE),
        "cancelled_qty": _ratio(s["cancel"], QTY_SCALE),
        "executed_qty": _ratio(s["x"] - s["away"], QTY_SCALE),
        "executed_away_qty": _ratio(s["away"], QTY_SCALE),
        "avg_midpoint": _ratio(s["mx"], s["wx"], 2 * PRICE_SCALE),
        "avg_quoted_spread": _ratio(s["qs"], s["qs_w"], PRICE_SCALE),
        "avg_effective_spread": _ratio(s["eff"], s["wx"], PRICE_SCALE),
        "avg_effective_spread_pct": _ratio(2 * s["eff"], s["mx"]),
        "avg_eq_ratio": _ratio(s["eff_q"], s["qs"]),
        "pi_qty": _ratio(s["x_inside"], QTY_SCALE),
        "pi_avg_amount": _ratio(s["pi_inside"], s["x_inside"], PRICE_SCALE),
        "pi_avg_time_ms": _ratio(s["xt_inside"], s["x_inside"], ms),
        "at_quote_qty": _ratio(s["x_at"], QTY_SCALE),
        "at_quote_avg_time_ms": _ratio(s["xt_at"], s["x_at"], ms),
        "outside_quote_qty": _ratio(s["x_outside"], QTY_SCALE),
        "outside_quote_avg_amount": _ratio(-s["pi_outside"], s["x_outside"], PRICE_SCALE),
        "outside_quote_avg_time_ms": _ratio(s["xt_outside"], s["x_outside"], ms),
        "filled_orders": s["n_filled"],
        "filled_avg_time_ms": _ratio(s["filled_xt"], s["filled_x"], ms),
    }
    for name, _ in DETAILED_TIME_BUCKETS:
        out[name] = _ratio(s[name], QTY_SCALE)
    for h in HORIZONS_NS:
        out[f"realized_spread_{h}"] = _ratio(s[f"rs_{h}"], s[f"rs_{h}_w"], PRICE_SCALE)
        out[f"realized_spread_pct_{h}"] = _ratio(2 * s[f"rs_{h}_pn"], s[f"rs_{h}_mx"])
    return out


# ---------------------------------------------------------------- reports


def summary_rows(
    order_quality: pa.Table | pl.DataFrame,
    *,
    participant: str,
    entity: str,
    month: int,
    orders: pa.Table | pl.DataFrame | None = None,
    fills: pa.Table | pl.DataFrame | None = None,
    include_unexecuted: bool = False,
    nbbo: pa.Table | pl.DataFrame | None = None,
    cancels: pa.Table | pl.DataFrame | None = None,
) -> Rule605Rows:
    """Rows of the summary report for one reporter's month (orders received in ``month``).

    Rows are S&P 500 first, then market before marketable limit, sizes ascending with the
    combined below-$200,000 row (199999) before $200,000+. Buckets whose orders had no
    measurable execution are left out unless ``include_unexecuted``: the specification
    would leave their statistics empty, which the SEC's metadata marks as required.
    """
    frame, excluded = order_frame(
        order_quality, orders=orders, fills=fills, month=month, nbbo=nbbo, cancels=cancels
    )
    covered = frame.filter(pl.col("summary_type").is_not_null())
    if covered.height != frame.height:
        excluded["not_summary_order_type"] = frame.height - covered.height
    sums = _group_sums(covered, ["sp500", "summary_type", "size"])
    combined: dict[tuple[object, ...], dict[str, int]] = {}
    for (sp500, kind, size), s in sums.items():
        if size != max(NOTIONAL_BUCKETS):
            key = (sp500, kind, ALL_BELOW_200K)
            combined[key] = _add(combined.get(key, {}), s)
    sums.update(combined)
    rows = []
    for sp500 in (True, False):
        for kind in (SummaryOrderType.MARKET.value, SummaryOrderType.MARKETABLE_LIMIT.value):
            for size in SUMMARY_SIZE_ORDER:
                bucket = sums.get((sp500, kind, size))
                if bucket is None or (bucket["wx"] == 0 and not include_unexecuted):
                    continue
                rows.append(
                    SummaryRecord(
                        participant=participant,
                        entity=entity,
                        rpt_date=month,
                        sp500=sp500,
                        order_size=size,
                        order_type=kind,
                        **summary_stats(bucket),
                    )
                )
    return Rule605Rows(tuple(rows), excluded)


def detailed_rows(
    order_quality: pa.Table | pl.DataFrame,
    *,
    participant: str,
    entity: str,
    month: int,
    orders: pa.Table | pl.DataFrame | None = None,
    fills: pa.Table | pl.DataFrame | None = None,
    market_center_venues: Collection[str] = (),
    nbbo: pa.Table | pl.DataFrame | None = None,
    cancels: pa.Table | pl.DataFrame | None = None,
) -> Rule605Rows:
    """Rows of the detailed report: one per symbol x lot size x notional size x order type.

    ``nbbo`` tells when resting limit and stop orders became executable and ``cancels``
    until when they could (see :func:`order_frame`); without quotes, their first fill does.

    Fields 45-51 and 53-54 (best available displayed price incl. odd lots, size improvement,
    the two "Reg" quantities) need data ORDER_QUALITY does not carry and stay empty.
    """
    frame, excluded = order_frame(
        order_quality,
        orders=orders,
        fills=fills,
        month=month,
        market_center_venues=market_center_venues,
        nbbo=nbbo,
        cancels=cancels,
    )
    sums = _group_sums(frame, ["symbol", "lot", "size", "type_code"])
    rows = []
    for key in sorted(sums, key=lambda k: (k[0], _LOT_ORDER[str(k[1])], k[2], k[3])):
        symbol, lot, size, code = key
        # the bucket column is Int64 and never null: every covered order has a notional
        assert isinstance(size, int), size
        stats = detailed_stats(sums[key])
        rows.append(
            DetailedRecord(
                participant=participant,
                entity=entity,
                rpt_date=month,
                symbol=str(symbol),
                lot_size=str(lot),
                order_size=size,
                order_type=str(code),
                pi_vs_best_qty=None,
                pi_vs_best_avg_amount=None,
                at_best_qty=None,
                outside_best_qty=None,
                outside_best_avg_amount=None,
                size_benchmark_qty=None,
                size_improved_qty=None,
                reg_executed_qty=None,
                reg_executed_on_exchange_qty=None,
                **stats,  # type: ignore[arg-type]
            )
        )
    return Rule605Rows(tuple(rows), excluded)


def month_of(records: Iterable[SummaryRecord | DetailedRecord]) -> set[int]:
    """The report months present in rows (a report should hold exactly one)."""
    return {r.rpt_date for r in records}
