"""`StripeCheckout`: money the customer owes, collected on a Stripe-hosted Checkout page.

Why Checkout Sessions (mode `payment`): Stripe hosts the page (card, wallets, and whatever
methods the merchant enabled), so the customer pays from a plain link in an email or on their
return page, with no JavaScript of ours; a bare PaymentIntent would need Stripe.js on a page of
ours to collect the card. A Payment Link would need a Price object per amount. The session's
PaymentIntent carries our metadata, so Stripe's `payment_intent.succeeded` webhook names the
return (ingestion/stripe_webhook.py).

One session per step: created with the Idempotency-Key `<workflow id>:collect:<state>:<n>` (the
activity's retries within Stripe's 24 hours get the same session) and tagged with metadata
`collect_key` = that key, `merchant_id`, `return_id`, `order_id`. A session expires after 24 hours
(Stripe's default and maximum); the workflow then makes the next one (`<n>+1`) and sends the new
link. Ids and amounts only go to Stripe: no name, email or address (the customer types what
Stripe needs on its page).

Errors are classified as for refunds (`activities.stripe_refunds._classify`): Stripe down, 5xx,
429, a refused API key: retried; anything else refused for good (`CustomerPaymentRefused`).
"""

from __future__ import annotations

from datetime import datetime, timezone

import stripe

from activities.adapters import Secret
from activities.owed_payments import PaymentCheck, PaymentOffer, PaymentRequest
from activities.payments import RefundRefused
from activities.stripe_refunds import _classify
from returns.money import format_money

# Stripe Checkout's page languages among ours (the customer's locale, else Stripe's "auto").
_LOCALES = {"en": "en", "fr": "fr", "zh": "zh"}


class CustomerPaymentRefused(Exception):
    """Stripe permanently refused to create or read the payment; a retry cannot help."""


class StripeCheckout:
    """Collects on one merchant's Stripe account (its secret key)."""

    name = "stripe"

    def __init__(self, api_key: Secret, *, success_url: str | None = None,
                 api_base: str | None = None, timeout: float = 30) -> None:
        self.success_url = success_url
        self._http = stripe.AIOHTTPClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key.reveal(), base_addresses={"api": api_base} if api_base else None,
            http_client=self._http, max_network_retries=0)

    @property
    def client(self) -> stripe.StripeClient:
        return self._client

    async def aclose(self) -> None:
        await self._http.close_async()

    async def create(self, req: PaymentRequest, return_page_url: str | None) -> PaymentOffer:
        if req.amount <= 0:
            raise CustomerPaymentRefused(f"amount: {req.amount} is not a positive amount in "
                                         "minor units")
        success_url = return_page_url or self.success_url
        if not success_url:
            raise CustomerPaymentRefused(
                "success_url: Stripe sends the customer somewhere after paying: set the "
                "merchant's payments.stripe.success_url, or RETURNS_CUSTOMER_PAGE_KEYS for the "
                "customer's return page")
        metadata = {"collect_key": req.idempotency_key, "merchant_id": req.merchant_id,
                    "return_id": req.return_id, "order_id": req.order_id}
        name = f"Return {req.return_id} (order {req.order_id})"
        params = {
            "mode": "payment",
            "line_items": [{"quantity": 1, "price_data": {
                "currency": req.currency.lower(), "unit_amount": req.amount,
                "product_data": {"name": name, "description": req.description[:500]}}}],
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata,
                                    "description": f"{name}: {req.description}"[:1000]},
            "client_reference_id": req.return_id,
            "success_url": success_url,
            "locale": _LOCALES.get(req.locale.split("-")[0], "auto"),
        }
        try:
            session = await self._client.v1.checkout.sessions.create_async(
                params, {"idempotency_key": req.idempotency_key})
        except stripe.StripeError as err:
            raise _failure(err, f"creating the payment of "
                                f"{format_money(req.amount, req.currency)}") from None
        return PaymentOffer(provider=self.name, payment_id=session.id, url=session.url,
                            expires_at=datetime.fromtimestamp(session.expires_at, timezone.utc)
                            if getattr(session, "expires_at", None) else None)

    async def check(self, payment_id: str) -> PaymentCheck:
        try:
            session = await self._client.v1.checkout.sessions.retrieve_async(payment_id)
            if session.status == "complete" and session.payment_status == "paid":
                intent = await self._client.v1.payment_intents.retrieve_async(
                    session.payment_intent)
                if intent.status == "succeeded":
                    return PaymentCheck(status="paid", payment_intent=intent.id,
                                        amount_received=intent.amount_received or 0,
                                        currency=str(intent.currency).upper())
        except stripe.StripeError as err:
            raise _failure(err, f"looking up the payment {payment_id}") from None
        return PaymentCheck(status="expired" if session.status == "expired" else "open")


def _failure(err: stripe.StripeError, doing: str) -> Exception:
    failure = _classify(err, doing)
    if isinstance(failure, RefundRefused):  # the refunds' words, a collection's type
        return CustomerPaymentRefused(str(failure))
    return failure


__all__ = ["CustomerPaymentRefused", "StripeCheckout"]
