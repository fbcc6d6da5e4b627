"""An update or signal sent with no payload at all (the Web UI's "Send an Update" / "Send a Signal"
with the input left empty) on the real dev server: the update is refused; the signal should be
recorded as unreadable like any other bad payload, and must not fail the workflow task.

Not on the time-skipping server: a workflow whose tasks keep failing stops it skipping time for
every later test (tests/bad_input/conftest.py has the dev server)."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError

from returns.events import workflow_id_for
from returns.status import ReturnStatus
from samples.events import return_requested
from workflows import names

async def under_review(client, task_queue):
    event = return_requested("fine-jewelry")
    handle = await client.start_workflow(names.WORKFLOW_TYPE, event,
                                         id=workflow_id_for(event.merchant_id, event.return_id),
                                         task_queue=task_queue)
    for _ in range(400):
        st = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
        if {"request_received", "review_needed"} <= {a.detail for a in st.audit}:
            return handle, st
        await asyncio.sleep(0.05)
    raise AssertionError("never reached review")


async def test_an_update_with_no_payload_is_refused_and_changes_nothing(dev_worker):
    client, queue = dev_worker
    handle, before = await under_review(client, queue)
    for name in (names.UPDATE_APPROVE, names.UPDATE_CANCEL):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(name)
        assert "action" in refused.value.cause.message  # "missing ... argument: 'action'"
    after = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
    assert (after.state, len(after.audit)) == (before.state, len(before.audit))


async def test_a_signal_with_no_payload_is_recorded_not_fatal(dev_worker):
    client, queue = dev_worker
    handle, before = await under_review(client, queue)
    await handle.signal(names.SIGNAL_WAREHOUSE_RECEIPT)
    for _ in range(200):  # history only: a query would wait on a failing workflow task
        types = [e.event_type for e in (await handle.fetch_history()).events]
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in types, \
            "a signal without a payload fails the workflow task"
        signalled = types.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) \
            if EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED in types else None
        if signalled is not None and EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in types[signalled:]:
            break
        await asyncio.sleep(0.05)
    after = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
    assert after.audit[len(before.audit)].action == "unreadable warehouse receipt"
