"""The order-line activities' inputs, as the return workflow builds them."""

from __future__ import annotations

from activities import contracts as c
from returns.order_lines import RefundOfLine, UnitsOfLine
from samples.events import line, return_requested


def test_a_call_for_a_return_carries_its_order_and_its_step_key():
    request = return_requested("opalook", lines=[line("L1", quantity=2, unit_price=15000), line("L2")])
    call = c.ReserveOrderLines.for_return(request, "return-opalook-R1", "order-lines:reserve",
                                          lines=[UnitsOfLine(line_id="L1", units=2)])
    assert call.idempotency_key == "return-opalook-R1:order-lines:reserve"
    assert (call.order.merchant_id, call.order.order_id) == ("opalook", request.order.order_id)
    assert [(ln.line_id, ln.units, ln.paid) for ln in call.order.lines] == [
        ("L1", 2, 30000), ("L2", 1, 20000)]


def test_a_claim_adds_up_to_the_refund_it_covers():
    claim = c.ClaimLineRefund.for_return(
        return_requested("opalook", lines=[line("L1"), line("L2")]), "return-opalook-R1",
        "order-lines:refund",
        lines=[RefundOfLine(line_id="L1", units=1, amount=12000),
               RefundOfLine(line_id="L2", units=1, amount=800)])
    assert claim.amount == 12800
