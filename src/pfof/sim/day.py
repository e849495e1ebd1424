"""One simulated trading day, end to end, as Arrow tables (canonical + ground truth)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from pfof.model.ground_truth import EXACT, FILL_ECONOMICS, RATE, WHOLESALER_PNL
from pfof.model.tables import CANCELS, FILLS, MONEY, NBBO, ORDERS, QUOTES, ROUTES, TS
from pfof.sim.arrow import decimals, prices, strings, timestamps
from pfof.sim.calendar import Session
from pfof.sim.config import SimConfig
from pfof.sim.economics import FillMoney, fill_money
from pfof.sim.execution import (
    BASES,
    LIQUIDITY,
    ORDER_TYPES,
    PRINCIPAL,
    SECTIONS,
    Context,
    Terms,
    Venues,
    execute_day,
)
from pfof.sim.orders import KIND_TO_TYPE, MICRO, SIDES, DayOrders, generate_orders
from pfof.sim.quotes import DayQuotes, generate_quotes
from pfof.sim.universe import Universe

#: Day-partitioned tables, in writing order.
DAY_TABLES = (
    "quotes",
    "nbbo",
    "orders",
    "routes",
    "fills",
    "cancels",
    "fill_economics",
    "wholesaler_pnl",
)


def day_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of day ``index``: independent of every other day, fixed by the seed."""
    return np.random.default_rng(np.random.SeedSequence([seed, 1, index]))


@dataclass
class DayResult:
    """A simulated day: its tables and the per-fill payments for the monthly roll-up."""

    tables: dict[str, pa.Table]
    payment_keys: list[tuple[str, str, str, str]]  # (broker, venue, section, order_type)
    payment_micro: list[int]


def _qty(micro: np.ndarray) -> np.ndarray:
    return np.asarray(micro, dtype=np.int64) / MICRO


def _seq(order: np.ndarray) -> np.ndarray:
    """1-based position of each row within its (sorted) order."""
    n = len(order)
    if n == 0:
        return np.zeros(0, np.int32)
    start = np.r_[True, order[1:] != order[:-1]]
    idx = np.arange(n)
    return (idx - np.maximum.accumulate(np.where(start, idx, 0)) + 1).astype(np.int32)


def simulate_day(cfg: SimConfig, u: Universe, session: Session) -> DayResult:
    """Simulate one session; pure function of (config, universe, session)."""
    rng = day_rng(cfg.seed, session.index)
    venues = Venues.build(u)
    terms = Terms.build(cfg, venues)
    dq = generate_quotes(
        u,
        session,
        rng,
        cfg.quotes_per_day,
        cfg.p_lock_cross,
        cfg.one_sided_per_day,
        venues.fee_rank,
    )
    do = generate_orders(cfg, u, session, dq, rng)
    ctx = Context(cfg, u, session, dq, do, rng, venues, terms)
    routes, fills, cancels = execute_day(ctx)
    r_order = np.lexsort((routes["stage"], routes["ts"], routes["order"]))
    routes = {k: a[r_order] for k, a in routes.items()}
    f_order = np.lexsort((fills["reason"], fills["stage"], fills["ts"], fills["order"]))
    fills = {k: a[f_order] for k, a in fills.items()}
    c_order = np.lexsort((cancels["ts"], cancels["order"]))
    cancels = {k: a[c_order] for k, a in cancels.items()}
    money = fill_money(ctx, fills)
    f_seq = _seq(fills["order"])
    tables = {
        "quotes": _quotes_table(u, dq, venues),
        "nbbo": _nbbo_table(u, dq),
        "orders": _orders_table(cfg, u, do),
        "routes": pa.table(
            {
                "order_id": do.order_id[routes["order"]].tolist(),
                "seq": _seq(routes["order"]),
                "venue": strings(routes["venue"], venues.names),
                "routed_ts": timestamps(routes["ts"], TS),
                "quantity": _qty(routes["qty"]),
            },
            schema=ROUTES,
        ),
        "fills": pa.table(
            {
                "order_id": do.order_id[fills["order"]].tolist(),
                "seq": f_seq,
                "venue": strings(fills["venue"], venues.names),
                "exec_ts": timestamps(fills["ts"], TS),
                "quantity": _qty(fills["qty"]),
                "price": prices(fills["price"]),
            },
            schema=FILLS,
        ),
        "cancels": pa.table(
            {
                "order_id": do.order_id[cancels["order"]].tolist(),
                "ts": timestamps(cancels["ts"], TS),
                "quantity": _qty(cancels["qty"]),
            },
            schema=CANCELS,
        ),
    }
    tables["fill_economics"] = _economics_table(cfg, u, session, do, fills, f_seq, money, venues)
    tables["wholesaler_pnl"] = _pnl_table(session, fills, money, venues)
    paid = money.basis >= 0
    oi = fills["order"][paid]
    keys = list(
        zip(
            np.array([b.name for b in cfg.brokers], dtype=object)[do.broker[oi]].tolist(),
            np.array(venues.names, dtype=object)[fills["venue"][paid]].tolist(),
            np.array(SECTIONS, dtype=object)[ctx.sec[do.sym[oi]]].tolist(),
            np.array(ORDER_TYPES, dtype=object)[ctx.otype[oi]].tolist(),
            strict=True,
        )
    )
    return DayResult(tables, keys, money.pfof_micro[paid].tolist())


def _quotes_table(u: Universe, dq: DayQuotes, venues: Venues) -> pa.Table:
    return pa.table(
        {
            "symbol": strings(dq.q_sym, u.symbols),
            "ts": timestamps(dq.q_ts, TS),
            "venue": strings(dq.q_venue, venues.names),
            "bid": prices(dq.q_bid),
            "bid_size": pa.array(dq.q_bid_size, pa.int64()),
            "ask": prices(dq.q_ask),
            "ask_size": pa.array(dq.q_ask_size, pa.int64()),
        },
        schema=QUOTES,
    )


def _nbbo_table(u: Universe, dq: DayQuotes) -> pa.Table:
    return pa.table(
        {
            "symbol": strings(dq.n_sym, u.symbols),
            "ts": timestamps(dq.n_ts, TS),
            "bid": prices(dq.n_bid),
            "bid_size": pa.array(dq.n_bid_size, pa.int64()),
            "ask": prices(dq.n_ask),
            "ask_size": pa.array(dq.n_ask_size, pa.int64()),
        },
        schema=NBBO,
    )


def _orders_table(cfg: SimConfig, u: Universe, do: DayOrders) -> pa.Table:
    names = [b.name for b in cfg.brokers]
    customer = [
        f"{names[b]}-{c:06d}" for b, c in zip(do.broker.tolist(), do.customer.tolist(), strict=True)
    ]
    return pa.table(
        {
            "order_id": do.order_id.tolist(),
            "broker": strings(do.broker, names),
            "customer_id": customer,
            "received_ts": timestamps(do.ts, TS),
            "symbol": strings(do.sym, u.symbols),
            "section": u.section[do.sym].tolist(),
            "side": strings(do.side, SIDES),
            "quantity": _qty(do.qty),
            "order_type": KIND_TO_TYPE[do.kind].tolist(),
            "limit_price": prices(do.limit),
            "stop_price": prices(do.stop),
            "time_in_force": do.tif.tolist(),
            "directed": do.directed_to >= 0,
            "held": do.held,
            # stop orders are 606's "other" orders; their stop_price makes them 605 stop orders
            "special_handling": pa.nulls(do.n, pa.string()),
        },
        schema=ORDERS,
    )


def _economics_table(
    cfg: SimConfig,
    u: Universe,
    session: Session,
    do: DayOrders,
    f: dict[str, np.ndarray],
    seq: np.ndarray,
    m: FillMoney,
    venues: Venues,
) -> pa.Table:
    oi = f["order"]
    n = len(oi)
    names = [b.name for b in cfg.brokers]
    no_pay = m.basis < 0
    return pa.table(
        {
            "order_id": do.order_id[oi].tolist(),
            "seq": seq,
            "date": pa.array([session.day] * n, pa.date32()),
            "broker": strings(do.broker[oi], names),
            "venue": strings(f["venue"], venues.names),
            "routed_by": strings(np.maximum(f["by"], 0), venues.names, f["by"] < 0),
            "symbol": strings(do.sym[oi], u.symbols),
            "section": u.section[do.sym[oi]].tolist(),
            "order_type": KIND_TO_TYPE[do.kind[oi]].tolist(),
            "side": strings(do.side[oi], SIDES),
            "liquidity": LIQUIDITY[f["liq"]].tolist(),
            "exec_ts": timestamps(f["ts"], TS),
            "quantity": _qty(f["qty"]),
            "price": prices(f["price"]),
            "nbbo_bid_receipt": prices(do.bid[oi]),
            "nbbo_ask_receipt": prices(do.ask[oi]),
            "nbbo_bid_exec": prices(m.bid_x),
            "nbbo_ask_exec": prices(m.ask_x),
            "nbbo_state_exec": m.state.tolist(),
            "quote_position_exec": m.position.tolist(),
            "outside_reason": m.reason.tolist(),
            "pfof_basis": strings(np.maximum(m.basis, 0), BASES, no_pay),
            "pfof_rate": decimals(m.rate_e8, RATE, no_pay),
            "pfof_usd": decimals(m.pfof_micro, MONEY),
            "price_improvement_usd": decimals(m.pi_pico, EXACT, m.pi_null),
            "price_improvement_receipt_usd": decimals(m.pi_r_pico, EXACT, m.pi_r_null),
            "wholesaler": strings(np.maximum(m.wholesaler, 0), venues.names, m.wholesaler < 0),
            "spread_capture_usd": decimals(m.sc_pico, EXACT),
            "fees_usd": decimals(m.fee_pico, EXACT),
            "wholesaler_pnl_usd": decimals(m.pnl_pico, EXACT),
        },
        schema=FILL_ECONOMICS,
    )


def _pnl_table(
    session: Session, f: dict[str, np.ndarray], m: FillMoney, venues: Venues
) -> pa.Table:
    """Per wholesaler: sums over the fills whose P&L it bears (exact integer sums)."""
    principal = (f["liq"] == PRINCIPAL) & (f["venue"] >= venues.wholesaler0)
    ws = sorted(set(m.wholesaler[m.wholesaler >= 0].tolist()))
    rows: dict[str, list] = {k: [] for k in WHOLESALER_PNL.names}
    for w in ws:
        mine = m.wholesaler == w
        p = mine & principal
        rows["date"].append(session.day)
        rows["wholesaler"].append(venues.names[w])
        rows["fills"].append(int(p.sum()))
        rows["quantity"].append(int(f["qty"][p].sum()) / MICRO)
        for col, vals in (
            ("spread_capture_usd", m.sc_pico[p]),
            ("price_improvement_usd", m.pi_pico[p]),
            ("pfof_usd", m.pfof_micro[p].astype(object) * 10**6),
            ("fees_usd", m.fee_pico[mine]),
            ("pnl_usd", m.pnl_pico[mine]),
        ):
            rows[col].append(int(sum(vals.tolist())))
    cols = {}
    for k in WHOLESALER_PNL.names:
        typ = WHOLESALER_PNL.field(k).type
        if typ == EXACT:
            cols[k] = _exact_from_ints(rows[k])
        else:
            cols[k] = pa.array(rows[k], typ)
    return pa.table(cols, schema=WHOLESALER_PNL)


def _exact_from_ints(values: list[int]) -> pa.Array:
    from decimal import Decimal

    return pa.array([Decimal(v).scaleb(-12) for v in values], EXACT)
