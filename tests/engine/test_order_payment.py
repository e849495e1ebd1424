"""Payment rates for one order from 606(a)(1) cells: a venue's payment-weighted rate, the
broker's routing-weighted rate, venue matching across spellings, and why a rate is missing."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from pfof.engine.order_payment import PaymentRate, PaymentRateBook, payment_usd
from pfof.model.enums import OrderType, Section
from pfof.model.reports606 import A1Cell

MARKET = OrderType.MARKET


def cell(name: str | None, month: int = 4, **kw: object) -> A1Cell:
    values: dict[str, object] = {
        "broker": "Example Brokerage, LLC",
        "year": 2024,
        "quarter": 2,
        "month": month,
        "section": Section.SP500,
        "venue_name": name,
        "mic": None,
        "mpid": None,
        "order_type": MARKET,
        "venue_pct": Decimal(10),
        "routed_pct": Decimal(10),
        "net_payment_usd": Decimal(100),
        "rate": Decimal(10),
        "venue_index": 1,
    }
    values.update(kw)
    return A1Cell(**values)  # type: ignore[arg-type]


BOOK = PaymentRateBook(
    [
        cell(
            "Citadel Securities LLC", 4, mic="CDRG", net_payment_usd=Decimal(100), rate=Decimal(10)
        ),
        cell(
            "Citadel Securities LLC", 5, mic="CDRG", net_payment_usd=Decimal(300), rate=Decimal(20)
        ),
        cell("Virtu Americas, LLC", 4, mpid="NITE", routed_pct=Decimal(30), rate=Decimal(20)),
        cell("Two Sigma Securities", 4, routed_pct=Decimal(5)),
        cell("Two Rivers Execution", 4, routed_pct=Decimal(5)),
        cell(
            "Nasdaq Stock Market",
            4,
            mic="XNAS",
            routed_pct=Decimal(10),
            net_payment_usd=None,
            rate=None,
        ),
    ]
)


def rate(venue: str | None, **kw: object) -> PaymentRate:
    args = {"broker": "Example Brokerage", "year": 2024, "quarter": 2}
    args.update(kw)
    return BOOK.rate(args["broker"], args["year"], args["quarter"], Section.SP500, MARKET, venue)  # type: ignore[arg-type]


def test_a_venues_rate_is_payment_weighted_over_the_quarters_months() -> None:
    found = rate("CDRG")
    # 400 dollars over (100 / 10 + 300 / 20) = 25 dollars per cent-per-100-shares
    assert found.rate == Decimal(16) and found.basis == "venue"
    assert found.venue == "Citadel Securities LLC"


def test_venues_match_by_mic_mpid_name_spelling_or_an_unambiguous_prefix() -> None:
    assert rate("Citadel Securities, L.L.C.").rate == Decimal(16)
    assert rate("citadel").rate == Decimal(16)
    assert rate("NITE").rate == Decimal(20)
    assert rate("Virtu").venue == "Virtu Americas, LLC"
    assert rate("xnas").rate == 0  # listed, reported no payment: rate 0
    ambiguous = rate("Two")
    assert ambiguous.rate is None and ambiguous.missing == "venue_not_in_606"
    assert rate("Jane Street").missing == "venue_not_in_606"


def test_without_a_venue_the_rate_is_weighted_by_routing_shares() -> None:
    found = rate(None)
    # Citadel's two months at 10 % each, Virtu 30 %, the Two* venues 5 % each, Nasdaq 10 % at 0
    num = 10 * 10 + 10 * 20 + 30 * 20 + 5 * 10 + 5 * 10 + 10 * 0
    assert found.rate is not None and found.basis == "routing_weighted"
    assert abs(Fraction(found.rate) - Fraction(num, 70)) < Fraction(1, 10**40)


def test_a_missing_report_or_cell_is_said_to_be_missing() -> None:
    assert rate(None, quarter=3).missing == "no_606"
    assert rate(None, broker="Another Broker").missing == "no_606"
    other = BOOK.rate("Example Brokerage", 2024, 2, Section.OPTIONS, MARKET)
    assert other.rate is None and other.missing == "not_in_606"
    assert BOOK.has_report("EXAMPLE BROKERAGE LLC", 2024, 2)


def test_payments_are_cents_per_100_shares_or_per_contract() -> None:
    assert payment_usd(Decimal("12.5"), Decimal(200), Section.SP500) == Decimal("0.25")
    assert payment_usd(Decimal(50), Decimal(3), Section.OPTIONS) == Decimal("1.5")
