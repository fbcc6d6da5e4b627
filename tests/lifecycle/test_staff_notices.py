"""Staff are told when they must act, and what stands between them and the next step:
an inspection or a shipment to the customer waiting (`action_needed` email), exchange fees to
collect before reshipping, an approval whose exceptions cannot apply, an email that bounced.
The real workflow and activities on the time-skipping server; bounces against a real SMTP server
(aiosmtpd on loopback) that refuses the customer's address with 550."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.worker import Worker

from activities.mail import SmtpTransport
from activities.notifications import NotificationActivities
from returns.status import ReturnState
from runtime.settings import Settings, SmtpSettings
from tests.lifecycle.conftest import Harness, record_if_asked
from samples.events import item, line, return_requested
from tests.lifecycle.test_paths import approve, receive_and_inspect, status, update, wait_state
from tests.lifecycle.test_search_attribute_upserts import attributes_in
from tests.notifications.conftest import smtp_server  # noqa: F401 - the real SMTP server fixture
from worker import build_activities
from workflows import search_attributes as sa
from workflows.order_workflow import OrderWorkflow
from workflows.return_workflow import ReturnWorkflow

S = ReturnState


async def approved_and_received(handle):
    """Approve, then the warehouse receives line L1: the status once the return is inspecting."""
    await approve(handle)
    await handle.signal("warehouse_receipt", {"actor": "warehouse:anna", "receipt_id": "S-1",
                                              "items": [{"line_id": "L1", "quantity": 1}]})
    return await wait_state(handle, S.inspecting)


async def emailed(handle, template: str, times: int = 1, timeout: float = 20.0) -> None:
    """Until the audit says `template` was emailed to staff `times` times."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        st = await status(handle)
        sent = [a for a in st.audit if (a.action, a.detail) == ("emailed staff", template)]
        if len(sent) >= times:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{template} sent {len(sent)} times"
        await asyncio.sleep(0.05)


def bodies(messages) -> str:
    return "\n".join(m.get_body(("plain",)).get_content() for m in messages)


async def test_staff_are_asked_to_inspect_then_to_ship_and_exchange_fees_come_first(harness):
    """004 §3.5 inspection within 3-5 business days and §3.6 reshipment: staff get an
    action_needed email for each; §4.5 the 50% fee on exchanging an engraved product, and §4.4
    the price difference and the reshipping cost, are collected before the exchange ships:
    the customer reads what they owe, ship_to_customer without the customer's payment is
    refused, and the payment recorded by staff is in the audit."""
    event = return_requested("fine-jewelry", delivered_days_ago=20,
                             lines=[line("L1", engraved=True)],
                             items=[item("L1", reason="size_fit", resolution="exchange",
                                         exchange_for="size 54")])
    handle = await harness.start(event)
    st = await wait_state(handle, S.under_review)
    fee = sum(f.amount for f in st.items[0].fees if not f.waived)
    assert st.items[0].resolution.value == "exchange" and fee == 10000, st.items[0].reasons

    await approve(handle)
    await receive_and_inspect(handle, ("L1", 1))
    await wait_state(handle, S.exchange_shipping)
    await emailed(handle, "action_needed", times=2)  # the state changes just before the email
    asked = [m for m in harness.outbox() if m["X-Notification"] == "action_needed"]
    text = bodies(asked)
    assert len(asked) == 2, [str(m["Subject"]) for m in asked]
    assert "record_inspection" in text and "L1 Gold ring x1" in text
    assert "Ship the exchange: Gold ring x1 -> size 54" in text
    assert "customer_payment" in text and "100.00" in text and "price difference" in text
    passed = next(m for m in harness.outbox() if m["X-Notification"] == "inspection_passed")
    told = " ".join(bodies([passed]).split())
    # The customer reads the amount and that more is quoted (004 §4.5 fee, §4.4 difference and
    # reshipping), in their words, without the clauses (issue 16).
    assert "Before we ship it, $100.00 is to be paid, plus costs we will quote you." in told, told
    assert "§" not in told
    assert "(004 §4.4)" in (await status(handle)).customer_owes  # on the status card too

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(handle, "ship_to_customer", {"actor": "sam", "carrier": "DHL",
                                                  "tracking_number": "JD0146000065",
                                                  "fee_payment_reference": "PAY-4411"})
    assert refused.value.cause.message.startswith("customer_payment: ")
    assert "004 §4.5" in refused.value.cause.message
    assert (await status(handle)).state == S.exchange_shipping

    await update(handle, "ship_to_customer", {"actor": "sam", "carrier": "DHL",
                                              "tracking_number": "JD0146000065",
                                              "customer_payment": {"reference": "PAY-4411",
                                                                   "amount": 12000}})
    final = await harness.result(handle)
    assert final.state == S.exchanged
    assert any("customer paid 120.00 USD, ref PAY-4411" in a.detail for a in final.audit)


async def test_an_exception_that_cannot_apply_is_refused_and_the_return_stays_under_review(harness):
    """004 §2.2: an item past the 15-day return window is not eligible; changing its resolution
    without accepting it as an exception is refused by the validator, naming the field, and the
    return is still under review, so staff can approve correctly."""
    event = return_requested("fine-jewelry", delivered_days_ago=20,
                             lines=[line("L1"), line("L2", sku="RING-2")],
                             items=[item("L1", resolution="exchange", exchange_for="size 52"),
                                    item("L2", reason="style_preference")])
    handle = await harness.start(event)
    st = await wait_state(handle, S.under_review)
    assert not next(i for i in st.items if i.line_id == "L2").eligible
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(handle, "approve", {"actor": "sam", "overrides": [
            {"line_id": "L2", "resolution": "exchange", "reason": "customer is a regular"}]})
    assert "overrides[0].resolution" in refused.value.cause.message
    assert (await status(handle)).state == S.under_review

    await update(handle, "approve", {"actor": "sam", "overrides": [
        {"line_id": "L2", "accept_exception": True, "resolution": "exchange",
         "reason": "customer is a regular"}]})
    st = await wait_state(handle, S.awaiting_shipment)
    assert next(i for i in st.items if i.line_id == "L2").eligible


async def test_the_label_barcode_is_searchable(harness):
    """What a scanner reads off the label finds the return (LabelBarcode search attribute)."""
    event = return_requested("fine-jewelry")
    handle = await harness.start(event)
    await wait_state(handle, S.under_review)
    st = await approve(handle)
    attrs = (await handle.describe()).typed_search_attributes
    assert attrs.get(sa.LABEL_BARCODE) == st.label.barcode_value == f"RMA-{event.return_id}"


async def test_a_bounced_customer_email_is_raised_to_staff_and_stays_on_the_card(
        env, registry, tmp_path, smtp_server):  # noqa: F811
    """The customer's mail server refuses the address (550): the email is tried once, recorded
    in the audit trail, staff get an escalation email, and NeedsAttention stays set through the
    refund (which used to clear it) because no email to the customer has gone through since."""
    settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")}),
                       task_queue=f"returns-{uuid.uuid4()}")
    smtp = NotificationActivities(SmtpTransport(
        SmtpSettings(host=smtp_server.host, port=smtp_server.port, starttls=False),
        tmp_path / "sent.sqlite3", timeout=5))
    activities = [a for a in build_activities(settings, registry, env.client)
                  if getattr(a, "__temporal_activity_definition").name != "send_notification"]
    event = return_requested("opalook", customer_type="business", country="US", currency="EUR",
                             items=[item("L1", reason="defective")])
    event = event.model_copy(update={"order": event.order.model_copy(update={
        "customer": event.order.customer.model_copy(update={"email": "ada@refused.example"})})})
    async with Worker(env.client, task_queue=settings.task_queue,
                      workflows=[ReturnWorkflow, OrderWorkflow],
                      activities=[*activities, smtp.send_notification]):
        harness = Harness(client=env.client, env=env, settings=settings)
        handle = await harness.start(event)
        await wait_state(handle, S.under_review)
        for _ in range(200):
            st = await status(handle)
            if {"request_received", "review_needed"} <= {a.detail for a in st.audit}:
                break
            await asyncio.sleep(0.05)
        assert st.needs_attention and "could not email the customer" in st.attention_reason
        await update(handle, "approve", {"actor": "claire"})
        with env.auto_time_skipping_disabled():
            final = await handle.result()
        await harness.finish()
    assert final.state == S.refunded
    assert final.needs_attention and "could not email the customer" in final.attention_reason
    failed = [a for a in final.audit if a.action == "email to customer failed"]
    assert failed and all("550" in a.detail for a in failed)
    refused = [r for r in smtp_server.handler.received if "ada@refused.example" in r.rcpt_tos]
    assert refused == []
    escalations = [r.message for r in smtp_server.handler.received
                   if r.message["X-Notification"] == "escalation"]
    assert escalations and "could not email the customer" in escalations[0].get_body(
        ("plain",)).get_content()


async def test_a_late_inspection_is_escalated_and_keeps_waiting(harness):
    """004 §3.5 inspection within 3-5 business days: once the (upper-bound) deadline passes,
    staff are alerted, the deadline is marked breached, and the return still waits for the
    inspection, which then completes it."""
    handle = await harness.start(return_requested("fine-jewelry"))
    await wait_state(handle, S.under_review)
    await approved_and_received(handle)
    await harness.sleep(handle, timedelta(days=10))
    st = await wait_state(handle, S.inspecting)
    assert st.needs_attention and "inspection deadline has passed" in st.attention_reason
    assert next(d for d in st.deadlines if d.kind.value == "inspection").breached
    assert "escalation" in [m["X-Notification"] for m in harness.outbox()]
    await update(handle, "record_inspection", {"actor": "ines", "items": [
        {"line_id": "L1", "passed": True, "checks_confirmed": True}]})
    final = await harness.result(handle)
    assert final.state == S.refunded


async def test_a_refund_that_keeps_failing_is_escalated_before_it_is_due_then_handed_to_staff(
        env, registry, tmp_path, monkeypatch):
    """004 §3.6 refund within 7 business days after the inspection: the payment provider fails
    on every attempt (retryable: the real fault wrapper, `refund:fail=1`): its brief first try
    fails, the return rests as refunding (what staff's searches show), Temporal retries with
    backoff, staff are alerted 48 hours before the refund is due while it keeps failing, then the
    refund is handed to staff, who record a manual refund; the ledger holds no refund."""
    monkeypatch.setenv("RETURNS_FAULTS", "seed=1;refund:fail=1")
    settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")}),
                       task_queue=f"returns-{uuid.uuid4()}")
    event = return_requested("fine-jewelry")
    async with Worker(env.client, task_queue=settings.task_queue,
                      workflows=[ReturnWorkflow, OrderWorkflow],
                      activities=build_activities(settings, registry, env.client)):
        harness = Harness(client=env.client, env=env, settings=settings)
        handle = await harness.start(event)
        await wait_state(handle, S.under_review)
        await approved_and_received(handle)
        await update(handle, "record_inspection", {"actor": "ines", "items": [
            {"line_id": "L1", "passed": True, "checks_confirmed": True}]})
        st = await wait_state(handle, S.refunding)
        # The brief first try (2026-12-quick-refund) failed: the return now rests, and staff
        # searching by state find it refunding, waiting on the payment provider.
        for _ in range(200):
            st = await status(handle)
            if "refund attempt failed; retrying until it is due" in [a.action for a in st.audit]:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"the first try never failed: {[a.action for a in st.audit]}")
        found = await attributes_in(handle, S.refunding)
        assert found.get(sa.RETURN_STATE) == "refunding"
        assert found.get(sa.WAITING_ON) == "payment provider"
        assert found.get(sa.NEXT_DEADLINE_KIND) == "refund"
        due = next(d for d in st.deadlines if d.kind.value == "refund").due_at
        now = await env.get_current_time()
        await harness.sleep(handle, due - now - timedelta(hours=24))  # inside the 48 h window
        st = await status(handle)
        assert st.state == S.refunding and st.refund.status == "failing", st.refund
        assert st.needs_attention and "keeps failing" in st.attention_reason
        assert "escalation" in [m["X-Notification"] for m in harness.outbox()]
        await harness.sleep(handle, timedelta(days=2))  # past the due date: handed to staff
        for _ in range(200):
            st = await status(handle)
            if st.refund.status == "failed":
                break
            await asyncio.sleep(0.05)
        assert st.refund.status == "failed" and st.refund.attempts == 1
        assert "refund_failed" in [m["X-Notification"] for m in harness.outbox()]
        await update(handle, "record_manual_refund", {"actor": "sam", "amount": 20000,
                                                      "reference": "BANK-TRANSFER-78"})
        final = await harness.result(handle)
        await record_if_asked(harness, "a_refund_that_keeps_failing_is_handed_to_staff")
        await harness.finish()
    assert final.state == S.refunded and final.refund.status == "manual"
    assert await harness.ledger.refunds(order_id=event.order.order_id) == []


async def test_a_precious_pearl_passes_inspection_only_once_its_certificate_is_confirmed(harness):
    """003 §IV.2: Akoya pearls are processed only after re-inspection confirms the original
    certificate matches the product number and the outbound records: a pass without
    checks_confirmed is refused (the return stays inspecting), with it the refund goes out."""
    event = return_requested("pearl-platform", delivered_days_ago=5, lines=[
        line("L1", sku="AKOYA-1", title="Akoya necklace", pearl_type="akoya",
             certificate_number="AK-2291")])
    handle = await harness.start(event)
    st = await wait_state(handle, S.under_review)
    assert st.items[0].eligible, st.items[0].reasons
    st = await approved_and_received(handle)
    assert any(c.startswith("003 §IV.2") for c in st.items[0].inspection_checks)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(handle, "record_inspection", {"actor": "ines", "items": [
            {"line_id": "L1", "passed": True}]})
    assert "checks_confirmed" in refused.value.cause.message
    assert "003 §IV.2" in refused.value.cause.message
    assert (await status(handle)).state == S.inspecting
    await update(handle, "record_inspection", {"actor": "ines", "items": [
        {"line_id": "L1", "passed": True, "checks_confirmed": True,
         "notes": "certificate AK-2291 matches the outbound record"}]})
    final = await harness.result(handle)
    assert final.state == S.refunded
    assert any("checks confirmed: " in a.detail and "003 §IV.2" in a.detail for a in final.audit)


async def test_an_inspection_fee_is_deducted_where_the_policy_allows_it(harness):
    """003 §V.1.4: a non-quality return bears possible quality inspection fees: the inspector
    charges one at inspection and the ledger refunds the rest; a fee larger than the refund is
    refused."""
    event = return_requested("pearl-platform", delivered_days_ago=20, country="US",
                             currency="USD", items=[item("L1", reason="changed_mind",
                                                         evidence=("photos", "original_packaging"))])
    handle = await harness.start(event)
    st = await wait_state(handle, S.under_review)
    assert st.items[0].eligible, st.items[0].reasons
    refund = st.items[0].refund_amount
    await approved_and_received(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(handle, "record_inspection", {"actor": "ines", "items": [
            {"line_id": "L1", "passed": True, "checks_confirmed": True, "inspection_fee": refund + 1}]})
    assert "inspection_fee" in refused.value.cause.message
    await update(handle, "record_inspection", {"actor": "ines", "items": [
        {"line_id": "L1", "passed": True, "checks_confirmed": True, "inspection_fee": 1500}]})
    final = await harness.result(handle)
    assert final.state == S.refunded
    refunds = await harness.ledger.refunds(order_id=event.order.order_id)
    assert [r.amount for r in refunds] == [refund - 1500]
    assert any(a.action == "inspection fee" and "003 §V.1.4" in a.detail for a in final.audit)


async def test_return_postage_is_reimbursed_only_where_the_merchant_bears_it(harness):
    """004 §3.4: for quality issues the return shipping is borne by the store on valid courier
    documents (§4.2: reimbursed separately from the refund): staff are asked to pay it; for a
    non-quality return (borne by the customer) the reimbursement is refused. 004 has no
    inspection fee, so one is refused too."""
    quality = await harness.start(return_requested("fine-jewelry"))
    other = await harness.start(return_requested("fine-jewelry", items=[
        item("L1", reason="style_preference")]))
    for handle in (quality, other):
        await wait_state(handle, S.under_review)
        await approved_and_received(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(other, "record_inspection", {"actor": "ines", "items": [
            {"line_id": "L1", "passed": True, "checks_confirmed": True}],
            "postage_reimbursement": {"amount": 1200, "courier_reference": "SF-1234"}})
    assert "postage_reimbursement" in refused.value.cause.message
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(quality, "record_inspection", {"actor": "ines", "items": [
            {"line_id": "L1", "passed": True, "checks_confirmed": True, "inspection_fee": 100}]})
    assert "charges no inspection fee" in refused.value.cause.message
    await update(quality, "record_inspection", {"actor": "ines", "items": [
        {"line_id": "L1", "passed": True, "checks_confirmed": True}],
        "postage_reimbursement": {"amount": 1200, "courier_reference": "SF-1234",
                                  "standard_shipping": 1200}})  # 004 §3.4 standard only
    final = await harness.result(quality)
    assert final.state == S.refunded
    assert any(a.action == "return postage to reimburse" and "SF-1234" in a.detail
               for a in final.audit)
    asked = [m for m in harness.outbox() if m["X-Notification"] == "action_needed"
             and "return postage" in m.get_body(("plain",)).get_content()]
    assert len(asked) == 1 and "12.00" in asked[0].get_body(("plain",)).get_content()
