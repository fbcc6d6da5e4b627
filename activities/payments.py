"""`issue_refund`: pay the customer back through the merchant's payment provider.

The provider is anything with `async refund(RefundRequest) -> RefundIssued` that honours the
request's `idempotency_key` (Stripe, Adyen and PayPal all do). The embedded default is
`activities.ledger.SqliteLedger`, a local SQLite ledger that behaves like one.

A permanent refusal (over-refund, wrong currency, idempotency key reused for another refund) is
raised by the provider as `RefundRefused` and becomes a non-retryable `ApplicationError` of type
`REFUND_REFUSED`: the workflow hands the return to a person. Anything else (network, locked
database) propagates and Temporal retries it; the idempotency key makes that safe.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import ISSUE_REFUND, REFUND_REFUSED, RefundIssued, RefundRequest
from returns.money import format_money
from runtime.logging import get_logger

log = get_logger(__name__)


class RefundRefused(Exception):
    """The provider permanently refused this refund; retrying the same request cannot succeed."""


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
        except RefundRefused as e:
            log.warning("refund refused", order_id=req.order_id, amount=req.amount,
                        currency=req.currency, idempotency_key=req.idempotency_key, why=str(e))
            raise ApplicationError(str(e), type=REFUND_REFUSED, non_retryable=True) from e
        log.info("refund issued", order_id=req.order_id, refund_id=issued.refund_id,
                 amount=format_money(issued.amount, issued.currency), splits=issued.splits,
                 duplicate=issued.duplicate, idempotency_key=req.idempotency_key)
        return issued


__all__ = ["PaymentActivities", "RefundProvider", "RefundRefused"]
