"""Strict validation equals the SEC schema: pfof's verdict == lxml's on the official XSD.

The XSD and the documents are read from ../shared at run time. Every shared file is compared,
then Hypothesis mutates them (see ``support/sec606_mutations.py``) and compares again. On a
disagreement the failure shows the mutation, a minimised document that still disagrees, lxml's
error log and pfof's issues.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from lxml import etree

from formats.conftest import resolve, shared_xml
from pfof.formats import sec606
from support.sec606_mutations import (
    NUMBER_EDGES,
    POOLS,
    Base,
    Mutated,
    kind_of,
    minimize,
    mutated_documents,
    path_of,
    serialize,
)

Verdict = Callable[[bytes], tuple[bool, str]]

SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}


CRASH = "validate_606 raised"


def pfof_verdict(xml: bytes) -> tuple[bool, str]:
    """pfof's strict schema verdict: (valid, issues as text). A crash counts as a verdict."""
    try:
        verdict = sec606.validate_606(xml, strict=True)
    except Exception as exc:  # any exception on well-formed XML is itself a finding
        return False, f"{CRASH} {type(exc).__name__}: {exc}"
    return bool(verdict.schema_valid), "\n".join(
        f"[{i.severity}] {i.rule} @ {i.path} (line {i.line}): {i.message}" for i in verdict.errors
    )


def disagreement(
    xml: bytes, lxml_verdict: Verdict, title: str, minimise: bool = True
) -> str | None:
    """None when lxml and pfof agree, else a report (with a minimised reproduction)."""
    lxml_ok, lxml_log = lxml_verdict(xml)
    pfof_ok, pfof_log = pfof_verdict(xml)
    crashed = pfof_log.startswith(CRASH)
    if lxml_ok == pfof_ok and not crashed:
        return None
    if not minimise:
        return f"{title}\nlxml valid={lxml_ok}, pfof valid={pfof_ok}\n{pfof_log[:500]}"

    def still_fails(candidate: bytes) -> bool:
        ok, log = pfof_verdict(candidate)
        if crashed:
            return log.startswith(CRASH)
        return lxml_verdict(candidate)[0] != ok

    small = minimize(xml, still_fails, budget_s=15.0)
    s_lxml_ok, s_lxml_log = lxml_verdict(small)
    s_pfof_ok, s_pfof_log = pfof_verdict(small)
    return (
        f"{title}\nlxml valid={lxml_ok}, pfof valid={pfof_ok}\n"
        f"--- minimised document (lxml valid={s_lxml_ok}, pfof valid={s_pfof_ok}):\n"
        f"{small.decode('utf-8', 'replace')}\n"
        f"--- lxml errors:\n{s_lxml_log or '(none)'}\n"
        f"--- pfof issues:\n{s_pfof_log or '(none)'}\n"
        f"--- original lxml errors (first 5):\n{chr(10).join(lxml_log.splitlines()[:5])}\n"
        f"--- original pfof issues (first 5):\n{chr(10).join(pfof_log.splitlines()[:5])}"
    )


def check_issue_shape(xml: bytes) -> None:
    """Every strict error names a rule and says what was expected."""
    for issue in sec606.validate_606(xml, strict=True).errors:
        assert issue.rule and issue.message, issue
        assert issue.severity == "error", issue


# ------------------------------------------------------------------ every shared file


@pytest.mark.parametrize("relative", shared_xml("sec-606", "real-606"))
def test_shared_file_verdict_equals_lxml(relative: str, sec_xsd: etree.XMLSchema) -> None:
    path = resolve(relative)
    expected = sec_xsd.validate(etree.parse(str(path)))
    verdict = sec606.validate_606(path, strict=True)
    assert verdict.schema_valid == expected, (
        f"{relative}: lxml valid={expected}; pfof issues={verdict.errors[:5]}; "
        f"lxml errors={list(sec_xsd.error_log)[:5]}"
    )
    if path.stat().st_size > 1_000_000:
        return  # the source kinds are compared on the smaller files; these take seconds
    # the same verdict whether the source is a path, bytes or a binary file
    data = path.read_bytes()
    assert sec606.validate_606(data).schema_valid == expected
    with path.open("rb") as stream:
        assert sec606.validate_606(stream).schema_valid == expected


# ------------------------------------------------------------------ hand-picked lexical sweep

#: One representative element for each value kind: (tag, a base document that contains it).
SWEEP_TARGETS = (
    ("ndoPct", "606a1_held_order_public_report.xml"),
    ("orderPct", "606a1_held_order_public_report.xml"),
    ("netPmtPaidRecvMarketOrdersCph", "606a1_held_order_public_report.xml"),
    ("netPmtPaidRecvOtherOrdersUsd", "606a1_held_order_public_report.xml"),
    ("year", "606a1_held_order_public_report.xml"),
    ("qtr", "606a1_held_order_public_report.xml"),
    ("mon", "606a1_held_order_public_report.xml"),
    ("version", "606a1_held_order_public_report.xml"),
    ("timestamp", "606a1_held_order_public_report.xml"),
    ("bd", "606a1_held_order_public_report.xml"),
    ("name", "606a1_held_order_public_report.xml"),
    ("mic", "606a1_held_order_public_report.xml"),
    ("materialAspects", "606a1_held_order_public_report.xml"),
    ("customer", "606b1_held_exempt_not_held_customer_routing.xml"),
    ("startDate", "606b1_held_exempt_not_held_customer_routing.xml"),
    ("date", "606b1_held_exempt_not_held_customer_routing.xml"),
    ("time", "606b1_held_exempt_not_held_customer_routing.xml"),
    ("directed", "606b1_held_exempt_not_held_customer_routing.xml"),
    ("orderId", "606b1_held_exempt_not_held_customer_routing.xml"),
    ("venueName", "606b1_held_exempt_not_held_customer_routing.xml"),
    ("sentShr", "606b3_not_held_customer_handling_1mo.xml"),
    ("ioiExposedOrd", "606b3_not_held_customer_handling_1mo.xml"),
    ("orderDurationMsec", "606b3_not_held_customer_handling_1mo.xml"),
    ("filledPct", "606b3_not_held_customer_handling_1mo.xml"),
    ("netFeeOrRebateCph", "606b3_not_held_customer_handling_1mo.xml"),
    ("mic", "606b3_not_held_customer_handling_1mo.xml"),
)


def _sweep_values(kind: str) -> Sequence[str]:
    if kind in ("pct", "cph", "usd", "shr", "count"):
        return NUMBER_EDGES
    return POOLS[kind]


def test_every_lexical_edge_value_gets_lxmls_schema_verdict(
    mutation_bases: list[Base], lxml_verdict: Verdict
) -> None:
    """Every edge value of every kind, set on one element of a sample: all verdicts agree."""
    by_name = {b.name: b for b in mutation_bases}
    failures: list[str] = []
    verdicts: Counter[bool] = Counter()
    for tag, base_name in SWEEP_TARGETS:
        base = by_name.get(base_name)
        assert base is not None, base_name
        kind = kind_of(tag)
        assert kind is not None
        for value in _sweep_values(kind):
            root = etree.fromstring(serialize(base.root))
            target = root.find(f".//{tag}") if root.tag != tag else root
            assert target is not None, (tag, base_name)
            target.text = value
            xml = serialize(root)
            verdicts[lxml_verdict(xml)[0]] += 1
            title = f"{base_name}: {path_of(target)} = {value!r}"
            report = disagreement(xml, lxml_verdict, title, minimise=len(failures) < 5)
            if report:
                failures.append(report)
    assert verdicts[True] > 50 and verdicts[False] > 50, verdicts
    assert not failures, f"{len(failures)} disagreements:\n\n" + "\n\n".join(failures[:15])


# ------------------------------------------------------------------ Hypothesis mutations


def _run_mutations(
    bases: list[Base],
    lxml_verdict: Verdict,
    examples: int,
    kinds: Sequence[str] | None,
    min_share: float,
) -> Counter[bool]:
    verdicts: Counter[bool] = Counter()
    failing: list[Mutated] = []

    @settings(max_examples=examples, **SETTINGS)
    @given(mutated_documents(bases, kinds=kinds))
    def check(doc: Mutated) -> None:
        valid, _ = lxml_verdict(doc.xml)
        verdicts[valid] += 1
        event(f"lxml {'valid' if valid else 'invalid'}")
        for kind in doc.kinds:
            event(f"mutation {kind}")
        # minimising on every shrink step would be slow: only the final example is minimised
        report = disagreement(doc.xml, lxml_verdict, doc.describe(), minimise=False)
        if report is not None:
            failing.append(doc)
        assert report is None, report
        if not valid:
            check_issue_shape(doc.xml)

    try:
        check()
    except AssertionError:
        if failing:
            final = failing[-1]  # Hypothesis replays the shrunk example last
            full = disagreement(final.xml, lxml_verdict, final.describe())
            if full is not None:
                pytest.fail(full, pytrace=False)
        raise
    total = sum(verdicts.values())
    assert total >= examples * 0.9, verdicts
    assert verdicts[True] >= min_share * total and verdicts[False] >= min_share * total, verdicts
    return verdicts


def test_mutations_verdict_equals_lxml(mutation_bases: list[Base], lxml_verdict: Verdict) -> None:
    """Any mix of structural and lexical mutations (700 documents)."""
    _run_mutations(mutation_bases, lxml_verdict, 700, None, 0.15)


def test_lexical_mutations_verdict_equals_lxml(
    mutation_bases: list[Base], lxml_verdict: Verdict
) -> None:
    """Numbers, names, MICs, dates and times out of range or mis-formatted (300 documents)."""
    kinds = ("set_value", "cph_decimals", "long_name", "mic", "comment_pi")
    _run_mutations(mutation_bases, lxml_verdict, 300, kinds, 0.15)


def test_structural_mutations_verdict_equals_lxml(
    mutation_bases: list[Base], lxml_verdict: Verdict
) -> None:
    """Dropped, duplicated (months, venues), swapped, moved and renamed elements (300)."""
    kinds = ("drop", "duplicate", "duplicate", "swap", "move", "rename", "xsi_strip")
    _run_mutations(mutation_bases, lxml_verdict, 300, kinds, 0.05)


# ------------------------------------------------------------------ identity constraints, pinned

A1_HEAD = (
    "<heldOrderRoutingPublicReport><version>1.2</version><bd>B</bd><year>2020</year><qtr>1</qtr>"
)
VENUE_TAIL = (
    "<orderPct>1.00</orderPct><marketPct>1.00</marketPct><marketableLimitPct>1.00"
    "</marketableLimitPct><nonMarketableLimitPct>1.00</nonMarketableLimitPct><otherPct>1.00"
    "</otherPct>"
    + "".join(
        f"<netPmtPaidRecv{t}OrdersUsd>1</netPmtPaidRecv{t}OrdersUsd>"
        f"<netPmtPaidRecv{t}OrdersCph>1.0000</netPmtPaidRecv{t}OrdersCph>"
        for t in ("Market", "MarketableLimit", "NonMarketableLimit", "Other")
    )
    + "<materialAspects/>"
)


def a1_with_venues(*heads: str) -> bytes:
    """A one-month 606(a)(1) document whose S&P 500 venues start with the given XML heads."""
    venues = "".join(f"<rVenue>{h}{VENUE_TAIL}</rVenue>" for h in heads)
    section = (
        "<rSP500><ndoPct>1.00</ndoPct><ndoMarketPct>1.00</ndoMarketPct><ndoMarketableLimitPct>"
        "1.00</ndoMarketableLimitPct><ndoNonmarketableLimitPct>1.00</ndoNonmarketableLimitPct>"
        f"<ndoOtherPct>1.00</ndoOtherPct><rVenues>{venues}</rVenues></rSP500>"
    )
    return (
        f"{A1_HEAD}<rMonthly><year>2020</year><mon>1</mon>{section}</rMonthly>"
        "</heldOrderRoutingPublicReport>"
    ).encode()


def a1_with_months(*mons: str) -> bytes:
    months = "".join(f"<rMonthly><year>2020</year><mon>{m}</mon></rMonthly>" for m in mons)
    return f"{A1_HEAD}{months}</heldOrderRoutingPublicReport>".encode()


IDENTITY_CASES = {
    "same name, no mic (not keyed)": a1_with_venues("<name>A</name>", "<name>A</name>"),
    "same name and mic": a1_with_venues(
        "<name>A</name><mic>XNAS</mic>", "<name>A</name><mic>XNAS</mic>"
    ),
    "same mic, other names": a1_with_venues(
        "<name>A</name><mic>XNAS</mic>", "<name>B</name><mic>XNAS</mic>"
    ),
    "mic only, twice": a1_with_venues("<mic>XNAS</mic>", "<mic>XNAS</mic>"),
    "two empty mics": a1_with_venues("<name>A</name><mic></mic>", "<name>B</name><mic/>"),
    "empty and blank mic": a1_with_venues("<name>A</name><mic> </mic>", "<name>B</name><mic/>"),
    "names equal after collapse": a1_with_venues(
        "<name>A  B</name><mic>XNAS</mic>", "<name> A B </name><mic>XNAS</mic>"
    ),
    "names differ in case": a1_with_venues(
        "<name>a</name><mic>XNAS</mic>", "<name>A</name><mic>XNAT</mic>"
    ),
    "months 1 and 01": a1_with_months("1", "01"),
    "months 1 and +1": a1_with_months("1", "+1"),
    "months 1 and ' 1 '": a1_with_months("1", " 1 "),
    "months 1, 2, 3": a1_with_months("1", "2", "3"),
    "four months": a1_with_months("1", "2", "3", "4"),
    "months 3, 2": a1_with_months("3", "2"),
    "no month": a1_with_months(),
}

XSI_DECL = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def typed(tag_head: str, xsi_type: str, value: str) -> bytes:
    """A venue whose first ``tag_head`` element carries ``xsi:type``."""
    head = "<name>A</name><mic>XNAS</mic><mpid>ABCD</mpid>"
    venue = a1_with_venues(head).decode()
    tag = tag_head.strip("<>")
    start = venue.index(tag_head)
    end = venue.index(f"</{tag}>", start)
    attrs = f'<{tag} {XSI_DECL} xsi:type="{xsi_type}">'
    return (venue[:start] + attrs + value + venue[end:]).encode()


#: xsi:type naming a type of the SEC schema: lxml accepts a member type of the element's union
#: (and the element's own type), and validates the value against the named type.
XSI_TYPE_CASES = {
    "mic xsi:type=MicType": typed("<mic>", "MicType", "XNAS"),
    "mic xsi:type=NmType, value XNAS": typed("<mic>", "NmType", "XNAS"),
    "mic xsi:type=NmType, empty": typed("<mic>", "NmType", ""),
    "mpid xsi:type=MpidType": typed("<mpid>", "MpidType", "ABCD"),
    "mpid xsi:type=MicType": typed("<mpid>", "MicType", "ABCD"),
    "orderPct xsi:type=PctType": typed("<orderPct>", "PctType", "1.00"),
    "orderPct xsi:type=PctOrNmType": typed("<orderPct>", "PctOrNmType", "1.00"),
    "orderPct xsi:type=NmType, empty": typed("<orderPct>", "NmType", ""),
    "orderPct xsi:type=NmType, 1.00": typed("<orderPct>", "NmType", "1.00"),
    "orderPct xsi:type=CphType": typed("<orderPct>", "CphType", "1.0000"),
    "Cph xsi:type=Decimal4Type": typed("<netPmtPaidRecvMarketOrdersCph>", "Decimal4Type", "1.0000"),
    "Cph xsi:type=CphType": typed("<netPmtPaidRecvMarketOrdersCph>", "CphType", "1.0000"),
    "Usd xsi:type=UsdType": typed("<netPmtPaidRecvMarketOrdersUsd>", "UsdType", "1"),
    "name xsi:type=VenueNameType": typed("<name>", "VenueNameType", "A"),
    "name xsi:type=MicType": typed("<name>", "MicType", "XNAS"),
    "rSP500 xsi:type=OrderRoutingType": a1_with_venues("<name>A</name>")
    .decode()
    .replace("<rSP500>", f'<rSP500 {XSI_DECL} xsi:type="OrderRoutingType">')
    .encode(),
}
PINNED_CASES = {**IDENTITY_CASES, **XSI_TYPE_CASES}


@pytest.mark.parametrize("case", list(PINNED_CASES))
def test_identity_constraint_and_xsi_type_cases_get_lxmls_schema_verdict(
    case: str, lxml_verdict: Verdict
) -> None:
    """Identity constraints (keys compare typed, collapsed values) and xsi:type substitution."""
    report = disagreement(PINNED_CASES[case], lxml_verdict, case)
    assert report is None, report


# ------------------------------------------------------------------ no copy of the SEC's files

REPO = Path(__file__).resolve().parents[2]
SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".mypy_cache",
    "build",
    "dist",
}


def repository_files() -> list[Path]:
    out = []
    for path in REPO.rglob("*"):
        if any(
            part in SKIP_DIRS or part.endswith(".egg-info") for part in path.relative_to(REPO).parts
        ):
            continue
        if path.is_file() and path.stat().st_size < 50 * 2**20:
            out.append(path)
    return out


def test_repository_holds_no_copy_of_the_xsd_or_shared_reports() -> None:
    shared = resolve("sec-606/oh-20191231.xsd").parent.parent
    digests = {
        hashlib.sha256(p.read_bytes()).hexdigest(): p
        for folder in ("sec-606", "real-606")
        for p in (shared / folder).rglob("*")
        if p.is_file() and p.suffix in (".xml", ".xsd")
    }
    xsd_marker = b"<xs:" + b'element name="heldOrderRoutingPublicReport">'  # not itself a match
    for path in repository_files():
        data = path.read_bytes()
        copied = digests.get(hashlib.sha256(data).hexdigest())
        assert copied is None, f"{path} is a copy of {copied}"
        assert xsd_marker not in data, f"{path} contains the SEC's XSD text"
