"""OCC option symbols: every feed's spelling parsed to one canonical form, tickers left alone."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from pfof.model.option_symbols import OptionSymbol, canonical_symbol, parse_option_symbol


@pytest.mark.parametrize(
    "text",
    [
        "AAPL220520C00155000",
        "AAPL  220520C00155000",
        "O:AAPL220520C00155000",
        " aapl220520c00155000",
    ],
)
def test_every_spelling_of_a_contract_has_one_canonical_form(text: str) -> None:
    assert canonical_symbol(text) == "AAPL220520C00155000"
    assert parse_option_symbol(text) == OptionSymbol("AAPL", date(2022, 5, 20), "C", Decimal(155))


def test_fractional_strikes_and_roots_with_digits_round_trip() -> None:
    option = parse_option_symbol("SPXW  230616P04012500")
    assert option is not None and option.strike == Decimal("4012.5")
    assert option.symbol == "SPXW230616P04012500"
    assert canonical_symbol("AAPL1 230120C00150000") == "AAPL1230120C00150000"


@pytest.mark.parametrize("text", ["AAPL", "BRK.B", "AAPL221320C00155000", "AAPL220520X00155000"])
def test_tickers_and_malformed_contracts_are_not_options(text: str) -> None:
    assert parse_option_symbol(text) is None
    assert canonical_symbol(text) == text.upper()
