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
