"""No input stalls a return, and no input is a server error: the receiver's limits, on a real port.

Temporal that does not answer is a real TCP listener that accepts connections and never says a
word (`silent_temporal`): the gRPC client connects and waits, as it does on an overloaded or
wedged frontend. A dev server cannot be made that slow on demand.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ingestion.intake import MAX_JSON_DEPTH, Intake
from ingestion.signing import SIGNATURE_HEADER, SignatureError, authenticate, sign, verify
from ingestion.webhook import BUSY_RETRY_AFTER_SECONDS, WebhookConfig, create_app, temporal_health
from returns.events import MAX_AMOUNT, workflow_id_for
from runtime.client import connect

from ingestion_support import SECRET, SECRETS, TASK_QUEUE

NOW = 1_790_000_000
BODY = b'{"type":"return.withdrawn"}'


# ------------------------------------------------------------------------- signature header
@pytest.mark.parametrize("header", [
    "t=" + "9" * 5000 + ",v1=00",  # int() refuses more than 4300 digits: was a 500
    "t=" + "9" * 400 + ",v1=00",  # too large to compare with the clock (float): was a 500
    "t=99999999999999999999,v1=00",
    "t=-5,v1=00", "t=1.5e9,v1=00", "t= ,v1=00", ",,,", "t", "=", "v1",
    "t=١٧٩٠٠٠٠٠٠٠,v1=00",  # Arabic-Indic digits
    f"t={NOW},v1=é",
    f"t={NOW}," + "v1=00," * 2000,  # longer than any real header
])
def test_an_unreadable_signature_header_is_a_signature_error_not_a_crash(header):
    with pytest.raises(SignatureError):
        verify(header, BODY, ["whsec_x"], now=NOW)
    with pytest.raises(SignatureError):
        authenticate(header, BODY, {"m": ("whsec_x",)}, now=NOW)


@pytest.mark.parametrize("header", [
    "t=" + "9" * 5000 + ",v1=00", "t=" + "9" * 400 + ",v1=00", "t=1.5e9,v1=00", ",,,",
    "t=abc,v1=" + "0" * 64, "v1=" + "0" * 64,
])
async def test_a_malformed_signature_header_is_a_401_over_http(http, requested, exists, header):
    event = requested()
    response = await http.post("/events", data=json.dumps(event).encode(),
                               headers={SIGNATURE_HEADER: header})
    assert response.status == 401
    assert (await response.json())["errors"][0]["field"] == SIGNATURE_HEADER
    assert not await exists(workflow_id_for("opalook", event["return_id"]))


# ------------------------------------------------------------------------------- the body
async def test_json_nested_too_deep_is_a_400(post_event):
    for body in (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, b"[" * 200_000,
                 b'{"type":"return.requested","order":' + b"[" * (MAX_JSON_DEPTH + 1)
                 + b"]" * (MAX_JSON_DEPTH + 1) + b"}"):
        status, answer = await post_event(body)
        assert (status, answer["errors"]) == (400, [
            {"field": "(body)", "problem": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}])


async def test_brackets_inside_text_do_not_count_as_nesting(post_event, requested):
    event = requested()
    event["items"][0]["customer_note"] = "[" * 500 + "{" * 500
    status, answer = await post_event(event)
    assert (status, answer["outcome"]) == (200, "started")


@pytest.mark.parametrize("path", [
    ("order", "lines", 0, "unit_price"), ("order", "lines", 1, "unit_tax"),
    ("order", "payments", 0, "amount"), ("order", "shipping_paid"),
    ("estimated_return_shipping",),
])
async def test_an_amount_over_the_bound_is_a_422_naming_the_field(post_event, requested, exists,
                                                                  path):
    event = requested()
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = 10**20  # was: passed intake, then failed every workflow task
    status, answer = await post_event(event)
    field = ".".join(str(p) for p in path).replace(".0.", "[0].").replace(".1.", "[1].")
    assert status == 422
    assert field in [e["field"] for e in answer["errors"]], answer
    assert any(f"{MAX_AMOUNT}" in e["problem"] for e in answer["errors"]), answer
    assert not await exists(workflow_id_for("opalook", event["return_id"]))


async def test_the_bound_itself_is_accepted(post_event, requested):
    event = requested()
    event["order"]["payments"][0]["amount"] = MAX_AMOUNT
    status, answer = await post_event(event)
    assert (status, answer["outcome"]) == (200, "started")


# ------------------------------------------------------------- Temporal slow or unreachable
@asynccontextmanager
async def silent_temporal() -> AsyncIterator[str]:
    """A listener that accepts every connection and never answers: host:port."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()


@asynccontextmanager
async def receiver(address: str, **config) -> AsyncIterator[TestClient]:
    client = await connect(target_host=address, lazy=True)
    intake = Intake(client, task_queue=TASK_QUEUE, known_merchant=lambda m: True)
    app = create_app(intake, WebhookConfig(secrets=SECRETS, **config),
                     health=temporal_health(client))
    async with TestClient(TestServer(app, host="127.0.0.1")) as http:
        yield http


async def signed_post(http: TestClient, event: dict) -> tuple[int, dict, dict, float]:
    body = json.dumps(event).encode()
    started = time.monotonic()
    response = await http.post("/events", data=body, headers={
        SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))})
    return (response.status, await response.json(), dict(response.headers),
            time.monotonic() - started)


async def test_under_overload_every_sender_gets_503_and_retry_after_within_two_seconds(
        requested):
    """Temporal accepts the connection and never answers: each sender is answered within
    ANSWER_WITHIN (2 s) with 503 and Retry-After, not held for the 10 s delivery deadline; the
    ones beyond MAX_IN_FLIGHT wait for a turn no longer than that either."""
    async with silent_temporal() as address, receiver(address, max_in_flight=2) as http:
        answers = await asyncio.gather(*(signed_post(http, requested()) for _ in range(6)))
    for status, body, headers, took in answers:
        assert status == 503, body
        assert headers["Retry-After"] == str(BUSY_RETRY_AFTER_SECONDS)
        assert body["errors"][0]["problem"].startswith("busy: no answer from Temporal within 2 s")
        assert took < 3.5, took


async def test_healthz_is_503_while_temporal_is_unreachable_and_200_when_it_answers(client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    for address in (closed,):
        async with receiver(address) as http:
            response = await http.get("/healthz")
            assert response.status == 503
            assert await response.json() == {"status": "unavailable", "temporal": "unreachable"}
            assert "Retry-After" in response.headers
    async with silent_temporal() as address, receiver(address) as http:
        started = time.monotonic()
        response = await http.get("/healthz")
        assert response.status == 503 and time.monotonic() - started < 5
    async with receiver(client.service_client.config.target_host) as http:
        response = await http.get("/healthz")
        assert (response.status, await response.json()) == (200, {"status": "ok",
                                                                  "temporal": "ok"})
