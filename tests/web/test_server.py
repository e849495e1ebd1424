"""The dashboard's HTTP side (no browser): the API gives the CLI's numbers, every response has
its Content-Security-Policy, names from reports are escaped, request values never reach the
store's SQL, and the store is opened read-only."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pytest
from fastapi.testclient import TestClient
from plotly.offline import get_plotlyjs
from typer.testing import CliRunner

import pfof
from pfof.cli import app as cli
from pfof.engine.broker_comparison import BROKER_QUARTER_COLUMNS
from pfof.formats.sec606 import write_606
from pfof.sim.peer_disclosures import BROKERS, quarter_report
from pfof.web.server import CSP, PageCache, create_app, csv_cell

EVIL_VENUE = "<script>alert('venue')</script>"
EVIL_BROKER = "<img src=x onerror=alert(1)> Broker"


@pytest.fixture(scope="module")
def client(real_store: Path) -> TestClient:
    return TestClient(create_app(real_store))


def _cli_json(*args: str) -> list[dict]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _keys(client: TestClient) -> dict[str, str]:
    """Broker display name -> key, from the brokers page's links."""
    page = client.get("/brokers").text
    pairs = re.findall(r'<a href="/brokers/([^"]+)">([^<]+)</a>', page)
    return {html.unescape(name): unquote(key) for key, name in pairs}


def test_api_brokers_equals_cli_json_for_schwab_and_firstrade(
    client: TestClient, real_store: Path
) -> None:
    expected = _cli_json("brokers", "--db", str(real_store))
    got = client.get("/api/brokers").json()
    assert got == expected
    brokers = {r["broker"] for r in got}
    assert any("schwab" in b.casefold() for b in brokers)
    assert any("firstrade" in b.casefold() for b in brokers)
    assert all(isinstance(r["total_usd"], str) for r in got)  # exact decimal strings


def test_api_broker_filter_gives_the_cli_records_of_that_broker(
    client: TestClient, real_store: Path
) -> None:
    keys = _keys(client)
    schwab = next(name for name in keys if "Schwab" in name)
    expected = [r for r in _cli_json("brokers", "--db", str(real_store)) if r["broker"] == schwab]
    got = client.get("/api/brokers", params={"broker": keys[schwab]}).json()
    assert got == expected and len(got) == 12
    one = client.get("/api/brokers", params={"broker": keys[schwab], "quarter": "2020Q1"}).json()
    assert one == [r for r in expected if (r["year"], r["quarter"]) == (2020, 1)]


def test_brokers_csv_has_the_cli_columns_and_values(client: TestClient, real_store: Path) -> None:
    response = client.get("/api/brokers.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == BROKER_QUARTER_COLUMNS
    expected = _cli_json("brokers", "--db", str(real_store))
    assert [r["total_usd"] for r in rows] == [r["total_usd"] for r in expected]


def test_broker_api_lists_venues_and_provenance_of_its_reports(client: TestClient) -> None:
    keys = _keys(client)
    key = keys[next(name for name in keys if "firstrade" in name.casefold())]
    detail = client.get(f"/api/brokers/{key}", params={"section": "sp500"}).json()
    assert detail["venues"] and detail["quarters"]
    assert {v["section"] for v in detail["venues"]} == {"sp500"}
    assert len(detail["sources"]) == len(detail["quarters"])
    assert all(re.fullmatch(r"[0-9a-f]{64}", s["sha256"]) for s in detail["sources"])
    shares = [float(v["order_pct"]) for v in detail["venues"] if v["order_pct"] is not None]
    assert shares and all(0 <= s <= 100 for s in shares)


@pytest.mark.parametrize(
    "url", ["/", "/brokers", "/reports", "/market-centers", "/simulated", "/api/brokers", "/nope"]
)
def test_every_response_carries_the_content_security_policy(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.headers["content-security-policy"] == CSP
    assert "script-src 'self';" in CSP and "default-src 'self';" in CSP
    assert response.headers["x-content-type-options"] == "nosniff"


def test_pages_load_no_script_from_another_origin(client: TestClient) -> None:
    for url in ("/", "/brokers", "/reports", "/market-centers"):
        page = client.get(url).text
        sources = re.findall(r'<script[^>]*src="([^"]+)"', page)
        assert sources and all(s.startswith("/static/") for s in sources), sources
        assert "cdn" not in page.lower()


def test_plotly_js_is_served_by_pfof(client: TestClient) -> None:
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert response.content == get_plotlyjs().encode()


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/brokers?broker=nobody", 404, "no broker 'nobody'"),
        ("/api/brokers?quarter=2020Q1'%20OR%201=1--", 400, "expected YYYYQn"),
        ("/api/brokers?quarter=1999Q1", 404, "no report of quarter 1999Q1"),
        ("/api/brokers/x?section=sp500;DROP%20TABLE%20sources", 404, "no broker"),
        ("/reports/..%2F..%2Fetc%2Fpasswd", 404, "Not Found"),
        ("/reports/abc'", 404, "expected a SHA-256"),
        ("/reports/" + "0" * 64, 404, "no report with SHA-256"),
    ],
)
def test_bad_request_values_are_refused_with_a_message(
    client: TestClient, url: str, status: int, words: str
) -> None:
    response = client.get(url)
    assert response.status_code == status
    assert words in html.unescape(response.text)
    assert client.get("/api/brokers").status_code == 200  # and the store is intact


def test_bad_section_is_refused_naming_the_choices(client: TestClient) -> None:
    key = next(iter(_keys(client).values()))
    response = client.get(f"/api/brokers/{key}", params={"section": "sp500' --"})
    assert response.status_code == 400
    assert "sp500, other_stocks, options" in response.json()["error"]


def test_store_is_opened_read_only(real_store: Path) -> None:
    app = create_app(real_store)
    with pytest.raises(duckdb.Error, match="read-only"):
        app.state.view.cursor().execute("CREATE TABLE intruder (a INTEGER)")
    app.state.view.close()


def test_report_page_renders_the_stored_report_in_the_sec_layout(client: TestClient) -> None:
    sources = client.get("/api/reports").json()
    schwab = next(s for s in sources if "Schwab" in (s["broker"] or ""))
    page = client.get(f"/reports/{schwab['sha256']}")
    assert page.status_code == 200
    assert "Held NMS Stocks and Options Order Routing Public Report" in page.text
    assert "Material Aspects:" in page.text
    assert '<link rel="stylesheet" href="/static/sec606_layout.css">' in page.text
    assert "<style>" not in page.text  # the CSP allows no inline style


def test_report_whose_file_moved_is_rebuilt_from_the_stored_cells(tmp_path: Path) -> None:
    report = tmp_path / "a1.xml"
    report.write_bytes(write_606(quarter_report(BROKERS[0], 2025, 2)))
    db = tmp_path / "store.duckdb"
    con = pfof.connect(db)
    pfof.ingest([report], con)
    sha = con.execute("SELECT sha256 FROM sources").fetchall()[0][0]
    con.close()
    report.unlink()
    client = TestClient(create_app(db))
    page = client.get(f"/reports/{sha}").text
    assert "2nd Quarter, 2025" in page and "(not stored)" in page
    assert "New York Stock Exchange (XNYS)" in page


def test_market_centers_say_the_store_has_no_rule_605_statistics(client: TestClient) -> None:
    page = client.get("/market-centers").text
    assert 'id="no-605"' in page and "no Rule 605 statistics" in page
    assert client.get("/api/market-centers").json() == {"rule605_tables": []}


def test_simulated_page_of_a_store_without_simulation_says_how_to_make_one(
    client: TestClient,
) -> None:
    page = client.get("/simulated").text
    assert 'id="no-simulation"' in page and "pfof demo" in page
    assert client.get("/api/simulated").status_code == 404


def test_simulated_page_compares_the_demo_routing_policies(demo_store: Path) -> None:
    client = TestClient(create_app(demo_store))
    headline = json.loads((demo_store.parent / "headline.json").read_text())
    data = client.get("/api/simulated").json()
    assert data["policies"] == headline
    assert data["venues"] and data["payments"]
    page = client.get("/simulated").text
    assert headline["actual"]["label"] in page and headline["alternative"]["label"] in page
    assert 'data-target="chart-pi"' in page and 'data-target="chart-policies"' in page


@pytest.fixture(scope="module")
def evil_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """A store whose report names a venue ``<script>`` and a broker with an ``<img>`` tag."""
    folder = tmp_path_factory.mktemp("evil")
    report = quarter_report(BROKERS[0], 2025, 1)
    months = []
    for month in report.months:
        sections = {}
        for name in ("sp500", "other_stocks", "options"):
            block = getattr(month, name)
            venues = (replace(block.venues[0], name=EVIL_VENUE, mic=None, mpid=None),)
            sections[name] = replace(block, venues=venues + block.venues[1:])
        months.append(replace(month, **sections))
    evil = replace(report, bd=EVIL_BROKER, months=tuple(months))
    (folder / "evil.xml").write_bytes(write_606(evil))
    db = folder / "evil.duckdb"
    con = pfof.connect(db)
    summary = pfof.ingest([folder / "evil.xml"], con)
    con.close()
    assert summary.ingested
    return TestClient(create_app(db))


def test_names_from_reports_are_escaped_in_every_page(evil_client: TestClient) -> None:
    key = _keys(evil_client)
    assert len(key) == 1
    broker_key = next(iter(key.values()))
    sha = evil_client.get("/api/reports").json()[0]["sha256"]
    for url in ("/brokers", f"/brokers/{broker_key}", "/reports", f"/reports/{sha}"):
        page = evil_client.get(url).text
        assert "<script>alert" not in page and "<img src=x" not in page, url
    broker_page = evil_client.get(f"/brokers/{broker_key}").text
    assert "&lt;script&gt;alert(" in broker_page  # shown as text in the tables
    # in the charts' JSON: escaped for HTML (Plotly shows it as text) and for the script block
    assert "\\u0026lt;script\\u0026gt;" in broker_page
    assert evil_client.get(f"/api/brokers/{broker_key}").json()["broker"] == EVIL_BROKER


@pytest.mark.parametrize(
    ("value", "written"),
    [("=HYPERLINK(1)", "'=HYPERLINK(1)"), ("@SUM", "'@SUM"), ("-12.50", "-12.50"), ("ok", "ok")],
)
def test_csv_cells_never_start_a_formula(value: str, written: str) -> None:
    assert csv_cell(value) == written


def test_csv_of_an_evil_name_is_neutralised(tmp_path: Path) -> None:
    report = replace(quarter_report(BROKERS[1], 2025, 3), bd="=cmd|' /C calc'!A0")
    (tmp_path / "r.xml").write_bytes(write_606(report))
    db = tmp_path / "s.duckdb"
    con = pfof.connect(db)
    pfof.ingest([tmp_path / "r.xml"], con)
    con.close()
    rows = list(
        csv.DictReader(io.StringIO(TestClient(create_app(db)).get("/api/brokers.csv").text))
    )
    assert rows and all(r["broker"].startswith("'=") for r in rows)


def test_market_centers_show_the_rule_605_tables_a_store_has(tmp_path: Path) -> None:
    db = tmp_path / "with605.duckdb"
    con = pfof.connect(db)
    con.execute("CREATE TABLE rule605_test (venue VARCHAR, month INTEGER, orders BIGINT)")
    con.execute("INSERT INTO rule605_test VALUES ('<b>Venue</b>', 202401, 1234567)")
    con.close()
    client = TestClient(create_app(db))
    page = client.get("/market-centers").text
    assert 'id="no-605"' not in page and "rule605_test (1 rows)" in page
    assert "&lt;b&gt;Venue&lt;/b&gt;" in page and "1234567" in page
    data = client.get("/api/market-centers").json()
    assert data["rule605_tables"][0]["shown"] == [
        {"venue": "<b>Venue</b>", "month": 202401, "orders": 1234567}
    ]
    rows = list(
        csv.DictReader(io.StringIO(client.get("/api/market-centers/rule605_test.csv").text))
    )
    assert rows == [{"venue": "<b>Venue</b>", "month": "202401", "orders": "1234567"}]
    assert client.get("/api/market-centers/sources.csv").status_code == 404


def test_cached_pages_keep_their_type_and_body(client: TestClient) -> None:
    first = client.get("/brokers?quarter=2020Q1")
    again = client.get("/brokers?quarter=2020Q1")
    assert again.content == first.content
    assert (
        again.headers["content-type"]
        == first.headers["content-type"]
        == ("text/html; charset=utf-8")
    )
    assert again.headers["content-security-policy"] == CSP
    csv_again = client.get("/api/brokers.csv")
    assert (
        client.get("/api/brokers.csv").headers["content-disposition"]
        == (csv_again.headers["content-disposition"])
    )


def test_a_restated_report_is_marked_superseded_and_not_counted(tmp_path: Path) -> None:
    first = quarter_report(BROKERS[2], 2025, 4)
    assert first.timestamp is not None
    later = replace(
        first,
        timestamp=first.timestamp + timedelta(days=30),
        months=(replace(first.months[0], options=None), *first.months[1:]),
    )
    (tmp_path / "first.xml").write_bytes(write_606(first))
    (tmp_path / "later.xml").write_bytes(write_606(later))
    db = tmp_path / "s.duckdb"
    con = pfof.connect(db)
    pfof.ingest([tmp_path / "first.xml", tmp_path / "later.xml"], con)
    con.close()
    client = TestClient(create_app(db))
    status = {Path(s["path"]).name: s["status"] for s in client.get("/api/reports").json()}
    assert status == {"first.xml": "superseded", "later.xml": "current"}
    assert client.get("/api/brokers").json() == _cli_json("brokers", "--db", str(db))
    assert "superseded" in client.get("/reports").text


def test_page_cache_ignores_made_up_parameters_and_stays_within_its_budget() -> None:
    cache = PageCache(max_bytes=800)
    assert cache.key("/brokers", "broker=a&x=1&quarter=2020Q1") == cache.key(
        "/brokers", "broker=a&quarter=2020Q1&y=2"
    )
    assert cache.key("/brokers", "broker=a") != cache.key("/brokers", "broker=b")
    for i in range(20):
        cache.put(("/p", str(i)), (b"x" * 90, 200, {}))
    kept = [i for i in range(20) if cache.get(("/p", str(i))) is not None]
    assert kept == list(range(12, 20))  # the most recent 8 x 90 bytes
    cache.put(("/big", ""), (b"x" * 200, 200, {}))  # larger than an eighth: not kept
    assert cache.get(("/big", "")) is None


def test_download_links_carry_only_the_page_filters(client: TestClient) -> None:
    page = client.get("/brokers?quarter=2020Q1&utm=%3Cx%3E").text
    assert 'href="/api/brokers?quarter=2020Q1"' in page and "utm" not in page
