"""An investor's trades from the trades template (CSV or Parquet) into ``INVESTOR_TRADES``.

The template (docs/audit.md) has the columns ``trade_id, symbol, side, quantity, price,
order_time, execution_time, order_type, limit_price, broker, venue``; ``trade_id``,
``symbol``, ``side``, ``quantity``, ``price`` and ``order_time`` are required (a row with only
an ``execution_time`` is read, and the audit flags it). Header names match case-insensitively;
another layout is read through a column map (``{"symbol": "Ticker", ...}``). Times are
ISO 8601 with a UTC offset (``2022-05-10T10:11:12.8006387-04:00``, up to nanoseconds); a time
without one is read in ``tz`` when given and refused otherwise. Quantities and prices are
exact decimals (a float Parquet column is read as the shortest decimal that prints it).

A row that cannot be read becomes an :class:`~pfof.errors.Issue` naming its line (the row
number for Parquet), column and reason, and the other rows are read; a file that cannot be
read at all (missing, not CSV or Parquet, a required column absent) raises
:class:`~pfof.errors.InputError`.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa

from pfof.errors import InputError, Issue, IssueVerdict, ParameterError, Severity
from pfof.model.option_symbols import canonical_symbol
from pfof.model.trade_records import INVESTOR_TRADES, TradeOrderType

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "TEMPLATE_COLUMNS",
    "TradesFile",
    "TradesSource",
    "parse_column_map",
    "parse_time_ns",
    "read_symbols",
    "read_trades",
    "zone",
]

TEMPLATE_COLUMNS = (
    "trade_id",
    "symbol",
    "side",
    "quantity",
    "price",
    "order_time",
    "execution_time",
    "order_type",
    "limit_price",
    "broker",
    "venue",
)
REQUIRED_COLUMNS = ("trade_id", "symbol", "side", "quantity", "price", "order_time")
OPTIONAL_COLUMNS = tuple(c for c in TEMPLATE_COLUMNS if c not in REQUIRED_COLUMNS)
#: Decimals kept exactly (``model.trade_records.TRADE_DECIMAL``).
MAX_DECIMALS = 12

#: A path, the file's bytes, or an open file (binary or text).
TradesSource = str | os.PathLike[str] | bytes | IO[bytes] | IO[str]
Format = Literal["csv", "parquet"]

_SIDES = {
    **dict.fromkeys(
        ("buy", "b", "bot", "bought", "buy to open", "buy to close", "bto", "btc"), "buy"
    ),
    **dict.fromkeys(
        (
            "sell",
            "s",
            "sld",
            "sold",
            "sell short",
            "short",
            "ss",
            "sell to open",
            "sell to close",
            "sto",
            "stc",
        ),
        "sell",
    ),
}
_ORDER_TYPES = {
    **dict.fromkeys(("market", "mkt"), TradeOrderType.MARKET),
    **dict.fromkeys(("limit", "lmt", "lim"), TradeOrderType.LIMIT),
    "marketable limit": TradeOrderType.MARKETABLE_LIMIT,
    **dict.fromkeys(
        ("non marketable limit", "nonmarketable limit"), TradeOrderType.NON_MARKETABLE_LIMIT
    ),
    **dict.fromkeys(("stop", "stp", "stop loss"), TradeOrderType.STOP),
    **dict.fromkeys(("stop limit", "stp lmt", "stop lmt"), TradeOrderType.STOP_LIMIT),
    "other": TradeOrderType.OTHER,
}
_DECIMAL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")
_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_EPOCH = date(1970, 1, 1).toordinal()
_NS = 1_000_000_000


class _UtcNs(int):
    """UTC nanoseconds read from a Parquet timestamp column (a plain number is no time)."""


class RowError(ValueError):
    """One cell that cannot be read: the column and the reason."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True, slots=True)
class TradesFile(IssueVerdict):
    """The trades read from one file (``INVESTOR_TRADES``) and the rows that could not be.

    ``issues`` holds an error per unreadable row (that row is left out) and warnings for
    rows read with a caveat (an unknown order type read as ``other``, a repeated trade id).
    """

    source: str
    table: pa.Table
    issues: tuple[Issue, ...]


def zone(tz: str | None) -> ZoneInfo | None:
    """The IANA time zone ``tz`` (``None`` stays ``None``); raises ParameterError if unknown."""
    if tz is None:
        return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ParameterError(
            f"unknown time zone {tz!r}: expected an IANA name such as America/New_York or UTC"
        ) from exc


def parse_column_map(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"symbol=Ticker,side=Action"`` (or a mapping) as ``{template column: file column}``.

    Raises :class:`~pfof.errors.ParameterError` for an entry without ``=`` or a key that is not
    a template column.
    """
    if text is None:
        return {}
    if isinstance(text, Mapping):
        pairs = list(text.items())
    else:
        pairs = []
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            key, sep, value = entry.partition("=")
            if not sep or not key.strip() or not value.strip():
                raise ParameterError(
                    f"column map entry {entry!r}: expected TEMPLATE_COLUMN=FILE_COLUMN, "
                    "e.g. symbol=Ticker"
                )
            pairs.append((key, value))
    out: dict[str, str] = {}
    for key, value in pairs:
        name = key.strip().lower()
        if name not in TEMPLATE_COLUMNS:
            raise ParameterError(
                f"column map: {key!r} is not a trades template column; expected one of "
                f"{', '.join(TEMPLATE_COLUMNS)}"
            )
        out[name] = str(value).strip()
    return out


def parse_time_ns(value: Any, tz: ZoneInfo | None) -> int:
    """UTC nanoseconds since the epoch of an ISO 8601 string or a ``datetime``.

    A time with an offset (``Z``, ``+02:00``, ``-0400``) is exact; one without is read as wall
    time in ``tz`` (the earlier of two readings of a repeated autumn hour) and refused
    without it. Fractions of a second keep up to 9 digits.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            if tz is None:
                raise ValueError(
                    f"{value.isoformat()} has no UTC offset and no time zone was given"
                )
            value = value.replace(tzinfo=tz)
        delta = value.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
        return (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1_000
    text = str(value).strip()
    match = _ISO.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not an ISO 8601 time; expected e.g. 2022-05-10T10:11:12.8-04:00"
        )
    y, mo, d, h, mi, s, frac, offset = match.groups()
    try:
        day = date(int(y), int(mo), int(d))
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    hour, minute, second = int(h), int(mi), int(s or 0)
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"{text!r}: the time of day is out of range")
    nanos = int((frac or "").ljust(9, "0"))
    if offset is None:
        if tz is None:
            raise ValueError(
                f"{text!r} has no UTC offset; write one (…-04:00, …Z) or give the time zone"
            )
        wall = datetime(day.year, day.month, day.day, hour, minute, min(second, 59), tzinfo=tz)
        off = wall.utcoffset() or timedelta(0)
        offset_s = off.days * 86_400 + off.seconds
    elif offset.upper() == "Z":
        offset_s = 0
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        oh, om = int(digits[:2]), int(digits[2:4] or 0)
        if oh > 23 or om > 59:
            raise ValueError(f"{text!r}: the UTC offset is out of range")
        offset_s = sign * (oh * 3600 + om * 60)
    seconds = (day.toordinal() - _EPOCH) * 86_400 + hour * 3600 + minute * 60 + second
    return (seconds - offset_s) * _NS + nanos


def _decimal(value: Any, column: str, *, positive: bool = True) -> Decimal:
    if isinstance(value, bool):
        raise RowError(column, f"{value!r} is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))  # the shortest decimal that prints this float
    else:
        text = str(value).strip().removeprefix("$").strip()
        if not _DECIMAL.match(text):
            raise RowError(column, f"{value!r} is not a decimal number")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise RowError(column, f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise RowError(column, f"{value!r} is not a finite number")
    if positive and number <= 0:
        raise RowError(column, f"{value!r} must be a positive number")
    exponent = number.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise RowError(column, f"{value!r} has more than {MAX_DECIMALS} decimals")
    if number.adjusted() >= 38 - MAX_DECIMALS:
        raise RowError(column, f"{value!r} is too large")
    return number


_canonical = lru_cache(maxsize=4096)(canonical_symbol)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    return str(value).strip()


@lru_cache(maxsize=1024)
def _words(value: str) -> str:
    """Lower-case words separated by one space: ``"Sell_Short "`` -> ``"sell short"``."""
    return " ".join(re.split(r"[\s_\-]+", value.strip().lower())).strip()


def _resolve_columns(header: list[str], mapping: Mapping[str, str], source: str) -> dict[str, str]:
    """Template column -> the file's header for it (matched case-insensitively)."""
    by_lower: dict[str, str] = {}
    for name in header:
        by_lower.setdefault(name.strip().lower(), name)
    names: dict[str, str] = {}
    for column in TEMPLATE_COLUMNS:
        wanted = mapping.get(column, column)
        found = by_lower.get(wanted.strip().lower())
        if found is not None:
            names[column] = found
        elif column in mapping:
            raise InputError(
                f"{source}: the column map names {wanted!r} for {column}, but the file has no "
                f"such column (columns: {', '.join(header) or 'none'})"
            )
    missing = [c for c in REQUIRED_COLUMNS if c not in names and c != "order_time"]
    if "order_time" not in names and "execution_time" not in names:
        missing.append("order_time")
    if missing:
        raise InputError(
            f"{source}: missing required column(s) {', '.join(missing)}; the file has "
            f"{', '.join(header) or 'no columns'} (map other names with --map "
            "symbol=Ticker,...)"
        )
    return names


_Parser = Callable[[Any, ZoneInfo | None], Any]


def _parsers() -> dict[str, _Parser]:
    def required_text(column: str) -> _Parser:
        def parse(value: Any, _tz: ZoneInfo | None) -> str:
            if _blank(value):
                raise RowError(column, f"{column} is empty")
            return _text(value)

        return parse

    def symbol(value: Any, _tz: ZoneInfo | None) -> str:
        if _blank(value):
            raise RowError("symbol", "symbol is empty")
        return _canonical(_text(value))

    def side(value: Any, _tz: ZoneInfo | None) -> str:
        if _blank(value):
            raise RowError("side", "side is empty")
        found = _SIDES.get(_words(str(value)))
        if found is None:
            raise RowError("side", f"{_text(value)!r} is not a side; expected buy or sell")
        return found

    def amount(column: str, required: bool) -> _Parser:
        def parse(value: Any, _tz: ZoneInfo | None) -> Decimal | None:
            if _blank(value):
                if required:
                    raise RowError(column, f"{column} is empty")
                return None
            return _decimal(value, column)

        return parse

    def time(column: str) -> _Parser:
        def parse(value: Any, tz: ZoneInfo | None) -> int | None:
            if _blank(value):
                return None
            if isinstance(value, _UtcNs):
                return int(value)
            if isinstance(value, int | float):
                raise RowError(
                    column,
                    f"{value!r} is a number, not a time; expected ISO 8601 text or a Parquet "
                    "timestamp column",
                )
            try:
                return parse_time_ns(value, tz)
            except ValueError as exc:
                raise RowError(column, str(exc)) from None

        return parse

    def optional_text(value: Any, _tz: ZoneInfo | None) -> str | None:
        return None if _blank(value) else _text(value)

    return {
        "trade_id": required_text("trade_id"),
        "symbol": symbol,
        "side": side,
        "quantity": amount("quantity", True),
        "price": amount("price", True),
        "order_time": time("order_time"),
        "execution_time": time("execution_time"),
        "order_type": optional_text,  # checked in _order_type (a warning, not an error)
        "limit_price": amount("limit_price", False),
        "broker": optional_text,
        "venue": optional_text,
    }


_PARSERS = _parsers()


def _order_type(value: str | None) -> tuple[str | None, str | None]:
    """(order type, warning) of a cell: an unknown type is read as ``other``."""
    if value is None:
        return None, None
    found = _ORDER_TYPES.get(_words(value))
    if found is None:
        return TradeOrderType.OTHER.value, (
            f"order type {value!r} is not market, limit, marketable_limit, "
            "non_marketable_limit, stop, stop_limit or other; read as other"
        )
    return found.value, None


class _Builder:
    """Collects parsed rows column by column, and the issues."""

    def __init__(self, source: str, columns: dict[str, str], tz: ZoneInfo | None) -> None:
        self.source = source
        self.columns = columns
        self.tz = tz
        self.values: dict[str, list[Any]] = {f.name: [] for f in INVESTOR_TRADES}
        self.issues: list[Issue] = []
        self.seen_ids: dict[str, int] = {}

    def issue(self, line: int, column: str, rule: str, message: str, severity: Severity) -> None:
        self.issues.append(
            Issue(
                rule=rule,
                message=message,
                severity=severity,
                line=line,
                column=column,
                file=self.source,
            )
        )

    def add(self, line: int, cells: Mapping[str, Any]) -> None:
        """Parse one row (template column -> cell value), or record why it cannot be read."""
        parsed: dict[str, Any] = {}
        try:
            for column, value in cells.items():
                parsed[column] = _PARSERS[column](value, self.tz)
        except RowError as exc:
            self.issue(line, exc.column, "trade-row", f"{exc}; row skipped", Severity.ERROR)
            return
        if parsed.get("order_time") is None and parsed.get("execution_time") is None:
            self.issue(
                line,
                "order_time",
                "trade-row",
                "order_time is empty and there is no execution_time; row skipped",
                Severity.ERROR,
            )
            return
        order_type, warning = _order_type(parsed.get("order_type"))
        if warning:
            self.issue(line, "order_type", "order-type", warning, Severity.WARNING)
        trade_id = parsed["trade_id"]
        if trade_id in self.seen_ids:
            self.issue(
                line,
                "trade_id",
                "trade-id-repeated",
                f"trade_id {trade_id!r} repeats line {self.seen_ids[trade_id]}; both are audited",
                Severity.WARNING,
            )
        else:
            self.seen_ids[trade_id] = line
        v = self.values
        v["trade_id"].append(trade_id)
        v["symbol"].append(parsed["symbol"])
        v["side"].append(parsed["side"])
        v["quantity"].append(parsed["quantity"])
        v["price"].append(parsed["price"])
        v["order_ts"].append(parsed.get("order_time"))
        v["execution_ts"].append(parsed.get("execution_time"))
        v["order_type"].append(order_type)
        v["limit_price"].append(parsed.get("limit_price"))
        v["broker"].append(parsed.get("broker"))
        v["venue"].append(parsed.get("venue"))
        v["line"].append(line)

    def result(self) -> TradesFile:
        arrays = [pa.array(self.values[f.name], type=f.type) for f in INVESTOR_TRADES]
        table = pa.Table.from_arrays(arrays, schema=INVESTOR_TRADES)
        return TradesFile(self.source, table, tuple(self.issues))


def _source_name(source: TradesSource, name: str | None) -> str:
    if name:
        return name
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    if isinstance(source, bytes | bytearray):
        return "<bytes>"
    return str(getattr(source, "name", "<stream>"))


def _load_bytes(source: TradesSource, name: str) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise InputError(
                f"{name}: is a folder; expected a CSV or Parquet trades file"
            ) from None
        except OSError as exc:
            raise InputError(f"{name}: cannot be read: {exc.strerror or exc}") from exc
    data = source.read()
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def _detect(data: bytes, name: str, fmt: str | None) -> Format:
    if fmt is not None:
        if fmt not in ("csv", "parquet"):
            raise ParameterError(f"format must be 'csv' or 'parquet', got {fmt!r}")
        return "parquet" if fmt == "parquet" else "csv"
    if data[:4] == b"PAR1":
        return "parquet"
    if name.lower().endswith((".parquet", ".pq")):
        raise InputError(f"{name}: not a Parquet file (no PAR1 magic number)")
    return "csv"


def _csv_rows(data: bytes, name: str) -> Iterator[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name}: not UTF-8 text at byte {exc.start}; expected a CSV or Parquet trades file"
        ) from None
    first = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first:
        delimiter = next((d for d in (";", "\t", "|") if d in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1


def _read_csv(data: bytes, builder_for: Callable[[list[str]], _Builder], name: str) -> TradesFile:
    rows = _csv_rows(data, name)
    header: list[str] | None = None
    for _, row in rows:
        if any(cell.strip() for cell in row):
            header = [cell.strip() for cell in row]
            break
    if header is None:
        raise InputError(f"{name}: empty; expected a header line naming the trades columns")
    builder = builder_for(header)
    first = {h: i for i, h in reversed(list(enumerate(header)))}
    index = {column: first[h] for column, h in builder.columns.items()}
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            builder.issue(
                line,
                "",
                "trade-row",
                f"{len(row)} fields, but the header has {len(header)}; row skipped",
                Severity.ERROR,
            )
            continue
        builder.add(line, {c: row[i] if i < len(row) else None for c, i in index.items()})
    return builder.result()


def _parquet_columns(table: pa.Table, name: str, tz: ZoneInfo | None) -> dict[str, list[Any]]:
    """Each column as Python values; timestamps as UTC nanoseconds (ints)."""
    out: dict[str, list[Any]] = {}
    for column_name in table.column_names:
        col = table.column(column_name)
        if pa.types.is_timestamp(col.type):
            ns = col.cast(pa.timestamp("ns", tz=col.type.tz)).cast(pa.int64()).to_pylist()
            if col.type.tz is None:
                if tz is None:
                    raise InputError(
                        f"{name}: column {column_name} holds times without a time zone; give "
                        "the zone they are in (--tz)"
                    )
                ns = [None if v is None else _wall_ns_to_utc(v, tz) for v in ns]
            out[column_name] = [None if v is None else _UtcNs(v) for v in ns]
        elif pa.types.is_date(col.type):
            raise InputError(f"{name}: column {column_name} holds dates; expected times")
        else:
            out[column_name] = col.to_pylist()
    return out


def _wall_ns_to_utc(ns: int, tz: ZoneInfo) -> int:
    seconds, nanos = divmod(ns, _NS)
    wall = datetime(1970, 1, 1) + timedelta(seconds=seconds)
    off = wall.replace(tzinfo=tz).utcoffset() or timedelta(0)
    return (seconds - off.days * 86_400 - off.seconds) * _NS + nanos


def _read_parquet(
    data: bytes, builder_for: Callable[[list[str]], _Builder], name: str, tz: ZoneInfo | None
) -> TradesFile:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{name}: not a readable Parquet file: {exc}") from exc
    builder = builder_for(list(table.column_names))
    values = _parquet_columns(table, name, tz)
    picked = {column: values[h] for column, h in builder.columns.items()}
    for row in range(table.num_rows):
        builder.add(row + 1, {c: cells[row] for c, cells in picked.items()})
    return builder.result()


def read_trades(
    source: TradesSource,
    *,
    format: Format | None = None,
    tz: str | None = None,
    columns: Mapping[str, str] | str | None = None,
    name: str | None = None,
) -> TradesFile:
    """Read a trades file (the template's CSV or Parquet) into ``INVESTOR_TRADES``.

    ``source`` is a path, the file's bytes or an open file; ``format`` is ``"csv"`` or
    ``"parquet"`` (default: Parquet when the data starts with its magic number, else CSV);
    ``tz`` the IANA zone of times written without a UTC offset; ``columns`` maps template
    columns to the file's (``{"symbol": "Ticker"}`` or ``"symbol=Ticker,side=Action"``);
    ``name`` names an in-memory source in messages. Rows that cannot be read are left out and
    listed in ``issues`` with their line and reason.

    >>> import pfof
    >>> csv_text = b"trade_id,symbol,side,quantity,price,order_time\\n" \\
    ...     b"1,AAPL,buy,10,155.86,2022-05-10T10:11:12.8-04:00\\n2,AAPL,hold,1,1,x\\n"
    >>> trades = pfof.read_trades(csv_text)
    >>> trades.table.num_rows, [str(i) for i in trades.issues]
    (1, ["<bytes>:3, side: 'hold' is not a side; expected buy or sell; row skipped [trade-row]"])
    """
    source_name = _source_name(source, name)
    zone_info = zone(tz)
    mapping = parse_column_map(columns)
    data = _load_bytes(source, source_name)
    fmt = _detect(data, source_name, format)

    def builder_for(header: list[str]) -> _Builder:
        return _Builder(source_name, _resolve_columns(header, mapping, source_name), zone_info)

    if fmt == "parquet":
        return _read_parquet(data, builder_for, source_name, zone_info)
    return _read_csv(data, builder_for, source_name)


def read_symbols(source: str | os.PathLike[str]) -> frozenset[str]:
    """Symbols listed in a text or CSV file: the first field of each line, upper case.

    Blank lines, ``#`` comments and a header whose first field is ``symbol`` or ``ticker``
    are skipped. Used for the S&P 500 list of a trade audit (606 reports S&P 500 stocks apart).
    """
    name = os.fspath(source)
    try:
        text = Path(source).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file; expected one symbol per line") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{name}: cannot be read as text: {exc}") from exc
    symbols = set()
    for line in text.splitlines():
        first = re.split(r"[,;\t|]", line.split("#", 1)[0], maxsplit=1)[0].strip().strip('"')
        if first and first.lower() not in ("symbol", "ticker"):
            symbols.add(canonical_symbol(first))
    if not symbols:
        raise InputError(f"{name}: lists no symbol; expected one symbol per line")
    return frozenset(symbols)
