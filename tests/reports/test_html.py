"""The self-contained HTML report: valid HTML, no network references, plotly.js inline."""

from __future__ import annotations

import re

import lxml.html
import polars as pl
import pyarrow as pa
import pytest
from plotly.offline import get_plotlyjs

from pfof.engine.counterfactual import compare, outcome, total_payments, total_price_improvement
from pfof.engine.quality import order_quality
from pfof.engine.routing import with_first_venue
from pfof.model.money import format_usd
from pfof.reports.html import ReportInput, render_html, write_html


def _quality(days: list[dict[str, pa.Table]]) -> pa.Table:
    return pa.concat_tables(
        with_first_venue(order_quality(t["orders"], t["fills"], t["nbbo"]), t["routes"])
        for t in days
    )


@pytest.fixture(scope="module")
def report_input(sim_market, sim_best_price) -> ReportInput:
    """The demo broker of the shared simulated market, as routed and under best price."""
    broker, mine = sim_market.demo_broker, sim_market.for_broker
    names = ("orders", "fills", "nbbo", "routes")
    actual = [mine(sim_market.day_tables(d, names), broker) for d in sim_market.days()]
    alt = [mine(t, broker) for t in sim_best_price.days]
    quality, alt_q = _quality(actual), _quality(alt)
    payments = mine({"payments": sim_market.read("payments")}, broker)["payments"]
    alt_payments = mine({"payments": sim_best_price.payments}, broker)["payments"]
    comparison = compare(
        outcome("actual", quality, payments, pa.concat_tables(t["routes"] for t in actual)),
        outcome("best", alt_q, alt_payments, pa.concat_tables(t["routes"] for t in alt)),
        quality,
        alt_q,
    )
    return ReportInput(
        title="Test <report>",
        broker="Broker & <script>alert(1)</script>",
        period="three days",
        quality=quality,
        payments=payments,
        comparison=comparison,
        files=[("a file", "x/y.csv")],
        notes=["a note"],
    )


def _external(doc: lxml.html.HtmlElement) -> list[str]:
    refs = []
    for el in doc.iter():
        for attr in ("src", "href", "data", "srcset"):
            value = el.get(attr) if isinstance(el.tag, str) else None
            if value and re.match(r"\s*(https?:)?//", value):
                refs.append(f"<{el.tag} {attr}={value}>")
    return refs


def test_report_is_valid_offline_html_with_plotly_inline(report_input: ReportInput) -> None:
    html = render_html(report_input)
    doc = lxml.html.document_fromstring(html)
    assert doc.tag == "html" and doc.find("head") is not None and doc.find("body") is not None
    assert _external(doc) == []
    # the plotly.js bundle itself names URLs it uses only for maps; nothing else does
    rest = html.replace(get_plotlyjs(), "")
    assert re.findall(r"https?://", rest) == []
    bundles = [s for s in doc.iter("script") if s.text and get_plotlyjs() in s.text]
    assert len(bundles) == 1 and bundles[0].get("src") is None
    divs = doc.find_class("plotly-graph-div")
    assert len(divs) == 7
    assert len({d.get("id") for d in divs}) == 7


def test_report_shows_the_engine_totals(report_input: ReportInput) -> None:
    doc = lxml.html.document_fromstring(render_html(report_input))
    cards = {
        c.find_class("label")[0].text_content(): c.find_class("value")[0].text_content()
        for c in doc.find_class("card")
    }
    pi = total_price_improvement(report_input.quality)
    assert cards["Customers' price improvement (marketable orders)"] == format_usd(pi)
    assert cards["Broker's net payment for order flow"] == format_usd(
        total_payments(report_input.payments)
    )
    c = report_input.comparison
    assert c is not None
    alt_pi = format_usd(c.alternative.price_improvement_usd)
    assert cards["Price improvement under best"].startswith(alt_pi)


def test_report_escapes_text_and_is_deterministic(report_input: ReportInput, tmp_path) -> None:
    html = render_html(report_input)
    assert "<script>alert(1)</script>" not in html
    assert "Broker &amp; &lt;script&gt;" in html
    path = write_html(report_input, tmp_path / "r" / "report.html")
    assert path.read_text(encoding="utf-8") == html


def test_report_without_comparison_has_no_counterfactual(report_input: ReportInput) -> None:
    data = ReportInput(
        title="t",
        broker="b",
        period="p",
        quality=report_input.quality,
        payments=report_input.payments,
    )
    doc = lxml.html.document_fromstring(render_html(data))
    assert len(doc.find_class("plotly-graph-div")) == 5
    assert doc.get_element_by_id("comparison", None) is None


def test_empty_payments_still_render(report_input: ReportInput) -> None:
    empty = pa.Table.from_pylist([], schema=pa.table(report_input.payments).schema)
    data = ReportInput(
        title="t", broker="b", period="p", quality=report_input.quality, payments=empty
    )
    doc = lxml.html.document_fromstring(render_html(data))
    assert "$0.00" in doc.text_content()


def test_small_venues_are_grouped_for_charts(report_input: ReportInput) -> None:
    from pfof.reports.charts import OTHER_VENUES, group_small_venues, measured_marketable

    q = pl.from_arrow(report_input.quality)
    assert isinstance(q, pl.DataFrame)
    counts = dict(measured_marketable(q).group_by("venue").len().iter_rows())
    total = sum(counts.values())
    small = {v for v, n in counts.items() if n < 0.05 * total}
    grouped = group_small_venues(q, 0.05)
    after = dict(measured_marketable(grouped).group_by("venue").len().iter_rows())
    assert len(small) >= 2  # exchanges receive only the few directed orders
    assert after[OTHER_VENUES] == sum(counts[v] for v in small)
    assert set(after) == (set(counts) - small) | {OTHER_VENUES}
    assert grouped.height == q.height
    assert group_small_venues(q, 0.0).equals(q)  # nothing is small: unchanged
