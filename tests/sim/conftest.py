"""A tiny simulation shared by the simulator tests (three sessions incl. the 2026-11-27
half day, a dozen stocks and a few option series)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pfof.sim.config import SimConfig
from pfof.sim.run import SimSummary, simulate

TINY = SimConfig(
    days=3,
    start=date(2026, 11, 25),
    symbols=12,
    orders_per_day=3_000,
    quotes_per_day=30_000,
    option_series=4,
    seed=7,
)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimSummary]:
    out = tmp_path_factory.mktemp("sim") / "out"
    return out, simulate(TINY, out)


@pytest.fixture(scope="session")
def tiny_config() -> SimConfig:
    return TINY


@pytest.fixture(scope="session")
def tiny_out(tiny_run: tuple[Path, SimSummary]) -> Path:
    return tiny_run[0]


def read_all(out: Path, name: str) -> pa.Table:
    """All day partitions of a table, in day order."""
    parts = sorted((out / name).glob("date=*/part-0.parquet"))
    return pa.concat_tables([pq.read_table(p) for p in parts])


def days(out: Path) -> list[str]:
    return sorted(p.name.removeprefix("date=") for p in (out / "quotes").iterdir())


def read_day(out: Path, name: str, day: str) -> pa.Table:
    return pq.read_table(out / name / f"date={day}" / "part-0.parquet")


@pytest.fixture(scope="session")
def simio() -> SimpleNamespace:
    """Readers for the simulator's Parquet layout."""
    return SimpleNamespace(read_all=read_all, days=days, read_day=read_day)
