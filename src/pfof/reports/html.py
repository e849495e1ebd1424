"""A self-contained HTML report of a broker's execution quality and payment for order flow.

One file, viewable with no network: plotly.js is embedded inline once (never a CDN link),
each chart is a Plotly div, the tables are plain HTML rendered by a Jinja2 template with
autoescaping. Figures come from ``reports.charts``; the headline and the counterfactual
numbers from ``engine.counterfactual``. Output is deterministic for the same inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2
import plotly.graph_objects as go
import polars as pl
import pyarrow as pa
from plotly.offline import get_plotlyjs

import pfof
from pfof.engine.counterfactual import Comparison, total_payments, total_price_improvement
from pfof.engine.option_quality import OptionsOutcome
from pfof.model.money import format_usd
from pfof.reports import charts

_CONFIG = {"displaylogo": False, "responsive": True}


@dataclass(frozen=True)
class ReportInput:
    """What the report shows. ``quality`` is the per-order quality table plus ``venue``, the
    venue of each order's first route; ``payments`` the broker's canonical payments."""

    title: str
    broker: str
    period: str
    quality: pa.Table | pl.DataFrame
    payments: pa.Table | pl.DataFrame
    comparison: Comparison | None = None
    #: (what, path relative to the report) of files written alongside it
    files: Sequence[tuple[str, str]] = ()
    notes: Sequence[str] = field(default_factory=tuple)
    #: Options figures (engine.option_quality.OptionsOutcome) of the actual and the
    #: best-price routing, when the broker traded options.
    options: tuple[OptionsOutcome, OptionsOutcome] | None = None


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{round(value, digits) + 0.0:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("pfof.reports", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def _frame(table: pa.Table | pl.DataFrame) -> pl.DataFrame:
    frame = table if isinstance(table, pl.DataFrame) else pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _div(fig: go.Figure, div_id: str) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG)


def headline(data: ReportInput) -> list[tuple[str, str]]:
    """(label, value) pairs of the report's headline."""
    q = _frame(data.quality)
    marketable = q.filter(pl.col("order_type").is_in(charts.MARKETABLE))
    rows = [
        ("Orders", f"{q.height:,} ({marketable.height:,} market or marketable limit)"),
        ("Shares executed", _num(float(q.get_column("executed_qty").sum()))),
        (
            "Customers' price improvement (marketable orders)",
            format_usd(total_price_improvement(q)),
        ),
        ("Broker's net payment for order flow", format_usd(total_payments(_frame(data.payments)))),
    ]
    c = data.comparison
    if c is not None:
        alt = c.alternative
        pi, pi_gain = format_usd(alt.price_improvement_usd), format_usd(c.pi_gain_usd, signed=True)
        pfof, pfof_change = format_usd(alt.pfof_usd), format_usd(c.pfof_change_usd, signed=True)
        rows += [
            (f"Price improvement under {alt.label}", f"{pi} ({pi_gain})"),
            (f"Net PFOF under {alt.label}", f"{pfof} ({pfof_change})"),
        ]
    return rows


def _venue_rows(stats: pl.DataFrame) -> list[list[str]]:
    return [
        [
            str(r["venue"]),
            f"{r['orders']:,}",
            _num(r["shares"]),
            format_usd(r["pi_usd"]),
            _num(r["pi_cents"], 3),
            _pct(r["improved"]),
            _num(r["quoted_cents"], 3),
            _num(r["eff_cents"], 3),
            _num(r["eq"], 3),
            _num(r["rs_15s"], 3),
            _num(r["rs_1m"], 3),
        ]
        for r in stats.iter_rows(named=True)
    ]


def _payment_rows(payments: pl.DataFrame) -> list[list[str]]:
    sums = (
        payments.group_by("venue")
        .agg(
            *[
                pl.col("amount").filter(pl.col("order_type") == t).sum().alias(t)
                for t in charts.ORDER_TYPES
            ],
            total=pl.col("amount").sum(),
        )
        .sort(["total", "venue"], descending=[True, False])
    )
    return [
        [
            str(r["venue"]),
            *(format_usd(r[t] or 0) for t in charts.ORDER_TYPES),
            format_usd(r["total"]),
        ]
        for r in sums.iter_rows(named=True)
    ]


def _comparison_rows(c: Comparison) -> list[list[str]]:
    a, b = c.actual, c.alternative
    rows = [
        [
            "Price improvement, marketable orders",
            format_usd(a.price_improvement_usd),
            format_usd(b.price_improvement_usd),
            format_usd(c.pi_gain_usd, signed=True),
        ]
    ]
    for t in charts.MARKETABLE:
        if t in a.pi_by_order_type or t in b.pi_by_order_type:
            pa_, pb = a.pi_by_order_type.get(t, 0.0), b.pi_by_order_type.get(t, 0.0)
            rows.append(
                [
                    f"  {charts.ORDER_TYPES[t][0]}",
                    format_usd(pa_),
                    format_usd(pb),
                    format_usd(pb - pa_, signed=True),
                ]
            )
    rows.append(
        [
            "Broker's net PFOF",
            format_usd(a.pfof_usd),
            format_usd(b.pfof_usd),
            format_usd(c.pfof_change_usd, signed=True),
        ]
    )
    rows.append(
        [
            "Orders with more / less / equal improvement under the alternative",
            "",
            f"{c.better:,} / {c.worse:,} / {c.same:,}",
            f"of {c.orders:,}",
        ]
    )
    return rows


def _options_rows(options: tuple[OptionsOutcome, OptionsOutcome]) -> list[list[str]]:
    """Options PFOF per contract against improvement per contract and in volatility points."""
    actual, alt = options

    def usd(v: float | None) -> str:
        return "-" if v is None else f"${v:,.2f}"

    def change(a: float | None, b: float | None, fmt: str) -> str:
        return "-" if a is None or b is None else format(b - a, fmt)

    return [
        ["Marketable option orders", f"{actual.orders:,}", f"{alt.orders:,}", ""],
        [
            "Net PFOF per contract",
            usd(actual.pfof_per_contract),
            usd(alt.pfof_per_contract),
            change(actual.pfof_per_contract, alt.pfof_per_contract, "+,.2f"),
        ],
        [
            "Price improvement per contract",
            usd(actual.pi_per_contract),
            usd(alt.pi_per_contract),
            change(actual.pi_per_contract, alt.pi_per_contract, "+,.2f"),
        ],
        [
            "Cost in volatility points (fill vs NBBO midpoint)",
            _num(actual.vol_points, 3),
            _num(alt.vol_points, 3),
            change(actual.vol_points, alt.vol_points, "+.3f"),
        ],
    ]


def render_html(data: ReportInput) -> str:
    """The report as one HTML document (plotly.js inline)."""
    q = _frame(data.quality)
    payments = _frame(data.payments)
    stats = charts.venue_stats(q)
    grouped = charts.group_small_venues(q)
    grouped_stats = charts.venue_stats(grouped)
    figures = [
        ("pi-by-venue", "Price improvement", charts.pi_boxes(grouped)),
        (
            "pi-fraction",
            "Price improvement relative to the spread",
            charts.pi_fraction_histogram(grouped),
        ),
        ("pfof-by-venue", "Payment for order flow", charts.pfof_by_venue(payments)),
        ("spreads-by-venue", "E/Q and effective spread", charts.spreads_by_venue(grouped_stats)),
        (
            "realized-spread",
            "Realized spread by horizon",
            charts.realized_by_horizon(grouped_stats),
        ),
    ]
    if data.comparison is not None:
        figures += [
            (
                "counterfactual",
                "Best-price routing on the same orders",
                charts.counterfactual_money(data.comparison),
            ),
            (
                "counterfactual-routing",
                "Routing under both policies",
                charts.counterfactual_routing(data.comparison),
            ),
        ]
    template = _environment().get_template("report.html.j2")
    return template.render(
        title=data.title,
        broker=data.broker,
        period=data.period,
        version=pfof.__version__,
        plotly_js=get_plotlyjs(),
        headline=headline(data),
        charts=[(div_id, heading, _div(fig, div_id)) for div_id, heading, fig in figures],
        venue_rows=_venue_rows(stats),
        payment_rows=_payment_rows(payments),
        payment_types=[label for label, _ in charts.ORDER_TYPES.values()],
        comparison=data.comparison,
        comparison_rows=_comparison_rows(data.comparison) if data.comparison else [],
        options=data.options,
        options_rows=_options_rows(data.options) if data.options else [],
        files=list(data.files),
        notes=list(data.notes),
    )


def write_html(data: ReportInput, path: str | Path) -> Path:
    """Render the report and write it to ``path`` (UTF-8); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(data), encoding="utf-8")
    return out
