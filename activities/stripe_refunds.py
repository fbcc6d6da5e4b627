"""`StripeRefunds`: refunds the order's original Stripe payments (a `RefundProvider`).

Uses the official SDK's `StripeClient` with its aiohttp client (`stripe.AIOHTTPClient`), so a
refund never blocks the worker's event loop. `Payment.payment_id` is the charge (`ch_...`,
`py_...`) or PaymentIntent (`pi_...`) the customer paid with.

Split tender: the amount is spread over the order's payments in order (first payment first),
each up to what it still holds: what Stripe captured (never more than the order says was paid)
less what other refunds already took. One Stripe refund per payment, each sent with the
Idempotency-Key `<workflow id>:<step>:<payment id>` and tagged with metadata
`idempotency_key = <workflow id>:<step>`. A retry first lists the payment's refunds and reuses
the ones tagged with its key, so it never refunds twice, even after Stripe has forgotten the
Idempotency-Key (24 hours; staff may retry a refund days later). Refunds this step made are left
out of "what other refunds took", so every attempt computes the same split.

Errors (see `_classify`):

- Stripe down, 5xx, 429 rate limit, a network failure, a refused API key, an idempotency
  conflict (409, a concurrent attempt): `TransientRefundFailure`, Temporal retries.
- card declined, charge already refunded or disputed, amount too large, unknown charge, any
  other invalid request: `RefundRefused` with a readable message, not retried; the workflow
  hands the return to staff (retry or record a manual refund).

Nothing personal goes to Stripe or into the messages: ids and amounts only. No part of the key
reaches a log either: the SDK's own log lines (logger `stripe`, INFO and DEBUG) quote Stripe's
masked key (`Invalid API Key provided: sk_live_Opa****4242`), so a filter on that logger replaces
any API key in them by `<prefix>_****` (do not set `STRIPE_LOG`: the SDK then prints to stderr
itself, past any filter).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import stripe

from activities.adapters import Secret
from activities.contracts import RefundIssued, RefundRequest
from activities.ledger import _validate as validate_request
from activities.payments import RefundRefused, TransientRefundFailure
from returns.events import Payment
from returns.money import allocate_in_order, format_money

_DONE_STATUSES = ("failed", "canceled")  # refunds that gave nothing back
# Secret, restricted and publishable keys, whole or masked by Stripe (`sk_live_Opa****4242`).
_API_KEY = re.compile(r"\b((?:sk|rk|pk)_(?:live|test))_[A-Za-z0-9*]+")


def redact_api_keys(text: str) -> str:
    return _API_KEY.sub(r"\1_****", text)


class _RedactApiKeys(logging.Filter):
    """On the SDK's logger: its lines keep everything but the key."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_api_keys(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


_stripe_logger = logging.getLogger("stripe")
if not any(isinstance(f, _RedactApiKeys) for f in _stripe_logger.filters):
    _stripe_logger.addFilter(_RedactApiKeys())


@dataclass
class _PaymentState:
    payment: Payment
    kind: str  # "charge" | "payment_intent"
    captured: int
    currency: str
    refunded_by_others: int
    ours: list = field(default_factory=list)  # this step's refunds, oldest first

    @property
    def capacity(self) -> int:
        return max(0, min(self.payment.amount, self.captured) - self.refunded_by_others)


class StripeRefunds:
    """A refund provider on one Stripe account (one merchant's secret key)."""

    name = "stripe"

    def __init__(self, api_key: Secret, *, api_base: str | None = None, timeout: float = 30,
                 max_network_retries: int = 0) -> None:
        # Temporal retries the activity (with backoff and a deadline); the SDK does not retry on
        # its own unless asked, so one attempt is one request.
        self.api_base = api_base
        self._http = stripe.AIOHTTPClient(timeout=timeout)
        self._client = stripe.StripeClient(
            api_key.reveal(),
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=max_network_retries,
        )

    @property
    def client(self) -> stripe.StripeClient:
        return self._client

    async def aclose(self) -> None:
        await self._http.close_async()

    async def refund(self, req: RefundRequest) -> RefundIssued:
        validate_request(req)
        for i, p in enumerate(req.payments):
            _kind(p, i)  # every id is a Stripe one before anything is asked
        states = [await self._state(p, i, req) for i, p in enumerate(req.payments)]

        capacities = [s.capacity for s in states]
        if req.amount > sum(capacities):
            captured = sum(min(s.payment.amount, s.captured) for s in states)
            others = sum(s.refunded_by_others for s in states)
            what = "is already refunded in full" if sum(capacities) == 0 else \
                f"has only {format_money(sum(capacities), req.currency)} left to refund"
            raise RefundRefused(
                f"amount: {format_money(req.amount, req.currency)} is more than Stripe can refund: "
                f"order {req.order_id} {what} (paid {format_money(captured, req.currency)}, "
                f"already refunded {format_money(others, req.currency)})")
        parts = allocate_in_order(req.amount, capacities)

        refund_ids: list[str] = []
        splits: dict[str, int] = {}
        reused = 0
        for s, part in zip(states, parts):
            if part == 0:
                continue
            pid = s.payment.payment_id
            existing = [r for r in s.ours if r.amount == part]
            if existing:
                refund_ids.append(existing[0].id)
                reused += 1
            elif s.ours:
                raise RefundRefused(
                    f"payments: refund {s.ours[0].id} of "
                    f"{format_money(s.ours[0].amount, req.currency)} on {pid} was made by this step "
                    f"({req.idempotency_key}) but this attempt would refund "
                    f"{format_money(part, req.currency)}; check the payment in Stripe")
            else:
                refund_ids.append(await self._create(req, s, part, refund_ids, splits))
            splits[pid] = part
        return RefundIssued(refund_id=",".join(refund_ids), amount=req.amount,
                            currency=req.currency, splits=splits,
                            duplicate=reused == len(refund_ids))

    # --- Stripe calls ---------------------------------------------------------------------------
    async def _state(self, p: Payment, index: int, req: RefundRequest) -> _PaymentState:
        kind = _kind(p, index)
        v1 = self._client.v1
        what = f"payments[{index}] {p.payment_id}"
        try:
            if kind == "charge":
                obj = await v1.charges.retrieve_async(p.payment_id)
                captured = obj.amount if obj.captured else 0
                listing = await v1.refunds.list_async({"charge": p.payment_id, "limit": 100})
            else:
                obj = await v1.payment_intents.retrieve_async(p.payment_id)
                captured = obj.amount_received or 0
                listing = await v1.refunds.list_async({"payment_intent": p.payment_id,
                                                       "limit": 100})
            refunds = [r async for r in listing.auto_paging_iter()]
        except stripe.StripeError as err:
            raise _classify(err, f"looking up {what}") from None
        currency = str(obj.currency).upper()
        if currency != req.currency:
            raise RefundRefused(f"currency: {what} was paid in {currency}, the refund asks for "
                                f"{req.currency}")
        ours, others = [], 0
        for r in sorted(refunds, key=lambda r: r.created):
            if _metadata(r).get("idempotency_key") == req.idempotency_key:
                if r.status not in _DONE_STATUSES:
                    ours.append(r)
            elif r.status not in _DONE_STATUSES:
                others += r.amount
        return _PaymentState(payment=p, kind=kind, captured=captured, currency=currency,
                             refunded_by_others=others, ours=ours)

    async def _create(self, req: RefundRequest, s: _PaymentState, amount: int,
                      done_ids: list[str], done: dict[str, int]) -> str:
        pid = s.payment.payment_id
        params: dict = {
            s.kind: pid,
            "amount": amount,
            "reason": "requested_by_customer",
            "metadata": {"idempotency_key": req.idempotency_key, "return_id": req.return_id,
                         "order_id": req.order_id},
        }
        try:
            refund = await self._client.v1.refunds.create_async(
                params, {"idempotency_key": f"{req.idempotency_key}:{pid}"})
        except stripe.StripeError as err:
            failure = _classify(err, f"refunding {format_money(amount, req.currency)} on {pid}")
            if done and isinstance(failure, RefundRefused):
                paid = ", ".join(f"{format_money(a, req.currency)} on {p}" for p, a in done.items())
                failure = RefundRefused(f"{failure} (already refunded by this step: {paid}, "
                                        f"{', '.join(done_ids)}; a retry does not repeat them)")
            raise failure from None
        if refund.status in _DONE_STATUSES:
            raise RefundRefused(f"Stripe refund {refund.id} on {pid} is {refund.status}"
                                f"{': ' + refund.failure_reason if getattr(refund, 'failure_reason', None) else ''}")
        return refund.id


def _metadata(obj) -> dict:
    meta = getattr(obj, "metadata", None)
    return meta.to_dict() if meta is not None else {}


def _kind(p: Payment, index: int) -> str:
    if p.payment_id.startswith(("ch_", "py_")):
        return "charge"
    if p.payment_id.startswith("pi_"):
        return "payment_intent"
    raise RefundRefused(f"payments[{index}].payment_id: {p.payment_id!r} ({p.method}) is not a "
                        "Stripe charge (ch_...) or PaymentIntent (pi_...) id")


def _classify(err: stripe.StripeError, doing: str) -> Exception:
    """What a Stripe error means for the workflow: retry (transient) or hand to staff (refused)."""
    status = err.http_status
    code = err.code or (err.error.code if err.error is not None else None)
    message = " ".join(str(err.user_message or type(err).__name__).split())
    detail = f"{code}: {message}" if code else message
    if isinstance(err, stripe.APIConnectionError):
        return TransientRefundFailure(f"Stripe unreachable while {doing}: {message}")
    if isinstance(err, stripe.RateLimitError) or status == 429:
        return TransientRefundFailure(f"Stripe rate limit while {doing}: {detail}")
    if isinstance(err, (stripe.AuthenticationError, stripe.PermissionError)):
        # Our configuration (a revoked or wrong key): an operator fixes it while Temporal retries.
        # Stripe's message quotes part of the key: leave it out of history and logs.
        return TransientRefundFailure(f"Stripe refused the API key while {doing} "
                                      f"(HTTP {status}, {type(err).__name__}); check the "
                                      "merchant's api_key_env")
    if isinstance(err, stripe.IdempotencyError) and status == 409:
        return TransientRefundFailure(f"Stripe is still processing this step while {doing}")
    if status is None or status >= 500 or isinstance(err, stripe.APIError):
        return TransientRefundFailure(f"Stripe failed while {doing} (HTTP {status}): {detail}")
    return RefundRefused(f"Stripe refused {doing}: {detail}")


__all__ = ["StripeRefunds"]
