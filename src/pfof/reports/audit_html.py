"""A self-contained HTML report of a trade audit: the distribution of price improvement, the
worst fills and the estimated payment for order flow.

One file that opens offline, like the execution-quality report (:mod:`pfof.reports.html`):
plotly.js inline once, charts as Plotly divs built from aggregates (histogram counts, sums),
tables rendered by a Jinja2 template with autoescaping. Dollar figures are formatted from the
audit's exact decimals only here, for display.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import jinja2
import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

import pfof
from pfof.engine.trade_audit import AuditSummary, TradeAudit
from pfof.model.money import format_usd
from pfof.model.trade_records import TradePosition
from pfof.reports.charts import TEMPLATE

__all__ = ["WORST_FILLS", "AuditReport", "render_audit_html", "write_audit_html"]

#: Rows of the worst-fills table; the full table is shown up to ``ALL_TRADES`` trades.
WORST_FILLS = 20
ALL_TRADES = 200
_CONFIG = {"displaylogo": False, "responsive": True}
_POSITION_COLOURS = {
    TradePosition.INSIDE: "#2ca02c",
    TradePosition.AT: "#1f77b4",
    TradePosition.OUTSIDE: "#d62728",
    TradePosition.NO_QUOTE: "#7f7f7f",
}


@dataclass(frozen=True)
class AuditReport:
    """What the report shows: the audited trades, their summary, notes and the input files."""

    title: str
    trades: Sequence[TradeAudit]
    summary: AuditSummary
    notes: Sequence[str] = field(default_factory=tuple)
    sources: Sequence[str] = field(default_factory=tuple)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pfof.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _layout(fig: go.Figure, title: str, **kwargs: object) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01},
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        height=400,
        **kwargs,
    )
    return fig


def _div(fig: go.Figure, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG)


def _usd(value: Decimal | None, places: int = 2) -> str:
    return "-" if value is None else format_usd(value, places=places)


def _cents(value: Decimal | None) -> str:
    return "-" if value is None else f"{value * 100:,.2f}"


def improvement_histogram(trades: Sequence[TradeAudit]) -> go.Figure:
    """Trades by price improvement per share (cents), green at or above zero, red below."""
    cents = np.array(
        [
            float(t.price_improvement_per_share) * 100
            for t in trades
            if t.price_improvement_per_share is not None
        ]
    )
    fig = go.Figure()
    if len(cents):
        lo, hi = float(np.floor(cents.min())), float(np.ceil(cents.max()))
        width = max((hi - lo) / 40, 0.05) if hi > lo else 0.1
        edges = np.arange(lo - width / 2, hi + width, width)
        counts, edges = np.histogram(cents, bins=edges)
        centres = (edges[:-1] + edges[1:]) / 2
        fig.add_bar(
            x=centres.round(4).tolist(),
            y=counts.tolist(),
            width=width * 0.95,
            marker_color=["#d62728" if c < 0 else "#2ca02c" for c in centres],
            hovertemplate="%{x:.2f} ¢/share: %{y} trades<extra></extra>",
        )
    return _layout(
        fig,
        "Price improvement per share (cents; below zero: worse than the NBBO)",
        xaxis_title="cents per share (per share of premium for options)",
        yaxis_title="trades",
        showlegend=False,
    )


def position_bars(summary: AuditSummary) -> go.Figure:
    """Trades by position against the NBBO at order time."""
    labels = [p.value for p in TradePosition]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=[summary.positions.get(p, 0) for p in labels],
            marker_color=[_POSITION_COLOURS[p] for p in TradePosition],
            hovertemplate="%{x}: %{y} trades<extra></extra>",
        )
    )
    return _layout(fig, "Fill against the NBBO at order time", yaxis_title="trades")


def payment_bars(trades: Sequence[TradeAudit]) -> go.Figure:
    """Estimated payment for order flow beside price improvement, per venue (or basis)."""
    pfof: defaultdict[str, Decimal] = defaultdict(Decimal)
    pi: defaultdict[str, Decimal] = defaultdict(Decimal)
    for t in trades:
        if t.pfof_estimate_usd is None:
            continue
        label = t.pfof_venue or ("broker average" if t.pfof_basis == "routing_weighted" else "?")
        pfof[label] += t.pfof_estimate_usd
        if t.price_improvement_usd is not None:
            pi[label] += t.price_improvement_usd
    labels = sorted(pfof, key=lambda k: -pfof[k])
    fig = go.Figure()
    fig.add_bar(
        name="payment to the broker (estimate)", x=labels, y=[float(pfof[k]) for k in labels]
    )
    fig.add_bar(name="price improvement to you", x=labels, y=[float(pi[k]) for k in labels])
    return _layout(
        fig,
        "Estimated payment for order flow and price improvement (USD)",
        barmode="group",
        yaxis_title="USD",
        legend={"orientation": "h", "y": -0.2},
    )


def _trade_row(t: TradeAudit) -> list[str]:
    return [
        t.trade_id,
        t.symbol,
        t.side,
        f"{t.quantity.normalize():f}",
        f"{t.price.normalize():f}",
        "-" if t.nbbo_bid is None else f"{t.nbbo_bid:f}",
        "-" if t.nbbo_ask is None else f"{t.nbbo_ask:f}",
        t.position.value,
        _cents(t.price_improvement_per_share),
        _usd(t.price_improvement_usd),
        _usd(t.pfof_estimate_usd, 4),
        ", ".join(f.value for f in t.flags),
    ]


def headline(report: AuditReport) -> list[tuple[str, str]]:
    """(label, value) pairs of the report's headline."""
    s = report.summary
    ratio = s.price_improvement_per_pfof_dollar
    return [
        ("Trades audited", f"{s.trades:,} ({s.with_quote:,} with a quote)"),
        ("Price improvement, total", _usd(s.total_price_improvement_usd)),
        ("Payment for order flow, estimated", _usd(s.total_pfof_estimate_usd)),
        ("Price improvement per PFOF dollar", "-" if ratio is None else f"{ratio:,.2f}"),
        (
            "Inside / at / outside the NBBO",
            " / ".join(f"{s.positions.get(p, 0):,}" for p in ("inside", "at", "outside")),
        ),
    ]


def render_audit_html(report: AuditReport) -> str:
    """The report as one HTML document (plotly.js inline)."""
    trades = list(report.trades)
    measured = [t for t in trades if t.price_improvement_usd is not None]
    worst = sorted(measured, key=lambda t: (t.price_improvement_usd, t.trade_id))[:WORST_FILLS]
    figures = [
        ("pi-distribution", "Distribution of price improvement", improvement_histogram(trades)),
        ("positions", "Position against the quote", position_bars(report.summary)),
    ]
    if any(t.pfof_estimate_usd is not None for t in trades):
        figures.append(("pfof", "Estimated payment for order flow", payment_bars(trades)))
    return (
        _environment()
        .get_template("audit_report.html.j2")
        .render(
            title=report.title,
            version=pfof.__version__,
            plotly_js=get_plotlyjs(),
            headline=headline(report),
            charts=[(div_id, heading, _div(fig, div_id)) for div_id, heading, fig in figures],
            worst_rows=[_trade_row(t) for t in worst],
            all_rows=[_trade_row(t) for t in trades] if len(trades) <= ALL_TRADES else [],
            flag_rows=sorted(report.summary.flags.items()),
            notes=list(report.notes),
            sources=list(report.sources),
        )
    )


def write_audit_html(report: AuditReport, path: str | Path) -> Path:
    """Render the report and write it to ``path`` (UTF-8); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_audit_html(report), encoding="utf-8")
    return out
