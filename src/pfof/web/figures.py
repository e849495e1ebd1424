"""Plotly figures of the dashboard, as JSON safe to embed in a page.

Figures are plain dicts (``{"data": [...], "layout": {...}}``) in the shape plotly.js reads:
building ``plotly.graph_objects`` figures validates every property and costs milliseconds per
figure, which a page drawn per request cannot afford. The simulated-market page reuses the
static report's figures (:mod:`pfof.reports.charts`), converted once by :func:`escaped_copy`.

Names from reports (brokers, venues) are HTML-escaped before they enter a figure: Plotly
reads a subset of HTML in its text (``<b>``, ``<a href>``), so a venue named ``<script>``
must reach it as ``&lt;script&gt;``, which it shows as the literal text. :func:`figure_json`
then escapes ``<``, ``>`` and ``&`` of the JSON so that it cannot close the ``<script
type="application/json">`` block carrying it.
"""

from __future__ import annotations

import html
import json
from decimal import Decimal
from functools import cache
from typing import Any

from pfof.reports.charts import ORDER_TYPES, TEMPLATE

Figure = dict[str, Any]

__all__ = [
    "broker_payments",
    "broker_quality",
    "broker_rates",
    "broker_sections",
    "center_eq",
    "center_improvement",
    "figure_json",
    "policies",
    "venue_payments",
    "venue_shares",
]

SECTIONS = {
    "sp500": ("S&P 500 stocks", "#1f77b4"),
    "other_stocks": ("Other stocks", "#ff7f0e"),
    "options": ("Options", "#2ca02c"),
}


def text(value: object) -> str:
    """A report's name as Plotly text: HTML-escaped, so it is shown, never interpreted."""
    return html.escape(str(value), quote=True)


def _num(value: str | None) -> float | None:
    return None if value is None else float(Decimal(value))


@cache
def _template() -> dict[str, Any]:
    """pfof's small Plotly template (that of the static report), as plain JSON."""
    return json.loads(json.dumps(TEMPLATE.to_plotly_json()))


def _figure(traces: list[dict[str, Any]], title: str, **layout: Any) -> Figure:
    return {
        "data": traces,
        "layout": {
            "template": _template(),
            "title": {"text": text(title), "x": 0.01},
            "margin": {"l": 70, "r": 20, "t": 50, "b": 40},
            "legend": {"orientation": "h", "y": -0.2},
            "height": 400,
            **layout,
        },
    }


def figure_json(fig: Figure) -> str:
    """The figure's JSON with ``<``, ``>`` and ``&`` as ``\\u`` escapes (embeddable)."""
    raw = json.dumps(fig, separators=(",", ":"), allow_nan=False)
    return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def broker_payments(records: list[dict[str, Any]]) -> Figure:
    """Net PFOF per quarter, one line per broker."""
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": text(broker),
            "x": [f"{r['year']} Q{r['quarter']}" for r in rows],
            "y": [_num(r["total_usd"]) for r in rows],
        }
        for broker, rows in _by_broker(records).items()
    ]
    return _figure(
        traces, "Net payment for order flow per quarter (USD)", yaxis={"title": {"text": "USD"}}
    )


def broker_sections(records: list[dict[str, Any]]) -> Figure:
    """Net PFOF over the quarters shown, per broker, stacked by section (order types in the
    legend, hidden until clicked)."""
    grouped = _by_broker(records)
    brokers = list(grouped)
    x = [text(b) for b in brokers]
    traces = []
    for groups, hidden in ((SECTIONS, False), (ORDER_TYPES, True)):
        for key, (label, colour) in groups.items():
            trace = {
                "type": "bar",
                "name": label,
                "x": x,
                "y": [sum(_num(r[f"{key}_usd"]) or 0.0 for r in grouped[b]) for b in brokers],
                "marker": {"color": colour},
            }
            if hidden:
                trace["visible"] = "legendonly"
            traces.append(trace)
    return _figure(
        traces,
        "Net PFOF over the quarters shown, by section (order types: click the legend)",
        barmode="relative",
        yaxis={"title": {"text": "USD"}},
    )


def broker_rates(records: list[dict[str, Any]]) -> Figure:
    """Payment-weighted rates per quarter: stocks per 100 shares, options per contract."""
    traces = []
    for broker, rows in _by_broker(records).items():
        for key, (label, _) in SECTIONS.items():
            values = [_num(r[f"{key}_rate"]) for r in rows]
            if all(v is None for v in values):
                continue
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "name": f"{text(broker)} · {label}",
                    "x": [f"{r['year']} Q{r['quarter']}" for r in rows],
                    "y": values,
                }
            )
    return _figure(
        traces,
        "Rates (cents per 100 shares; per contract for options)",
        yaxis={"title": {"text": "cents"}},
    )


def venue_shares(venues: list[dict[str, Any]]) -> Figure:
    """A broker's routing share per venue and quarter (% of non-directed orders)."""
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": text(venue),
            "x": [r["period"].replace("Q", " Q") for r in rows],
            "y": [_num(r["order_pct"]) for r in rows],
        }
        for venue, rows in _by_venue(venues).items()
    ]
    return _figure(
        traces, "Routing share per venue (% of non-directed orders)", yaxis={"title": {"text": "%"}}
    )


def venue_payments(venues: list[dict[str, Any]]) -> Figure:
    """A broker's net payment per venue and quarter, stacked."""
    traces = [
        {
            "type": "bar",
            "name": text(venue),
            "x": [r["period"].replace("Q", " Q") for r in rows],
            "y": [_num(r["net_payment_usd"]) for r in rows],
        }
        for venue, rows in _by_venue(venues).items()
    ]
    return _figure(
        traces,
        "Net payment received per venue (USD)",
        barmode="relative",
        yaxis={"title": {"text": "USD"}},
    )


def policies(headline: dict[str, Any]) -> Figure:
    """The demo's two routing policies: customers' price improvement and the broker's PFOF."""
    sides = [headline["actual"], headline["alternative"]]
    traces = [
        {
            "type": "bar",
            "name": label,
            "x": [text(s["label"]) for s in sides],
            "y": [float(Decimal(s[key])) for s in sides],
            "marker": {"color": colour},
        }
        for key, label, colour in (
            ("price_improvement_usd", "Customers' price improvement", "#2ca02c"),
            ("pfof_usd", "Broker's net PFOF", "#d62728"),
        )
    ]
    return _figure(traces, "Same orders, two routing policies (USD)", barmode="group")


def _by_center(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Market-center rows by trace: the center, and its format when it has several."""
    formats: dict[str, set[str]] = {}
    for r in rows:
        formats.setdefault(str(r["market_center"]), set()).add(str(r["format"]))
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        center = str(r["market_center"])
        name = center if len(formats[center]) == 1 else f"{center} ({r['format']})"
        out.setdefault(name, []).append(r)
    return out


def _center_traces(rows: list[dict[str, Any]], key: str) -> tuple[list[dict[str, Any]], str]:
    """``key`` per market center: a line per center over the months, or with a single month
    one bar per center; and the x axis title."""
    months = sorted({str(r["month"]) for r in rows})
    grouped = _by_center(rows)
    if len(months) == 1:
        bar = {
            "type": "bar",
            "name": text(months[0]),
            "x": [text(name) for name in grouped],
            "y": [_num(members[0][key]) for members in grouped.values()],
        }
        return [bar], "market center"
    lines = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": text(name),
            "x": [str(r["month"]) for r in members],
            "y": [_num(r[key]) for r in members],
        }
        for name, members in grouped.items()
    ]
    return lines, "month"


def center_improvement(rows: list[dict[str, Any]]) -> Figure:
    """Net price improvement per share by month, one line per market center (Rule 605); one
    bar per center when the store has a single month."""
    traces, axis = _center_traces(rows, "net_price_improvement_cents_per_share")
    return _figure(
        traces,
        "Net price improvement of market and marketable limit orders (cents per share)",
        xaxis={"type": "category", "title": {"text": axis}},
        yaxis={"title": {"text": "cents per share"}},
    )


def center_eq(rows: list[dict[str, Any]]) -> Figure:
    """E/Q (effective over quoted spread) by month, as :func:`center_improvement`."""
    traces, axis = _center_traces(rows, "eq_ratio")
    return _figure(
        traces,
        "E/Q: effective over quoted spread (below 1: better than the quote)",
        xaxis={"type": "category", "title": {"text": axis}},
        yaxis={"title": {"text": "E/Q"}},
    )


def broker_quality(records: list[dict[str, Any]]) -> Figure:
    """A broker's estimated price improvement next to its PFOF per quarter (``all`` rows of
    :func:`pfof.engine.broker_quality.broker_quality`), cents per 100 shares."""
    combined = [r for r in records if r["section"] == "all"]
    x = [f"{r['year']} Q{r['quarter']}" for r in combined]
    traces = [
        {
            "type": "bar",
            "name": label,
            "x": x,
            "y": [_num(r[key]) for r in combined],
            "marker": {"color": colour},
        }
        for key, label, colour in (
            ("pi_cents_per_100_shares", "Estimated price improvement (606 x 605)", "#2ca02c"),
            ("pfof_cents_per_100_shares", "PFOF", "#d62728"),
        )
    ]
    return _figure(
        traces,
        "Customers' estimated price improvement and the broker's PFOF (cents per 100 shares)",
        barmode="group",
        xaxis={"type": "category"},
        yaxis={"title": {"text": "cents per 100 shares"}},
    )


def _by_broker(records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        out.setdefault(r["broker"], []).append(r)
    return out


def _by_venue(venues: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in venues:
        out.setdefault(r["venue"], []).append(r)
    return out


def escaped_copy(fig: Any) -> Figure:
    """A ``plotly.graph_objects`` figure of :mod:`pfof.reports.charts` as a plain figure,
    its trace names and text categories escaped."""
    data = json.loads(fig.to_json())
    for trace in data.get("data", []):
        if "name" in trace:
            trace["name"] = text(trace["name"])
        for axis in ("x", "y"):
            values = trace.get(axis)
            if isinstance(values, list) and values and isinstance(values[0], str):
                trace[axis] = [text(v) for v in values]
    for key, value in data.get("layout", {}).items():
        if key.startswith("xaxis") and isinstance(value, dict) and "categoryarray" in value:
            value["categoryarray"] = [text(v) for v in value["categoryarray"]]
    return {"data": data.get("data", []), "layout": data.get("layout", {})}
