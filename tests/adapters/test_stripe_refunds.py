"""Refunds through Stripe's official SDK (async client) against a Stripe-compatible server on
127.0.0.1: the npm package stripe-stateful-mock, started by the `stripe_mock` fixture. Charges are
created in it through the same SDK, then refunded by the `issue_refund` activity.

Errors the mock cannot produce on a refund (5xx, 429, card declined, a PaymentIntent) are tested
at the HTTP boundary with a local aiohttp server answering as Stripe's documented API does.
"""

from __future__ import annotations

import uuid

import pytest
from aiohttp import web
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.adapters import Secret
from activities.contracts import NO_REFUND_PROVIDER, REFUND_REFUSED, RefundRequest
from activities.ledger import SqliteLedger
from activities.payments import PaymentActivities, RefundRouter, TransientRefundFailure
from activities.stripe_refunds import StripeRefunds
from returns.events import Payment
from tests.loopback import serving

KEY = Secret("sk_test_returns_adapters", "test")


@pytest.fixture
async def stripe_refunds(stripe_mock):
    provider = StripeRefunds(KEY, api_base=stripe_mock.url, timeout=10)
    yield provider
    await provider.aclose()


async def charge(provider: StripeRefunds, amount: int, source: str = "tok_visa",
                 currency: str = "eur") -> str:
    made = await provider.client.v1.charges.create_async(
        {"amount": amount, "currency": currency, "source": source})
    return made.id


def request(payments: list[Payment], amount: int, key: str | None = None, **extra) -> RefundRequest:
    return RefundRequest(
        idempotency_key=key or f"return-R-{uuid.uuid4().hex[:8]}:refund",
        return_id="R-1", order_id="O-1", currency="EUR", amount=amount, payments=payments,
        reason="accepted items", merchant_id="opalook", **extra)


def routed(provider, methods=None) -> PaymentActivities:
    methods = {"card": "stripe", "apple_pay": "stripe", "google_pay": "stripe"} \
        if methods is None else methods
    return PaymentActivities(RefundRouter(
        providers={"opalook": {"stripe": provider}}, methods_by_merchant={"opalook": methods},
        default_providers={}))


async def refund(acts: PaymentActivities, req: RefundRequest):
    return await ActivityEnvironment().run(acts.issue_refund, req)


async def refunded(provider: StripeRefunds, charge_id: str) -> int:
    return (await provider.client.v1.charges.retrieve_async(charge_id)).amount_refunded


async def test_split_tender_refunds_the_payments_in_order_once(stripe_refunds):
    first, second = await charge(stripe_refunds, 5000), await charge(stripe_refunds, 3000)
    req = request([Payment(payment_id=first, method="card", amount=5000),
                   Payment(payment_id=second, method="apple_pay", amount=3000)], 6000)
    acts = routed(stripe_refunds)

    issued = await refund(acts, req)

    assert issued.splits == {first: 5000, second: 1000} and issued.amount == 6000
    assert not issued.duplicate and len(issued.refund_id.split(",")) == 2
    assert await refunded(stripe_refunds, first) == 5000
    assert await refunded(stripe_refunds, second) == 1000
    made = await stripe_refunds.client.v1.refunds.retrieve_async(issued.refund_id.split(",")[1])
    assert made.metadata.to_dict() == {"idempotency_key": req.idempotency_key,
                                       "return_id": "R-1", "order_id": "O-1"}

    # The same step again (a retry, a worker crash, staff pressing retry days later): same refund.
    again = await refund(acts, req)
    assert again.duplicate and again.refund_id == issued.refund_id
    assert again.splits == issued.splits
    assert await refunded(stripe_refunds, first) == 5000
    assert await refunded(stripe_refunds, second) == 1000


async def test_stripe_answers_a_repeated_idempotency_key_with_the_same_refund(stripe_refunds):
    """What protects an attempt that died before it saw Stripe's answer: the Idempotency-Key the
    adapter sends (`<step key>:<payment id>`) makes Stripe replay the refund it already made."""
    ch = await charge(stripe_refunds, 4000)
    req = request([Payment(payment_id=ch, method="card", amount=4000)], 1500)
    issued = await refund(routed(stripe_refunds), req)

    replay = await stripe_refunds.client.v1.refunds.create_async(
        {"charge": ch, "amount": 1500, "reason": "requested_by_customer",
         "metadata": {"idempotency_key": req.idempotency_key, "return_id": "R-1",
                      "order_id": "O-1"}},
        {"idempotency_key": f"{req.idempotency_key}:{ch}"})

    assert replay.id == issued.refund_id
    assert await refunded(stripe_refunds, ch) == 1500


async def test_a_second_refund_step_uses_what_is_left_and_an_over_refund_is_refused(stripe_refunds):
    first, second = await charge(stripe_refunds, 5000), await charge(stripe_refunds, 3000)
    payments = [Payment(payment_id=first, method="card", amount=5000),
                Payment(payment_id=second, method="card", amount=3000)]
    acts = routed(stripe_refunds)
    await refund(acts, request(payments, 6000, key="return-R-2:refund"))

    later = await refund(acts, request(payments, 1500, key="return-R-2:refund:partial"))
    assert later.splits == {second: 1500}

    with pytest.raises(ApplicationError) as err:
        await refund(acts, request(payments, 600, key="return-R-2:refund:more"))
    assert err.value.type == REFUND_REFUSED and err.value.non_retryable
    assert "6.00 EUR is more than Stripe can refund" in err.value.message
    assert "only 5.00 EUR left" in err.value.message
    assert await refunded(stripe_refunds, second) == 2500  # nothing moved


async def test_an_over_refund_that_passes_our_check_is_refused_by_stripe_itself(
        stripe_refunds, monkeypatch):
    """Someone refunds the charge from the dashboard between our check of what is left and our
    refund: the pre-check saw 20.00 left, Stripe now holds 5.00 and refuses the 10.00 itself.
    Not retried, nothing moved; the staff retry is refused by the pre-check, naming what is left."""
    ch = await charge(stripe_refunds, 2000)
    create = stripe_refunds._create
    raced: list[str] = []

    async def after_a_dashboard_refund(req, state, amount, done_ids, done):
        assert state.capacity == 2000  # what our check saw
        made = await stripe_refunds.client.v1.refunds.create_async({"charge": ch, "amount": 1500})
        raced.append(made.id)
        return await create(req, state, amount, done_ids, done)

    monkeypatch.setattr(stripe_refunds, "_create", after_a_dashboard_refund)
    acts = routed(stripe_refunds)
    req = request([Payment(payment_id=ch, method="card", amount=2000)], 1000)
    with pytest.raises(ApplicationError) as err:
        await refund(acts, req)
    assert raced, "the refund never reached Stripe"
    assert err.value.type == REFUND_REFUSED and err.value.non_retryable
    assert err.value.message.startswith(f"Stripe refused refunding 10.00 EUR on {ch}: ")
    assert "greater than unrefunded amount" in err.value.message
    assert await refunded(stripe_refunds, ch) == 1500  # only the dashboard's refund
    refunds = await stripe_refunds.client.v1.refunds.list_async({"charge": ch})
    assert [r.id for r in refunds.data] == raced

    monkeypatch.setattr(stripe_refunds, "_create", create)
    with pytest.raises(ApplicationError) as err:
        await refund(acts, req)  # staff press retry_refund
    assert err.value.type == REFUND_REFUSED
    assert "only 5.00 EUR left to refund" in err.value.message
    assert await refunded(stripe_refunds, ch) == 1500


async def test_a_charge_refunded_in_full_elsewhere_is_refused_for_staff(stripe_refunds):
    ch = await charge(stripe_refunds, 2000)
    await stripe_refunds.client.v1.refunds.create_async({"charge": ch})  # e.g. from the dashboard

    with pytest.raises(ApplicationError) as err:
        await refund(routed(stripe_refunds),
                     request([Payment(payment_id=ch, method="card", amount=2000)], 500))
    assert err.value.type == REFUND_REFUSED and err.value.non_retryable
    assert "already refunded in full" in err.value.message


async def test_stripe_refusing_the_refund_is_not_retried(stripe_refunds):
    """A disputed (charged back) charge: Stripe itself answers 400 charge_disputed."""
    ch = await charge(stripe_refunds, 2000, source="tok_createDispute")

    with pytest.raises(ApplicationError) as err:
        await refund(routed(stripe_refunds),
                     request([Payment(payment_id=ch, method="card", amount=2000)], 500))
    assert err.value.type == REFUND_REFUSED and err.value.non_retryable
    assert f"Stripe refused refunding 5.00 EUR on {ch}: charge_disputed" in err.value.message


async def test_an_unknown_charge_or_a_foreign_id_is_refused(stripe_refunds):
    acts = routed(stripe_refunds)
    with pytest.raises(ApplicationError) as err:
        await refund(acts, request([Payment(payment_id="ch_doesnotexist", method="card",
                                            amount=100)], 100))
    assert err.value.type == REFUND_REFUSED and "resource_missing" in err.value.message
    with pytest.raises(ApplicationError) as err:
        await refund(acts, request([Payment(payment_id="P-77", method="card", amount=100)], 100))
    assert err.value.type == REFUND_REFUSED
    assert "payments[0].payment_id: 'P-77' (card) is not a Stripe charge" in err.value.message


async def test_a_wrong_api_key_is_retried_and_never_quoted(stripe_mock):
    provider = StripeRefunds(Secret("sk_live_not_for_tests_1234", "test"), api_base=stripe_mock.url)
    try:
        with pytest.raises(TransientRefundFailure) as err:
            await refund(routed(provider), request(
                [Payment(payment_id="ch_whatever", method="card", amount=100)], 100))
    finally:
        await provider.aclose()
    assert "refused the API key" in str(err.value) and "sk_live" not in str(err.value)


async def test_stripe_unreachable_is_retried():
    provider = StripeRefunds(KEY, api_base="http://127.0.0.1:9", timeout=5)  # discard port
    try:
        with pytest.raises(TransientRefundFailure) as err:
            await refund(routed(provider), request(
                [Payment(payment_id="ch_whatever", method="card", amount=100)], 100))
    finally:
        await provider.aclose()
    assert "Stripe unreachable" in str(err.value)


async def test_a_method_without_provider_goes_to_staff_as_a_manual_refund(stripe_refunds):
    acts = routed(stripe_refunds, methods={"card": "stripe"})
    with pytest.raises(ApplicationError) as err:
        await refund(acts, request([Payment(payment_id="kl_1", method="klarna", amount=100)], 100))
    assert err.value.type == NO_REFUND_PROVIDER and err.value.non_retryable
    assert "payments[0].method: no refund provider is configured for 'klarna'" in err.value.message


async def test_payments_of_different_providers_go_to_staff(stripe_refunds, tmp_path):
    acts = PaymentActivities(RefundRouter(
        providers={"opalook": {"stripe": stripe_refunds,
                               "ledger": SqliteLedger(tmp_path / "l.sqlite3")}},
        methods_by_merchant={"opalook": {"card": "stripe", "klarna": "ledger"}},
        default_providers={}))
    with pytest.raises(ApplicationError) as err:
        await refund(acts, request([Payment(payment_id="ch_1", method="card", amount=100),
                                    Payment(payment_id="kl_1", method="klarna", amount=100)], 150))
    assert err.value.type == NO_REFUND_PROVIDER
    assert "card -> stripe, klarna -> ledger" in err.value.message


async def test_without_merchant_id_the_default_provider_refunds(tmp_path):
    ledger = SqliteLedger(tmp_path / "ledger.sqlite3")
    acts = PaymentActivities(RefundRouter(
        providers={"opalook": {}}, methods_by_merchant={"opalook": {}},
        default_providers={"ledger": ledger}))
    req = request([Payment(payment_id="P-1", method="klarna", amount=900)], 400)
    issued = await refund(acts, req.model_copy(update={"merchant_id": None}))
    assert issued.splits == {"P-1": 400}
    assert await ledger.refunded_total("P-1") == 400


# --- at the HTTP boundary ----------------------------------------------------------------------
def stripe_error(status: int, type_: str, code: str | None, message: str) -> web.Response:
    error = {"type": type_, "message": message}
    if code:
        error["code"] = code
    return web.json_response({"error": error}, status=status)


class FakeStripe:
    """Answers as Stripe's API documents: a PaymentIntent, its (empty) refund list, and a refund
    creation that fails with the configured answer, or succeeds when there is none."""

    def __init__(self, failure: web.Response | None):
        self.failure = failure
        self.created: list[dict] = []
        self.idempotency_keys: list[str] = []

    async def intent(self, request):
        return web.json_response({"id": request.match_info["id"], "object": "payment_intent",
                                  "amount": 3000, "amount_received": 3000, "currency": "eur",
                                  "status": "succeeded"})

    async def list_refunds(self, request):
        return web.json_response({"object": "list", "data": [], "has_more": False,
                                  "url": "/v1/refunds"})

    async def create_refund(self, request):
        form = await request.post()
        self.created.append(dict(form))
        self.idempotency_keys.append(request.headers.get("Idempotency-Key", ""))
        if self.failure is not None:
            return self.failure
        return web.json_response({"id": "re_fake1", "object": "refund", "amount": int(form["amount"]),
                                  "currency": "eur", "status": "succeeded",
                                  "payment_intent": form.get("payment_intent"), "metadata": {},
                                  "created": 1})


def app_for(fake: FakeStripe) -> web.Application:
    app = web.Application()
    app.router.add_get("/v1/payment_intents/{id}", fake.intent)
    app.router.add_get("/v1/refunds", fake.list_refunds)
    app.router.add_post("/v1/refunds", fake.create_refund)
    return app


async def refund_through(fake: FakeStripe):
    async with serving(app_for(fake)) as url:
        provider = StripeRefunds(KEY, api_base=url, timeout=5)
        try:
            return await refund(routed(provider), request(
                [Payment(payment_id="pi_3Nfake", method="google_pay", amount=3000)], 1200,
                key="return-R-9:refund"))
        finally:
            await provider.aclose()


async def test_a_payment_intent_is_refunded_as_one_with_the_step_key():
    fake = FakeStripe(None)
    issued = await refund_through(fake)
    assert issued.refund_id == "re_fake1" and issued.splits == {"pi_3Nfake": 1200}
    [form] = fake.created
    assert form["payment_intent"] == "pi_3Nfake" and form["amount"] == "1200"
    assert "charge" not in form
    assert form["metadata[idempotency_key]"] == "return-R-9:refund"
    assert fake.idempotency_keys == ["return-R-9:refund:pi_3Nfake"]


@pytest.mark.parametrize("answer", [
    (500, "api_error", None, "An unknown error occurred"),
    (503, "api_error", None, "Service unavailable"),
    (429, "invalid_request_error", "rate_limit", "Too many requests"),
    (409, "idempotency_error", None, "There is currently another in-progress request"),
], ids=["500", "503", "429", "409"])
async def test_stripe_trouble_is_retried(answer):
    with pytest.raises(TransientRefundFailure):
        await refund_through(FakeStripe(stripe_error(*answer)))


@pytest.mark.parametrize("answer, shown", [
    ((402, "card_error", "card_declined", "Your card was declined."),
     "card_declined: Your card was declined."),
    ((400, "invalid_request_error", "charge_already_refunded", "Charge has already been refunded."),
     "charge_already_refunded"),
    ((400, "invalid_request_error", "amount_too_large", "Amount must be no more than $999,999.99"),
     "amount_too_large"),
    ((400, "invalid_request_error", None, "Refund amount ($12.00) is greater than unrefunded amount"),
     "greater than unrefunded amount"),
    ((400, "idempotency_error", None, "Keys for idempotent requests can only be used with the same "
                                      "parameters"), "same parameters"),
], ids=["card_declined", "already_refunded", "amount_too_large", "invalid_request", "key_reused"])
async def test_stripe_refusals_go_to_staff_with_a_readable_message(answer, shown):
    with pytest.raises(ApplicationError) as err:
        await refund_through(FakeStripe(stripe_error(*answer)))
    assert err.value.type == REFUND_REFUSED and err.value.non_retryable
    assert "Stripe refused refunding 12.00 EUR on pi_3Nfake" in err.value.message
    assert shown in err.value.message



def test_the_sdk_log_lines_never_show_a_key(caplog):
    """The SDK logs Stripe's error messages (logger `stripe`), which quote a masked key."""
    from stripe import _util

    with caplog.at_level("DEBUG", logger="stripe"):
        _util.log_info("Stripe v1 API error received",
                       error_message="Invalid API Key provided: sk_live_Opa**********4242")
        _util.log_debug("API response body", body='{"error":{"message":"rk_test_51Hx..."}}')
    shown = " ".join(r.getMessage() for r in caplog.records if r.name == "stripe")
    assert "sk_live_****" in shown and "rk_test_****" in shown
    assert "Opa" not in shown and "4242" not in shown and "51Hx" not in shown
