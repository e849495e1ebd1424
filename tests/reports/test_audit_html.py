"""The trade-audit HTML report: one offline file with the distribution, the worst fills first
and the payment estimate, escaped, deterministic, small for many trades."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pfof.engine.trade_audit import TradeAudit, summarise_audit
from pfof.model.enums import Section
from pfof.model.trade_records import AuditFlag, TradePosition
from pfof.reports.audit_html import ALL_TRADES, AuditReport, render_audit_html, write_audit_html


def trade(i: int, pi: str | None, pfof: str | None = None) -> TradeAudit:
    t = TradeAudit(
        trade_id=f"T{i:04d}",
        symbol="<b>AAPL</b>",
        side="buy",
        quantity=Decimal(10),
        price=Decimal("155.86"),
        line=i + 2,
        section=Section.SP500,
        multiplier=1,
        stated_order_type="market",
        order_type=None,
        broker="Broker",
        venue=None,
        lookup_ts=0,
    )
    if pi is not None:
        t.price_improvement_per_share = Decimal(pi)
        t.price_improvement_usd = Decimal(pi) * 10
        value = Decimal(pi)
        t.position = (
            TradePosition.INSIDE
            if value > 0
            else TradePosition.OUTSIDE
            if value < 0
            else TradePosition.AT
        )
    else:
        t.flags.append(AuditFlag.SYMBOL_NOT_IN_QUOTES)
    if pfof is not None:
        t.pfof_estimate_usd = Decimal(pfof)
        t.pfof_basis = "routing_weighted"
    return t


def report(trades: list[TradeAudit]) -> AuditReport:
    return AuditReport("Audit <of> mine", trades, summarise_audit(trades), ["a note"], ["t.csv"])


def test_the_report_is_offline_escaped_and_lists_the_worst_fills_first(tmp_path: Path) -> None:
    trades = [trade(0, "0.005", "0.01"), trade(1, "-0.02", "0.01"), trade(2, None), trade(3, "0")]
    path = write_audit_html(report(trades), tmp_path / "r" / "audit.html")
    html = path.read_text(encoding="utf-8")
    assert "<script src=" not in html and "Plotly.newPlot" in html
    assert "Audit &lt;of&gt; mine" in html and "<b>AAPL</b>" not in html
    worst = html.split('id="worst-fills"', 1)[1].split("</section>", 1)[0]
    assert worst.index("T0001") < worst.index("T0003") < worst.index("T0000")
    assert "T0002" not in worst  # no quote, no figure: not a fill to rank
    assert 'id="pfof"' in html and "symbol_not_in_quotes" in html and "a note" in html
    assert render_audit_html(report(trades)) == html


def test_many_trades_keep_the_report_small_and_without_estimates_no_payment_chart() -> None:
    trades = [trade(i, f"{(i % 7 - 3) / 1000}") for i in range(ALL_TRADES * 10)]
    html = render_audit_html(report(trades))
    assert 'id="trades"' not in html and 'id="worst-fills"' in html
    assert 'id="pfof"' not in html
    small = render_audit_html(report(trades[:10]))
    assert len(html) - len(small) < 50_000  # charts are aggregates, not a point per trade
