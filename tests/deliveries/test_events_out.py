"""Events out (issue 19 point 5): each path's events reach a real HTTP receiver on loopback, in
order, once per event id, signed so that the project's verifier and Stripe's both accept them;
a receiver down for a while loses nothing; a 410 stops the return's deliveries."""

from __future__ import annotations

import asyncio
import json
import os
import sys

import stripe

from activities.contracts import RefundRequest

from ingestion.merchant_secrets import env_name
from ingestion.signing import SIGNATURE_HEADER, verify
from returns.outbound import ReturnEvent, deliveries_workflow_id
from returns.status import ReturnStatus
from samples.events import item, return_requested
from returns.policy.registry import PolicyRegistry
from samples.keys import TEST_KEYS_ENV
from tests.deliveries.conftest import ROOT, SECRETS, settings_for
from tests.lifecycle.conftest import Harness
from worker import build_worker
from workflows import search_attributes as sa
from tests.lifecycle.test_paths import (
    S, approve, picked_up, receive_and_inspect, update, wait_state,
)


async def status(handle) -> ReturnStatus:
    return await handle.query("status", result_type=ReturnStatus)


def types(events: list[dict]) -> list[str]:
    return [e["type"].removeprefix("return.") for e in events]


def in_order(events: list[dict]) -> None:
    """Sequence 1, 2, 3 ... with nothing missing, each id once, each a valid ReturnEvent."""
    assert [e["sequence"] for e in events] == list(range(1, len(events) + 1))
    assert len({e["event_id"] for e in events}) == len(events)
    for e in events:
        ReturnEvent.model_validate(e)
        assert "customer_page_url" not in e  # no customer page exists yet: absent, not null


async def test_refund_path_events_arrive_in_order_and_signed(stack, receiver):
    event = return_requested("fine-jewelry")
    handle = await stack.start(event)
    await wait_state(handle, S.under_review)
    await approve(handle)
    await picked_up(handle, event, "DHL", "JD0146000065")
    await receive_and_inspect(handle, ("L1", 1))
    final = await stack.result(handle)
    assert final.state == S.refunded
    events = await receiver.wait_for(event.return_id, "return.closed")
    assert types(events) == ["approved", "label_created", "parcel_shipped", "received",
                             "inspected", "refund_issued", "closed"]
    in_order(events)
    shipped = events[2]
    assert (shipped["carrier"], shipped["tracking_number"]) == ("DHL", "JD0146000065")
    refunded = events[5]
    assert refunded["refund"]["paid"] == final.refund.paid > 0
    assert refunded["lines"][0]["units_accepted"] == 1
    assert events[-1]["outcome"] == "refunded" and events[-1]["state"] == "refunded"
    no_personal_data = json.dumps(events)
    for value in (event.order.customer.email, event.order.customer.name,
                  event.order.shipping_address.line1):
        assert value not in no_personal_data

    # Signed like ours: the project's verifier and Stripe's accept every delivery.
    secret = SECRETS[event.merchant_id]
    for headers, body in receiver.raw:
        if json.loads(body)["return_id"] != event.return_id:
            continue
        header = headers[SIGNATURE_HEADER]
        verify(header, body, [secret])
        assert stripe.WebhookSignature.verify_header(body.decode(), header, secret, tolerance=300)
        assert headers["Returns-Event-Id"] == json.loads(body)["event_id"]
    deliveries = stack.client.get_workflow_handle(
        deliveries_workflow_id(event.merchant_id, event.return_id))
    await deliveries.result()  # ends with the return
    stack.handles.append(deliveries)  # its history too, for the replay test


async def test_reject_cancel_withdraw_and_exchange_paths(stack, receiver):
    rejected = await stack.start(return_requested("fine-jewelry"))
    cancelled = await stack.start(return_requested("fine-jewelry"))
    withdrawn_event = return_requested("fine-jewelry")
    withdrawn = await stack.start(withdrawn_event)
    exchange_event = return_requested("fine-jewelry", delivered_days_ago=20, items=[
        item("L1", resolution="exchange", exchange_for="size 54")])
    exchanged = await stack.start(exchange_event)
    for handle in (rejected, cancelled, withdrawn, exchanged):
        await wait_state(handle, S.under_review)

    await update(rejected, "reject", {"actor": "sam", "reason": "worn"})
    await update(cancelled, "cancel", {"actor": "sam", "reason": "duplicate"})
    await approve(withdrawn)
    await withdrawn.signal("withdraw", {
        "event_id": "w-1", "occurred_at": withdrawn_event.occurred_at.isoformat(),
        "return_id": withdrawn_event.return_id, "merchant_id": withdrawn_event.merchant_id})
    await approve(exchanged)
    await receive_and_inspect(exchanged, ("L1", 1))
    await wait_state(exchanged, S.exchange_shipping)
    await update(exchanged, "ship_to_customer", {"actor": "sam", "carrier": "DHL",
                                                 "tracking_number": "JD014600006543210987"})
    expected = {
        rejected: ["rejected"],
        cancelled: ["cancelled"],
        withdrawn: ["approved", "label_created", "withdrawn_by_customer"],
        exchanged: ["approved", "label_created", "received", "inspected", "exchange_shipped",
                    "closed"],
    }
    for handle, wanted in expected.items():
        final = await stack.result(handle)
        return_id = final.return_id
        events = await receiver.wait_for(return_id, "return." + wanted[-1])
        assert types(events) == wanted, final.state
        in_order(events)


async def test_a_receiver_down_for_a_while_loses_nothing_and_staff_see_it(stack, receiver):
    """Down: the return goes on (approved, label, waiting for the parcel) while its events wait;
    failing longer than `attention_after` (2 s here) raises NeedsAttention with the last error.
    Up again: every event arrives, in order, each id once; the attention clears."""
    await receiver.down()
    event = return_requested("fine-jewelry")
    handle = await stack.start(event)
    await wait_state(handle, S.under_review)
    await approve(handle)  # not held by the deliveries
    for _ in range(300):
        st = await status(handle)
        if st.needs_attention:
            break
        await asyncio.sleep(0.1)
    assert st.needs_attention and "keep failing" in st.attention_reason
    assert "did not answer" in st.attention_reason  # the last error
    for _ in range(100):  # and in the queues: the NeedsAttention search attribute
        described = await handle.describe()
        if described.typed_search_attributes.get(sa.NEEDS_ATTENTION):
            break
        await asyncio.sleep(0.1)
    assert described.typed_search_attributes.get(sa.NEEDS_ATTENTION) is True
    assert receiver.of(event.return_id) == []

    await receiver.up()
    await receiver.wait_for(event.return_id, "return.label_created", timeout=90)
    for _ in range(100):
        if not (st := await status(handle)).needs_attention:
            break
        await asyncio.sleep(0.1)
    assert not st.needs_attention, st.attention_reason
    assert any(a.action == "events reach the order system again" for a in st.audit)

    await update(handle, "cancel", {"actor": "sam", "reason": "test"})
    events = await receiver.wait_for(event.return_id, "return.cancelled")
    assert types(events) == ["approved", "label_created", "cancelled"]
    in_order(events)
    assert (await stack.result(handle)).state == S.cancelled


async def test_a_410_stops_the_returns_deliveries(stack, receiver):
    receiver.answer = 410
    event = return_requested("fine-jewelry")
    handle = await stack.start(event)
    await wait_state(handle, S.under_review)
    await approve(handle)
    await update(handle, "cancel", {"actor": "sam", "reason": "test"})
    final = await stack.result(handle)
    deliveries = stack.client.get_workflow_handle(
        deliveries_workflow_id(event.merchant_id, event.return_id))
    await asyncio.wait_for(deliveries.result(), 30)
    stack.handles.append(deliveries)
    posts = [json.loads(b) for _, b in receiver.raw if json.loads(b)["return_id"] == event.return_id]
    assert [p["type"] for p in posts] == ["return.approved"]  # asked once, never again
    assert not final.needs_attention  # the merchant's choice: nothing for staff to do
    stopped = [a for a in final.audit if a.action == "events to the order system stopped"]
    assert stopped and "410" in stopped[0].detail


async def test_a_worker_killed_mid_delivery_loses_nothing_and_the_repeat_is_dropped(
        dev_env, receiver, secrets_env, tmp_path):
    """The only worker (a real `python worker.py` process) is SIGKILLed while the receiver holds
    its first POST; the receiver then takes that POST (the sender never heard the answer). A new
    worker retries it once the attempt times out (7 s: the endpoint's 2 s timeout and a margin):
    the receiver gets the event id twice, keeps it once, and every event arrives in order."""
    settings = settings_for(tmp_path, receiver, timeout=2, attention_after=600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNS_"))}
    env.update({env_name(m): secret for m, secret in secrets_env.items()})
    env.update(TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
               TEMPORAL_NAMESPACE="default", RETURNS_DATA_DIR=str(settings.data_dir),
               RETURNS_TASK_QUEUE=settings.task_queue, RETURNS_CODEC_KEYS=TEST_KEYS_ENV,
               RETURNS_ADAPTERS_FILE=str(settings.adapters_file), PYTHONUNBUFFERED="1")
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "worker.py"), env=env, cwd=str(ROOT),
        stdout=(tmp_path / "worker.log").open("wb"), stderr=asyncio.subprocess.STDOUT)
    harness = Harness(client=dev_env.client, env=dev_env, settings=settings)
    try:
        receiver.hold = hold = asyncio.Event()
        event = return_requested("fine-jewelry")
        handle = await harness.start(event)
        await wait_state(handle, S.under_review, timeout=60)
        await update(handle, "approve", {"actor": "sam"})
        await asyncio.wait_for(receiver.held.wait(), 30)
        process.kill()
        await process.wait()
        hold.set()  # the held POST goes through: the dead worker never knew
        await asyncio.wait_for(receiver.wait_for(event.return_id, "return.approved"), 10)

        async with build_worker(dev_env.client, settings, PolicyRegistry.load(ROOT / "policies")):
            await wait_state(handle, S.awaiting_shipment, timeout=60)
            await update(handle, "cancel", {"actor": "sam", "reason": "test"})
            events = await receiver.wait_for(event.return_id, "return.cancelled", timeout=90)
            assert types(events) == ["approved", "label_created", "cancelled"]
            in_order(events)
            posted = [json.loads(b)["event_id"] for _, b in receiver.raw
                      if json.loads(b)["return_id"] == event.return_id]
            assert posted.count(events[0]["event_id"]) == 2  # sent again, dropped by its id
            await dev_env.client.get_workflow_handle(
                deliveries_workflow_id(event.merchant_id, event.return_id)).result()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await harness.finish()


async def test_a_failing_delivery_after_the_return_ended_is_raised_on_the_deliveries(
        stack, receiver):
    """Rejected while the receiver is down: the return has ended and cannot be told, so its
    deliveries workflow raises NeedsAttention itself (with MerchantId and ReturnId: the "needs a
    person now" list shows it), and clears it when the event gets through."""
    await receiver.down()
    event = return_requested("fine-jewelry")
    handle = await stack.start(event)
    await wait_state(handle, S.under_review)
    await update(handle, "reject", {"actor": "sam", "reason": "worn"})
    assert (await stack.result(handle)).state == S.rejected
    deliveries = stack.client.get_workflow_handle(
        deliveries_workflow_id(event.merchant_id, event.return_id))
    for _ in range(300):
        attributes = (await deliveries.describe()).typed_search_attributes
        if attributes.get(sa.NEEDS_ATTENTION):
            break
        await asyncio.sleep(0.1)
    assert attributes.get(sa.NEEDS_ATTENTION) is True
    assert attributes.get(sa.RETURN_ID) == event.return_id
    await receiver.up()
    await asyncio.wait_for(deliveries.result(), 60)
    assert types(receiver.of(event.return_id)) == ["rejected"]
    assert (await deliveries.describe()).typed_search_attributes.get(sa.NEEDS_ATTENTION) is False


async def test_inspection_failure_returnless_and_refund_failed_paths(stack, receiver):
    """Refused at inspection and sent back; refunded with nothing sent back (a business abroad,
    000 §1.3); a refund the provider refuses, then recorded by staff as paid by hand."""
    failed = await stack.start(return_requested("fine-jewelry"))
    returnless = await stack.start(return_requested(
        "opalook", customer_type="business", country="US", currency="EUR",
        items=[item("L1", reason="defective")]))
    refused_event = return_requested("fine-jewelry")
    payment = refused_event.order.payments[0]
    await stack.ledger.refund(RefundRequest(  # support refunded it already: nothing is left
        idempotency_key="support-desk-1", return_id="other", order_id=refused_event.order.order_id,
        currency=refused_event.order.currency, amount=payment.amount, payments=[payment],
        reason="refunded by the support desk"))
    refused = await stack.start(refused_event)
    for handle in (failed, returnless, refused):
        await wait_state(handle, S.under_review)

    await approve(failed)
    await receive_and_inspect(failed, ("L1", 1), passed=False)
    await wait_state(failed, S.returning_to_customer)
    await update(failed, "ship_to_customer", {  # 004 §3.7: the customer paid the way back first
        "actor": "sam", "carrier": "UPS", "tracking_number": "1Z12345E0205271688",
        "customer_payment": {"reference": "PAY-77", "amount": 2500}})
    await update(returnless, "approve", {"actor": "claire"})
    await approve(refused)
    await receive_and_inspect(refused, ("L1", 1))
    for _ in range(300):
        st = await status(refused)
        if st.refund and st.refund.status == "failed":
            break
        await asyncio.sleep(0.05)
    await update(refused, "record_manual_refund", {"actor": "sam", "amount": st.refund.amount,
                                                   "reference": "BANK-TRANSFER-77"})
    expected = {
        failed: ["approved", "label_created", "received", "inspected", "returned_to_customer",
                 "closed"],
        returnless: ["approved", "refund_issued", "closed"],
        refused: ["approved", "label_created", "received", "inspected", "refund_failed",
                  "refund_issued", "closed"],
    }
    for handle, wanted in expected.items():
        final = await stack.result(handle)
        events = await receiver.wait_for(final.return_id, "return." + wanted[-1])
        assert types(events) == wanted, final.state
        in_order(events)
    refused_events = receiver.of(refused_event.return_id)
    assert refused_events[4]["refund"]["status"] == "failed"
    assert refused_events[5]["refund"]["status"] == "manual"
