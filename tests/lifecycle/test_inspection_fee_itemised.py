"""The inspection fee itemised end to end (003 §V.1.4), on the real workflow and worker: after
`record_inspection` with a fee, the status carries it on its line (`ItemStatus.inspection_fee`),
the customer's page shows the fee line and the closing email lists it.
`record_inspection` sets `ItemStatus.inspection_fee`; the "closed" and "refund_issued" emails get
`refund_lines=itemised(...)` (returns/refund_itemised.py)."""

from __future__ import annotations


from customer_page import view
from returns.status import ReturnState as S
from samples.events import item, return_requested
from tests.lifecycle.test_paths import update, wait_state
from tests.lifecycle.test_staff_notices import approved_and_received


async def test_the_fee_reaches_the_status_the_page_and_the_closing_email(harness):
    event = return_requested("pearl-platform", delivered_days_ago=20, country="US",
                             currency="USD", items=[item("L1", reason="changed_mind",
                                                         evidence=("photos", "original_packaging"))])
    handle = await harness.start(event)
    await wait_state(handle, S.under_review)
    await approved_and_received(handle)
    await update(handle, "record_inspection", {"actor": "ines", "items": [
        {"line_id": "L1", "passed": True, "checks_confirmed": True, "inspection_fee": 1500}]})
    final = await harness.result(handle)
    assert final.items[0].inspection_fee == 1500
    page = view.build(final, None, None, "en")
    assert page.items[0].inspection_fee == "Inspection fee deducted: −$15.00"
    closing = [m for m in harness.outbox() if m["X-Notification"] in ("closed", "refund_issued")]
    assert any("Inspection fee deducted: −$15.00" in m.get_body(("plain",)).get_content()
               for m in closing)
