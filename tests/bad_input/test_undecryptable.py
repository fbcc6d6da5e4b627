"""Issue 15: a signal or update whose payload cannot be decrypted (a key that is not in the
worker's keyring, as after a key-rotation mistake; a truncated ciphertext) never fails a workflow
task. The signal is recorded in the audit trail and raised to staff; the update is refused with
the reason, and nothing changes. Real dev server, real worker with worker.py's tolerant codec."""

from __future__ import annotations

import asyncio
import base64
import hashlib

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import RawValue

from runtime.codec import ENCODING, KEY_ID, Keyring
from runtime.converter import encrypted_data_converter
from returns.status import ReturnStatus
from tests.bad_input.test_no_payload import under_review
from workflows import names

RECEIPT = {"actor": "warehouse:anna", "receipt_id": "scan-1",
           "items": [{"line_id": "L1", "quantity": 1}]}


def other_keyring() -> Keyring:
    key = hashlib.sha256(b"a key the worker never had").digest()
    return Keyring.parse(f"lost-2025:{base64.b64encode(key).decode()}", source="test")


async def client_like(client: Client, **kwargs) -> Client:
    return await Client.connect(client.service_client.config.target_host,
                                namespace=client.namespace, **kwargs)


async def no_failed_task_and_settled(handle) -> None:
    for _ in range(200):  # history only: a query would wait on a failing workflow task
        events = (await handle.fetch_history()).events
        types = [e.event_type for e in events]
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in types, "a workflow task failed"
        last_signal = max((n for n, t in enumerate(types)
                           if t == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED), default=None)
        if last_signal is not None and \
                EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in types[last_signal:]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the signal was never handled")


@pytest.mark.parametrize("how", ["unknown key", "truncated"])
async def test_an_undecryptable_signal_is_recorded_and_raised_never_fatal(dev_worker, how):
    client, queue = dev_worker
    handle, before = await under_review(client, queue)
    if how == "unknown key":  # an order system or scanner still on a key the worker dropped
        sender = await client_like(client, data_converter=encrypted_data_converter(other_keyring()))
        await sender.get_workflow_handle(handle.id).signal(names.SIGNAL_WAREHOUSE_RECEIPT, RECEIPT)
    else:
        sender = await client_like(client)  # no codec: the payload goes as it is
        await sender.get_workflow_handle(handle.id).signal(
            names.SIGNAL_WAREHOUSE_RECEIPT, RawValue(Payload(
                metadata={"encoding": ENCODING, KEY_ID: b"test-2026"}, data=b"too short")))
    await no_failed_task_and_settled(handle)
    after = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
    entry = after.audit[len(before.audit)]
    assert entry.action == "unreadable warehouse receipt"
    assert "could not be decrypted" in entry.detail
    assert ("lost-2025" in entry.detail) if how == "unknown key" else ("shorter" in entry.detail)
    assert after.needs_attention and after.state == before.state
    assert after.receipts == []


async def test_an_undecryptable_update_is_refused_and_changes_nothing(dev_worker):
    client, queue = dev_worker
    handle, before = await under_review(client, queue)
    sender = await client_like(client, data_converter=encrypted_data_converter(other_keyring()))
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await sender.get_workflow_handle(handle.id).execute_update(
            names.UPDATE_APPROVE, {"actor": "sam"})
    assert "could not be decrypted" in refused.value.cause.message
    types = [e.event_type for e in (await handle.fetch_history()).events]
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in types
    after = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
    assert (after.state, len(after.audit)) == (before.state, len(before.audit))
