"""Rule 606 reports rendered in the SEC's own layout (HTML, and PDF through headless Chromium).

The SEC publishes renderings of its sample reports (``606a1_held_order_public_report.pdf``
and the 606(b) ones): a centred title ``<broker> - <report name>``, the generation time and
period, then per month and section a "Summary" table and a "Venues" table with the SEC's
column headings, and the material aspects of each venue relationship. :func:`render_606_html`
gives that page for any report pfof reads (numbers exactly as reported, with thousands
separators); :func:`html_to_pdf` prints it to PDF with Chromium (Debian's ``chromium``), as
``pfof rule606 render FILE --pdf OUT`` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2

from pfof.errors import InputError, PfofError
from pfof.model.enums import OrderType, Section
from pfof.model.market_time import MARKET_TZ
from pfof.model.reports606 import (
    B3_VENUE_FIELDS,
    A1Section,
    B1Order,
    B3Month,
    CustomerRoutingReport,
    HeldOrderRoutingReport,
    NotHeldHandlingReport,
    Report606,
)

__all__ = ["CHROMIUM", "ChromiumError", "find_chromium", "html_to_pdf", "render_606_html"]

#: Where Debian's ``chromium`` package puts the browser.
CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a headless Chromium on a machine without network: no first-run, sync, component
#: or background requests (each would be a refused connection), a throw-away profile.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
)
PDF_TIMEOUT_S = 60

SECTION_TITLES = {
    Section.SP500: "S&P 500 Stocks",
    Section.OTHER_STOCKS: "Non-S&P 500 Stocks",
    Section.OPTIONS: "Options",
}
ORDER_TITLES = {
    OrderType.MARKET: "Market Orders",
    OrderType.MARKETABLE_LIMIT: "Marketable Limit Orders",
    OrderType.NON_MARKETABLE_LIMIT: "Non-Marketable Limit Orders",
    OrderType.OTHER: "Other Orders",
}
B1_TITLES = {
    "held": "Held NMS Stocks",
    "not_held_exempt": "Not-Held Exempt NMS Stocks",
    "options": "Options",
}
#: 606(b)(3) venue columns: the SEC rendering's headings, in schema order.
B3_HEADINGS = (
    "Total Shares Routed",
    "Total Shares Routed Marked IOC",
    "Total Shares Routed that were further Routable",
    "Average Order Size Routed",
    "Total Shares Executed",
    "Fill Rate",
    "Average Fill Size",
    "Average Net Execution Fee or (Rebate)",
    "Total Shares Executed at Midpoint",
    "Percentage of Shares Executed at Midpoint",
    "Total Shares Executed that were Priced at the Near Side",
    "Percentage of Total Shares Executed that were Priced at the Near Side",
    "Total Shares Executed that were Priced at the Far Side",
    "Percentage of Total Shares Executed that were Priced at the Far Side",
    "Total Number of Shares that Provided Liquidity",
    "Percentage of Executed Shares that Provided Liquidity",
    "Average Duration of Orders that Provided Liquidity (in msec)",
    "Average Net Execution Rebate (or Fee Paid) for Shares that Provided Liquidity",
    "Total Number of Shares that Removed Liquidity",
    "Percentage of Executed Shares that Removed Liquidity",
    "Average Net Execution Fee (or rebate received) for Shares that Removed Liquidity",
)
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_ORDINAL = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th"}


class ChromiumError(PfofError):
    """Chromium is missing or failed to print the PDF."""


def number(value: Decimal | None, min_places: int = 0) -> str:
    """A reported number as the SEC renders it: thousands separators, the reported decimal
    places (at least ``min_places``), blank when not reported."""
    if value is None:
        return ""
    exponent = value.as_tuple().exponent
    places = max(-exponent if isinstance(exponent, int) and exponent < 0 else 0, min_places)
    return f"{value:,.{places}f}"


def _venue_label(name: str | None, mic: str | None, mpid: str | None) -> str:
    code = mic or mpid
    if name and code:
        return f"{name} ({code})"
    return name or code or ""


def _generated(timestamp: datetime | None) -> str:
    if timestamp is None:
        return "not stated"
    stamp = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
    local = stamp.astimezone(ZoneInfo(MARKET_TZ))
    return f"{local:%a %b %d %Y %H:%M:%S} ({local.tzname()})"


@dataclass(frozen=True)
class _Table:
    """One table of the page: caption, headings and rows of display strings."""

    caption: str
    headings: tuple[str, ...]
    rows: list[list[str]]
    first_left: bool = True


@dataclass(frozen=True)
class _Block:
    """A heading (month, section) with its tables and notes (material aspects)."""

    month: str
    title: str
    tables: list[_Table]
    notes: list[tuple[str, str]]


def _a1_blocks(report: HeldOrderRoutingReport) -> list[_Block]:
    blocks = []
    for month in report.months:
        for section in Section:
            block = month.section(section)
            if block is not None:
                blocks.append(_a1_section(f"{_MONTHS[month.mon - 1]} {month.year}", section, block))
    return blocks


def _a1_section(month: str, section: Section, block: A1Section) -> _Block:
    unit = "cents per contract" if section is Section.OPTIONS else "cents per hundred shares"
    summary = _Table(
        "Summary",
        (
            "Non-Directed Orders as % of All Orders",
            *(f"{ORDER_TITLES[t]} as % of Non-Directed Orders" for t in OrderType),
        ),
        [
            [
                number(v, 2)
                for v in (
                    block.ndo_pct,
                    block.ndo_market_pct,
                    block.ndo_marketable_limit_pct,
                    block.ndo_nonmarketable_limit_pct,
                    block.ndo_other_pct,
                )
            ]
        ],
        first_left=False,
    )
    headings = ["Venue - Non-directed Order Flow", "Non-Directed Orders (%)"]
    headings += [f"{ORDER_TITLES[t].removesuffix(' Orders')} Orders (%)" for t in OrderType]
    for t in OrderType:
        headings += [
            f"Net Payment Paid/Received for {ORDER_TITLES[t]} (USD)",
            f"Net Payment Paid/Received for {ORDER_TITLES[t]} ({unit})",
        ]
    rows = []
    notes = []
    for v in block.venues:
        label = _venue_label(v.name, v.mic, v.mpid)
        row = [label, number(v.order_pct, 2), *(number(v.pct(t), 2) for t in OrderType)]
        for t in OrderType:
            row += [number(v.usd(t)), number(v.cph(t), 4)]
        rows.append(row)
        notes.append((label, v.material_aspects))
    return _Block(
        month, SECTION_TITLES[section], [summary, _Table("Venues", tuple(headings), rows)], notes
    )


def _b1_blocks(report: CustomerRoutingReport) -> list[_Block]:
    blocks = []
    for key, title in B1_TITLES.items():
        orders: tuple[B1Order, ...] | None = getattr(report, key)
        if orders is None:
            continue
        rows = []
        for order in orders:
            kind = "Directed" if order.directed else "Non-Directed"
            first = True
            for route in order.routes:
                times = [f"{t.date} {t.time}" for t in route.transactions] or ["-"]
                for i, when in enumerate(times):
                    venue = _venue_label(route.venue_name, route.mic, route.mpid) if i == 0 else ""
                    rows.append(
                        [order.order_id if first else "", kind if first else "", venue, when]
                    )
                    first = False
        headings = ("Order ID", "Type", "Venue", "Time of Transaction (UTC)")
        blocks.append(_Block("", f"Orders - {title}", [_Table("", headings, rows)], []))
    return blocks


def _b3_blocks(report: NotHeldHandlingReport) -> list[_Block]:
    blocks = []
    for label, months in (
        ("Directed Orders", report.directed),
        ("Non-directed Orders", report.non_directed),
    ):
        for m in months or ():
            blocks.append(_b3_month(label, m))
    return blocks


def _b3_month(label: str, m: B3Month) -> _Block:
    summary = _Table(
        "Summary",
        (
            "Total Shares Sent to Broker/Dealer",
            "Total Number of Shares Executed as Principal",
            "Total Orders Exposed (Actionable IOI)",
        ),
        [[number(m.sent_shr), number(m.executed_as_principal_shr), number(m.ioi_exposed_ord)]],
        first_left=False,
    )
    ioi = _Table(
        "Actionable IOI Exposed Venues",
        ("Venue",),
        [[_venue_label(v.venue_name, v.mic, v.mpid)] for v in m.ioi_exposed_venues],
    )
    venues = _Table(
        "Order Routing Venues",
        ("Venue", *B3_HEADINGS),
        [
            [
                _venue_label(
                    f"{v.venue_name} ({v.services})" if v.services else v.venue_name, v.mic, v.mpid
                ),
                *(number(getattr(v, attr)) for _, attr in B3_VENUE_FIELDS),
            ]
            for v in m.routing_venues
        ],
    )
    return _Block(f"{_MONTHS[m.mon - 1]} {m.year}", label, [summary, ioi, venues], [])


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pfof.reports", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render_606_html(report: Report606, *, stylesheet_href: str | None = None) -> str:
    """The report as one HTML page in the SEC's layout; every name is escaped.

    The style sheet is inline unless ``stylesheet_href`` names one to link instead (the web
    dashboard serves it, so that its Content-Security-Policy needs no inline style).
    """
    if isinstance(report, HeldOrderRoutingReport):
        title = "Held NMS Stocks and Options Order Routing Public Report"
        period = f"{_ORDINAL.get(report.qtr, str(report.qtr))} Quarter, {report.year}"
        customer = None
        blocks = _a1_blocks(report)
    elif isinstance(report, CustomerRoutingReport):
        title = "Held NMS Stocks, Not-Held Exempt NMS Stocks and Options Order Routing Report"
        period = f"Reporting Period {report.start_date} to {report.end_date}"
        customer = report.customer
        blocks = _b1_blocks(report)
    else:
        title = "Not-Held NMS Stocks Order Handling Report"
        period = f"Reporting Period {report.start_date} to {report.end_date}"
        customer = report.customer
        blocks = _b3_blocks(report)
    return (
        _environment()
        .get_template("sec606_layout.html.j2")
        .render(
            broker=report.bd,
            title=title,
            generated=_generated(report.timestamp),
            period=period,
            customer=customer,
            blocks=blocks,
            css=None if stylesheet_href else stylesheet(),
            stylesheet_href=stylesheet_href,
        )
    )


@cache
def stylesheet() -> str:
    """The layout's CSS (landscape pages when printed)."""
    return (Path(__file__).parent / "templates" / "sec606_layout.css").read_text(encoding="utf-8")


def find_chromium() -> Path:
    """Chromium's executable: ``$PFOF_CHROMIUM``, else Debian's, else ``chromium`` on PATH."""
    named = os.environ.get("PFOF_CHROMIUM")
    candidates = [Path(named)] if named else [CHROMIUM]
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        candidates.append(Path(found))
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise ChromiumError(
        "printing to PDF needs Chromium: install it (Debian: apt-get install chromium) "
        "or set PFOF_CHROMIUM to its executable"
    )


def html_to_pdf(html: str, out: str | os.PathLike[str], *, chromium: Path | None = None) -> Path:
    """Print an HTML page to PDF with headless Chromium (no network, a throw-away profile)."""
    browser = chromium or find_chromium()
    target = Path(out).resolve()
    if not target.parent.is_dir():
        raise InputError(f"{out}: no such folder {target.parent}")
    with tempfile.TemporaryDirectory(prefix="pfof-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        command = [
            str(browser),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=PDF_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            raise ChromiumError(f"{browser}: no PDF after {PDF_TIMEOUT_S} s") from exc
    if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise ChromiumError(f"{browser} could not print {out}: {tail[0]}")
    return target
