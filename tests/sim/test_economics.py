"""Ground truth to the cent: fills within the NBBO or flagged, wholesaler P&L identity,
payments equal to the arrangements applied to the fills. Everything is recomputed here
from the canonical tables with Decimal arithmetic."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pyarrow as pa
import pytest

from pfof.sim.market_centers import WHOLESALER_BY_ID

MICRO = Decimal("0.000001")


def D(x: float | None) -> Decimal | None:
    """The decimal a float price/quantity stands for (they are written from exact units)."""
    return None if x is None else Decimal(repr(x))


def _ns(t: pa.Table, col: str) -> np.ndarray:
    return t.column(col).cast(pa.int64()).to_numpy()


class Nbbo:
    """As-of lookup of the NBBO in force (last row at or before a time) per symbol."""

    def __init__(self, nbbo: pa.Table) -> None:
        self.by_sym: dict[str, tuple[np.ndarray, list]] = {}
        rows = defaultdict(list)
        for s, t, b, a in zip(
            nbbo.column("symbol").to_pylist(),
            _ns(nbbo, "ts"),
            nbbo.column("bid").to_pylist(),
            nbbo.column("ask").to_pylist(),
            strict=True,
        ):
            rows[s].append((int(t), D(b), D(a)))
        for s, r in rows.items():
            self.by_sym[s] = (np.array([x[0] for x in r]), [(x[1], x[2]) for x in r])

    def at(self, sym: str, ts: int) -> tuple[Decimal | None, Decimal | None]:
        times, quotes = self.by_sym.get(sym, (np.array([], int), []))
        i = int(np.searchsorted(times, ts, "right")) - 1
        return quotes[i] if i >= 0 else (None, None)


def _state(bid: Decimal | None, ask: Decimal | None) -> str:
    if bid is not None and ask is not None:
        return "normal" if ask > bid else "locked" if ask == bid else "crossed"
    return "one_sided" if (bid is not None or ask is not None) else "empty"


@pytest.fixture(scope="module")
def per_day(sim_market) -> list[dict]:
    out = []
    for day in sim_market.days():
        t = {
            n: sim_market.read_day(n, day)
            for n in ("orders", "routes", "fills", "nbbo", "fill_economics", "wholesaler_pnl")
        }
        t["nbbo_lookup"] = Nbbo(t["nbbo"])
        t["day"] = day
        out.append(t)
    return out


def test_every_fill_is_within_the_nbbo_or_flagged(per_day) -> None:
    flagged = total = 0
    for d in per_day:
        fe = d["fill_economics"]
        fills = d["fills"]
        assert fe.column("order_id").equals(fills.column("order_id"))
        assert fe.column("seq").equals(fills.column("seq"))
        orders = {
            r["order_id"]: r for r in d["orders"].select(["order_id", "symbol", "side"]).to_pylist()
        }
        for r, ts in zip(fe.to_pylist(), _ns(fills, "exec_ts"), strict=True):
            o = orders[r["order_id"]]
            bid, ask = d["nbbo_lookup"].at(o["symbol"], int(ts))
            assert (D(r["nbbo_bid_exec"]), D(r["nbbo_ask_exec"])) == (bid, ask)
            state = _state(bid, ask)
            assert r["nbbo_state_exec"] == state
            price = D(r["price"])
            total += 1
            if state in ("normal", "locked"):
                far = ask if o["side"] == "buy" else bid
                better = price < far if o["side"] == "buy" else price > far
                pos = (
                    "at"
                    if price == far
                    else "inside"
                    if better and bid <= price <= ask
                    else "outside"
                )
                assert r["quote_position_exec"] == pos
                if pos == "outside":
                    assert r["outside_reason"] == "walked_book", r
                    flagged += 1
                else:
                    assert r["outside_reason"] is None
            else:
                assert r["quote_position_exec"] is None
                assert r["outside_reason"] in ("crossed_quote", "one_sided_quote", "no_quote")
                flagged += 1
    assert 0 < flagged < 0.01 * total


def test_principal_fills_are_at_or_inside_the_quote(per_day) -> None:
    """Wholesalers internalise marketable orders at or inside the NBBO, never outside."""
    n = 0
    for d in per_day:
        for r in d["fill_economics"].to_pylist():
            if r["liquidity"] == "principal" and r["order_type"] in ("market", "marketable_limit"):
                n += 1
                assert r["quote_position_exec"] in ("at", "inside"), r
    assert n > 100


def test_wholesaler_pnl_identity(per_day) -> None:
    for d in per_day:
        sums: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for r in d["fill_economics"].to_pylist():
            w = r["wholesaler"]
            if w is None:
                assert r["wholesaler_pnl_usd"] == 0 and r["fees_usd"] == 0
                continue
            qty = D(r["quantity"])
            mult = 100 if r["section"] == "options" else 1
            s = sums[w]
            if r["liquidity"] == "principal" and r["venue"] == w:
                bid, ask = D(r["nbbo_bid_exec"]), D(r["nbbo_ask_exec"])
                price = D(r["price"])
                far = ask if r["side"] == "buy" else bid
                sign = 1 if r["side"] == "buy" else -1
                sc = qty * (ask - bid) / 2 * mult
                pi = sign * (far - price) * qty * mult
                assert r["spread_capture_usd"] == sc and r["price_improvement_usd"] == pi
                assert r["fees_usd"] == WHOLESALER_BY_ID[w].clearing_fee * qty
                s["sc"] += sc
                s["pi"] += pi
                s["pfof"] += r["pfof_usd"]
                s["fills"] += 1
            else:
                assert r["routed_by"] == w and r["spread_capture_usd"] == 0
                assert r["pfof_usd"] == 0
            s["fees"] += r["fees_usd"]
            s["pnl"] += r["wholesaler_pnl_usd"]
        table = {r["wholesaler"]: r for r in d["wholesaler_pnl"].to_pylist()}
        assert set(table) == set(sums)
        for w, s in sums.items():
            row = table[w]
            assert row["fills"] == s["fills"]
            assert row["spread_capture_usd"] == s["sc"]
            assert row["price_improvement_usd"] == s["pi"]
            assert row["pfof_usd"] == s["pfof"]
            assert row["fees_usd"] == s["fees"]
            assert row["pnl_usd"] == s["pnl"]
            # The identity, exactly: P&L = spread capture - PI - PFOF - fees.
            assert row["pnl_usd"] == s["sc"] - s["pi"] - s["pfof"] - s["fees"]


def test_payments_equal_arrangements_applied_to_fills(sim_market, per_day) -> None:
    arr = {
        (r["broker"], r["venue"], r["section"], r["order_type"]): (r["basis"], r["rate"])
        for r in sim_market.read("arrangements").to_pylist()
    }
    expected: dict[tuple, Decimal] = defaultdict(Decimal)
    n_basis: dict[str, int] = defaultdict(int)
    for d in per_day:
        orders = {r["order_id"]: r for r in d["orders"].to_pylist()}
        first_venue = {r["order_id"]: r["venue"] for r in d["routes"].to_pylist() if r["seq"] == 1}
        recv = dict(
            zip(
                d["orders"].column("order_id").to_pylist(),
                _ns(d["orders"], "received_ts").tolist(),
                strict=True,
            )
        )
        month = d["day"].replace(day=1).isoformat()
        fe = d["fill_economics"].to_pylist()
        for f, g in zip(d["fills"].to_pylist(), fe, strict=True):
            o = orders[f["order_id"]]
            key = (o["broker"], f["venue"], o["section"], o["order_type"])
            if first_venue.get(f["order_id"]) != f["venue"] or key not in arr:
                assert g["pfof_basis"] is None and g["pfof_usd"] == 0
                continue
            basis, rate = arr[key]
            qty = D(f["quantity"])
            if basis == "spread_fraction":
                bid, ask = d["nbbo_lookup"].at(o["symbol"], recv[f["order_id"]])
                spread = max(ask - bid, 0) if bid is not None and ask is not None else 0
                mult = 100 if o["section"] == "options" else 1
                amount = rate * spread * qty * mult
            else:
                amount = rate * qty
            amount = amount.quantize(MICRO, rounding=ROUND_HALF_UP)
            assert g["pfof_usd"] == amount and g["pfof_basis"] == basis
            expected[(o["broker"], f["venue"], month, o["section"], o["order_type"])] += amount
            n_basis[basis] += 1
    got = {
        (r["broker"], r["venue"], r["month"].isoformat(), r["section"], r["order_type"]): r[
            "amount"
        ]
        for r in sim_market.read("payments").to_pylist()
    }
    assert got == dict(expected)
    assert set(n_basis) == {"per_share", "per_contract", "spread_fraction"}
    # Both directions of money: wholesalers pay brokers, brokers pay exchange access fees.
    assert max(got.values()) > 0 > min(got.values())
