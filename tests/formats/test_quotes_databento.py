"""formats.quotes_databento: real DBN records (zstd and plain) read exactly, the INT64_MAX
empty-side sentinel as a missing side, publisher ids as MICs."""

from __future__ import annotations

import re
from pathlib import Path

import databento_dbn as dbn
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from conftest import shared_path
from pfof.engine.nbbo import nbbo_states, quotes_to_nbbo
from pfof.errors import InputError
from pfof.formats.quotes_databento import read_databento_quotes, read_databento_trades
from pfof.model.tables import NBBO_VENUES, QUOTES, TRADES
from pfof.model.venue_codes import DATABENTO_CONSOLIDATED, DATABENTO_VENUES


def _dbn(name: str) -> Path:
    return shared_path("real-quotes", "databento", name)


def _ns(table: pa.Table) -> list[int]:
    return pc.cast(table["ts"], pa.int64()).to_pylist()


def test_nasdaq_mbp1_is_per_venue_and_the_sentinel_ask_is_a_missing_side() -> None:
    """NVDA on Nasdaq, 2020-12-28 pre-market: the first two books have a bid and no ask
    (ask_px = INT64_MAX in the file)."""
    quotes = read_databento_quotes(_dbn("XNAS.ITCH_test_data.mbp-1.dbn.zst"))
    assert quotes.schema.equals(QUOTES)
    rows = quotes.to_pylist()
    assert [r["symbol"] for r in rows] == ["NVDA"] * 4
    assert {r["venue"] for r in rows} == {"XNAS"}
    assert _ns(quotes) == [
        1609146088297109209,
        1609146088297205224,
        1609146093580223478,
        1609146112948330298,
    ]
    first = rows[0]
    assert (first["bid"], first["bid_size"], first["ask"], first["ask_size"]) == (
        502.0,
        2,
        None,
        None,
    )
    third = rows[2]
    assert (third["bid"], third["bid_size"], third["ask"], third["ask_size"]) == (
        512.01,
        1,
        539.0,
        17,
    )
    states = nbbo_states(quotes_to_nbbo(quotes)).to_pylist()
    assert states == ["one_sided", "one_sided", "normal", "normal"]


def test_consolidated_bbo_1s_is_nbbo_shaped_with_empty_sides_null() -> None:
    """QQQ on EQUS.MINI (a consolidated publisher): the first second has an empty book, then
    a bid of 307.92 x 1500 with no offer."""
    quotes = read_databento_quotes(_dbn("EQUS.MINI_test_data.bbo-1s.dbn.zst"))
    assert quotes.schema.equals(NBBO_VENUES)
    rows = quotes.to_pylist()
    assert [(r["bid"], r["bid_size"], r["ask"], r["ask_size"]) for r in rows] == [
        (None, None, None, None),
        (307.92, 1500, None, None),
        (307.93, 1500, None, None),
        (307.92, 1200, None, None),
    ]
    assert _ns(quotes)[1] == 1680001201000000000  # 2023-03-28T11:00:01Z, the sample's second


def test_consolidated_mbp1_book_and_its_nbbo() -> None:
    quotes = read_databento_quotes(_dbn("EQUS.MINI_test_data.mbp-1.dbn.zst"))
    assert quotes.schema.equals(NBBO_VENUES)
    last = quotes.to_pylist()[-1]
    assert (last["bid"], last["bid_size"], last["ask"], last["ask_size"]) == (
        307.89,
        1500,
        307.94,
        600,
    )
    nbbo = quotes_to_nbbo(quotes)
    assert nbbo.num_rows == 4 and nbbo_states(nbbo).to_pylist()[0] == "empty"


def test_tbbo_gives_the_book_before_each_trade_and_the_trades() -> None:
    path = _dbn("XNAS.ITCH_test_data.tbbo.dbn.zst")
    quotes = read_databento_quotes(path).to_pylist()
    assert [(q["bid"], q["ask"], q["ask_size"]) for q in quotes][:2] == [
        (520.0, 521.0, 40),
        (520.0, 521.0, 4),
    ]
    trades = read_databento_trades(path)
    assert trades.schema.equals(TRADES)
    assert [(t["venue"], t["price"], t["size"]) for t in trades.to_pylist()] == [
        ("XNAS", 521.0, 36.0),
        ("XNAS", 521.0, 4.0),
        ("XNAS", 521.0, 1.0),
        ("XNAS", 521.01, 1.0),
    ]


def test_trades_schema_matches_the_trades_of_tbbo_and_has_no_venue_when_consolidated() -> None:
    trades = read_databento_trades(_dbn("EQUS.MINI_test_data.trades.dbn.zst"))
    from_tbbo = read_databento_trades(_dbn("EQUS.MINI_test_data.tbbo.dbn.zst"))
    assert trades.equals(from_tbbo)
    rows = trades.to_pylist()
    assert [(t["price"], t["size"]) for t in rows] == [
        (307.83, 900.0),
        (307.8, 900.0),
        (307.97, 700.0),
        (307.97, 200.0),
    ]
    assert {t["venue"] for t in rows} == {None} and {t["symbol"] for t in rows} == {"QQQ"}


def test_uncompressed_dbn_reads_the_same_as_zstd(tmp_path: Path) -> None:
    path = _dbn("XNAS.ITCH_test_data.mbp-1.dbn.zst")
    decoder = dbn.DBNDecoder(compression=dbn.Compression.ZSTD)
    records = decoder.write_and_decode(path.read_bytes())
    plain = tmp_path / "nvda.mbp-1.dbn"
    plain.write_bytes(records[0].encode() + b"".join(bytes(r) for r in records[1:]))
    assert read_databento_quotes(plain).equals(read_databento_quotes(path))


def test_quotes_of_a_trades_file_and_garbage_are_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"trades\.dbn\.zst: no quote records \(schema trades\)"):
        read_databento_quotes(_dbn("EQUS.MINI_test_data.trades.dbn.zst"))
    junk = tmp_path / "junk.dbn"
    junk.write_bytes(b"not a dbn file")
    with pytest.raises(InputError, match=r"junk\.dbn: not a Databento DBN file"):
        read_databento_quotes(junk)
    cut = tmp_path / "cut.dbn.zst"
    cut.write_bytes(_dbn("XNAS.ITCH_test_data.mbp-1.dbn.zst").read_bytes()[:150])
    with pytest.raises(InputError, match=r"cut\.dbn\.zst: .*truncated"):
        read_databento_quotes(cut)
    plain = tmp_path / "cut.dbn"
    decoder = dbn.DBNDecoder(compression=dbn.Compression.ZSTD)
    records = decoder.write_and_decode(_dbn("XNAS.ITCH_test_data.mbp-1.dbn.zst").read_bytes())
    plain.write_bytes(records[0].encode() + b"".join(bytes(r) for r in records[1:])[:-7])
    with pytest.raises(InputError, match=r"cut\.dbn: truncated: the last record is incomplete"):
        read_databento_quotes(plain)


def test_publisher_table_agrees_with_the_installed_databento_dbn() -> None:
    """Each publisher id pfof maps names, in the library, a venue whose code is pfof's MIC
    (up to pfof's choices: XPSX is XPHL; PHLX options XPHO; ISE equities XISE)."""
    renamed = {4: "XPSX", 35: "XPHL", 76: "XPSX", 87: "XPSX", 89: "XPSX", 117: "XISX"}
    renamed |= {127: "XPSX"}
    for pid, venue in DATABENTO_VENUES.items():
        record = dbn.TradeMsg(
            publisher_id=pid,
            instrument_id=1,
            ts_event=0,
            price=0,
            size=0,
            action=dbn.Action.TRADE,
            side=dbn.Side.NONE,
            flags=0,
            depth=0,
            ts_recv=0,
            ts_in_delta=0,
            sequence=0,
        )
        match = re.search(r"publisher_id=([A-Z0-9]+)\.([A-Z0-9]+)\.([A-Z0-9]+) \(", repr(record))
        assert match, (pid, repr(record))
        assert renamed.get(pid, venue) == match.group(3), pid
    assert DATABENTO_VENUES[95] in DATABENTO_CONSOLIDATED  # EQUS.MINI
