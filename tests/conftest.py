"""Shared fixtures. ``shared`` is the read-only reference material beside the repository;
``sim_market`` is the one simulated market the simulator, engine, report and app tests share."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, settings

from pfof.sim.brokers import RoutingPolicy
from pfof.sim.config import SimConfig, default_brokers
from pfof.sim.day import DAY_TABLES
from pfof.sim.rerouting import ReroutedRun
from pfof.sim.run import SimSummary, simulate
from pfof.store import layout

SHARED = Path(os.environ.get("PFOF_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))


def shared_path(*parts: str) -> Path:
    """Path under ../shared, skipping the calling test when the material is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI must provide ../shared beside the repository")
        pytest.skip(f"reference material {path} is absent (it lives in ../shared, not in the repo)")
    return path


@pytest.fixture
def shared() -> Path:
    """The ../shared folder (skips when absent, fails in CI where it must be present)."""
    return shared_path()


settings.register_profile(
    "pfof",
    deadline=None,  # CI machines are shared and slow; speed lives in benchmarks/
    # CI replays the same examples every run (a landing must not depend on luck); local runs
    # keep exploring new ones
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "pfof"))


@pytest.fixture
def shared_606() -> Path:
    """The real 606 reports brokers published (../shared/real-606)."""
    return shared_path("real-606")


@pytest.fixture
def schwab() -> Path:
    """Charles Schwab's twelve 606(a)(1) reports."""
    return shared_path("real-606", "schwab")


@pytest.fixture
def sec606_samples() -> Path:
    """The SEC's 606 schema and sample reports (../shared/sec-606)."""
    return shared_path("sec-606")


# ------------------------------------------------------------------ the simulated market

#: The demo preset's broker (max_pfof across four wholesalers whose top payer is never the best
#: improver), added to the four default brokers so that the counterfactual has a conflict.
DEMO_BROKER = replace(SimConfig.demo().brokers[0], share=0.25)
#: The one simulated market of the test suite. Three sessions: the 2026-11-27 half day (after
#: Thanksgiving), 11-30 and 12-01 (a month end, for 606 months); five brokers covering the
#: four routing policies with per-share, per-contract and spread-fraction terms; option series;
#: few customers per broker, so that a customer has several orders.
SIM_CONFIG = SimConfig(
    days=3,
    start=date(2026, 11, 27),
    symbols=12,
    orders_per_day=3_000,
    quotes_per_day=30_000,
    option_series=4,
    seed=7,
    customers_per_broker=300,
    brokers=(*default_brokers(), DEMO_BROKER),
)


@dataclass(frozen=True)
class SimMarket:
    """A simulated run written to ``out`` (the pfof.store.layout dataset), with readers.

    Shared by the whole session: read it, never write into ``out`` (copy it first)."""

    config: SimConfig
    out: Path
    summary: SimSummary

    @property
    def demo_broker(self) -> str:
        """The broker routing for payment against the best improver (the demo's broker)."""
        return DEMO_BROKER.name

    def days(self) -> list[date]:
        """The simulated sessions, in order."""
        return layout.days(self.out)

    def read_day(self, table: str, day: date | str) -> pa.Table:
        """One day partition of a day table, as written."""
        return pq.read_table(layout.day_part(self.out, table, day))

    def read_all(self, table: str) -> pa.Table:
        """Every day partition of a day table, in day order."""
        parts = layout.day_parts(self.out, table).values()
        return pa.concat_tables([pq.read_table(p / layout.PART_FILE) for p in parts])

    def read(self, table: str) -> pa.Table:
        """An unpartitioned table: ``arrangements`` or ``payments``."""
        return pq.read_table(layout.table_file(self.out, table))

    def day_tables(
        self, day: date | str, names: tuple[str, ...] = DAY_TABLES
    ) -> dict[str, pa.Table]:
        """The named tables of one day."""
        return {name: self.read_day(name, day) for name in names}

    @staticmethod
    def for_broker(tables: dict[str, pa.Table], broker: str) -> dict[str, pa.Table]:
        """``tables`` (a day's, or a run's) cut to ``broker``'s orders; market data unchanged."""
        out = dict(tables)
        if "orders" in tables:
            orders = tables["orders"].filter(pc.equal(tables["orders"].column("broker"), broker))
            out["orders"] = orders
            for name in ("routes", "fills", "cancels"):
                if name in tables:
                    mine = pc.is_in(tables[name].column("order_id"), orders.column("order_id"))
                    out[name] = tables[name].filter(mine)
        for name in ("fill_economics", "payments", "arrangements"):
            if name in tables:
                out[name] = tables[name].filter(pc.equal(tables[name].column("broker"), broker))
        return out


@dataclass(frozen=True)
class ReroutedMarket:
    """The shared market simulated again with ``broker`` routing under ``config``'s policy:
    same market data and orders, per-day tables (nbbo, orders, routes, fills, cancels,
    fill_economics) and the run's ``payments``."""

    config: SimConfig
    broker: str
    days: list[dict[str, pa.Table]]
    payments: pa.Table


@pytest.fixture(scope="session")
def sim_market(tmp_path_factory: pytest.TempPathFactory) -> SimMarket:
    """The shared simulated market (``SIM_CONFIG``), simulated once per test session."""
    out = tmp_path_factory.mktemp("sim_market") / "out"
    return SimMarket(SIM_CONFIG, out, simulate(SIM_CONFIG, out))


@pytest.fixture(scope="session")
def sim_best_price(sim_market: SimMarket) -> ReroutedMarket:
    """The counterfactual of the shared market: the demo broker routes for the best expected
    price improvement instead of the most payment; the other brokers are unchanged."""
    run = ReroutedRun(sim_market.config, RoutingPolicy.BEST_PI, [sim_market.demo_broker])
    days = [day.tables for day in run]
    return ReroutedMarket(run.config, sim_market.demo_broker, days, run.payments)
