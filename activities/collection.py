"""`create_customer_payment` and `check_customer_payment`: money the customer owes before a
shipment, collected through the merchant's payment provider where one is configured.

Per merchant (adapters file, `[merchants.<id>.payments.stripe] collect = true`): a
`StripeCheckout` on the merchant's own Stripe account. A merchant without one gets
`PaymentOffer(provider=None)`: nothing is created, and staff record the customer's payment on
`ship_to_customer` as before. A permanent refusal (`CustomerPaymentRefused`) becomes a
non-retryable `ApplicationError` of type `CUSTOMER_PAYMENT_REFUSED` (the workflow falls back to
staff); anything else is retried by Temporal, the idempotency key making that safe.

The customer comes back from Stripe's page to their return page (a signed link, when the worker
has RETURNS_CUSTOMER_PAGE_KEYS), else to the merchant's `success_url`.
"""

from __future__ import annotations

from typing import Protocol

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.owed_payments import (
    CHECK_CUSTOMER_PAYMENT, CREATE_CUSTOMER_PAYMENT, PAYMENT_REFUSED, PaymentCheck,
    PaymentCheckRequest, PaymentOffer, PaymentRequest,
)
from activities.stripe_checkout import CustomerPaymentRefused
from returns.money import format_money
from runtime.logging import get_logger

log = get_logger(__name__)


class PaymentCollector(Protocol):
    name: str

    async def create(self, req: PaymentRequest, return_page_url: str | None) -> PaymentOffer: ...

    async def check(self, payment_id: str) -> PaymentCheck: ...


class CollectionActivities:
    """`collectors[merchant_id]`: the merchant's collector; a merchant left out has none."""

    def __init__(self, collectors: dict[str, PaymentCollector], links=None) -> None:
        self._collectors = collectors
        self._links = links  # customer_page.links.CustomerLinks, or None

    @activity.defn(name=CREATE_CUSTOMER_PAYMENT)
    async def create_customer_payment(self, req: PaymentRequest) -> PaymentOffer:
        collector = self._collectors.get(req.merchant_id)
        if collector is None:
            log.info("customer payment: no provider", merchant_id=req.merchant_id,
                     return_id=req.return_id)
            return PaymentOffer()
        page = self._links.url(req.merchant_id, req.return_id, req.locale) \
            if self._links is not None else None
        try:
            offer = await collector.create(req, page)
        except CustomerPaymentRefused as err:
            log.warning("customer payment refused", merchant_id=req.merchant_id,
                        return_id=req.return_id, idempotency_key=req.idempotency_key,
                        why=str(err))
            raise ApplicationError(str(err), type=PAYMENT_REFUSED, non_retryable=True) from None
        # The link is a bearer link to pay: never logged.
        log.info("customer payment created", merchant_id=req.merchant_id,
                 return_id=req.return_id, payment_id=offer.payment_id,
                 amount=format_money(req.amount, req.currency),
                 idempotency_key=req.idempotency_key)
        return offer

    @activity.defn(name=CHECK_CUSTOMER_PAYMENT)
    async def check_customer_payment(self, req: PaymentCheckRequest) -> PaymentCheck:
        collector = self._collectors.get(req.merchant_id)
        if collector is None:
            raise ApplicationError(f"merchant_id: {req.merchant_id} has no payment provider "
                                   "collecting for it any more", type=PAYMENT_REFUSED,
                                   non_retryable=True)
        try:
            return await collector.check(req.payment_id)
        except CustomerPaymentRefused as err:
            raise ApplicationError(str(err), type=PAYMENT_REFUSED, non_retryable=True) from None


__all__ = ["CollectionActivities", "PaymentCollector"]
