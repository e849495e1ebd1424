"""Hypothesis strategies that mutate real Rule 606 XML documents, for schema-equivalence tests.

A *base* is a parsed document from ``../shared`` (SEC samples, real broker reports), possibly
trimmed so that repeated elements (venues, orders, transactions) are few and mutations stay
fast. :func:`mutated_documents` draws a base and applies one to three mutations: structural ones
(drop, duplicate, swap, move, rename, wrap in a namespace, re-root) and lexical ones (numbers
just inside and outside the schema's ranges and patterns, bad MICs and MPIDs, malformed dates,
times and timestamps, over-long names, stray attributes, text, comments and PIs). The pools mix
values the SEC schema accepts with values it rejects, so both verdicts occur often.

Nothing here decides validity: the tests compare pfof's verdict with lxml's.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st
from lxml import etree

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# ------------------------------------------------------------------ element kinds

PCT_TAGS = frozenset(
    {
        "ndoPct",
        "ndoMarketPct",
        "ndoMarketableLimitPct",
        "ndoNonmarketableLimitPct",
        "ndoOtherPct",
        "orderPct",
        "marketPct",
        "marketableLimitPct",
        "nonMarketableLimitPct",
        "otherPct",
        "filledPct",
        "midpointPct",
        "nearsidePct",
        "farsidePct",
        "providedLiquidityPct",
        "removedLiquidityPct",
    }
)


def kind_of(tag: str) -> str | None:
    """The value pool an element's text is drawn from, or None for element-only content."""
    if tag in PCT_TAGS:
        return "pct"
    if tag.endswith("Cph"):
        return "cph"
    if tag.endswith("Usd"):
        return "usd"
    if tag.endswith("Shr"):
        return "shr"
    if tag in ("ioiExposedOrd", "orderDurationMsec"):
        return "count"
    if tag in ("name", "venueName", "bd"):
        return "name"
    if tag in ("startDate", "endDate"):
        return "date"
    return {
        "year": "year",
        "mon": "mon",
        "qtr": "qtr",
        "version": "version",
        "timestamp": "timestamp",
        "date": "date",
        "time": "time",
        "directed": "directed",
        "services": "services",
        "mic": "mic",
        "mpid": "mpid",
        "customer": "customer",
        "orderId": "order_id",
        "materialAspects": "text",
    }.get(tag)


# Values chosen at and just beyond each rule of the schema; the comment names the rule hit.
NUMBER_EDGES = (
    "100.01",  # above PctType maxInclusive
    "-0.01",  # below 0
    "5",  # no decimals
    "5.1",  # one decimal
    "5.12",
    "5.123",
    "5.1234",
    "5.12345",
    "1e3",  # exponent: not xs:decimal
    "1E3",
    "+5.00",  # sign: fine for xs:decimal, not for the Pct pattern
    "+5.0000",
    "-5.0000",
    " 5.00 ",  # collapsible whitespace
    "\t5.0000\n",
    "5.00\n",
    "5,00",  # decimal comma
    ".50",  # no integer digits
    "-.5000",
    "5.",  # no fraction digits
    "05.00",  # leading zero
    "0005.0000",
    "NaN",
    "nan",
    "INF",
    "Infinity",
    "",  # blank = "not meaningful"
    "   ",  # whitespace-only blank
    "\n",
    "100.00",
    "100.0000",
    "100",
    "0.00",
    "0",
    "-0.00",
    "+0.00",
    "-0",
    "00.00",
    "1_000.00",  # Python's Decimal accepts underscores; xs:decimal does not
    "\u0665.\u0660\u0660",  # Arabic-Indic digits: Python accepts, XSD [0-9] does not
    "\uff15.\uff10\uff10",  # fullwidth digits
    "5 .00",
    "- 5.00",
    "12345678901234567890.123456789",
    "0x10",
    "5.00.00",
    "--5.00",
    "\u00a05.00",  # no-break space: not XML white space, so not collapsed
    "5.0000\u2003",
    "1" + "0" * 40 + ".0000",  # more digits than a double or a 64-bit integer holds
    "100.000000000000000000000000001",
)

POOLS: dict[str, tuple[str, ...]] = {
    "year": (
        "1999",
        "2000",
        "2020",
        "2099",
        "2100",
        "02020",
        "+2020",
        "-2020",
        " 2020 ",
        "2020\n",
        "2020.0",
        "20 20",
        "",
        "\u0662\u0660\u0662\u0660",
        "2_020",
        "999999999999999999999",
    ),
    "mon": ("0", "1", "3", "01", "001", "12", "13", "+1", "-1", " 3 ", "1.0", "", "x", "\u0663"),
    "qtr": ("0", "1", "4", "5", "01", "+4", " 2 ", "2.0", "", "IV", "1_0"),
    "version": ("1.2", "1.3", "1.1", " 1.2", "1.2 ", "1.2\n", "1.20", "", "1,2", "v1.2"),
    "timestamp": (
        "2020-04-01T22:55:48Z",
        "2020-04-01T22:55:48",
        "2020-04-01T22:55:48.5Z",
        "2020-04-01 22:55:48Z",
        "2020-04-01T22:55:48+00:00",
        "2020-02-30T00:00:00Z",
        "2020-02-29T00:00:00Z",
        "2019-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z",
        "2020-13-01T00:00:00Z",
        "2020-00-10T00:00:00Z",
        "2020-04-31T00:00:00Z",
        "2020-04-01T24:00:00Z",
        "2020-04-01T23:59:60Z",
        "2020-04-01T23:60:00Z",
        "2020-04-01T25:00:00Z",
        " 2020-04-01T22:55:48Z ",
        "2020-04-01T22:55:48Z\n",
        "2020-4-01T22:55:48Z",
        "20200401T225548Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2020-04-01T22:55:48z",
        "",
        "2020-04-01t22:55:48Z",
    ),
    "date": (
        "2019-12-01",
        "2020-05-31",
        "2020-02-29",
        "2019-02-29",
        "1900-02-29",
        "2000-02-29",
        "2020-04-31",
        "2020-13-01",
        "2020-00-01",
        "2020-01-00",
        "2020-1-01",
        "20200101",
        "2020-01-01Z",
        "2020-01-01+01:00",
        " 2020-01-01 ",
        "0000-01-01",
        "9999-12-31",
        "",
        "2020/01/01",
    ),
    "time": (
        "07:05:22",
        "00:00:00",
        "23:59:59",
        "24:00:00",
        "23:59:60",
        "23:60:00",
        "25:00:00",
        "7:05:22",
        "07:05",
        "07:05:22Z",
        "07:05:22.5",
        " 07:05:22 ",
        "07-05-22",
        "",
    ),
    "directed": ("Y", "N", "y", "n", " Y", "N ", "Y\n", "Yes", "", "YN"),
    "services": ("PRV", "EV/SRV", "prv", "EV", "SRV", " PRV", "EV/SRV ", "PRV\n", ""),
    "mic": (
        "XNAS",
        "XNYS",
        "ARCX",
        "NYSE",  # pattern-valid, not an ISO MIC
        "CDRG",  # an MPID
        "NITE",
        "xnas",
        "XNA",
        "XNASD",
        "XN S",
        "",
        "   ",
        " XNAS",
        "XNAS ",
        "XNAS\n",
        "X1Y2",
        "XN\u00c4S",
        "\uff38\uff2e\uff21\uff33",
        "CITADEL",
    ),
    "mpid": (
        "CDRG",
        "NITEX",
        "ABC",
        "ABCDEF",
        "",
        "  ",
        "citd",
        "AB12",
        "AB-12",
        "CDRG\n",
        " CDRG",
        "12345",
    ),
    "order_id": ("1", "x", "", " ", " 1", "a b", "90889133"),
    "text": ("", "  leading and trailing  ", "a\nb", "x" * 500, "<not markup>", "&"),
}


def _names() -> tuple[str, ...]:
    base79 = "V" * 79
    return (
        "A",
        "Citadel Securities LLC",
        "V" * 80,
        "V" * 81,
        "  " + "V" * 80 + "  ",  # 84 raw, 80 after collapse
        "V" + "     " + "W" * 78,  # collapses to 80
        "V" + "     " + "W" * 79,  # collapses to 81
        "V\t\n" + "W" * 78,
        base79 + "\u00e9",  # 80 characters, 81 UTF-8 bytes
        base79 + "\U0001d11e",  # 80 characters, one outside the BMP
        "V" * 78 + "\u00a0\u00a0",  # no-break spaces do not collapse
        "",
        "   ",
        "\n\t",
        "nan",
        "None",
    )


POOLS["name"] = _names()
POOLS["customer"] = (*_names(), "")

# Elements that may be absent: dropping them alone keeps a valid document valid.
OPTIONAL_TAGS = frozenset(
    {
        "timestamp",
        "rSP500",
        "rOtherStocks",
        "rOptions",
        "rVenue",
        "rMonthly",
        "mic",
        "mpid",
        "held",
        "notHeldExempt",
        "options",
        "order",
        "route",
        "transaction",
        "hDirected",
        "hNondirected",
        "hMonthly",
        "ioiExposedVenue",
        "iVenue",
        "services",
    }
)

# Repeated elements: duplicating them exercises maxOccurs and the xs:unique constraints.
REPEATED_TAGS = ("rMonthly", "rVenue", "order", "route", "transaction", "hMonthly", "iVenue")

SCHEMA_TAGS = (
    "version",
    "bd",
    "year",
    "qtr",
    "mon",
    "timestamp",
    "rMonthly",
    "rSP500",
    "rOtherStocks",
    "rOptions",
    "rVenues",
    "rVenue",
    "name",
    "mic",
    "mpid",
    "orderPct",
    "marketPct",
    "materialAspects",
    "ndoPct",
    "netPmtPaidRecvMarketOrdersUsd",
    "netPmtPaidRecvMarketOrdersCph",
    "customer",
    "startDate",
    "endDate",
    "held",
    "order",
    "orderId",
    "directed",
    "route",
    "venueName",
    "transaction",
    "date",
    "time",
    "hMonthly",
    "iVenue",
    "services",
    "heldOrderRoutingPublicReport",
    "notHeldOrderHandlingCustomerReport",
    "heldExemptNotHeldOrderRoutingCustomerReport",
)

# ------------------------------------------------------------------ bases


@dataclass(frozen=True)
class Base:
    """A parsed document to mutate; ``name`` says where it came from."""

    name: str
    root: etree._Element

    def __repr__(self) -> str:
        return f"Base({self.name!r})"


TRIMMABLE = frozenset({"rVenue", "order", "route", "transaction", "iVenue", "ioiExposedVenue"})


def trim(root: etree._Element, keep: int) -> etree._Element:
    """A copy of ``root`` keeping at most ``keep`` of each run of repeated list elements."""
    out = copy.deepcopy(root)
    for parent in list(out.iter()):
        seen: dict[str, int] = {}
        for child in list(parent):
            if not isinstance(child.tag, str) or child.tag not in TRIMMABLE:
                continue
            seen[child.tag] = seen.get(child.tag, 0) + 1
            if seen[child.tag] > keep:
                remove(child)
    return out


def load_bases(paths: Iterable[Path], keep: int = 3) -> list[Base]:
    """Parse and trim the given files, smallest first (so Hypothesis shrinks towards them)."""
    bases = []
    for path in sorted(paths, key=lambda p: p.stat().st_size):
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
        bases.append(Base(path.name, trim(root, keep)))
    return bases


# ------------------------------------------------------------------ tree helpers


def elements(root: etree._Element) -> list[etree._Element]:
    """All elements of the tree in document order (no comments or PIs)."""
    return [e for e in root.iter() if isinstance(e.tag, str)]


def path_of(element: etree._Element) -> str:
    """A readable path such as ``rMonthly[2]/rSP500/rVenues/rVenue[1]/mic``."""
    parts = []
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        tag = node.tag if isinstance(node.tag, str) else "#node"
        if parent is None:
            parts.append(etree.QName(tag).localname if tag.startswith("{") else tag)
            break
        same = [c for c in parent if c.tag == node.tag]
        parts.append(f"{tag}[{same.index(node) + 1}]" if len(same) > 1 else str(tag))
        node = parent
    return "/".join(reversed(parts))


def remove(element: etree._Element) -> None:
    """Remove ``element`` but keep its tail text attached to the previous node."""
    parent = element.getparent()
    assert parent is not None
    tail = element.tail
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def serialize(root: etree._Element) -> bytes:
    """The document as UTF-8 bytes with an XML declaration."""
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


# ------------------------------------------------------------------ mutations

Draw = Callable[[st.SearchStrategy], object]
Mutation = Callable[[Draw, etree._Element], str | None]


def _pick(draw: Draw, items: Sequence[etree._Element]) -> etree._Element | None:
    if not items:
        return None
    return items[draw(st.integers(0, len(items) - 1))]


def _non_root(root: etree._Element) -> list[etree._Element]:
    return elements(root)[1:]


def m_drop(draw: Draw, root: etree._Element) -> str | None:
    """Drop any element, or (half the time) an optional one."""
    pool = _non_root(root)
    if draw(st.booleans()):
        pool = [e for e in pool if e.tag in OPTIONAL_TAGS] or pool
    target = _pick(draw, pool)
    if target is None:
        return None
    where = path_of(target)
    remove(target)
    return f"drop {where}"


def m_duplicate(draw: Draw, root: etree._Element) -> str | None:
    """Duplicate an element next to itself; repeated list elements are preferred."""
    pool = _non_root(root)
    if draw(st.booleans()):
        pool = [e for e in pool if e.tag in REPEATED_TAGS] or pool
    target = _pick(draw, pool)
    if target is None:
        return None
    twin = copy.deepcopy(target)
    variant = ""
    if twin.tag == "rVenue" and draw(st.booleans()):
        # with and without mic: the schema keys venues on (name, mic) and on mic alone
        how = draw(st.sampled_from(["strip-mic", "new-name", "new-mic", "empty-mic", "space"]))
        mic = twin.find("mic")
        name = twin.find("name")
        if how == "strip-mic":
            for venue in (target, twin):
                for m in venue.findall("mic"):
                    if venue.find("name") is not None:
                        remove(m)
        elif how == "new-name" and name is not None:
            name.text = (name.text or "") + " II"
        elif how == "new-mic":
            if mic is None:
                mic = etree.Element("mic")
                if name is not None:
                    name.addnext(mic)
                else:
                    twin.insert(0, mic)
            mic.text = draw(st.sampled_from(["ZZZZ", "XNAS", ""]))
        elif how == "empty-mic" and mic is not None:
            mic.text = ""
            target_mic = target.find("mic")
            if target_mic is not None:
                target_mic.text = draw(st.sampled_from(["", "   "]))
        elif how == "space" and name is not None and name.text:
            name.text = "  " + name.text.replace(" ", "   ") + " "
        variant = f" ({how})"
    elif twin.tag == "rMonthly" and draw(st.booleans()):
        mon = twin.find("mon")
        if mon is not None and mon.text:
            how = draw(st.sampled_from(["zero-pad", "other-month", "spaces"]))
            value = mon.text.strip()
            if how == "zero-pad":
                mon.text = "0" + value
            elif how == "other-month":
                mon.text = str((int(value) % 12) + 1) if value.isdigit() else "1"
            else:
                mon.text = f" {value} "
            variant = f" (mon {how} -> {mon.text!r})"
    target.addnext(twin)
    twin.tail = target.tail
    return f"duplicate {path_of(target)}{variant}"


def m_swap(draw: Draw, root: etree._Element) -> str | None:
    """Swap two element siblings."""
    parents = [e for e in elements(root) if len([c for c in e if isinstance(c.tag, str)]) >= 2]
    parent = _pick(draw, parents)
    if parent is None:
        return None
    children = [c for c in parent if isinstance(c.tag, str)]
    if draw(st.booleans()):
        i = draw(st.integers(0, len(children) - 2))
        j = i + 1
    else:
        i, j = sorted(
            draw(st.lists(st.integers(0, len(children) - 1), min_size=2, max_size=2, unique=True))
        )
    a, b = children[i], children[j]
    desc = f"swap {path_of(a)} <-> {path_of(b)}"
    a_tail, b_tail = a.tail, b.tail
    marker = etree.Comment("swap")
    a.addprevious(marker)
    b.addprevious(a)
    marker.addprevious(b)
    marker.getparent().remove(marker)
    a.tail, b.tail = b_tail, a_tail
    return desc


def m_move(draw: Draw, root: etree._Element) -> str | None:
    """Move an element under another parent at a random position."""
    target = _pick(draw, _non_root(root))
    if target is None:
        return None
    candidates = [e for e in elements(root) if e is not target and target not in e.iterancestors()]
    candidates = [e for e in candidates if e is not target.getparent()] or candidates
    new_parent = _pick(draw, candidates)
    if new_parent is None:
        return None
    desc = f"move {path_of(target)} -> under {path_of(new_parent)}"
    remove(target)
    position = draw(st.integers(0, len(new_parent)))
    new_parent.insert(position, target)
    return desc


def m_rename(draw: Draw, root: etree._Element) -> str | None:
    """Rename an element: a typo, a case change, or another schema element's name."""
    target = _pick(draw, elements(root))
    if target is None:
        return None
    tag = str(target.tag)
    how = draw(st.sampled_from(["typo", "case", "suffix", "other"]))
    if how == "typo" and len(tag) > 1:
        i = draw(st.integers(0, len(tag) - 1))
        new = tag[:i] + tag[i + 1 :]
    elif how == "case":
        new = tag[0].swapcase() + tag[1:]
    elif how == "suffix":
        new = tag + draw(st.sampled_from(["s", "_", "Usd", "Cph"]))
    else:
        new = draw(st.sampled_from(SCHEMA_TAGS))
    if not new or new == tag:
        new = tag + "x"
    if not re.fullmatch(r"[A-Za-z_][\w.-]*", new):
        new = tag + "x"
    desc = f"rename {path_of(target)} -> {new}"
    target.tag = new
    return desc


def lexical_number(draw: Draw) -> str:
    """A number spelled in one of the many ways xs:decimal and the 606 patterns treat apart."""
    sign = draw(st.sampled_from(["", "", "", "-", "+"]))
    integer = draw(st.sampled_from(["", "0", "00", "5", "05", "100", "101", "99", "1234567"]))
    fraction = draw(
        st.sampled_from(
            [None, "", "0", "00", "01", "5", "50", "000", "0000", "1234", "00000", "12345"]
        )
    )
    pad = draw(st.sampled_from(["", "", "", " ", "\n\t"]))
    body = integer if fraction is None else f"{integer}.{fraction}"
    return f"{pad}{sign}{body}{pad}"


def value_for(draw: Draw, kind: str) -> str:
    """A text value for an element of ``kind``: in range, out of range or mis-formatted."""
    if kind in ("pct", "cph", "usd", "shr", "count"):
        if draw(st.booleans()):
            return draw(st.sampled_from(NUMBER_EDGES))
        return lexical_number(draw)
    return draw(st.sampled_from(POOLS[kind]))


def m_set_value(draw: Draw, root: etree._Element) -> str | None:
    """Replace the text of a simple-content element with a value from its kind's pool."""
    typed = [e for e in elements(root) if kind_of(str(e.tag)) is not None]
    target = _pick(draw, typed)
    if target is None:
        return None
    kind = kind_of(str(target.tag))
    assert kind is not None
    if draw(st.integers(0, 9)) == 0:
        # a value meant for another kind (e.g. a date in a percentage)
        kind = draw(st.sampled_from(sorted(POOLS)))
    value = value_for(draw, kind)
    for child in list(target):
        target.remove(child)
    if draw(st.integers(0, 9)) == 0 and value:
        target.text = etree.CDATA(value)
        form = "CDATA "
    else:
        target.text = value
        form = ""
    return f"set {path_of(target)} = {form}{value!r}"


def m_cph_decimals(draw: Draw, root: etree._Element) -> str | None:
    """Rewrite a per-100-share value with 2, 3, 4 or 5 decimals (real files use 2)."""
    target = _pick(draw, [e for e in elements(root) if str(e.tag).endswith("Cph")])
    if target is None:
        return None
    places = draw(st.sampled_from([0, 2, 3, 4, 5]))
    whole = draw(st.integers(-999, 999))
    digits = "".join(draw(st.sampled_from("0123456789")) for _ in range(places))
    value = f"{whole}.{digits}" if places else str(whole)
    target.text = value
    return f"set {path_of(target)} = {value!r} ({places} decimals)"


def m_long_name(draw: Draw, root: etree._Element) -> str | None:
    """Give a name-like element an 80/81 character value, with and without collapsible runs."""
    names = [e for e in elements(root) if e.tag in ("name", "venueName", "bd", "customer")]
    target = _pick(draw, names)
    if target is None:
        return None
    value = draw(st.sampled_from(POOLS["customer" if target.tag == "customer" else "name"]))
    target.text = value
    return f"set {path_of(target)} = {value!r} (len {len(value)})"


def m_attribute(draw: Draw, root: etree._Element) -> str | None:
    """Add an attribute: unknown, namespaced, xml:lang or an xsi attribute."""
    target = _pick(draw, elements(root))
    if target is None:
        return None
    name, value = draw(
        st.sampled_from(
            [
                ("foo", "1"),
                ("mon", "1"),
                ("{urn:example}x", "1"),
                (f"{{{XML_NS}}}lang", "en"),
                (f"{{{XML_NS}}}space", "preserve"),
                (f"{{{XSI}}}noNamespaceSchemaLocation", "oh-20191231.xsd"),
                (f"{{{XSI}}}schemaLocation", "urn:x oh.xsd"),
                (f"{{{XSI}}}nil", "true"),
                (f"{{{XSI}}}nil", "false"),
                (f"{{{XSI}}}type", "xs:string"),
                # named types of the SEC schema: a member of an element's union type, or the
                # element's own type, is a legal xsi:type substitution
                (f"{{{XSI}}}type", "MicType"),
                (f"{{{XSI}}}type", "NmType"),
                (f"{{{XSI}}}type", "PctType"),
                (f"{{{XSI}}}type", "PctOrNmType"),
                (f"{{{XSI}}}type", "CphType"),
                (f"{{{XSI}}}type", "Decimal4Type"),
                (f"{{{XSI}}}type", "UsdType"),
                (f"{{{XSI}}}type", "MpidType"),
                (f"{{{XSI}}}type", "VenueNameType"),
                (f"{{{XSI}}}type", "YearType"),
                (f"{{{XSI}}}type", "OrderRoutingType"),
                (f"{{{XSI}}}type", "ORDER_LIST"),
                (f"{{{XSI}}}type", "ShrType"),
                (f"{{{XSI}}}foo", "1"),
            ]
        )
    )
    target.set(name, value)
    return f"attribute {path_of(target)} @{name}={value!r}"


def m_xsi_strip(draw: Draw, root: etree._Element) -> str | None:
    """Remove every xsi attribute (and the now unused namespace declaration)."""
    had = [k for k in root.attrib if str(k).startswith(f"{{{XSI}}}")]
    for key in had:
        del root.attrib[key]
    etree.cleanup_namespaces(root)
    return f"strip xsi attributes {had}"


def m_text(draw: Draw, root: etree._Element) -> str | None:
    """Put text into element-only content (whitespace-only text is allowed there)."""
    parents = [e for e in elements(root) if kind_of(str(e.tag)) is None]
    target = _pick(draw, parents)
    if target is None:
        return None
    text = draw(st.sampled_from(["x", "  x  ", "\n   \n", "\u00a0", "&", " 1.00 "]))
    children = [c for c in target if isinstance(c.tag, str)]
    if children and draw(st.booleans()):
        child = children[draw(st.integers(0, len(children) - 1))]
        child.tail = (child.tail or "") + text
    else:
        target.text = (target.text or "") + text
    return f"text {text!r} into {path_of(target)}"


def m_comment_pi(draw: Draw, root: etree._Element) -> str | None:
    """Insert a comment or processing instruction anywhere, including inside a value."""
    target = _pick(draw, elements(root))
    if target is None:
        return None
    node = (
        etree.Comment(" note ")
        if draw(st.booleans())
        else etree.ProcessingInstruction("pfof", "x='1'")
    )
    kind = "comment" if isinstance(node, etree._Comment) else "PI"
    text = target.text or ""
    if len(target) == 0 and len(text) >= 2 and draw(st.booleans()):
        cut = draw(st.integers(1, len(text) - 1))
        target.text = text[:cut]
        node.tail = text[cut:]
        target.insert(0, node)
        return f"{kind} inside the value of {path_of(target)} at {cut}"
    position = draw(st.integers(0, len(target)))
    target.insert(position, node)
    return f"{kind} into {path_of(target)} at {position}"


def m_namespace(draw: Draw, root: etree._Element) -> str | None:
    """Put an element into a namespace (the schema has no target namespace)."""
    target = _pick(draw, elements(root))
    if target is None:
        return None
    desc = f"namespace on {path_of(target)}"
    target.tag = f"{{urn:example:606}}{etree.QName(target).localname}"
    return desc


def m_mic(draw: Draw, root: etree._Element) -> str | None:
    """Set or add a mic/mpid on a venue with a value from the MIC/MPID pools."""
    venues = [
        e for e in elements(root) if e.tag in ("rVenue", "route", "iVenue", "ioiExposedVenue")
    ]
    venue = _pick(draw, venues)
    if venue is None:
        return None
    tag = draw(st.sampled_from(["mic", "mpid"]))
    element = venue.find(tag)
    if element is None:
        element = etree.Element(tag)
        anchor = venue.find("mic") if tag == "mpid" else None
        if anchor is None:
            anchor = venue.find("services") if venue.tag == "iVenue" else None
        if anchor is None:
            anchor = venue.find("name") if venue.tag == "rVenue" else venue.find("venueName")
        if anchor is not None:
            anchor.addnext(element)
        else:
            venue.insert(0, element)
    element.text = draw(st.sampled_from(POOLS[tag]))
    return f"set {path_of(element)} = {element.text!r}"


MUTATIONS: dict[str, Mutation] = {
    "drop": m_drop,
    "duplicate": m_duplicate,
    "swap": m_swap,
    "move": m_move,
    "rename": m_rename,
    "set_value": m_set_value,
    "cph_decimals": m_cph_decimals,
    "long_name": m_long_name,
    "attribute": m_attribute,
    "xsi_strip": m_xsi_strip,
    "text": m_text,
    "comment_pi": m_comment_pi,
    "namespace": m_namespace,
    "mic": m_mic,
}

# set_value is listed several times: lexical mutations are where most subtle bugs hide.
_WEIGHTED = (
    *MUTATIONS,
    "set_value",
    "set_value",
    "set_value",
    "duplicate",
    "drop",
    "mic",
    "cph_decimals",
)


@dataclass(frozen=True)
class Mutated:
    """A mutated document: the bytes, its base and what was done to it."""

    base: str
    steps: tuple[str, ...]
    kinds: tuple[str, ...]
    xml: bytes

    def describe(self) -> str:
        return f"{self.base}: " + "; ".join(self.steps)

    def __repr__(self) -> str:
        return f"Mutated({self.describe()!r}, {len(self.xml)} bytes)"

    def _repr_pretty_(self, printer: object, cycle: bool) -> None:
        """Hypothesis prints dataclasses field by field; the XML is too long for that."""
        printer.text(repr(self))  # type: ignore[attr-defined]


@st.composite
def mutated_documents(
    draw: Draw, bases: Sequence[Base], max_steps: int = 3, kinds: Sequence[str] | None = None
) -> Mutated:
    """A base document with 1..max_steps mutations applied (optionally of the given kinds)."""
    base = draw(st.sampled_from(list(bases)))
    root = copy.deepcopy(base.root)
    pool = list(kinds) if kinds else list(_WEIGHTED)
    steps: list[str] = []
    used: list[str] = []
    if draw(st.integers(0, 19)) == 0:
        # re-root: any global element declaration may be a document's root
        candidate = _pick(draw, elements(root))
        if candidate is not None and candidate is not root:
            root = copy.deepcopy(candidate)
            root.tail = None
            steps.append(f"re-root at {candidate.tag}")
            used.append("reroot")
    # mostly one step, so that single, attributable changes dominate
    for _ in range(draw(st.sampled_from([n for n in (1, 1, 1, 2, 3) if n <= max_steps]))):
        name = draw(st.sampled_from(pool))
        step = MUTATIONS[name](draw, root)
        if step is not None:
            steps.append(step)
            used.append(name)
    encoding = draw(st.sampled_from(["UTF-8"] * 12 + ["UTF-16", "ASCII", "ISO-8859-1"]))
    if encoding != "UTF-8":
        steps.append(f"encode as {encoding}")
        used.append("encoding")
        xml = etree.tostring(root.getroottree(), xml_declaration=True, encoding=encoding)
    else:
        xml = serialize(root)
    return Mutated(base.name, tuple(steps), tuple(used), xml)


# ------------------------------------------------------------------ minimisation


def minimize(xml: bytes, still_failing: Callable[[bytes], bool], budget_s: float = 20.0) -> bytes:
    """Greedily delete subtrees, then text, while ``still_failing`` holds: a small repro.

    Top-down, so a removable venue or month goes in one step; bounded by ``budget_s``.
    """
    deadline = time.monotonic() + budget_s
    root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False))
    changed = True
    while changed and time.monotonic() < deadline:
        changed = False
        queue = [root]
        while queue and time.monotonic() < deadline:
            node = queue.pop(0)
            for child in list(node):
                if time.monotonic() >= deadline:
                    break
                parent = child.getparent()
                if parent is None:
                    continue
                index = parent.index(child)
                tail = child.tail
                parent.remove(child)
                if still_failing(serialize(root)):
                    changed = True
                    continue
                parent.insert(index, child)
                child.tail = tail
                if isinstance(child.tag, str):
                    queue.append(child)
    # drop whitespace-only text that does not matter, so the repro prints compactly
    for node in root.iter():
        for attr in ("text", "tail"):
            value = getattr(node, attr)
            if value is not None and not value.strip():
                setattr(node, attr, None)
                if not still_failing(serialize(root)):
                    setattr(node, attr, value)
    return serialize(root)
