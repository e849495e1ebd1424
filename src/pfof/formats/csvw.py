"""A validator for the subset of W3C CSV on the Web (CSVW) that table schemas like the SEC's
Rule 605 summary metadata use: dialect (header rows, delimiter, quoting, trimming), column
names/titles and order, ``required``, ``null`` tokens, datatypes with their facets
(``format``, length, inclusive/exclusive bounds) and the primary key.

The schema can come from a CSVW metadata JSON file (``load_metadata``) or be built in code
(``TableSchema``); both go through the same checks. Every violation is a
:class:`pfof.errors.Issue` naming the 1-based file line, the column name and, as its rule, the
constraint (the metadata keyword that failed).

Where the SEC's metadata departs from the letter of CSVW, the SEC's evident intent wins (its
own valid sample depends on it); docs/rule605.md lists these points:

* ``format`` is a regular expression matched against the whole cell for every datatype
  (CSVW reserves number patterns for numeric types; the SEC writes regexes there);
* ``exclusiveMaximum`` / ``exclusiveMinimum`` are read as CSVW ``maxExclusive`` /
  ``minExclusive``;
* a column that declares its own ``null`` tokens accepts them even when ``required``: the
  declared tokens mark a statistic that is not meaningful (the SEC's valid sample leaves
  ``AvgEFQPct`` empty where the quoted spread is zero). Without a declared ``null`` the
  default null token ``""`` is an empty, hence missing, required value.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pfof.errors import InputError, Issue, IssueVerdict, ParameterError
from pfof.formats.archives import read_regular

# ---------------------------------------------------------------- schema model

_OPS = {"min": ">=", "max": "<=", "xmin": ">", "xmax": "<"}
#: Metadata keyword -> bound kind. The SEC writes JSON-Schema style exclusive bounds.
BOUND_KEYWORDS: dict[str, str] = {
    "minimum": "min",
    "minInclusive": "min",
    "maximum": "max",
    "maxInclusive": "max",
    "minExclusive": "xmin",
    "exclusiveMinimum": "xmin",
    "maxExclusive": "xmax",
    "exclusiveMaximum": "xmax",
}


@dataclass(frozen=True, slots=True)
class Bound:
    """A value facet: ``keyword`` as written in the schema, ``kind`` min/max/xmin/xmax."""

    keyword: str
    kind: str
    value: Decimal

    def holds(self, value: Decimal) -> bool:
        if value.is_nan():
            return False  # NaN is incomparable, so it satisfies no bound (XSD 1.1)
        if self.kind == "min":
            return value >= self.value
        if self.kind == "max":
            return value <= self.value
        if self.kind == "xmin":
            return value > self.value
        return value < self.value


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    titles: tuple[str, ...] = ()
    base: str = "string"
    format: str | None = None
    bounds: tuple[Bound, ...] = ()
    length: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    required: bool = False
    null: tuple[str, ...] = ("",)
    null_declared: bool = False  # the schema lists this column's null tokens itself

    def matches_title(self, text: str) -> bool:
        return text == self.name or text in self.titles


@dataclass(frozen=True, slots=True)
class Dialect:
    header: bool = True
    header_row_count: int = 1
    delimiter: str = ","
    quote_char: str = '"'
    double_quote: bool = True
    trim: bool = True
    skip_rows: int = 0
    skip_blank_rows: bool = False


@dataclass(frozen=True, slots=True)
class TableSchema:
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    dialect: Dialect = field(default_factory=Dialect)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


# ---------------------------------------------------------------- metadata loading

_INHERITED = ("null", "required", "datatype", "default", "lang", "ordered", "textDirection")


#: Bytes a metadata file may have (the SEC's is about 10 KB).
MAX_METADATA_BYTES = 4 << 20


class MetadataError(InputError):
    """A CSVW metadata file this validator cannot use (unreadable, not JSON, unsupported)."""


def load_metadata(path: str | Path, table: int = 0) -> TableSchema:
    """Table schema of one table of a CSVW metadata JSON document."""
    try:
        doc = json.loads(read_regular(path, MAX_METADATA_BYTES).decode("utf-8"))
    except InputError as exc:
        raise MetadataError(f"{exc}; expected a CSVW metadata JSON file") from exc
    except RecursionError:
        raise MetadataError(f"{path}: not CSVW metadata JSON: nested too deeply") from None
    except ValueError as exc:  # not JSON, not UTF-8, or a number beyond Python's digit limit
        raise MetadataError(f"{path}: not CSVW metadata JSON: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise MetadataError(f"{path}: not CSVW metadata: the JSON is not an object")
    return schema_from_metadata(doc, source=str(path), table=table)


def schema_from_metadata(
    doc: Mapping[str, Any], *, source: str = "", table: int = 0
) -> TableSchema:
    """Build a ``TableSchema`` from a parsed CSVW metadata document (group or single table)."""
    where = source or "metadata"
    if "tables" in doc:
        tables = doc["tables"]
        if not isinstance(tables, list) or len(tables) <= table:
            raise MetadataError(f"{where}: no table {table} in 'tables'")
        table_desc = tables[table]
        inherited = _inherit({}, doc)
    else:
        table_desc = doc
        inherited = {}
    inherited = _inherit(inherited, table_desc)
    schema_desc = table_desc.get("tableSchema")
    if not isinstance(schema_desc, Mapping):
        raise MetadataError(f"{where}: tableSchema must be an inline object")
    inherited = _inherit(inherited, schema_desc)
    dialect = _dialect(table_desc.get("dialect", doc.get("dialect", {})), where)
    columns = []
    for index, col in enumerate(schema_desc.get("columns", []), start=1):
        if not isinstance(col, Mapping):
            raise MetadataError(f"{where}: column {index} is not an object")
        if col.get("virtual"):
            continue
        columns.append(_column(_inherit(dict(inherited), col) | dict(col), index, where))
    pk = schema_desc.get("primaryKey", [])
    primary_key = (pk,) if isinstance(pk, str) else tuple(pk)
    unknown = [name for name in primary_key if name not in {c.name for c in columns}]
    if unknown:
        raise MetadataError(f"{where}: primaryKey names unknown columns {unknown}")
    return TableSchema(tuple(columns), primary_key, dialect)


def _inherit(base: dict[str, Any], desc: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    out.update({k: desc[k] for k in _INHERITED if k in desc})
    return out


def _dialect(desc: Any, where: str) -> Dialect:
    if not isinstance(desc, Mapping):
        raise MetadataError(f"{where}: dialect must be an inline object")
    header = bool(desc.get("header", True))
    count = int(desc.get("headerRowCount", 1 if header else 0))
    trim = desc.get("trim", True)
    if desc.get("skipInitialSpace") and trim is not True:
        trim = "start"
    delimiter = desc.get("delimiter", ",")
    quote = desc.get("quoteChar", '"')
    if len(delimiter) != 1 or (quote is not None and len(quote) != 1):
        raise MetadataError(f"{where}: delimiter and quoteChar must be single characters")
    return Dialect(
        header=header and count > 0,
        header_row_count=count if header else 0,
        delimiter=delimiter,
        quote_char=quote or "",
        double_quote=bool(desc.get("doubleQuote", True)),
        trim=trim is True or trim == "true",
        skip_rows=int(desc.get("skipRows", 0)),
        skip_blank_rows=bool(desc.get("skipBlankRows", False)),
    )


def _column(desc: Mapping[str, Any], index: int, where: str) -> Column:
    titles = _titles(desc.get("titles", ()))
    name = desc.get("name") or (titles[0] if titles else f"_col.{index}")
    datatype = desc.get("datatype", "string")
    if isinstance(datatype, str):
        datatype = {"base": datatype}
    if not isinstance(datatype, Mapping):
        raise MetadataError(f"{where}: column {name}: datatype must be a name or an object")
    declared = datatype.get("base", "string")
    if not isinstance(declared, str):
        raise MetadataError(f"{where}: column {name}: datatype base must be a name")
    base = _BASE_ALIASES.get(declared, declared)
    fmt = datatype.get("format")
    if fmt is not None and not isinstance(fmt, str):
        raise MetadataError(
            f"{where}: column {name}: only regular-expression formats are supported"
        )
    if fmt is not None:
        try:
            re.compile(fmt)
        except re.error as exc:
            raise MetadataError(f"{where}: column {name}: bad format regex: {exc}") from exc
    bounds = []
    for keyword, kind in BOUND_KEYWORDS.items():
        if keyword in datatype:
            try:
                bounds.append(Bound(keyword, kind, Decimal(str(datatype[keyword]))))
            except InvalidOperation as exc:
                raise MetadataError(f"{where}: column {name}: {keyword} is not a number") from exc
    null = desc.get("null")
    nulls = ("",) if null is None else ((null,) if isinstance(null, str) else tuple(null))
    return Column(
        name=str(name),
        titles=titles,
        base=base,
        format=fmt,
        bounds=tuple(bounds),
        length=datatype.get("length"),
        min_length=datatype.get("minLength"),
        max_length=datatype.get("maxLength"),
        required=bool(desc.get("required", False)),
        null=nulls,
        null_declared=null is not None,
    )


def _titles(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Mapping):  # natural-language map: {"en": [...]}
        return tuple(t for v in value.values() for t in _titles(v))
    return tuple(str(v) for v in value)


# ---------------------------------------------------------------- datatypes

_BASE_ALIASES = {"number": "double", "any": "anyAtomicType", "datetime": "dateTime"}
_INT_RANGES: dict[str, tuple[int | None, int | None]] = {
    "integer": (None, None),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
_FLOAT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?INF|NaN", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_BOOLEAN = {"true": True, "1": True, "false": False, "0": False}
#: Bases whose values keep their whitespace (CSVW: no whitespace normalisation).
_KEEP_SPACE = {"string", "json", "xml", "html", "anyAtomicType"}


def _parse_value(base: str, text: str) -> object:
    """The value of ``text`` under an XSD/CSVW base datatype; ``ParameterError`` if not
    lexical (the caller turns it into a ``datatype`` issue)."""
    if base in _INT_RANGES:
        if not _INTEGER.fullmatch(text):
            raise ParameterError(f"{text!r} is not an {base}")
        number = int(text)
        low, high = _INT_RANGES[base]
        if (low is not None and number < low) or (high is not None and number > high):
            raise ParameterError(f"{number} is outside the range of {base}")
        return Decimal(number)
    if base == "decimal":
        if not _DECIMAL.fullmatch(text):
            raise ParameterError(f"{text!r} is not a decimal")
        return Decimal(text)
    if base in ("float", "double"):
        if not _FLOAT.fullmatch(text):
            raise ParameterError(f"{text!r} is not a {base}")
        return Decimal(text)
    if base == "boolean":
        if text not in _BOOLEAN:
            raise ParameterError(f"{text!r} is not a boolean")
        return _BOOLEAN[text]
    return text


def _normalise(base: str, text: str) -> str:
    if base in _KEEP_SPACE:
        return text
    if base == "normalizedString":
        return re.sub(r"[\t\r\n]", " ", text)
    return " ".join(text.split())


# ---------------------------------------------------------------- validation


@dataclass(slots=True)
class CsvwResult(IssueVerdict):
    """Violations, and each data row's values by column name (``None`` = null, a raw string
    where the cell was invalid) with its 1-based file line."""

    issues: list[Issue] = field(default_factory=list)
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)


def validate_csv(lines: Iterable[str], schema: TableSchema, *, file: str = "") -> CsvwResult:
    """Check a CSV's lines (line ends kept or not) against ``schema``."""
    result = CsvwResult()
    dialect = schema.dialect

    def error(line: int, column: str, rule: str, message: str) -> None:
        result.issues.append(Issue(rule=rule, message=message, line=line, column=column, file=file))

    rows, syntax = _records(list(lines), dialect)
    if syntax is not None:
        error(syntax[0], "", "csv", syntax[1] + "; the rest of the file is not checked")
    rows = rows[dialect.skip_rows :]
    columns = schema.columns
    header_rows = rows[: dialect.header_row_count] if dialect.header else []
    if dialect.header and len(header_rows) < dialect.header_row_count:
        error(1, "", "header", f"expected {dialect.header_row_count} header row(s)")
    if header_rows:
        line, cells = header_rows[-1]
        cells = [_trim(c, dialect) for c in cells]
        if len(cells) != len(columns):
            error(
                line,
                "",
                "columns",
                f"header has {len(cells)} columns, the schema defines {len(columns)}",
            )
        for position, (cell, column) in enumerate(zip(cells, columns, strict=False), 1):
            if not column.matches_title(cell):
                error(
                    line,
                    column.name,
                    "titles",
                    f"header cell {position} is {cell!r}, expected {column.name!r}"
                    + (f" or one of {list(column.titles)}" if column.titles else ""),
                )
    seen_keys: dict[tuple[object, ...], int] = {}
    key_index = [schema.names.index(n) for n in schema.primary_key]
    for line, cells in rows[len(header_rows) :]:
        if dialect.skip_blank_rows and all(not c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            error(
                line,
                "",
                "columns",
                f"row has {len(cells)} cells, the schema defines {len(columns)} columns",
            )
        values: dict[str, object] = {}
        keys: list[object] = []
        for position, column in enumerate(columns):
            raw = cells[position] if position < len(cells) else None
            if raw is None:
                values[column.name] = None
                continue
            value = _check_cell(_trim(raw, dialect), column, line, error)
            values[column.name] = value
        for position in key_index:
            value = values[columns[position].name]
            keys.append(
                value.normalize() if isinstance(value, Decimal) and value.is_finite() else value
            )
        if key_index:
            key = tuple(keys)
            if key in seen_keys:
                error(
                    line,
                    ",".join(schema.primary_key),
                    "primaryKey",
                    f"duplicate primary key {list(map(str, key))} (first on line {seen_keys[key]})",
                )
            else:
                seen_keys[key] = line
        result.rows.append((line, values))
    return result


def _check_cell(text: str, column: Column, line: int, error: Any) -> object:
    value = _normalise(column.base, text)
    if value in column.null:
        if column.required and not column.null_declared:
            error(
                line,
                column.name,
                "required",
                "a value is required, the cell is empty"
                if value == ""
                else f"a value is required, {value!r} means null",
            )
        return None
    if column.length is not None and len(value) != column.length:
        error(line, column.name, "length", f"{value!r} must be {column.length} characters long")
    if column.min_length is not None and len(value) < column.min_length:
        error(line, column.name, "minLength", f"{value!r} is shorter than {column.min_length}")
    if column.max_length is not None and len(value) > column.max_length:
        error(line, column.name, "maxLength", f"{value!r} is longer than {column.max_length}")
    if column.format is not None and not re.fullmatch(column.format, value, re.ASCII):
        error(line, column.name, "format", f"{value!r} does not match {column.format!r}")
    try:
        parsed = _parse_value(column.base, value)
    except ParameterError as exc:
        error(line, column.name, "datatype", str(exc))
        return value
    if isinstance(parsed, Decimal):
        for bound in column.bounds:
            if not bound.holds(parsed):
                error(
                    line,
                    column.name,
                    bound.keyword,
                    f"{value} is not {_OPS[bound.kind]} {bound.value}",
                )
    return parsed


def _trim(cell: str, dialect: Dialect) -> str:
    return cell.strip() if dialect.trim else cell


def _records(
    lines: Sequence[str], dialect: Dialect
) -> tuple[list[tuple[int, list[str]]], tuple[int, str] | None]:
    """CSV records with the 1-based line each starts on (quoted fields may span lines), and
    the line and message of a syntax error that stopped reading, if any."""
    text = "\n".join(line.rstrip("\r\n") for line in lines)
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=dialect.delimiter,
        quotechar=dialect.quote_char or None,
        doublequote=dialect.double_quote,
        quoting=csv.QUOTE_MINIMAL if dialect.quote_char else csv.QUOTE_NONE,
        strict=True,
    )
    out: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            out.append((start, cells if cells else [""]))
            start = reader.line_num + 1
    except csv.Error as exc:
        return out, (start, f"CSV syntax: {exc}")
    return out, None
