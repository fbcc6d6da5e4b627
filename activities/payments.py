"""`issue_refund`: pay the customer back through the merchant's payment provider.

The provider is anything with `async refund(RefundRequest) -> RefundIssued` that honours the
request's `idempotency_key` (Stripe, Adyen and PayPal all do). The embedded default is
`activities.ledger.SqliteLedger`, a local SQLite ledger that behaves like one.

A permanent refusal (over-refund, wrong currency, idempotency key reused for another refund) is
raised by the provider as `RefundRefused` and becomes a non-retryable `ApplicationError` of type
`REFUND_REFUSED`: the workflow hands the return to a person. Anything else (network, locked
database, `TransientRefundFailure`) propagates and Temporal retries it; the idempotency key makes
that safe.

Per merchant (`RefundRouter`, configured in the adapters file): each payment method is refunded
by the provider the merchant chose for it (`activities.stripe_refunds.StripeRefunds`, or the
ledger, which moves no money). An order paid with a method that has no provider (left out or
`manual`), or with methods of different providers,
is not refunded automatically: `NoRefundProvider`, a non-retryable `ApplicationError` of type
`NO_REFUND_PROVIDER`; the workflow hands it to staff, who record a manual refund.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import (
    ISSUE_REFUND,
    NO_REFUND_PROVIDER,
    REFUND_REFUSED,
    RefundIssued,
    RefundRequest,
)
from activities.adapters import MANUAL
from returns.money import format_money
from runtime.logging import get_logger

log = get_logger(__name__)


class RefundRefused(Exception):
    """The provider permanently refused this refund; retrying the same request cannot succeed."""


class TransientRefundFailure(Exception):
    """The provider could not answer now (down, 5xx, rate limit): Temporal retries."""


class NoRefundProvider(Exception):
    """No provider is configured for the order's payment methods: staff refund by hand."""


@runtime_checkable
class RefundProvider(Protocol):
    async def refund(self, req: RefundRequest) -> RefundIssued:
        """Refund `req.amount` across `req.payments`, at most once per `req.idempotency_key`.

        Returns the same refund with `duplicate=True` when the key was already used for it.
        Raises `RefundRefused` for permanent refusals.
        """
        ...


class PaymentActivities:
    """The refund activity, bound to one provider (chosen at worker start)."""

    def __init__(self, provider: RefundProvider) -> None:
        self._provider = provider

    @activity.defn(name=ISSUE_REFUND)
    async def issue_refund(self, req: RefundRequest) -> RefundIssued:
        try:
            issued = await self._provider.refund(req)
        except NoRefundProvider as e:
            log.warning("refund has no provider", order_id=req.order_id, amount=req.amount,
                        currency=req.currency, merchant_id=req.merchant_id,
                        idempotency_key=req.idempotency_key, why=str(e))
            raise ApplicationError(str(e), type=NO_REFUND_PROVIDER, non_retryable=True) from None
        except RefundRefused as e:
            log.warning("refund refused", order_id=req.order_id, amount=req.amount,
                        currency=req.currency, idempotency_key=req.idempotency_key, why=str(e))
            raise ApplicationError(str(e), type=REFUND_REFUSED, non_retryable=True) from e
        log.info("refund issued", order_id=req.order_id, refund_id=issued.refund_id,
                 amount=format_money(issued.amount, issued.currency), splits=issued.splits,
                 duplicate=issued.duplicate, idempotency_key=req.idempotency_key)
        return issued


class RefundRouter:
    """A `RefundProvider` that sends each request to the provider its merchant chose for the
    order's payment methods.

    `methods_by_merchant[merchant_id]` maps a payment method to a provider name (a method left out,
    or mapped to `manual`, has no provider); `None` for a merchant means every method goes to
    `default_provider`.
    Requests without a merchant, or of a merchant not configured, use `default_methods`.
    """

    def __init__(self, providers: dict[str, dict[str, RefundProvider]],
                 methods_by_merchant: dict[str, dict[str, str] | None], *,
                 default_providers: dict[str, RefundProvider],
                 default_methods: dict[str, str] | None = None,
                 default_provider: str = "ledger") -> None:
        self._providers = providers
        self._methods = methods_by_merchant
        self._default_providers = default_providers
        self._default_methods = default_methods
        self._default_provider = default_provider

    def route(self, req: RefundRequest) -> tuple[str, RefundProvider]:
        """(provider name, provider) for this request; raises NoRefundProvider."""
        if req.merchant_id in self._methods:
            methods, providers = self._methods[req.merchant_id], self._providers[req.merchant_id]
        else:
            methods, providers = self._default_methods, self._default_providers
        who = req.merchant_id or "the default configuration"
        names: list[str] = []
        for i, p in enumerate(req.payments):
            name = self._default_provider if methods is None else methods.get(p.method)
            if name == MANUAL:
                raise NoRefundProvider(
                    f"payments[{i}].method: {p.method!r} (payment {p.payment_id}) is refunded by "
                    f"hand for {who}; refund it and record the manual refund")
            if name is None:
                raise NoRefundProvider(
                    f"payments[{i}].method: no refund provider is configured for {p.method!r} "
                    f"(payment {p.payment_id}) for {who}; refund it by hand and record the "
                    "manual refund")
            names.append(name)
        chosen = set(names) or {self._default_provider}
        if len(chosen) > 1:
            used = ", ".join(f"{p.method} -> {n}" for p, n in zip(req.payments, names))
            raise NoRefundProvider(
                f"payments: order {req.order_id} was paid through several refund providers "
                f"({used}); refund it by hand and record the manual refund")
        name = chosen.pop()
        return name, providers[name]

    async def refund(self, req: RefundRequest) -> RefundIssued:
        name, provider = self.route(req)
        log.info("refund provider chosen", order_id=req.order_id, merchant_id=req.merchant_id,
                 provider=name)
        return await provider.refund(req)


__all__ = ["NoRefundProvider", "PaymentActivities", "RefundProvider", "RefundRefused",
           "RefundRouter", "TransientRefundFailure"]
