"""Execution-quality statistics of Rule 605 files (``engine/stats605``) against a plain-Python
reference written here from docs/rule605.md's formulas: Fractions, row by row, Barron's E/Q as
the script computes it (a mean of per-row ratios weighted by executed x quoted), not as the
engine does (a ratio of two sums)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import shared_path
from pfof.app.quality605 import file_quality, market_center_quality, rule605_summary
from pfof.engine import stats605
from pfof.engine.stats605 import (
    STAT_KEYS,
    file_statistics,
    market_center_statistics,
    store_file_statistics,
    venue_quality,
)
from pfof.errors import InputError
from pfof.formats.sec605 import read_605
from pfof.formats.sec605_detailed import write_detailed
from pfof.formats.sec605_legacy import write_legacy
from pfof.model.records605 import DetailedRecord, LegacyRecord, SummaryRecord

D = Decimal
LEGACY_TYPES = {11: "market", 12: "marketable_limit", 13: "inside_quote_limit"}
LEGACY_TYPES |= {14: "at_quote_limit", 15: "near_quote_limit"}
LEGACY_SIZES = {21: "100-499", 22: "500-1999", 23: "2000-4999", 24: "5000-9999"}
AMENDED_TYPES = {"MXXNN": "market", "LYNNN": "marketable_limit", "M": "market"}
AMENDED_TYPES |= {"ML": "marketable_limit", "LNYNN": "midpoint_or_better_limit"}
NOTIONAL = {0: "<250", 250: "250-1000", 1000: "1000-5000", 5000: "5000-10000"}
NOTIONAL |= {10000: "10000-20000", 20000: "20000-50000", 50000: "50000-200000"}
NOTIONAL |= {200000: ">=200000", 199999: "<200000"}


# ---------------------------------------------------------------- the reference


def r6(value: Fraction | None) -> str | None:
    """Half-up to 6 decimals, through a 60-digit Decimal division (not the engine's rounding)."""
    if value is None:
        return None
    with localcontext(prec=60):
        exact = D(value.numerator) / D(value.denominator)
        return f"{exact.quantize(D('0.000001'), rounding=ROUND_HALF_UP):f}".replace(
            "-0.000000", "0.000000"
        )


def whole(value: Fraction | int | None) -> str | None:
    if value is None:
        return None
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    return f"{D(value.numerator) / D(value.denominator):f}".rstrip("0")


def div(num: Fraction | None, den: Fraction | None) -> Fraction | None:
    return None if num is None or not den else num / den


def F(value: Any) -> Fraction:
    return Fraction(0) if value is None else Fraction(value)


def reference_rows(kind: str, records: Iterable[Any], file: str) -> list[dict[str, Any]]:
    """Statistics rows of a file computed row by row (docs/rule605.md)."""
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for r in records:
        if kind == "legacy":
            key = (r.market_center, r.yyyymm, r.order_type, r.order_size, None)
        elif kind == "detailed":
            key = (r.entity, r.rpt_date, r.order_type, r.order_size, None)
        else:
            key = (r.entity, r.rpt_date, r.order_type, r.order_size, r.sp500, id(r))
        groups[key].append(r)
    out = []
    for key, rows in groups.items():
        center, month, code, size, flag = key[:5]
        stats = _reference_summary(rows[0]) if kind == "summary" else _reference_group(kind, rows)
        types = LEGACY_TYPES if kind == "legacy" else AMENDED_TYPES
        sizes = LEGACY_SIZES if kind == "legacy" else NOTIONAL
        out.append(
            {
                "file": file,
                "format": kind,
                "market_center": center,
                "month": f"{str(month)[:4]}-{str(month)[4:]}",
                "order_type": types.get(code, str(code)),
                "size": sizes[size],
                "sp500": flag,
                **stats,
            }
        )
    return out


def _reference_group(kind: str, rows: list[Any]) -> dict[str, str | None]:
    legacy = kind == "legacy"
    orders = [r.covered_orders for r in rows if r.covered_orders is not None]
    shares = [r.covered_shares if legacy else r.covered_qty for r in rows]
    x_total = Fraction(0)
    pi_x = imp = atq = otq = num = Fraction(0)
    has_pi = eff_x = eff_sum = rs_x = rs_sum = Fraction(0)
    eq_weighted = eq_weight = Fraction(0)
    any_pi = False
    for r in rows:
        if legacy:
            x = F(r.exec_shares_mc) + F(r.exec_shares_away)
            p, pa_, a, o, oa = (
                r.pi_shares,
                r.pi_avg_amount,
                r.atq_shares,
                r.otq_shares,
                r.otq_avg_amount,
            )
            rs = r.avg_realized_spread
        else:
            x = F(r.executed_qty) + F(r.executed_away_qty)
            p, pa_, a, o, oa = (
                r.pi_qty,
                r.pi_avg_amount,
                r.at_quote_qty,
                r.outside_quote_qty,
                r.outside_quote_avg_amount,
            )
            rs = r.realized_spread_1m
        x_total += x
        eff = r.avg_effective_spread
        n = 100 * (F(p) * F(pa_) - F(o) * F(oa))  # cents x shares
        if p is not None:
            any_pi = True
            pi_x += x
            imp, atq, otq, num = imp + F(p), atq + F(a), otq + F(o), num + n
        if eff is not None:
            eff_x += x
            eff_sum += x * Fraction(eff)
            if legacy:
                quoted = None if p is None or not x else Fraction(eff) + 2 * n / (100 * x)
            else:
                quoted = None if r.avg_quoted_spread is None else Fraction(r.avg_quoted_spread)
            if quoted and x:  # Barron's: mean of eff/quoted weighted by x * quoted
                eq_weighted += Fraction(eff) / quoted * (x * quoted)
                eq_weight += x * quoted
        if rs is not None:
            rs_x += x
            rs_sum += x * Fraction(rs)
    del has_pi
    return {
        "orders": str(sum(orders)) if orders else None,
        "shares": whole(sum((F(s) for s in shares if s is not None), Fraction(0)))
        if any(s is not None for s in shares)
        else None,
        "executed_shares": whole(x_total),
        "net_price_improvement_cents_per_share": r6(div(num, pi_x)) if any_pi else None,
        "eq_ratio": r6(div(eq_weighted, eq_weight)),
        "pct_improved": r6(div(imp, pi_x)) if any_pi else None,
        "pct_at_quote": r6(div(atq, pi_x)) if any_pi else None,
        "pct_outside": r6(div(otq, pi_x)) if any_pi else None,
        "avg_effective_spread": r6(div(eff_sum, eff_x)),
        "avg_realized_spread": r6(div(rs_sum, rs_x)),
    }


def _reference_summary(r: SummaryRecord) -> dict[str, str | None]:
    mid = None if r.avg_midpoint is None else Fraction(r.avg_midpoint)

    def times_mid(v: Any, k: int = 1) -> str | None:
        return None if v is None or mid is None else r6(Fraction(v) * mid * k)

    eq = None if r.avg_eq_ratio is None else Fraction(r.avg_eq_ratio)
    if r.avg_effective_spread_pct is not None and r.avg_quoted_spread_pct:
        ratio = Fraction(r.avg_effective_spread_pct) / Fraction(r.avg_quoted_spread_pct)
        if eq is None:
            eq = ratio
        elif abs(eq / 100 - ratio) < abs(eq - ratio):
            eq = eq / 100
    at_or_better, improved = r.pct_at_quote_or_better, r.pct_price_improved
    return {
        "orders": None,
        "shares": None,
        "executed_shares": None,
        "net_price_improvement_cents_per_share": times_mid(r.avg_pct_price_improvement, 100),
        "eq_ratio": r6(eq),
        "pct_improved": None if improved is None else r6(Fraction(improved)),
        "pct_at_quote": None
        if improved is None or at_or_better is None
        else r6(Fraction(at_or_better) - Fraction(improved)),
        "pct_outside": None if at_or_better is None else r6(1 - Fraction(at_or_better)),
        "avg_effective_spread": times_mid(r.avg_effective_spread_pct),
        "avg_realized_spread": times_mid(r.realized_spread_pct_1m),
    }


def by_key(rows: Iterable[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    keyed: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (*(row[k] for k in STAT_KEYS[:7]), row["net_price_improvement_cents_per_share"])
        keyed[key] = row
    return keyed


def assert_matches_reference(path: Path, kind: str) -> list[dict[str, Any]]:
    records = read_605(path).records
    result = file_quality(path)
    assert result.kind == kind
    expected = reference_rows(kind, records, str(path))
    assert len(result.rows) == len(expected)
    assert by_key(result.rows) == by_key(expected)
    assert all(list(row) == list(STAT_KEYS) for row in result.rows)
    return result.rows


# ---------------------------------------------------------------- hand-worked cases


def legacy(**values: Any) -> LegacyRecord:
    base: dict[str, Any] = {f.name: None for f in dataclasses.fields(LegacyRecord)}
    base.update(participant="T", market_center="TTEST", yyyymm=202401, symbol="AAA")
    base.update(order_type=11, order_size=21)
    base.update(values)
    return LegacyRecord(**base)


def table_of(records: list[Any]) -> pa.Table:
    return pa.Table.from_pylist([dataclasses.asdict(r) for r in records])


def test_100_improved_and_100_outside_give_barrons_net_improvement_and_eq() -> None:
    # improved 100 x $0.02, outside 100 x $0.01: N = 100 x (2 - 1) = 100 cents over 200
    # shares = 0.5 cents; quoted = 0.01 + 2 x 0.005 = $0.02, so E/Q = 0.01 / 0.02
    row = legacy(
        covered_orders=2, covered_shares=200, exec_shares_mc=150, exec_shares_away=50,
        avg_effective_spread=D("0.0100"), avg_realized_spread=D("0.0040"),
        pi_shares=100, pi_avg_amount=D("0.0200"), atq_shares=0, otq_shares=100,
        otq_avg_amount=D("0.0100"),
    )  # fmt: skip
    [s] = file_statistics("legacy", table_of([row]), file="t")
    assert s["net_price_improvement_cents_per_share"] == "0.500000"
    assert s["eq_ratio"] == "0.500000"
    assert (s["pct_improved"], s["pct_at_quote"], s["pct_outside"]) == (
        "0.500000",
        "0.000000",
        "0.500000",
    )
    assert (s["orders"], s["shares"], s["executed_shares"]) == ("2", "200", "200")
    assert (s["avg_effective_spread"], s["avg_realized_spread"]) == ("0.010000", "0.004000")
    assert (s["order_type"], s["size"], s["month"], s["sp500"]) == (
        "market",
        "100-499",
        "2024-01",
        None,
    )


def test_rows_combine_as_sums_of_numerators_over_sums_of_shares() -> None:
    # row a: 100 shares, all improved by 1 cent -> N = 100; row b: 300 shares at the quote
    # net = 100 / 400 = 0.25 cents, not the mean of the row figures (1 and 0)
    a = legacy(symbol="A", exec_shares_mc=100, exec_shares_away=0, pi_shares=100,
               pi_avg_amount=D("0.01"), atq_shares=0, otq_shares=0, otq_avg_amount=D(0),
               avg_effective_spread=D("0.02"))  # fmt: skip
    b = legacy(symbol="B", exec_shares_mc=300, exec_shares_away=None, pi_shares=0,
               pi_avg_amount=D(0), atq_shares=300, otq_shares=0, otq_avg_amount=D(0),
               avg_effective_spread=D("0.04"))  # fmt: skip
    [s] = file_statistics("legacy", table_of([a, b]), file="t")
    assert s["net_price_improvement_cents_per_share"] == "0.250000"
    # E/Q: (100 x 0.02 + 300 x 0.04) / (100 x (0.02 + 0.02) + 300 x 0.04) = 14 / 16
    assert s["eq_ratio"] == "0.875000"
    assert s["avg_effective_spread"] == "0.035000"


def test_limit_order_rows_have_no_price_statistics_but_count_their_orders() -> None:
    row = legacy(
        order_type=13,
        order_size=24,
        covered_orders=5,
        covered_shares=30000,
        exec_shares_mc=6000,
        exec_shares_away=0,
        avg_realized_spread=D("-0.01"),
    )
    [s] = file_statistics("legacy", table_of([row]), file="t")
    assert (s["order_type"], s["size"]) == ("inside_quote_limit", "5000-9999")
    assert s["net_price_improvement_cents_per_share"] is s["eq_ratio"] is None
    assert s["pct_improved"] is s["avg_effective_spread"] is None
    assert (s["orders"], s["executed_shares"], s["avg_realized_spread"]) == (
        "5",
        "6000",
        "-0.010000",
    )


def test_summary_eq_in_percent_points_is_read_as_a_ratio() -> None:
    row = {
        "avg_midpoint": D("50"), "pct_at_quote_or_better": D("0.98"),
        "pct_price_improved": D("0.6"), "avg_pct_price_improvement": D("0.0002"),
        "avg_effective_spread_pct": D("0.0003"), "avg_quoted_spread_pct": D("0.0004"),
        "avg_eq_ratio": D("75.5"), "realized_spread_pct_1m": D("-0.0001"),
    }  # fmt: skip
    s = stats605.summary_statistics(row)
    assert s["eq_ratio"] == D("0.755")  # 75.5 is nearer 100 x 0.75 than 0.75
    assert s["net_price_improvement_cents_per_share"] == D("1")  # 0.0002 x $50 = 1 cent
    assert s["avg_effective_spread"] == D("0.015") and s["avg_realized_spread"] == D("-0.005")
    assert s["pct_at_quote"] == D("0.38") and s["pct_outside"] == D("0.02")
    assert stats605.summary_statistics({**row, "avg_eq_ratio": D("0.7551")})["eq_ratio"] == D(
        "0.7551"
    )
    assert stats605.summary_statistics({**row, "avg_eq_ratio": None})["eq_ratio"] == D("0.75")


def test_figures_too_large_for_exact_sums_are_an_input_error() -> None:
    row = legacy(exec_shares_mc=10**15, avg_effective_spread=D("1"), pi_shares=0)
    with pytest.raises(InputError, match="too large"):
        file_statistics("legacy", table_of([row]), file="t")


# ---------------------------------------------------------------- real and generated files


@pytest.mark.parametrize(
    "name",
    [
        "TVIRT_201612_first2000.txt",
        "TVIRT_201612_selected_symbols.txt",
        "TVIRT_201708_first2000.txt",
        "TVIRT_201708_selected_symbols.txt",
    ],
)
def test_real_legacy_excerpts_match_the_reference(name: str) -> None:
    rows = assert_matches_reference(shared_path("sec-605", "legacy-real", name), "legacy")
    market = [r for r in rows if r["order_type"] in ("market", "marketable_limit")]
    assert market and all(r["eq_ratio"] is not None for r in market if r["executed_shares"] != "0")
    assert {r["size"] for r in rows} <= set(LEGACY_SIZES.values())


def test_sec_summary_sample_matches_the_reference() -> None:
    rows = assert_matches_reference(shared_path("sec-605", "oes", "data", "sample.csv"), "summary")
    assert len(rows) == 35 and {r["order_type"] for r in rows} == {"market", "marketable_limit"}
    assert {r["sp500"] for r in rows} == {True, False}
    first = rows[0]  # S&P 500, <$250, market: 0 x $27.8; E/Q 0.935065 as reported
    assert (first["size"], first["net_price_improvement_cents_per_share"]) == ("<250", "0.000000")
    assert first["eq_ratio"] == "0.935065"


def detailed_record(rng_values: dict[str, Any]) -> DetailedRecord:
    base: dict[str, Any] = {f.name: None for f in dataclasses.fields(DetailedRecord)}
    base.update(participant="Z", entity="ZBATS", rpt_date=202608, lot_size="ROUND")
    base.update(rng_values)
    return DetailedRecord(**base)


qty = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False)
amount = st.decimals(min_value=-1, max_value=1, places=6, allow_nan=False)
maybe_amount = st.none() | amount


@st.composite
def detailed_rows(draw: st.DrawFn) -> DetailedRecord:
    return detailed_record(
        {
            "symbol": draw(st.sampled_from(["AAA", "BBB", "CCC"])),
            "order_size": draw(st.sampled_from(sorted(k for k in NOTIONAL if k != 199999))),
            "order_type": draw(st.sampled_from(["MXXNN", "LYNNN", "LNYNN"])),
            "covered_orders": draw(st.integers(0, 10**6)),
            "covered_qty": draw(qty),
            "executed_qty": draw(qty),
            "executed_away_qty": draw(st.none() | qty),
            "pi_qty": draw(st.none() | qty),
            "pi_avg_amount": draw(maybe_amount),
            "at_quote_qty": draw(qty),
            "outside_quote_qty": draw(qty),
            "outside_quote_avg_amount": draw(maybe_amount),
            "avg_effective_spread": draw(maybe_amount),
            "avg_quoted_spread": draw(st.none() | st.decimals(0, 1, places=6)),
            "realized_spread_1m": draw(maybe_amount),
        }
    )


@given(st.lists(detailed_rows(), min_size=1, max_size=25))
def test_generated_detailed_files_match_the_reference(
    tmp_path_factory: Any, records: list[DetailedRecord]
) -> None:
    path = tmp_path_factory.mktemp("d") / "ZBATS202608.txt"
    write_detailed(records, path)
    assert_matches_reference(path, "detailed")


legacy_amount = st.decimals(min_value=-2, max_value=2, places=4, allow_nan=False)


@st.composite
def legacy_rows(draw: st.DrawFn) -> LegacyRecord:
    marketable = draw(st.booleans())
    shares = st.integers(0, 10**7)
    price = {} if not marketable else {
        "avg_effective_spread": draw(legacy_amount), "pi_shares": draw(shares),
        "pi_avg_amount": draw(legacy_amount), "atq_shares": draw(shares),
        "otq_shares": draw(shares), "otq_avg_amount": draw(legacy_amount),
    }  # fmt: skip
    return legacy(
        symbol=draw(st.sampled_from(["A", "B", "C", "D"])),
        yyyymm=draw(st.sampled_from([201612, 201701])),
        order_type=draw(st.sampled_from([11, 12]))
        if marketable
        else draw(st.sampled_from([13, 14, 15])),
        order_size=draw(st.sampled_from(sorted(LEGACY_SIZES))),
        covered_orders=draw(st.integers(0, 10**5)),
        covered_shares=draw(shares),
        exec_shares_mc=draw(shares),
        exec_shares_away=draw(st.none() | shares),
        avg_realized_spread=draw(st.none() | legacy_amount),
        **price,
    )


@given(st.lists(legacy_rows(), min_size=1, max_size=30))
def test_generated_legacy_files_match_the_reference(
    tmp_path_factory: Any, records: list[LegacyRecord]
) -> None:
    path = tmp_path_factory.mktemp("l") / "TTEST201612.txt"
    write_legacy(records, path)
    assert_matches_reference(path, "legacy")


def test_rule605_summary_concatenates_the_files_in_order() -> None:
    a = shared_path("sec-605", "legacy-real", "TVIRT_201708_selected_symbols.txt")
    b = shared_path("sec-605", "oes", "data", "sample.csv")
    rows = rule605_summary([a, b])
    assert rows == file_quality(a).rows + file_quality(b).rows
    assert {r["file"] for r in rows} == {str(a), str(b)}


# ---------------------------------------------------------------- the store


def fill_store(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Two real legacy excerpts (two months of TVIRT) and the SEC's summary sample, in the
    store's tables (``sources_605``; ``rows_605_*``: ``sha256`` + the record attributes)."""
    con.execute("CREATE TABLE sources_605 (sha256 VARCHAR, path VARCHAR, format VARCHAR)")
    files = {
        "legacy": [
            shared_path("sec-605", "legacy-real", "TVIRT_201612_first2000.txt"),
            shared_path("sec-605", "legacy-real", "TVIRT_201708_first2000.txt"),
        ],
        "summary": [shared_path("sec-605", "oes", "data", "sample.csv")],
    }
    for kind, paths in files.items():
        tables = []
        for n, path in enumerate(paths):
            sha = f"{kind}{n}"
            con.execute("INSERT INTO sources_605 VALUES (?, ?, ?)", [sha, str(path), kind])
            t = table_of(list(read_605(path).records))
            tables.append(t.add_column(0, "sha256", pa.array([sha] * t.num_rows)))
        con.register("staged", pa.concat_tables(tables, promote_options="permissive"))
        con.execute(f"CREATE TABLE rows_605_{kind} AS SELECT * FROM staged")
        con.unregister("staged")
    return con


@pytest.fixture
def store() -> duckdb.DuckDBPyConnection:
    return fill_store(duckdb.connect())


def test_store_statistics_per_file_equal_the_files_statistics(
    store: duckdb.DuckDBPyConnection,
) -> None:
    stored = store_file_statistics(store)
    paths = [p for (p,) in store.execute("SELECT path FROM sources_605 ORDER BY sha256").fetchall()]
    direct = [row for p in paths for row in file_quality(p).rows]
    assert by_key(stored) == by_key(direct) and len(stored) == len(direct)


def test_market_centers_combine_market_and_marketable_limit_rows_of_each_month(
    store: duckdb.DuckDBPyConnection,
) -> None:
    rows = market_center_statistics(store)
    assert [(r["market_center"], r["month"], r["format"]) for r in rows] == [
        ("TVIRT", "2016-12", "legacy"),
        ("TVIRT", "2017-08", "legacy"),
    ]
    assert market_center_quality(store) == rows
    for row, name in zip(
        rows, ["TVIRT_201612_first2000.txt", "TVIRT_201708_first2000.txt"], strict=True
    ):
        records = read_605(shared_path("sec-605", "legacy-real", name)).records
        marketable = [r for r in records if r.order_type in (11, 12)]
        [expected] = reference_rows(
            "legacy", [dataclasses.replace(r, order_type=11, order_size=21) for r in marketable], ""
        )
        for key in STAT_KEYS[7:]:
            assert row[key] == expected[key], key


def test_venue_quality_has_its_documented_columns_and_sums(
    store: duckdb.DuckDBPyConnection,
) -> None:
    table = venue_quality(store)
    assert table.column_names == [name for name, _ in stats605.VENUE_QUALITY_COLUMNS]
    rows = table.to_pylist()
    legacy_rows = [r for r in rows if r["format"] == "legacy"]
    assert {(r["month"], r["order_type"]) for r in legacy_rows} >= {
        ("2016-12", "market"),
        ("2017-08", "marketable_limit"),
    }
    records = [
        *read_605(shared_path("sec-605", "legacy-real", "TVIRT_201612_first2000.txt")).records,
        *read_605(shared_path("sec-605", "legacy-real", "TVIRT_201708_first2000.txt")).records,
    ]
    for r in legacy_rows:
        mine = [
            x
            for x in records
            if f"{x.yyyymm // 100}-{x.yyyymm % 100:02d}" == r["month"]
            and LEGACY_TYPES[x.order_type] == r["order_type"]
        ]
        priced = [x for x in mine if x.pi_shares is not None]
        numerator = sum(
            100 * (F(x.pi_shares) * F(x.pi_avg_amount) - F(x.otq_shares) * F(x.otq_avg_amount))
            for x in priced
        )
        shares = sum(F(x.exec_shares_mc) + F(x.exec_shares_away) for x in priced)
        executed = sum(F(x.exec_shares_mc) + F(x.exec_shares_away) for x in mine)
        assert Fraction(r["executed_shares"]) == executed
        if priced:
            assert Fraction(r["net_pi_numerator_cents"]) == numerator
            assert Fraction(r["net_pi_shares"]) == shares
            assert r["net_price_improvement_cents_per_share"] == D(r6(numerator / shares))
        else:
            assert r["net_pi_numerator_cents"] is r["net_price_improvement_cents_per_share"] is None
    summary = [r for r in rows if r["format"] == "summary"]
    # the sample's month has no legacy report, so its all-below-$200k rows stand in
    assert {(r["order_type"], r["sp500"]) for r in summary} == {
        ("market", True),
        ("market", False),
        ("marketable_limit", True),
        ("marketable_limit", False),
    }
    assert all(
        r["executed_shares"] is None and r["net_pi_numerator_cents"] is None for r in summary
    )


def test_an_empty_store_has_no_statistics() -> None:
    con = duckdb.connect()
    assert market_center_statistics(con) == [] and venue_quality(con).num_rows == 0


def test_a_reader_error_after_the_first_batch_stays_the_readers_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """DuckDB pulls the batches; an InputError raised by the reader mid-file must reach the
    caller as itself (the CLI prints it as one line), not as DuckDB's wrapper."""
    from pfof.formats import sec605_arrow

    batch = table_of([legacy(exec_shares_mc=100)]).to_batches()[0]

    def scan(*args: Any, **kwargs: Any) -> Any:
        yield "legacy", batch
        yield "legacy", batch
        raise InputError("f.txt: line 70001: not UTF-8")

    monkeypatch.setattr(sec605_arrow, "scan_605_batches", scan)
    with pytest.raises(InputError, match="line 70001"):
        file_quality(tmp_path / "f.txt")


def test_statistics_of_ingested_files_equal_those_of_the_files(tmp_path: Path) -> None:
    import pfof

    paths = [
        shared_path("sec-605", "legacy-real", "TVIRT_201708_selected_symbols.txt"),
        shared_path("sec-605", "oes", "data", "sample.csv"),
    ]
    con = pfof.connect(tmp_path / "s.duckdb")
    pfof.ingest(paths, con)
    assert by_key(store_file_statistics(con)) == by_key(rule605_summary(paths))
    assert [r["month"] for r in market_center_statistics(con)] == ["2017-08"]
