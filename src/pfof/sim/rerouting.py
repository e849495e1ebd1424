"""The same orders routed under another policy: a counterfactual run of the simulator.

A day's quotes, NBBO and retail orders are drawn before any routing decision, from the day's
own generator (``SeedSequence([seed, 1, day])``), so a configuration that differs only in its
brokers' routing policies produces the same market data and the same orders, byte for byte.
Between ``max_pfof`` and ``best_pi`` the routers also draw the same random numbers (one
tie-break per order and wholesaler), so every later draw - latencies, the price-improvement
noise, partial fills, cancellations - is the same too: the two runs differ only in where each
order went (common random numbers). ``fixed_split`` and ``exchanges_only`` draw differently,
so their executions share the orders and the market data but not the execution noise.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, replace

import pyarrow as pa

from pfof.sim.brokers import RoutingPolicy
from pfof.sim.calendar import Session
from pfof.sim.config import SimConfig
from pfof.sim.run import PaymentKey, add_payments, iter_days, payments_table


def rerouted(
    config: SimConfig, policy: RoutingPolicy, brokers: Collection[str] | None = None
) -> SimConfig:
    """``config`` with the routing policy of ``brokers`` (default: all) replaced by ``policy``.

    Arrangements, shares and everything else stay, so the run sees the same market and orders.
    """
    names = {b.name for b in config.brokers}
    unknown = sorted(set(brokers or ()) - names)
    if unknown:
        raise ValueError(f"unknown broker(s) {unknown}; the configuration has {sorted(names)}")
    chosen = names if brokers is None else set(brokers)
    if policy is RoutingPolicy.FIXED_SPLIT and any(
        not b.split for b in config.brokers if b.name in chosen
    ):
        raise ValueError("fixed_split needs each broker's split weights; set them first")
    out = replace(
        config,
        brokers=tuple(replace(b, policy=policy) if b.name in chosen else b for b in config.brokers),
    )
    out.validate()
    return out


@dataclass
class CounterfactualDay:
    """One day of the counterfactual run: its NBBO (the factual run's), orders, routes, fills,
    cancels and the ground-truth fill economics (venue quotes left out)."""

    session: Session
    tables: dict[str, pa.Table]


_KEEP = ("nbbo", "orders", "routes", "fills", "cancels", "fill_economics")


class ReroutedRun:
    """Iterate the days of ``config`` simulated again with ``brokers`` routing under
    ``policy``; after the last day, ``payments`` is the run's canonical monthly table.

    Memory stays at one day; the orders equal the factual run's (``same_orders`` checks it).
    """

    def __init__(
        self, config: SimConfig, policy: RoutingPolicy, brokers: Collection[str] | None = None
    ) -> None:
        self.config = rerouted(config, policy, brokers)
        self.policy = policy
        self._totals: dict[PaymentKey, int] = {}
        self._done = False

    def __iter__(self) -> Iterator[CounterfactualDay]:
        self._totals.clear()
        self._done = False
        for session, day in iter_days(self.config):
            add_payments(self._totals, session, day)
            yield CounterfactualDay(session, {name: day.tables[name] for name in _KEEP})
        self._done = True

    @property
    def payments(self) -> pa.Table:
        """The counterfactual ``payments`` (exact monthly sums of the per-fill PFOF)."""
        if not self._done:
            raise RuntimeError("iterate over every day of the run before reading payments")
        return payments_table(self._totals)


def same_orders(factual: pa.Table, counterfactual: pa.Table) -> bool:
    """True when two ``orders`` tables hold the same orders, in the same order."""
    return factual.num_rows == counterfactual.num_rows and factual.equals(counterfactual)
