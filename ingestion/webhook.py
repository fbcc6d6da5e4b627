"""The HTTP receiver: `POST /events` (one signed event per request) and `GET /healthz`.

Every answer tells the order system what to do next:

    200  {"outcome": "started" | "duplicate" | "signalled", "workflow_id": ...}  done
    400  {"errors": [...]}  the body is not a JSON object (or nests too deep)   fix the sender
    401  {"errors": [...]}  unsigned, badly signed, stale or unreadable header   fix the signing / clock
    403  {"outcome": "forbidden", ...}  the event names another merchant than   fix the event
         the one whose secret signed it; nothing changed
    409  {"outcome": "not_found", ...}  no workflow for that return             retry later (may not exist yet)
    409  {"outcome": "conflict", "errors": [...]}  the return was requested     do not retry: the first
         with something else; `errors` names each field that differs          request stands
    410  {"outcome": "closed", ...}  the return has finished                    do not retry
    413  {"errors": [...]}  body over the cap                                   fix the sender
    422  {"outcome": "rejected", "errors": [...]}  invalid event               fix the event
    503  {"errors": [...]} + Retry-After  Temporal unreachable, or the          retry after that many s
         receiver busy (no answer within ANSWER_WITHIN)

2xx only once Temporal has accepted the start or the signal. The merchant is the one whose secret
verifies the signature (`ingestion.merchant_secrets`), never what the body says. Under overload
the sender is answered within about ANSWER_WITHIN seconds: at most MAX_IN_FLIGHT requests reach
Temporal at once, a request waits for a turn and for Temporal only that long, then gets 503 with
`Retry-After` (a start or signal cut short may still land; a retry is a duplicate, or a signal the
workflow recognises by its event_id).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from temporalio.client import Client

from ingestion.intake import BODY, Intake, Outcome, TemporalUnavailable
from ingestion.merchant_secrets import MissingSecret, load_merchant_secrets
from ingestion.signing import (
    DEFAULT_TOLERANCE_SECONDS,
    SIGNATURE_HEADER,
    SignatureError,
    authenticate,
)
from runtime.logging import get_logger

log = get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
RETRY_AFTER_SECONDS = 30  # Temporal unreachable: give it time to come back
BUSY_RETRY_AFTER_SECONDS = 5  # busy: come back soon
ANSWER_WITHIN = 2.0  # seconds a sender waits at most for a turn and Temporal's answer
MAX_IN_FLIGHT = 64  # requests talking to Temporal at once
_STATUS = {
    Outcome.started: 200,
    Outcome.duplicate: 200,
    Outcome.signalled: 200,
    Outcome.forbidden: 403,
    Outcome.not_found: 409,
    Outcome.conflict: 409,
    Outcome.closed: 410,
}


@dataclass(frozen=True)
class WebhookConfig:
    """`secrets`: merchant id -> that merchant's webhook secrets (the current one first)."""

    secrets: Mapping[str, tuple[str, ...]]
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    max_body_bytes: int = MAX_BODY_BYTES
    answer_within: float = ANSWER_WITHIN
    max_in_flight: int = MAX_IN_FLIGHT

    def __repr__(self) -> str:  # never the secrets
        return (f"WebhookConfig(merchants={sorted(self.secrets)}, "
                f"tolerance_seconds={self.tolerance_seconds})")

    @classmethod
    def from_env(cls, merchants: Iterable[str], env: Mapping[str, str] | None = None,
                 secrets_file: Path | None = None) -> "WebhookConfig":
        """Each of `merchants`' secrets (RETURNS_WEBHOOK_SECRETS_<MERCHANT>, from the environment
        or `secrets_file`: `ingestion.merchant_secrets`); RETURNS_WEBHOOK_TOLERANCE_SECONDS
        (default 300)."""
        env = os.environ if env is None else env
        loaded = load_merchant_secrets(merchants, env, secrets_file)
        for merchant in loaded.without:
            log.warning("receiver.merchant_without_secret", merchant_id=merchant,
                        note="its events are refused (401) until it has a webhook secret")
        tolerance = int(env.get("RETURNS_WEBHOOK_TOLERANCE_SECONDS", DEFAULT_TOLERANCE_SECONDS))
        return cls(secrets=dict(loaded.by_merchant), tolerance_seconds=tolerance)


def _errors(status: int, field: str, problem: str, **headers: str) -> web.Response:
    return web.json_response({"errors": [{"field": field, "problem": problem}]}, status=status,
                             headers=headers or None)


def create_app(intake: Intake, config: WebhookConfig, *,
               clock: Callable[[], float] = time.time,
               health: Callable[[], Awaitable[bool]] | None = None,
               stripe=None) -> web.Application:
    """The receiver as an aiohttp application (run it with `web.run_app` or a test server).

    `clock` gives "now" for the replay check; `health` (optional) answers whether Temporal is
    reachable, for `GET /healthz` (503 while it is not). `stripe` (optional, an
    `ingestion.stripe_webhook.StripeWebhook`) adds `POST /stripe/webhook`.
    """
    if not config.secrets:
        raise MissingSecret("the receiver needs at least one merchant's webhook secret")
    turns = asyncio.Semaphore(config.max_in_flight)
    busy = {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}

    async def post_event(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > config.max_body_bytes:
            return _errors(413, BODY, f"larger than {config.max_body_bytes} bytes")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _errors(413, BODY, f"larger than {config.max_body_bytes} bytes")
        try:
            merchant = authenticate(request.headers.get(SIGNATURE_HEADER), body, config.secrets,
                                    tolerance_seconds=config.tolerance_seconds, now=clock())
        except SignatureError as err:
            log.warning("event.unauthenticated", reason=str(err), remote=request.remote)
            return _errors(401, SIGNATURE_HEADER, str(err))
        try:
            async with asyncio.timeout(config.answer_within):
                async with turns:
                    result = await intake.submit(body, merchant=merchant)
        except TimeoutError:
            log.warning("event.busy", merchant_id=merchant, answer_within=config.answer_within)
            return _errors(503, BODY, f"busy: no answer from Temporal within "
                                      f"{config.answer_within:g} s; nothing is known to be "
                                      "accepted, retry later (a retry is safe)", **busy)
        except TemporalUnavailable:
            return _errors(503, BODY, "Temporal is unreachable; nothing was started or "
                                      "signalled, retry later",
                           **{"Retry-After": str(RETRY_AFTER_SECONDS)})
        except Exception:
            # Unknown failure (e.g. a search attribute missing on the cluster): the sender retries
            # while an operator reads the log.
            log.exception("event.failed")
            return _errors(500, BODY, "internal error; nothing is known to be accepted, retry later")
        if result.outcome == Outcome.rejected:
            return web.json_response(result.as_json(), status=400 if result.malformed else 422)
        return web.json_response(result.as_json(), status=_STATUS[result.outcome])

    async def healthz(_request: web.Request) -> web.Response:
        if health is None:
            return web.json_response({"status": "ok"})
        if await health():
            return web.json_response({"status": "ok", "temporal": "ok"})
        # Not ready: a load balancer or `make run` sends no events here until Temporal answers.
        return web.json_response({"status": "unavailable", "temporal": "unreachable"}, status=503,
                                 headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    app = web.Application(client_max_size=config.max_body_bytes)
    app.router.add_post("/events", post_event)
    app.router.add_get("/healthz", healthz)
    if stripe is not None:  # customers' payments of what they owe (issue 18 point 2)
        stripe.add_to(app)
    return app


def temporal_health(client: Client) -> Callable[[], Awaitable[bool]]:
    """A `health` check for `create_app`: the Temporal frontend answers its health check."""

    async def check() -> bool:
        try:
            async with asyncio.timeout(3):
                return await client.service_client.check_health(timeout=timedelta(seconds=2))
        except Exception:  # any failure is "unreachable" for a health probe
            return False

    return check


__all__ = ["ANSWER_WITHIN", "MAX_BODY_BYTES", "MAX_IN_FLIGHT", "MissingSecret", "WebhookConfig",
           "create_app", "temporal_health"]
