"""The dashboard in a real browser (Debian's headless Chromium under Playwright), against a
live server on a store of the shared real Schwab and Firstrade reports: every page loads with
no console error (so the Content-Security-Policy blocks nothing it needs), charts are drawn
with data, tables show the CLI's numbers, and a filter change updates the URL and the view.

The demo's store (simulated data, fictitious firms) is browsed too; ``PFOF_SCREENSHOTS=DIR``
saves screenshots of its main pages there (docs/ holds them: no real broker's data).
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from typer.testing import CliRunner

from pfof.cli import app as cli
from support.web_uploads import QUOTES, trades_csv

SCREENSHOTS = os.environ.get("PFOF_SCREENSHOTS")

#: Traces and points of a drawn Plotly chart, and whether Plotly's SVG is there.
CHART_STATE = """id => {
  const el = document.getElementById(id);
  const traces = (el && el.data) || [];
  const points = traces.reduce((n, t) => n + ((t.y || t.q1 || []).length), 0);
  return {svg: !!(el && el.querySelector('svg.main-svg')), traces: traces.length, points};
}"""


def _screenshot(tab: Any, name: str) -> None:
    if SCREENSHOTS:
        folder = Path(SCREENSHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        tab.page.screenshot(path=str(folder / name), full_page=False)


def _charts_drawn(tab: Any) -> list[dict[str, Any]]:
    ids = tab.page.eval_on_selector_all("figure.chart .plot", "els => els.map(e => e.id)")
    assert ids, "the page has no chart"
    states = [tab.page.evaluate(CHART_STATE, chart) for chart in ids]
    for chart, state in zip(ids, states, strict=True):
        assert state["svg"], f"{chart}: no SVG drawn"
        assert state["traces"] > 0 and state["points"] > 0, f"{chart}: empty chart {state}"
    return states


def _amount(value: str) -> str:
    number = Decimal(value)
    exponent = number.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{number:,.{places}f}"


@pytest.fixture(scope="module")
def cli_records(real_store: Path) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["brokers", "--db", str(real_store), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_overview_page_lists_the_store_and_logs_no_error(tab: Any, real_server: Any) -> None:
    tab.open(real_server.url + "/", charts=False)
    rows = tab.page.locator("#counts tbody tr")
    assert rows.count() >= 2
    assert "sources" in tab.page.inner_text("#counts")
    assert tab.errors == []


def test_brokers_page_draws_charts_and_shows_the_cli_numbers(
    tab: Any, real_server: Any, cli_records: list[dict[str, Any]]
) -> None:
    tab.open(real_server.url + "/brokers")
    _charts_drawn(tab)
    table = tab.page.locator("#brokers-table tbody tr")
    assert table.count() == len(cli_records)
    for record in (cli_records[0], cli_records[-1]):
        period = f"{record['year']}Q{record['quarter']}"
        row = tab.page.locator(f'#brokers-table tr[data-period="{period}"]').filter(
            has_text=record["broker"]
        )
        cell = row.locator('td[data-key="total_usd"]')
        assert cell.get_attribute("data-value") == record["total_usd"]
        assert cell.inner_text() == _amount(record["total_usd"])
    assert tab.errors == []


def test_broker_filter_change_updates_the_url_and_the_view(
    tab: Any, real_server: Any, cli_records: list[dict[str, Any]]
) -> None:
    tab.open(real_server.url + "/brokers")
    options = tab.page.locator("#broker-select option")
    schwab = next(
        options.nth(i).get_attribute("value")
        for i in range(options.count())
        if "schwab" in options.nth(i).inner_text().casefold()
    )
    tab.page.select_option("#broker-select", [schwab])
    tab.page.select_option("#quarter-select", ["2020Q1", "2020Q2"])
    tab.page.click("#apply")
    tab.page.wait_for_url("**/brokers?*")
    tab.page.wait_for_selector("body[data-charts]", state="attached")
    query = parse_qs(urlparse(tab.page.url).query)
    assert query == {"broker": [schwab], "quarter": ["2020Q1", "2020Q2"]}
    rows = tab.page.locator("#brokers-table tbody tr")
    assert rows.count() == 2
    assert all("schwab" in rows.nth(i).inner_text().casefold() for i in range(2))
    states = _charts_drawn(tab)
    assert states[0]["traces"] == 1  # one broker's line
    expected = [r for r in cli_records if "schwab" in r["broker"].casefold() and r["year"] == 2020][
        :2
    ]
    shown = tab.page.eval_on_selector_all(
        '#brokers-table td[data-key="total_usd"]', "els => els.map(e => e.dataset.value)"
    )
    assert shown == [r["total_usd"] for r in expected]
    # the download links carry the same filters
    assert parse_qs(urlparse(tab.page.get_attribute("#download-json", "href")).query) == query
    assert tab.errors == []


def test_broker_page_shows_venues_provenance_and_a_section_filter(
    tab: Any, real_server: Any
) -> None:
    tab.open(real_server.url + "/brokers")
    tab.page.locator("#brokers-table a", has_text="Firstrade").first.click()
    tab.page.wait_for_selector("body[data-charts]", state="attached")
    assert "firstrade" in tab.page.inner_text("#broker-name").casefold()
    _charts_drawn(tab)
    assert tab.page.locator("#venues-table tbody tr").count() > 0
    provenance = tab.page.inner_text("#sources-table")
    assert "routing_report_2020q1.xml" in provenance
    tab.page.select_option("#section-select", "options")
    tab.page.click("#apply")
    tab.page.wait_for_url("**section=options*")
    assert parse_qs(urlparse(tab.page.url).query) == {"section": ["options"]}
    assert tab.page.locator("#section-select").input_value() == "options"
    assert tab.errors == []


def test_reports_page_links_each_report_in_the_sec_layout(tab: Any, real_server: Any) -> None:
    tab.open(real_server.url + "/reports", charts=False)
    assert tab.page.locator("#reports-table tbody tr").count() == 24
    tab.page.locator("#reports-table a", has_text="view").first.click()
    tab.page.wait_for_load_state("load")
    assert "Order Routing Public Report" in tab.page.inner_text("h1")
    assert tab.page.locator("table").count() > 3
    # the linked style sheet applied (no inline style under the CSP): headings are shaded
    shade = tab.page.eval_on_selector("th", "e => getComputedStyle(e).backgroundColor")
    assert shade == "rgb(219, 233, 248)"
    assert tab.errors == []


def test_market_centers_page_says_there_is_no_rule_605_data(tab: Any, real_server: Any) -> None:
    tab.open(real_server.url + "/market-centers", charts=False)
    assert "no Rule 605 statistics" in tab.page.inner_text("#no-605")
    assert tab.errors == []


def test_market_centers_page_draws_the_605_statistics_of_the_library(
    tab: Any, demo_server: Any, demo_store: Path
) -> None:
    import pfof

    rows = pfof.market_center_quality(demo_store)
    assert rows  # the demo stores its wholesalers' 605 reports
    tab.open(demo_server.url + "/market-centers")
    states = _charts_drawn(tab)
    assert len(states) == 2
    assert [state["points"] for state in states] == [len(rows), len(rows)]  # a point a row
    shown = tab.page.locator(
        '#centers-table td[data-key="net_price_improvement_cents_per_share"]'
    ).all_inner_texts()
    assert shown == [_amount(str(r["net_price_improvement_cents_per_share"])) for r in rows]
    _screenshot(tab, "web-market-centers.png")
    assert tab.errors == []


def test_broker_page_draws_its_price_improvement_net_of_pfof(
    tab: Any, demo_server: Any, demo_store: Path
) -> None:
    import pfof

    estimates = [q.to_json() for q in pfof.broker_quality(demo_store)]
    assert estimates
    broker = estimates[0]["broker"]
    mine = [r for r in estimates if r["broker"] == broker]
    tab.open(demo_server.url + "/brokers")
    tab.page.locator("#brokers-table a", has_text=broker).first.click()
    tab.page.wait_for_selector("body[data-charts]", state="attached")
    assert tab.page.evaluate(CHART_STATE, "chart-quality")["points"] > 0
    for key in ("pi_cents_per_100_shares", "pfof_cents_per_100_shares", "coverage_pct"):
        cells = tab.page.locator(f'#quality-table td[data-key="{key}"]').all_inner_texts()
        assert cells == [_amount(r[key]) if r[key] is not None else "–" for r in mine], key
    assert tab.errors == []


def test_simulated_market_page_draws_policies_and_distributions(tab: Any, demo_server: Any) -> None:
    tab.open(demo_server.url + "/simulated")
    states = _charts_drawn(tab)
    assert len(states) == 4
    policies = tab.page.inner_text("#policies-table")
    assert "max_pfof" in policies and "best_pi" in policies
    assert tab.page.locator("#venue-stats-table tbody tr").count() > 0
    assert tab.errors == []


def test_audit_upload_produces_its_report(tab: Any, real_server: Any) -> None:
    tab.open(real_server.url + "/audit", charts=False)
    tab.page.set_input_files(
        "#trades-file", {"name": "trades.csv", "mimeType": "text/csv", "buffer": trades_csv()}
    )
    tab.page.set_input_files(
        "#quotes-file", {"name": "quotes.csv", "mimeType": "text/csv", "buffer": QUOTES}
    )
    tab.page.click("#apply")
    tab.page.wait_for_selector("#audit-trades")
    assert tab.page.locator("#audit-trades tbody tr").count() == 2
    total = tab.page.inner_text('#audit-summary td[data-key="total_price_improvement_usd"]')
    assert total == "3.90"
    assert tab.errors == []


def test_audit_page_refuses_a_bad_upload_and_keeps_serving(tab: Any, real_server: Any) -> None:
    tab.open(real_server.url + "/audit", charts=False)
    tab.page.set_input_files(
        "#trades-file", {"name": "trades.exe", "mimeType": "text/plain", "buffer": b"MZ"}
    )
    tab.page.set_input_files(
        "#quotes-file", {"name": "quotes.csv", "mimeType": "text/csv", "buffer": b"x"}
    )
    tab.page.click("#apply")
    assert "expected a file ending in .csv" in tab.page.inner_text("#error")
    tab.errors.clear()  # the 415 response itself is logged as a failed resource
    tab.open(real_server.url + "/brokers")
    assert tab.errors == []


def test_demo_store_pages_load_cleanly(tab: Any, demo_server: Any) -> None:
    """Every page of the demo's store draws with no console error (screenshots on request)."""
    tab.open(demo_server.url + "/brokers")
    _charts_drawn(tab)
    _screenshot(tab, "web-brokers.png")
    tab.page.locator("#brokers-table a", has_text="Large Broker").first.click()
    tab.page.wait_for_selector("body[data-charts]", state="attached")
    _charts_drawn(tab)
    _screenshot(tab, "web-broker.png")
    tab.open(demo_server.url + "/simulated")
    _screenshot(tab, "web-simulated.png")
    tab.open(demo_server.url + "/reports", charts=False)
    assert tab.page.locator("#reports-table tbody tr").count() > 1
    tab.page.locator("#reports-table a", has_text="view").first.click()
    tab.page.wait_for_load_state("load")
    assert "(simulated)" in tab.page.inner_text("h1")
    _screenshot(tab, "web-sec606.png")
    tab.open(demo_server.url + "/audit", charts=False)
    tab.page.set_input_files(
        "#trades-file", {"name": "trades.csv", "mimeType": "text/csv", "buffer": trades_csv()}
    )
    tab.page.set_input_files(
        "#quotes-file", {"name": "quotes.csv", "mimeType": "text/csv", "buffer": QUOTES}
    )
    tab.page.click("#apply")
    tab.page.wait_for_selector("#audit-trades")
    _screenshot(tab, "web-audit.png")
    assert tab.errors == []
