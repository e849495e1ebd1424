"""The demo pipeline: a simulated month through the engine to SEC reports and an HTML report.

``run_demo`` simulates one broker's month (``SimConfig.demo()``), loads it into the DuckDB
store, measures every order against the NBBO (the broker's view and each wholesaler's),
routes the same orders again with a best-price policy, writes the wholesalers' amended
Rule 605 files, the broker's Rule 606(a)(1) XML, ``report.html`` and ``headline.json`` (with
the options figures: PFOF and price improvement per contract, cost in volatility points), and
ingests other brokers' synthetic 606 disclosures for the broker comparison. Every file it
writes is checked with pfof's own validators first. The CLI only prints what it returns.

It also proves the estimate of :mod:`pfof.engine.broker_quality`: the broker's 606 report and
the wholesalers' 605 files go into the store, and the improvement that public data implies
(606 routing x 605 quality) is set next to the exact figure of the simulated orders.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pfof import __version__
from pfof.engine.aggregate605 import detailed_rows, summary_rows
from pfof.engine.broker_quality import QualityEstimate, broker_quality, measured_improvement
from pfof.engine.counterfactual import Comparison, RoutingOutcome, compare, outcome
from pfof.engine.generate606 import held_order_routing_report
from pfof.engine.option_quality import OptionsOutcome, option_quality, options_outcome
from pfof.engine.quality import order_quality
from pfof.engine.routing import received_by_market_center, with_first_venue
from pfof.errors import ParameterError, PfofError
from pfof.formats.sec605 import validate_605
from pfof.formats.sec605_detailed import write_detailed
from pfof.formats.sec605_summary import write_summary
from pfof.formats.sec606 import validate_606, write_606
from pfof.model.market_time import MARKET_TZ, previous_quarter, quarter_bounds, year_quarter
from pfof.model.money import CENT, dec_str
from pfof.model.tables import FILLS, NBBO, ORDERS, PAYMENTS, ROUTES
from pfof.reports.html import ReportInput, write_html
from pfof.sim.brokers import RoutingPolicy
from pfof.sim.calendar import Session
from pfof.sim.config import SimConfig
from pfof.sim.market_centers import WHOLESALERS
from pfof.sim.peer_disclosures import BROKERS, quarter_report
from pfof.sim.rerouting import ReroutedRun, same_orders
from pfof.sim.run import series_table, simulate
from pfof.store import canonical, queries
from pfof.store.dataset import write_day
from pfof.store.ingest import IngestSummary, ingest
from pfof.store.order_logs import load_order_logs
from pfof.store.schema import REPORT_TABLES, RULE605_TABLES, connect

#: ``progress(step, done, total)``: called as each step advances.
Progress = Callable[[str, int, int], None]

#: Rule 605 designated participant of off-exchange market centers (FINRA).
FINRA = "T"
ALTERNATIVE = RoutingPolicy.BEST_PI
#: Names of the simulator's fictitious wholesalers for the 606 venue rows (MPID -> name).
SIMULATED_VENUES = {w.mpid: w.name for w in WHOLESALERS}
#: The simulator writes every change of the NBBO, so the quote in force at receipt is valid
#: however old it is: no staleness cut-off (illiquid names may not requote for minutes).
STALE = None
REPORT_NOTES = (
    "Simulated data (pfof.sim, SimConfig.demo()): the broker routes each order to the "
    "wholesaler paying it the most; the alternative routes the very same orders, in the same "
    "simulated market, to the wholesaler with the best expected price improvement.",
    "Price improvement is measured against the NBBO when the broker received each market or "
    "marketable limit order; PFOF is the broker's net payment (wholesaler payments less "
    "exchange access fees, plus rebates).",
)


def _quarters(end_year: int, end_quarter: int, count: int) -> list[tuple[int, int]]:
    out = []
    year, quarter = end_year, end_quarter
    for _ in range(count):
        out.append((year, quarter))
        year, quarter = previous_quarter(year, quarter)
    return out[::-1]


class DemoError(PfofError):
    """A step produced something invalid; the demo stops and says which file and why."""


@dataclass(frozen=True, slots=True)
class DemoFile:
    """A report the demo wrote: what it is, where, and how many data rows it holds."""

    what: str
    path: Path
    rows: int


@dataclass
class Month:
    """The simulated month as the engine saw it: per-order quality with the first venue,
    the same for the alternative routing, and each market center's view of its orders."""

    sessions: list[Session] = field(default_factory=list)
    orders: dict[date, pa.Table] = field(default_factory=dict)  # factual orders, as simulated
    quality: list[pa.Table] = field(default_factory=list)
    routes: list[pa.Table] = field(default_factory=list)
    mc_orders: list[pa.Table] = field(default_factory=list)
    mc_quality: list[pa.Table] = field(default_factory=list)
    fills: list[pa.Table] = field(default_factory=list)
    alt_quality: list[pa.Table] = field(default_factory=list)
    alt_routes: list[pa.Table] = field(default_factory=list)
    alt_payments: pa.Table | None = None
    # options: per-order quality in volatility terms, and the underlyings' dividend yields
    option_quality: list[pa.Table] = field(default_factory=list)
    alt_option_quality: list[pa.Table] = field(default_factory=list)
    dividend_yields: dict[str, float] = field(default_factory=dict)


def _source(config: SimConfig) -> str:
    """The store's provenance of this simulation: its settings in words and a digest of all
    of them (and of pfof's version), so that a store left by other settings, or by another
    version of the simulator, is never taken for this run's."""
    digest = hashlib.sha256(f"{__version__} {config!r}".encode()).hexdigest()[:12]
    return f"pfof demo: seed {config.seed}, {config.days} days from {config.start} ({digest})"


def _quality_source(source: str) -> str:
    return f"{source}: order quality"


def _clear_other_simulations(
    con: duckdb.DuckDBPyConnection, source: str, broker: str, centers: tuple[str, ...]
) -> None:
    """A store left by a demo with other settings is emptied of simulated rows, so that the
    days of two different simulations never mix (re-runs with the same settings keep them),
    and of that demo's own 606 and 605 reports (:func:`_forget_reports`)."""
    canonical.ensure_tables(con)
    other = con.execute(
        "SELECT count(*) FROM canonical_loads WHERE source NOT IN (?, ?)",
        [source, _quality_source(source)],
    ).fetchall()[0][0]
    if other:
        for name in [*canonical.SCHEMAS, "canonical_loads"]:
            con.execute(f'DELETE FROM "{name}"')
        _forget_reports(con, broker, centers)


def _forget_reports(con: duckdb.DuckDBPyConnection, broker: str, centers: tuple[str, ...]) -> None:
    """The simulated broker's 606 reports and the simulated market centers' 605 reports,
    removed from the store: another simulation's report of the same quarter (month) would
    otherwise stand as an edition of this run's, and its figures enter the estimate. Rows
    first, then their sources, each statement committed on its own (DuckDB checks a foreign
    key against rows deleted earlier in the same transaction)."""
    present = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    shas = [
        sha
        for (sha,) in con.execute(
            "SELECT sha256 FROM sources WHERE broker = ?", [broker]
        ).fetchall()
    ]
    if "sources_605" in present and centers:
        shas += [
            sha
            for (sha,) in con.execute(
                "SELECT sha256 FROM sources_605 WHERE market_center IN (SELECT unnest(?))",
                [list(centers)],
            ).fetchall()
        ]
    if not shas:
        return
    rows = [*REPORT_TABLES, *RULE605_TABLES]
    for name in [t for t in rows if t in present]:
        con.execute(f'DELETE FROM "{name}" WHERE sha256 IN (SELECT unnest(?))', [shas])
    if "duplicates" in present:
        con.execute("DELETE FROM duplicates WHERE of_sha256 IN (SELECT unnest(?))", [shas])
    for name in [t for t in ("sources", "sources_605") if t in present]:
        con.execute(f'DELETE FROM "{name}" WHERE sha256 IN (SELECT unnest(?))', [shas])


def _simulate(
    config: SimConfig,
    data: Path,
    con: duckdb.DuckDBPyConnection,
    source: str,
    month: Month,
    progress: Progress,
) -> None:
    def sink(session: Session | None, tables: dict[str, pa.Table]) -> None:
        if session is None:
            for name, table in tables.items():
                canonical.replace_broker_rows(con, name, table)
            return
        month.sessions.append(session)
        month.orders[session.day] = tables["orders"]
        canonical.load_day(con, session.day, tables, source)

    label = "simulating a month -> Parquet, DuckDB"
    progress(label, 0, config.days)
    simulate(config, data, progress=lambda done, total, s: progress(label, done, total), sink=sink)


def _day(con: duckdb.DuckDBPyConnection, broker: str, day: date) -> dict[str, pa.Table]:
    """One trading day's orders (New York date of receipt), their routes and fills, and the
    day's NBBO, read back from the store."""
    local = f"CAST(timezone('{MARKET_TZ}', {{}}) AS DATE)"
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _demo_orders AS SELECT * FROM orders "
        f"WHERE broker = ? AND {local.format('received_ts')} = ?",
        [broker, day],
    )
    out = {
        "orders": con.sql(
            "SELECT * FROM _demo_orders ORDER BY received_ts, order_id"
        ).to_arrow_table()
    }
    for name in ("routes", "fills"):
        out[name] = con.sql(
            f"SELECT t.* FROM {name} t SEMI JOIN _demo_orders o USING (order_id) "
            "ORDER BY t.order_id, t.seq"
        ).to_arrow_table()
    out["nbbo"] = con.sql(
        f"SELECT * FROM nbbo WHERE {local.format('ts')} = $day ORDER BY symbol, ts",
        params={"day": day},
    ).to_arrow_table()
    con.execute("DROP TABLE _demo_orders")
    schemas = {"orders": ORDERS, "routes": ROUTES, "fills": FILLS, "nbbo": NBBO}
    return {k: t.select(schemas[k].names).cast(schemas[k]) for k, t in out.items()}


def _measure(
    con: duckdb.DuckDBPyConnection,
    broker: str,
    data: Path,
    source: str,
    month: Month,
    progress: Progress,
) -> None:
    """Per-order quality of every day from the store (broker's and market centers' views),
    written to OUT/data/order_quality and loaded into the store."""
    label, total = "execution quality vs the NBBO", len(month.sessions)
    progress(label, 0, total)
    for done, session in enumerate(month.sessions, start=1):
        t = _day(con, broker, session.day)
        quality = order_quality(t["orders"], t["fills"], t["nbbo"], stale_after_ns=STALE)
        month.option_quality.append(
            option_quality(quality, t["nbbo"], dividend_yields=month.dividend_yields)
        )
        write_day(quality, data / "order_quality", session.day)
        canonical.load_day(con, session.day, {"order_quality": quality}, _quality_source(source))
        month.quality.append(with_first_venue(quality, t["routes"]))
        month.routes.append(t["routes"])
        mc = received_by_market_center(t["orders"], t["routes"])
        month.mc_orders.append(mc)
        month.mc_quality.append(
            order_quality(
                mc.drop_columns(["market_center"]), t["fills"], t["nbbo"], stale_after_ns=STALE
            )
        )
        month.fills.append(t["fills"])
        progress(label, done, total)


def _counterfactual(config: SimConfig, month: Month, progress: Progress) -> None:
    """The same orders routed by the best-expected-price-improvement policy."""
    run = ReroutedRun(config, ALTERNATIVE)
    label = "best-price routing, same orders"
    progress(label, 0, config.days)
    for done, day in enumerate(run, start=1):
        t = day.tables
        if not same_orders(month.orders[day.session.day], t["orders"]):
            raise DemoError(f"{day.session.day}: the counterfactual run drew other orders")
        alt = order_quality(t["orders"], t["fills"], t["nbbo"], stale_after_ns=STALE)
        month.alt_quality.append(alt)
        month.alt_option_quality.append(
            option_quality(alt, t["nbbo"], dividend_yields=month.dividend_yields)
        )
        month.alt_routes.append(t["routes"])
        progress(label, done, config.days)
    month.alt_payments = run.payments


def _yyyymm(d: date) -> int:
    return d.year * 100 + d.month


def _write_605(month: Month, wholesalers: tuple[str, ...], folder: Path) -> list[DemoFile]:
    """Amended 605 summary and detailed files of each wholesaler (market center) and month,
    measured from the wholesaler's receipt; every file is checked with pfof's validators.
    A summary with no market or marketable limit order holds its header row only."""
    folder.mkdir(parents=True, exist_ok=True)
    orders = pa.concat_tables(month.mc_orders)
    quality = pa.concat_tables(month.mc_quality)
    fills = pa.concat_tables(month.fills)
    written = []
    for yyyymm in sorted({_yyyymm(s.day) for s in month.sessions}):
        for center in wholesalers:
            mask = pc.equal(orders.column("market_center"), center)
            q, o = quality.filter(mask), orders.filter(mask)
            detailed = detailed_rows(
                q,
                participant=FINRA,
                entity=center,
                month=yyyymm,
                orders=o,
                fills=fills,
                market_center_venues={center},
            )
            if not detailed.rows:
                continue  # no covered order reached this center in the month
            summary = summary_rows(
                q, participant=FINRA, entity=center, month=yyyymm, orders=o, fills=fills
            )
            s_path = folder / f"{center}{yyyymm}.csv"  # the specification's file name
            d_path = folder / f"{center}{yyyymm}_detailed.txt"
            write_summary(summary.rows, s_path)  # type: ignore[arg-type]
            write_detailed(detailed.rows, d_path)  # type: ignore[arg-type]
            for path, kind in ((s_path, "summary"), (d_path, "detailed")):
                checked = validate_605(path, kind=kind)  # type: ignore[arg-type]
                if not checked.valid:
                    raise DemoError(
                        f"{path} is not a valid amended 605 {kind} file: {checked.errors[0]}"
                    )
            written += [
                DemoFile(f"amended Rule 605 summary report of {center}", s_path, len(summary.rows)),
                DemoFile(
                    f"amended Rule 605 detailed report of {center}", d_path, len(detailed.rows)
                ),
            ]
    return written


def _file_stem(name: str) -> str:
    """A firm's name as part of a file name: "Demo Brokerage (simulated)" gives
    "Demo_Brokerage_simulated" (no characters a shell would need quoted)."""
    return "_".join("".join(c if c.isalnum() else " " for c in name).split())


def _write_606(
    con: duckdb.DuckDBPyConnection, broker: str, month: Month, folder: Path
) -> list[Path]:
    """The broker's 606(a)(1) XML for each quarter simulated, checked against the schema."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    quarters = sorted({year_quarter(s.day) for s in month.sessions})
    last = month.sessions[-1]
    stamp = datetime.fromtimestamp(last.close_ns // 10**9, UTC)
    for year, quarter in quarters:
        first, end = quarter_bounds(year, quarter)
        tables = load_order_logs(con, broker=broker, start=first, end=end)
        report = held_order_routing_report(
            tables, broker, year, quarter, timestamp=stamp, venue_names=SIMULATED_VENUES
        )
        xml = write_606(report)
        path = folder / f"{_file_stem(broker)}_{year}Q{quarter}.xml"
        problems = validate_606(xml, strict=True).errors
        if problems:
            raise DemoError(f"{path}: the 606(a)(1) report breaks the SEC schema: {problems[0]}")
        path.write_bytes(xml)
        written.append(path)
    return written


def _cents(value: float | Decimal) -> str:
    return dec_str(Decimal(str(value)), CENT) or "0.00"


def _headline_json(
    comparison: Comparison, options: tuple[OptionsOutcome, OptionsOutcome] | None = None
) -> dict[str, Any]:
    """The headline's figures (dollars as strings rounded to the cent, PFOF exact), and the
    options figures of both routings when the broker traded options."""

    def side(o: RoutingOutcome) -> dict[str, Any]:
        return {
            "label": o.label,
            "price_improvement_usd": _cents(o.price_improvement_usd),
            "pfof_usd": str(o.pfof_usd),
        }

    out = {
        "actual": side(comparison.actual),
        "alternative": side(comparison.alternative),
        "price_improvement_gain_usd": _cents(comparison.pi_gain_usd),
        "pfof_change_usd": str(comparison.pfof_change_usd),
        "orders_compared": comparison.orders,
        "better": comparison.better,
        "worse": comparison.worse,
        "same": comparison.same,
    }
    if options is not None:
        out["options"] = {
            "actual": _options_json(options[0]),
            "alternative": _options_json(options[1]),
        }
    return out


def _options_json(o: OptionsOutcome) -> dict[str, Any]:
    """One routing's options figures (per-contract dollars and volatility points to four
    decimals, PFOF exact)."""

    def rounded(value: float | None, places: int) -> str | None:
        return None if value is None else f"{value:.{places}f}"

    return {
        "label": o.label,
        "marketable_orders": o.orders,
        "contracts": o.contracts,
        "pfof_usd": str(o.pfof_usd),
        "pfof_per_contract_usd": rounded(o.pfof_per_contract, 4),
        "price_improvement_per_contract_usd": rounded(o.pi_per_contract, 4),
        "cost_vol_points": rounded(o.vol_points, 4),
        "vol_point_orders": o.vol_point_orders,
    }


def _disclosures(out: Path, quarters: int, seed: int) -> tuple[IngestSummary, pa.Table]:
    """Several brokers' synthetic 606 reports, ingested into the store; (summary, cells)."""
    xml_dir = out / "606"
    xml_dir.mkdir(parents=True, exist_ok=True)
    for broker in BROKERS:
        for year, quarter in _quarters(2026, 3, quarters):
            report = quarter_report(broker, year, quarter, seed)
            name = _file_stem(broker.name)
            (xml_dir / f"{name}_{year}Q{quarter}.xml").write_bytes(write_606(report))
    con = connect(str(out / "pfof.duckdb"))
    try:
        return ingest([xml_dir], con), queries.disclosure_cells(con)
    finally:
        con.close()


@dataclass(frozen=True, slots=True)
class EstimateCheck:
    """The broker's improvement estimated from its 606 report and the wholesalers' 605 files
    next to the exact figure of its simulated orders, for one section and order type
    (``all``: combined), in cents per 100 shares."""

    section: str
    order_type: str
    estimate: Decimal | None
    exact: Decimal | None
    pfof: Decimal | None  # the 606 report's payment-weighted rate
    coverage: Decimal | None  # fraction of routed orders whose venue has 605 data

    @property
    def error(self) -> Decimal | None:
        """``estimate - exact`` (cents per 100 shares)."""
        if self.estimate is None or self.exact is None:
            return None
        return self.estimate - self.exact


def _own_reports(
    con: duckdb.DuckDBPyConnection, broker: str, month: Month, folders: list[Path]
) -> tuple[IngestSummary, list[EstimateCheck], list[QualityEstimate]]:
    """The broker's 606 report and the wholesalers' 605 files into the store, then the
    estimate of each group next to the exact improvement of the broker's orders first routed
    to a market center with a 605 file."""
    ingested = ingest(folders, con)
    if ingested.rejected:
        first = ingested.rejected[0]
        raise DemoError(f"{first.path}: the store refused the demo's own report: {first.reason}")
    estimates = broker_quality(con, broker=broker)
    centers = {p.name[:4] for p in folders[0].glob("*_detailed.txt")}
    exact = measured_improvement(
        pa.concat_tables(month.quality), pa.concat_tables(list(month.orders.values())), centers
    )
    checks = [
        EstimateCheck(
            e.section,
            e.order_type,
            e.pi_cents_per_100,
            exact.get((e.section, e.order_type)),
            e.pfof_cents_per_100,
            e.coverage,
        )
        for e in estimates
    ]
    return ingested, checks, estimates


@dataclass
class DemoResult:
    """What the demo measured and wrote (paths relative to ``out`` where listed)."""

    out: Path
    broker: str
    period: str
    orders: int
    comparison: Comparison
    files_605: list[DemoFile]
    files_606: list[Path]
    disclosures: IngestSummary
    disclosure_cells: pa.Table
    disclosure_brokers: int
    disclosure_quarters: int
    #: What ``report.html`` was rendered from (per-order quality, payments, comparison).
    report: ReportInput
    #: Options figures of the actual and the best-price routing; None without options.
    options: tuple[OptionsOutcome, OptionsOutcome] | None = None
    #: The broker's own 606 report and the wholesalers' 605 files, as ingested into the store.
    own_reports: IngestSummary | None = None
    #: Estimated (606 x 605) against exact price improvement, per section and order type.
    estimate_checks: list[EstimateCheck] = field(default_factory=list)
    #: The estimates themselves (``pfof brokers --quality`` rows of the simulated broker).
    estimates: list[QualityEstimate] = field(default_factory=list)

    @property
    def store(self) -> Path:
        """The DuckDB store of all of it."""
        return self.out / "pfof.duckdb"

    @property
    def example_605(self) -> DemoFile | None:
        """A Rule 605 file worth opening: the first summary with data rows, else the first
        file with any (a summary of a wholesaler without covered orders is a header only)."""
        with_rows = [f for f in self.files_605 if f.rows]
        summaries = [f for f in with_rows if f.path.suffix == ".csv"]
        candidates = summaries or with_rows
        return candidates[0] if candidates else None


def _options(
    month: Month, actual: str, alternative: str, payments: pa.Table
) -> tuple[OptionsOutcome, OptionsOutcome] | None:
    """Options figures of the actual and the best-price routing (None without options)."""
    if not month.option_quality or not any(t.num_rows for t in month.option_quality):
        return None
    assert month.alt_payments is not None
    return (
        options_outcome(actual, pa.concat_tables(month.option_quality), payments),
        options_outcome(
            alternative, pa.concat_tables(month.alt_option_quality), month.alt_payments
        ),
    )


def run_demo(
    out: str | Path,
    *,
    seed: int = 0,
    days: int | None = None,
    quarters: int = 4,
    config: SimConfig | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """Run the whole demo into ``out``; raises :class:`DemoError` when a file would be invalid,
    :class:`~pfof.errors.ParameterError` for settings it cannot run or an ``out`` that is a file.

    ``config`` is the simulation (default ``SimConfig.demo(seed=seed)``; its first broker is
    the one measured), ``days`` shortens it; ``seed`` also seeds the other brokers' synthetic
    606 disclosures, ``quarters`` of each. ``out/data`` and ``out/reports`` are rewritten on
    every run; the store keeps rows of a previous run with the same settings and drops those
    of other settings.

    >>> import pfof
    >>> result = pfof.run_demo("pfof-demo", days=5)      # doctest: +SKIP
    >>> result.comparison.pi_gain_usd > 0                 # doctest: +SKIP
    True
    """
    out = Path(out)
    report = progress or (lambda step, done, total: None)
    config = config or SimConfig.demo(seed=seed)
    if days is not None:
        config = replace(config, days=days)
    broker_cfg = config.brokers[0]
    broker = broker_cfg.name
    data, reports = out / "data", out / "reports"
    source = _source(config)
    month = Month()
    month.dividend_yields = {
        r["underlying"]: r["dividend_yield"] for r in series_table(config).to_pylist()
    }
    config.validate()  # before anything of a previous run is removed
    if out.exists() and not out.is_dir():
        raise ParameterError(f"{out}: is a file; expected a folder for the demo's files")
    for folder in (data, reports):
        if folder.is_dir():
            shutil.rmtree(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(f"{out}: cannot create the folder ({exc.strerror or exc})") from exc
    con = connect(str(out / "pfof.duckdb"))
    try:
        _clear_other_simulations(con, source, broker, broker_cfg.wholesalers)
        _simulate(config, data, con, source, month, report)
        _measure(con, broker, data, source, month, report)
        _counterfactual(config, month, report)
        report("writing Rule 605 and 606 reports", 0, 1)
        files_605 = _write_605(month, broker_cfg.wholesalers, reports / "605")
        files_606 = _write_606(con, broker, month, reports / "606")
        report("writing Rule 605 and 606 reports", 1, 1)
        own, checks, estimates = _own_reports(
            con, broker, month, [reports / "605", reports / "606"]
        )
        payments = (
            con.sql(
                "SELECT * FROM payments WHERE broker = $broker ORDER BY ALL",
                params={"broker": broker},
            )
            .to_arrow_table()
            .cast(PAYMENTS)
        )
    finally:
        con.close()

    quality = pa.concat_tables(month.quality)
    actual = outcome(
        f"actual ({broker_cfg.policy.value})", quality, payments, pa.concat_tables(month.routes)
    )
    assert month.alt_payments is not None
    alternative = outcome(
        f"best price ({ALTERNATIVE.value})",
        pa.concat_tables(month.alt_quality),
        month.alt_payments,
        pa.concat_tables(month.alt_routes),
    )
    comparison = compare(actual, alternative, quality, pa.concat_tables(month.alt_quality))
    options = _options(month, actual.label, alternative.label, payments)
    first, last = month.sessions[0].day, month.sessions[-1].day
    period = (
        f"{first:%B %Y}"
        if (first.year, first.month) == (last.year, last.month)
        else f"{first} to {last}"
    ) + f" ({len(month.sessions)} trading days)"
    files = [(f.what, f"reports/605/{f.path.name}") for f in files_605]
    files += [
        ("the broker's Rule 606(a)(1) report (XML)", f"reports/606/{p.name}") for p in files_606
    ]
    files += [
        ("simulated canonical tables and per-order quality (Parquet)", "data/"),
        ("the headline figures (JSON)", "headline.json"),
        ("other brokers' 606(a)(1) disclosures (synthetic), compared by the CLI", "606/"),
        ("DuckDB store: simulated tables, order quality, 605 and 606 reports", "pfof.duckdb"),
    ]
    report("writing the HTML report", 0, 1)
    html_input = ReportInput(
        title="Payment for order flow and execution quality",
        broker=broker,  # the simulated broker's name says "(simulated)"
        period=period,
        quality=quality,
        payments=payments,
        comparison=comparison,
        files=files,
        notes=REPORT_NOTES,
        options=options,
    )
    write_html(html_input, out / "report.html")
    (out / "headline.json").write_text(
        json.dumps(_headline_json(comparison, options), indent=2) + "\n"
    )
    report("writing the HTML report", 1, 1)
    summary, cells = _disclosures(out, quarters, seed)
    return DemoResult(
        out=out,
        broker=broker,
        period=period,
        orders=quality.num_rows,
        comparison=comparison,
        options=options,
        files_605=files_605,
        files_606=files_606,
        disclosures=summary,
        disclosure_cells=cells,
        disclosure_brokers=len(BROKERS),
        disclosure_quarters=quarters,
        report=html_input,
        own_reports=own,
        estimate_checks=checks,
        estimates=estimates,
    )
