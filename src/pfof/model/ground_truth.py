"""Arrow schemas of the simulator's ground truth: what every fill paid, earned and improved.

These tables are not canonical inputs; they are the answer key that engines (606 payments,
605/NBBO quality, PFOF attribution) are checked against, to the cent. Money columns are
exact decimals; per-fill amounts keep 12 decimals (pico-dollars) so that nothing is rounded
before aggregation, except ``pfof_usd``, which is rounded per fill to the micro-dollar as a
venue's statement would be (half away from zero) and summed into ``payments``.
"""

from __future__ import annotations

import pyarrow as pa

from pfof.model.tables import MONEY, PRICE, TS

#: Exact per-fill money (USD with 12 decimals).
EXACT = pa.decimal128(38, 12)
RATE = pa.decimal128(18, 8)

FILL_ECONOMICS = pa.schema(
    [
        ("order_id", pa.string()),
        ("seq", pa.int32()),  # the fill's seq in ``fills``
        ("date", pa.date32()),
        ("broker", pa.string()),
        ("venue", pa.string()),  # executing venue (MIC or wholesaler MPID)
        ("routed_by", pa.string()),  # wholesaler that routed the order on; null = the broker
        ("symbol", pa.string()),
        ("section", pa.string()),
        ("order_type", pa.string()),
        ("side", pa.string()),
        ("liquidity", pa.string()),  # principal / take / make / auction
        ("exec_ts", TS),
        ("quantity", pa.float64()),
        ("price", PRICE),
        ("nbbo_bid_receipt", PRICE),  # NBBO in force when the broker received the order
        ("nbbo_ask_receipt", PRICE),
        ("nbbo_bid_exec", PRICE),  # NBBO in force at execution
        ("nbbo_ask_exec", PRICE),
        ("nbbo_state_exec", pa.string()),  # normal / locked / crossed / one_sided / empty
        ("quote_position_exec", pa.string()),  # at / inside / outside; null if not two-sided
        ("outside_reason", pa.string()),  # why a fill is not within a usable NBBO
        ("pfof_basis", pa.string()),  # arrangement applied; null when none
        ("pfof_rate", RATE),
        ("pfof_usd", MONEY),  # paid by the venue to the broker (negative: broker pays)
        ("price_improvement_usd", EXACT),  # side-signed vs the NBBO far side at execution
        ("price_improvement_receipt_usd", EXACT),  # vs the far side at receipt
        ("wholesaler", pa.string()),  # whose P&L the row enters; null for none
        ("spread_capture_usd", EXACT),  # principal fills: quantity x half the quoted spread
        ("fees_usd", EXACT),  # wholesaler's clearing fees and access fees when routing on
        ("wholesaler_pnl_usd", EXACT),  # marked to the NBBO mid at execution
    ]
)

WHOLESALER_PNL = pa.schema(
    [
        ("date", pa.date32()),
        ("wholesaler", pa.string()),
        ("fills", pa.int64()),  # principal fills
        ("quantity", pa.float64()),  # shares (contracts for options) filled as principal
        ("spread_capture_usd", EXACT),
        ("price_improvement_usd", EXACT),
        ("pfof_usd", EXACT),
        ("fees_usd", EXACT),
        ("pnl_usd", EXACT),
    ]
)

GROUND_TRUTH: dict[str, pa.Schema] = {
    "fill_economics": FILL_ECONOMICS,
    "wholesaler_pnl": WHOLESALER_PNL,
}
