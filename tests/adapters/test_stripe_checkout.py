"""Money the customer owes, collected on a Stripe-hosted Checkout page (issue 18 point 2):
`create_customer_payment` and `check_customer_payment` through Stripe's official SDK against the
Stripe-compatible server on 127.0.0.1 (stripe-stateful-mock, the `stripe_mock` fixture).

stripe-stateful-mock 0.0.16 (its last release) has no Checkout Sessions or PaymentIntents:
tools/stripe-mock/checkout.js adds them to the same server, behind the mock's own API-key check
and Idempotency-Key replay, answering with the fields Stripe's API reference documents. The
customer paying on Stripe's page is stood for by its one route Stripe does not have,
`POST /v1/test_helpers/checkout/sessions/{id}/pay`.
"""

from __future__ import annotations

import uuid

import aiohttp
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.adapters import Secret
from activities.collection import CollectionActivities
from activities.owed_payments import PAYMENT_REFUSED, PaymentCheckRequest, PaymentRequest
from activities.payments import TransientRefundFailure
from activities.stripe_checkout import StripeCheckout

KEY = Secret("sk_test_returns_collection", "test")
SUCCESS = "https://returns.fine-jewelry.example/thanks"


@pytest.fixture
async def checkout(stripe_mock):
    collector = StripeCheckout(KEY, success_url=SUCCESS, api_base=stripe_mock.url, timeout=10)
    yield collector
    await collector.aclose()


def owed(amount: int = 2500, key: str | None = None, **extra) -> PaymentRequest:
    """004 §4.4: the price difference and the reshipping of a non-quality exchange."""
    return PaymentRequest(
        idempotency_key=key or f"return-fine-jewelry-R-{uuid.uuid4().hex[:8]}:collect:"
                               "exchange_shipping:1",
        merchant_id="fine-jewelry", return_id="R-1", order_id="O-1", amount=amount,
        currency="USD", description="the price difference (004 §4.4); the cost of shipping the "
                                    "exchanged Gold ring to you (004 §3.4, §4.4)", **extra)


async def run(fn, arg):
    return await ActivityEnvironment().run(fn, arg)


async def pay(stripe_mock, session_id: str) -> None:
    """The customer pays on Stripe's page."""
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stripe_mock.url}/v1/test_helpers/checkout/sessions/{session_id}/pay",
                             headers={"Authorization": f"Bearer {KEY.reveal()}"}) as answer:
            assert answer.status == 200, await answer.text()


async def test_a_payment_page_is_made_once_per_step_with_the_return_in_its_metadata(checkout):
    acts = CollectionActivities({"fine-jewelry": checkout})
    req = owed()

    offer = await run(acts.create_customer_payment, req)

    assert offer.provider == "stripe" and offer.payment_id.startswith("cs_")
    assert offer.url.startswith("https://checkout.stripe.com/") and offer.expires_at is not None
    session = await checkout.client.v1.checkout.sessions.retrieve_async(offer.payment_id)
    assert session.amount_total == 2500 and session.currency == "usd"
    assert session.mode == "payment" and session.success_url == SUCCESS
    assert session.metadata.to_dict() == {"collect_key": req.idempotency_key,
                                          "merchant_id": "fine-jewelry", "return_id": "R-1",
                                          "order_id": "O-1"}
    # A retry of the same step (the activity retried, a worker crash): the same page.
    again = await run(acts.create_customer_payment, req)
    assert again.payment_id == offer.payment_id and again.url == offer.url


async def test_the_check_sees_the_payment_once_the_customer_paid(checkout, stripe_mock):
    acts = CollectionActivities({"fine-jewelry": checkout})
    offer = await run(acts.create_customer_payment, owed(4200))
    ask = PaymentCheckRequest(merchant_id="fine-jewelry", payment_id=offer.payment_id)
    assert (await run(acts.check_customer_payment, ask)).status == "open"

    await pay(stripe_mock, offer.payment_id)

    paid = await run(acts.check_customer_payment, ask)
    assert paid.status == "paid" and paid.amount_received == 4200 and paid.currency == "USD"
    intent = await checkout.client.v1.payment_intents.retrieve_async(paid.payment_intent)
    assert intent.metadata.to_dict()["return_id"] == "R-1"  # what the webhook routes by


async def test_an_expired_page_is_seen_as_expired(checkout):
    acts = CollectionActivities({"fine-jewelry": checkout})
    offer = await run(acts.create_customer_payment, owed())
    await checkout.client.v1.checkout.sessions.expire_async(offer.payment_id)
    check = await run(acts.check_customer_payment, PaymentCheckRequest(
        merchant_id="fine-jewelry", payment_id=offer.payment_id))
    assert check.status == "expired"


async def test_a_merchant_without_collection_gets_no_page(checkout):
    """Staff then record the customer's payment on ship_to_customer (customer_payment)."""
    acts = CollectionActivities({"fine-jewelry": checkout})
    offer = await run(acts.create_customer_payment,
                      owed().model_copy(update={"merchant_id": "opalook"}))
    assert offer.provider is None and offer.url is None


async def test_stripe_refusing_is_not_retried_and_names_the_problem(checkout):
    acts = CollectionActivities({"fine-jewelry": checkout})
    with pytest.raises(ApplicationError) as err:
        await run(acts.check_customer_payment, PaymentCheckRequest(
            merchant_id="fine-jewelry", payment_id="cs_test_doesnotexist"))
    assert err.value.type == PAYMENT_REFUSED and err.value.non_retryable
    assert "resource_missing" in err.value.message
    with pytest.raises(ApplicationError) as err:
        await run(acts.create_customer_payment, owed().model_copy(update={"amount": 0}))
    assert err.value.type == PAYMENT_REFUSED and "amount: 0" in err.value.message


async def test_a_wrong_api_key_is_retried_and_never_quoted(stripe_mock):
    collector = StripeCheckout(Secret("sk_live_not_for_tests_1234", "test"), success_url=SUCCESS,
                               api_base=stripe_mock.url)
    try:
        with pytest.raises(TransientRefundFailure) as err:
            await run(CollectionActivities({"fine-jewelry": collector}).create_customer_payment,
                      owed())
    finally:
        await collector.aclose()
    assert "refused the API key" in str(err.value) and "sk_live" not in str(err.value)


def test_the_example_file_collects_for_fine_jewelry_only(tmp_path):
    """config/adapters.example.toml: `collect = true` for the store whose policy makes the customer
    pay before an exchange ships (004 §4.4); the other merchants leave it to staff."""
    from activities import wiring
    from activities.adapters import load_adapters
    from runtime.settings import Settings
    from tests.adapters.test_adapter_config import EXAMPLE, EXAMPLE_SECRETS, MERCHANTS

    config = load_adapters(EXAMPLE, env=EXAMPLE_SECRETS, known_merchants=MERCHANTS)
    acts = wiring.collection_activities(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path)}),
                                        config)
    assert list(acts._collectors) == ["fine-jewelry"]
    assert isinstance(acts._collectors["fine-jewelry"], StripeCheckout)


def test_collect_without_refund_methods_still_resolves_the_key(tmp_path):
    from activities.adapters import load_adapters

    path = tmp_path / "adapters.toml"
    path.write_text('[merchants.opalook.payments]\nmethods = { card = "manual" }\n'
                    '[merchants.opalook.payments.stripe]\napi_key_env = "OP_KEY"\n'
                    'collect = true\n')
    config = load_adapters(path, env={"OP_KEY": "sk_test_op"}, known_merchants=["opalook"])
    assert config.for_merchant("opalook").stripe_api_key.reveal() == "sk_test_op"
