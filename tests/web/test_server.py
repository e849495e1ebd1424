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
from decimal import Decimal as D
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
from pfof.engine.broker_quality import QUALITY_COLUMNS
from pfof.engine.stats605 import MARKET_CENTER_KEYS
from pfof.formats.sec605_legacy import write_legacy
from pfof.formats.sec606 import write_606
from pfof.model.records605 import LegacyRecord
from pfof.sim.peer_disclosures import BROKERS, quarter_report
from pfof.web import figures
from pfof.web.server import CSP, PageCache, create_app, csv_cell
from support import a1_reports as a1

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


def test_market_centers_say_the_store_has_no_rule_605_statistics(
    client: TestClient, real_store: Path
) -> None:
    # pfof.connect made the Rule 605 tables: they are there, and empty
    cur = client.app.state.view.cursor()  # type: ignore[attr-defined]
    tables = {
        r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert {"sources_605", "rows_605_legacy", "rows_605_detailed"} <= tables
    assert cur.execute("SELECT count(*) FROM rows_605_legacy").fetchall() == [(0,)]
    page = client.get("/market-centers").text
    assert 'id="no-605"' in page and "no Rule 605 statistics" in page
    assert 'id="centers-table"' not in page and "pfof-figure" not in page
    assert client.get("/api/market-centers").json() == []
    assert _cli_json("market-centers", "--db", str(real_store)) == []
    lines = client.get("/api/market-centers.csv").text.splitlines()
    assert lines == [",".join(MARKET_CENTER_KEYS)]
    assert "(none in this store)" in client.get("/").text
    key = next(iter(_keys(client).values()))
    assert client.get(f"/api/brokers/{key}").json()["quality"] == []
    broker_page = client.get(f"/brokers/{key}").text
    assert 'id="no-quality"' in broker_page and "no Rule 605 reports" in broker_page


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


def _legacy(center: str, order_type: int, shares: int, **fields: object) -> LegacyRecord:
    """A legacy 605 line of July 2026: ``shares`` covered and executed at the center in the
    first 9 s; ``fields`` give the spreads and the improved / at / outside split."""
    times = dict.fromkeys(["exec_10_29s", "exec_30_59s", "exec_60_299s", "exec_5_30m"], 0)
    split: dict[str, object] = {
        "avg_realized_spread": None, "avg_effective_spread": None,
        "pi_shares": None, "pi_avg_amount": None, "pi_avg_time": None,
        "atq_shares": None, "atq_avg_time": None,
        "otq_shares": None, "otq_avg_amount": None, "otq_avg_time": None,
    }  # fmt: skip
    split.update(fields)
    return LegacyRecord(
        participant="T", market_center=center, yyyymm=202607, symbol="AAPL",
        order_type=order_type, order_size=21, covered_orders=shares // 100,
        covered_shares=shares, cancelled_shares=0, exec_shares_mc=shares, exec_shares_away=0,
        exec_0_9s=shares, **times, **split,  # type: ignore[arg-type]
    )  # fmt: skip


def _split(improved: int, at: int, outside: int, pi: str, otq: str, eff: str) -> dict[str, object]:
    return {
        "avg_realized_spread": D("0.0100"), "avg_effective_spread": D(eff),
        "pi_shares": improved, "pi_avg_amount": D(pi), "pi_avg_time": D("0.0"),
        "atq_shares": at, "atq_avg_time": D("0.0"),
        "otq_shares": outside, "otq_avg_amount": D(otq), "otq_avg_time": D("0.0"),
    }  # fmt: skip


@pytest.fixture(scope="module")
def store_605(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two market centers' legacy 605 reports of July 2026 and two brokers' 606 reports of
    2026 Q3, ingested by ``pfof ingest``.

    ALFA: a market order row (1,000 shares: 600 improved by $0.02, 300 at, 100 outside by
    $0.01, effective spread $0.02), a marketable limit row (500 shares, all improved by $0.01,
    effective $0.01) and an inside-the-quote limit row (left out of the statistics).
    ``<b>BETA</b>``: 2,000 shares, 1,000 at the quote, 1,000 outside by $0.01, effective $0.03.
    Broker Q routes S&P 500 market orders 75 % to Alpha (MPID ALFA), 25 % to Gamma (no 605
    report); Broker Z only to Gamma.
    """
    folder = tmp_path_factory.mktemp("with605")
    records = [
        _legacy("ALFA", 11, 1000, **_split(600, 300, 100, "0.0200", "0.0100", "0.0200")),
        _legacy("ALFA", 12, 500, **_split(500, 0, 0, "0.0100", "0.0000", "0.0100")),
        _legacy("ALFA", 13, 700),
    ]
    write_legacy(records, folder / "ALFA_202607.txt")
    beta = [_legacy(EVIL_CENTER, 11, 2000, **_split(0, 1000, 1000, "0.0000", "0.0100", "0.0300"))]
    write_legacy(beta, folder / "BETA_202607.txt")
    alpha = a1.venue(
        "Alpha Securities LLC", "75.00", mpid="ALFA",
        market_pct="75.00", market_usd="30.00", market_cph="15.0000",
    )  # fmt: skip
    gamma = a1.venue(
        "Gamma Markets", "25.00", mpid="GAMA",
        market_pct="25.00", market_usd="5.00", market_cph="20.0000",
    )  # fmt: skip
    only_gamma = a1.venue(
        "Gamma Markets", "100.00", mpid="GAMA",
        market_pct="100.00", market_usd="8.00", market_cph="20.0000",
    )  # fmt: skip
    q = a1.report("Broker Q", 2026, 3, [{"sp500": a1.section(alpha, gamma)}])
    z = a1.report("Broker Z", 2026, 3, [{"sp500": a1.section(only_gamma)}])
    (folder / "broker-q.xml").write_bytes(write_606(q))
    (folder / "broker-z.xml").write_bytes(write_606(z))
    db = folder / "store.duckdb"
    result = CliRunner().invoke(cli, ["ingest", str(folder), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


EVIL_CENTER = "<b>BETA</b>"


def test_market_centers_show_the_rule_605_statistics_of_the_store(store_605: Path) -> None:
    client = TestClient(create_app(store_605))
    rows = client.get("/api/market-centers").json()
    # the numbers are the library's and the CLI's
    assert rows == pfof.market_center_quality(store_605)
    assert rows == _cli_json("market-centers", "--db", str(store_605))
    by_center = {r["market_center"]: r for r in rows}
    assert set(by_center) == {"ALFA", EVIL_CENTER}
    assert {r["month"] for r in rows} == {"2026-07"}
    alfa, beta = by_center["ALFA"], by_center[EVIL_CENTER]
    # net improvement: 100 x (600 x 0.02 - 100 x 0.01 + 500 x 0.01) / 1,500 shares; quoted
    # spread = effective + 2 x net improvement per share: 0.042 and 0.03, share-weighted
    assert D(alfa["net_price_improvement_cents_per_share"]) == round(D(1600) / 1500, 6)
    assert D(alfa["eq_ratio"]) == round(D(1000 * 2 + 500 * 1) / D(1000 * 42 + 500 * 30) * 10, 6)
    assert D(alfa["pct_improved"]) == round(D(1100) / 1500, 6)
    assert int(alfa["orders"]) == 10 + 5  # the inside-the-quote limit orders left out
    # BETA: -100 x 1,000 x 0.01 / 2,000 = -0.5 c; quoted 0.03 - 2 x 0.005 = 0.02: E/Q 1.5
    assert D(beta["net_price_improvement_cents_per_share"]) == D("-0.5")
    assert D(beta["eq_ratio"]) == D("1.5") and D(beta["pct_outside"]) == D("0.5")

    page = client.get("/market-centers").text
    assert 'id="no-605"' not in page and 'id="centers-table"' in page
    assert "<b>BETA" not in page and "&lt;b&gt;BETA&lt;/b&gt;" in page  # escaped
    for r in rows:
        for key in ("net_price_improvement_cents_per_share", "eq_ratio", "pct_improved"):
            assert f'data-key="{key}" data-value="{r[key]}"' in page
    assert "73.3333%" not in page and ">73.3333<" in page  # 1,100 / 1,500 in percent
    assert 'data-target="chart-center-pi"' in page and 'data-target="chart-center-eq"' in page
    figure = json.loads(re.findall(r'data-target="chart-center-pi">([^<]+)</script>', page)[0])
    (bars,) = figure["data"]  # one month: a bar per market center, names escaped for Plotly
    assert (bars["type"], bars["name"]) == ("bar", "2026-07")
    assert dict(zip(bars["x"], bars["y"], strict=True)) == {
        "ALFA": float(alfa["net_price_improvement_cents_per_share"]),
        html.escape(EVIL_CENTER): -0.5,
    }

    table = list(csv.DictReader(io.StringIO(client.get("/api/market-centers.csv").text)))
    assert tuple(table[0]) == MARKET_CENTER_KEYS
    assert table == [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]
    assert "2 market centers" in client.get("/").text


def test_market_center_chart_of_several_months_has_a_line_per_center_and_format() -> None:
    def row(center: str, month: str, fmt: str, pi: str) -> dict[str, str]:
        return {
            "market_center": center,
            "month": month,
            "format": fmt,
            "net_price_improvement_cents_per_share": pi,
        }

    rows = [
        row("A", "2026-07", "legacy", "1.5"),
        row("A", "2026-08", "legacy", "-0.25"),
        row("A", "2026-08", "detailed", "2"),
        row("<i>B", "2026-08", "legacy", "0.5"),
    ]
    lines = {t["name"]: (t["x"], t["y"]) for t in figures.center_improvement(rows)["data"]}
    assert lines == {
        "A (legacy)": (["2026-07", "2026-08"], [1.5, -0.25]),
        "A (detailed)": (["2026-08"], [2.0]),
        "&lt;i&gt;B": (["2026-08"], [0.5]),
    }


def test_broker_page_shows_execution_quality_net_of_pfof(store_605: Path) -> None:
    client = TestClient(create_app(store_605))
    keys = _keys(client)
    detail = client.get(f"/api/brokers/{keys['Broker Q']}").json()
    library = [q.to_json() for q in pfof.broker_quality(store_605) if q.broker == "Broker Q"]
    cli_rows = _cli_json("brokers", "--quality", "--db", str(store_605))
    assert detail["quality"] == library == [r for r in cli_rows if r["broker"] == "Broker Q"]
    sp500, combined = detail["quality"]
    assert (sp500["section"], sp500["order_type"]) == ("sp500", "market")
    # Alpha's market orders: 100 x (600 x 0.02 - 100 x 0.01) / 1,000 = 1.1 c per share, the
    # only covered venue: 110 c per 100 shares; PFOF $35 over 30/15 + 5/20 (x 10,000 shares)
    assert D(sp500["pi_cents_per_100_shares"]) == 110
    assert D(sp500["pfof_cents_per_100_shares"]) == round(D(35) / D("2.25"), 4)
    assert D(sp500["pi_per_pfof_dollar"]) == round(D(110) * D("2.25") / 35, 4)
    assert D(sp500["coverage_pct"]) == 75
    assert [u["venue"] for u in sp500["unmatched_venues"]] == ["Gamma Markets"]
    assert (combined["section"], combined["order_type"]) == ("all", "all")

    page = client.get(f"/brokers/{keys['Broker Q']}").text
    assert 'id="quality-table"' in page and 'data-target="chart-quality"' in page
    for r in detail["quality"]:
        for key in ("pi_cents_per_100_shares", "pfof_cents_per_100_shares", "coverage_pct"):
            assert f'data-key="{key}" data-value="{r[key]}"' in page
    assert "no Rule 605 data for Gamma Markets" in page

    got = list(
        csv.DictReader(io.StringIO(client.get(f"/api/brokers/{keys['Broker Q']}/quality.csv").text))
    )
    cli_csv = CliRunner().invoke(cli, ["brokers", "--quality", "--db", str(store_605), "--csv"])
    expected = [r for r in csv.DictReader(io.StringIO(cli_csv.output)) if r["broker"] == "Broker Q"]
    assert got == expected and tuple(got[0]) == QUALITY_COLUMNS

    # Broker Z routes only to a venue without 605 data: no estimate, and the page says why
    assert client.get(f"/api/brokers/{keys['Broker Z']}").json()["quality"] == []
    z_page = client.get(f"/brokers/{keys['Broker Z']}").text
    assert 'id="no-quality"' in z_page and "No venue this broker routed to" in z_page


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


def _bulk_name(crd: int, mpid: str) -> str:
    return f"{crd}_606_NMS_2025_Q1_{mpid}_V1_20250415.xml"


def test_affiliated_filers_reports_are_labelled_affiliated_and_counted_once(
    tmp_path: Path,
) -> None:
    data = write_606(quarter_report(BROKERS[0], 2025, 1))
    affiliate = re.sub(rb"<bd>[^<]*</bd>", b"<bd>Affiliate Clearing Corp</bd>", data, count=1)
    files = {
        _bulk_name(1001, "ALPH"): data,
        _bulk_name(1003, "ALPC"): affiliate,  # the same figures under another CRD and name
        _bulk_name(1004, "ALPD"): data,  # the very bytes under a third CRD: not stored again
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    db = tmp_path / "s.duckdb"
    con = pfof.connect(db)
    pfof.ingest([tmp_path / name for name in files], con)
    con.close()
    client = TestClient(create_app(db))
    sources = client.get("/api/reports").json()
    status = {
        Path(s["path"]).name: (s["status"], Path(s["counted_instead"] or "").name, s["stored"])
        for s in sources
    }
    first = _bulk_name(1001, "ALPH")
    assert status == {
        first: ("current", "", True),
        _bulk_name(1003, "ALPC"): ("affiliated", first, True),
        _bulk_name(1004, "ALPD"): ("affiliated", first, False),
    }
    page = client.get("/reports").text
    assert page.count('class="status status-affiliated"') == 2 and "superseded" not in page
    assert "counted once: " + first in page and "not stored again" in page
    # counted once: the brokers' figures are the CLI's, which count the report once
    assert client.get("/api/brokers").json() == _cli_json("brokers", "--db", str(db))
    rows = list(csv.DictReader(io.StringIO(client.get("/api/reports.csv").text)))
    assert sorted(r["status"] for r in rows) == ["affiliated", "affiliated", "current"]
    copy = next(s for s in sources if not s["stored"])
    assert client.get(f"/reports/{copy['sha256']}").status_code == 200


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
