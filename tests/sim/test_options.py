"""The simulated options market: series, fair values, spreads, orders and improvement."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow.compute as pc
import pytest

from pfof.engine.option_pricing import IVStatus, implied_volatility
from pfof.engine.option_quality import parse_osi
from pfof.sim.calendar import trading_sessions
from pfof.sim.config import SimConfig
from pfof.sim.options import (
    OPTION_SERIES,
    RATE,
    fair_values,
    half_spread_bps,
    improvement_fraction,
    years_to_expiry,
)
from pfof.sim.prices import UNITS
from pfof.sim.run import day_tables, series_table
from pfof.sim.universe import build_universe

CONFIG = SimConfig(days=3, symbols=12, orders_per_day=3000, quotes_per_day=20_000, option_series=24)


def _universe(config: SimConfig = CONFIG):
    return build_universe(
        config, trading_sessions(config.start, config.days, config.calendar)[0].day
    )


def test_series_are_american_calls_and_puts_at_several_expiries_around_the_money() -> None:
    u = _universe()
    series = u.options
    assert series is not None and len(series.symbols) == 24
    terms = parse_osi(series.symbols)
    assert terms.column("underlying").null_count == 0
    assert set(terms.column("right").to_pylist()) == {"call", "put"}
    assert len(set(series.expiry)) == 3
    assert all(e > CONFIG.start for e in series.expiry)
    spot = u.open_units[0, series.underlying] / UNITS
    assert np.all(np.abs(series.strike / spot - 1) < 0.2)
    assert len(set(series.symbols)) == len(series.symbols)
    table = series_table(CONFIG)
    assert table.schema.equals(OPTION_SERIES) and table.num_rows == 24
    assert set(table.column("exercise").to_pylist()) == {"american"}


def test_opening_option_prices_are_baw_values_whose_implied_volatility_is_the_truth() -> None:
    u = _universe()
    series = u.options
    assert series is not None
    stock_open = u.open_units[:, : u.n_stocks] / UNITS
    years = years_to_expiry(series, CONFIG.start, CONFIG.days)
    fair = fair_values(series, stock_open, years)
    quoted = u.open_units[:, u.n_stocks :] / UNITS
    # Opening references are the fair values floored to the options tick (nickel above $3).
    assert np.all(quoted <= np.maximum(fair, 0.05) + 1e-9)
    assert np.all(quoted > np.maximum(fair, 0.05) - 0.05 - 1e-9)
    iv = implied_volatility(
        series.call[None, :],
        fair,
        stock_open[:, series.underlying],
        series.strike[None, :],
        years,
        RATE,
        series.dividend_yield[None, :],
    )
    ok = iv.status == IVStatus.OK
    assert ok.mean() > 0.9
    truth = np.broadcast_to(series.volatility[None, :], fair.shape)
    assert np.abs(iv.volatility - truth)[ok].max() < 1e-6


def test_option_half_spreads_widen_with_price_and_time_to_expiry() -> None:
    prices = np.array([0.5, 2.0, 8.0, 30.0])
    dollars = half_spread_bps(prices, 0.1) * prices / 1e4
    assert np.all(np.diff(dollars) > 0)
    by_expiry = half_spread_bps(np.full(3, 4.0), np.array([0.02, 0.2, 1.0]))
    assert np.all(np.diff(by_expiry) > 0)


def test_option_improvement_falls_as_the_payment_per_contract_rises() -> None:
    pay = np.array([0.0, 20.0, 50.0, 80.0])  # units of $0.0001 per share: 0-80 cents/contract
    frac = improvement_fraction(
        np.array(["SIMG"] * 4), pay, np.full(4, 500.0), np.zeros(4), np.ones(4)
    )
    assert frac[0] > 0 and np.all(np.diff(frac) < 0)
    at_quote = improvement_fraction(
        np.array(["SIMG"]), np.zeros(1), np.full(1, 500.0), np.zeros(1), np.zeros(1)
    )
    assert at_quote[0] == 0


@pytest.fixture(scope="module")
def day() -> dict:
    return day_tables(replace(CONFIG, option_order_share=0.2), 1)


def test_option_orders_are_small_simple_orders_with_improvement_at_wholesalers(day: dict) -> None:
    orders = day["orders"].filter(pc.equal(day["orders"].column("section"), "options"))
    assert orders.num_rows > 300
    qty = orders.column("quantity").to_numpy()
    assert qty.min() >= 1 and qty.max() <= 20
    assert set(orders.column("order_type").to_pylist()) <= {
        "market",
        "marketable_limit",
        "non_marketable_limit",
    }
    fe = day["fill_economics"]
    opt = fe.filter(
        pc.and_(
            pc.equal(fe.column("section"), "options"), pc.equal(fe.column("order_type"), "market")
        )
    )
    pi = np.array([float(v) for v in opt.column("price_improvement_receipt_usd").to_pylist()])
    assert (pi > 0).mean() > 0.2
    assert set(opt.column("pfof_basis").drop_null().to_pylist()) == {"per_contract"}


def test_stocks_do_not_depend_on_whether_options_are_listed() -> None:
    with_options = _universe()
    without = _universe(replace(CONFIG, option_series=0))
    n = without.n
    assert with_options.n_stocks == n
    assert np.array_equal(with_options.open_units[:, :n], without.open_units)
    for name in ("symbols", "vol", "half_spread_bps", "venue_mask", "listing"):
        assert np.array_equal(getattr(with_options, name)[:n], getattr(without, name)), name


def test_the_options_market_is_deterministic_per_seed() -> None:
    assert series_table(CONFIG).equals(series_table(CONFIG))
    assert not series_table(CONFIG).equals(series_table(replace(CONFIG, seed=5)))


def test_a_large_series_count_gives_distinct_listed_strikes() -> None:
    table = series_table(replace(CONFIG, option_series=400))
    symbols = table.column("symbol").to_pylist()
    assert len(symbols) == len(set(symbols)) == 400
    assert min(table.column("strike").to_pylist()) > 0


def test_606_from_the_logs_reports_the_option_orders_with_payment_per_contract(sim_market) -> None:
    import pfof
    from pfof.model.enums import Section

    broker = sim_market.config.brokers[0].name
    first = sim_market.config.start
    report = pfof.generate_606(sim_market.out, broker, first.year, (first.month - 1) // 3 + 1)
    blocks = [m.section(Section.OPTIONS) for m in report.months]
    blocks = [b for b in blocks if b is not None]
    assert blocks and all(b.venues for b in blocks)
    # Cents per contract of market orders at the paying options market maker.
    paid = [v.market_cph for b in blocks for v in b.venues if v.market_cph]
    assert paid and all(0 < p < 200 for p in paid)
