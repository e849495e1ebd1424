"""app.quote_import: what ``pfof quotes`` reports of a real Databento book, and what it writes."""

from __future__ import annotations

from pathlib import Path

from conftest import shared_path
from pfof.app.quote_import import import_quotes


def test_a_one_venue_book_is_summarised_and_written_with_its_nbbo(tmp_path: Path) -> None:
    path = shared_path("real-quotes", "databento", "XNAS.ITCH_test_data.mbp-1.dbn.zst")
    done = import_quotes(path, out=tmp_path, nbbo=True)
    assert done.per_venue and done.rows == 4 and done.symbols == ("NVDA",)
    assert done.venues == {"XNAS": 4}
    assert done.first is not None and done.first.isoformat().startswith("2020-12-28T09:01:28")
    assert done.nbbo_rows == 4 and done.states == {"one_sided": 2, "normal": 2}
    assert sorted(p.relative_to(tmp_path).as_posix() for p in done.written) == [
        "nbbo/date=2020-12-28/part-0.parquet",
        "quotes/date=2020-12-28/part-0.parquet",
    ]


def test_without_nbbo_or_out_nothing_is_built_or_written() -> None:
    path = shared_path("real-quotes", "databento", "XNAS.ITCH_test_data.tbbo.dbn.zst")
    done = import_quotes(path)
    assert done.nbbo_rows is None and done.states == {} and done.written == []
