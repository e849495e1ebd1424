"""Simulation parameters, with a default multi-broker market and the ``demo`` preset."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from pfof.errors import ParameterError
from pfof.sim.brokers import (
    EXCHANGES,
    Broker,
    RoutingPolicy,
    all_terms,
    per_share_terms,
    spread_fraction_terms,
)
from pfof.sim.market_centers import (
    EQUITY_EXCHANGES,
    EXCHANGE_BY_MIC,
    WHOLESALER_BY_ID,
    PriceImprovementModel,
)


def default_brokers() -> tuple[Broker, ...]:
    """Four brokers, one per routing policy (fictitious firms, named "... (simulated)").

    Per-share rates are in the range Charles Schwab disclosed for 2022 Q4 in its Rule 606
    reports (about 10 cents per 100 shares for market orders, 28-33 cents per 100 shares for
    non-marketable limit orders, 50-58 cents per options contract); they differ a little by
    wholesaler so that maximising PFOF is a real choice.
    """
    zerofee_terms = (
        per_share_terms(
            "SIMA",
            ("0.0012", "0.0012", "0.0033", "0.0010"),
            ("0.0015", "0.0015", "0.0028", "0.0012"),
            "0.55",
        )
        + per_share_terms(
            "SIMB",
            ("0.0011", "0.0011", "0.0032", "0.0009"),
            ("0.0014", "0.0014", "0.0028", "0.0011"),
        )
        + per_share_terms(
            "SIMC",
            ("0.0010", "0.0010", "0.0031", "0.0010"),
            ("0.0013", "0.0013", "0.0027", "0.0010"),
        )
        + per_share_terms(
            "SIMD",
            ("0.0009", "0.0010", "0.0032", "0.0015"),
            ("0.0012", "0.0012", "0.0028", "0.0014"),
        )
        + per_share_terms("SIMG", ("0", "0", "0", "0"), ("0", "0", "0", "0"), "0.58")
    )
    bestex_terms = (
        spread_fraction_terms("SIMA", "0.10", "0.50")
        + spread_fraction_terms("SIMB", "0.05")
        + spread_fraction_terms("SIMC", "0.02")
    )
    split_terms = per_share_terms(
        "SIMA",
        ("0.0010", "0.0010", "0.0030", "0.0010"),
        ("0.0012", "0.0012", "0.0025", "0.0010"),
        "0.45",
    ) + per_share_terms(
        "SIMB",
        ("0.0010", "0.0010", "0.0030", "0.0010"),
        ("0.0012", "0.0012", "0.0025", "0.0010"),
    )
    return (
        Broker(
            "ZeroFee Broker (simulated)",
            RoutingPolicy.MAX_PFOF,
            0.45,
            ("SIMA", "SIMB", "SIMC", "SIMD", "SIMG"),
            zerofee_terms,
        ),
        Broker(
            "BestPrice Broker (simulated)",
            RoutingPolicy.BEST_PI,
            0.25,
            ("SIMA", "SIMB", "SIMC"),
            bestex_terms,
            nml_to=EXCHANGES,
        ),
        Broker(
            "ExchangeOnly Broker (simulated)",
            RoutingPolicy.EXCHANGES_ONLY,
            0.10,
            ("SIMA",),
            per_share_terms("SIMA", ("0",) * 4, ("0",) * 4, "0.30"),
            nml_to=EXCHANGES,
        ),
        Broker(
            "Split Broker (simulated)",
            RoutingPolicy.FIXED_SPLIT,
            0.20,
            ("SIMA", "SIMB"),
            split_terms,
            split=(("SIMA", 0.5), ("SIMB", 0.3), (EXCHANGES, 0.2)),
        ),
    )


@dataclass(frozen=True)
class OrderMix:
    """Shares of order types and sizes in the retail flow (sum of type shares = 1)."""

    market: float = 0.42
    marketable_limit: float = 0.16
    non_marketable_limit: float = 0.32
    stop: float = 0.05
    on_open: float = 0.025
    on_close: float = 0.025
    fractional: float = 0.15  # dollar-amount orders with fractional quantities
    odd_lot: float = 0.45  # 1-99 shares
    tail_alpha: float = 1.6  # Pareto tail index of round-lot sizes
    max_shares: int = 50_000
    directed: float = 0.02
    not_held: float = 0.01
    sell_short: float = 0.03
    cancel: float = 0.30  # resting orders cancelled by the customer before a fill


#: (lowest, highest) value of each size: a simulated day is held in memory (about 1.4 KB per
#: order and 150 bytes per quote update), so 2 million orders and 20 million quote updates a
#: day stay within a few GB; days run one after another (time, not memory).
LIMITS: dict[str, tuple[int, int]] = {
    "days": (1, 2_520),  # ten years of sessions
    "symbols": (2, 10_000),
    "orders_per_day": (1, 2_000_000),
    "quotes_per_day": (1, 20_000_000),
    "option_series": (0, 1_000),
    "customers_per_broker": (1, 10_000_000),
    "seed": (0, 2**128 - 1),  # numpy's generators take non-negative seeds
}
#: First and last start day: trading days must stay inside nanosecond timestamps (1677-2262).
FIRST_START = date(1900, 1, 1)
LAST_START = date(2199, 12, 31)


@dataclass(frozen=True)
class SimConfig:
    """Everything that determines a simulation; same config and seed, same bytes."""

    days: int = 5
    start: date = date(2026, 11, 23)
    symbols: int = 40
    orders_per_day: int = 20_000
    quotes_per_day: int = 200_000
    seed: int = 0
    option_series: int = 12
    option_order_share: float = 0.06
    brokers: tuple[Broker, ...] = field(default_factory=default_brokers)
    exchanges: tuple[str, ...] = tuple(e.mic for e in EQUITY_EXCHANGES)
    pi: PriceImprovementModel = field(default_factory=PriceImprovementModel)
    mix: OrderMix = field(default_factory=OrderMix)
    calendar: str = "XNYS"
    p_lock_cross: float = 0.002  # per quote event
    one_sided_per_day: float = 0.6  # mean one-sided episodes per symbol-day (illiquid more)
    customers_per_broker: int = 20_000

    @classmethod
    def demo(cls, **overrides: object) -> SimConfig:
        """One broker maximising PFOF across four wholesalers, two options market makers and
        the exchanges, one month; 6 % of its orders are on listed options (docs/options.md).

        The top payer differs by section and order type and is never the wholesaler with the
        best price improvement (SIMA) for marketable orders, so routing for payment costs
        customers something that a best-price policy on the same orders would recover.
        """
        zerofee = default_brokers()[0]
        wholesalers = ("SIMA", "SIMB", "SIMC", "SIMD", "SIMG", "SIMH")
        terms = (
            per_share_terms(
                "SIMA",
                ("0.0010", "0.0011", "0.0033", "0.0010"),
                ("0.0013", "0.0013", "0.0026", "0.0011"),
                "0.50",
            )
            + per_share_terms(
                "SIMB",
                ("0.0011", "0.0013", "0.0031", "0.0010"),
                ("0.0016", "0.0014", "0.0028", "0.0012"),
            )
            + per_share_terms(
                "SIMC",
                ("0.0010", "0.0010", "0.0030", "0.0012"),
                ("0.0014", "0.0016", "0.0027", "0.0011"),
            )
            + per_share_terms(
                "SIMD",
                ("0.0013", "0.0012", "0.0031", "0.0009"),
                ("0.0012", "0.0012", "0.0029", "0.0014"),
            )
            # Options market makers: the top payer per contract improves option orders least.
            + per_share_terms("SIMG", ("0",) * 4, ("0",) * 4, "0.65")
            + per_share_terms("SIMH", ("0",) * 4, ("0",) * 4, "0.45")
        )
        broker = replace(
            zerofee,
            name="Demo Brokerage (simulated)",
            share=1.0,
            wholesalers=wholesalers,
            arrangements=terms,
        )
        base = cls(
            days=21,
            start=date(2026, 10, 1),
            symbols=30,
            orders_per_day=4_000,
            quotes_per_day=60_000,
            option_series=12,
            option_order_share=0.06,
            brokers=(broker,),
            customers_per_broker=5_000,
        )
        return replace(base, **overrides)  # type: ignore[arg-type]

    def validate(self) -> None:
        """Raise ValueError naming the first inconsistent parameter, or
        :class:`~pfof.errors.ParameterError` for a size pfof cannot hold (:data:`LIMITS`)."""
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ParameterError(f"{name} must be from {low:,} to {high:,}, got {value:,}")
        if not FIRST_START <= self.start <= LAST_START:
            raise ParameterError(
                f"start must be from {FIRST_START} to {LAST_START} (nanosecond timestamps end "
                f"in 2262), got {self.start}"
            )
        if self.orders_per_day < 1 or self.quotes_per_day < self.symbols * 20:
            raise ValueError(
                "orders_per_day must be >= 1 and quotes_per_day >= 20 per symbol "
                f"(got {self.orders_per_day}, {self.quotes_per_day})"
            )
        if len(self.exchanges) < 1:
            raise ValueError("at least one exchange is needed")
        for mic in self.exchanges:
            if mic not in EXCHANGE_BY_MIC:
                raise ValueError(f"unknown exchange MIC {mic!r}")
        if not self.brokers:
            raise ValueError("at least one broker is needed")
        names = [b.name for b in self.brokers]
        if len(set(names)) != len(names):
            raise ValueError(f"broker names must be unique: {names}")
        for b in self.brokers:
            for w in b.wholesalers:
                if w not in WHOLESALER_BY_ID:
                    raise ValueError(f"broker {b.name}: unknown wholesaler {w!r}")
            for a in all_terms(b, self.exchanges):
                scaled = a.rate * Decimal(10) ** 8
                if scaled != scaled.to_integral_value():
                    raise ValueError(f"broker {b.name}: rate {a.rate} has more than 8 decimals")
            if b.policy == RoutingPolicy.FIXED_SPLIT:
                if not b.split or abs(sum(w for _, w in b.split) - 1.0) > 1e-9:
                    raise ValueError(f"broker {b.name}: fixed split weights must sum to 1")
                for v, _ in b.split:
                    if v != EXCHANGES and v not in b.wholesalers:
                        raise ValueError(f"broker {b.name}: split venue {v!r} not a wholesaler")
            elif b.policy != RoutingPolicy.EXCHANGES_ONLY and not any(
                WHOLESALER_BY_ID[w].equities for w in b.wholesalers
            ):
                raise ValueError(f"broker {b.name}: needs at least one equity wholesaler")
