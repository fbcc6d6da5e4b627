"""On the real dev server, a whole return (webhook intake, review, label, emails, receipt,
inspection, refund, a refused update and an unreadable signal) leaves no customer name, email or
street in Temporal: the history is fetched with a client that has NO codec and searched byte by
byte, and every payload in it (search attributes aside: ids and states only) is ciphertext."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.query.v1 import WorkflowQuery
from temporalio.api.workflowservice.v1 import QueryWorkflowRequest
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from ingestion.intake import Intake, Outcome
from returns.events import workflow_id_for
from returns.policy.registry import PolicyRegistry
from returns.status import ReturnStatus
from runtime.codec import ENCODING
from runtime.settings import ROOT, Settings
from samples.keys import test_data_converter
from samples.events import return_requested
from worker import build_worker
from workflows import names
from returns.tracking_refs import tracking_ref
from workflows.search_attributes import TRACKING_REFS, cli_flags

pytestmark = pytest.mark.e2e

NAME, EMAIL, STREET = "Zephyrine Quixworth", "zephyrine.quixworth@example.org", "77 Marigold Terrace"
TRACKING = "1Z999AA10123456784"  # a parcel's tracking number: a way to its delivery address


# The local activities whose markers the SDK's core writes, its bookkeeping in clear (sequence,
# attempt, activity id and type, times); their results are encrypted payloads like any other.
LOCAL_ACTIVITIES = {"enqueue_return_event", "reserve_order_lines", "evaluate_return",
                    "apply_overrides", "compute_deadline"}


def payloads_in(message: Message, path: str = ""):
    """(path, Payload) for every Payload anywhere in a protobuf message."""
    if message.DESCRIPTOR.full_name == "temporal.api.common.v1.Payload":
        yield path, message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if isinstance(item, Message):
                    yield from payloads_in(item, f"{path}.{field.name}[{key}]")
        elif isinstance(value, Message):
            yield from payloads_in(value, f"{path}.{field.name}")
        else:  # a repeated field
            for n, item in enumerate(value):
                yield from payloads_in(item, f"{path}.{field.name}[{n}]")


async def until(check, what: str, timeout: float = 30.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


async def test_history_on_the_dev_server_holds_no_plaintext_pii(temporal_cli_path: Path, tmp_path):
    event = return_requested("fine-jewelry", address={
        "line1": STREET, "city": "Springfield", "postal_code": "12345", "country": "US"})
    customer = event.order.customer.model_copy(update={"name": NAME, "email": EMAIL})
    event = event.model_copy(update={"order": event.order.model_copy(update={"customer": customer})})
    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, dev_server_existing_path=str(temporal_cli_path),
            dev_server_extra_args=cli_flags(), ui=False) as env:
        client = env.client
        settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")}),
                           task_queue="pii-test")
        registry = PolicyRegistry.load(ROOT / "policies")
        async with build_worker(client, settings, registry):
            intake = Intake(client, task_queue=settings.task_queue, known_merchant=lambda m: True)
            assert (await intake.deliver(event)).outcome == Outcome.started
            handle = client.get_workflow_handle(workflow_id_for(event.merchant_id, event.return_id),
                                                result_type=ReturnStatus)

            async def in_state(state):
                status = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
                return status if status.state.value == state else None

            await until(lambda: in_state("under_review"), "under_review")
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(names.UPDATE_REJECT, {"actor": "sam", "reason": EMAIL[:2]})
            assert "reason" in str(refused.value.cause)
            await handle.signal(names.SIGNAL_WAREHOUSE_RECEIPT, {"actor": NAME, "items": "all"})
            await handle.execute_update(names.UPDATE_APPROVE, {"actor": "sam", "note": f"{NAME} called"})
            await until(lambda: in_state("awaiting_shipment"), "awaiting_shipment")
            # The customer gives the parcel's tracking number (the customer page's signal): it
            # shows the delivery address at the carrier, so only its hash is a search attribute.
            await handle.signal(names.SIGNAL_PARCEL_SCANNED, {
                "event_id": "customer-tracking-1", "occurred_at": event.occurred_at.isoformat(),
                "return_id": event.return_id, "merchant_id": event.merchant_id,
                "carrier": "UPS", "tracking_number": TRACKING.lower(), "scan": "picked_up"})
            await until(lambda: in_state("in_transit"), "in_transit")
            await handle.signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
                "actor": "warehouse:anna", "receipt_id": "scan-1",
                "items": [{"line_id": "L1", "quantity": 1}]})
            await until(lambda: in_state("inspecting"), "inspecting")
            await handle.execute_update(names.UPDATE_RECORD_INSPECTION, {
                "actor": "ines", "items": [{"line_id": "L1", "passed": True, "checks_confirmed": True}]})
            final = await asyncio.wait_for(handle.result(), 60)
            raw = await Client.connect(client.service_client.config.target_host,
                                       namespace=client.namespace)  # no codec: what Temporal holds
            query = await raw.workflow_service.query_workflow(QueryWorkflowRequest(
                namespace=client.namespace, execution=WorkflowExecution(workflow_id=handle.id),
                query=WorkflowQuery(query_type=names.QUERY_STATUS)))
        assert final.state.value == "refunded"
        assert any(a.action == "unreadable warehouse receipt" for a in final.audit)

        # The product did use the PII: it is in the customer's emails and on the label.
        outbox = b"".join(p.read_bytes() for p in (settings.outbox_dir / "new").iterdir())
        assert EMAIL.encode() in outbox

        # Temporal did not get it: read the history raw, with no codec at all.
        history = await raw.get_workflow_handle(handle.id).fetch_history()
        assert len(history.events) > 40
        blob = b"".join(e.SerializeToString() for e in history.events)
        for secret in (NAME, EMAIL, STREET, NAME.split()[1], EMAIL.split("@")[0], TRACKING):
            assert secret.encode() not in blob, f"{secret!r} is in the history in clear"
            assert secret.lower().encode() not in blob.lower()
        payloads = [(path, p) for e in history.events for path, p in payloads_in(e)
                    if ".search_attributes" not in path]
        # The search attributes (not encrypted) find the return by the number's ref alone.
        refs = [p.data for path, p in (pp for e in history.events for pp in payloads_in(e))
                if path.endswith(f".search_attributes.indexed_fields[{TRACKING_REFS.name}]")]
        assert refs and json.loads(refs[-1]) == [tracking_ref(TRACKING)]
        assert len(payloads) > 40
        # The SDK writes a workflow.patched() marker's patch id without the codec: it may hold
        # the patch id and nothing else (none before release 1.0: README, "Versioning").
        patches = [p for path, p in payloads if "[patch-data]" in path]
        assert all(set(json.loads(p.data)) <= {"id", "deprecated"} for p in patches)
        # A local activity's marker (the return queues its events out that way) carries the SDK's
        # own bookkeeping in clear, also without the codec: ids, attempt and times only. Its
        # result is a payload like any other, encrypted.
        local = [p for path, p in payloads if "marker_recorded" in path and "[data]" in path]
        assert all(json.loads(p.data).get("activity_type") in LOCAL_ACTIVITIES for p in local), \
            [json.loads(p.data) for p in local]
        clear = [path for path, p in payloads if p.metadata.get("encoding") != ENCODING
                 and "[patch-data]" not in path
                 and not ("marker_recorded" in path and "[data]" in path)]
        assert clear == [], f"payloads not encrypted: {clear[:5]}"
        # ...and the query answer and the workflow's metadata (status card) are ciphertext too.
        answer = query.query_result.payloads
        assert answer and all(p.metadata["encoding"] == ENCODING for p in answer)
        assert EMAIL.encode() not in query.SerializeToString()
