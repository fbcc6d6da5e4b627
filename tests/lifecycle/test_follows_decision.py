"""The workflow follows the policy decision (issue: merchant policies as data): refused items
never reach a label or a refund, fees appear in the ledger amount, staff overrides are recorded,
and a request with nothing eligible is rejected with its reasons when the policy says so."""

from __future__ import annotations

import pypdfium2

from samples.events import item, line, return_requested
from tests.lifecycle.test_paths import (
    S, approve, receive, receive_and_inspect, status, update, wait_state,
)

NON_QUALITY = ("photos", "original_packaging", "logistics_signature")




async def test_refused_item_never_reaches_label_or_refund(harness):
    """004 §5.3: solid 950 platinum is not returnable except for quality issues — the platinum
    band stays off the label and out of the refund; a receipt of it is refused and raised."""
    event = return_requested("fine-jewelry", lines=[
        line("L1", unit_price=20000, unit_tax=0),
        line("L2", sku="PT-1", title="Platinum band", unit_price=50000, unit_tax=0,
             material="platinum_950")],
        items=[item("L1", reason="changed_mind", evidence=NON_QUALITY),
               item("L2", reason="changed_mind", evidence=NON_QUALITY)])
    handle = await harness.start(event)
    st = await wait_state(handle, S.under_review)
    refused = next(i for i in st.items if i.line_id == "L2")
    assert not refused.eligible and any("004 §5.3" in r.clause for r in refused.reasons)
    st = await approve(handle)
    label_text = "".join(page.get_textpage().get_text_range()
                         for page in pypdfium2.PdfDocument(st.label.path))
    assert "RING-1" in label_text and "PT-1" not in label_text
    await receive(handle, ("L2", 1))
    st = await status(handle)
    assert st.state == S.awaiting_shipment and st.needs_attention
    await receive_and_inspect(handle, ("L1", 1))
    final = await harness.result(handle)
    refunds = await harness.ledger.refunds(order_id=event.order.order_id)
    assert [r.amount for r in refunds] == [next(i for i in final.items if i.line_id == "L1").refund_amount]
    assert refunds[0].amount < 20000  # 004 §4.1 fee deducted, nothing for the platinum band


async def test_non_quality_fee_appears_in_the_ledger_amount(harness):
    """004 §4.1: non-quality returns have 30% of the amount deducted; the ledger refund is the
    price less that fee, exactly."""
    event = return_requested("fine-jewelry", lines=[line("L1", unit_price=20000, unit_tax=0)],
                             items=[item("L1", reason="changed_mind", evidence=NON_QUALITY)])
    handle = await harness.start(event)
    st = await wait_state(handle, S.under_review)
    fee = sum(f.amount for f in st.items[0].fees)
    assert fee == 6000 and st.items[0].refund_amount == 14000
    await approve(handle)
    await receive_and_inspect(handle, ("L1", 1))
    await harness.result(handle)
    refunds = await harness.ledger.refunds(order_id=event.order.order_id)
    assert [r.amount for r in refunds] == [14000]


async def test_staff_waive_fee_at_review_is_recorded_and_paid(harness):
    """Staff override at review (waive a fee, with a reason): recorded in the audit trail and
    the decision, and the refund is the full price."""
    event = return_requested("fine-jewelry", lines=[line("L1", unit_price=20000, unit_tax=0)],
                             items=[item("L1", reason="changed_mind", evidence=NON_QUALITY)])
    handle = await harness.start(event)
    await wait_state(handle, S.under_review)
    await update(handle, "approve", {"actor": "sam", "overrides": [
        {"line_id": "L1", "waive_fees": True, "reason": "first purchase, goodwill"}]})
    st = await wait_state(handle, S.awaiting_shipment)
    assert st.items[0].refund_amount == 20000
    assert all(f.waived for f in st.items[0].fees)
    assert any(a.action == "override" and "goodwill" in a.detail for a in st.audit)
    await receive_and_inspect(handle, ("L1", 1))
    await harness.result(handle)
    refunds = await harness.ledger.refunds(order_id=event.order.order_id)
    assert [r.amount for r in refunds] == [20000]


async def test_nothing_eligible_is_rejected_with_reasons(harness):
    """004 §2.2: returns after 15 calendar days from signature are not accepted; the policy file
    says not to queue such requests for review (auto_reject_ineligible), so the customer is told
    why at once, citing the clause."""
    event = return_requested("fine-jewelry", delivered_days_ago=40,
                             items=[item("L1", reason="changed_mind", evidence=NON_QUALITY)])
    handle = await harness.start(event)
    final = await harness.result(handle)
    assert final.state == S.rejected
    assert any("004 §2" in r.clause for r in final.items[0].reasons)
    assert "rejected" in [m["X-Notification"] for m in harness.outbox()]
    assert not list(harness.settings.labels_dir.glob("*.pdf"))
