"""A return is found by any tracking number it knows, through its `TrackingRefs` search attribute,
which holds a short hash of each number and never the number itself (a tracking number shows a
delivery address at the carrier; search attributes are not encrypted): the customer's, the
carrier's scans, and the shipment staff sent the customer. Real workflow and activities on the
time-skipping server; the lookup by ref over visibility is in
tests/staff_console/test_find_by_tracking.py (the time-skipping server has no visibility queries
on custom attributes)."""

from __future__ import annotations

import asyncio
import json

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest

from returns.status import ReturnState
from returns.tracking import CUSTOMER_EVENT_PREFIX
from returns.tracking_refs import tracking_ref
from samples.events import item, return_requested
from tests.lifecycle.test_paths import approve, receive_and_inspect, update, wait_state
from tests.lifecycle.test_search_attribute_upserts import upserted
from workflows import names
from workflows import search_attributes as sa

S = ReturnState
CUSTOMERS = "jd-0001-4711"  # as the customer typed it (the page keeps the dash, upper-cases)
CARRIERS = "1Z999AA10123456784"
SHIPPED = "JD014600006543210987"


async def held(client, handle):
    """The search attributes as the server holds them, read raw: the time-skipping server keeps
    an unset Datetime (NextDeadline once no clock runs) as a null payload, which the SDK's
    `describe()` cannot parse."""
    described = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(namespace=client.namespace,
                                         execution=WorkflowExecution(workflow_id=handle.id)))
    return described.workflow_execution_info.search_attributes


async def refs_of(client, handle, expected: list[str]) -> list[str]:
    """TrackingRefs once it holds `expected` (visibility follows the workflow task); as it is
    after 5 s otherwise."""
    for _ in range(100):
        fields = (await held(client, handle)).indexed_fields
        found = json.loads(fields[sa.TRACKING_REFS.name].data) if sa.TRACKING_REFS.name in fields \
            else []
        if sorted(found) == sorted(expected):
            break
        await asyncio.sleep(0.05)
    return sorted(found)


async def no_number_in_clear(client, handle, *numbers: str) -> None:
    """Neither the search attributes as visibility holds them nor any upsert in the history
    carries a number, in any spelling."""
    blob = (await held(client, handle)).SerializeToString() + b"".join(
        p.SerializeToString() for fields in upserted((await handle.fetch_history()).events)
        for p in fields.values())
    for number in numbers:
        for spelling in {number, number.upper(), number.replace("-", "").upper()}:
            assert spelling.encode() not in blob.upper(), f"{spelling} is in the search attributes"


def scan(event, event_id: str, carrier: str, number: str, kind: str = "picked_up") -> dict:
    return {"event_id": event_id, "occurred_at": event.occurred_at.isoformat(),
            "return_id": event.return_id, "merchant_id": event.merchant_id, "carrier": carrier,
            "tracking_number": number, "scan": kind}


async def test_the_customers_and_the_carriers_numbers_are_refs_never_in_clear(harness):
    event = return_requested("fine-jewelry")
    handle = await harness.start(event)
    await wait_state(handle, S.under_review)
    await approve(handle)
    # The customer page sends the number the customer typed as a parcel_scanned signal.
    await handle.signal(names.SIGNAL_PARCEL_SCANNED,
                        scan(event, f"{CUSTOMER_EVENT_PREFIX}1", "DHL", CUSTOMERS))
    st = await wait_state(handle, S.in_transit)
    assert [n.source for n in st.tracking] == ["customer"]
    assert await refs_of(harness.client, handle, [tracking_ref(CUSTOMERS)]) == [tracking_ref("JD 0001 4711")]
    # The carrier scans the parcel under its own number: both are found.
    await handle.signal(names.SIGNAL_PARCEL_SCANNED,
                        scan(event, "carrier-scan-1", "UPS", CARRIERS, "in_transit"))
    both = sorted([tracking_ref(CUSTOMERS), tracking_ref(CARRIERS)])
    assert await refs_of(harness.client, handle, both) == both
    await no_number_in_clear(harness.client, handle, CUSTOMERS, CARRIERS)


async def test_a_carrier_scan_before_approval_is_a_ref_at_once(harness):
    event = return_requested("fine-jewelry")
    handle = await harness.start(event)
    await wait_state(handle, S.under_review)
    await handle.signal(names.SIGNAL_PARCEL_SCANNED, scan(event, "carrier-early", "UPS", CARRIERS))
    assert await refs_of(harness.client, handle, [tracking_ref(CARRIERS)]) == [tracking_ref(CARRIERS)]
    await no_number_in_clear(harness.client, handle, CARRIERS)


async def test_the_shipment_to_the_customer_is_a_ref_too(harness):
    event = return_requested("fine-jewelry", delivered_days_ago=20, items=[
        item("L1", resolution="exchange", exchange_for="size 54")])
    handle = await harness.start(event)
    await wait_state(handle, S.under_review)
    await approve(handle)
    await receive_and_inspect(handle, ("L1", 1))
    await wait_state(handle, S.exchange_shipping)
    await update(handle, "ship_to_customer", {"actor": "sam", "carrier": "DHL",
                                              "tracking_number": SHIPPED})
    final = await harness.result(handle)
    assert final.state == S.exchanged
    assert await refs_of(harness.client, handle, [tracking_ref(SHIPPED)]) == [tracking_ref(SHIPPED)]
    await no_number_in_clear(harness.client, handle, SHIPPED)
