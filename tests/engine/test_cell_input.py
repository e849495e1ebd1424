"""Reported cells from objects, Arrow or Polars (engine.cell_input)."""

from __future__ import annotations

import dataclasses

import polars as pl
import pyarrow as pa

from pfof.engine.cell_input import as_cells
from pfof.model.reports606 import a1_cells
from support.a1_reports import report, section, venue


def test_arrow_and_polars_rows_become_the_same_cells_as_the_report() -> None:
    rep = report("B", 2024, 1, [{"sp500": section(venue("A", "100", market_usd="1.00"))}])
    cells = list(a1_cells(rep))
    rows = [dataclasses.asdict(c) for c in cells]
    for row in rows:
        row["section"] = row["section"].value
        row["order_type"] = row["order_type"].value
    arrow = pa.Table.from_pylist(rows)
    assert as_cells(arrow) == cells
    assert as_cells(pl.from_arrow(arrow)) == cells
    assert as_cells(iter(cells)) == cells
