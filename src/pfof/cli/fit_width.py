"""Tables that read in the terminal they print to, without cells cut to ``Rob…``.

:func:`fits` tells whether a table prints at its natural width; :func:`column_parts` lays rows
out as one table when they fit (or ``wide`` is asked for) and otherwise as several tables of a
few columns each, every part repeating the columns that identify a row. Imports only Rich
(and :mod:`pfof.cli.safe_text`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from rich.console import Console, JustifyMethod
from rich.measure import Measurement
from rich.table import Table

from pfof.cli.safe_text import markup


def fits(console: Console, table: Table) -> bool:
    """True when ``table`` prints at its natural width: no cell wrapped or cut."""
    unbounded = console.options.update_width(10_000)
    return Measurement.get(console, unbounded, table).maximum <= console.width


def column_parts(
    console: Console,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    keys: int,
    wide: bool = False,
    left: Collection[str] = (),
) -> list[Table]:
    """The rows as one table titled ``title``, or (too wide for ``console`` and not ``wide``)
    as parts titled ``part n of N``, each with the first ``keys`` columns and as many of the
    others as fit. Cells are Rich markup (escape names with :func:`~pfof.cli.safe_text.markup`);
    the title is text. ``left`` names the left-justified columns."""

    def table(columns: list[int], caption: str) -> Table:
        out = Table(title=markup(caption))
        for i in columns:
            justify: JustifyMethod = "left" if headers[i] in left else "right"
            out.add_column(headers[i], justify=justify, no_wrap=True)
        for row in rows:
            out.add_row(*(row[i] for i in columns))
        return out

    whole = table(list(range(len(headers))), title)
    if wide or fits(console, whole):
        return [whole]
    groups: list[list[int]] = []
    for i in range(keys, len(headers)):
        if groups and fits(console, table([*range(keys), *groups[-1], i], title)):
            groups[-1].append(i)
        else:
            groups.append([i])
    return [
        table([*range(keys), *group], f"part {n} of {len(groups)}")
        for n, group in enumerate(groups, start=1)
    ]


def print_parts(console: Console, title: str, parts: list[Table]) -> None:
    """Print :func:`column_parts`' tables, the title once above the parts."""
    if len(parts) > 1:
        console.print(markup(title))
    for part in parts:
        console.print(part)
