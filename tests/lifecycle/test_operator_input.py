"""Issue 15, point 5: operator input that is sent twice or races. Real workflow and activities on
the time-skipping server."""

from __future__ import annotations

import asyncio

from temporalio.client import WorkflowUpdateFailedError

from returns.status import ReceiptOutcome, ReturnState
from samples.events import item, line, return_requested
from tests.lifecycle.test_paths import approve, receive, status, update, wait_state

S = ReturnState


async def test_the_same_receipt_sent_twice_counts_once(harness):
    """A scanner that sends the same scan twice (a retry, a double click): the receipt id is
    recorded as a repeat and its units are not counted again; a new scan of the same line is."""
    handle = await harness.start(return_requested(
        "fine-jewelry", lines=[line("L1", quantity=2)], items=[item("L1", quantity=2)]))
    await wait_state(handle, S.under_review)
    await approve(handle)
    await receive(handle, ("L1", 1), receipt_id="scan-0001")
    await receive(handle, ("L1", 1), receipt_id="scan-0001")
    for _ in range(200):
        st = await status(handle)
        if len(st.receipts) == 2:
            break
        await asyncio.sleep(0.05)
    assert [r.outcome for r in st.receipts] == [ReceiptOutcome.recorded, ReceiptOutcome.repeat]
    assert st.items[0].quantity_received == 1
    await receive(handle, ("L1", 1), receipt_id="scan-0002")
    st = await wait_state(handle, S.inspecting)
    assert st.items[0].quantity_received == 2


async def test_an_approve_and_a_reject_that_race_leave_only_what_took_effect(harness):
    """Two staff members decide the same return at the same moment: one decision takes effect,
    the other is refused, and the audit trail shows only the one that took effect."""
    handle = await harness.start(return_requested("fine-jewelry"))
    await wait_state(handle, S.under_review)
    results = await asyncio.gather(
        update(handle, "approve", {"actor": "sam"}),
        update(handle, "reject", {"actor": "lea", "reason": "worn from daily use"}),
        return_exceptions=True)
    refused = [r for r in results if isinstance(r, WorkflowUpdateFailedError)]
    taken = [r for r in results if not isinstance(r, BaseException)]
    assert len(refused) == 1 and len(taken) == 1, results
    st = await wait_state(handle, S.awaiting_shipment, S.rejected)
    decisions = [(a.actor, a.action) for a in st.audit if a.action in ("approved", "rejected")]
    assert decisions == ([("sam", "approved")] if st.state == S.awaiting_shipment
                         else [("lea", "rejected")]), st.audit


async def test_a_second_return_of_a_line_already_returned_cannot_be_approved(harness):
    """Issue 15: two returns of the same order line (a duplicate request for a parcel lost in
    transit, say): the first approval takes the line's unit; the second is refused with the order
    guard's words and stays under review; once the first return ends without a refund (here
    cancelled), its unit is back and the second can be approved."""
    first = return_requested("fine-jewelry")
    second = first.model_copy(update={"return_id": first.return_id + "B",
                                      "event_id": first.event_id + "b"})
    a = await harness.start(first)
    b = await harness.start(second)
    await wait_state(a, S.under_review)
    await wait_state(b, S.under_review)
    await approve(a)
    try:
        await update(b, "approve", {"actor": "lea"})
        raise AssertionError("the second return of the same unit was approved")
    except WorkflowUpdateFailedError as err:
        message = err.cause.message
    assert "not approved: the order's lines do not allow it" in message and "L1" in message
    st = await status(b)
    assert st.state == S.under_review
    assert [e.actor for e in st.audit if e.action == "approval not applied"] == ["lea"]
    await update(a, "cancel", {"actor": "sam", "reason": "duplicate request"})
    await wait_state(a, S.cancelled)
    for _ in range(100):  # the cancelled return gives its unit back as it ends
        try:
            await update(b, "approve", {"actor": "lea"})
            break
        except WorkflowUpdateFailedError:
            await asyncio.sleep(0.1)
    else:
        raise AssertionError("the unit never came back")
    await wait_state(b, S.awaiting_shipment)
