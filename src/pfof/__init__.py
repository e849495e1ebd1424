"""pfof: make payment for order flow measurable.

The functions a notebook user calls, each also behind a ``pfof`` command::

    import pfof

    report = pfof.read_606("606-CHAS-2020Q1.xml")          # typed, exact Decimal model
    check = pfof.validate_606("606-CHAS-2020Q1.xml", strict=True)
    con = pfof.connect("pfof.duckdb")                       # the DuckDB store
    pfof.ingest(["reports/"], con)                          # files, folders, zips
    for bq in pfof.broker_quarters(con):
        print(bq.broker, bq.year, bq.quarter, bq.total_usd)

Results are typed objects or Arrow tables; nothing is printed. Every error pfof raises on
purpose is a :class:`PfofError`. ``docs/python.md`` is a tour whose code runs in the tests.
Names are imported on first use, so ``import pfof`` (and the CLI) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from pfof.errors import (
    InputError,
    Issue,
    ParameterError,
    PfofError,
    Severity,
    StoreError,
    Validation,
    ValidationError,
)

__version__ = "0.1.0"

#: Public name -> the module that defines it (imported lazily by ``__getattr__``).
_LAZY: dict[str, str] = {
    "read_606": "pfof.formats.sec606",
    "validate_606": "pfof.formats.sec606",
    "write_606": "pfof.formats.sec606",
    "read_605": "pfof.formats.sec605",
    "validate_605": "pfof.formats.sec605",
    "rule605_summary": "pfof.app.quality605",
    "market_center_quality": "pfof.app.quality605",
    "connect": "pfof.store.schema",
    "ingest": "pfof.store.ingest",
    "broker_quarters": "pfof.app.analysis",
    "broker_quality": "pfof.engine.broker_quality",
    "stored_reports": "pfof.app.analysis",
    "generate_606": "pfof.app.analysis",
    "customer_report": "pfof.app.analysis",
    "SimConfig": "pfof.sim.config",
    "simulate": "pfof.sim.run",
    "measure_quality": "pfof.app.measure",
    "run_demo": "pfof.app.demo",
    "audit": "pfof.app.audit",
    "read_trades": "pfof.formats.trades",
    "read_quotes": "pfof.formats.market_data",
    "quotes_to_nbbo": "pfof.engine.nbbo",
    "american_option_price": "pfof.engine.option_pricing",
    "implied_volatility": "pfof.engine.option_pricing",
    "IVStatus": "pfof.engine.option_pricing",
}

__all__ = [
    "IVStatus",
    "InputError",
    "Issue",
    "ParameterError",
    "PfofError",
    "Severity",
    "SimConfig",
    "StoreError",
    "Validation",
    "ValidationError",
    "__version__",
    "american_option_price",
    "audit",
    "broker_quality",
    "broker_quarters",
    "connect",
    "customer_report",
    "generate_606",
    "implied_volatility",
    "ingest",
    "market_center_quality",
    "measure_quality",
    "quotes_to_nbbo",
    "read_605",
    "read_606",
    "read_quotes",
    "read_trades",
    "rule605_summary",
    "run_demo",
    "simulate",
    "stored_reports",
    "validate_605",
    "validate_606",
    "write_606",
]

if TYPE_CHECKING:
    from pfof.app.analysis import broker_quarters, customer_report, generate_606, stored_reports
    from pfof.app.audit import audit
    from pfof.app.demo import run_demo
    from pfof.app.measure import measure_quality
    from pfof.app.quality605 import market_center_quality, rule605_summary
    from pfof.engine.broker_quality import broker_quality
    from pfof.engine.nbbo import quotes_to_nbbo
    from pfof.engine.option_pricing import IVStatus, american_option_price, implied_volatility
    from pfof.formats.market_data import read_quotes
    from pfof.formats.sec605 import read_605, validate_605
    from pfof.formats.sec606 import read_606, validate_606, write_606
    from pfof.formats.trades import read_trades
    from pfof.sim.config import SimConfig
    from pfof.sim.run import simulate
    from pfof.store.ingest import ingest
    from pfof.store.schema import connect


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pfof' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
