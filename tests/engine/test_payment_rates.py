"""Payment-weighted rates and implied volumes (engine.payment_rates)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pfof.engine.payment_rates import (
    exact_ratio,
    implied_volume,
    payment_weighted_rate,
)
from pfof.model.enums import Section
from pfof.model.reports606 import a1_cells
from support.a1_reports import D, report, section, venue


@given(
    st.decimals(min_value=D("0.0001"), max_value=D("500"), places=4),
    st.lists(
        st.decimals(min_value=D("0.01"), max_value=D("1e7"), places=2), min_size=1, max_size=30
    ),
)
def test_constant_rate_is_its_own_weighted_rate(rate: Decimal, amounts: list[Decimal]) -> None:
    venues = [
        venue(f"V{i}", market_usd=str(a), market_cph=str(rate)) for i, a in enumerate(amounts)
    ]
    cells = list(a1_cells(report("P", 2024, 1, [{"sp500": section(*venues)}])))
    got = payment_weighted_rate(cells)
    assert got is not None and abs(got - rate) < D("1e-30")


def test_weighted_rate_is_none_without_a_non_zero_rate() -> None:
    cells = a1_cells(report("P", 2024, 1, [{"sp500": section(venue("V", market_usd="5.00"))}]))
    assert payment_weighted_rate(cells) is None


def test_implied_volume_is_shares_for_stocks_and_contracts_for_options() -> None:
    # $1 at 1 cent per 100 shares = 10,000 shares; at 1 cent per contract = 100 contracts
    assert implied_volume(D(1), Section.SP500) == D(10_000)
    assert implied_volume(D(1), Section.OPTIONS) == D(100)


def test_exact_ratio_is_none_for_a_zero_denominator_and_keeps_50_digits() -> None:
    assert exact_ratio(D(1), D(0)) is None
    third = exact_ratio(D(1), D(3))
    assert third is not None and len(third.as_tuple().digits) == 50
