"""`python starter.py send|serve` as the order system's team runs them: real processes, dev server."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from pathlib import Path

import aiohttp

from ingestion.signing import SIGNATURE_HEADER, sign
from returns.events import workflow_id_for

from ingestion_support import POLICIES_DIR, ROOT, SECRET, TASK_QUEUE


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def starter_env(temporal_address: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEMPORAL_", "RETURNS_"))}
    env.update(TEMPORAL_ADDRESS=temporal_address, TEMPORAL_NAMESPACE="default",
               RETURNS_TASK_QUEUE=TASK_QUEUE, RETURNS_POLICIES_DIR=str(POLICIES_DIR),
               RETURNS_DATA_DIR=str(tmp_path / "data"), RETURNS_LOG_FORMAT="json", **extra)
    return env


async def run_starter(*args: str, env: dict[str, str], stdin: bytes | None = None,
                      timeout: float = 60) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "starter.py"), *args, cwd=ROOT, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    return process.returncode, out.decode(), err.decode()


async def test_send_reports_each_line_and_fails_when_one_is_rejected(
        client, requested, withdrawn, scanned, exists, tmp_path):
    good, bad = requested(), requested()
    bad["order"]["lines"][0]["unit_price"] = -5
    lines = [json.dumps(good), "", "{oops", json.dumps(bad), json.dumps(good),
             json.dumps(withdrawn(good["return_id"])), json.dumps(scanned("R-nobody"))]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = starter_env(client.service_client.config.target_host, tmp_path)

    code, out, err = await run_starter("send", str(events), env=env)

    good_id = workflow_id_for(good["merchant_id"], good["return_id"])
    assert out.splitlines() == [
        f"line 1: started {good_id}",
        "line 3: rejected (body): not JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
        "line 4: rejected order.lines[0].unit_price: Input should be greater than or equal to 0",
        f"line 5: duplicate {good_id}",
        f"line 6: signalled {good_id}",
        "line 7: not_found return-opalook-R-nobody",
    ], err
    assert code == 1
    assert await exists(good_id)
    assert not await exists(workflow_id_for(bad["merchant_id"], bad["return_id"]))
    assert "achats@" not in err  # the log never carries the customer's email


async def test_send_reads_stdin_and_succeeds_when_all_are_accepted(client, requested, tmp_path):
    first, second = requested(), requested()
    stdin = (json.dumps(first) + "\n" + json.dumps(second) + "\n").encode()
    env = starter_env(client.service_client.config.target_host, tmp_path)

    code, out, err = await run_starter("send", "-", env=env, stdin=stdin)

    assert (code, out.splitlines()) == (0, [
        f"line 1: started {workflow_id_for(first['merchant_id'], first['return_id'])}",
        f"line 2: started {workflow_id_for(second['merchant_id'], second['return_id'])}"]), err


async def test_send_says_so_when_temporal_is_unreachable(requested, tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps(requested()) + "\n", encoding="utf-8")
    env = starter_env(f"127.0.0.1:{free_port()}", tmp_path)
    code, out, err = await run_starter("send", str(events), env=env)
    assert code == 2
    assert "cannot reach Temporal" in err and out == ""


async def test_serve_refuses_to_start_without_a_secret(tmp_path):
    env = starter_env("127.0.0.1:7233", tmp_path)
    code, _out, err = await run_starter("serve", "--port", str(free_port()), env=env, timeout=30)
    assert code == 2
    assert "no merchant has a webhook secret" in err
    assert "RETURNS_WEBHOOK_SECRETS_OPALOOK" in err


async def test_serve_refuses_a_stripe_secret_shared_by_two_merchants(tmp_path):
    """Stripe's webhook (issue 18 point 2): the secret that verifies decides the merchant, so one
    secret for two merchants stops the receiver, naming the variable, never the secret."""
    env = starter_env("127.0.0.1:7233", tmp_path, RETURNS_WEBHOOK_SECRETS_OPALOOK=SECRET,
                      RETURNS_STRIPE_WEBHOOK_SECRETS_OPALOOK="whsec_shared_by_two_000001",
                      RETURNS_STRIPE_WEBHOOK_SECRETS_FINE_JEWELRY="whsec_shared_by_two_000001")
    code, _out, err = await run_starter("serve", "--port", str(free_port()), env=env, timeout=30)
    assert code == 2
    assert "is also a Stripe webhook secret of merchant" in err and "whsec_" not in err


async def test_serve_accepts_a_signed_event_on_a_real_port(client, requested, exists, tmp_path):
    port = free_port()
    env = starter_env(client.service_client.config.target_host, tmp_path,
                      RETURNS_WEBHOOK_SECRETS_OPALOOK=SECRET)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "starter.py"), "serve", "--port", str(port), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with session.get(f"{base}/healthz") as response:
                        health = await response.json()
                        break
                except aiohttp.ClientConnectionError:
                    assert process.returncode is None, "receiver exited"
                    assert time.monotonic() < deadline, "receiver did not come up"
                    await asyncio.sleep(0.2)
            assert health == {"status": "ok", "temporal": "ok"}

            event = requested()
            body = json.dumps(event).encode()
            headers = {SIGNATURE_HEADER: sign(body, SECRET, int(time.time())),
                       "Content-Type": "application/json"}
            async with session.post(f"{base}/events", data=body, headers=headers) as response:
                assert response.status == 200
                assert await response.json() == {
                    "outcome": "started", "workflow_id": workflow_id_for(event["merchant_id"], event["return_id"])}
        assert await exists(workflow_id_for(event["merchant_id"], event["return_id"]))
    finally:
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 30)
    log = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    delivered = [r for r in log if r.get("event") == "event.delivered"]
    assert delivered and delivered[0]["outcome"] == "started"
    assert "achats@" not in err.decode()
