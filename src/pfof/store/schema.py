"""DuckDB schema of ingested Rule 606 reports, with per-file provenance and report identity.

``sources`` holds one row per stored file (keyed by its SHA-256, so the same bytes are never
ingested twice, whatever their path) with the report's identity: ``report_key`` (report type,
broker, period, and for FINRA bulk files the filer's CRD), ``content_sha256`` (a digest of its
figures, so the same report in another byte form is recognised) and what orders restatements
(``report_timestamp``, ``bulk_version``). ``duplicates`` records files that repeated a stored
report's content and were not stored again. Report rows reference ``sources``:
``disclosures_606`` has one row per reported 606(a)(1) cell (the
:class:`~pfof.model.reports606.A1Cell` fields), ``routes_606b1`` one row per reported route
transaction of a 606(b)(1) report and ``venues_606b3`` one row per venue-month of a 606(b)(3)
report. Reported numbers are exact decimals: ``DECIMAL(38, 10)`` for 606(a)(1) (the format has
2 or 4 places) and ``DECIMAL(38, 18)`` for 606(b)(3) averages.

A store written by an older pfof is brought up to date when opened for writing (columns and
tables added, identity filled in for the reports it holds); read-only, it is read as it is.
"""

from __future__ import annotations

import os

import duckdb

from pfof.errors import StoreError
from pfof.model.records605 import DETAILED_FIELDS, LEGACY_FIELDS, SUMMARY_FIELDS
from pfof.model.reports606 import A1_PLACES, B3_PLACES, B3_VENUE_FIELDS

#: 1: files by their bytes; 2: report identity, duplicates and restatements. (The Rule 605
#: tables need no migration: ``CREATE TABLE IF NOT EXISTS`` adds them to an older store.)
SCHEMA_VERSION = 2
NUM = f"DECIMAL(38, {A1_PLACES})"
NUM_B3 = f"DECIMAL(38, {B3_PLACES})"  # 606(b)(3) averages carry many decimals

_B3_NUMERIC = ",\n    ".join(f"{attr} {NUM_B3}" for _, attr in B3_VENUE_FIELDS)

#: Rule 605 figures: every number the 605 readers accept (at most 15 digits before the point
#: and 12 after) fits exactly; see ``formats.sec605_arrow``.
NUM_605 = "DECIMAL(38, 12)"
#: SQL type of each field kind of ``model.records605`` (``bool``: the summary's S&P 500 flag).
_SQL_605 = {
    "str": "VARCHAR",
    "yyyymm": "BIGINT",
    "code": "BIGINT",
    "int": "BIGINT",
    "usd": NUM_605,
    "sec": NUM_605,
    "dec": NUM_605,
    "bool": "BOOLEAN",
}
#: (table, [(column, kind)]) of the Rule 605 row tables: the record attributes in order.
RULE605_ROW_TABLES: tuple[tuple[str, list[tuple[str, str]]], ...] = (
    ("rows_605_legacy", list(LEGACY_FIELDS)),
    ("rows_605_detailed", [(attr, kind) for _, attr, kind in DETAILED_FIELDS]),
    (
        "rows_605_summary",
        [
            (
                attr,
                "str"
                if attr in ("participant", "entity", "order_type")
                else "bool"
                if attr == "sp500"
                else "int"
                if attr in ("rpt_date", "order_size")
                else "dec",
            )
            for _, attr in SUMMARY_FIELDS
        ],
    ),
)
_RULE605_DDL: tuple[str, ...] = (
    """
CREATE TABLE IF NOT EXISTS sources_605 (
    sha256 VARCHAR PRIMARY KEY,        -- hex digest of the file's bytes
    path VARCHAR NOT NULL,             -- display path when first ingested (zip!member)
    format VARCHAR NOT NULL,           -- legacy | detailed | summary
    market_center VARCHAR,             -- the first row's market center (entity code)
    month VARCHAR,                     -- the first row's month, YYYY-MM
    market_centers VARCHAR[],          -- every market center of the file, sorted
    months VARCHAR[],                  -- every month of the file, sorted
    ingested_at TIMESTAMPTZ NOT NULL,
    strict_valid BOOLEAN NOT NULL,     -- no warning at all (a strict reading accepts it)
    warnings JSON NOT NULL,            -- list of reader issues (tolerated deviations)
    n_rows BIGINT NOT NULL             -- rows written to the format's row table
)""",
    *(
        f"CREATE TABLE IF NOT EXISTS {table} (\n    sha256 VARCHAR NOT NULL,  -- sources_605\n    "
        + ",\n    ".join(f"{name} {_SQL_605[kind]}" for name, kind in columns)
        + "\n)"
        for table, columns in RULE605_ROW_TABLES
    ),
)

DDL: tuple[str, ...] = (
    """
CREATE TABLE IF NOT EXISTS pfof_meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
)""",
    """
CREATE TABLE IF NOT EXISTS sources (
    sha256 VARCHAR PRIMARY KEY,        -- hex digest of the file's bytes
    path VARCHAR NOT NULL,             -- display path when first ingested (zip!member)
    kind VARCHAR NOT NULL,             -- a1 | b1 | b3
    broker VARCHAR,                    -- <bd> as reported
    year INTEGER,
    quarter INTEGER,
    ingested_at TIMESTAMPTZ NOT NULL,
    strict_valid BOOLEAN NOT NULL,     -- schema-valid as published
    warnings JSON NOT NULL,            -- list of reader issues (lenient deviations)
    n_rows BIGINT NOT NULL             -- rows written to the report table
)""",
    """
CREATE TABLE IF NOT EXISTS duplicates (
    sha256 VARCHAR PRIMARY KEY,        -- the duplicate file's bytes
    of_sha256 VARCHAR NOT NULL REFERENCES sources (sha256),  -- the stored report it repeats
    path VARCHAR NOT NULL,
    report_timestamp TIMESTAMPTZ,
    bulk_version INTEGER,
    ingested_at TIMESTAMPTZ NOT NULL
)""",
    f"""
CREATE TABLE IF NOT EXISTS disclosures_606 (
    sha256 VARCHAR NOT NULL REFERENCES sources (sha256),
    broker VARCHAR NOT NULL,
    year INTEGER NOT NULL,
    quarter INTEGER NOT NULL,
    month INTEGER NOT NULL,
    section VARCHAR NOT NULL,          -- sp500 | other_stocks | options
    venue_index INTEGER NOT NULL,      -- 1-based position in the section-month's rVenues
    venue_name VARCHAR,
    mic VARCHAR,
    mpid VARCHAR,
    order_type VARCHAR NOT NULL,       -- market | marketable_limit | non_marketable_limit | other
    venue_pct {NUM},                   -- % of non-directed orders routed to the venue
    routed_pct {NUM},                  -- % of non-directed orders of this type routed there
    net_payment_usd {NUM},             -- net payment received (negative: paid), dollars
    rate {NUM}                         -- cents per 100 shares (stocks) / per contract (options)
)""",
    """
CREATE TABLE IF NOT EXISTS routes_606b1 (
    sha256 VARCHAR NOT NULL REFERENCES sources (sha256),
    broker VARCHAR NOT NULL,
    customer VARCHAR NOT NULL,
    category VARCHAR NOT NULL,         -- held | not_held_exempt | options
    order_id VARCHAR NOT NULL,
    directed BOOLEAN NOT NULL,
    route_index INTEGER NOT NULL,
    venue_name VARCHAR,
    mic VARCHAR,
    mpid VARCHAR,
    tx_date DATE,
    tx_time TIME
)""",
    f"""
CREATE TABLE IF NOT EXISTS venues_606b3 (
    sha256 VARCHAR NOT NULL REFERENCES sources (sha256),
    broker VARCHAR NOT NULL,
    customer VARCHAR NOT NULL,
    directed BOOLEAN NOT NULL,
    year INTEGER NOT NULL,
    month INTEGER NOT NULL,
    venue_index INTEGER NOT NULL,
    venue_name VARCHAR NOT NULL,
    services VARCHAR,
    mic VARCHAR,
    mpid VARCHAR,
    {_B3_NUMERIC}
)""",
    *_RULE605_DDL,
)

#: Report tables that reference ``sources`` (child rows of one ingested file).
REPORT_TABLES: tuple[str, ...] = ("disclosures_606", "routes_606b1", "venues_606b3")
#: Rule 605 row tables: each row's ``sha256`` names its file in ``sources_605`` (not declared
#: a foreign key: a file's rows are bulk-inserted before its provenance row, in one
#: transaction, so that a file of any size streams in).
RULE605_TABLES: tuple[str, ...] = tuple(table for table, _ in RULE605_ROW_TABLES)


def connect(path: str | os.PathLike[str], *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) a pfof DuckDB file with the schema in place.

    ``read_only`` opens an existing file as it is (no schema written), so that several
    processes may read it at once. Raises :class:`~pfof.errors.StoreError` naming the file
    when it cannot be opened (missing in read-only mode, locked by another process, not a
    DuckDB file) or its schema cannot be written.

    >>> import pfof
    >>> con = pfof.connect("pfof.duckdb")           # doctest: +SKIP
    >>> con.sql("SELECT count(*) FROM sources").fetchall()  # doctest: +SKIP
    [(0,)]
    """
    name = os.fspath(path)
    if read_only and name != ":memory:" and not os.path.exists(name):
        raise StoreError(f"{name}: no such DuckDB file")
    try:
        con = duckdb.connect(name, read_only=read_only)
    except duckdb.Error as exc:
        raise StoreError(f"{name}: cannot open as a DuckDB store: {exc}") from exc
    if not read_only:
        try:
            ensure_schema(con)
        except duckdb.Error as exc:
            con.close()
            raise StoreError(f"{name}: cannot write the store's schema: {exc}") from exc
    return con


#: Identity columns of ``sources`` (schema version 2), added to stores made before them.
IDENTITY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("report_key", "VARCHAR"),  # JSON [kind, broker key, period..., crd]: see store.identity
    ("content_sha256", "VARCHAR"),  # digest of the report's figures, not of its bytes
    ("report_timestamp", "TIMESTAMPTZ"),  # <timestamp> as published
    ("crd", "VARCHAR"),  # the filer's CRD, from a FINRA bulk file name
    ("bulk_version", "INTEGER"),  # V<k> of a FINRA bulk file name
    ("customer", "VARCHAR"),  # (b)(1)/(b)(3): the customer the report is for
    ("routing_sha256", "VARCHAR"),  # digest of the content without <bd>: affiliated filers
)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and columns, fill in the identity of reports stored by an older
    pfof, and record the schema version; idempotent, in one transaction."""
    from pfof.store.identity import legacy_report_key

    con.execute("BEGIN")
    try:
        for statement in DDL:
            con.execute(statement)
        have = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'sources' "
                "AND schema_name = current_schema()"
            ).fetchall()
        }
        for column, sql_type in IDENTITY_COLUMNS:
            if column not in have:
                con.execute(f"ALTER TABLE sources ADD COLUMN {column} {sql_type}")
        legacy = con.execute(
            "SELECT sha256, kind, broker, year, quarter FROM sources WHERE report_key IS NULL"
        ).fetchall()
        for sha, kind, broker, year, quarter in legacy:
            con.execute(
                "UPDATE sources SET report_key = ? WHERE sha256 = ?",
                [legacy_report_key(sha, kind, broker, year, quarter), sha],
            )
        rows = con.execute("SELECT value FROM pfof_meta WHERE key = 'schema_version'").fetchall()
        if not rows:
            con.execute("INSERT INTO pfof_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        elif int(rows[0][0]) < SCHEMA_VERSION:
            con.execute(
                "UPDATE pfof_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
