"""Stripe's webhook: `POST /stripe/webhook` on the receiver (`starter.py serve`), telling a return
that the customer paid what they owe (issue 18 point 2; workflows/customer_payments.py).

Each merchant has its own Stripe account and so its own endpoint signing secret (`whsec_...`,
from the Stripe dashboard's webhook endpoint), read like the order system's secrets:

    RETURNS_STRIPE_WEBHOOK_SECRETS_FINE_JEWELRY=whsec_new...,whsec_old...

(the environment, then `RETURNS_SECRETS_FILE`; several during a rotation, the new one first).
The request's `Stripe-Signature` is verified with Stripe's own code (`stripe.WebhookSignature`,
5 minutes' tolerance); the merchant whose secret verifies it is the only one it may act for. An
event for another merchant than the one its metadata names, or for a return of another merchant,
reaches no return (`return-<verified merchant>-<metadata return_id>` is the only workflow it can
signal).

Only `payment_intent.succeeded` of a PaymentIntent our Checkout page made (metadata
`collect_key`, `return_id`) is passed on, as the `customer_paid` signal (a `PaymentNotice`); the
return itself ignores a notice whose page, amount or currency is not the one it asked for.
Answers, as Stripe expects (it retries anything but 2xx for three days):

    200 {"outcome": "signalled", "workflow_id": ...}
    200 {"outcome": "ignored", "why": ...}    another event type, not ours, finished return
    400 {"errors": [...]}                      unsigned, badly signed, stale, not JSON
    503 {"errors": [...]}                      Temporal unreachable: Stripe retries
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import stripe
from aiohttp import web
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from returns.collection import PaymentNotice
from returns.events import workflow_id_for
from runtime.logging import get_logger
from workflows.names import SIGNAL_CUSTOMER_PAID

log = get_logger(__name__)

ENV_PREFIX = "RETURNS_STRIPE_WEBHOOK_SECRETS_"
SIGNATURE_HEADER = "Stripe-Signature"
PATH = "/stripe/webhook"
TOLERANCE_SECONDS = 300  # Stripe's own default
MAX_BODY_BYTES = 256 * 1024


class StripeSecretProblem(ValueError):
    """The merchants' Stripe webhook secrets cannot be used (the message names the variable)."""


def env_name(merchant_id: str) -> str:
    """`fine-jewelry` -> `RETURNS_STRIPE_WEBHOOK_SECRETS_FINE_JEWELRY`."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", merchant_id.upper())


def load_stripe_secrets(merchants: Iterable[str], env: Mapping[str, str] | None = None,
                        secrets_file: Path | None = None) -> dict[str, tuple[str, ...]]:
    """merchant id -> its Stripe endpoint secrets; a merchant without any is left out (its
    Stripe events are refused). A secret two merchants share is refused: either could act as
    the other."""
    env = os.environ if env is None else env
    file_values: dict[str, str] = {}
    if secrets_file is not None:
        from activities.adapters import read_secrets_file

        file_values = read_secrets_file(secrets_file)
    found: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for merchant in sorted(set(merchants)):
        name = env_name(merchant)
        value = env.get(name, "").strip() or file_values.get(name, "").strip()
        if not value:
            continue
        secrets = tuple(s.strip() for s in value.split(",") if s.strip())
        for n, secret in enumerate(secrets, start=1):
            if owner.get(secret, merchant) != merchant:
                raise StripeSecretProblem(f"{name}: secret {n} is also a Stripe webhook secret "
                                          f"of merchant {owner[secret]!r}")
            owner[secret] = merchant
        found[merchant] = secrets
    return found


def verified_merchant(body: bytes, header: str | None, secrets: Mapping[str, tuple[str, ...]],
                      tolerance: int = TOLERANCE_SECONDS) -> str | None:
    """The merchant whose Stripe secret signed `body` (Stripe's own verification), else None."""
    if not header:
        return None
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    for merchant, merchant_secrets in secrets.items():
        for secret in merchant_secrets:
            try:
                stripe.WebhookSignature.verify_header(payload, header, secret, tolerance)
            except stripe.SignatureVerificationError:
                continue
            return merchant
    return None


def notice_for(event: dict, merchant: str) -> tuple[PaymentNotice | None, str]:
    """The `customer_paid` notice an event carries for `merchant`, or None and why not."""
    if event.get("type") != "payment_intent.succeeded":
        return None, f"event type {event.get('type')!r} is not one the returns act on"
    intent = (event.get("data") or {}).get("object") or {}
    meta = intent.get("metadata") or {}
    if not meta.get("collect_key") or not meta.get("return_id"):
        return None, "not a payment a return asked for (no collect_key / return_id metadata)"
    if meta.get("merchant_id") != merchant:
        return None, (f"its metadata names merchant {meta.get('merchant_id')!r}, but "
                      f"{merchant!r}'s secret signed it")
    try:
        return PaymentNotice(
            event_id=str(event["id"]), provider="stripe", merchant_id=merchant,
            return_id=str(meta["return_id"]), collect_key=str(meta["collect_key"]),
            payment_intent=str(intent["id"]),
            amount_received=int(intent.get("amount_received") or 0),
            currency=str(intent["currency"]).upper()), ""
    except (KeyError, TypeError, ValueError) as err:
        return None, f"the payment intent cannot be read: {err}"


def _answer(status: int, **body) -> web.Response:
    return web.json_response(body, status=status)


class StripeWebhook:
    """The `POST /stripe/webhook` handler: verify, bind to the merchant, signal the return."""

    def __init__(self, client: Client, secrets: Mapping[str, tuple[str, ...]],
                 tolerance: int = TOLERANCE_SECONDS) -> None:
        self._client = client
        self._secrets = dict(secrets)
        self._tolerance = tolerance

    def __repr__(self) -> str:  # never the secrets
        return f"StripeWebhook(merchants={sorted(self._secrets)})"

    def add_to(self, app: web.Application) -> None:
        app.router.add_post(PATH, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return _answer(413, errors=[f"body: larger than {MAX_BODY_BYTES} bytes"])
        body = await request.read()
        merchant = verified_merchant(body, request.headers.get(SIGNATURE_HEADER), self._secrets,
                                     self._tolerance)
        if merchant is None:
            log.warning("stripe.unverified", remote=request.remote)
            return _answer(400, errors=[f"{SIGNATURE_HEADER}: missing, stale, or not signed "
                                        "with any merchant's Stripe webhook secret"])
        try:
            event = json.loads(body)
            if not isinstance(event, dict):
                raise ValueError("not a JSON object")
        except ValueError as err:
            return _answer(400, errors=[f"body: {err}"])
        notice, why = notice_for(event, merchant)
        if notice is None:
            log.info("stripe.ignored", merchant_id=merchant, event_id=event.get("id"), why=why)
            return _answer(200, outcome="ignored", why=why)
        workflow_id = workflow_id_for(merchant, notice.return_id)
        try:
            await self._client.get_workflow_handle(workflow_id).signal(SIGNAL_CUSTOMER_PAID,
                                                                       notice)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:  # no such return, or it has finished
                log.warning("stripe.no_return", merchant_id=merchant, workflow_id=workflow_id,
                            event_id=notice.event_id)
                return _answer(200, outcome="ignored", why=f"no running return {workflow_id}")
            log.warning("stripe.temporal_unavailable", error=str(err))
            return _answer(503, errors=["Temporal is unreachable; retry later"])
        log.info("stripe.signalled", merchant_id=merchant, workflow_id=workflow_id,
                 event_id=notice.event_id, payment_intent=notice.payment_intent)
        return _answer(200, outcome="signalled", workflow_id=workflow_id)


__all__ = ["ENV_PREFIX", "PATH", "SIGNATURE_HEADER", "StripeSecretProblem", "StripeWebhook",
           "env_name", "load_stripe_secrets", "notice_for", "verified_merchant"]
