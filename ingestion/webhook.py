"""The HTTP receiver: `POST /events` (one signed event per request) and `GET /healthz`.

Every answer tells the order system what to do next:

    200  {"outcome": "started" | "duplicate" | "signalled", "workflow_id": ...}  done
    400  {"errors": [...]}  the body is not a JSON object             fix the sender
    401  {"errors": [...]}  unsigned, badly signed or stale            fix the signing / clock
    409  {"outcome": "not_found", ...}  no workflow for that return    retry later (may not exist yet)
    410  {"outcome": "closed", ...}  the return has finished           do not retry
    413  {"errors": [...]}  body over the cap                          fix the sender
    422  {"outcome": "rejected", "errors": [...]}  invalid event      fix the event
    503  {"errors": [...]}  Temporal unreachable                       retry later

2xx only once Temporal has accepted the start or the signal.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from temporalio.client import Client

from ingestion.intake import BODY, Intake, Outcome, TemporalUnavailable
from ingestion.signing import DEFAULT_TOLERANCE_SECONDS, SIGNATURE_HEADER, SignatureError, verify
from runtime.logging import get_logger

log = get_logger(__name__)

MAX_BODY_BYTES = 1024 * 1024
RETRY_AFTER_SECONDS = 30
_STATUS = {
    Outcome.started: 200,
    Outcome.duplicate: 200,
    Outcome.signalled: 200,
    Outcome.not_found: 409,
    Outcome.closed: 410,
}


class MissingSecret(ValueError):
    pass


@dataclass(frozen=True)
class WebhookConfig:
    secrets: tuple[str, ...]
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS
    max_body_bytes: int = MAX_BODY_BYTES

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "WebhookConfig":
        """RETURNS_WEBHOOK_SECRET (required); RETURNS_WEBHOOK_PREVIOUS_SECRET during a rotation;
        RETURNS_WEBHOOK_TOLERANCE_SECONDS (default 300)."""
        env = os.environ if env is None else env
        secret = env.get("RETURNS_WEBHOOK_SECRET", "")
        if not secret.strip():
            raise MissingSecret(
                "RETURNS_WEBHOOK_SECRET is not set: the receiver only accepts events signed with "
                "the secret it shares with the order system (see docs/events.md)")
        secrets = [secret]
        if env.get("RETURNS_WEBHOOK_PREVIOUS_SECRET", "").strip():
            secrets.append(env["RETURNS_WEBHOOK_PREVIOUS_SECRET"])
        tolerance = int(env.get("RETURNS_WEBHOOK_TOLERANCE_SECONDS", DEFAULT_TOLERANCE_SECONDS))
        return cls(secrets=tuple(secrets), tolerance_seconds=tolerance)


def _errors(status: int, field: str, problem: str, **headers: str) -> web.Response:
    return web.json_response({"errors": [{"field": field, "problem": problem}]}, status=status,
                             headers=headers or None)


def create_app(intake: Intake, config: WebhookConfig, *,
               clock: Callable[[], float] = time.time,
               health: Callable[[], Awaitable[bool]] | None = None) -> web.Application:
    """The receiver as an aiohttp application (run it with `web.run_app` or a test server).

    `clock` gives "now" for the replay check; `health` (optional) answers whether Temporal is
    reachable, for `GET /healthz`.
    """
    if not config.secrets:
        raise MissingSecret("the receiver needs at least one webhook secret")

    async def post_event(request: web.Request) -> web.Response:
        if request.content_length is not None and request.content_length > config.max_body_bytes:
            return _errors(413, BODY, f"larger than {config.max_body_bytes} bytes")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return _errors(413, BODY, f"larger than {config.max_body_bytes} bytes")
        try:
            verify(request.headers.get(SIGNATURE_HEADER), body, config.secrets,
                   tolerance_seconds=config.tolerance_seconds, now=clock())
        except SignatureError as err:
            log.warning("event.unauthenticated", reason=str(err), remote=request.remote)
            return _errors(401, SIGNATURE_HEADER, str(err))
        try:
            result = await intake.submit(body)
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
        body: dict[str, object] = {"status": "ok"}
        if health is not None:
            body["temporal"] = "ok" if await health() else "unreachable"
        return web.json_response(body)

    app = web.Application(client_max_size=config.max_body_bytes)
    app.router.add_post("/events", post_event)
    app.router.add_get("/healthz", healthz)
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


__all__ = ["MAX_BODY_BYTES", "MissingSecret", "WebhookConfig", "create_app", "temporal_health"]
