"""The one rounding rule and the money strings (model.money)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfof.errors import ParameterError
from pfof.model.money import dec_str, format_usd, money_str, round_half_up

D = Decimal


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (Fraction(1, 8), 2, "0.13"),
        (Fraction(-1, 8), 2, "-0.13"),
        (Fraction(1, 3), 4, "0.3333"),
        (Fraction(2, 3), 4, "0.6667"),
        (D("2.5"), 0, "3"),
        (D("-2.5"), 0, "-3"),
        (D("0.125"), 2, "0.13"),
        (D("-0.125"), 2, "-0.13"),
        (D("1.005"), 2, "1.01"),
        (D("7"), 3, "7.000"),
        (5, 0, "5"),
        (-5, 2, "-5.00"),
        (-15, -1, "-2E+1"),
    ],
)
def test_round_half_up_rounds_halves_away_from_zero(
    value: Fraction | Decimal | int, places: int, expected: str
) -> None:
    got = round_half_up(value, places)
    assert str(got) == expected and got.as_tuple().exponent == -places


@pytest.mark.parametrize("value", [D("-0.001"), Fraction(-1, 1000), D("-0.0049"), D("-0")])
def test_round_half_up_never_returns_negative_zero(value: Fraction | Decimal) -> None:
    assert str(round_half_up(value, 2)) == "0.00"


def test_round_half_up_is_exact_beyond_the_default_decimal_precision() -> None:
    big = D("123456789012345678901234567890.125")  # 33 digits: more than the context's 28
    assert str(round_half_up(big, 2)) == "123456789012345678901234567890.13"
    assert str(round_half_up(Fraction(big), 2)) == "123456789012345678901234567890.13"


@given(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**40), max_value=10**40),
    st.integers(min_value=0, max_value=12),
)
def test_round_half_up_gives_the_same_for_a_decimal_and_its_fraction(
    value: Decimal, places: int
) -> None:
    assert round_half_up(value, places) == round_half_up(Fraction(value), places)


@given(st.fractions(), st.integers(min_value=0, max_value=8))
def test_round_half_up_is_within_half_a_unit_of_the_exact_value(
    value: Fraction, places: int
) -> None:
    got = Fraction(round_half_up(value, places))
    assert abs(got - value) <= Fraction(1, 2 * 10**places)


@pytest.mark.parametrize("value", [D("NaN"), D("Infinity"), D("-Infinity")])
def test_round_half_up_refuses_non_finite_decimals(value: Decimal) -> None:
    with pytest.raises(ParameterError, match="not a finite number"):
        round_half_up(value, 2)


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (D("1234.5"), {}, "$1,234.50"),
        (D("-1234567.891"), {}, "-$1,234,567.89"),
        (0.125, {}, "$0.12"),  # half-even at output
        (0.135, {}, "$0.14"),
        (0.1 + 0.2, {}, "$0.30"),  # a float through its shortest repr
        (-0.001, {}, "$0.00"),  # never -$0.00
        (-0.001, {"signed": True}, "$0.00"),
        (3, {"signed": True}, "+$3.00"),
        (D("-3"), {"signed": True}, "-$3.00"),
        (0.01234, {"places": 4}, "$0.0123"),
        (1_000_000, {"places": 0}, "$1,000,000"),
    ],
)
def test_format_usd_writes_dollars_with_separators_and_one_sign(
    value: Decimal | float | int, kwargs: dict, expected: str
) -> None:
    assert format_usd(value, **kwargs) == expected


@given(st.decimals(min_value=D("-1e15"), max_value=D("1e15"), places=2))
def test_format_usd_reads_back_as_the_exact_cents(amount: Decimal) -> None:
    text = format_usd(amount)
    assert "$-" not in text and "-$0.00" not in text
    assert D(text.replace("$", "").replace(",", "")) == amount
    assert format_usd(amount, signed=True).startswith("+") == (amount > 0)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), D("NaN")])
def test_format_usd_refuses_non_finite_amounts(value: float | Decimal) -> None:
    with pytest.raises(ParameterError, match="not a finite number"):
        format_usd(value)


@given(st.decimals(min_value=D("-1e15"), max_value=D("1e15"), places=2))
def test_money_strings_are_exact_and_tidy(amount: Decimal) -> None:
    stored = amount.quantize(D("1e-10"))  # as read back from a DECIMAL(38, 10) column
    assert money_str(stored) == money_str(amount) == format(amount, "f")
    assert D(money_str(stored)) == amount


def test_money_str_keeps_sub_cent_digits_and_none() -> None:
    assert money_str(D("0.0050000000")) == "0.005"
    assert money_str(D(0)) == "0.00"
    assert money_str(None) is None


def test_dec_str_is_plain_and_rounds_half_even_to_places() -> None:
    assert dec_str(D("1E+3")) == "1000"
    assert dec_str(D("0.00005"), D("0.0001")) == "0.0000"
    assert dec_str(D("0.00015"), D("0.0001")) == "0.0002"
    assert dec_str(None) is None


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=6))
def test_format_usd_rounds_half_even_at_output(value: Decimal) -> None:
    text = format_usd(value)
    back = Decimal(text.replace("$", "").replace(",", ""))
    assert back == value.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert text.startswith("-$") == (back < 0)
    assert "$-" not in text and format_usd(value, signed=True).startswith("+") == (back > 0)
