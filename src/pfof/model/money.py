"""Money and exact numbers: the one rounding rule of the SEC formats and every money string.

Amounts stay exact (``Decimal``, ``Fraction``, ``int``) until they are written; they are
rounded once, here:

* :func:`round_half_up`: the reports' rule (Rule 605 and 606 files): half away from zero,
  exact for any input size.
* :func:`dec_str` and :func:`money_str`: exact machine-readable strings (JSON, CSV).
* :func:`format_usd`: dollars as people read them (``-$1,234.56``), for the CLI and HTML.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from pfof.errors import ParameterError

__all__ = ["CENT", "dec_str", "format_usd", "money_str", "round_half_up"]

#: One cent, the quantum of reported dollar amounts.
CENT = Decimal("0.01")
#: Significant digits of intermediate quotients and roundings (far beyond any amount).
_PREC = 50


def _quantum(places: int) -> Decimal:
    return Decimal((0, (1,), -places))


def round_half_up(value: Fraction | Decimal | int, places: int) -> Decimal:
    """``value`` rounded to ``places`` decimals, a half rounding away from zero ("half up").

    Exact whatever the size of ``value`` (no context precision, no float on the way); the
    result has exactly ``places`` decimals and is never ``-0``. Raises
    :class:`~pfof.errors.ParameterError` for a NaN or infinite ``Decimal``.

    >>> round_half_up(Fraction(1, 8), 2), round_half_up(Decimal("-2.5"), 0)
    (Decimal('0.13'), Decimal('-3'))
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ParameterError(f"cannot round {value}: not a finite number")
        # enough digits for the whole result, so that quantize is exact
        prec = max(_PREC, value.adjusted() + places + 2)
        with localcontext(prec=prec, rounding=ROUND_HALF_UP):
            out = value.quantize(_quantum(places))
        return out.copy_abs() if out.is_zero() else out
    exact = Fraction(value)
    scaled = abs(exact) * Fraction(10) ** places
    q, r = divmod(scaled.numerator, scaled.denominator)
    if 2 * r >= scaled.denominator:
        q += 1
    return Decimal((int(exact < 0 and q != 0), tuple(int(d) for d in str(q)), -places))


def dec_str(value: Decimal | None, places: Decimal | None = None) -> str | None:
    """Plain (never scientific) decimal string; rounded half-even to ``places`` if given."""
    if value is None:
        return None
    if places is not None:
        with localcontext(prec=_PREC):
            value = value.quantize(places, rounding=ROUND_HALF_EVEN)
    return format(value, "f")


def money_str(value: Decimal | None) -> str | None:
    """Exact dollars with at least cents: ``0`` -> ``"0.00"``, ``1.5000000000`` (a DECIMAL(38, 10)
    column) -> ``"1.50"``; only zeros are ever dropped."""
    if value is None:
        return None
    with localcontext(prec=_PREC):
        value = value.normalize()
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent > -2:
            value = value.quantize(CENT)
    return format(value, "f")


def format_amount(value: Decimal | float | int, places: int = 2) -> str:
    """A number for display with thousands separators: ``1,234.56``, ``-0.50``.

    Rounded half-even to ``places`` decimals at output only (a float through its shortest
    ``repr``); a value that rounds to zero shows unsigned. Raises
    :class:`~pfof.errors.ParameterError` for NaN, infinity or negative ``places``.
    """
    if places < 0:
        raise ParameterError(f"places must be 0 or more, got {places}")
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if not amount.is_finite():
        raise ParameterError(f"cannot show {value} as an amount: not a finite number")
    with localcontext(prec=max(_PREC, amount.adjusted() + places + 2)):
        amount = amount.quantize(_quantum(places), ROUND_HALF_EVEN)
    return f"{amount.copy_abs() if amount.is_zero() else amount:,}"


def format_usd(value: Decimal | float | int, *, signed: bool = False, places: int = 2) -> str:
    """Dollars for display: ``$1,234.56``, ``-$0.50``; ``signed`` writes ``+$1.00`` too.

    Rounded as :func:`format_amount` (half-even at output only); an amount that rounds to zero
    shows as ``$0.00``, never ``-$0.00``.
    """
    text = format_amount(value, places)
    if text.startswith("-"):
        return f"-${text[1:]}"
    is_zero = not text.strip("0.,")
    return f"{'+' if signed and not is_zero else ''}${text}"
