"""Venues: lit exchanges (by ISO 10383 MIC) with access fees and rebates, and wholesalers.

The exchanges are real ones, named by their ISO 10383 MICs, because their quotes make up the
modelled NBBO; their fees and rebates are illustrative round numbers in the range of published
exchange fee schedules (the Rule 610 access-fee cap is $0.0030/share), not any exchange's
current schedule. The wholesalers are fictitious: ``SIM`` + a letter as MPID and a name ending
in "(simulated)", so that nothing the simulator writes (a Rule 605 file named after its MPID,
a 606 venue row) can pass for a real firm's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Exchange:
    """A lit venue: quotes, rests non-marketable limit orders, charges takers, pays makers.

    ``take_fee`` is what a liquidity taker pays per share (negative on inverted venues, where
    the taker is paid); ``make_rebate`` is what a resting order earns per share when it fills
    (negative where makers pay). ``share`` weights how often the venue updates its quote.
    """

    mic: str
    name: str
    take_fee: Decimal
    make_rebate: Decimal
    share: float
    options: bool = False


@dataclass(frozen=True)
class Wholesaler:
    """An off-exchange market maker that internalises retail orders and pays for them.

    ``pi_base`` is the fraction of the quoted half spread it returns as price improvement
    when it pays nothing (``a`` in docs/simulator.md); ``clearing_fee`` its per-share (per
    contract) cost of clearing and regulatory fees; ``options``/``equities`` what it trades.
    """

    mpid: str
    name: str
    pi_base: float
    clearing_fee: Decimal = Decimal("0.00002")
    options: bool = False
    equities: bool = True


EQUITY_EXCHANGES: tuple[Exchange, ...] = (
    Exchange("XNYS", "New York Stock Exchange", Decimal("0.0030"), Decimal("0.0020"), 0.12),
    Exchange("XNAS", "Nasdaq Stock Market", Decimal("0.0030"), Decimal("0.0029"), 0.14),
    Exchange("ARCX", "NYSE Arca", Decimal("0.0030"), Decimal("0.0024"), 0.09),
    Exchange("BATS", "Cboe BZX", Decimal("0.0030"), Decimal("0.0025"), 0.08),
    Exchange("BATY", "Cboe BYX (inverted)", Decimal("-0.0005"), Decimal("-0.0015"), 0.04),
    Exchange("EDGX", "Cboe EDGX", Decimal("0.0030"), Decimal("0.0020"), 0.08),
    Exchange("EDGA", "Cboe EDGA", Decimal("0.0030"), Decimal("-0.0010"), 0.03),
    Exchange("XBOS", "Nasdaq BX (inverted)", Decimal("-0.0005"), Decimal("-0.0020"), 0.03),
    Exchange("XPHL", "Nasdaq PSX", Decimal("0.0030"), Decimal("0.0020"), 0.02),
    Exchange("MEMX", "Members Exchange", Decimal("0.0030"), Decimal("0.0030"), 0.07),
    Exchange("IEXG", "Investors Exchange", Decimal("0.0009"), Decimal("0.0000"), 0.05),
    Exchange("XCHI", "NYSE Chicago", Decimal("0.0030"), Decimal("0.0020"), 0.02),
    Exchange("XASE", "NYSE American", Decimal("0.0030"), Decimal("0.0020"), 0.02),
    Exchange("XCIS", "NYSE National", Decimal("0.0030"), Decimal("0.0020"), 0.02),
    Exchange("LTSE", "Long-Term Stock Exchange", Decimal("0.0030"), Decimal("0.0020"), 0.01),
    Exchange("EPRL", "MIAX Pearl Equities", Decimal("0.0030"), Decimal("0.0030"), 0.04),
)

OPTIONS_EXCHANGES: tuple[Exchange, ...] = (
    Exchange("XCBO", "Cboe Options", Decimal("0.50"), Decimal("0.25"), 0.20, True),
    Exchange("BATO", "Cboe BZX Options", Decimal("0.50"), Decimal("0.25"), 0.10, True),
    Exchange("XISX", "Nasdaq ISE", Decimal("0.50"), Decimal("0.25"), 0.15, True),
    Exchange("XPHO", "Nasdaq PHLX", Decimal("0.50"), Decimal("0.25"), 0.15, True),
    Exchange("AMXO", "NYSE American Options", Decimal("0.50"), Decimal("0.25"), 0.15, True),
    Exchange("ARCO", "NYSE Arca Options", Decimal("0.50"), Decimal("0.25"), 0.10, True),
    Exchange("XMIO", "MIAX Options", Decimal("0.50"), Decimal("0.25"), 0.15, True),
)

#: The simulated wholesalers: fictitious firms, their IDs marked as simulated by ``SIM``.
WHOLESALERS: tuple[Wholesaler, ...] = (
    Wholesaler("SIMA", "Wholesaler A (simulated)", 0.55, options=True),
    Wholesaler("SIMB", "Wholesaler B (simulated)", 0.50),
    Wholesaler("SIMC", "Wholesaler C (simulated)", 0.52),
    Wholesaler("SIMD", "Wholesaler D (simulated)", 0.45),
    Wholesaler("SIME", "Wholesaler E (simulated)", 0.42),
    Wholesaler("SIMF", "Wholesaler F (simulated)", 0.48),
    Wholesaler("SIMG", "Options Market Maker G (simulated)", 0.0, options=True, equities=False),
    Wholesaler("SIMH", "Options Market Maker H (simulated)", 0.0, options=True, equities=False),
)
#: Where an options order goes when its broker names no options market maker.
DEFAULT_OPTIONS_MAKER = WHOLESALERS[0].mpid

EXCHANGE_BY_MIC = {e.mic: e for e in EQUITY_EXCHANGES + OPTIONS_EXCHANGES}
WHOLESALER_BY_ID = {w.mpid: w for w in WHOLESALERS}


@dataclass(frozen=True)
class PriceImprovementModel:
    """How much of the half spread a wholesaler returns, and how PFOF erodes it.

    For an order whose NBBO half spread is ``h`` ($/share) and for which the wholesaler pays
    ``p`` ($/share) to the broker, the improvement fraction of ``h`` is
    ``clip(a_w - slope * p / h + N(0, noise), 0, cap)``, and with probability ``p_at_quote``
    the order fills at the quote with no improvement. ``a_w`` is the wholesaler's
    ``pi_base``. PI per share is that fraction times ``h``, floored to $0.0001.
    """

    slope: float = 1.0
    noise: float = 0.08
    cap: float = 0.95
    p_at_quote: float = 0.12
    p_partial: float = 0.02
    p_route_away: float = 0.01
