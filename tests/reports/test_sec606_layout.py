"""Rule 606 reports in the SEC's layout: the headings, tables and numbers of the SEC's own
renderings of its samples (``../shared/sec-606/*.pdf``), names escaped, and a PDF printed by
headless Chromium."""

from __future__ import annotations

import os
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import lxml.html
import pytest

from pfof.formats.sec606 import read_606
from pfof.model.reports606 import HeldOrderRoutingReport
from pfof.reports import sec606_layout
from pfof.reports.sec606_layout import ChromiumError, html_to_pdf, number, render_606_html

#: The first venue row of January 2020's S&P 500 table, as the SEC's PDF shows it.
SEC_FIRST_ROW = (
    "New York ... Stock Exchange, LLC. (XNYS) 39.80 36.70 10.00 39.00 29.50 "
    "1,000 0.0021 1,000 0.0021 1,000 0.0021 1,000 0.0021"
)


def _page(samples: Path, name: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(render_606_html(read_606(samples / name).report))


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _row(tr: lxml.html.HtmlElement) -> str:
    return " ".join(_text(cell) for cell in tr)


def test_a1_sample_has_the_sec_headings_and_first_row(sec606_samples: Path) -> None:
    page = _page(sec606_samples, "606a1_held_order_public_report.xml")
    assert _text(page.find(".//h1")) == (
        "B. Roker - Held NMS Stocks and Options Order Routing Public Report"
    )
    assert _text(page.find_class("period")[0]) == "1st Quarter, 2020"
    assert [_text(h) for h in page.iter("h2")][:3] == [
        "January 2020",
        "February 2020",
        "March 2020",
    ]
    first = page.find(".//section")
    assert _text(first.find("h3")) == "S&P 500 Stocks"
    summary, venues = first.findall("table")
    assert _row(summary.find(".//tbody/tr")) == "13.60 0.00 1.10 1.00 97.90"
    assert _row(venues.find(".//tbody/tr")) == SEC_FIRST_ROW
    assert len(venues.findall(".//thead/tr/th")) == 14
    assert "Material Aspects:" in _text(first)


def test_b3_sample_shows_customer_period_and_summary(sec606_samples: Path) -> None:
    page = _page(sec606_samples, "606b3_not_held_customer_handling.xml")
    text = _text(page)
    assert "B. Roker - Not-Held NMS Stocks Order Handling Report" in text
    assert "For C. Schtumer" in text and "Reporting Period 2019-12-01 to 2020-05-31" in text
    first = page.find(".//section")
    assert _text(first.find("h3")) == "Directed Orders"
    assert _row(first.find("table/tbody/tr")) == "133,293,840 53,889 231"


def test_b1_sample_lists_orders_routes_and_times(sec606_samples: Path) -> None:
    page = _page(sec606_samples, "606b1_held_exempt_not_held_customer_routing.xml")
    rows = [_row(r) for r in page.iterfind(".//section//tbody/tr")]
    assert rows and any("Directed" in r for r in rows)
    assert any(r.count(":") >= 2 for r in rows)  # times of transactions


def test_names_from_the_report_are_escaped(sec606_samples: Path) -> None:
    report = read_606(sec606_samples / "606a1_held_order_public_report.xml").report
    assert isinstance(report, HeldOrderRoutingReport)
    month = report.months[0]
    assert month.sp500 is not None
    venue = replace(month.sp500.venues[0], name="<script>alert(1)</script>")
    sp500 = replace(month.sp500, venues=(venue, *month.sp500.venues[1:]))
    evil = replace(report, bd="<b>Broker</b>", months=(replace(month, sp500=sp500),))
    html = render_606_html(evil)
    assert "<script>alert" not in html and "<b>Broker" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_a_linked_style_sheet_replaces_the_inline_one(sec606_samples: Path) -> None:
    report = read_606(sec606_samples / "606a1_held_order_public_report.xml").report
    html = render_606_html(report, stylesheet_href="/static/sec606_layout.css")
    assert "<style>" not in html and 'href="/static/sec606_layout.css"' in html
    assert "<style>" in render_606_html(report)


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Decimal("1000"), 0, "1,000"),
        (Decimal("0.0021"), 4, "0.0021"),
        (Decimal("13.6"), 2, "13.60"),
        (Decimal("-1234567.891"), 0, "-1,234,567.891"),
        (None, 2, ""),
    ],
)
def test_numbers_keep_their_reported_digits(value: Decimal | None, places: int, text: str) -> None:
    assert number(value, places) == text


def _chromium_or_skip() -> None:
    try:
        sec606_layout.find_chromium()
    except ChromiumError:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: CI must install Debian's chromium (.ci/run)")
        pytest.skip("Chromium is absent: install Debian's chromium to print PDFs")


def test_pdf_is_printed_by_chromium(sec606_samples: Path, tmp_path: Path) -> None:
    _chromium_or_skip()
    report = read_606(sec606_samples / "606a1_held_order_public_report.xml").report
    out = html_to_pdf(render_606_html(report), tmp_path / "a1.pdf")
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.count(b"/Type /Page") >= 3


def test_missing_chromium_is_named_with_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PFOF_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ChromiumError, match="apt-get install chromium"):
        html_to_pdf("<p>x</p>", tmp_path / "x.pdf")
