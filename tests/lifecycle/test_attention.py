"""NeedsAttention is a work list: a return is on it while a person must act, and leaves it once
what raised it is resolved (`workflow.patched("2026-12-attention-clears")`) or staff say they
dealt with it (the `acknowledge` update). Real workflow and activities on the time-skipping
server; the search attribute is read from the server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from returns.status import ReturnState
from samples.events import return_requested
from tests.lifecycle.test_paths import (approve, receive, receive_and_inspect, status, update,
                                        wait_state)
from workflows import search_attributes as sa

S = ReturnState


async def listed(harness, handle, expected: bool) -> bool:
    """NeedsAttention as the UI's list sees it, once the return has come to rest."""
    await harness.sleep(handle, timedelta(0))
    for _ in range(100):
        found = (await handle.describe()).typed_search_attributes.get(sa.NEEDS_ATTENTION)
        if found is expected:
            break
        await asyncio.sleep(0.05)
    return found


async def raised(handle):
    """The status once the return needs attention (the signal handler raises it just after the
    receipt), or as it is after 5 s."""
    for _ in range(100):
        st = await status(handle)
        if st.needs_attention:
            break
        await asyncio.sleep(0.05)
    return st


async def test_a_receipt_that_fits_clears_what_a_refused_one_raised(harness):
    """004 §3.5 inspection after receipt: the warehouse first scans a line that is not in the
    return (raised to staff), then the right one; the return goes on to inspection and leaves the
    attention list, the audit trail saying why."""
    handle = await harness.start(return_requested("fine-jewelry"))
    await wait_state(handle, S.under_review)
    await approve(handle)
    await receive(handle, ("L9", 1))
    st = await raised(handle)
    assert "does not fit" in st.attention_reason
    assert "acknowledge (what needs attention)" in st.next_actions
    assert await listed(harness, handle, True) is True

    await receive(handle, ("L1", 1))
    st = await wait_state(handle, S.inspecting)
    assert not st.needs_attention and st.attention_reason is None
    cleared = [a for a in st.audit if a.action == "attention cleared"]
    assert len(cleared) == 1 and cleared[0].detail.startswith("a receipt that fits arrived")
    assert "acknowledge (what needs attention)" not in st.next_actions
    assert await listed(harness, handle, False) is False
    await update(handle, "record_inspection", {"actor": "ines", "items": [
        {"line_id": "L1", "passed": True, "checks_confirmed": True}]})
    assert (await harness.result(handle)).state == S.refunded


async def test_a_decision_after_the_review_escalation_clears_it(harness):
    """004 §3.2 review within 2 business days: breached, staff are alerted; once they approve,
    the review deadline is met and the return is off the attention list."""
    handle = await harness.start(return_requested("fine-jewelry"))
    await wait_state(handle, S.under_review)
    await harness.sleep(handle, timedelta(days=6))
    st = await wait_state(handle, S.under_review)
    assert st.needs_attention and "review deadline has passed" in st.attention_reason
    st = await approve(handle)
    assert not st.needs_attention
    assert any(a.action == "attention cleared" and a.detail.startswith("the review deadline is met")
               for a in st.audit)
    assert await listed(harness, handle, False) is False
    await receive_and_inspect(handle, ("L1", 1))
    assert (await harness.result(handle)).state == S.refunded


async def test_staff_acknowledge_what_only_a_person_can_resolve(harness):
    """A receipt before the approval is refused and raised; the review itself is not late, so
    nothing clears it but a person: `acknowledge` with what they did clears it, once, and the
    audit keeps who, how and what it was. A bad payload is refused naming the field."""
    handle = await harness.start(return_requested("fine-jewelry"))
    await wait_state(handle, S.under_review)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await update(handle, "acknowledge", {"actor": "sam", "note": "nothing to see"})
    assert "nothing needs attention" in str(err.value.cause)

    await receive(handle, ("L1", 1))
    st = await raised(handle)
    assert st.needs_attention
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await update(handle, "acknowledge", {"actor": "sam"})
    assert "note" in str(err.value.cause)
    assert (await status(handle)).needs_attention  # the refused update changed nothing

    result = await update(handle, "acknowledge", {
        "actor": "sam", "note": "wrong parcel scanned; the warehouse put it back"})
    assert result.message == "attention cleared"
    st = await status(handle)
    assert st.state == S.under_review and not st.needs_attention
    entry = st.audit[-1]
    assert (entry.actor, entry.action) == ("sam", "attention acknowledged")
    assert "wrong parcel scanned" in entry.detail and "does not fit" in entry.detail
    assert await listed(harness, handle, False) is False
    with pytest.raises(WorkflowUpdateFailedError):
        await update(handle, "acknowledge", {"actor": "sam", "note": "again"})
    await approve(handle)
    await receive_and_inspect(handle, ("L1", 1))
    final = await harness.result(handle)
    assert final.state == S.refunded and not final.needs_attention
