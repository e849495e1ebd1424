"""``pfof quality``: every order against the NBBO, from a directory of canonical Parquet tables."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pfof.model.tables import FILLS, ORDER_QUALITY

console = Console()
_PARTITION = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_SUMMARY_COLUMNS = [
    "executed_qty",
    "effective_spread",
    "quoted_spread",
    "price_improvement_per_share",
    "price_improvement_usd",
    "realized_spread_15s",
    "realized_spread_1m",
    "time_to_first_fill_ms",
    "nbbo_state",
    "quote_position",
]


def _days(root: Path) -> list[str]:
    orders = root / "orders"
    if not orders.is_dir():
        raise typer.BadParameter(
            f"{orders} is missing: expected {root}/<table>/date=YYYY-MM-DD/", param_hint="DIR"
        )
    days = sorted(m.group(1) for p in orders.iterdir() if (m := _PARTITION.match(p.name)))
    if not days:
        raise typer.BadParameter(f"{orders} has no date=YYYY-MM-DD partitions", param_hint="DIR")
    return days


def _read(root: Path, table: str, day: str) -> pa.Table | None:
    part = root / table / f"date={day}"
    if not part.is_dir():
        return None
    try:
        return pq.read_table(part, partitioning=None)
    except (pa.ArrowException, OSError) as exc:
        raise typer.BadParameter(f"{part}: cannot read Parquet: {exc}") from exc


def _day_inputs(root: Path, days: list[str], dropped: list[int]) -> Iterator[tuple]:
    """(orders, fills, nbbo) per day; NBBO consolidated from quotes when no nbbo table."""
    from pfof.engine.nbbo import consolidate_nbbo

    for day in days:
        orders = _read(root, "orders", day)
        fills = _read(root, "fills", day)
        fills = FILLS.empty_table() if fills is None else fills
        nbbo = _read(root, "nbbo", day)
        if nbbo is None:
            quotes = _read(root, "quotes", day)
            if quotes is None:
                raise typer.BadParameter(f"{root}: no nbbo or quotes partition for {day}")
            nbbo = consolidate_nbbo(quotes)
        assert orders is not None
        # fills of orders received on another day (multi-day orders) are not measured here
        mine = pc.is_in(fills.column("order_id"), value_set=orders.column("order_id"))
        dropped.append(fills.num_rows - pc.sum(mine).as_py() if fills.num_rows else 0)
        yield orders, fills.filter(mine), nbbo


def _summary(tables: list[pa.Table]) -> Table:
    import polars as pl

    empty = ORDER_QUALITY.empty_table().select(_SUMMARY_COLUMNS)
    df = pl.from_arrow(pa.concat_tables(tables) if tables else empty)
    assert isinstance(df, pl.DataFrame)
    x = pl.col("executed_qty")

    def wavg(col: str) -> pl.Expr:
        ok = pl.col(col).is_not_null()
        return (pl.col(col) * x).filter(ok).sum() / x.filter(ok).sum()

    s = df.select(
        orders=pl.len(),
        filled=(x > 0).sum(),
        shares=x.sum(),
        eff=wavg("effective_spread"),
        quoted=wavg("quoted_spread"),
        pi=wavg("price_improvement_per_share"),
        pi_usd=pl.col("price_improvement_usd").sum(),
        rs15=wavg("realized_spread_15s"),
        rs1m=wavg("realized_spread_1m"),
        speed=wavg("time_to_first_fill_ms"),
    ).row(0, named=True)
    table = Table(title="Execution quality (share-weighted over measured orders)")
    table.add_column("measure")
    table.add_column("value", justify="right")

    def money(v: float | None, digits: int = 4) -> str:
        return "-" if v is None else f"${v:,.{digits}f}"

    table.add_row("orders / filled", f"{s['orders']:,} / {s['filled']:,}")
    table.add_row("shares executed", f"{s['shares'] or 0:,.2f}")
    table.add_row("avg quoted spread /sh", money(s["quoted"]))
    table.add_row("avg effective spread /sh", money(s["eff"]))
    e_q = s["eff"] / s["quoted"] if s["eff"] is not None and s["quoted"] else None
    table.add_row("E/Q", "-" if e_q is None else f"{e_q:.3f}")
    table.add_row("price improvement /sh", money(s["pi"]))
    table.add_row("price improvement total", money(s["pi_usd"], 2))
    table.add_row("realized spread 15 s /sh", money(s["rs15"]))
    table.add_row("realized spread 1 min /sh", money(s["rs1m"]))
    table.add_row("time to first fill (ms)", "-" if s["speed"] is None else f"{s['speed']:,.1f}")
    for col in ("nbbo_state", "quote_position"):
        counts = df.get_column(col).drop_nulls().value_counts(sort=True)
        table.add_row(col, ", ".join(f"{k} {v:,}" for k, v in counts.iter_rows()))
    return table


def quality_command(
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIR",
            help="Canonical tables as DIR/<table>/date=YYYY-MM-DD/*.parquet: orders, fills, and "
            "nbbo (or quotes, consolidated into the NBBO), e.g. the output of pfof simulate.",
            exists=True,
            file_okay=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write the per-order table as OUT/date=YYYY-MM-DD/"
            "part-0.parquet (default: DIR/order_quality).",
        ),
    ] = None,
    stale_after_ms: Annotated[
        float,
        typer.Option(
            help="A receipt NBBO older than this is 'stale' (its spread metrics are "
            "null); 0 disables the check.",
            min=0,
        ),
    ] = 300_000.0,
    workers: Annotated[int, typer.Option(help="Trading days processed at once.", min=1)] = 1,
) -> None:
    """Measure every order against the NBBO: spreads, price improvement, realized spreads."""
    from pfof.engine.quality import stream_order_quality

    days = _days(directory)
    out = out or directory / "order_quality"
    stale = int(stale_after_ms * 1_000_000) or None
    dropped: list[int] = []
    results: list[pa.Table] = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("order quality by day", total=len(days))
        stream = stream_order_quality(
            _day_inputs(directory, days, dropped), workers=workers, stale_after_ns=stale
        )
        done = 0
        try:
            for table in stream:
                day = days[done]
                target = out / f"date={day}" / "part-0.parquet"
                target.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, target)
                results.append(table.select(_SUMMARY_COLUMNS))
                done += 1
                progress.advance(task)
        except ValueError as exc:
            console.print(f"[red]error:[/red] {directory} date={days[done]}: {exc}")
            raise typer.Exit(1) from exc
    console.print(_summary(results))
    if sum(dropped):
        console.print(
            f"[yellow]{sum(dropped):,} fills of orders received on another day were "
            "not measured[/yellow]"
        )
    console.print(
        f"wrote {sum(t.num_rows for t in results):,} rows for {len(days)} day(s) to {out}"
    )


def register(app: typer.Typer) -> None:
    """Add ``pfof quality`` to the root app."""
    app.command("quality")(quality_command)
