"""Search attributes are upserted when a return comes to rest, not at every change: while the
return waits for staff, the customer or a timer, what staff filter on in the UI is exactly its
state; every change made between two rests costs one upsert. Real workflow and activities on the time-skipping server."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from temporalio.api.enums.v1 import EventType

from returns.status import ReturnState
from samples.events import return_requested
from tests.lifecycle.test_paths import approve, receive_and_inspect, wait_state
from workflows import search_attributes as sa

S = ReturnState
UPSERT = EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES


async def resting(harness, handle, state: ReturnState) -> None:
    """`state` reached and nothing in flight: the return waits for someone."""
    await wait_state(handle, state)
    await harness.sleep(handle, timedelta(0))


def upserted(events) -> list[dict]:
    """Each upsert in a history, as the attributes it sets (name -> payload)."""
    return [dict(e.upsert_workflow_search_attributes_event_attributes.search_attributes
                 .indexed_fields) for e in events if e.event_type == UPSERT]


async def upserts(handle) -> list[set[str]]:
    """Our upserts (not the SDK's `TemporalChangeVersion`), each as the names it sets."""
    names = [set(fields) for fields in upserted((await handle.fetch_history()).events)]
    return [n for n in names if n != {"TemporalChangeVersion"}]


async def attributes_in(handle, state: ReturnState):
    """The search attributes once they show `state` (the server indexes them just after the
    workflow task completes); as they are after 5 s otherwise."""
    for _ in range(100):
        found = (await handle.describe()).typed_search_attributes
        if found.get(sa.RETURN_STATE) == state.value:
            break
        await asyncio.sleep(0.05)
    return found


async def test_at_each_rest_the_attributes_are_current_and_cost_one_upsert(harness):
    """000 §1 (the merchant's staff find returns by state, who is waiting and the next
    deadline): under review the return shows under_review / staff / the review deadline; after
    the approval, awaiting_shipment / customer / the ship-by deadline with the label's barcode."""
    handle = await harness.start(return_requested("fine-jewelry"))
    await resting(harness, handle, S.under_review)
    # Review deadline computed, two emails sent: one upsert for all of it.
    assert len(await upserts(handle)) == 1
    found = await attributes_in(handle, S.under_review)
    assert found.get(sa.RETURN_STATE) == "under_review"
    assert found.get(sa.WAITING_ON) == "staff"
    assert found.get(sa.NEXT_DEADLINE_KIND) == "review"
    assert found.get(sa.RESOLUTIONS) == ["refund"]

    await approve(handle)
    await resting(harness, handle, S.awaiting_shipment)
    # Approval, ship-by deadline, label and the approval email: one more upsert.
    batches = await upserts(handle)
    assert len(batches) == 2
    assert {"ReturnState", "WaitingOn", "NextDeadlineKind", "LabelBarcode"} <= batches[1]
    found = await attributes_in(handle, S.awaiting_shipment)
    assert found.get(sa.RETURN_STATE) == "awaiting_shipment"
    assert found.get(sa.WAITING_ON) == "customer"
    assert found.get(sa.NEXT_DEADLINE_KIND) == "ship_by"
    assert found.get(sa.LABEL_BARCODE, "").startswith("RMA-")


async def test_a_refund_that_goes_through_at_once_is_not_a_rest(harness):
    """004 §3.6 (the refund follows the inspection): the refund is tried briefly first, as the
    emails are, so a refund the provider accepts at once costs no upsert of its own: the search
    attributes go from inspecting straight to refunded. Before release 1.0 the workflow records
    no patch marker, so no `TemporalChangeVersion` upsert either."""
    handle = await harness.start(return_requested("fine-jewelry"))
    await wait_state(handle, S.under_review)
    await approve(handle)
    await receive_and_inspect(handle, ("L1", 1))
    final = await harness.result(handle)
    assert final.state == S.refunded and final.refund.attempts == 1
    events = (await handle.fetch_history()).events
    fields = upserted(events)
    states = [json.loads(f["ReturnState"].data) for f in fields if "ReturnState" in f]
    assert states[-2:] == ["inspecting", "refunded"] and "refunding" not in states, states
    markers = [json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)
               ["id"] for e in events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
               and "patch-data" in e.marker_recorded_event_attributes.details]  # not local activities
    assert markers == []
    assert not [f for f in fields if "TemporalChangeVersion" in f]
