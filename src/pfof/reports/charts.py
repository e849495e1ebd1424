"""Plotly figures of a broker's execution quality, PFOF and a routing counterfactual.

Every figure is built from aggregates (quantiles, histogram counts, share-weighted means)
computed here with Polars, never from one point per order, so a report of millions of orders
stays small. Inputs: the per-order quality table with the venue of each order's first route
(``venue``) and the canonical ``payments`` table.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from pfof.engine.counterfactual import MARKETABLE, Comparison
from pfof.model.tables import HORIZONS_NS

#: A small template (the built-in ones add ~10 kB of JSON to every figure and are slow to
#: apply): white background, light grid, a fixed colour sequence.
TEMPLATE = go.layout.Template(
    layout={
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"family": "system-ui, Segoe UI, Helvetica, Arial, sans-serif", "size": 12},
        "colorway": [
            "#1f77b4",
            "#ff7f0e",
            "#2ca02c",
            "#d62728",
            "#9467bd",
            "#8c564b",
            "#e377c2",
            "#7f7f7f",
            "#bcbd22",
            "#17becf",
        ],
        "xaxis": {"gridcolor": "#e5e7eb", "zerolinecolor": "#9ca3af", "automargin": True},
        "yaxis": {"gridcolor": "#e5e7eb", "zerolinecolor": "#9ca3af", "automargin": True},
    }
)
#: Order type -> label and colour, in display order.
ORDER_TYPES = {
    "market": ("Market", "#1f77b4"),
    "marketable_limit": ("Marketable limit", "#ff7f0e"),
    "non_marketable_limit": ("Non-marketable limit", "#2ca02c"),
    "other": ("Other (stop, on open/close)", "#9467bd"),
}
OTHER_VENUES = "other venues"
HORIZON_LABELS = {"50ms": "50 ms", "1s": "1 s", "15s": "15 s", "1m": "1 min", "5m": "5 min"}
#: Bins of price improvement as a fraction of the quoted half spread.
FRACTION_BINS = [round(-0.5 + 0.05 * i, 2) for i in range(32)]  # -0.50 .. 1.05


def _layout(fig: go.Figure, title: str, **kwargs: object) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01},
        margin={"l": 60, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.18},
        height=440,
        **kwargs,
    )
    return fig


def measured_marketable(quality: pl.DataFrame) -> pl.DataFrame:
    """Market and marketable limit orders with a fill and a usable quote at receipt."""
    return quality.filter(
        pl.col("order_type").is_in(MARKETABLE)
        & pl.col("effective_spread").is_not_null()
        & (pl.col("executed_qty") > 0)
        & pl.col("venue").is_not_null()
    )


def group_small_venues(quality: pl.DataFrame, min_share: float = 0.01) -> pl.DataFrame:
    """``quality`` with every venue that received less than ``min_share`` of the measured
    marketable orders renamed ``OTHER_VENUES`` (charts stay readable; tables keep all)."""
    measured = measured_marketable(quality)
    counts = measured.group_by("venue").len()
    total = measured.height or 1  # the sum of the counts: every measured order has a venue
    small = counts.filter(pl.col("len") < min_share * total).get_column("venue").to_list()
    if len(small) < 2:
        return quality
    return quality.with_columns(
        venue=pl.when(pl.col("venue").is_in(small))
        .then(pl.lit(OTHER_VENUES))
        .otherwise(pl.col("venue"))
    )


def venue_order(quality: pl.DataFrame) -> list[str]:
    """Venues by number of measured marketable orders, busiest first, ``OTHER_VENUES`` last."""
    counts = (
        measured_marketable(quality)
        .group_by("venue")
        .len()
        .sort(["len", "venue"], descending=[True, False])
    )
    venues = [str(v) for v in counts.get_column("venue").to_list()]
    return [v for v in venues if v != OTHER_VENUES] + [v for v in venues if v == OTHER_VENUES]


def _ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """``num / den``, null where ``den`` is 0 (no weight: the average is undefined)."""
    return pl.when(den != 0).then(num / den)


def venue_stats(quality: pl.DataFrame) -> pl.DataFrame:
    """Share-weighted execution quality per first-route venue (marketable orders).

    Over the measured orders (:func:`measured_marketable`: a fill and a usable quote at
    receipt): ``orders``, ``shares``, price improvement, the effective spread (crossed quotes
    included, docs/rule605.md E5), ``improved``, all weighted by executed shares. Weighted
    the way the quality summary and Rule 605 aggregate (docs/rule605.md E3, E5):

    * ``quoted_cents``: the quoted spread over the shares of the orders that have one (an
      order received while the NBBO was crossed has none);
    * ``eq``: effective over quoted spread, both share-weighted over those same orders;
    * ``rs_<h>``: the realized spread at horizon ``h`` weighted by ``realized_qty_<h>``, the
      shares whose fill had a valid midpoint at that horizon (the executed shares for a table
      without the column, or a null in it), over every filled marketable order of the venue,
      its receipt quote usable or not (a realized spread needs none).
    """
    x = pl.col("executed_qty")
    filled = quality.filter(
        pl.col("order_type").is_in(MARKETABLE)
        & (pl.col("executed_qty") > 0)
        & pl.col("venue").is_not_null()
    )
    measured = pl.col("effective_spread").is_not_null()
    xm = x.filter(measured)
    both = measured & pl.col("quoted_spread").is_not_null()
    rs = {}
    for h in HORIZONS_NS:
        value = pl.col(f"realized_spread_{h}")
        weight = x
        if f"realized_qty_{h}" in quality.columns:
            weight = pl.coalesce(pl.col(f"realized_qty_{h}"), x)
        ok = value.is_not_null() & weight.is_not_null()
        rs[f"rs_{h}"] = _ratio((value * weight).filter(ok).sum(), weight.filter(ok).sum()) * 100
    return (
        filled.group_by("venue")
        .agg(
            orders=measured.sum(),
            shares=xm.sum(),
            pi_usd=pl.col("price_improvement_usd").filter(measured).sum(),
            pi_cents=_ratio(
                (pl.col("price_improvement_per_share") * x).filter(measured).sum(), xm.sum()
            )
            * 100,
            eff_cents=_ratio((pl.col("effective_spread") * x).filter(measured).sum(), xm.sum())
            * 100,
            quoted_cents=_ratio(
                (pl.col("quoted_spread") * x).filter(both).sum(), x.filter(both).sum()
            )
            * 100,
            eq=_ratio(
                (pl.col("effective_spread") * x).filter(both).sum(),
                (pl.col("quoted_spread") * x).filter(both).sum(),
            ),
            improved=(pl.col("quote_position") == "inside").filter(measured).mean(),
            **rs,
        )
        .filter(pl.col("orders") > 0)
        .sort(
            [pl.col("venue") == OTHER_VENUES, pl.col("orders"), pl.col("venue")],
            descending=[False, True, False],
        )
    )


def pi_boxes(quality: pl.DataFrame) -> go.Figure:
    """Price improvement per share by first venue and order type (precomputed box plots)."""
    m = measured_marketable(quality).with_columns(cents=pl.col("price_improvement_per_share") * 100)
    venues = venue_order(quality)
    fig = go.Figure()
    for otype in MARKETABLE:
        stats = (
            m.filter(pl.col("order_type") == otype)
            .group_by("venue")
            .agg(
                q05=pl.col("cents").quantile(0.05, "linear"),
                q1=pl.col("cents").quantile(0.25, "linear"),
                median=pl.col("cents").median(),
                q3=pl.col("cents").quantile(0.75, "linear"),
                q95=pl.col("cents").quantile(0.95, "linear"),
                mean=pl.col("cents").mean(),
                n=pl.len(),
            )
        )
        rows = {r["venue"]: r for r in stats.iter_rows(named=True)}
        have = [v for v in venues if v in rows]
        if not have:
            continue
        label, colour = ORDER_TYPES[otype]
        fig.add_trace(
            go.Box(
                name=label,
                x=have,
                marker_color=colour,
                q1=[rows[v]["q1"] for v in have],
                median=[rows[v]["median"] for v in have],
                q3=[rows[v]["q3"] for v in have],
                lowerfence=[rows[v]["q05"] for v in have],
                upperfence=[rows[v]["q95"] for v in have],
                mean=[rows[v]["mean"] for v in have],
                boxmean=True,
                hovertext=[f"{rows[v]['n']:,} orders" for v in have],
            )
        )
    return _layout(
        fig,
        "Price improvement per share by venue and order type "
        "(box: quartiles; whiskers: 5th-95th percentile; dashed: mean)",
        boxmode="group",
        yaxis_title="cents per share",
        xaxis={"categoryorder": "array", "categoryarray": venues},
    )


def pi_fraction_histogram(quality: pl.DataFrame) -> go.Figure:
    """Distribution of price improvement as a fraction of the quoted half spread, by venue:
    where PFOF erodes improvement, the mass shifts left."""
    m = (
        measured_marketable(quality)
        .filter(pl.col("quoted_spread") > 0)
        .with_columns(
            frac=(pl.col("price_improvement_per_share") / (pl.col("quoted_spread") / 2)).clip(
                FRACTION_BINS[0], FRACTION_BINS[-1] - 1e-9
            )
        )
    )
    fig = go.Figure()
    for venue in venue_order(quality):
        values = m.filter(pl.col("venue") == venue).get_column("frac")
        if values.len() == 0:
            continue
        counts = [0] * (len(FRACTION_BINS) - 1)
        idx = ((values - FRACTION_BINS[0]) / 0.05).floor().cast(pl.Int64).clip(0, len(counts) - 1)
        for i, n in idx.value_counts().iter_rows():
            counts[int(i)] = int(n)
        total = sum(counts)
        centres = [round(b + 0.025, 3) for b in FRACTION_BINS[:-1]]
        fig.add_trace(
            go.Scatter(
                x=centres,
                y=[100 * c / total for c in counts],
                name=f"{venue} ({total:,})",
                mode="lines",
                line_shape="hvh",
            )
        )
    return _layout(
        fig,
        "Price improvement as a fraction of the quoted half spread "
        "(marketable orders, % of each venue's orders)",
        xaxis_title="price improvement / half spread at receipt",
        yaxis_title="% of orders",
    )


def pfof_by_venue(payments: pl.DataFrame) -> go.Figure:
    """Net payment for order flow by venue, stacked by order type (exchange fees negative)."""
    sums = payments.group_by("venue", "order_type").agg(usd=pl.col("amount").cast(pl.Float64).sum())
    totals = (
        sums.group_by("venue")
        .agg(t=pl.col("usd").sum())
        .sort(["t", "venue"], descending=[True, False])
    )
    venues = [str(v) for v in totals.get_column("venue").to_list()]
    fig = go.Figure()
    for otype, (label, colour) in ORDER_TYPES.items():
        rows = dict(sums.filter(pl.col("order_type") == otype).select("venue", "usd").iter_rows())
        if not rows:
            continue
        fig.add_trace(
            go.Bar(name=label, x=venues, y=[rows.get(v, 0.0) for v in venues], marker_color=colour)
        )
    return _layout(
        fig,
        "Payment for order flow received by the broker, by venue and order "
        "type (net of exchange access fees and rebates)",
        barmode="relative",
        yaxis_title="USD",
    )


def spreads_by_venue(stats: pl.DataFrame) -> go.Figure:
    """E/Q and the average effective and quoted spreads per venue (share-weighted)."""
    venues = [str(v) for v in stats.get_column("venue").to_list()]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Effective / quoted spread (E/Q)", "Average spreads (cents per share)"),
    )
    fig.add_trace(
        go.Bar(x=venues, y=stats.get_column("eq").to_list(), name="E/Q", marker_color="#17becf"),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=venues,
            y=stats.get_column("eff_cents").to_list(),
            name="effective spread",
            marker_color="#d62728",
        ),
        row=1,
        col=2,
    )
    fig.add_trace(
        go.Bar(
            x=venues,
            y=stats.get_column("quoted_cents").to_list(),
            name="quoted spread",
            marker_color="#7f7f7f",
        ),
        row=1,
        col=2,
    )
    return _layout(
        fig, "Execution quality by venue (market and marketable limit orders)", barmode="group"
    )


def realized_by_horizon(stats: pl.DataFrame) -> go.Figure:
    """Share-weighted realized spread at the amended Rule 605 horizons, one line per venue."""
    fig = go.Figure()
    labels = [HORIZON_LABELS[h] for h in HORIZONS_NS]
    for row in stats.iter_rows(named=True):
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=[row[f"rs_{h}"] for h in HORIZONS_NS],
                name=str(row["venue"]),
                mode="lines+markers",
            )
        )
    return _layout(
        fig,
        "Realized spread by horizon after execution (what the liquidity "
        "provider kept, cents per share)",
        xaxis_title="horizon",
        yaxis_title="cents per share",
    )


def counterfactual_money(comparison: Comparison) -> go.Figure:
    """Price improvement and PFOF by order type under the actual and the alternative policy."""
    a, b = comparison.actual, comparison.alternative
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(
            "Customers' price improvement (USD, marketable orders)",
            "Broker's net payment for order flow (USD)",
        ),
    )
    for out, colour in ((a, "#d62728"), (b, "#2ca02c")):
        types = [t for t in MARKETABLE if t in out.pi_by_order_type]
        fig.add_trace(
            go.Bar(
                x=[ORDER_TYPES[t][0] for t in types],
                y=[out.pi_by_order_type[t] for t in types],
                name=out.label,
                marker_color=colour,
                legendgroup=out.label,
            ),
            row=1,
            col=1,
        )
        ptypes = [t for t in ORDER_TYPES if t in out.pfof_by_order_type]
        fig.add_trace(
            go.Bar(
                x=[ORDER_TYPES[t][0] for t in ptypes],
                y=[float(out.pfof_by_order_type[t]) for t in ptypes],
                name=out.label,
                marker_color=colour,
                legendgroup=out.label,
                showlegend=False,
            ),
            row=1,
            col=2,
        )
    return _layout(fig, "Same orders, two routing policies", barmode="group")


def counterfactual_routing(comparison: Comparison) -> go.Figure:
    """Share of orders first routed to each venue under each policy."""
    a, b = comparison.actual, comparison.alternative
    venues = sorted(
        set(a.first_routes_by_venue) | set(b.first_routes_by_venue),
        key=lambda v: (-(a.first_routes_by_venue.get(v, 0) + b.first_routes_by_venue.get(v, 0)), v),
    )
    fig = go.Figure()
    for out, colour in ((a, "#d62728"), (b, "#2ca02c")):
        total = sum(out.first_routes_by_venue.values()) or 1
        fig.add_trace(
            go.Bar(
                x=venues,
                y=[100 * out.first_routes_by_venue.get(v, 0) / total for v in venues],
                name=out.label,
                marker_color=colour,
            )
        )
    return _layout(
        fig,
        "Where orders were first routed (% of all orders)",
        barmode="group",
        yaxis_title="% of orders",
    )
