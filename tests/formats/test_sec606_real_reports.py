"""Reading real and sample Rule 606 reports: lenient and strict modes, rejections, round trips.

Expected values come from the files themselves, read independently with plain lxml (counts,
sums, element paths), from the published Schwab 2020 figure, or from lxml's validation against
the SEC's XSD -- never from pfof's own output.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from formats.conftest import SAFE_PARSER, resolve, shared_xml
from pfof.formats import sec606
from pfof.model.enums import OrderType, ReportKind, Section
from pfof.model.reports606 import (
    B3_VENUE_FIELDS,
    A1Month,
    A1Section,
    A1Venue,
    B1Order,
    B1Route,
    B1Transaction,
    B3IoiVenue,
    B3Month,
    B3Venue,
    CustomerRoutingReport,
    HeldOrderRoutingReport,
    NotHeldHandlingReport,
    Report606,
    a1_cells,
)
from support.sec606_mutations import remove, serialize

SECTIONS = {
    "rSP500": Section.SP500,
    "rOtherStocks": Section.OTHER_STOCKS,
    "rOptions": Section.OPTIONS,
}
ORDER_TYPES = ("Market", "MarketableLimit", "NonMarketableLimit", "Other")
KINDS = {
    "heldOrderRoutingPublicReport": ReportKind.A1,
    "heldExemptNotHeldOrderRoutingCustomerReport": ReportKind.B1,
    "notHeldOrderHandlingCustomerReport": ReportKind.B3,
}


def collapse(text: str | None) -> str:
    return re.sub(r"[ \t\r\n]+", " ", text or "").strip(" ")


def number(text: str | None) -> Decimal | None:
    return Decimal(collapse(text)) if collapse(text) else None


# ------------------------------------------------------------------ independent extraction


def a1_summary_lxml(root: etree._Element) -> list[tuple[int, str, list[tuple[str | None, ...]]]]:
    """(month, section, [(name, mic, usd x4 as str)]) straight from the XML."""
    out = []
    for month in root.findall("rMonthly"):
        for tag in SECTIONS:
            block = month.find(tag)
            if block is None:
                continue
            venues = []
            for venue in block.findall("rVenues/rVenue"):
                name = venue.find("name")
                mic = venue.find("mic")
                usd = [number(venue.findtext(f"netPmtPaidRecv{t}OrdersUsd")) for t in ORDER_TYPES]
                venues.append(
                    (
                        collapse(name.text) if name is not None else None,
                        collapse(mic.text) or None if mic is not None else None,
                        *(str(u) if u is not None else None for u in usd),
                    )
                )
            out.append((int(month.findtext("mon")), tag, venues))
    return out


def a1_summary_model(report: HeldOrderRoutingReport) -> list[tuple[int, str, list]]:
    out = []
    for month in report.months:
        for tag, section in SECTIONS.items():
            block = month.section(section)
            if block is None:
                continue
            venues = [
                (
                    v.name,
                    v.mic,
                    *(str(v.usd(t)) if v.usd(t) is not None else None for t in OrderType),
                )
                for v in block.venues
            ]
            out.append((month.mon, tag, venues))
    return out


def b_counts_lxml(root: etree._Element) -> dict[str, int]:
    return {
        tag: len(root.findall(f".//{tag}"))
        for tag in ("order", "route", "transaction", "hMonthly", "iVenue", "ioiExposedVenue")
    }


def b_counts_model(report: Report606) -> dict[str, int]:
    counts = dict.fromkeys(
        ("order", "route", "transaction", "hMonthly", "iVenue", "ioiExposedVenue"), 0
    )
    if isinstance(report, CustomerRoutingReport):
        for orders in (report.held, report.not_held_exempt, report.options):
            for order in orders or ():
                counts["order"] += 1
                for route in order.routes:
                    counts["route"] += 1
                    counts["transaction"] += len(route.transactions)
    if isinstance(report, NotHeldHandlingReport):
        for months in (report.directed, report.non_directed):
            for month in months or ():
                counts["hMonthly"] += 1
                counts["iVenue"] += len(month.routing_venues)
                counts["ioiExposedVenue"] += len(month.ioi_exposed_venues)
    return counts


def lxml_valid(sec_xsd: etree.XMLSchema, data: bytes) -> tuple[bool, str]:
    ok = sec_xsd.validate(etree.fromstring(data, SAFE_PARSER))
    return ok, "" if ok else str(sec_xsd.error_log)


# ------------------------------------------------------------------ shared files read


READABLE = shared_xml(
    "sec-606", "real-606/schwab", "real-606/firstrade", "real-606/goldman-invalid"
)


@pytest.mark.parametrize("relative", READABLE)
def test_606_reader_gives_what_lxml_finds_and_strict_reads_only_schema_valid_files(
    relative: str, sec_xsd: etree.XMLSchema
) -> None:
    path = resolve(relative)
    root = etree.parse(str(path), SAFE_PARSER).getroot()
    result = sec606.read_606(path)
    assert result.kind == KINDS[root.tag]
    assert result.strict_valid == sec_xsd.validate(etree.ElementTree(root))
    assert all(w.severity == "warning" and w.rule and w.message for w in result.warnings)
    report = result.report
    assert report.bd == collapse(root.findtext("bd"))
    if isinstance(report, HeldOrderRoutingReport):
        assert (report.year, report.qtr) == (int(root.findtext("year")), int(root.findtext("qtr")))
        assert a1_summary_model(report) == a1_summary_lxml(root)
    else:
        assert b_counts_model(report) == b_counts_lxml(root)
    # strict mode reads exactly the schema-valid files, into the same model
    if result.strict_valid:
        assert sec606.read_606(path, strict=True).report == report
    else:
        with pytest.raises(sec606.Rule606Error):
            sec606.read_606(path, strict=True)


def test_schwab_2020_total_matches_the_published_figure() -> None:
    """Schwab's 2020 net payment for order flow, widely reported: $245,463,984.21 exactly."""
    total = Decimal(0)
    for quarter in (1, 2, 3, 4):
        report = sec606.read_606(resolve(f"real-606/schwab/606-CHAS-2020Q{quarter}.xml")).report
        assert isinstance(report, HeldOrderRoutingReport)
        total += sum(
            (c.net_payment_usd for c in a1_cells(report) if c.net_payment_usd is not None),
            Decimal(0),
        )
    assert total == Decimal("245463984.21")


def test_streamed_cells_equal_the_model_cells() -> None:
    for relative in (
        "real-606/schwab/606-CHAS-2021Q4.xml",
        "sec-606/606a1_held_order_public_report.xml",
    ):
        path = resolve(relative)
        report = sec606.read_606(path).report
        assert isinstance(report, HeldOrderRoutingReport)
        assert list(sec606.iter_a1_cells(path)) == list(a1_cells(report))


# ------------------------------------------------------------------ broken files

#: What is wrong with each broken file (read by eye): rule -> a fragment of its issue path.
BROKEN = {
    # root element <r606> with attributes instead of the SEC's elements
    "12345_606_NMS_2025_Q1_from_pdf.xml": {"root": ""},
    # venue names 'nan'; ndoMarketPct + ndoMarketableLimitPct + ... = 189.80 / 200 / 196.6 / 198.9
    "281065_606_NMS_2024_Q2.xml": {
        "placeholder-venue-name": "rVenue[1]/name",
        "pct-sum": "rOptions",
    },
    "281065_606_NMS_2024_Q3.xml": {
        "placeholder-venue-name": "rVenue[1]/name",
        "pct-sum": "rOptions",
    },
    "281065_606_NMS_2024_Q4.xml": {
        "placeholder-venue-name": "rVenue[1]/name",
        "pct-sum": "rOptions",
    },
    "281065_606_NMS_2025_Q1.xml": {
        "placeholder-venue-name": "rVenue[1]/name",
        "pct-sum": "rOptions",
    },
    # <netPmtPaidRecvMarketOrders> instead of ...Usd/...Cph; no materialAspects; sums 189.80
    "Cascade_Investments_606_NMS_2024_Q2.xml": {
        "content": "netPmtPaidRecvMarketOrders",
        "pct-sum": "rOptions",
    },
}


@pytest.mark.parametrize("relative", shared_xml("real-606/broken"))
@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_broken_file_is_rejected_naming_the_rule(relative: str, strict: bool) -> None:
    path = resolve(relative)
    expected = BROKEN[path.name]
    with pytest.raises(sec606.Rule606Error) as caught:
        sec606.read_606(path, strict=strict)
    error = caught.value
    assert path.name in error.source or path.name in str(error)
    for rule, where in expected.items():
        matching = [i for i in error.issues if i.rule == rule and i.severity == "error"]
        assert matching, f"strict={strict}: no '{rule}' issue in {[str(i) for i in error.issues]}"
        assert any(where in i.path for i in matching), [str(i) for i in matching]
    assert str(error.issues[0]) in str(error)  # the message names the first rule broken
    # the streaming reader rejects them as well
    with pytest.raises(sec606.Rule606Error):
        for _ in sec606.iter_a1_cells(path, strict=strict):
            pass


def test_placeholder_names_are_flagged_on_every_venue() -> None:
    path = resolve("real-606/broken/281065_606_NMS_2024_Q3.xml")
    root = etree.parse(str(path), SAFE_PARSER).getroot()
    expected = set()
    for month in root.findall("rMonthly"):
        for tag in SECTIONS:
            for i, venue in enumerate(month.findall(f"{tag}/rVenues/rVenue"), start=1):
                if collapse(venue.findtext("name")).lower() == "nan":
                    expected.add(
                        f"rMonthly[mon={month.findtext('mon')}]/{tag}/rVenues/rVenue[{i}]/name"
                    )
    with pytest.raises(sec606.Rule606Error) as caught:
        sec606.read_606(path)
    got = {i.path for i in caught.value.issues if i.rule == "placeholder-venue-name"}
    assert got == expected and len(expected) == 8


# ------------------------------------------------------------------ goldman: strict no, lenient yes


def cph_deviation_paths(root: etree._Element) -> set[str]:
    """Paths of every ``...Cph`` value with fewer than four decimals, read with lxml."""
    paths = set()
    for month in root.findall("rMonthly"):
        for tag in SECTIONS:
            for i, venue in enumerate(month.findall(f"{tag}/rVenues/rVenue"), start=1):
                for child in venue:
                    text = collapse(child.text)
                    if (
                        str(child.tag).endswith("Cph")
                        and text
                        and not re.fullmatch(r"-?[0-9]*\.[0-9]{4,}", text)
                    ):
                        paths.add(
                            f"rMonthly[mon={int(month.findtext('mon'))}]/{tag}/rVenues/"
                            f"rVenue[{i}]/{child.tag}"
                        )
    return paths


@pytest.mark.parametrize("relative", shared_xml("real-606/goldman-invalid"))
def test_goldman_fails_strict_and_reads_lenient_listing_deviations(
    relative: str, sec_xsd: etree.XMLSchema
) -> None:
    path = resolve(relative)
    root = etree.parse(str(path), SAFE_PARSER).getroot()
    assert not sec_xsd.validate(etree.ElementTree(root))
    lxml_lines = {e.line for e in sec_xsd.error_log}
    expected = cph_deviation_paths(root)
    assert expected, "each Goldman file has Cph values with two or three decimals"

    with pytest.raises(sec606.Rule606Error) as caught:
        sec606.read_606(path, strict=True)
    strict_paths = {i.path for i in caught.value.issues}
    assert expected <= strict_paths, sorted(expected - strict_paths)
    assert all("decimal" in i.message for i in caught.value.issues if i.path in expected)

    result = sec606.read_606(path)
    assert not result.strict_valid
    # every deviation lxml reports is listed, at the same line
    assert lxml_lines <= {w.line for w in result.warnings}
    assert lxml_lines == {i.line for i in sec606.validate_606(path, strict=True).errors}
    cph = [w for w in result.warnings if w.path in expected]
    assert {w.path for w in cph} == expected
    assert all(w.severity == "warning" and "Cph" in w.message for w in cph)
    assert all(re.search(r"decimal", w.rule + w.message) for w in cph)
    # the value itself is kept as published
    for month in result.report.months:
        for block in filter(None, (month.sp500, month.other_stocks, month.options)):
            assert all(
                v.other_cph is None or isinstance(v.other_cph, Decimal) for v in block.venues
            )
    mic_warnings = {w.message for w in result.warnings if "mic" in w.path}
    for code in ("NYSE", "ARCA", "AMEX"):  # exchange short names, not ISO 10383 MICs
        assert any(f"'{code}'" in m for m in mic_warnings), code
    for code in ("XNAS", "BATS", "EDGX", "IEXG"):  # real ISO MICs
        assert not any(f"'{code}'" in m for m in mic_warnings), code


# ------------------------------------------------------------------ lenient deviations, constructed

SAMPLE = "sec-606/606a1_held_order_public_report.xml"
FIRST_VENUE = "rMonthly[mon=1]/rSP500/rVenues/rVenue[1]"


def sample_root() -> etree._Element:
    return etree.parse(str(resolve(SAMPLE)), SAFE_PARSER).getroot()


def first_venue(root: etree._Element) -> etree._Element:
    venue = root.find("rMonthly/rSP500/rVenues/rVenue")
    assert venue is not None
    return venue


def set_text(root: etree._Element, xpath: str, text: str) -> etree._Element:
    element = root.find(xpath)
    assert element is not None, xpath
    element.text = text
    return element


def variant_empty_cph(root: etree._Element) -> tuple[str, str]:
    set_text(first_venue(root), "netPmtPaidRecvMarketOrdersCph", "")
    return "blank", f"{FIRST_VENUE}/netPmtPaidRecvMarketOrdersCph"


def variant_empty_usd(root: etree._Element) -> tuple[str, str]:
    set_text(first_venue(root), "netPmtPaidRecvOtherOrdersUsd", "  ")
    return "blank", f"{FIRST_VENUE}/netPmtPaidRecvOtherOrdersUsd"


def variant_cph_two_decimals(root: etree._Element) -> tuple[str, str]:
    set_text(first_venue(root), "netPmtPaidRecvOtherOrdersCph", "12.34")
    return "decimal", f"{FIRST_VENUE}/netPmtPaidRecvOtherOrdersCph"


def variant_no_xsi(root: etree._Element) -> tuple[str, str]:
    for key in list(root.attrib):
        del root.attrib[key]
    etree.cleanup_namespaces(root)
    return "xsi", "heldOrderRoutingPublicReport"


def variant_empty_mic(root: etree._Element) -> tuple[str, str]:
    set_text(first_venue(root), "mic", "")
    return "mic", f"{FIRST_VENUE}/mic"


def variant_mpid_as_mic(root: etree._Element) -> tuple[str, str]:
    set_text(first_venue(root), "mic", "CDRG")  # Citadel's MPID, pattern-valid, not a MIC
    return "iso", f"{FIRST_VENUE}/mic"


def variant_five_letter_mic(root: etree._Element) -> tuple[str, str]:
    set_text(first_venue(root), "mic", "NITEX")  # breaks the schema's MIC pattern
    return "mic", f"{FIRST_VENUE}/mic"


def variant_pct_sum_rounding(root: etree._Element) -> tuple[str, str]:
    # 0.00 + 1.10 + 1.00 + 97.85 = 99.95: rounding, within 99.9-100.1
    set_text(root, "rMonthly/rSP500/ndoOtherPct", "97.85")
    return "sum", "rMonthly[mon=1]/rSP500"


VARIANTS = {
    "empty-cph": variant_empty_cph,
    "empty-usd": variant_empty_usd,
    "cph-two-decimals": variant_cph_two_decimals,
    "missing-xsi": variant_no_xsi,
    "empty-mic": variant_empty_mic,
    "mpid-as-mic": variant_mpid_as_mic,
    "five-letter-mic": variant_five_letter_mic,
    "pct-sum-99.95": variant_pct_sum_rounding,
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_lenient_lists_each_deviation_with_path_and_rule(
    variant: str, tmp_path: Path, sec_xsd: etree.XMLSchema
) -> None:
    baseline = sec606.read_606(resolve(SAMPLE)).warnings
    root = sample_root()
    word, where = VARIANTS[variant](root)
    data = serialize(root)
    path = tmp_path / f"{variant}.xml"
    path.write_bytes(data)

    result = sec606.read_606(path)
    new = [w for w in result.warnings if w not in baseline]
    hits = [w for w in new if w.path == where]
    assert hits, f"no warning at {where}; new warnings: {[str(w) for w in new]}"
    assert all(w.severity == "warning" for w in hits)
    assert any(re.search(word, f"{w.rule} {w.message}", re.IGNORECASE) for w in hits), hits
    assert str(hits[0]).endswith(f"[{hits[0].rule}]")

    venue = result.report.months[0].sp500.venues[0]  # type: ignore[union-attr]
    kept = {
        "empty-cph": (venue.market_cph, None),
        "empty-usd": (venue.other_usd, None),
        "cph-two-decimals": (venue.other_cph, Decimal("12.34")),
        "mpid-as-mic": (venue.mic, "CDRG"),
    }
    if variant in kept:
        assert kept[variant][0] == kept[variant][1], "lenient reading keeps the published value"

    schema_ok, log = lxml_valid(sec_xsd, data)
    assert result.strict_valid == schema_ok, log
    if schema_ok:
        sec606.read_606(path, strict=True)
    else:
        with pytest.raises(sec606.Rule606Error) as caught:
            sec606.read_606(path, strict=True)
        assert any(i.path == where for i in caught.value.issues), caught.value


#: ndoOtherPct -> the section's order-type total (0.00 + 1.10 + 1.00 + x) and the outcome.
PCT_SUMS = {
    "97.90": ("100.00", "ok"),
    "97.80": ("99.90", "warning"),
    "98.00": ("100.10", "warning"),
    "97.79": ("99.89", "error"),
    "98.01": ("100.11", "error"),
    "50.00": ("52.10", "error"),
}


@pytest.mark.parametrize("other", list(PCT_SUMS))
def test_order_type_percentages_off_100_warn_within_0_1_and_are_errors_beyond(other: str) -> None:
    total, outcome = PCT_SUMS[other]
    root = sample_root()
    set_text(root, "rMonthly/rSP500/ndoOtherPct", other)
    data = serialize(root)
    where = "rMonthly[mon=1]/rSP500"
    baseline = [w for w in sec606.read_606(resolve(SAMPLE)).warnings if w.path == where]
    assert baseline == []
    for strict in (False, True):
        if outcome == "error":
            with pytest.raises(sec606.Rule606Error) as caught:
                sec606.read_606(data, strict=strict)
            assert any(
                i.path == where and total in i.message and i.severity == "error"
                for i in caught.value.issues
            ), caught.value
            continue
        warnings = [w for w in sec606.read_606(data, strict=strict).warnings if w.path == where]
        if outcome == "ok":
            assert warnings == []
        else:
            assert len(warnings) == 1 and total in warnings[0].message, warnings


def test_month_outside_quarter_is_rejected_in_both_modes() -> None:
    root = sample_root()
    set_text(root, "rMonthly[3]/mon", "4")  # a Q1 report with April data
    for strict in (False, True):
        with pytest.raises(sec606.Rule606Error) as caught:
            sec606.read_606(serialize(root), strict=strict)
        assert any("quarter" in i.message for i in caught.value.issues), caught.value


def test_missing_venue_element_is_an_error_in_lenient_mode_too() -> None:
    root = sample_root()
    remove(first_venue(root).find("orderPct"))
    with pytest.raises(sec606.Rule606Error) as caught:
        sec606.read_606(serialize(root))
    assert any("orderPct" in i.message or "orderPct" in i.path for i in caught.value.issues)


# ------------------------------------------------------------------ round trips of shared files


@pytest.mark.parametrize("relative", READABLE)
def test_write_then_read_is_identity_and_schema_valid(
    relative: str, sec_xsd: etree.XMLSchema
) -> None:
    path = resolve(relative)
    if path.stat().st_size > 1_000_000:
        pytest.skip("b1_000500.xml covers the same structure; the large ones take seconds")
    report = sec606.read_606(path).report
    written = sec606.write_606(report)
    ok, log = lxml_valid(sec_xsd, written)
    assert ok, log
    again = sec606.read_606(written, strict=True)
    assert again.report == report
    assert again.strict_valid


# ------------------------------------------------------------------ Hypothesis round trips

XML_TEXT = st.characters(
    codec="utf-8",
    exclude_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp"),
    exclude_characters="\ufffe\uffff",
)


PLACEHOLDERS = {"nan", "none", "null", "undefined", "#n/a", "n/a", "na", "-"}


@st.composite
def collapsed_names(draw: st.DrawFn, min_size: int = 1) -> str:
    """1-80 characters, XSD-collapsed: no leading, trailing or doubled spaces, no tabs."""
    text = draw(st.text(XML_TEXT, min_size=min_size, max_size=80))
    name = " ".join(part for part in text.split(" ") if part)
    if len(name) < min_size or name.strip().casefold() in PLACEHOLDERS:
        name = "V" + name[:79] if name else "Venue"
    return name


def decimals(places: int, lo: str | None, hi: str | None) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal(lo) if lo else Decimal("-1e9"),
        max_value=Decimal(hi) if hi else Decimal("1e9"),
        places=places,
        allow_nan=False,
        allow_infinity=False,
    )


def optional(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy, strategy, strategy)


PCT = optional(st.one_of(decimals(2, "0", "100"), decimals(3, "0", "100")))
CPH = optional(st.one_of(decimals(4, None, None), decimals(6, "-1000", "1000")))
USD = optional(st.one_of(decimals(2, None, None), decimals(0, None, None)))
SHR = optional(st.one_of(decimals(0, "0", None), decimals(3, "0", None)))
COUNT = optional(st.integers(0, 10**12).map(Decimal))
MIC = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=4, max_size=4)
MPID = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=4, max_size=5)
TEXT = st.text(st.one_of(XML_TEXT, st.sampled_from("\n\t\r ")), max_size=200)
TIMESTAMP = st.one_of(
    st.none(),
    st.datetimes(datetime(1000, 1, 1), datetime(9999, 12, 31)).map(
        lambda d: d.replace(microsecond=0, tzinfo=UTC)
    ),
)


@st.composite
def a1_venue(draw: st.DrawFn, name: str | None, mic: str | None) -> A1Venue:
    return A1Venue(
        name=name,
        mic=mic,
        mpid=draw(st.none() | MPID),
        order_pct=draw(PCT),
        market_pct=draw(PCT),
        marketable_limit_pct=draw(PCT),
        non_marketable_limit_pct=draw(PCT),
        other_pct=draw(PCT),
        market_usd=draw(USD),
        market_cph=draw(CPH),
        marketable_limit_usd=draw(USD),
        marketable_limit_cph=draw(CPH),
        non_marketable_limit_usd=draw(USD),
        non_marketable_limit_cph=draw(CPH),
        other_usd=draw(USD),
        other_cph=draw(CPH),
        material_aspects=draw(TEXT),
    )


@st.composite
def a1_section(draw: st.DrawFn) -> A1Section:
    # order-type shares that sum to exactly 100.00 (a report rule), or are all blank
    if draw(st.booleans()):
        cuts = sorted(draw(st.lists(st.integers(0, 10000), min_size=3, max_size=3)))
        bounds = [0, *cuts, 10000]
        shares = [Decimal(b - a) / 100 for a, b in itertools.pairwise(bounds)]
        shares = [s.quantize(Decimal("0.01")) for s in shares]
    else:
        shares = [None] * 4
    # venue identities unique on (name, mic) and on mic (the schema's keys)
    names = draw(st.lists(collapsed_names(), max_size=4, unique=True))
    mics = draw(st.lists(MIC, min_size=len(names), max_size=len(names), unique=True))
    use_mic = draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
    venues = [
        draw(a1_venue(name, mic if keep else None))
        for name, mic, keep in zip(names, mics, use_mic, strict=True)
    ]
    if draw(st.booleans()):
        venues.append(draw(a1_venue(None, draw(MIC.filter(lambda m: m not in mics)))))
    return A1Section(draw(PCT), *shares, tuple(venues))


@st.composite
def a1_reports(draw: st.DrawFn) -> HeldOrderRoutingReport:
    year, qtr = draw(st.integers(2000, 2099)), draw(st.integers(1, 4))
    mons = draw(
        st.lists(
            st.sampled_from(range(3 * qtr - 2, 3 * qtr + 1)), min_size=1, max_size=3, unique=True
        )
    )
    months = tuple(
        A1Month(
            year,
            mon,
            draw(st.none() | a1_section()),
            draw(st.none() | a1_section()),
            draw(st.none() | a1_section()),
        )
        for mon in mons
    )
    return HeldOrderRoutingReport(
        draw(st.sampled_from(["1.2", "1.3"])),
        draw(collapsed_names()),
        year,
        qtr,
        draw(TIMESTAMP),
        months,
    )


DATES = st.dates(date(1000, 1, 1), date(9999, 12, 31))
TIMES = st.times().map(lambda t: t.replace(microsecond=0))


@st.composite
def b1_orders(draw: st.DrawFn) -> tuple[B1Order, ...] | None:
    if draw(st.booleans()):
        return None
    ids = draw(
        st.lists(
            st.text(XML_TEXT | st.sampled_from("\t\r\n"), min_size=1, max_size=20),
            max_size=4,
            unique=True,
        )
    )
    orders = []
    for order_id in ids:
        routes = []
        for _ in range(draw(st.integers(0, 3))):
            name = draw(st.none() | collapsed_names())
            mic = draw(MIC) if name is None else draw(st.none() | MIC)
            transactions = draw(st.lists(st.builds(B1Transaction, DATES, TIMES), max_size=3))
            routes.append(B1Route(name, mic, draw(st.none() | MPID), tuple(transactions)))
        orders.append(B1Order(order_id, draw(st.booleans()), tuple(routes)))
    return tuple(orders)


@st.composite
def b1_reports(draw: st.DrawFn) -> CustomerRoutingReport:
    return CustomerRoutingReport(
        draw(st.sampled_from(["1.2", "1.3"])),
        draw(st.just("") | collapsed_names()),
        draw(collapsed_names()),
        draw(TIMESTAMP),
        draw(DATES),
        draw(DATES),
        draw(b1_orders()),
        draw(b1_orders()),
        draw(b1_orders()),
    )


@st.composite
def b3_venue(draw: st.DrawFn) -> B3Venue:
    numbers = {}
    for xml, attr in B3_VENUE_FIELDS:
        if xml.endswith("Pct"):
            numbers[attr] = draw(PCT)
        elif xml.endswith("Cph"):
            numbers[attr] = draw(CPH)
        elif xml.endswith("Msec"):
            numbers[attr] = draw(COUNT)
        else:
            numbers[attr] = draw(SHR)
    return B3Venue(
        venue_name=draw(collapsed_names()),
        services=draw(st.sampled_from([None, "PRV", "EV/SRV"])),
        mic=draw(st.none() | MIC),
        mpid=draw(st.none() | MPID),
        **numbers,
    )


@st.composite
def b3_months(draw: st.DrawFn) -> tuple[B3Month, ...] | None:
    if draw(st.booleans()):
        return None
    mons = draw(st.lists(st.integers(1, 12), max_size=7, unique=True))
    return tuple(
        B3Month(
            draw(st.integers(2000, 2099)),
            mon,
            draw(SHR),
            draw(SHR),
            draw(COUNT),
            tuple(
                draw(
                    st.lists(
                        st.builds(B3IoiVenue, collapsed_names(), st.none() | MIC, st.none() | MPID),
                        max_size=2,
                    )
                )
            ),
            tuple(draw(st.lists(b3_venue(), max_size=2))),
        )
        for mon in mons
    )


@st.composite
def b3_reports(draw: st.DrawFn) -> NotHeldHandlingReport:
    return NotHeldHandlingReport(
        draw(st.sampled_from(["1.2", "1.3"])),
        draw(st.just("") | collapsed_names()),
        draw(collapsed_names()),
        draw(TIMESTAMP),
        draw(DATES),
        draw(DATES),
        draw(b3_months()),
        draw(b3_months()),
    )


def _round_trip(report: Report606, sec_xsd: etree.XMLSchema) -> None:
    written = sec606.write_606(report)
    ok, log = lxml_valid(sec_xsd, written)
    assert ok, f"{log}\n{written.decode()[:3000]}"
    verdict = sec606.validate_606(written, strict=True)
    assert verdict.schema_valid and verdict.valid, verdict.errors
    back = sec606.read_606(written, strict=False).report
    assert back == report


ROUND_TRIP = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_random_a1_reports_write_schema_valid_and_read_back_equal(sec_xsd: etree.XMLSchema) -> None:
    @ROUND_TRIP
    @given(a1_reports())
    def check(report: HeldOrderRoutingReport) -> None:
        _round_trip(report, sec_xsd)

    check()


def test_random_b1_reports_write_schema_valid_and_read_back_equal(sec_xsd: etree.XMLSchema) -> None:
    @ROUND_TRIP
    @given(b1_reports())
    def check(report: CustomerRoutingReport) -> None:
        _round_trip(report, sec_xsd)

    check()


def test_random_b3_reports_write_schema_valid_and_read_back_equal(sec_xsd: etree.XMLSchema) -> None:
    @ROUND_TRIP
    @given(b3_reports())
    def check(report: NotHeldHandlingReport) -> None:
        _round_trip(report, sec_xsd)

    check()


# ------------------------------------------------------------------ modes agree on mutations


def test_on_mutations_strict_accepts_exactly_the_lenient_and_schema_valid_documents(
    mutation_bases: list,
) -> None:
    """strict accepts = lenient accepts and schema-valid; both readers and the cell stream agree.

    No input makes a reader raise anything but ``Rule606Error``.
    """
    from support.sec606_mutations import Mutated, mutated_documents

    outcomes: dict[tuple[bool, bool], int] = {}

    def attempt(call: object) -> object:
        try:
            return call()  # type: ignore[operator]
        except sec606.Rule606Error as exc:
            assert exc.issues and all(i.rule and i.message for i in exc.issues), exc
            return None

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
    @given(mutated_documents(mutation_bases))
    def check(doc: Mutated) -> None:
        lenient = attempt(lambda: sec606.read_606(doc.xml))
        strict = attempt(lambda: sec606.read_606(doc.xml, strict=True))
        schema_ok = sec606.validate_606(doc.xml).schema_valid
        key = (lenient is not None, strict is not None)
        outcomes[key] = outcomes.get(key, 0) + 1
        assert (strict is not None) == (lenient is not None and schema_ok), doc
        if lenient is not None:
            assert lenient.strict_valid == schema_ok
            assert all(w.severity == "warning" and w.rule for w in lenient.warnings)
            if strict is not None:
                assert strict.report == lenient.report
            if isinstance(lenient.report, HeldOrderRoutingReport):
                cells = attempt(lambda: list(sec606.iter_a1_cells(doc.xml)))
                assert cells == list(a1_cells(lenient.report)), doc

    check()
    # all three outcomes occur: rejected, lenient only, both
    assert len(outcomes) == 3 and min(outcomes.values()) >= 3, outcomes
