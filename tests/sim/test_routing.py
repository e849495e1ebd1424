"""Routing policies and the price-improvement model, checked on the shared simulated market."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from pfof.sim.brokers import EXCHANGES, Broker, RoutingPolicy
from pfof.sim.config import SimConfig
from pfof.sim.market_centers import EQUITY_EXCHANGES, WHOLESALER_BY_ID

MICS = {e.mic for e in EQUITY_EXCHANGES}


@pytest.fixture(scope="module")
def rows(sim_market) -> dict[str, list[dict]]:
    names = ("orders", "routes", "fill_economics")
    return {n: sim_market.read_all(n).to_pylist() for n in names}


@pytest.fixture(scope="module")
def rates(sim_market) -> dict[tuple, Decimal]:
    return {
        (r["broker"], r["venue"], r["section"], r["order_type"]): r["rate"]
        for r in sim_market.read("arrangements").to_pylist()
    }


def _first_routes(rows: dict[str, list[dict]]) -> dict[str, str]:
    return {r["order_id"]: r["venue"] for r in rows["routes"] if r["seq"] == 1}


def _brokers(config: SimConfig, policy: RoutingPolicy) -> list[Broker]:
    return [b for b in config.brokers if b.policy == policy]


def _equity_wholesalers(config: SimConfig, policy: RoutingPolicy) -> tuple[str, list[str]]:
    (b,) = _brokers(config, policy)
    return b.name, [w for w in b.wholesalers if WHOLESALER_BY_ID[w].equities]


def test_max_pfof_routes_to_the_top_payer(sim_market, rows, rates) -> None:
    first = _first_routes(rows)
    brokers = _brokers(sim_market.config, RoutingPolicy.MAX_PFOF)
    assert len(brokers) == 2  # the default ZeroFee broker and the demo's
    for b in brokers:
        ws = [w for w in b.wholesalers if WHOLESALER_BY_ID[w].equities]
        n = 0
        for o in rows["orders"]:
            if o["broker"] != b.name or o["directed"] or o["section"] == "options":
                continue
            venue = first.get(o["order_id"])
            if venue not in ws:
                continue
            n += 1
            best = max(rates[(b.name, w, o["section"], o["order_type"])] for w in ws)
            assert rates[(b.name, venue, o["section"], o["order_type"])] == best, o
        assert n > 500, b.name


def test_best_pi_routes_to_the_best_expected_improvement(sim_market, rows, rates) -> None:
    broker, ws = _equity_wholesalers(sim_market.config, RoutingPolicy.BEST_PI)
    first = _first_routes(rows)
    # Spread-fraction terms: expected PI fraction = pi_base - slope * 2 * fraction.
    chosen = Counter(
        first[o["order_id"]]
        for o in rows["orders"]
        if o["broker"] == broker
        and not o["directed"]
        and o["section"] != "options"
        and first.get(o["order_id"]) in ws
    )
    score = {
        w: WHOLESALER_BY_ID[w].pi_base - 2 * float(rates[(broker, w, "sp500", "market")])
        for w in ws
    }
    # An order received on a one-sided or empty quote has no spread to improve: every
    # wholesaler scores zero and the tie is broken at random, so a rare one goes elsewhere.
    best = max(score, key=score.get)
    assert chosen[best] >= 0.99 * sum(chosen.values())
    assert sum(chosen.values()) > 300


def test_exchanges_only_never_uses_a_wholesaler(sim_market, rows) -> None:
    broker, _ = _equity_wholesalers(sim_market.config, RoutingPolicy.EXCHANGES_ONLY)
    venues = {
        f["venue"]
        for f in rows["fill_economics"]
        if f["broker"] == broker and f["section"] != "options"
    }
    assert venues and venues <= MICS


def test_fixed_split_shares(sim_market, rows) -> None:
    (b,) = _brokers(sim_market.config, RoutingPolicy.FIXED_SPLIT)
    first = _first_routes(rows)
    got = Counter()
    for o in rows["orders"]:
        if (
            o["broker"] == b.name
            and not o["directed"]
            and o["section"] != "options"
            and o["order_type"] in ("market", "marketable_limit")
            and o["order_id"] in first
        ):
            v = first[o["order_id"]]
            got[EXCHANGES if v in MICS else v] += 1
    total = sum(got.values())
    assert total > 300
    for venue, share in b.split:
        assert abs(got[venue] / total - share) < 0.06, (venue, got)


def test_directed_orders_go_where_directed(rows) -> None:
    first = _first_routes(rows)
    directed = [o for o in rows["orders"] if o["directed"] and o["order_id"] in first]
    assert directed and all(first[o["order_id"]] in MICS for o in directed)


def test_price_improvement_shrinks_as_pfof_grows(rows) -> None:
    x, y = [], []
    for f in rows["fill_economics"]:
        if (
            f["liquidity"] != "principal"
            or f["order_type"] != "market"
            or f["section"] == "options"
            or f["quote_position_exec"] is None
        ):
            continue
        half = (Decimal(repr(f["nbbo_ask_exec"])) - Decimal(repr(f["nbbo_bid_exec"]))) / 2
        if half <= 0:
            continue
        qty = Decimal(repr(f["quantity"]))
        x.append(float(f["pfof_usd"] / qty / half) if f["pfof_usd"] else 0.0)
        y.append(float(f["price_improvement_usd"] / qty / half))
    x, y = np.array(x), np.array(y)
    assert len(x) > 500
    assert (y >= 0).all() and (y < 1).all()  # at or inside the quote
    lo, hi = np.quantile(x, [1 / 3, 2 / 3])
    assert y[x <= lo].mean() > y[x >= hi].mean() + 0.05
    assert np.corrcoef(x, y)[0, 1] < -0.2


def test_every_fill_has_a_route(rows) -> None:
    routed = defaultdict(set)
    for r in rows["routes"]:
        routed[r["order_id"]].add(r["venue"])
    for f in rows["fill_economics"]:
        assert f["venue"] in routed[f["order_id"]], f


def test_payment_tables_have_exact_decimals(sim_market) -> None:
    p = sim_market.read("payments")
    assert p.schema.field("amount").type == pa.decimal128(26, 6)
    assert all(isinstance(v, Decimal) for v in p.column("amount").to_pylist())


def test_every_order_is_filled_or_cancelled_exactly(sim_market) -> None:
    """Quantities are conserved: fills plus cancels equal the order, for every order."""
    done: dict[str, Decimal] = defaultdict(Decimal)
    for name in ("fills", "cancels"):
        t = sim_market.read_all(name)
        for oid, q in zip(
            t.column("order_id").to_pylist(), t.column("quantity").to_pylist(), strict=True
        ):
            done[oid] += Decimal(repr(q))
    orders = sim_market.read_all("orders")
    for oid, q in zip(
        orders.column("order_id").to_pylist(), orders.column("quantity").to_pylist(), strict=True
    ):
        assert done.pop(oid, Decimal(0)) == Decimal(repr(q)), oid
    assert not done  # no fill or cancel of an unknown order
