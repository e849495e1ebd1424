"""Execution-quality statistics of Rule 605 reports, aggregated over symbols.

One SQL formulation serves a single file's Arrow batches and the store's ``rows_605_*``
tables: DuckDB sums, per group, exact decimal products (share quantities as
``DECIMAL(24, 12)``, dollar figures as ``DECIMAL(22, 12)``, so every decimal a reader accepts
keeps all its digits; a figure too large for them is an :class:`~pfof.errors.InputError`,
never a rounded sum), and Python turns the few group sums into ratios with exact fractions,
rounded half-up to :data:`PLACES` decimals only at the end. docs/rule605.md
("Execution-quality statistics") gives each formula and its source:

* legacy reports follow the convention of Barron's analysis of 605 files: per row, net price
  improvement = 100 x (improved shares x average improvement - outside shares x average
  amount outside), in cents, over the row's executed shares (at the market center + away);
  across rows, the sum of numerators over the sum of executed shares; the quoted spread of a
  row is its effective spread + 2 x its net improvement per share, and E/Q is the
  share-weighted effective spread over the share-weighted quoted spread;
* amended detailed reports are aggregated the same way from their own fields (their quoted
  spread is reported, not derived; realized spread at 1 minute);
* amended summary reports carry no order or share counts, so each row is one statistics row
  (its percentages turned into dollars and cents with its average midpoint) and is never
  combined with another.

Order types and sizes are named (:func:`order_type_name`, :func:`size_label`), not coded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal

from pfof.errors import InputError
from pfof.model.money import round_half_up

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

Format605 = Literal["legacy", "detailed", "summary"]

#: Decimals of every ratio (the amended reports' precision); sums are exact.
PLACES = 6

#: Legacy order-type codes (field 5) -> names.
LEGACY_ORDER_TYPE_NAMES: dict[int, str] = {
    11: "market",
    12: "marketable_limit",
    13: "inside_quote_limit",
    14: "at_quote_limit",
    15: "near_quote_limit",
}

#: Amended order-type codes (detailed: five letters market/limit, marketable, midpoint or
#: better, IOC, stop; summary: ``M``/``ML``) -> names. An unknown code is kept as written.
AMENDED_ORDER_TYPE_NAMES: dict[str, str] = {
    "MXXNN": "market",
    "LYNNN": "marketable_limit",
    "LYNYN": "marketable_limit_ioc",
    "LNYNN": "midpoint_or_better_limit",
    "LNYYN": "midpoint_or_better_limit_ioc",
    "LNNNN": "executable_nonmarketable_limit",
    "LNNYN": "executable_nonmarketable_limit_ioc",
    "MXXNY": "stop_market",
    "LYNNY": "stop_marketable_limit",
    "LNNNY": "stop_nonmarketable_limit",
    "M": "market",
    "ML": "marketable_limit",
}

#: Order types of the market-center and venue aggregates: market and marketable limit orders
#: (neither IOC nor stop), the orders the 605(a)(2) summary report covers.
MARKETABLE_TYPES: tuple[str, ...] = ("market", "marketable_limit")

#: Legacy order-size codes (field 6) -> share-range labels (orders of 10,000 shares or more
#: are not covered, so 24 is 5,000-9,999 shares).
LEGACY_SIZE_LABELS: dict[int, str] = {
    21: "100-499",
    22: "500-1999",
    23: "2000-4999",
    24: "5000-9999",
}

#: Amended notional order-size codes -> dollar-range labels ([low, high) in dollars);
#: 199999 is the summary report's row of every order below $200,000 (in the report's order).
NOTIONAL_SIZE_LABELS: dict[int, str] = {
    0: "<250",
    250: "250-1000",
    1000: "1000-5000",
    5000: "5000-10000",
    10000: "10000-20000",
    20000: "20000-50000",
    50000: "50000-200000",
    199999: "<200000",
    200000: ">=200000",
}

#: Keys of one statistics row (``pfof rule605 summary --json``), in order.
STAT_KEYS: tuple[str, ...] = (
    "file",
    "format",
    "market_center",
    "month",
    "order_type",
    "size",
    "sp500",
    "orders",
    "shares",
    "executed_shares",
    "net_price_improvement_cents_per_share",
    "eq_ratio",
    "pct_improved",
    "pct_at_quote",
    "pct_outside",
    "avg_effective_spread",
    "avg_realized_spread",
)

#: Keys of one market-center row (``pfof market-centers --json``), in order.
MARKET_CENTER_KEYS: tuple[str, ...] = (
    "market_center",
    "month",
    "format",
    *STAT_KEYS[STAT_KEYS.index("orders") :],
)


def order_type_name(fmt: str, code: int | str) -> str:
    """The name of an order-type code of format ``fmt`` (unknown codes as written).

    >>> order_type_name("legacy", 11), order_type_name("detailed", "LYNNN")
    ('market', 'marketable_limit')
    """
    if fmt == "legacy":
        return LEGACY_ORDER_TYPE_NAMES.get(int(code), str(code))
    return AMENDED_ORDER_TYPE_NAMES.get(str(code), str(code))


def size_label(fmt: str, code: int) -> str:
    """The label of an order-size code: shares for legacy reports, dollars for amended ones.

    >>> size_label("legacy", 21), size_label("summary", 250), size_label("detailed", 200000)
    ('100-499', '250-1000', '>=200000')
    """
    labels = LEGACY_SIZE_LABELS if fmt == "legacy" else NOTIONAL_SIZE_LABELS
    return labels.get(int(code), str(code))


def month_label(yyyymm: int) -> str:
    """``YYYYMM`` as ``YYYY-MM``.

    >>> month_label(201612)
    '2016-12'
    """
    return f"{yyyymm // 100:04d}-{yyyymm % 100:02d}"


# ---------------------------------------------------------------- SQL: per-row terms, group sums

#: Exact types the sums use: share quantities, then dollar figures (the readers accept at most
#: 12 decimals; the reports write at most 6). A product has 14 digits before the point.
_Q = "DECIMAL(24, 12)"
_A = "DECIMAL(22, 12)"


def _q(column: str) -> str:
    return f"CAST({column} AS {_Q})"


def _a(column: str) -> str:
    return f"CAST({column} AS {_A})"


@dataclass(frozen=True, slots=True)
class _Fields:
    """Where a format keeps what the statistics need (column names of its record type)."""

    market_center: str
    month: str
    sp500: str
    orders: str
    shares: str
    executed: tuple[str, str]
    improved: str
    improved_amount: str
    at_quote: str
    outside: str
    outside_amount: str
    effective: str
    quoted: str | None  # None: derived from effective spread and net improvement (Barron's)
    realized: str


_FIELDS: dict[str, _Fields] = {
    "legacy": _Fields(
        market_center="market_center",
        month="yyyymm",
        sp500="CAST(NULL AS BOOLEAN)",
        orders="covered_orders",
        shares="covered_shares",
        executed=("exec_shares_mc", "exec_shares_away"),
        improved="pi_shares",
        improved_amount="pi_avg_amount",
        at_quote="atq_shares",
        outside="otq_shares",
        outside_amount="otq_avg_amount",
        effective="avg_effective_spread",
        quoted=None,
        realized="avg_realized_spread",
    ),
    "detailed": _Fields(
        market_center="entity",
        month="rpt_date",
        sp500="CAST(NULL AS BOOLEAN)",
        orders="covered_orders",
        shares="covered_qty",
        executed=("executed_qty", "executed_away_qty"),
        improved="pi_qty",
        improved_amount="pi_avg_amount",
        at_quote="at_quote_qty",
        outside="outside_quote_qty",
        outside_amount="outside_quote_avg_amount",
        effective="avg_effective_spread",
        quoted="avg_quoted_spread",
        realized="realized_spread_1m",
    ),
}


def _terms_sql(fmt: str, source: str, file_key: str) -> str:
    """Per-row terms of a legacy or detailed relation ``source``: the group columns and the
    exact products the statistics sum (``num``: net improvement in dollars x shares, ``xq``:
    quoted spread x executed shares)."""
    f = _FIELDS[fmt]
    x = f"(coalesce({_q(f.executed[0])}, 0) + coalesce({_q(f.executed[1])}, 0))"
    num = (
        f"(coalesce({_q(f.improved)}, 0) * coalesce({_a(f.improved_amount)}, 0) "
        f"- coalesce({_q(f.outside)}, 0) * coalesce({_a(f.outside_amount)}, 0))"
    )
    eff = _a(f.effective)
    if f.quoted is None:  # Barron's: quoted = effective + 2 x net improvement per share
        xq = (
            f"CASE WHEN {f.improved} IS NOT NULL AND {eff} IS NOT NULL "
            f"THEN {x} * {eff} + 2 * {num} END"
        )
    else:
        xq = f"CASE WHEN {eff} IS NOT NULL THEN {x} * {_a(f.quoted)} END"
    return f"""
SELECT {file_key} AS file_key, participant, {f.market_center} AS market_center,
       {f.month} AS month, CAST(order_type AS VARCHAR) AS order_type, order_size,
       {f.sp500} AS sp500, {f.orders} AS orders, {_q(f.shares)} AS shares, {x} AS x,
       {f.improved} IS NOT NULL AS has_pi, {_q(f.improved)} AS pi, {_q(f.at_quote)} AS atq,
       {_q(f.outside)} AS otq, {num} AS num, {eff} AS eff, {xq} AS xq,
       {_a(f.realized)} AS rs
FROM {source}"""


#: The group sums every statistic is a ratio of.
_SUMS = """
       sum(orders) AS orders, sum(shares) AS shares, sum(x) AS executed_shares,
       sum(x) FILTER (WHERE has_pi) AS net_pi_shares,
       sum(pi) FILTER (WHERE has_pi) AS improved_shares,
       sum(atq) FILTER (WHERE has_pi) AS at_quote_shares,
       sum(otq) FILTER (WHERE has_pi) AS outside_shares,
       sum(num) FILTER (WHERE has_pi) AS net_pi_numerator,
       sum(x) FILTER (WHERE eff IS NOT NULL) AS effective_shares,
       sum(x * eff) AS effective_sum,
       sum(x * eff) FILTER (WHERE x <> 0 AND xq <> 0) AS eq_effective,
       sum(xq) FILTER (WHERE x <> 0 AND xq <> 0) AS eq_quoted,
       sum(x) FILTER (WHERE rs IS NOT NULL) AS realized_shares,
       sum(x * rs) AS realized_sum"""


def _sums_sql(terms: str, keys: Sequence[str], where: str = "TRUE") -> str:
    key_list = ", ".join(keys)
    return (
        f"SELECT {key_list},{_SUMS}\nFROM ({terms}) AS t\nWHERE {where}\n"
        f"GROUP BY {key_list}\nORDER BY {key_list}"
    )


def _ratio(num: Decimal | int | None, den: Decimal | int | None) -> Decimal | None:
    """num / den rounded half-up to :data:`PLACES` decimals, exactly; None without a divisor."""
    if num is None or den is None or den == 0:
        return None
    return round_half_up(Fraction(num) / Fraction(den), PLACES)


def _exact(value: Decimal | int | None) -> Decimal | None:
    """A sum as an exact decimal without trailing zeros (``63500.000000`` -> ``63500``)."""
    if value is None:
        return None
    with localcontext(prec=80):  # a DECIMAL(38, s) sum keeps every digit
        out = Decimal(value)
        if out == out.to_integral_value():
            return out.quantize(Decimal(1))
        return out.normalize()


def _statistics(s: dict[str, Any]) -> dict[str, Decimal | int | None]:
    """The statistics of one group, from its sums."""
    base = s["net_pi_shares"]
    num = s["net_pi_numerator"]
    return {
        "orders": s["orders"],
        "shares": _exact(s["shares"]),
        "executed_shares": _exact(s["executed_shares"]),
        "net_price_improvement_cents_per_share": _ratio(None if num is None else 100 * num, base),
        "eq_ratio": _ratio(s["eq_effective"], s["eq_quoted"]),
        "pct_improved": _ratio(s["improved_shares"], base),
        "pct_at_quote": _ratio(s["at_quote_shares"], base),
        "pct_outside": _ratio(s["outside_shares"], base),
        "avg_effective_spread": _ratio(s["effective_sum"], s["effective_shares"]),
        "avg_realized_spread": _ratio(s["realized_sum"], s["realized_shares"]),
    }


def _summary_sql(source: str, file_key: str) -> str:
    return f"""
SELECT {file_key} AS file_key, participant, entity AS market_center, rpt_date AS month,
       order_type, order_size, sp500, avg_midpoint, pct_at_quote_or_better,
       pct_price_improved, avg_pct_price_improvement, avg_effective_spread_pct,
       avg_quoted_spread_pct, avg_eq_ratio, realized_spread_pct_1m
FROM {source}"""


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _summary_eq(reported: Decimal | None, derived: Fraction | None) -> Fraction | None:
    """A summary row's E/Q ratio: as reported, divided by 100 when the filer wrote percent
    points (the value is nearer 100x the ratio of its own effective and quoted spreads than
    the ratio itself); the derived ratio when none is reported."""
    if reported is None:
        return derived
    value = Fraction(reported)
    if derived is not None and abs(value - 100 * derived) < abs(value - derived):
        return value / 100
    return value


def summary_statistics(row: dict[str, Any]) -> dict[str, Decimal | int | None]:
    """The statistics of one summary-report row (its fields by record attribute name).

    The row is share-weighted over its own executions, so its percentages of the midpoint
    times its average midpoint are dollars per share exactly; it has no order or share counts.

    >>> from decimal import Decimal as D
    >>> s = summary_statistics({"avg_midpoint": D("20"), "pct_at_quote_or_better": D("0.9"),
    ...     "pct_price_improved": D("0.5"), "avg_pct_price_improvement": D("0.0001"),
    ...     "avg_effective_spread_pct": D("0.0004"), "avg_quoted_spread_pct": D("0.0005"),
    ...     "avg_eq_ratio": D("80"), "realized_spread_pct_1m": None})
    >>> s["net_price_improvement_cents_per_share"], s["eq_ratio"], s["pct_outside"]
    (Decimal('0.200000'), Decimal('0.800000'), Decimal('0.100000'))
    """
    mid = _dec(row["avg_midpoint"])
    at_or_better = _dec(row["pct_at_quote_or_better"])
    improved = _dec(row["pct_price_improved"])
    eff_pct = _dec(row["avg_effective_spread_pct"])
    quoted_pct = _dec(row["avg_quoted_spread_pct"])

    def dollars(pct: Any, scale: int = 1) -> Decimal | None:
        if pct is None or mid is None:
            return None
        return round_half_up(Fraction(pct) * Fraction(mid) * scale, PLACES)

    derived = (
        Fraction(eff_pct) / Fraction(quoted_pct) if eff_pct is not None and quoted_pct else None
    )
    eq = _summary_eq(_dec(row["avg_eq_ratio"]), derived)
    return {
        "orders": None,
        "shares": None,
        "executed_shares": None,
        "net_price_improvement_cents_per_share": dollars(row["avg_pct_price_improvement"], 100),
        "eq_ratio": None if eq is None else round_half_up(eq, PLACES),
        "pct_improved": None if improved is None else round_half_up(improved, PLACES),
        "pct_at_quote": (
            None
            if improved is None or at_or_better is None
            else round_half_up(Fraction(at_or_better) - Fraction(improved), PLACES)
        ),
        "pct_outside": (
            None if at_or_better is None else round_half_up(1 - Fraction(at_or_better), PLACES)
        ),
        "avg_effective_spread": dollars(eff_pct),
        "avg_realized_spread": dollars(row["realized_spread_pct_1m"]),
    }


# ---------------------------------------------------------------- running the queries

Value = str | bool | None
#: One statistics row: keys of :data:`STAT_KEYS`, numbers as exact decimal strings.
StatRow = dict[str, Value]


def _text(value: Decimal | int | None) -> str | None:
    if value is None:
        return None
    return str(value) if isinstance(value, int) else f"{value:f}"


def _records(cursor: duckdb.DuckDBPyConnection) -> Iterator[dict[str, Any]]:
    names = [d[0] for d in cursor.description or ()]
    for values in cursor.fetchall():
        yield dict(zip(names, values, strict=True))


def _query(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    import duckdb

    try:
        return list(_records(con.execute(sql)))
    except (
        duckdb.OutOfRangeException,
        duckdb.ConversionException,
    ) as exc:  # a figure too large for the exact types
        raise InputError(
            "Rule 605 figures too large to sum exactly (share quantities of 10^12 or more, "
            f"dollar figures of 10^10 or more, or sums of their products past 10^14): {exc}"
        ) from exc


def _grouped(
    con: duckdb.DuckDBPyConnection,
    fmt: str,
    source: str,
    keys: Sequence[str],
    *,
    file_key: str = "NULL",
    where: str = "TRUE",
) -> list[tuple[dict[str, Any], dict[str, Decimal | int | None]]]:
    """(group keys, statistics) of each group of a relation of format ``fmt``."""
    if fmt == "summary":
        rows = _query(con, _summary_sql(source, file_key) + f"\nWHERE {where}")
        return [(row, summary_statistics(row)) for row in rows]
    rows = _query(con, _sums_sql(_terms_sql(fmt, source, file_key), keys, where))
    return [(row, _statistics(row)) for row in rows]


def _stat_row(fmt: str, file: str | None, key: dict[str, Any], stats: dict[str, Any]) -> StatRow:
    out: StatRow = {
        "file": file,
        "format": fmt,
        "market_center": key["market_center"],
        "month": month_label(int(key["month"])),
        "order_type": order_type_name(fmt, key["order_type"]),
        "size": size_label(fmt, key["order_size"]),
        "sp500": key["sp500"],
    }
    out.update({name: _text(value) for name, value in stats.items()})
    return out


#: The group of a file's statistics row.
_FILE_KEYS = ("file_key", "market_center", "month", "order_type", "order_size", "sp500")


def file_statistics(fmt: Format605, data: Any, *, file: str) -> list[StatRow]:
    """The statistics of one Rule 605 file, one row per market center, month, order type,
    size (and S&P 500 flag), aggregated over symbols.

    ``data`` holds the file's records as Arrow (a ``pyarrow.Table``, a
    ``RecordBatchReader`` or anything else DuckDB scans) with the record attribute names of
    :mod:`pfof.model.records605` as column names; it is read once, as a stream.

    >>> import pyarrow as pa
    >>> row = dict(participant="T", market_center="TVIRT", yyyymm=201612, symbol="A",
    ...     order_type=11, order_size=21, covered_orders=2, covered_shares=300,
    ...     cancelled_shares=0, exec_shares_mc=300, exec_shares_away=0,
    ...     avg_realized_spread=0.01, avg_effective_spread=0.02, pi_shares=200,
    ...     pi_avg_amount=0.01, atq_shares=100, otq_shares=0, otq_avg_amount=0)
    >>> [s] = file_statistics("legacy", pa.Table.from_pylist([row]), file="f.txt")
    >>> s["order_type"], s["size"], s["net_price_improvement_cents_per_share"], s["eq_ratio"]
    ('market', '100-499', '0.666667', '0.600000')
    """
    import duckdb

    con = duckdb.connect()
    try:
        con.register("src605", data)
        groups = _grouped(con, fmt, "src605", _FILE_KEYS)
    finally:
        con.close()
    rows = [_stat_row(fmt, file, key, stats) for key, stats in groups]
    return sorted(rows, key=_stat_order)


def _stat_order(row: StatRow) -> tuple[Any, ...]:
    """Rows by file, market center, month, then the report's order of types and sizes."""
    fmt = row["format"]
    types = list(LEGACY_ORDER_TYPE_NAMES.values()) + list(AMENDED_ORDER_TYPE_NAMES.values())
    sizes = list((LEGACY_SIZE_LABELS if fmt == "legacy" else NOTIONAL_SIZE_LABELS).values())
    kind, size = row["order_type"], row["size"]
    return (
        str(row["file"] or ""),
        str(row["market_center"]),
        str(row["month"]),
        row["sp500"] is not True,  # S&P 500 first, as in the summary report
        types.index(kind) if kind in types else len(types),
        str(kind),
        sizes.index(size) if size in sizes else len(sizes),
        str(size),
    )


# ---------------------------------------------------------------- the store

#: Store tables of the reported rows, by format (``sha256`` + the record attribute names).
STORE_TABLES: dict[str, str] = {
    "legacy": "rows_605_legacy",
    "detailed": "rows_605_detailed",
    "summary": "rows_605_summary",
}


def _stored_formats(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Formats whose row table exists in the store (an older store has none)."""
    present = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    return [fmt for fmt, table in STORE_TABLES.items() if table in present]


def _marketable_codes(fmt: str) -> str:
    """SQL list of the order-type codes of :data:`MARKETABLE_TYPES` in format ``fmt``."""
    if fmt == "legacy":
        codes = [str(c) for c, n in LEGACY_ORDER_TYPE_NAMES.items() if n in MARKETABLE_TYPES]
    else:
        codes = [c for c, n in AMENDED_ORDER_TYPE_NAMES.items() if n in MARKETABLE_TYPES]
    return "(" + ", ".join(f"'{c}'" for c in codes) + ")"


def store_file_statistics(con: duckdb.DuckDBPyConnection) -> list[StatRow]:
    """:func:`file_statistics` of every Rule 605 file in the store (``file`` is its stored
    path), read from the store's tables."""
    formats = _stored_formats(con)
    if not formats:
        return []
    paths = dict(con.execute("SELECT sha256, path FROM sources_605").fetchall())
    rows: list[StatRow] = []
    for fmt in formats:
        for key, stats in _grouped(con, fmt, STORE_TABLES[fmt], _FILE_KEYS, file_key="sha256"):
            rows.append(_stat_row(fmt, paths.get(key["file_key"]), key, stats))
    return sorted(rows, key=_stat_order)


def market_center_statistics(con: duckdb.DuckDBPyConnection) -> list[StatRow]:
    """The statistics of each market center and month in the store (keys of
    :data:`MARKET_CENTER_KEYS`), over the market and marketable limit orders of its legacy
    and detailed reports, all symbols and sizes.

    Summary reports are left out: they carry no share counts to weight their rows by."""
    rows: list[StatRow] = []
    for fmt in _stored_formats(con):
        if fmt == "summary":
            continue
        where = f"order_type IN {_marketable_codes(fmt)}"
        groups = _grouped(con, fmt, STORE_TABLES[fmt], ("market_center", "month"), where=where)
        for key, stats in groups:
            row: StatRow = {
                "market_center": key["market_center"],
                "month": month_label(int(key["month"])),
                "format": fmt,
            }
            row.update({name: _text(value) for name, value in stats.items()})
            rows.append(row)
    return sorted(rows, key=lambda r: (str(r["market_center"]), str(r["month"]), str(r["format"])))


#: Columns of :func:`venue_quality`, in order, with their Arrow types (see its docstring).
VENUE_QUALITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("participant", "string"),
    ("market_center", "string"),
    ("month", "string"),
    ("format", "string"),
    ("order_type", "string"),
    ("sp500", "bool"),
    ("orders", "int64"),
    ("shares", "decimal"),
    ("executed_shares", "decimal"),
    ("net_pi_shares", "decimal"),
    ("net_pi_numerator_cents", "decimal"),
    ("net_price_improvement_cents_per_share", "decimal"),
    ("eq_ratio", "decimal"),
    ("pct_improved", "decimal"),
    ("pct_at_quote", "decimal"),
    ("pct_outside", "decimal"),
    ("avg_effective_spread", "decimal"),
    ("avg_realized_spread", "decimal"),
)
#: Arrow type of the ``decimal`` columns of :func:`venue_quality`.
VENUE_DECIMAL = (38, 16)


def venue_quality(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Each stored venue's execution quality by month, order type and S&P 500 flag, over all
    symbols and order sizes, for weighting by a broker's routing.

    One row per (participant, market_center, month, order_type, sp500), in that order:

    ======================================  ==========  =========================================
    column                                  type        meaning
    ======================================  ==========  =========================================
    participant                             string      designated participant code (``T``, ...)
    market_center                           string      legacy market-center code (``TVIRT``) or
                                                        amended ``RprtEntityCd``
    month                                   string      ``YYYY-MM``
    format                                  string      ``legacy``, ``detailed`` or ``summary``
    order_type                              string      name (:func:`order_type_name`:
                                                        ``market``, ``marketable_limit``, ...)
    sp500                                   bool        S&P 500 flag; null: the format has none
                                                        (legacy, detailed)
    orders                                  int64       covered orders
    shares                                  decimal     covered shares
    executed_shares                         decimal     shares executed, at the center + away
    net_pi_shares                           decimal     executed shares of the rows with the
                                                        improved/at/outside split (the divisor)
    net_pi_numerator_cents                  decimal     sum over rows of 100 x (improved shares x
                                                        avg improvement - outside shares x avg
                                                        amount outside), cents x shares
    net_price_improvement_cents_per_share   decimal     net_pi_numerator_cents / net_pi_shares
    eq_ratio                                decimal     share-weighted effective / quoted spread
    pct_improved, pct_at_quote,             decimal     fractions of net_pi_shares (0.25 = 25 %)
    pct_outside
    avg_effective_spread                    decimal     share-weighted, dollars per share
    avg_realized_spread                     decimal     share-weighted, dollars per share
                                                        (legacy 5 min, amended 1 min)
    ======================================  ==========  =========================================

    Decimal columns are ``decimal128(38, 16)``: the sums exact (to 16 decimals: exact for
    the 6-decimal figures the reports write), the ratios rounded half-up to :data:`PLACES`
    decimals. Legacy and detailed rows cover every order type of the report.
    Summary reports (no share counts: ``orders`` to ``net_pi_numerator_cents`` are null) give
    their all-sizes-below-$200,000 row (``OrderSize`` 199999), and only for a market center
    and month without a legacy or detailed report in the store. An empty table (with these
    columns) when the store holds no Rule 605 rows.

    >>> import pfof
    >>> venue_quality(pfof.connect(":memory:")).column_names[:6]
    ['participant', 'market_center', 'month', 'format', 'order_type', 'sp500']
    """
    import pyarrow as pa

    rows: list[dict[str, Any]] = []
    formats = _stored_formats(con)
    covered: set[tuple[str, int]] = set()
    keys = ("participant", "market_center", "month", "order_type", "sp500")
    for fmt in formats:
        if fmt == "summary":
            continue
        for key, stats in _grouped(con, fmt, STORE_TABLES[fmt], keys):
            covered.add((key["market_center"], int(key["month"])))
            num = key["net_pi_numerator"]
            rows.append(
                {
                    **_venue_key(fmt, key),
                    **stats,
                    "net_pi_shares": _exact(key["net_pi_shares"]),
                    "net_pi_numerator_cents": (None if num is None else _exact(100 * num)),
                }
            )
    if "summary" in formats:
        for key, stats in _grouped(
            con, "summary", STORE_TABLES["summary"], keys, where="order_size = 199999"
        ):
            if (key["market_center"], int(key["month"])) in covered:
                continue
            rows.append({**_venue_key("summary", key), **stats})
    decimal = pa.decimal128(*VENUE_DECIMAL)
    types = {"string": pa.string(), "bool": pa.bool_(), "int64": pa.int64(), "decimal": decimal}
    schema = pa.schema([(name, types[kind]) for name, kind in VENUE_QUALITY_COLUMNS])
    rows.sort(key=lambda r: tuple(str(r[k]) for k in keys))
    places = VENUE_DECIMAL[1]

    def cell(value: Any) -> Any:  # a sum of 12-decimal figures may carry 24 decimals
        return round_half_up(value, places) if isinstance(value, Decimal) else value

    return pa.Table.from_pylist(
        [{name: cell(r.get(name)) for name, _ in VENUE_QUALITY_COLUMNS} for r in rows],
        schema=schema,
    )


def _venue_key(fmt: str, key: dict[str, Any]) -> dict[str, Any]:
    return {
        "participant": key["participant"],
        "market_center": key["market_center"],
        "month": month_label(int(key["month"])),
        "format": fmt,
        "order_type": order_type_name(fmt, key["order_type"]),
        "sp500": key["sp500"],
    }
