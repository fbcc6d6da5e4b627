"""POST /events against the Temporal dev server (see conftest.py for why not the time-skipping one).

Every test uses its own return ids, so the shared server needs no cleanup.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import datetime, timedelta, timezone

from aiohttp.test_utils import TestClient, TestServer
from temporalio.client import Client, WorkflowExecutionStatus

from ingestion.intake import Intake
from ingestion.signing import SIGNATURE_HEADER, sign
from ingestion.webhook import MAX_BODY_BYTES, WebhookConfig, create_app
from returns.events import workflow_id_for
from runtime.client import connect
from workflows import search_attributes as sa
from workflows.names import WORKFLOW_TYPE

from ingestion_support import SECRET, TASK_QUEUE


async def test_a_signed_request_starts_the_returns_workflow(post_event, requested, client):
    event = requested()
    status, body = await post_event(event)

    workflow_id = workflow_id_for(event["merchant_id"], event["return_id"])
    assert (status, body) == (200, {"outcome": "started", "workflow_id": workflow_id})
    description = await client.get_workflow_handle(workflow_id).describe()
    assert description.workflow_type == WORKFLOW_TYPE
    assert description.task_queue == TASK_QUEUE
    assert description.status == WorkflowExecutionStatus.RUNNING
    attrs = description.typed_search_attributes
    assert attrs.get(sa.RETURN_ID) == event["return_id"]
    assert attrs.get(sa.MERCHANT_ID) == "opalook"
    assert attrs.get(sa.ORDER_ID) == "ORD-1"
    assert attrs.get(sa.RETURN_STATE) == "requested"
    assert attrs.get(sa.REQUESTED_AT) == datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)
    assert await description.static_summary() == f"Return {event['return_id']} · opalook · order ORD-1"
    details = await description.static_details()
    assert " · OPL-BO-GOUTTE-OR · " in details and "achats@" not in details


async def test_the_workflow_input_is_the_event(post_event, requested, client):
    event = requested()
    await post_event(event)
    history = await client.get_workflow_handle(workflow_id_for(event["merchant_id"], event["return_id"])).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [payload] = started.input.payloads
    assert json.loads(payload.data)["event_id"] == event["event_id"]
    assert json.loads(payload.data)["order"]["lines"][1]["unit_price"] == 4500


async def test_the_same_event_again_is_a_duplicate_of_the_same_workflow(
        post_event, requested, client, runs):
    event = requested()
    workflow_id = workflow_id_for(event["merchant_id"], event["return_id"])
    assert (await post_event(event))[1]["outcome"] == "started"
    first_run = (await client.get_workflow_handle(workflow_id).describe()).run_id

    status, body = await post_event(event)

    assert (status, body) == (200, {"outcome": "duplicate", "workflow_id": workflow_id})
    assert (await client.get_workflow_handle(workflow_id).describe()).run_id == first_run
    assert await runs(workflow_id) == [first_run]


async def test_the_same_request_sent_again_as_a_new_event_is_a_duplicate(
        post_event, requested, client, runs):
    """A retry with a new event id and time, keys in another order, a default written out: the
    same request (returns.events.ENVELOPE_FIELDS are the delivery, not the request)."""
    first = requested()
    again = requested(return_id=first["return_id"], occurred_at="2026-03-10T10:45:00Z")
    again["order"] = dict(reversed(list(again["order"].items())))
    again["items"][0]["resolution"] = "refund"
    again["estimated_return_shipping"] = None
    workflow_id = workflow_id_for(first["merchant_id"], first["return_id"])
    assert (await post_event(first))[1]["outcome"] == "started"

    assert await post_event(again) == (200, {"outcome": "duplicate", "workflow_id": workflow_id})

    [run] = await runs(workflow_id)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    assert json.loads(started.input.payloads[0].data)["event_id"] == first["event_id"]


async def test_another_request_for_the_same_return_is_a_409_conflict_naming_what_differs(
        post_event, requested, client, runs):
    first = requested()
    second = requested(return_id=first["return_id"])
    second["items"] = second["items"][:1]
    second["items"][0]["quantity"] = 2
    second["order"]["lines"][1]["unit_price"] = 4400
    workflow_id = workflow_id_for(first["merchant_id"], first["return_id"])
    assert (await post_event(first))[1]["outcome"] == "started"
    before = len((await client.get_workflow_handle(workflow_id).fetch_history()).events)

    status, body = await post_event(second)

    assert (status, body["outcome"], body["workflow_id"]) == (409, "conflict", workflow_id)
    assert [e["field"] for e in body["errors"]] == [
        "items[0].quantity", "items[1]", "order.lines[1].unit_price"]
    assert all(e["problem"] == "differs from the request that started this return"
               for e in body["errors"])
    # Nothing changed: the one run, started with the first request, and no new event.
    [run] = await runs(workflow_id)
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    assert len(history.events) == before
    started = history.events[0].workflow_execution_started_event_attributes
    assert json.loads(started.input.payloads[0].data)["event_id"] == first["event_id"]
    # The first request again is still a duplicate.
    assert (await post_event(first))[:1] == (200,)


async def test_a_different_request_for_a_finished_return_is_a_conflict_too(
        post_event, requested, client):
    event = requested()
    workflow_id = workflow_id_for(event["merchant_id"], event["return_id"])
    await post_event(event)
    await client.get_workflow_handle(workflow_id).terminate(reason="test: the return is over")
    other = requested(return_id=event["return_id"])
    other["items"][1]["exchange_for"] = "Boucles Goutte or rose"
    status, body = await post_event(other)
    assert (status, body["outcome"], [e["field"] for e in body["errors"]]) == (
        409, "conflict", ["items[1].exchange_for"])


async def test_a_request_for_a_finished_return_is_a_duplicate_not_a_second_run(
        post_event, requested, client, runs):
    event = requested()
    workflow_id = workflow_id_for(event["merchant_id"], event["return_id"])
    await post_event(event)
    handle = client.get_workflow_handle(workflow_id)
    first_run = (await handle.describe()).run_id
    await handle.terminate(reason="test: the return is over")

    assert await post_event(requested(return_id=event["return_id"])) == (
        200, {"outcome": "duplicate", "workflow_id": workflow_id})
    assert (await handle.describe()).run_id == first_run
    assert await runs(workflow_id) == [first_run]


async def test_unsigned_badly_signed_and_stale_requests_are_refused_and_start_nothing(
        post_event, requested, exists):
    event = requested()
    # The receiver reads the real clock a moment after this: well outside the 300 s tolerance
    # either way (its exact edge, with the clock fixed, is in test_ingestion_signing.py). At
    # +301 s this flaked: `int()` drops up to a second and the earlier attempts take time.
    now = int(time.time())
    attempts = {
        "unsigned": dict(signed=False),
        "wrong secret": dict(secret="whsec_guessed"),
        "stale": dict(timestamp=now - 330),
        "from the future": dict(timestamp=now + 330),
    }
    for name, how in attempts.items():
        status, body = await post_event(event, **how)
        assert status == 401, name
        assert body["errors"][0]["field"] == SIGNATURE_HEADER, name
    assert not await exists(workflow_id_for(event["merchant_id"], event["return_id"]))


async def test_a_signature_of_another_body_is_refused(http, requested, exists):
    event = requested()
    body = json.dumps(event).encode()
    header = sign(json.dumps(requested()).encode(), SECRET, int(time.time()))
    response = await http.post("/events", data=body, headers={SIGNATURE_HEADER: header})
    assert response.status == 401
    assert not await exists(workflow_id_for(event["merchant_id"], event["return_id"]))


async def test_a_body_that_is_not_json_is_a_400(post_event):
    status, body = await post_event(b'{"type": "return.requested", ')
    assert status == 400
    assert body["errors"][0]["field"] == "(body)"
    assert body["errors"][0]["problem"].startswith("not JSON")


async def test_an_invalid_event_is_a_422_naming_each_field_and_starts_nothing(
        post_event, requested, exists):
    event = requested()
    event["order"]["lines"][0]["unit_price"] = -1
    del event["order"]["customer"]["email"]

    status, body = await post_event(event)

    assert status == 422
    assert body["outcome"] == "rejected"
    assert {e["field"] for e in body["errors"]} == {"order.lines[0].unit_price",
                                                     "order.customer.email"}
    assert not await exists(workflow_id_for(event["merchant_id"], event["return_id"]))


async def test_an_item_for_an_unknown_line_is_a_422_and_starts_nothing(
        post_event, requested, exists):
    event = requested()
    event["items"][1]["line_id"] = "7"
    status, body = await post_event(event)
    assert (status, body["errors"]) == (422, [
        {"field": "items[1].line_id", "problem": "'7' is not a line of order ORD-1"}])
    assert not await exists(workflow_id_for(event["merchant_id"], event["return_id"]))


async def test_an_unknown_merchant_is_a_403_over_the_webhook_and_a_422_from_a_file(
        post_event, requested, exists, withdrawn, intake):
    """Over the webhook the merchant is the one whose secret signed: a body naming a merchant
    without a policy names another merchant (403). `starter.py send` (no signature) says 422."""
    event = requested(merchant_id="no-such-shop")
    status, body = await post_event(event)
    assert (status, body["outcome"], [e["field"] for e in body["errors"]]) == (
        403, "forbidden", ["merchant_id"])
    assert not await exists(workflow_id_for(event["merchant_id"], event["return_id"]))
    result = await intake.submit(json.dumps(event))
    assert (result.outcome.value, [p.field for p in result.problems]) == ("rejected", ["merchant_id"])
    assert "no returns policy" in result.problems[0].problem
    result = await intake.submit(json.dumps(withdrawn(event["return_id"], merchant_id="no-such-shop")))
    assert (result.outcome.value, result.problems[0].field) == ("rejected", "merchant_id")
    assert not await exists(workflow_id_for(event["merchant_id"], event["return_id"]))


async def test_a_withdrawal_for_a_return_we_do_not_have_is_a_409_to_retry(post_event, withdrawn,
                                                                           scanned, exists):
    for event in (withdrawn("R-never-requested"), scanned("R-never-requested")):
        status, body = await post_event(event)
        assert (status, body) == (409, {"outcome": "not_found",
                                        "workflow_id": "return-opalook-R-never-requested"})
    assert not await exists("return-opalook-R-never-requested")


async def test_a_withdrawal_signals_the_running_workflow(post_event, requested, withdrawn,
                                                         scanned, client):
    event = requested()
    workflow_id = workflow_id_for(event["merchant_id"], event["return_id"])
    await post_event(event)
    withdrawal, scan = withdrawn(event["return_id"]), scanned(event["return_id"])

    assert await post_event(scan) == (200, {"outcome": "signalled", "workflow_id": workflow_id})
    assert await post_event(withdrawal) == (200, {"outcome": "signalled",
                                                  "workflow_id": workflow_id})

    history = await client.get_workflow_handle(workflow_id).fetch_history()
    signals = [(e.workflow_execution_signaled_event_attributes.signal_name,
                json.loads(e.workflow_execution_signaled_event_attributes.input.payloads[0].data))
               for e in history.events if e.HasField("workflow_execution_signaled_event_attributes")]
    assert [(name, payload["event_id"]) for name, payload in signals] == [
        ("parcel_scanned", scan["event_id"]), ("withdraw", withdrawal["event_id"])]
    assert signals[1][1]["type"] == "return.withdrawn"


async def test_a_signal_for_a_finished_return_is_a_410_not_to_retry(post_event, requested,
                                                                   withdrawn, client):
    event = requested()
    await post_event(event)
    await client.get_workflow_handle(workflow_id_for(event["merchant_id"], event["return_id"])).terminate()
    status, body = await post_event(withdrawn(event["return_id"]))
    assert (status, body["outcome"]) == (410, "closed")


async def test_a_body_over_the_cap_is_a_413(post_event, requested, exists):
    event = requested()
    event["items"][0]["customer_note"] = "x" * MAX_BODY_BYTES
    status, body = await post_event(event)
    assert status == 413
    assert body["errors"][0]["field"] == "(body)"
    assert not await exists(workflow_id_for(event["merchant_id"], event["return_id"]))


async def test_temporal_unreachable_is_a_503_to_retry(known_merchant, requested):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down: Client = await connect(target_host=f"127.0.0.1:{port}", lazy=True)
    intake = Intake(down, task_queue=TASK_QUEUE, known_merchant=known_merchant,
                    deadline=timedelta(seconds=5))
    app = create_app(intake, WebhookConfig(secrets={"opalook": (SECRET,)}))
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        body = json.dumps(requested()).encode()
        response = await http.post("/events", data=body,
                                   headers={SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))})
        assert response.status == 503
        assert response.headers["Retry-After"] == "30"
        assert "retry later" in (await response.json())["errors"][0]["problem"]


async def test_healthz(http):
    response = await http.get("/healthz")
    assert (response.status, await response.json()) == (200, {"status": "ok"})
