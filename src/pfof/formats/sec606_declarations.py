"""The SEC Rule 606 schema (oh-20191231.xsd): its elements, content models and constraints.

The schema's declarations written in ``sec606_grammar``'s language, section by section
(606(a)(1), 606(b)(1), 606(b)(3)), with the constants other modules share: the report roots,
the order types' XML names and the 606(b)(3) venue figures. pfof does not ship the SEC's file;
the tests prove these declarations give lxml's verdicts on the official XSD.
"""

from __future__ import annotations

from pfof.formats.sec606_grammar import (
    Choice,
    Element,
    Occurs,
    Sequence,
    Unique,
    local_element,
    optional,
    required,
)
from pfof.formats.sec606_types import SIMPLE_TYPES
from pfof.model.reports606 import B3_VENUE_FIGURES

#: The schema's global elements by name, in declaration order.
GLOBAL_ELEMENTS: dict[str, Element] = {}


def global_element(name: str, type_name: str | None = None) -> Element:
    """The global element ``name``: declared on first use, then shared by reference."""
    if name not in GLOBAL_ELEMENTS:
        GLOBAL_ELEMENTS[name] = Element(name, SIMPLE_TYPES[type_name] if type_name else None)
    return GLOBAL_ELEMENTS[name]


# global elements of a simple type (element name: type name in SIMPLE_TYPES)
for _n, _t in {
    "version": "version",
    "bd": "BrokerDealerNameType",
    "customer": "CustomerNameType",
    "year": "YearType",
    "qtr": "QuarterType",
    "mon": "MonthType",
    "timestamp": "timestamp",
    "sentShr": "ShrType",
    "executedAsPrincipalShr": "ShrType",
    "ioiExposedOrd": "OrdType",
    "services": "ServicesType",
    "mpid": "mpid",
    "startDate": "date",
    "endDate": "date",
    "venueName": "VenueNameType",
    "mic": "mic",
    "name": "VenueNameType",
    "orderPct": "PctOrNmType",
    "materialAspects": "string",
    "date": "date",
    "time": "time",
    "orderId": "orderId",
    "directed": "directed",
    "ndoPct": "PctOrNmType",
    "ndoMarketPct": "PctOrNmType",
    "ndoMarketableLimitPct": "PctOrNmType",
    "ndoNonmarketableLimitPct": "PctOrNmType",
    "ndoOtherPct": "PctOrNmType",
}.items():
    global_element(_n, _t)

#: The order types as 606(a)(1) element names spell them (``netPmtPaidRecv<type>OrdersUsd``).
ORDER_TYPES_XML = ("Market", "MarketableLimit", "NonMarketableLimit", "Other")
for _ot in ORDER_TYPES_XML:
    global_element(f"netPmtPaidRecv{_ot}OrdersUsd", "UsdType")
    global_element(f"netPmtPaidRecv{_ot}OrdersCph", "CphType")

# 606(a)(1)
global_element("rVenue").content = Sequence(
    [
        Choice(
            [
                Sequence([required(global_element("name")), optional(global_element("mic"))]),
                required(global_element("mic")),
            ]
        ),
        optional(global_element("mpid")),
        required(global_element("orderPct")),
        required(local_element("marketPct", "PctOrNmType")),
        required(local_element("marketableLimitPct", "PctOrNmType")),
        required(local_element("nonMarketableLimitPct", "PctOrNmType")),
        required(local_element("otherPct", "PctOrNmType")),
        *[
            required(global_element(f"netPmtPaidRecv{ot}Orders{u}"))
            for ot in ORDER_TYPES_XML
            for u in ("Usd", "Cph")
        ],
        required(global_element("materialAspects")),
    ]
)
global_element("rVenues").content = Sequence([optional(global_element("rVenue"), None)])
global_element("rVenues").uniques = (
    Unique("uniqueVenues", ("rVenue",), ("name", "mic")),
    Unique("uniqueMics", ("rVenue",), ("mic",)),
)
_ORDER_ROUTING = Sequence(
    [
        required(global_element("ndoPct")),
        required(global_element("ndoMarketPct")),
        required(global_element("ndoMarketableLimitPct")),
        required(global_element("ndoNonmarketableLimitPct")),
        required(global_element("ndoOtherPct")),
        required(global_element("rVenues")),
    ]
)
for _s in ("rSP500", "rOtherStocks", "rOptions"):
    global_element(_s).content = _ORDER_ROUTING
    global_element(_s).type_name = "OrderRoutingType"
global_element("rMonthly").content = Sequence(
    [
        required(global_element("year")),
        required(global_element("mon")),
        optional(global_element("rSP500")),
        optional(global_element("rOtherStocks")),
        optional(global_element("rOptions")),
    ]
)
A1_ROOT = global_element("heldOrderRoutingPublicReport")
A1_ROOT.content = Sequence(
    [
        required(global_element("version")),
        required(global_element("bd")),
        required(global_element("year")),
        required(global_element("qtr")),
        optional(global_element("timestamp")),
        Occurs(global_element("rMonthly"), 1, 3),
    ]
)
A1_ROOT.uniques = (Unique("orderRoutingReport_month", ("rMonthly",), ("mon",)),)

# 606(b)(1)
global_element("transaction").content = Sequence(
    [required(global_element("date")), required(global_element("time"))]
)
global_element("route").content = Sequence(
    [
        Choice(
            [
                Sequence([required(global_element("venueName")), optional(global_element("mic"))]),
                required(global_element("mic")),
            ]
        ),
        optional(global_element("mpid")),
        optional(global_element("transaction"), None),
    ]
)
global_element("order").content = Sequence(
    [
        required(global_element("orderId")),
        required(global_element("directed")),
        optional(global_element("route"), None),
    ]
)
_ORDER_LIST = Sequence([optional(global_element("order"), None)])
B1_ROOT = global_element("heldExemptNotHeldOrderRoutingCustomerReport")
B1_ROOT.content = Sequence(
    [
        required(global_element("version")),
        required(global_element("customer")),
        required(global_element("bd")),
        optional(global_element("timestamp")),
        required(global_element("startDate")),
        required(global_element("endDate")),
        optional(Element("held", content=_ORDER_LIST, type_name="ORDER_LIST")),
        optional(Element("notHeldExempt", content=_ORDER_LIST, type_name="ORDER_LIST")),
        optional(Element("options", content=_ORDER_LIST, type_name="ORDER_LIST")),
    ]
)
B1_ROOT.uniques = (
    Unique("uniqueHeldOrderId", ("held", "order"), ("orderId",)),
    Unique("uniqueNotHeldExemptOrderId", ("notHeldExempt", "order"), ("orderId",)),
    Unique("uniqueOptionsOrderId", ("options", "order"), ("orderId",)),
)

# 606(b)(3)
global_element("ioiExposedVenue").content = Sequence(
    [
        required(global_element("venueName")),
        optional(global_element("mic")),
        optional(global_element("mpid")),
    ]
)
global_element("iVenue").content = Sequence(
    [
        required(global_element("venueName")),
        optional(global_element("services")),
        optional(global_element("mic")),
        optional(global_element("mpid")),
        *[required(local_element(n, t)) for n, _, t in B3_VENUE_FIGURES],
    ]
)
global_element("hMonthly").content = Sequence(
    [
        required(global_element("year")),
        required(global_element("mon")),
        required(global_element("sentShr")),
        required(global_element("executedAsPrincipalShr")),
        required(global_element("ioiExposedOrd")),
        required(
            Element(
                "ioiExposedVenueList",
                content=Sequence([optional(global_element("ioiExposedVenue"), None)]),
                type_name="IOI_EXPOSED_VENUE_LIST",
            )
        ),
        required(
            Element(
                "routingVenueList",
                content=Sequence([optional(global_element("iVenue"), None)]),
                type_name="ROUTING_VENUE_LIST",
            )
        ),
    ]
)
_OH_DND = Sequence([optional(global_element("hMonthly"), 7)])
B3_ROOT = global_element("notHeldOrderHandlingCustomerReport")
B3_ROOT.content = Sequence(
    [
        required(global_element("version")),
        required(global_element("customer")),
        required(global_element("bd")),
        optional(global_element("timestamp")),
        required(global_element("startDate")),
        required(global_element("endDate")),
        optional(
            Element(
                "hDirected",
                content=_OH_DND,
                uniques=(Unique("hdMonthly", ("hMonthly",), ("mon",)),),
                type_name="OH_DND_DATA",
            )
        ),
        optional(
            Element(
                "hNondirected",
                content=_OH_DND,
                uniques=(Unique("hndMonthly", ("hMonthly",), ("mon",)),),
                type_name="OH_DND_DATA",
            )
        ),
    ]
)

#: The report root elements and the report kind each one starts.
REPORT_ROOTS = {
    "heldOrderRoutingPublicReport": "a1",
    "heldExemptNotHeldOrderRoutingCustomerReport": "b1",
    "notHeldOrderHandlingCustomerReport": "b3",
}
