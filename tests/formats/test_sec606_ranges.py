"""Figures out of range are refused at the door (report rules ``figure-range`` and
``venue-hhi``): validate, read and ingest all say so by name, strict or lenient, and nothing
pfof stores can break a later query."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from conftest import shared_path
from pfof.errors import Severity
from pfof.formats.sec606 import Rule606Error, figure_problem, read_606, validate_606
from pfof.model.reports606 import A1_PLACES, B3_PLACES, FIGURE_INTEGER_DIGITS
from support.report_copies import SCHWAB_Q1_CELL, replace_once

USD = b"<netPmtPaidRecvMarketOrdersUsd>%s</netPmtPaidRecvMarketOrdersUsd>"


def schwab_q1() -> bytes:
    return shared_path("real-606", "schwab", "606-CHAS-2020Q1.xml").read_bytes()


@pytest.mark.parametrize("digits", [16, 27, 30, 400])
def test_a_dollar_amount_with_too_many_digits_is_a_named_error_strict_and_lenient(
    digits: int,
) -> None:
    data = replace_once(schwab_q1(), SCHWAB_Q1_CELL, USD % (b"9" * digits + b".00"))
    for strict in (False, True):
        verdict = validate_606(data, strict=strict)
        assert not verdict.valid and verdict.schema_valid  # the SEC schema sets no bound
        (error,) = verdict.errors
        assert error.rule == "figure-range" and error.severity is Severity.ERROR
        assert error.path.endswith("rVenue[1]/netPmtPaidRecvMarketOrdersUsd") and error.line
        assert f"{digits} digits before the decimal point" in error.message
        assert len(error.message) < 300  # a 400-digit value is not repeated whole
    with pytest.raises(Rule606Error, match="figure-range"):
        read_606(data)


def test_the_largest_amount_pfof_holds_is_accepted() -> None:
    biggest = b"-" + b"9" * FIGURE_INTEGER_DIGITS + b".99"
    data = replace_once(schwab_q1(), SCHWAB_Q1_CELL, USD % biggest)
    venue = read_606(data).report.months[0].sp500.venues[0]
    assert venue.market_usd == Decimal(biggest.decode())


def test_more_decimal_places_than_the_store_keeps_are_refused_but_trailing_zeros_pass() -> None:
    tag = b"<netPmtPaidRecvMarketOrdersCph>%s</netPmtPaidRecvMarketOrdersCph>"
    cph, long, padded = (tag % v for v in (b"9.2765", b"9.276500000001", b"9.2765" + b"0" * 14))
    rejected = validate_606(replace_once(schwab_q1(), cph, long))
    assert [e.rule for e in rejected.errors] == ["figure-range"]
    assert "12 decimal places" in rejected.errors[0].message
    assert validate_606(replace_once(schwab_q1(), cph, padded)).valid


def test_figure_problem_counts_digits_not_characters() -> None:
    assert figure_problem(Decimal("000000000000000000123.4500"), A1_PLACES) is None
    assert figure_problem(Decimal("0.0000000001"), A1_PLACES) is None
    assert figure_problem(Decimal("0.00000000001"), A1_PLACES) is not None
    assert figure_problem(Decimal("1e15"), A1_PLACES) is not None
    assert figure_problem(Decimal("0.000000000000000001"), B3_PLACES) is None


def test_a_b3_figure_beyond_the_store_is_refused() -> None:
    sample = shared_path("sec-606", "606b3_not_held_customer_handling_1mo.xml").read_bytes()
    start = sample.index(b"<routedShr>") + len(b"<routedShr>")
    end = sample.index(b"</routedShr>", start)
    data = sample[:start] + b"1" * 21 + sample[end:]
    verdict = validate_606(data)
    assert [e.rule for e in verdict.errors] == ["figure-range"]
    assert verdict.errors[0].path.endswith("/routedShr")


def test_venue_percentages_over_an_hhi_of_10000_are_a_named_warning(tmp_path: Path) -> None:
    """Two venues each said to receive 80 % of the orders: HHI 12,800, possible only when an
    order routed to several venues counts for each (pfof's own ``--routes all`` does so)."""
    data = schwab_q1()
    first = data.index(b"<orderPct>")
    second = data.index(b"<orderPct>", first + 1)
    for at in (second, first):  # replace from the end so that offsets stay valid
        end = data.index(b"</orderPct>", at)
        data = data[: at + len(b"<orderPct>")] + b"80.00" + data[end:]
    verdict = validate_606(data, strict=True)
    assert verdict.valid  # the figures are kept, the rule named
    (warning,) = [w for w in verdict.warnings if w.rule == "venue-hhi"]
    assert warning.path == "rMonthly[mon=1]/rSP500/rVenues"
    assert "above the 10000" in warning.message and warning.severity is Severity.WARNING
    assert not [w for w in validate_606(schwab_q1()).warnings if w.rule == "venue-hhi"]
