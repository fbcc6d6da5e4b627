"""The customer in the loop, against the real workflow and activities (time-skipping server):
staff ask with `request_info`, the customer answers (`answer_question`), the review clock waits
for the answer and resumes; answers out of turn are refused with a customer-worded reason and
its code; carrier scans before approval are kept and count as shipped once approved; tracking
numbers by source and the customer's answers reach the status and the status card."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from returns.actions import ActionResult
from returns.status import ReturnState, WaitingOn
from samples.events import return_requested
from tests.lifecycle.test_paths import settled, status, templates, update, wait_state
from workflows import names

S = ReturnState


async def ask(handle, question: str = "Is the clasp broken or bent?") -> ActionResult:
    return await update(handle, names.UPDATE_REQUEST_INFO, {"actor": "sam", "question": question})


async def answer(handle, number: int, text: str) -> ActionResult:
    return await update(handle, names.UPDATE_ANSWER_QUESTION,
                        {"question_number": number, "answer": text})


async def refusal_of(handle, number: int, text: str = "Bent.") -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await answer(handle, number, text)
    assert isinstance(err.value.cause, ApplicationError)
    return err.value.cause


async def status_card(handle) -> str:
    """What the UI's User Metadata tab shows (the workflow's current details)."""
    meta = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return meta.current_details


def review_of(st):
    return next(d for d in st.deadlines if d.kind.value == "review")


async def test_the_review_clock_waits_for_the_customers_answer_then_resumes(harness):
    """004 §3.1-§3.2 (docs/policies.md): the 2 business days count while staff have what they
    need; an open question stops the clock, the answer restarts it with the time that was left."""
    handle = await harness.start(return_requested("fine-jewelry"))
    st = await settled(handle)
    due = review_of(st).due_at
    await ask(handle)
    st = await status(handle)
    assert st.waiting_on == WaitingOn.customer and review_of(st).paused_since is not None
    assert st.open_question.number == 1 and st.open_question.asked_by == "sam"
    assert "**paused**" in await status_card(handle)

    # A week passes without an answer: the review is not late, nobody is alerted.
    await harness.sleep(handle, timedelta(days=7))
    st = await wait_state(handle, S.under_review)
    assert not st.needs_attention and not review_of(st).breached
    assert "escalation" not in templates(harness)

    result = await answer(handle, 1, "Bent, since the first day; photos sent by email.")
    assert result.message == "answer recorded; the review goes on"
    st = await status(handle)
    moved = review_of(st).due_at - due
    assert timedelta(days=7) <= moved < timedelta(days=7, hours=1), moved
    assert review_of(st).paused_since is None and "customer's answer" in review_of(st).extensions[0]
    assert st.waiting_on == WaitingOn.staff and st.open_question is None
    [given] = st.customer_answers
    assert (given.question_number, given.question) == (1, "Is the clasp broken or bent?")
    assert given.answer.startswith("Bent, since the first day")
    assert any(e.actor == "customer" and e.action == "question answered" for e in st.audit)
    card = await status_card(handle)
    assert "### Customer answers" in card and "Bent, since the first day" in card
    assert "action_needed" in templates(harness)  # staff are told the review goes on
    [told] = [m for m in harness.outbox() if m["X-Notification"] == "action_needed"]
    body = told.get_body(("plain",)).get_content()
    assert "by email. The review goes on" in body and "email.." not in body  # one full stop
    # The answer is the customer's words: encrypted in history like every payload (the update's
    # input, the status card, the staff email's activity input), never in clear.
    raw = b"".join(e.SerializeToString() for e in (await handle.fetch_history()).events)
    assert b"Bent, since the first day" not in raw and b"Is the clasp broken" not in raw

    # The clock runs again: past the moved date the review is escalated as usual.
    await harness.sleep(handle, review_of(st).due_at - await harness.env.get_current_time()
                        + timedelta(hours=1))
    for _ in range(100):
        st = await status(handle)
        if st.needs_attention:
            break
    assert st.needs_attention and review_of(st).breached
    await update(handle, names.UPDATE_APPROVE, {"actor": "sam"})
    await wait_state(handle, S.awaiting_shipment)


async def test_answers_out_of_turn_are_refused_in_customer_words_and_change_nothing(harness):
    handle = await harness.start(return_requested("fine-jewelry"))
    await settled(handle)
    refused = await refusal_of(handle, 1)
    assert refused.details[0] == "no_question" and "no question" in refused.message
    await ask(handle, "Which size?")
    await ask(handle, "Which size, and which colour?")  # a newer question replaces it
    refused = await refusal_of(handle, 1)
    assert refused.details[0] == "question_changed"
    # A payload that is not the strict model is refused naming the field.
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await update(handle, names.UPDATE_ANSWER_QUESTION, {"question_number": "2",
                                                            "answer": "54"})
    assert "question_number" in str(err.value.cause)
    assert (await status(handle)).customer_answers == []

    # The review ends with the question open: an answer now is refused, and nothing changes.
    await update(handle, names.UPDATE_APPROVE, {"actor": "sam"})
    st = await wait_state(handle, S.awaiting_shipment)
    assert st.open_question is None and review_of(st).met
    refused = await refusal_of(handle, 2, "54, blue")
    assert refused.details[0] == "review_over"
    assert "review of your return is over" in refused.message
    for staff_word in ("under_review", "request_info", "awaiting_shipment"):
        assert staff_word not in refused.message
    st = await status(handle)
    assert st.customer_answers == [] and st.state == S.awaiting_shipment


async def test_a_carrier_scan_before_approval_counts_as_shipped_once_approved(harness):
    event = return_requested("fine-jewelry")
    handle = await harness.start(event)
    await settled(handle)
    await handle.signal(names.SIGNAL_PARCEL_SCANNED, {
        "event_id": "carrier-scan-early", "occurred_at": event.occurred_at.isoformat(),
        "return_id": event.return_id, "merchant_id": event.merchant_id, "carrier": "UPS",
        "tracking_number": "1Z999AA10123456784", "scan": "picked_up"})
    for _ in range(100):
        st = await status(handle)
        if st.tracking:
            break
    assert st.state == S.under_review  # kept, not acted on yet
    [kept] = st.tracking
    assert (kept.carrier, kept.tracking_number, kept.source, kept.before_approval) == (
        "UPS", "1Z999AA10123456784", "carrier", True)
    assert any(e.action == "scan kept until approval" for e in st.audit)

    await update(handle, names.UPDATE_APPROVE, {"actor": "sam"})
    st = await wait_state(handle, S.in_transit)  # approved, and at once in transit
    ship_by = next(d for d in st.deadlines if d.kind.value == "ship_by")
    assert ship_by.met and not ship_by.breached
    assert "parcel_in_transit" in templates(harness)
    # The ship-by date passes: nothing expires.
    await harness.sleep(handle, timedelta(days=20))
    st = await wait_state(handle, S.in_transit)
    assert not next(d for d in st.deadlines if d.kind.value == "ship_by").breached
    assert "UPS 1Z999AA10123456784 (carrier, picked up, scanned before approval)" in \
        await status_card(handle)
