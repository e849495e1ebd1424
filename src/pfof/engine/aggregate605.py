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
) -> tuple[pl.DataFrame, dict[str, int]]:
    """One row per covered order with its report categories and integer-grid measures.

    ``orders`` (``ORDERS`` schema) refines order types (IOC/FOK, stop orders); ``fills``
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
    if orders is not None:
        od = orders if isinstance(orders, pl.DataFrame) else pl.from_arrow(orders)
        assert isinstance(od, pl.DataFrame)
        lf = lf.join(
            od.lazy().select("order_id", "time_in_force", "stop_price"), on="order_id", how="left"
        )
    else:
        lf = lf.with_columns(
            time_in_force=pl.lit(None, pl.String), stop_price=pl.lit(None, pl.Float64)
        )

    bid, ask = _grid("nbbo_bid", PRICE_SCALE), _grid("nbbo_ask", PRICE_SCALE)
    two_sided = bid.is_not_null() & ask.is_not_null() & (bid <= ask) & (bid > 0)
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
    # the first reason that leaves an order out of the report, null for covered orders
    reason: _Chain = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    if month is not None:
        local = pl.col("received_ts").dt.convert_time_zone(MARKET_TZ)
        reason = reason.when(local.dt.year() * 100 + local.dt.month() != month).then(
            pl.lit("other_month")
        )
    reason = (
        reason.when(
            ~pl.col("section")
            .is_in([Section.SP500.value, Section.OTHER_STOCKS.value])
            .fill_null(False)
        )
        .then(pl.lit("not_nms_stock"))
        .when((pl.col("order_type") == OrderType.OTHER.value).fill_null(True))
        .then(pl.lit("other_order_type"))
        .when(~(pl.col("q") > 0).fill_null(False))
        .then(pl.lit("no_quantity"))
        .when(~(pl.col("basis2") > 0).fill_null(False))
        .then(pl.lit("no_price_for_notional"))
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
    """Five-letter amended order type: M/L, marketable, midpoint-or-better, IOC, stop."""
    kind = pl.col("order_type")
    ioc = _flag(pl.col("time_in_force").str.to_uppercase().is_in(_UNTIMED))
    stop = _flag(pl.col("stop_price").is_not_null())
    buy = pl.col("side") == "buy"
    limit2 = pl.col("limit2")
    mob = _flag(pl.when(buy).then(limit2 >= pl.col("mid2")).otherwise(limit2 <= pl.col("mid2")))
    return (
        pl.when(kind == OrderType.MARKET.value)
        .then(pl.concat_str(pl.lit("MXX"), ioc, stop))
        .when(kind == OrderType.MARKETABLE_LIMIT.value)
        .then(pl.concat_str(pl.lit("LYN"), ioc, stop))
        .otherwise(pl.concat_str(pl.lit("LN"), mob, ioc, stop))
    )


def _summary_type() -> pl.Expr:
    """M / ML for the summary report; null for IOC/FOK, stop and non-marketable orders."""
    plain = (
        ~(pl.col("time_in_force").str.to_uppercase().is_in(_UNTIMED).fill_null(False))
        & pl.col("stop_price").is_null()
    )
    kind = pl.col("order_type")
    return (
        pl.when(plain & (kind == OrderType.MARKET.value))
        .then(pl.lit(SummaryOrderType.MARKET.value))
        .when(plain & (kind == OrderType.MARKETABLE_LIMIT.value))
        .then(pl.lit(SummaryOrderType.MARKETABLE_LIMIT.value))
    )


def _execution_times(
    frame: pl.DataFrame, fills: pa.Table | pl.DataFrame | None, venues: Collection[str]
) -> pl.DataFrame:
    """Add ``xt`` (sum of shares x ns since receipt), ``timed_x`` (the shares it weighs),
    ``away`` (shares executed away) and the time-bucket shares."""
    names = [name for name, _ in DETAILED_TIME_BUCKETS]
    if fills is None:
        dt = pl.col("last_ns") - pl.col("recv_ns")
        timed = (pl.col("x") > 0) & dt.is_not_null()
        out = frame.with_columns(
            xt=pl.when(timed).then(pl.col("x") * dt).otherwise(0),
            timed_x=pl.when(timed).then(pl.col("x")).otherwise(0),
            away=pl.lit(0, pl.Int128),
        )
        return out.with_columns(
            pl.when(timed & (_bucket_index(dt) == i)).then(pl.col("x")).otherwise(0).alias(n)
            for i, n in enumerate(names)
        )
    fl = fills if isinstance(fills, pl.DataFrame) else pl.from_arrow(fills)
    assert isinstance(fl, pl.DataFrame)
    f = fl.select(
        "order_id",
        fq=_grid("quantity", QTY_SCALE),
        exec_ns=pl.col("exec_ts").dt.epoch("ns").cast(pl.Int128),
        venue=pl.col("venue"),
    ).join(frame.select("order_id", "recv_ns"), on="order_id", how="inner")
    dt = pl.max_horizontal(pl.col("exec_ns") - pl.col("recv_ns"), pl.lit(0, pl.Int128))
    per_order = f.group_by("order_id").agg(
        xt=(pl.col("fq") * dt).sum(),
        timed_x=pl.col("fq").sum(),
        away=(pl.col("fq") * (~pl.col("venue").is_in(list(venues))).cast(pl.Int128)).sum()
        if venues
        else pl.lit(0, pl.Int128),
        **{n: pl.col("fq").filter(_bucket_index(dt) == i).sum() for i, n in enumerate(names)},
    )
    out = frame.join(per_order, on="order_id", how="left")
    return out.with_columns(pl.col("xt", "timed_x", "away", *names).fill_null(0).cast(pl.Int128))


def _bucket_index(dt: pl.Expr) -> pl.Expr:
    expr: _Chain = pl.when(pl.lit(False)).then(pl.lit(0))
    for i, (_name, upper) in enumerate(DETAILED_TIME_BUCKETS):
        if upper is not None:
            expr = expr.when(dt < upper).then(pl.lit(i))
    return expr.otherwise(pl.lit(len(DETAILED_TIME_BUCKETS) - 1))


# ---------------------------------------------------------------- group sums


def _sum_exprs() -> list[pl.Expr]:
    """Integer sums per group; names are the keys of ``_Sums``."""
    x, m = pl.col("x"), pl.col("measured")
    mx = pl.when(m).then(x).otherwise(0)
    pos = pl.col("quote_position")
    per_order_time = pl.col("xt")

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
        where(m, x * pl.col("qs")).alias("qs"),
        where(m, x * pl.col("eff")).alias("eff"),
        where(m, x * pl.col("pi")).alias("pi"),
    ]
    for p in _POSITIONS:
        cond = m & (pos == p)
        exprs += [
            where(cond, x).alias(f"x_{p}"),
            where(cond, x * pl.col("pi")).alias(f"pi_{p}"),
            where(cond, per_order_time).alias(f"xt_{p}"),
        ]
    for h in HORIZONS_NS:
        cond = m & pl.col(f"rs_{h}").is_not_null()
        exprs += [
            where(cond, x * pl.col(f"rs_{h}")).alias(f"rs_{h}"),
            where(cond, x).alias(f"rs_{h}_w"),
            where(cond, x * pl.col("mid2")).alias(f"rs_{h}_mx"),
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
        "avg_quoted_spread_pct": _ratio(2 * s["qs"], s["mx"]),
        "avg_eq_ratio": _ratio(s["eff"], s["qs"]),
        "realized_spread_pct_15s": _ratio(2 * s["rs_15s"], s["rs_15s_mx"]),
        "realized_spread_pct_1m": _ratio(2 * s["rs_1m"], s["rs_1m_mx"]),
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
        "avg_quoted_spread": _ratio(s["qs"], s["wx"], PRICE_SCALE),
        "avg_effective_spread": _ratio(s["eff"], s["wx"], PRICE_SCALE),
        "avg_effective_spread_pct": _ratio(2 * s["eff"], s["mx"]),
        "avg_eq_ratio": _ratio(s["eff"], s["qs"]),
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
        out[f"realized_spread_pct_{h}"] = _ratio(2 * s[f"rs_{h}"], s[f"rs_{h}_mx"])
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
) -> Rule605Rows:
    """Rows of the summary report for one reporter's month (orders received in ``month``).

    Rows are S&P 500 first, then market before marketable limit, sizes ascending with the
    combined below-$200,000 row (199999) before $200,000+. Buckets whose orders had no
    measurable execution are left out unless ``include_unexecuted``: the specification
    would leave their statistics empty, which the SEC's metadata marks as required.
    """
    frame, excluded = order_frame(order_quality, orders=orders, fills=fills, month=month)
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
) -> Rule605Rows:
    """Rows of the detailed report: one per symbol x lot size x notional size x order type.

    Fields 45-51 and 53-54 (best available displayed price incl. odd lots, size improvement,
    the two "Reg" quantities) need data ORDER_QUALITY does not carry and stay empty.
    """
    frame, excluded = order_frame(
        order_quality,
        orders=orders,
        fills=fills,
        month=month,
        market_center_venues=market_center_venues,
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
