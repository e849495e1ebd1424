"""The ``pfof serve`` web application: FastAPI routes over a read-only store.

:func:`create_app` builds the app for one store. Each page has a permanent URL whose query
string holds its filters, a JSON twin under ``/api/`` (the CLI's field names and exact
decimal strings) and a CSV download. Pages are Jinja2 templates with autoescaping; charts
are Plotly figures carried as JSON data blocks and drawn by ``/static/pfof.js`` with the
plotly.js that pfof serves itself (no CDN, works offline). Every response carries a strict
Content-Security-Policy: scripts and styles from this origin only, no inline script.
"""

from __future__ import annotations

import csv
import io
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import jinja2
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from markupsafe import Markup
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

import pfof
from pfof.errors import PfofError
from pfof.web import figures
from pfof.web.dashboard import NotFoundError, StoreView, payment_records, venue_stats_records
from pfof.web.uploads import UploadError, run_audit, upload_limits

__all__ = ["CSP", "create_app"]

#: Content-Security-Policy of every response: this origin only, no inline script. Inline
#: style is allowed: plotly.js adds its own style rules (a <style> element) as it draws.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
STATIC = Path(__file__).parent / "static"
SECTIONS = ("sp500", "other_stocks", "options")
#: Columns of the brokers table: (record key, heading); the CSV has every record field.
BROKER_COLUMNS = (
    ("total_usd", "Net PFOF (USD)"),
    ("qoq_change_pct", "QoQ %"),
    ("sp500_usd", "S&P 500"),
    ("other_stocks_usd", "Other stocks"),
    ("options_usd", "Options"),
    ("market_usd", "Market"),
    ("marketable_limit_usd", "Marketable limit"),
    ("non_marketable_limit_usd", "Non-marketable limit"),
    ("other_usd", "Other"),
    ("sp500_rate", "Rate S&P 500"),
    ("other_stocks_rate", "Rate other stocks"),
    ("options_rate", "Rate options"),
    ("top_venue", "Top venue"),
    ("top_venue_share_pct", "Top %"),
    ("sp500_hhi", "HHI S&P 500"),
)
#: Columns of the market-centers table: (record key, heading, style); style ``pct`` shows a
#: fraction in percent, ``n`` a count; the JSON and CSV keep the exact decimal strings.
CENTER_COLUMNS = (
    ("orders", "Orders", "n"),
    ("executed_shares", "Executed shares", "n"),
    ("net_price_improvement_cents_per_share", "Net PI (¢/share)", ""),
    ("eq_ratio", "E/Q", ""),
    ("pct_improved", "Improved %", "pct"),
    ("pct_at_quote", "At quote %", "pct"),
    ("pct_outside", "Outside %", "pct"),
    ("avg_effective_spread", "Effective spread ($)", ""),
    ("avg_realized_spread", "Realized spread ($)", ""),
)
#: Columns of a broker's venue table (its CSV).
VENUE_COLUMNS = ["period", "venue", "venue_key", "section", "order_pct", "net_payment_usd", "rate"]
#: Bytes of responses kept by :class:`PageCache`; paths never cached (static files, uploads).
CACHE_BYTES = 64 * 1024 * 1024
#: The query parameters the pages read (all others are ignored, and left out of cache keys).
QUERY_PARAMETERS = frozenset({"broker", "quarter", "section"})
UNCACHED = ("/static/", "/audit", "/api/audit", "/favicon.ico")
_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@cache
def plotly_js() -> bytes:
    """plotly.js as the installed ``plotly`` package ships it."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8")


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pfof.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["amount"] = _amount
    env.filters["percent"] = _percent
    return env


def _percent(value: object) -> str:
    """A fraction (``"0.253"``) in percent with every digit kept (``25.3``); "–" for null."""
    from decimal import Decimal

    if value is None:
        return "–"
    return _amount(format((Decimal(str(value)) * 100).normalize(), "f"))


def _amount(value: object) -> str:
    """A decimal string with thousands separators (exact digits kept); "–" for null."""
    from decimal import Decimal, InvalidOperation

    if value is None:
        return "–"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    exponent = number.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return f"{number:,.{places}f}"


def csv_cell(value: object) -> object:
    """A CSV value a spreadsheet will not run as a formula: text starting with ``=``, ``+``,
    ``-``, ``@`` or a control character gets a leading apostrophe (numbers are kept)."""
    if not isinstance(value, str) or not value.startswith(_CSV_TRIGGERS):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def csv_response(rows: list[dict[str, Any]], columns: list[str], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        flat = {k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()}
        writer.writerow({k: csv_cell(flat.get(k)) for k in columns})
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


class PageCache:
    """Responses of GET pages and API calls by path and filters, least recently used dropped
    first past :data:`CACHE_BYTES`. The store is read-only while served, so a page never goes
    stale. Keys keep only the query parameters pages read (:data:`QUERY_PARAMETERS`), so
    made-up parameters cannot fill the cache with copies of one page."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self._items: OrderedDict[tuple[str, str], tuple[bytes, int, dict[str, str]]] = OrderedDict()
        self._bytes = 0
        self._max = max_bytes
        self._lock = threading.Lock()

    @staticmethod
    def key(path: str, query: str) -> tuple[str, str]:
        kept = [
            (k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k in QUERY_PARAMETERS
        ]
        return path, urlencode(kept)

    def get(self, key: tuple[str, str]) -> tuple[bytes, int, dict[str, str]] | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple[str, str], value: tuple[bytes, int, dict[str, str]]) -> None:
        if len(value[0]) > self._max // 8:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[0])
            self._items[key] = value
            self._bytes += len(value[0])
            while self._bytes > self._max:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped[0])


def _chart(div_id: str, title: str, fig: Any) -> dict[str, Any]:
    return {"id": div_id, "title": title, "json": Markup(figures.figure_json(fig))}


def create_app(db: str | Path) -> FastAPI:
    """The dashboard over the store ``db``, opened read-only (raises
    :class:`~pfof.errors.StoreError` when it cannot be)."""
    view = StoreView(db)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # the broker comparison of a large store takes seconds: start it before any visitor,
        # then the join of 606 routing and 605 quality (empty at once without 605 rows)
        threading.Thread(target=view.comparison, name="pfof-warm-up", daemon=True).start()
        threading.Thread(target=view.quality, name="pfof-warm-up-605", daemon=True).start()
        yield
        view.close()

    app = FastAPI(
        lifespan=lifespan,
        title="pfof",
        version=pfof.__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.view = view

    cache = PageCache()

    @app.middleware("http")
    async def headers_and_cache(request: Request, call_next: Any) -> Response:
        key = cache.key(request.url.path, request.url.query)
        cacheable = request.method == "GET" and not request.url.path.startswith(UNCACHED)
        hit = cache.get(key) if cacheable else None
        if hit is not None:
            body, status, kept = hit
            response: Response = Response(body, status_code=status, headers=kept)
        else:
            response = await call_next(request)
            if cacheable and response.status_code == 200:
                streamed: Any = response
                body = b"".join([chunk async for chunk in streamed.body_iterator])
                kept = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
                cache.put(key, (body, response.status_code, kept))
                response = Response(body, status_code=response.status_code, headers=kept)
        response.headers.update(HEADERS)
        return response

    def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        body = (
            _environment()
            .get_template(template)
            .render(
                path=request.url.path,
                query=PageCache.key(request.url.path, request.url.query)[1],
                db=str(view.db),
                version=pfof.__version__,
                **context,
            )
        )
        return HTMLResponse(body, status_code=status)

    def api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(PfofError)
    async def pfof_error(request: Request, exc: PfofError) -> Response:
        status = 404 if isinstance(exc, NotFoundError) else 400
        message = " ".join(str(exc).split())
        if api(request):
            return JSONResponse({"error": message}, status_code=status)
        return page(request, "error.html.j2", status=status, message=message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail)
        if api(request) or request.url.path.startswith("/static/"):
            return JSONResponse({"error": message}, status_code=exc.status_code)
        return page(request, "error.html.j2", status=exc.status_code, message=message)

    # ------------------------------------------------------------------ static files

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_script() -> Response:
        return Response(
            plotly_js(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/static/sec606_layout.css", include_in_schema=False)
    def sec606_css() -> Response:
        from pfof.reports.sec606_layout import stylesheet

        return Response(stylesheet(), media_type="text/css; charset=utf-8")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response((STATIC / "favicon.svg").read_bytes(), media_type="image/svg+xml")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # ------------------------------------------------------------------ pages

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        return page(
            request,
            "index.html.j2",
            counts=view.counts(),
            simulated=view.has_simulation(),
            centers=len({r["market_center"] for r in view.market_centers()}),
        )

    def brokers_data(broker: list[str], quarter: list[str]) -> Any:
        return view.select_brokers(broker, quarter)

    @app.get("/brokers", response_class=HTMLResponse)
    def brokers_page(
        request: Request,
        broker: list[str] = Query(default=[]),  # noqa: B008
        quarter: list[str] = Query(default=[]),  # noqa: B008
    ) -> HTMLResponse:
        selection = brokers_data(broker, quarter)
        comparison = view.comparison()
        records = selection.records
        charts = []
        if records:
            charts = [
                _chart("chart-payments", "Net PFOF", figures.broker_payments(records)),
                _chart("chart-sections", "By section", figures.broker_sections(records)),
                _chart("chart-rates", "Rates", figures.broker_rates(records)),
            ]
        return page(
            request,
            "brokers.html.j2",
            selection=selection,
            names=comparison.names,
            periods=comparison.periods,
            columns=BROKER_COLUMNS,
            charts=charts,
        )

    @app.get("/api/brokers")
    def brokers_json(
        broker: list[str] = Query(default=[]),  # noqa: B008
        quarter: list[str] = Query(default=[]),  # noqa: B008
    ) -> JSONResponse:
        return JSONResponse(brokers_data(broker, quarter).records)

    @app.get("/api/brokers.csv")
    def brokers_csv(
        broker: list[str] = Query(default=[]),  # noqa: B008
        quarter: list[str] = Query(default=[]),  # noqa: B008
    ) -> Response:
        from pfof.engine.broker_comparison import BROKER_QUARTER_COLUMNS

        rows = brokers_data(broker, quarter).records
        return csv_response(rows, list(BROKER_QUARTER_COLUMNS), "pfof-brokers.csv")

    @app.get("/brokers/{key}", response_class=HTMLResponse)
    def broker_page(request: Request, key: str, section: str = "sp500") -> HTMLResponse:
        detail = view.broker_detail(key, section)
        charts = []
        if detail["venues"]:
            charts = [
                _chart("chart-shares", "Routing shares", figures.venue_shares(detail["venues"])),
                _chart("chart-venue-pay", "Payments", figures.venue_payments(detail["venues"])),
            ]
        quality_charts = []
        if any(r["pi_cents_per_100_shares"] is not None for r in detail["quality"]):
            fig = figures.broker_quality(detail["quality"])
            quality_charts = [_chart("chart-quality", "Price improvement and PFOF", fig)]
        return page(
            request,
            "broker.html.j2",
            detail=detail,
            sections=SECTIONS,
            charts=charts,
            quality_charts=quality_charts,
            has_605=view.has_605(),
        )

    @app.get("/api/brokers/{key}")
    def broker_json(key: str, section: str = "sp500") -> JSONResponse:
        return JSONResponse(view.broker_detail(key, section))

    @app.get("/api/brokers/{key}/venues.csv")
    def broker_csv(key: str, section: str = "sp500") -> Response:
        detail = view.broker_detail(key, section)
        columns = [
            "period",
            "venue",
            "venue_key",
            "section",
            "order_pct",
            "net_payment_usd",
            "rate",
        ]
        return csv_response(detail["venues"], columns, "pfof-broker-venues.csv")

    @app.get("/api/brokers/{key}/quality.csv")
    def broker_quality_csv(key: str) -> Response:
        from pfof.engine.broker_quality import QUALITY_COLUMNS

        rows = [
            {
                **r,
                "months_605": " ".join(r["months_605"]),
                "unmatched_venues": "; ".join(_unmatched_text(u) for u in r["unmatched_venues"]),
            }
            for r in view.broker_detail(key, "sp500")["quality"]
        ]
        return csv_response(rows, list(QUALITY_COLUMNS), "pfof-broker-quality.csv")

    @app.get("/market-centers", response_class=HTMLResponse)
    def market_centers_page(request: Request) -> HTMLResponse:
        rows = view.market_centers()
        charts = []
        if rows:
            charts = [
                _chart("chart-center-pi", "Net improvement", figures.center_improvement(rows)),
                _chart("chart-center-eq", "E/Q", figures.center_eq(rows)),
            ]
        return page(
            request,
            "market_centers.html.j2",
            rows=rows,
            charts=charts,
            has_605=view.has_605(),
            columns=CENTER_COLUMNS,
        )

    @app.get("/api/market-centers")
    def market_centers_json() -> JSONResponse:
        return JSONResponse(view.market_centers())

    @app.get("/api/market-centers.csv")
    def market_centers_csv() -> Response:
        from pfof.engine.stats605 import MARKET_CENTER_KEYS

        return csv_response(
            view.market_centers(), list(MARKET_CENTER_KEYS), "pfof-market-centers.csv"
        )

    @app.get("/simulated", response_class=HTMLResponse)
    def simulated_page(request: Request) -> HTMLResponse:
        if not view.has_simulation():
            return page(request, "simulated.html.j2", sim=None, charts=[], stats=[], pay=[])
        from pfof.reports import charts as demo_charts

        sim = view.simulation()
        quality, payments = sim["quality"], sim["payments"]
        grouped = demo_charts.group_small_venues(quality)
        charts = []
        if sim["headline"]:
            charts.append(_chart("chart-policies", "Policies", figures.policies(sim["headline"])))
        for div_id, title, fig in (
            ("chart-pi", "Price improvement", demo_charts.pi_boxes(grouped)),
            ("chart-pi-fraction", "PI / half spread", demo_charts.pi_fraction_histogram(grouped)),
            ("chart-pfof", "PFOF by venue", demo_charts.pfof_by_venue(payments)),
        ):
            charts.append(_chart(div_id, title, figures.escaped_copy(fig)))
        return page(
            request,
            "simulated.html.j2",
            sim=sim,
            charts=charts,
            stats=venue_stats_records(quality),
            pay=payment_records(payments),
        )

    @app.get("/api/simulated")
    def simulated_json() -> JSONResponse:
        sim = view.simulation()
        return JSONResponse(
            {
                "brokers": sim["brokers"],
                "policies": sim["headline"],
                "venues": venue_stats_records(sim["quality"]),
                "payments": payment_records(sim["payments"]),
            }
        )

    @app.get("/api/simulated/venues.csv")
    def simulated_csv() -> Response:
        rows = venue_stats_records(view.simulation()["quality"])
        columns = list(rows[0]) if rows else ["venue"]
        return csv_response(rows, columns, "pfof-simulated-venues.csv")

    @app.get("/reports", response_class=HTMLResponse)
    def reports_page(request: Request) -> HTMLResponse:
        return page(request, "reports.html.j2", sources=view.sources())

    @app.get("/api/reports")
    def reports_json() -> JSONResponse:
        return JSONResponse(view.sources())

    @app.get("/api/reports.csv")
    def reports_csv() -> Response:
        columns = [
            "sha256",
            "path",
            "kind",
            "broker",
            "year",
            "quarter",
            "ingested_at",
            "strict_valid",
            "status",
            "counted_instead",
            "stored",
            "rows",
            "warnings",
        ]
        return csv_response(view.sources(), columns, "pfof-reports.csv")

    @app.get("/reports/{sha256}", response_class=HTMLResponse)
    def report_page(sha256: str) -> HTMLResponse:
        from pfof.reports.sec606_layout import render_606_html

        _, report, how = view.report(sha256)
        if report is None:
            raise NotFoundError(f"report {sha256}: {how}")
        return HTMLResponse(render_606_html(report, stylesheet_href="/static/sec606_layout.css"))

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request) -> HTMLResponse:
        return page(request, "audit.html.j2", **_audit_context(view))

    @app.post("/audit", response_class=HTMLResponse)
    async def audit_upload(request: Request) -> HTMLResponse:
        try:
            result = await run_audit(request, view)
        except UploadError as exc:
            context = _audit_context(view, error=str(exc))
            return page(request, "audit.html.j2", status=exc.status, **context)
        except PfofError as exc:
            context = _audit_context(view, error=" ".join(str(exc).split()))
            return page(request, "audit.html.j2", status=400, **context)
        return page(request, "audit.html.j2", **_audit_context(view, result=result))

    @app.post("/api/audit")
    async def audit_json(request: Request) -> JSONResponse:
        try:
            result = await run_audit(request, view)
        except UploadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        return JSONResponse(result.to_json())

    @app.get("/healthz", response_class=PlainTextResponse)
    def health() -> str:
        return "ok"

    return app


def _audit_context(view: StoreView, **context: Any) -> dict[str, Any]:
    """The audit page's context: the store's brokers, the limits, and a result or an error."""
    result = context.pop("result", None)
    out: dict[str, Any] = {
        "brokers": list(view.comparison().names.values()),
        "limits": upload_limits(),
        "error": context.pop("error", None),
        "result": None,
    }
    if result is not None:
        import base64
        import json

        data = result.to_json()
        out["result"] = {
            "source": result.source,
            "summary": data["summary"],
            "trades": data["trades"],
            "notes": [*result.notes, *(str(i) for i in result.issues)],
            "json_href": "data:application/json;base64,"
            + base64.b64encode(json.dumps(data, indent=2).encode()).decode(),
            "csv_href": "data:text/csv;base64,"
            + base64.b64encode(result.to_csv().encode()).decode(),
        }
    return out


def _unmatched_text(venue: dict[str, Any]) -> str:
    """An unmatched venue as ``pfof brokers --quality --csv`` writes it: ``name (key) pct%``."""
    pct = "" if venue["routed_pct"] is None else f" {venue['routed_pct']}%"
    return f"{venue['venue']} ({venue['key']}){pct}"
