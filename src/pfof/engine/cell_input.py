"""Reported 606(a)(1) cells from wherever they are held: objects, Arrow or Polars.

The disclosure analytics (:mod:`~pfof.engine.venue_identity`,
:mod:`~pfof.engine.report_summary`, :mod:`~pfof.engine.broker_comparison`) take cells either as
:class:`~pfof.model.reports606.A1Cell` objects or as a table whose columns carry the ``A1Cell``
field names, as the store's ``disclosures_606`` table does; :func:`as_cells` turns either into
objects once, at the entry of each analysis.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pfof.model.enums import OrderType, Section
from pfof.model.reports606 import A1Cell

__all__ = ["CellSource", "as_cells"]

#: An iterable of ``A1Cell``, a ``pyarrow.Table`` or a ``polars.DataFrame``.
CellSource = Iterable[A1Cell] | Any


def as_cells(cells: CellSource) -> list[A1Cell]:
    """Materialise cells from ``A1Cell`` objects, a pyarrow Table or a polars DataFrame."""
    if hasattr(cells, "to_arrow") and not hasattr(cells, "to_pylist"):  # polars
        cells = cells.to_arrow()
    if hasattr(cells, "to_pylist"):  # pyarrow
        names = A1Cell.__slots__
        out = []
        for row in cells.to_pylist():
            values = {name: row.get(name) for name in names}
            values["section"] = Section(values["section"])
            values["order_type"] = OrderType(values["order_type"])
            out.append(A1Cell(**values))
        return out
    return list(cells)
