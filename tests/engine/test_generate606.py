"""Rule 606 from order logs (engine.rule606, engine.attribution, ``pfof rule606 generate`` and
``customer``), checked against the simulator's ground truth, the SEC schema and slow
pure-Python references of the routing percentages."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from conftest import SIM_CONFIG, shared_path
from pfof.engine.attribution import (
    payment_attribution,
    payments_from_attribution,
    reconcile,
    unreconciled,
)
from pfof.engine.generate606 import (
    customer_routing_report,
    held_order_routing_report,
    pcts_summing_to_100,
    per_hundred,
    venue_id,
)
from pfof.engine.quality import order_quality
from pfof.formats.sec606 import read_606, write_606
from pfof.model.enums import OrderType, Section
from pfof.model.reports606 import HeldOrderRoutingReport
from pfof.model.tables import ARRANGEMENTS, FILLS, NBBO, ORDERS, ROUTES
from pfof.sim.brokers import RoutingPolicy
from pfof.sim.run import SimSummary
from pfof.store.order_logs import load_order_logs

#: The shared simulated market (tests/conftest.py): three sessions over a month end (the Nov 27
#: half day, Nov 30, Dec 1 2026), five brokers (per-share, spread-fraction and
#: per-contract terms, exchanges' fees), a few option series, 300 customers per broker.
CONFIG = SIM_CONFIG
ZEROFEE, BESTEX, SPLIT = (
    next(b.name for b in CONFIG.brokers if b.policy is policy)
    for policy in (RoutingPolicy.MAX_PFOF, RoutingPolicy.BEST_PI, RoutingPolicy.FIXED_SPLIT)
)
CENT = Decimal("0.01")
NY = "America/New_York"


@pytest.fixture(scope="module")
def run(sim_market) -> tuple[Path, SimSummary]:
    return sim_market.out, sim_market.summary


@pytest.fixture(scope="module")
def out(run: tuple[Path, SimSummary]) -> Path:
    return run[0]


@pytest.fixture(scope="module")
def raw(sim_market) -> dict[str, pa.Table]:
    """Every table of the run, all brokers, as written."""
    names = ("orders", "routes", "fills", "nbbo", "fill_economics")
    tables = {n: sim_market.read_all(n) for n in names}
    tables["arrangements"] = sim_market.read("arrangements")
    tables["payments"] = sim_market.read("payments")
    return tables


@pytest.fixture(scope="module")
def attribution(raw: dict[str, pa.Table]) -> pa.Table:
    return payment_attribution(
        raw["orders"], raw["routes"], raw["fills"], raw["arrangements"], raw["nbbo"]
    )


BROKERS = [b.name for b in CONFIG.brokers]


@pytest.fixture(scope="module")
def reports(out: Path) -> dict[str, tuple[HeldOrderRoutingReport, HeldOrderRoutingReport]]:
    """Per broker: the 2026 Q4 report listing every venue, and the default (top ten + 5 %)."""
    result = {}
    for broker in BROKERS:
        tables = load_order_logs(out, broker=broker, start="2026-10-01", end="2026-12-31")
        every = held_order_routing_report(tables, broker, 2026, 4, max_venues=None)
        default = held_order_routing_report(tables, broker, 2026, 4)
        result[broker] = (every, default)
    return result


def con_with(**tables: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    return con


# ------------------------------------------------------------------ payments (item 6)


def test_attribution_sums_to_the_simulators_payments(
    raw: dict[str, pa.Table], attribution: pa.Table
) -> None:
    implied = payments_from_attribution(attribution)
    assert implied.num_rows == raw["payments"].num_rows > 0
    assert unreconciled(attribution, raw["payments"]) == []
    rows = reconcile(attribution, raw["payments"]).to_pylist()
    assert all(r["attributed"] == r["paid"] for r in rows)
    # every basis is exercised: per share, per contract, spread fraction
    assert set(attribution.column("basis").to_pylist()) == {
        "per_share",
        "per_contract",
        "spread_fraction",
    }


def test_attribution_matches_each_orders_recorded_payment(
    raw: dict[str, pa.Table], attribution: pa.Table
) -> None:
    con = con_with(fe=raw["fill_economics"], a=attribution)
    diff = con.sql(
        """WITH g AS (SELECT order_id, venue, pfof_basis AS basis, pfof_rate AS rate,
                             sum(pfof_usd) AS usd, count(*) AS n
                      FROM fe WHERE pfof_basis IS NOT NULL GROUP BY ALL),
                m AS (SELECT order_id, venue, basis, rate, sum(amount) AS usd, sum(fills) AS n
                      FROM a GROUP BY ALL)
           SELECT * FROM g FULL JOIN m USING (order_id, venue, basis, rate)
           WHERE g.usd IS DISTINCT FROM m.usd OR g.n IS DISTINCT FROM m.n"""
    ).fetchall()
    assert diff == []


def test_attribution_shows_a_difference_when_payments_do_not_follow_the_terms(
    raw: dict[str, pa.Table], attribution: pa.Table
) -> None:
    payments = raw["payments"].to_pylist()
    payments[0]["amount"] += Decimal("0.01")
    bad = unreconciled(attribution, pa.Table.from_pylist(payments, raw["payments"].schema))
    assert len(bad) == 1 and bad[0]["difference"] == Decimal("0.01")
    assert bad[0]["venue"] == payments[0]["venue"]


def ground_truth_cells(raw: dict[str, pa.Table], broker: str) -> dict[tuple, Decimal]:
    """Recorded PFOF of the broker's non-directed held (or option) orders, per month,
    section, venue and order type, exact, straight from fill_economics."""
    con = con_with(fe=raw["fill_economics"], o=raw["orders"])
    rows = con.execute(
        """SELECT month(fe.date), o.section, fe.venue, o.order_type, sum(fe.pfof_usd)
            FROM fe JOIN o USING (order_id)
            WHERE fe.broker = ? AND fe.pfof_basis IS NOT NULL AND NOT o.directed
              AND (o.held OR o.section = 'options')
            GROUP BY ALL""",
        [broker],
    ).fetchall()
    return {(m, s, v, t): usd for m, s, v, t, usd in rows}


def report_cells(report: HeldOrderRoutingReport) -> dict[tuple, Any]:
    out = {}
    for month in report.months:
        for section in Section:
            block = month.section(section)
            for v in block.venues if block else ():
                for t in OrderType:
                    out[month.mon, section.value, v.mic or v.mpid, t.value] = (v, t)
    return out


@pytest.mark.parametrize("broker", BROKERS)
def test_a1_net_payments_equal_recorded_payments_to_the_cent(
    raw: dict[str, pa.Table], reports: dict[str, Any], broker: str
) -> None:
    truth = ground_truth_cells(raw, broker)
    every, default = reports[broker]
    cells = report_cells(every)
    assert truth, "the broker was paid nothing: the test would prove nothing"
    for key in truth:
        assert key in cells, f"paid cell {key} missing from the report"
    for key, (venue, t) in cells.items():
        expected = truth.get(key, Decimal(0)).quantize(CENT, ROUND_HALF_UP)
        assert venue.usd(t) == expected, key
    # the default report lists a subset of venues with the very same figures
    for key, (venue, t) in report_cells(default).items():
        assert venue.usd(t) == cells[key][0].usd(t)


@pytest.mark.parametrize("broker", BROKERS)
def test_a1_net_payments_are_the_payments_table_less_excluded_orders(
    raw: dict[str, pa.Table], attribution: pa.Table, reports: dict[str, Any], broker: str
) -> None:
    """The simulator's ``payments`` also hold what directed and not-held stock orders paid
    (606(a)(1) leaves those out): payments minus the attribution of those orders, per cell,
    is the report's figure to the cent."""
    con = con_with(p=raw["payments"], a=attribution)
    rows = con.execute(
        """WITH x AS (SELECT venue, month, section, order_type, sum(amount) AS amount FROM a
                      WHERE broker = ? AND (directed OR NOT (held OR section = 'options'))
                      GROUP BY ALL)
           SELECT month(p.month), p.section, p.venue, p.order_type,
                  p.amount - coalesce(x.amount, 0)
           FROM p LEFT JOIN x USING (venue, month, section, order_type)
           WHERE p.broker = ?""",
        [broker, broker],
    ).fetchall()
    cells = report_cells(reports[broker][0])
    assert len(rows) > 10
    for month, section, venue, otype, amount in rows:
        key = (month, section, venue, otype)
        if key in cells:
            v, t = cells[key]
            assert v.usd(t) == amount.quantize(CENT, ROUND_HALF_UP), key
        else:  # a venue only excluded orders reached
            assert amount == 0, key


@pytest.mark.parametrize("broker", BROKERS)
def test_a1_rate_is_cents_per_hundred_routed_shares(
    raw: dict[str, pa.Table], reports: dict[str, Any], broker: str
) -> None:
    truth = ground_truth_cells(raw, broker)
    con = con_with(o=raw["orders"], r=raw["routes"])
    routed = {
        (m, s, v, t): Decimal(repr(q))
        for m, s, v, t, q in con.execute(
            f"""SELECT month(timezone('{NY}', o.received_ts)), o.section, r.venue, o.order_type,
                       sum(r.quantity)
                FROM o JOIN r USING (order_id)
                WHERE o.broker = ? AND r.seq = 1 AND NOT o.directed
                  AND (o.held OR o.section = 'options') GROUP BY ALL""",
            [broker],
        ).fetchall()
    }
    checked = 0
    for key, (venue, t) in report_cells(reports[broker][0]).items():
        usd = truth.get(key, Decimal(0))
        units = routed.get(key, Decimal(0))
        if units == 0:
            continue
        per = 100 if key[1] == "options" else 10_000
        expected = (usd * per / units).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        assert venue.cph(t) == expected, key
        checked += usd != 0
    assert checked > 0


@pytest.mark.parametrize("broker", BROKERS)
def test_a1_routing_percentages_against_a_slow_reference(
    raw: dict[str, pa.Table], reports: dict[str, Any], broker: str
) -> None:
    every = reports[broker][0]
    orders = [o for o in raw["orders"].to_pylist() if o["broker"] == broker]
    first_venue = {r["order_id"]: r["venue"] for r in raw["routes"].to_pylist() if r["seq"] == 1}
    for month in every.months:
        for section in Section:
            block = month.section(section)
            mine = [
                o
                for o in orders
                if o["section"] == section.value
                and (o["held"] or section is Section.OPTIONS)
                and o["received_ts"].astimezone(_ny()).month == month.mon
            ]
            if not mine:
                assert block is None
                continue
            assert block is not None
            nd = [o for o in mine if not o["directed"]]
            assert block.ndo_pct == ref_pct(len(nd), len(mine))
            type_pcts = [
                block.ndo_market_pct,
                block.ndo_marketable_limit_pct,
                block.ndo_nonmarketable_limit_pct,
                block.ndo_other_pct,
            ]
            assert sum(type_pcts) == Decimal("100.00")
            for t, p in zip(OrderType, type_pcts, strict=True):
                exact = Decimal(sum(o["order_type"] == t.value for o in nd) * 100) / len(nd)
                assert abs(p - exact) < CENT
            for v in block.venues:
                code = v.mic or v.mpid
                to_v = [o for o in nd if first_venue.get(o["order_id"]) == code]
                assert v.order_pct == ref_pct(len(to_v), len(nd))
                for t in OrderType:
                    of_t = [o for o in nd if o["order_type"] == t.value]
                    hit = sum(o["order_type"] == t.value for o in to_v)
                    assert v.pct(t) == (ref_pct(hit, len(of_t)) if of_t else Decimal("0.00"))
            shares = [v.order_pct for v in block.venues]
            assert shares == sorted(shares, reverse=True)


def _ny() -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(NY)


def ref_pct(part: int, total: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(total)).quantize(CENT, ROUND_HALF_UP)


# ------------------------------------------------------------------ validity


@pytest.mark.parametrize("broker", BROKERS)
def test_a1_is_strict_valid_and_valid_against_the_sec_xsd(
    reports: dict[str, Any], broker: str
) -> None:
    xsd = etree.XMLSchema(etree.parse(str(shared_path("sec-606", "oh-20191231.xsd"))))
    for report in reports[broker]:
        xml = write_606(report)
        result = read_606(xml, strict=True)
        assert result.strict_valid and result.warnings == []
        assert result.report == report  # nothing lost in writing and reading back
        assert xsd.validate(etree.fromstring(xml)), xsd.error_log
        months = [m.mon for m in report.months]
        assert months == [10, 11, 12]
        aspects = [
            v.material_aspects
            for m in report.months
            for s in Section
            if m.section(s)
            for v in m.section(s).venues
        ]
        assert aspects and all(broker in a for a in aspects)


def test_material_aspects_state_the_arrangements_terms(reports: dict[str, Any]) -> None:
    """Each listed wholesaler's text quotes the broker's term for market orders."""
    checked = 0
    for broker in CONFIG.brokers:
        terms = {
            (a.venue, a.section.value): a
            for a in broker.arrangements
            if a.order_type is OrderType.MARKET
        }
        for month in reports[broker.name][0].months:
            for section in Section:
                for v in month.section(section).venues if month.section(section) else ():
                    a = terms.get((v.mpid, section.value))
                    if a is None or a.rate == 0:
                        continue
                    if a.basis == "spread_fraction":
                        want = f"{(a.rate * 100).normalize():f}% of the NBBO quoted spread"
                    elif a.basis == "per_contract":
                        want = f"${a.rate:.2f} per contract on market orders"
                    else:
                        want = f"${a.rate:.4f} per share on market orders"
                    assert want in v.material_aspects, (broker.name, v.mpid)
                    assert v.material_aspects.startswith(SECTION_TITLES[section])
                    checked += 1
    assert checked >= 4


SECTION_TITLES = {
    Section.SP500: "S&P 500 stocks:",
    Section.OTHER_STOCKS: "Other NMS stocks:",
    Section.OPTIONS: "Options:",
}


def test_default_report_lists_top_ten_and_every_venue_with_five_percent(
    reports: dict[str, Any],
) -> None:
    for every, default in reports.values():
        for m_all, m_def in zip(every.months, default.months, strict=True):
            for section in Section:
                b_all, b_def = m_all.section(section), m_def.section(section)
                if b_all is None:
                    continue
                expected = [v for i, v in enumerate(b_all.venues) if i < 10 or v.order_pct >= 5]
                assert b_def.venues == tuple(expected)


# ------------------------------------------------------------------ price improvement


def test_price_improvement_at_receipt_equals_ground_truth(raw: dict[str, pa.Table]) -> None:
    """engine.quality measures improvement against the NBBO at receipt and only where that
    quote is usable (normal or locked, not stale); the simulator records both the receipt
    and the execution definitions per fill. On the same definition and the same orders they
    agree per order to a micro-dollar and in total to the cent."""
    q = order_quality(raw["orders"], raw["fills"], raw["nbbo"])
    con = con_with(q=q, fe=raw["fill_economics"])
    rows = con.sql(
        """SELECT q.order_id, q.price_improvement_usd, q.nbbo_bid, q.nbbo_ask,
                  sum(fe.price_improvement_receipt_usd) AS truth,
                  min(fe.nbbo_bid_receipt) AS bid, min(fe.nbbo_ask_receipt) AS ask
           FROM q JOIN fe USING (order_id)
           WHERE q.price_improvement_usd IS NOT NULL GROUP BY ALL"""
    ).fetchall()
    assert len(rows) > 1000
    total_engine, total_truth = 0.0, Decimal(0)
    for _, pi, bid, ask, truth, t_bid, t_ask in rows:
        assert (bid, ask) == (t_bid, t_ask)  # the same receipt quote
        assert abs(Decimal(repr(pi)) - truth) < Decimal("0.000001")
        total_engine += pi
        total_truth += truth
    assert abs(Decimal(repr(total_engine)) - total_truth) < Decimal("0.005")
    # Filled orders left unmeasured have no usable quote at receipt. "stale" ones (last
    # quote over 5 minutes old, e.g. received before the open) either had no quote that day
    # in the simulator (it looks within the day only) or the very same quote.
    unmeasured = con.sql(
        """SELECT q.nbbo_state, q.nbbo_bid, q.nbbo_ask,
                  min(fe.nbbo_bid_receipt), min(fe.nbbo_ask_receipt)
           FROM q JOIN fe USING (order_id)
           WHERE q.price_improvement_usd IS NULL GROUP BY ALL"""
    ).fetchall()
    assert unmeasured
    for state, bid, ask, t_bid, t_ask in unmeasured:
        assert state in {"crossed", "one_sided", "empty", "stale"}
        if state == "stale":
            assert (t_bid, t_ask) in {(None, None), (bid, ask)}


def test_price_improvement_at_execution_reconciles_with_the_run_summary(
    raw: dict[str, pa.Table], run: tuple[Path, SimSummary]
) -> None:
    """The simulator's headline improvement (SimSummary) is measured against the NBBO at
    execution on market and marketable limit orders: recomputed from the canonical fills
    and NBBO alone (as-of join at exec_ts) it matches per fill and to the cent in total."""
    con = con_with(f=raw["fills"], n=raw["nbbo"], o=raw["orders"], fe=raw["fill_economics"])
    rows = con.sql(
        f"""WITH x AS (
              SELECT f.order_id, f.seq, f.quantity, f.price, o.side, o.order_type, o.section,
                     CAST(timezone('{NY}', f.exec_ts) AS DATE) AS day, f.exec_ts, o.symbol
              FROM f JOIN o USING (order_id)),
            j AS (SELECT x.*, n.bid, n.ask FROM x ASOF LEFT JOIN
                    (SELECT *, CAST(timezone('{NY}', ts) AS DATE) AS day FROM n) n
                  ON x.symbol = n.symbol AND x.day = n.day AND x.exec_ts >= n.ts)
            SELECT j.order_type, j.side, j.section, j.quantity, j.price, j.bid, j.ask,
                   fe.price_improvement_usd
            FROM j JOIN fe USING (order_id, seq)"""
    ).fetchall()
    total = Decimal(0)
    for otype, side, section, qty, price, bid, ask, truth in rows:
        far = ask if side == "buy" else bid
        if far is None:
            assert truth == 0
            continue
        sign = 1 if side == "buy" else -1
        mult = 100 if section == "options" else 1
        pi = sign * (Decimal(repr(far)) - Decimal(repr(price))) * Decimal(repr(qty)) * mult
        assert abs(pi - truth) < Decimal("0.000001")
        if otype in ("market", "marketable_limit"):
            total += truth
    assert total.quantize(CENT) == run[1].price_improvement_usd.quantize(CENT)


# ------------------------------------------------------------------ 606(b)(1)


def busiest_customer(raw: dict[str, pa.Table], broker: str) -> str:
    con = con_with(o=raw["orders"])
    return con.execute(
        "SELECT customer_id FROM o WHERE broker = ? AND section = 'options' "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
        [broker],
    ).fetchall()[0][0]


def half_up_second(ts: datetime) -> datetime:
    micro = ts.microsecond
    base = ts.replace(microsecond=0)
    return base + timedelta(seconds=1) if micro >= 500_000 else base


def test_b1_contains_exactly_the_customers_orders_in_the_window(
    raw: dict[str, pa.Table], out: Path
) -> None:
    broker = ZEROFEE
    customer = busiest_customer(raw, broker)
    start, end = date(2026, 11, 30), date(2026, 12, 1)
    tables = load_order_logs(out, broker=broker, customer=customer, start=start, end=end)
    report = customer_routing_report(tables, broker, customer, start, end)
    xml = write_606(report)
    xsd = etree.XMLSchema(etree.parse(str(shared_path("sec-606", "oh-20191231.xsd"))))
    assert xsd.validate(etree.fromstring(xml)), xsd.error_log
    assert read_606(xml, strict=True).report == report

    # the reference, in plain Python over every row of the run
    lo = datetime(2026, 11, 30, tzinfo=UTC)
    hi = datetime(2026, 12, 2, tzinfo=UTC)
    expected = {
        o["order_id"]: o
        for o in raw["orders"].to_pylist()
        if o["broker"] == broker and o["customer_id"] == customer and lo <= o["received_ts"] < hi
    }
    routes: dict[str, list[str]] = defaultdict(list)
    for r in sorted(raw["routes"].to_pylist(), key=lambda r: (r["order_id"], r["seq"])):
        if r["order_id"] in expected and r["venue"] not in routes[r["order_id"]]:
            routes[r["order_id"]].append(r["venue"])
    execs: dict[tuple[str, str], list[tuple[date, Any]]] = defaultdict(list)
    for f in sorted(raw["fills"].to_pylist(), key=lambda f: f["exec_ts"]):
        if f["order_id"] in expected:
            t = half_up_second(f["exec_ts"].astimezone(UTC))
            execs[f["order_id"], f["venue"]].append((t.date(), t.time().replace(tzinfo=None)))

    lists = {"held": report.held, "not_held": report.not_held_exempt, "options": report.options}
    seen = set()
    for name, orders in lists.items():
        for order in orders:
            o = expected[order.order_id]
            want = "options" if o["section"] == "options" else "held" if o["held"] else "not_held"
            assert name == want
            assert order.directed == o["directed"]
            assert [r.mic or r.mpid for r in order.routes] == routes[order.order_id]
            for route in order.routes:
                got = [(t.date, t.time) for t in route.transactions]
                assert got == execs[order.order_id, route.mic or route.mpid]
            seen.add(order.order_id)
    assert seen == set(expected)
    assert len(report.options) > 0 and len(report.held) > 0


def test_execution_times_round_half_up_to_the_second() -> None:
    base = 1_793_000_000_000_000_000  # a whole second (ns)
    orders = pa.Table.from_pylist(
        [
            {
                "order_id": "A",
                "broker": "B",
                "customer_id": "C",
                "received_ts": base,
                "symbol": "X",
                "section": "sp500",
                "side": "buy",
                "quantity": 1.0,
                "order_type": "market",
                "limit_price": None,
                "stop_price": None,
                "time_in_force": "DAY",
                "directed": False,
                "held": True,
            }
        ],
        ORDERS,
    )
    routes = pa.Table.from_pylist(
        [{"order_id": "A", "seq": 1, "venue": "XNAS", "routed_ts": base, "quantity": 1.0}], ROUTES
    )
    offsets = [499_999_999, 500_000_000, 1_499_999_999, 86_399_500_000_000]
    fills = pa.Table.from_pylist(
        [
            {
                "order_id": "A",
                "seq": i,
                "venue": "XNAS",
                "exec_ts": base + off,
                "quantity": 0.1,
                "price": 1.0,
            }
            for i, off in enumerate(offsets)
        ],
        FILLS,
    )
    day = datetime.fromtimestamp(base // 10**9, UTC).date()
    report = customer_routing_report(
        {"orders": orders, "routes": routes, "fills": fills}, "B", "C", day, day
    )
    got = [datetime.combine(t.date, t.time, UTC) for t in report.held[0].routes[0].transactions]
    start = datetime.fromtimestamp(base // 10**9, UTC)
    assert [int((g - start).total_seconds()) for g in got] == [0, 1, 1, 86400]


# ------------------------------------------------------------------ sources and CLI


def test_duckdb_source_gives_the_same_report_as_parquet(
    out: Path, tmp_path: Path, reports: dict[str, Any], raw: dict[str, pa.Table]
) -> None:
    from pfof.store.canonical import load_parquet_dir

    db = tmp_path / "pfof.duckdb"
    load_parquet_dir(out, db)
    tables = load_order_logs(db, broker=BESTEX, start="2026-10-01", end="2026-12-31")
    report = held_order_routing_report(tables, BESTEX, 2026, 4, max_venues=None)
    assert report == reports[BESTEX][0]
    con = duckdb.connect(str(db), read_only=True)
    try:  # an open connection works too, and stays open
        again = load_order_logs(con, broker=BESTEX, start="2026-10-01", end="2026-12-31")
        assert con.sql("SELECT count(*) FROM orders").fetchall()[0][0] > 0
    finally:
        con.close()
    assert all(again[n].equals(tables[n]) for n in tables)
    customer = busiest_customer(raw, BESTEX)
    first, last = "2026-11-27", "2026-12-01"
    window = {"broker": BESTEX, "customer": customer, "start": first, "end": last}
    one = customer_routing_report(load_order_logs(db, **window), BESTEX, customer, first, last)
    from_folder = load_order_logs(out, **window)
    assert one == customer_routing_report(from_folder, BESTEX, customer, first, last)
    assert one.held


# ------------------------------------------------------------------ properties


def slow_selection(counts: dict[str, int], total: int) -> list[str]:
    ranked = sorted(counts, key=lambda v: (-counts[v], v))
    return [v for i, v in enumerate(ranked) if i < 10 or Decimal(counts[v]) * 100 / total >= 5]


VENUES = [
    "XNAS",
    "XNYS",
    "ARCX",
    "BATS",
    "EDGX",
    "IEXG",
    "MEMX",
    "SIMA",
    "SIMB",
    "SIMC",
    "SIMD",
    "SIME",
    "SIMF",
    "XBOS",
]


@st.composite
def logs(draw: st.DrawFn) -> dict[str, pa.Table]:
    t0 = 1_791_000_000_000_000_000  # 2026-10-03 UTC
    orders, routes = [], []
    for i in range(draw(st.integers(1, 60))):
        oid = f"o{i}"
        orders.append(
            {
                "order_id": oid,
                "broker": "B",
                "customer_id": "c",
                "received_ts": t0 + draw(st.integers(0, 20 * 86_400)) * 10**9,
                "symbol": "X",
                "section": draw(st.sampled_from(["sp500", "other_stocks", "options"])),
                "side": "buy",
                "quantity": float(draw(st.integers(1, 500))),
                "order_type": draw(st.sampled_from([t.value for t in OrderType])),
                "limit_price": None,
                "stop_price": None,
                "time_in_force": "DAY",
                "directed": draw(st.booleans()),
                "held": draw(st.booleans()),
            }
        )
        venues = draw(st.lists(st.sampled_from(VENUES), max_size=3))
        for seq, venue in enumerate(venues, start=1):
            routes.append(
                {
                    "order_id": oid,
                    "seq": seq,
                    "venue": venue,
                    "routed_ts": orders[-1]["received_ts"],
                    "quantity": orders[-1]["quantity"],
                }
            )
    return {
        "orders": pa.Table.from_pylist(orders, ORDERS),
        "routes": pa.Table.from_pylist(routes, ROUTES),
        "fills": FILLS.empty_table(),
        "arrangements": ARRANGEMENTS.empty_table(),
    }


@settings(max_examples=40)
@given(logs(), st.sampled_from(["first", "all"]))
def test_percentages_against_a_slow_reference(tables: dict[str, pa.Table], scope: str) -> None:
    report = held_order_routing_report(tables, "B", 2026, 4, routes_scope=scope)  # type: ignore[arg-type]
    orders = tables["orders"].to_pylist()
    routes = sorted(tables["routes"].to_pylist(), key=lambda r: (r["order_id"], r["seq"]))
    venues_of: dict[str, set[str]] = defaultdict(set)
    for r in routes:
        if scope == "all" or not venues_of[r["order_id"]]:
            venues_of[r["order_id"]].add(r["venue"])
    month = report.months[0]
    for section in Section:
        block = month.section(section)
        counted = [
            o
            for o in orders
            if o["section"] == section.value and (o["held"] or section is Section.OPTIONS)
        ]
        if not counted:
            assert block is None
            continue
        nd = [o for o in counted if not o["directed"]]
        assert block.ndo_pct == ref_pct(len(nd), len(counted))
        parts = [
            block.ndo_market_pct,
            block.ndo_marketable_limit_pct,
            block.ndo_nonmarketable_limit_pct,
            block.ndo_other_pct,
        ]
        if nd:
            assert sum(parts) == Decimal("100.00")
        counts: dict[str, int] = defaultdict(int)
        for o in nd:
            for v in venues_of[o["order_id"]]:
                counts[v] += 1
        listed = [v.mic or v.mpid for v in block.venues]
        assert listed == (slow_selection(counts, len(nd)) if nd else [])
        for v in block.venues:
            code = v.mic or v.mpid
            assert v.order_pct == ref_pct(counts[code], len(nd))
            for t in OrderType:
                of_t = [o for o in nd if o["order_type"] == t.value]
                hit = sum(code in venues_of[o["order_id"]] for o in of_t)
                assert v.pct(t) == (ref_pct(hit, len(of_t)) if of_t else Decimal("0.00"))
                assert v.usd(t) == 0 and v.cph(t) == 0
    xml = write_606(report)
    assert read_606(xml, strict=True).strict_valid


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=8).filter(lambda c: sum(c) > 0))
def test_largest_remainder_percentages(counts: list[int]) -> None:
    pcts = pcts_summing_to_100(counts)
    assert sum(pcts) == Decimal("100.00")
    total = sum(counts)
    for c, p in zip(counts, pcts, strict=True):
        exact = Decimal(c) * 100 / Decimal(total)
        assert abs(p - exact) < CENT
        assert p == p.quantize(CENT)


@given(st.integers(-(10**12), 10**12), st.integers(1, 10**9), st.booleans())
def test_cents_per_hundred_rounds_half_up_from_the_exact_ratio(
    micro_usd: int, units_micro: int, options: bool
) -> None:
    usd = Decimal(micro_usd).scaleb(-6)
    got = per_hundred(usd, units_micro, options)
    with localcontext() as ctx:
        ctx.prec = 80
        exact = usd * (100 if options else 10_000) / (Decimal(units_micro).scaleb(-6))
        assert got == exact.quantize(Decimal("0.0001"), ROUND_HALF_UP)
    assert per_hundred(Decimal(0), 0, options) == 0 and per_hundred(usd, 0, options) in (
        None,
        Decimal(0),
    )


def test_venue_identity() -> None:
    assert venue_id("XNAS").mic == "XNAS" and venue_id("XNAS").mpid is None
    assert venue_id("CDRG") == venue_id("CDRG", {"NITE": "x"})
    assert venue_id("CDRG").mpid == "CDRG" and venue_id("CDRG").mic is None
    assert venue_id("abc").mpid is None and venue_id("abc").name == "abc"
    assert venue_id("ZZZZ", {"ZZZZ": "Some Venue"}).name == "Some Venue"


# ------------------------------------------------------------------ E7: option order size


def _option_logs() -> dict[str, pa.Table]:
    """Option orders of broker B on Thursday 1 October 2026 (one stock order), every one
    non-directed and routed to SIMA, whose per-contract payment is $0.50."""
    t = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)  # 11:00 New York
    orders, routes, fills = [], [], []

    def order(
        oid: str, qty: float, otype: str = "market", limit: float | None = None, **kw: Any
    ) -> None:
        orders.append(
            {
                "order_id": oid,
                "broker": "B",
                "customer_id": "c",
                "received_ts": t,
                "symbol": kw.get("symbol", "XYZ261120C00050000"),
                "section": kw.get("section", "options"),
                "side": "buy",
                "quantity": qty,
                "order_type": otype,
                "limit_price": limit,
                "time_in_force": "DAY",
                "directed": False,
                "held": True,
            }
        )
        routes.append({"order_id": oid, "seq": 1, "venue": "SIMA", "routed_ts": t, "quantity": qty})
        for seq, (fq, fp) in enumerate(kw.get("fills", []), start=1):
            fills.append(
                {
                    "order_id": oid,
                    "seq": seq,
                    "venue": "SIMA",
                    "exec_ts": t + timedelta(milliseconds=seq),
                    "quantity": fq,
                    "price": fp,
                }
            )

    # market value = contracts x 100 x price; $50,000 or more leaves the order out
    order("lim_small", 100.0, "marketable_limit", 4.99, fills=[(100.0, 4.98)])  # 49,900
    order("lim_edge", 100.0, "marketable_limit", 5.00, fills=[(100.0, 4.90)])  # 50,000: out
    order("mkt_small", 10.0, fills=[(10.0, 49.99)])  # 49,990
    order("mkt_big", 10.0, fills=[(5.0, 50.00), (5.0, 50.10)])  # at 50.05: 50,050, out
    order("mkt_partial", 20.0, fills=[(10.0, 25.00)])  # 20 x 100 x 25.00 = 50,000: out
    order("mkt_quoted", 10.0)  # no fill: the NBBO's ask, 50.00 when quotes are given
    order("mkt_unknown", 1000.0)  # no fill, no quote: value unknown, counted
    order("stock", 10_000.0, symbol="XYZ", section="other_stocks", fills=[(10_000.0, 100.0)])
    arrangement = {
        "broker": "B",
        "venue": "SIMA",
        "section": "options",
        "basis": "per_contract",
        "rate": Decimal("0.50"),
        "valid_from": date(2026, 1, 1),
        "valid_to": None,
    }
    return {
        "orders": pa.Table.from_pylist(orders, ORDERS),
        "routes": pa.Table.from_pylist(routes, ROUTES),
        "fills": pa.Table.from_pylist(fills, FILLS),
        "arrangements": pa.Table.from_pylist(
            [{**arrangement, "order_type": t.value} for t in OrderType], ARRANGEMENTS
        ),
    }


def test_option_orders_of_50000_dollars_or_more_are_left_out_of_the_a1_report() -> None:
    tables = _option_logs()
    report = held_order_routing_report(tables, "B", 2026, 4)
    october = report.months[0]
    options = october.section(Section.OPTIONS)
    assert options is not None
    # counted: lim_small (marketable limit), mkt_small, mkt_quoted, mkt_unknown (market)
    assert (options.ndo_market_pct, options.ndo_marketable_limit_pct) == (
        Decimal("75.00"),
        Decimal("25.00"),
    )
    (venue,) = options.venues
    # paid: the counted orders' fills only, 100 + 10 contracts at $0.50
    assert venue.usd(OrderType.MARKETABLE_LIMIT) == Decimal("50.00")
    assert venue.usd(OrderType.MARKET) == Decimal("5.00")
    # 500 cents over the 10 + 10 + 1000 market contracts routed: 0.4902 cents per contract
    assert venue.cph(OrderType.MARKET) == Decimal("0.4902")
    # stock orders have no such limit in 606(a)(1)
    stocks = october.section(Section.OTHER_STOCKS)
    assert stocks is not None and stocks.ndo_pct == Decimal("100.00")
    assert stocks.venues[0].usd(OrderType.MARKET) == Decimal("0.00")


def test_an_unfilled_option_market_order_is_valued_at_the_nbbo_when_quotes_are_given() -> None:
    tables = _option_logs()
    t = datetime(2026, 10, 1, 14, 59, tzinfo=UTC)
    tables["nbbo"] = pa.Table.from_pylist(
        [
            {
                "symbol": "XYZ261120C00050000",
                "ts": t,
                "bid": 49.80,
                "bid_size": 10,
                "ask": 50.00,
                "ask_size": 10,
            }
        ],
        schema=NBBO,
    )
    options = held_order_routing_report(tables, "B", 2026, 4).months[0].section(Section.OPTIONS)
    assert options is not None
    # at the ask (buys) of 50.00: mkt_quoted 10 x 100 x 50 = $50,000 and mkt_unknown
    # 1000 x 100 x 50 = $5,000,000 are out; lim_small and mkt_small remain, half each
    assert (options.ndo_market_pct, options.ndo_marketable_limit_pct) == (
        Decimal("50.00"),
        Decimal("50.00"),
    )
    (venue,) = options.venues
    # $5.00 over mkt_small's 10 routed contracts: 50 cents per contract
    assert venue.usd(OrderType.MARKET) == Decimal("5.00")
    assert venue.cph(OrderType.MARKET) == Decimal("50.0000")
    # a quote from the day before does not value an order
    tables["nbbo"] = tables["nbbo"].set_column(
        1, "ts", pa.array([t - timedelta(days=1)], NBBO.field("ts").type)
    )
    options = held_order_routing_report(tables, "B", 2026, 4).months[0].section(Section.OPTIONS)
    assert options is not None and options.ndo_market_pct == Decimal("75.00")
