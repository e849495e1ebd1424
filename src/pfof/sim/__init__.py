"""Simulated market: quotes, retail orders, brokers, wholesalers, exchanges, payments.

``simulate(SimConfig(...), out_dir)`` writes the canonical tables (and the ground truth) as
Parquet partitioned by day; ``day_tables(config, i)`` returns one day in memory;
``SimConfig.demo()`` is the preset behind ``pfof demo``. See docs/simulator.md.
Names are imported lazily so that importing a submodule stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "SimConfig": "pfof.sim.config",
    "SimSummary": "pfof.sim.run",
    "day_tables": "pfof.sim.run",
    "iter_days": "pfof.sim.run",
    "simulate": "pfof.sim.run",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pfof.sim' has no attribute {name!r}")
