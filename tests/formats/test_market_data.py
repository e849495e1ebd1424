"""formats.market_data: the format of each real sample told by content, one call for any
source (files, folders, lists), and per-venue and consolidated sources kept apart."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from conftest import shared_path
from pfof.errors import InputError, ParameterError
from pfof.formats.market_data import detect_format, read_quotes, read_tape_trades
from pfof.model.tables import NBBO_VENUES, QUOTES, TRADES


@pytest.mark.parametrize(
    ("parts", "fmt"),
    [
        (("databento", "XNAS.ITCH_test_data.mbp-1.dbn.zst"), "databento"),
        (("polygon", "quotes_v3_AAPL_page1.json"), "polygon"),
        (("sampleQDataRaw.parquet",), "taq"),
        (("sampleTDataRaw.parquet",), "taq"),
    ],
)
def test_the_format_of_each_sample_is_told_by_content(parts: tuple[str, ...], fmt: str) -> None:
    assert detect_format(shared_path("real-quotes", *parts)) == fmt


def test_read_quotes_gives_per_venue_or_consolidated_tables() -> None:
    taq = read_quotes(shared_path("real-quotes", "sampleQDataRaw.parquet"))
    assert taq.schema.equals(QUOTES) and taq.num_rows == 131_401
    pages = [shared_path("real-quotes", "polygon", f"quotes_v3_AAPL_page{k}.json") for k in (1, 2)]
    polygon = read_quotes(pages)
    assert polygon.schema.equals(NBBO_VENUES) and polygon.num_rows == 20
    dbn = read_quotes(shared_path("real-quotes", "databento", "EQUS.MINI_test_data.mbp-1.dbn.zst"))
    assert dbn.schema.equals(NBBO_VENUES)
    both = read_quotes(
        [*pages, shared_path("real-quotes", "databento", "EQUS.MINI_test_data.bbo-1s.dbn.zst")]
    )
    assert both.num_rows == 24 and set(both["symbol"].to_pylist()) == {"AAPL", "QQQ"}


def test_per_venue_and_consolidated_sources_are_not_mixed() -> None:
    with pytest.raises(InputError, match=r"XNAS\.ITCH_test_data\.mbp-1\.dbn\.zst: per-venue"):
        read_quotes(
            [
                shared_path("real-quotes", "databento", "XNAS.ITCH_test_data.mbp-1.dbn.zst"),
                shared_path("real-quotes", "databento", "EQUS.MINI_test_data.mbp-1.dbn.zst"),
            ]
        )


def test_tape_trades_from_every_format() -> None:
    counts = {
        ("databento", "EQUS.MINI_test_data.trades.dbn.zst"): 4,
        ("polygon", "trades_v3_AAPL_limit2.json"): 2,
        ("sampleTDataRaw.parquet",): 77_263,
    }
    for parts, n in counts.items():
        trades = read_tape_trades(shared_path("real-quotes", *parts), symbol="AAPL")
        assert trades.schema.equals(TRADES) and trades.num_rows == n, parts


def test_a_folder_and_a_csv_with_a_map(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(
        "Ticker,Time,B,A\nXYZ,2022-05-10T14:30:00Z,1.0,1.1\n", encoding="utf-8"
    )
    (tmp_path / "notes.md").write_text("not market data", encoding="utf-8")
    got = read_quotes(tmp_path, columns="symbol=Ticker,ts=Time,bid=B,ask=A")
    assert got.schema.equals(NBBO_VENUES) and got["bid"].to_pylist() == [1.0]
    with pytest.raises(InputError, match=r"a\.csv: not a market-data layout pfof recognises"):
        read_quotes(tmp_path)


def test_arguments_are_checked() -> None:
    sample = shared_path("real-quotes", "sampleQDataRaw.parquet")
    with pytest.raises(ParameterError, match=r"unknown market-data format 'bloomberg'"):
        read_quotes(sample, format="bloomberg")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"a column map is for format 'table'"):
        read_quotes(sample, format="taq", columns="bid=BID")
    with pytest.raises(InputError, match=r"nowhere\.csv: no such file"):
        read_quotes("nowhere.csv")
    assert isinstance(read_quotes([sample], format="taq"), pa.Table)
