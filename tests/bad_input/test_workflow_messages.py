"""Bad input to every update and signal of ReturnWorkflow (hypothesis): each payload broken in one
place. Updates are refused with WorkflowUpdateFailedError whose cause names the field, and change
nothing; signals (which cannot answer) are recorded in the audit trail as "unreadable ..." naming
the field and raised to staff. No workflow task ever fails."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError

from returns.actions import (
    Acknowledge, Approve, Cancel, ExtendDeadline, RecordInspection, RecordManualRefund, Reject,
    RequestInfo, RetryRefund, ShipToCustomer, WarehouseReceipt,
)
from returns.customer_answers import AnswerQuestion
from returns.events import ParcelScanned, ReturnWithdrawn, workflow_id_for
from returns.evidence import RecordEvidence
from samples.events import return_requested
from returns.status import ReturnStatus
from workflows import names
from tests.mutations import Broken, broken

EXAMPLES = settings(max_examples=30, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
SHORT = ["x", "", "  "]  # under every min_length of actor / reason / question / reference

UPDATES: dict[str, tuple[type[BaseModel], dict, set, dict]] = {
    "approve": (Approve, {"actor": "sam", "note": "ok", "overrides": [
        {"line_id": "L1", "waive_fees": True, "reason": "loyal customer"}]},
        {("actor",), ("overrides", "*", "line_id"), ("overrides", "*", "reason")},
        {("actor",): SHORT, ("overrides", 0, "line_id"): ["L 1", "", "x" * 65],
         # issue 15: strict types, never coerced ("yes" was taken as true)
         ("overrides", 0, "waive_fees"): ["yes", "true", 1, 0]}),
    "reject": (Reject, {"actor": "sam", "reason": "worn: scratches on the band"},
               {("actor",), ("reason",)}, {("reason",): SHORT}),
    "request_info": (RequestInfo, {"actor": "sam", "question": "Please send a photo"},
                     {("actor",), ("question",)}, {("question",): SHORT}),
    "record_inspection": (RecordInspection, {"actor": "ines", "items": [
        {"line_id": "L1", "passed": True, "quantity": 1, "notes": "as described"}]},
        {("actor",), ("items",), ("items", "*", "line_id"), ("items", "*", "passed")},
        {("items",): [[]], ("items", 0, "quantity"): [-1, 1001, "1", 1.0],
         ("items", 0, "passed"): ["true", 1]}),
    "extend_deadline": (ExtendDeadline, {"actor": "sam", "deadline": "ship_by", "days": 3,
                                         "reason": "carrier strike"},
                        {("actor",), ("deadline",), ("days",), ("reason",)},
                        {("days",): [0, -3, 61, "3", 3.5], ("deadline",): ["tomorrow", "SHIP_BY"]}),
    "retry_refund": (RetryRefund, {"actor": "sam", "note": "again"}, {("actor",)},
                     {("actor",): SHORT}),
    "record_manual_refund": (RecordManualRefund, {"actor": "sam", "amount": 12000,
                                                  "reference": "BANK-77"},
                             {("actor",), ("amount",), ("reference",)},
                             # issue 15: "120" was taken as 1.20 and closed the return
                             {("amount",): [0, -5, 1.5, "120", "12000", 10**13],
                              ("reference",): SHORT}),
    "ship_to_customer": (ShipToCustomer, {"actor": "sam", "carrier": "UPS",
                                          "tracking_number": "1Z999AA10123456784"},
                         {("actor",), ("carrier",), ("tracking_number",)},
                         {("tracking_number",): ["1Z 99", "abc", "!!!!!!"]}),
    "cancel": (Cancel, {"actor": "sam", "reason": "duplicate request"}, {("actor",), ("reason",)},
               {("reason",): SHORT}),
    "acknowledge": (Acknowledge, {"actor": "sam", "note": "called the customer"},
                    {("actor",), ("note",)}, {("note",): SHORT}),
    # The customer page's update (issue 16): a file in the evidence store, recorded by hash.
    "record_evidence": (RecordEvidence, {
        "sha256": "ab" * 32, "content_type": "image/jpeg", "size": 1200, "kind": "photos",
        "line_id": "L1", "key": "fine-jewelry/R-1/" + "ab" * 32},
        {("sha256",), ("content_type",), ("size",), ("kind",), ("key",)},
        {("size",): [0, -1, "1200", 1.5, 10**10], ("content_type",): ["image/gif", "IMAGE/JPEG"],
         ("kind",): ["selfie", "PHOTOS"], ("key",): ["../../etc/passwd", "/abs/x"]}),
    # The customer's answer (issue 16, from the return page): strict, no actor.
    "answer_question": (AnswerQuestion, {"question_number": 1, "answer": "Bent, since delivery"},
                        {("question_number",), ("answer",)},
                        {("question_number",): [0, -1, 1001, "1", 1.5],
                         ("answer",): ["", "   ", "x" * 2001]}),
}


def is_invalid(model: type[BaseModel], document) -> bool:
    """The oracle is the model itself, read as the worker reads it (JSON): a breakage that happens
    to be valid (an optional field removed) is skipped, never sent."""
    try:
        model.model_validate_json(json.dumps(document))
    except ValidationError:
        return True
    return False


def names_the_field(message: str, bad: Broken) -> bool:
    return (bad.field + ":" in message or bad.field + "." in message or bad.field + "[" in message
            ) if bad.path else "(payload):" in message


_returns: dict[str, object] = {}


async def status(handle) -> ReturnStatus:
    return await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)


async def under_review(dev_worker, key: str):
    """One return per target, waiting for review, shared by that target's examples."""
    if key not in _returns:
        client, queue = dev_worker
        event = return_requested("fine-jewelry")
        handle = await client.start_workflow(names.WORKFLOW_TYPE, event,
                                             id=workflow_id_for(event.merchant_id, event.return_id),
                                             task_queue=queue)
        for _ in range(400):  # until both intake emails have gone out: the audit is then settled
            sent = {a.detail for a in (await status(handle)).audit}
            if {"request_received", "review_needed"} <= sent:
                break
            await asyncio.sleep(0.05)
        _returns[key] = handle
    return _returns[key]


async def no_failed_workflow_task(handle) -> None:
    events = (await handle.fetch_history()).events
    failed = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    assert not failed, failed[0].workflow_task_failed_event_attributes.failure.message


@pytest.mark.parametrize("name", list(UPDATES))
@EXAMPLES
@given(data=st.data())
async def test_a_broken_update_is_refused_naming_the_field_and_changes_nothing(dev_worker, name, data):
    model, valid, required, constrained = UPDATES[name]
    bad = data.draw(broken(valid, required, constrained))
    assume(is_invalid(model, bad.document))  # all filtered out -> hypothesis fails (Unsatisfiable)
    handle = await under_review(dev_worker, name)
    before = await status(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(name, bad.document)
    message = refused.value.cause.message
    assert message.startswith(f"invalid {model.__name__}: "), message
    assert names_the_field(message, bad), (bad.how, bad.field, message)
    after = await status(handle)
    assert (after.state, len(after.audit), after.needs_attention) == (
        before.state, len(before.audit), before.needs_attention)
    await no_failed_workflow_task(handle)


SIGNALS: dict[str, tuple[type[BaseModel], str, dict, set, dict]] = {
    "warehouse_receipt": (WarehouseReceipt, "warehouse receipt", {
        "actor": "warehouse:anna", "note": "box dented", "receipt_id": "scan-1",
        "items": [{"line_id": "L1", "quantity": 1, "condition": "sealed"}]},
        {("actor",), ("receipt_id",), ("items",), ("items", "*", "line_id"),
         ("items", "*", "quantity")},
        {("items",): [[]], ("items", 0, "quantity"): [-1, 0, 1001, "1", 1.5],
         ("actor",): SHORT}),
    "withdraw": (ReturnWithdrawn, "withdrawal", {
        "type": "return.withdrawn", "event_id": "w-1", "occurred_at": "2026-03-11T08:00:00Z",
        "return_id": "R-1", "merchant_id": "fine-jewelry", "reason": "changed my mind"},
        {("event_id",), ("occurred_at",), ("return_id",), ("merchant_id",)},
        {("occurred_at",): ["2026-03-11T08:00:00", "yesterday"], ("type",): ["return.requested"],
         ("event_id",): ["has space", ""]}),
    "parcel_scanned": (ParcelScanned, "parcel scan", {
        "type": "parcel.scanned", "event_id": "s-1", "occurred_at": "2026-03-11T08:00:00Z",
        "return_id": "R-1", "merchant_id": "fine-jewelry", "carrier": "UPS",
        "tracking_number": "1Z999AA10123456784", "scan": "picked_up"},
        {("event_id",), ("occurred_at",), ("carrier",), ("tracking_number",), ("scan",)},
        {("scan",): ["lost", "PICKED_UP"], ("tracking_number",): ["1Z 9", "!!!!!"]}),
}


@pytest.mark.parametrize("name", list(SIGNALS))
@EXAMPLES
@given(data=st.data())
async def test_a_broken_signal_is_recorded_as_unreadable_naming_the_field(dev_worker, name, data):
    model, what, valid, required, constrained = SIGNALS[name]
    bad = data.draw(broken(valid, required, constrained))
    assume(is_invalid(model, bad.document))
    handle = await under_review(dev_worker, name)
    before = await status(handle)
    await handle.signal(name, bad.document)
    # Wait for the staff email too, so the next example starts from a settled audit trail.
    for _ in range(400):
        after = await status(handle)
        added = after.audit[len(before.audit):]
        new = [a for a in added if a.action.startswith("unreadable")]
        if new and any(a.action == "emailed staff" for a in added):
            break
        await asyncio.sleep(0.01)
    assert len(new) == 1, after.audit[len(before.audit):]
    entry = new[0]
    assert entry.action == f"unreadable {what}", entry
    assert entry.detail.startswith(f"invalid {model.__name__}: "), entry.detail
    assert names_the_field(entry.detail, bad), (bad.how, bad.field, entry.detail)
    assert after.state == before.state and after.needs_attention
    assert what in after.attention_reason
    await no_failed_workflow_task(handle)


