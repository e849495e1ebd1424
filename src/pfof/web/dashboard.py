"""What the dashboard's pages show, computed from a read-only store (no HTTP here).

:class:`StoreView` holds one read-only DuckDB connection and computes each page's data once:
the store cannot change while it is open read-only (DuckDB's lock keeps writers out), so the
broker comparison, venue tables and simulated-market figures are cached for the server's life.
Every record uses the field names and exact decimal strings of the CLI's ``--json``
(:meth:`~pfof.engine.broker_comparison.BrokerQuarter.to_json`). Request values never reach
SQL: filters are matched against the lists read here, and the few queries that take one
(a report's SHA-256) bind it as a parameter.
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pfof.errors import ParameterError, PfofError

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from pfof.engine.broker_comparison import BrokerQuarter
    from pfof.engine.broker_quality import QualityEstimate
    from pfof.model.reports606 import A1Cell, Report606

__all__ = ["NotFoundError", "StoreView", "parse_quarter"]

#: Brokers shown when none is picked and the store has more than this many.
DEFAULT_BROKERS = 10
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: Canonical tables the simulated-market page reads (the demo's store has them).
SIM_TABLES = ("order_quality", "routes", "payments")
#: Tables whose rows the overview counts (those present): 606 reports, then Rule 605 reports.
COUNTED_TABLES = (
    "sources",
    "disclosures_606",
    "routes_606b1",
    "venues_606b3",
    "orders",
    "sources_605",
    "rows_605_legacy",
    "rows_605_detailed",
    "rows_605_summary",
)


class NotFoundError(PfofError):
    """A broker, report or page the store does not have."""


def parse_quarter(text: str) -> tuple[int, int]:
    """``"2021Q3"`` -> ``(2021, 3)``; anything else is a :class:`ParameterError`."""
    match = _QUARTER.match(text.strip().upper())
    if not match:
        raise ParameterError(f"quarter {text!r}: expected YYYYQn, e.g. 2021Q3")
    return int(match.group(1)), int(match.group(2))


def quarter_label(year: int, quarter: int) -> str:
    return f"{year}Q{quarter}"


@dataclass
class BrokerSelection:
    """The brokers page's rows: the records picked, and what was picked."""

    records: list[dict[str, Any]]
    brokers: list[str]  # keys picked (or chosen by default)
    quarters: list[str]  # YYYYQn picked (all when none)
    defaulted: bool  # True when no broker was picked and the default subset is shown
    keys: list[str] = field(default_factory=list)  # broker key of each record


@dataclass
class _Comparison:
    """The store's broker comparison, computed once."""

    cells: list[A1Cell]
    quarters: list[BrokerQuarter]
    records: list[dict[str, Any]]
    names: dict[str, str]  # broker key -> display name
    periods: list[str]
    resolver: Any = None
    by_broker: dict[str, list[A1Cell]] = field(default_factory=dict)


class StoreView:
    """Read-only access to one store, with each page's data computed once."""

    def __init__(self, db: str | Path) -> None:
        from pfof.store.schema import connect

        self.db = Path(db)
        self._con = connect(self.db, read_only=True)
        self._lock = threading.Lock()
        self._comparison: _Comparison | None = None
        self._tables: set[str] | None = None
        self._sim: dict[str, Any] | None = None
        self._lock_605 = threading.Lock()  # Rule 605 figures: apart, not to hold up the rest
        self._centers: list[dict[str, Any]] | None = None
        self._quality: list[QualityEstimate] | None = None

    def close(self) -> None:
        self._con.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of the shared connection (one per thread: DuckDB cursors are not shared)."""
        return self._con.cursor()

    # ------------------------------------------------------------------ store overview

    @property
    def tables(self) -> set[str]:
        """Names of the store's tables."""
        if self._tables is None:
            rows = self.cursor().execute("SELECT table_name FROM information_schema.tables")
            self._tables = {str(r[0]) for r in rows.fetchall()}
        return self._tables

    def counts(self) -> dict[str, int]:
        """Rows of the report tables (those present)."""
        out: dict[str, int] = {}
        cur = self.cursor()
        for table in COUNTED_TABLES:
            if table in self.tables:
                out[table] = int(cur.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
        return out

    # ------------------------------------------------------------------ brokers

    def comparison(self) -> _Comparison:
        with self._lock:
            if self._comparison is None:
                self._comparison = self._compare()
            return self._comparison

    def _compare(self) -> _Comparison:
        from pfof.engine.broker_comparison import broker_quarters
        from pfof.engine.cell_input import as_cells
        from pfof.engine.venue_identity import VenueResolver, broker_key
        from pfof.store.queries import disclosure_cells

        cells = (
            as_cells(disclosure_cells(self.cursor())) if "disclosures_606" in self.tables else []
        )
        quarters = broker_quarters(cells)
        names = {bq.broker_key: bq.broker for bq in quarters}
        by_broker: dict[str, list[A1Cell]] = defaultdict(list)
        keys: dict[str, str] = {}  # a store spells each broker a few ways: normalise each once
        for cell in cells:
            key = keys.get(cell.broker)
            if key is None:
                key = keys[cell.broker] = broker_key(cell.broker)
            by_broker[key].append(cell)
        periods = sorted({quarter_label(bq.year, bq.quarter) for bq in quarters})
        return _Comparison(
            cells=cells,
            quarters=quarters,
            records=[bq.to_json() for bq in quarters],
            names=dict(sorted(names.items(), key=lambda kv: kv[1].casefold())),
            periods=periods,
            resolver=VenueResolver(cells),
            by_broker=dict(by_broker),
        )

    def select_brokers(self, brokers: list[str], quarters: list[str]) -> BrokerSelection:
        """Records of the picked brokers (keys) and quarters; with no broker picked, all
        brokers when there are at most :data:`DEFAULT_BROKERS`, else those with the largest
        net PFOF over the picked quarters."""
        comp = self.comparison()
        for key in brokers:
            if key not in comp.names:
                raise NotFoundError(f"no broker {key!r} in the store")
        periods = []
        for text in quarters:
            year, quarter = parse_quarter(text)
            label = quarter_label(year, quarter)
            if label not in comp.periods:
                raise NotFoundError(f"no report of quarter {label} in the store")
            periods.append(label)
        wanted_periods = set(periods) or set(comp.periods)
        in_period = [
            (bq, rec)
            for bq, rec in zip(comp.quarters, comp.records, strict=True)
            if quarter_label(bq.year, bq.quarter) in wanted_periods
        ]
        defaulted = not brokers
        if defaulted:
            totals: defaultdict[str, Decimal] = defaultdict(Decimal)
            for bq, _ in in_period:
                totals[bq.broker_key] += bq.total_usd
            ranked = sorted(totals, key=lambda k: (-totals[k], k))
            brokers = sorted(ranked[:DEFAULT_BROKERS], key=lambda k: comp.names[k].casefold())
        chosen = set(brokers)
        picked = [(bq.broker_key, rec) for bq, rec in in_period if bq.broker_key in chosen]
        return BrokerSelection(
            [rec for _, rec in picked],
            brokers,
            sorted(set(periods)),
            defaulted,
            [key for key, _ in picked],
        )

    def broker_key_of(self, broker: str) -> str:
        from pfof.engine.venue_identity import broker_key

        return broker_key(broker)

    def broker_detail(self, key: str, section: str) -> dict[str, Any]:
        """One broker: its quarters (CLI records), venues per quarter for ``section``, and the
        provenance of its reports."""
        from pfof.engine.payment_rates import RATE_PLACES, PaymentSums, exact_ratio
        from pfof.model.enums import Section
        from pfof.model.money import dec_str, money_str

        comp = self.comparison()
        if key not in comp.names:
            raise NotFoundError(f"no broker {key!r} in the store")
        try:
            wanted = Section(section)
        except ValueError:
            choices = ", ".join(s.value for s in Section)
            raise ParameterError(f"section {section!r}: expected one of {choices}") from None
        records = [
            rec for bq, rec in zip(comp.quarters, comp.records, strict=True) if bq.broker_key == key
        ]
        resolver = comp.resolver
        pct: defaultdict[tuple[str, str], dict[int, Decimal]] = defaultdict(dict)
        sums: defaultdict[tuple[str, str], PaymentSums] = defaultdict(PaymentSums)
        months: defaultdict[str, set[int]] = defaultdict(set)
        seen: set[tuple[int, int, int, int]] = set()
        for cell in comp.by_broker.get(key, []):
            if cell.section is not wanted:
                continue
            period = quarter_label(cell.year, cell.quarter)
            venue = resolver.key(cell.venue_name, cell.mic, cell.mpid)
            months[period].add(cell.month)
            row = (cell.year, cell.month, cell.venue_index, cell.quarter)
            if cell.venue_pct is not None and row not in seen:
                seen.add(row)
                by_month = pct[(period, venue)]
                by_month[cell.month] = by_month.get(cell.month, Decimal(0)) + cell.venue_pct
            sums[(period, venue)].add(cell)
        venues = []
        for period, venue in sorted(set(pct) | set(sums)):
            monthly = pct.get((period, venue), {})
            # months the venue is not listed count as 0 % (reports list only the top venues)
            share = exact_ratio(sum(monthly.values(), Decimal(0)), Decimal(len(months[period])))
            paid = sums.get((period, venue), PaymentSums())
            venues.append(
                {
                    "period": period,
                    "venue": resolver.name(venue),
                    "venue_key": venue,
                    "section": wanted.value,
                    "order_pct": dec_str(share, Decimal("0.01")),
                    "net_payment_usd": money_str(paid.usd),
                    "rate": dec_str(paid.rate, RATE_PLACES),
                }
            )
        return {
            "broker": comp.names[key],
            "broker_key": key,
            "section": wanted.value,
            "quarters": records,
            "venues": venues,
            "quality": self.broker_quality(key),
            "sources": self.sources(key),
        }

    def sources(self, key: str | None = None) -> list[dict[str, Any]]:
        """Provenance of the ingested files (of one broker when ``key`` is given), each with
        the status :func:`pfof.store.queries.stored_reports` gives it: ``current``,
        ``superseded`` by a later edition, or ``affiliated`` (the identical report of another
        filer, counted once under the filer in ``counted_instead``). An affiliated filer's
        copy that was not stored again (the same report under another CRD) is listed too,
        with ``stored`` false and no rows."""
        from pfof.engine.venue_identity import broker_key
        from pfof.store.queries import stored_reports

        if "sources" not in self.tables:
            return []
        rows = self.cursor().execute(
            "SELECT sha256, path, kind, broker, year, quarter, ingested_at, strict_valid, "
            "warnings, n_rows FROM sources ORDER BY year, quarter, broker, path"
        )
        names = [d[0] for d in rows.description]
        records = [dict(zip(names, values, strict=True)) for values in rows.fetchall()]
        reports = stored_reports(self.cursor(), history=True)
        by_file = {(r.sha256, r.path): r for r in reports}
        stored_files = {(r["sha256"], r["path"]) for r in records}
        copies = [
            {
                "sha256": r.sha256,
                "path": r.path,
                "kind": r.kind,
                "broker": r.broker,
                "year": r.year,
                "quarter": r.quarter,
                "ingested_at": r.ingested_at,
                "strict_valid": r.strict_valid,
                "warnings": None,
                "n_rows": 0,
                "duplicate_of": r.duplicate_of,
            }
            for r in reports
            if r.status == "affiliated" and (r.sha256, r.path) not in stored_files
        ]
        out = []
        for row in [*records, *copies]:
            if key is not None and broker_key(row["broker"] or "") != key:
                continue
            warnings = json.loads(row["warnings"]) if row["warnings"] else []
            report = by_file.get((row["sha256"], row["path"]))
            out.append(
                {
                    "sha256": row["sha256"],
                    "path": row["path"],
                    "kind": row["kind"],
                    "broker": row["broker"],
                    "year": row["year"],
                    "quarter": row["quarter"],
                    "ingested_at": row["ingested_at"].isoformat(),
                    "strict_valid": row["strict_valid"],
                    "status": report.status if report is not None else "current",
                    "counted_instead": report.current_path if report is not None else None,
                    "stored": "duplicate_of" not in row,
                    "rows": row["n_rows"],
                    "warnings": [_warning_text(w) for w in warnings],
                }
            )
        return out

    # ------------------------------------------------------------------ 606 reports

    def report(self, sha256: str) -> tuple[dict[str, Any], Report606 | None, str]:
        """A stored report: (its provenance, the report or ``None``, how it was obtained).

        The report is read again from the file it was ingested from when that file is still
        there with the same SHA-256; a 606(a)(1) report whose file is gone is rebuilt from
        the stored cells (its summary percentages and material aspects are not stored). An
        affiliated filer's copy that was not stored is shown only while its file is there."""
        import hashlib

        from pfof.formats.sec606 import read_606

        if not _SHA256.match(sha256):
            raise NotFoundError(f"report {sha256!r}: expected a SHA-256 (64 hex digits)")
        found = [s for s in self.sources() if s["sha256"] == sha256]
        if not found:
            raise NotFoundError(f"no report with SHA-256 {sha256} in the store")
        source = max(found, key=lambda s: s["stored"])  # the stored file of these bytes
        path = Path(source["path"])
        if path.is_file():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() == sha256:
                return source, read_606(data).report, f"read from {path}"
        if not source["stored"]:
            return source, None, f"an affiliated copy of {source['counted_instead']}, not stored"
        if source["kind"] == "a1":
            return source, self._rebuilt_a1(sha256), "rebuilt from the store's cells"
        return source, None, f"the file {path} is no longer there"

    def _rebuilt_a1(self, sha256: str) -> Report606:
        from pfof.engine.cell_input import as_cells
        from pfof.model.enums import OrderType, Section
        from pfof.model.reports606 import A1Month, A1Section, A1Venue, HeldOrderRoutingReport
        from pfof.store.queries import CELL_COLUMNS

        table = (
            self.cursor()
            .sql(
                f"SELECT {CELL_COLUMNS} FROM disclosures_606 WHERE sha256 = $sha "
                "ORDER BY year, month, section, venue_index, order_type",
                params={"sha": sha256},
            )
            .to_arrow_table()
        )
        cells = as_cells(table)
        grouped: defaultdict[tuple[int, int], dict[Section, dict[int, list[A1Cell]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(list))
        )
        for cell in cells:
            grouped[(cell.year, cell.month)][cell.section][cell.venue_index].append(cell)
        months = []
        for (year, mon), sections in sorted(grouped.items()):
            blocks: dict[str, A1Section | None] = {s.value: None for s in Section}
            for section, venues in sections.items():
                rows = []
                for _, vcells in sorted(venues.items()):
                    by_type = {c.order_type: c for c in vcells}
                    first = vcells[0]
                    values: dict[str, Any] = {}
                    for t in OrderType:
                        c = by_type.get(t)
                        values[f"{t.value}_pct"] = c.routed_pct if c else None
                        values[f"{t.value}_usd"] = c.net_payment_usd if c else None
                        values[f"{t.value}_cph"] = c.rate if c else None
                    rows.append(
                        A1Venue(
                            name=first.venue_name,
                            mic=first.mic,
                            mpid=first.mpid,
                            order_pct=first.venue_pct,
                            material_aspects="(not stored)",
                            **values,
                        )
                    )
                blocks[section.value] = A1Section(None, None, None, None, None, tuple(rows))
            months.append(A1Month(year, mon, **blocks))
        first_cell = cells[0] if cells else None
        return HeldOrderRoutingReport(
            version="",
            bd=first_cell.broker if first_cell else "",
            year=first_cell.year if first_cell else 0,
            qtr=first_cell.quarter if first_cell else 0,
            timestamp=None,
            months=tuple(months),
        )

    # ------------------------------------------------------------------ Rule 605

    def has_605(self) -> bool:
        """Whether the store holds Rule 605 rows of any format."""
        from pfof.engine.stats605 import STORE_TABLES

        cur = self.cursor()
        return any(
            cur.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchall()[0][0]
            for table in STORE_TABLES.values()
            if table in self.tables
        )

    def market_centers(self) -> list[dict[str, Any]]:
        """Execution quality per market center and month: the rows of
        :func:`pfof.app.quality605.market_center_quality` (``pfof market-centers --json``),
        computed once."""
        with self._lock_605:
            if self._centers is None:
                from pfof.app.quality605 import market_center_quality

                self._centers = market_center_quality(self.cursor()) if self.has_605() else []
            return self._centers

    def quality(self) -> list[QualityEstimate]:
        """Every broker's execution quality net of PFOF
        (:func:`pfof.engine.broker_quality.broker_quality`, ``pfof brokers --quality``),
        computed once; empty without Rule 605 rows."""
        with self._lock_605:
            if self._quality is None:
                from pfof.engine.broker_quality import broker_quality

                both = "disclosures_606" in self.tables and self.has_605()
                self._quality = broker_quality(self.cursor()) if both else []
            return self._quality

    def broker_quality(self, key: str) -> list[dict[str, Any]]:
        """One broker's (key) estimates as ``pfof brokers --quality --json`` records."""
        return [q.to_json() for q in self.quality() if q.broker_key == key]

    # ------------------------------------------------------------------ simulated market

    def has_simulation(self) -> bool:
        if not all(t in self.tables for t in SIM_TABLES):
            return False
        rows = self.cursor().execute("SELECT count(*) FROM order_quality").fetchall()
        return bool(rows[0][0])

    def simulation(self) -> dict[str, Any]:
        """The demo's simulated market: per-order quality with each order's first venue,
        the broker's payments, and the routing policies compared (``headline.json`` that
        ``pfof demo`` writes beside its store), computed once."""
        with self._lock:
            if self._sim is None:
                self._sim = self._simulation()
            return self._sim

    def _simulation(self) -> dict[str, Any]:
        import polars as pl

        if not self.has_simulation():
            raise NotFoundError(
                f"{self.db} holds no simulated market: `pfof demo` writes one "
                "(./pfof-demo/pfof.duckdb)"
            )
        cur = self.cursor()
        quality = pl.from_arrow(
            cur.sql(
                "SELECT q.*, f.venue FROM order_quality q LEFT JOIN ("
                " SELECT order_id, arg_min(venue, seq) AS venue FROM routes GROUP BY order_id"
                ") f USING (order_id)"
            ).to_arrow_table()
        )
        payments = pl.from_arrow(cur.sql("SELECT * FROM payments ORDER BY ALL").to_arrow_table())
        assert isinstance(quality, pl.DataFrame) and isinstance(payments, pl.DataFrame)
        brokers = sorted({str(b) for b in quality.get_column("broker").drop_nulls().to_list()})
        headline_path = self.db.parent / "headline.json"
        headline = None
        if headline_path.is_file():
            try:
                headline = json.loads(headline_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                headline = None
        return {
            "brokers": brokers,
            "quality": quality,
            "payments": payments,
            "headline": headline,
        }


def _warning_text(issue: Any) -> str:
    if isinstance(issue, dict):
        where = issue.get("path") or ""
        text = issue.get("message") or json.dumps(issue)
        return f"{where}: {text}" if where else str(text)
    return str(issue)


def venue_stats_records(quality: pl.DataFrame) -> list[dict[str, Any]]:
    """Per first venue, the demo report's execution-quality figures as JSON-ready values.

    The figures and their weights are :func:`pfof.reports.charts.venue_stats`'s: the quoted
    spread and E/Q over the orders that have a quoted spread (not crossed), each realized
    spread weighted by the shares measured at its horizon; ``null`` where undefined.
    """
    from pfof.reports import charts

    stats = charts.venue_stats(quality)
    out = []
    for r in stats.iter_rows(named=True):
        out.append(
            {
                "venue": str(r["venue"]),
                "orders": int(r["orders"]),
                "shares": float(r["shares"]),
                "price_improvement_usd": _round(r["pi_usd"], 2),
                "price_improvement_cents_per_share": _round(r["pi_cents"], 4),
                "improved_pct": _round(None if r["improved"] is None else 100 * r["improved"], 2),
                "quoted_spread_cents": _round(r["quoted_cents"], 4),
                "effective_spread_cents": _round(r["eff_cents"], 4),
                "eq_ratio": _round(r["eq"], 4),
                "realized_spread_15s_cents": _round(r["rs_15s"], 4),
                "realized_spread_1m_cents": _round(r["rs_1m"], 4),
            }
        )
    return out


def payment_records(payments: pl.DataFrame) -> list[dict[str, Any]]:
    """The broker's net payment per venue and order type (exact decimal strings)."""
    from pfof.model.money import money_str

    sums: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in payments.iter_rows(named=True):
        sums[(str(row["venue"]), str(row["order_type"]))] += Decimal(row["amount"])
    return [
        {"venue": venue, "order_type": otype, "net_payment_usd": money_str(usd)}
        for (venue, otype), usd in sorted(sums.items())
    ]


def _round(value: float | None, places: int) -> str | None:
    if value is None:
        return None
    from pfof.model.money import round_half_up

    return str(round_half_up(Decimal(repr(float(value))), places))
