"""End to end, on the real dev server with real processes: what `make run` gives a person.

1. A return's whole happy path: a signed `return.requested` posted to `starter.py serve`, the worker
   (`worker.py`) runs the workflow; staff approve, the warehouse receives and inspects through the
   client, and the return ends refunded with an email in the Maildir outbox and a PDF label.
2. `python -m runtime.devstack` (`make run`) comes up, posts the demo, stops on SIGINT leaving no
   process behind, and a second run keeps every return and starts none twice.

Every test uses its own data directory and free ports, so it never touches `.data` or a running
`make run`.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import socket
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from ingestion.signing import SIGNATURE_HEADER, sign
from returns.events import workflow_id_for
from returns.status import ReturnStatus
from runtime import processes
from runtime.settings import ROOT
from samples.keys import TEST_KEYS_ENV, test_data_converter
from workflows import names
from workflows.search_attributes import cli_flags

pytestmark = pytest.mark.e2e

STEP_TIMEOUT = 60.0  # generous: CI machines have 2 cores and start three processes here
# Connection settings a developer may have exported; the tests talk to their own server only.
_TEMPORAL_ENV = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_PROFILE",
                 "TEMPORAL_CONFIG_FILE", "TEMPORAL_TLS", "TEMPORAL_TLS_CLIENT_CERT_PATH",
                 "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
                 "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in _TEMPORAL_ENV and not k.startswith("RETURNS_")}
    env.update(PYTHONUNBUFFERED="1", RETURNS_LOG_FORMAT="json", **extra)
    return env


def demo_events() -> list[dict]:
    spec = importlib.util.spec_from_file_location("demo_generate", ROOT / "demo" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.demo_events()


def refund_request() -> dict:
    """The demo's Opalook return of two defective necklaces (refund, parcel expected), under a
    fresh return id so the test can run any number of times."""
    event = next(e for e in demo_events()
                 if e["type"] == "return.requested" and e["merchant_id"] == "opalook"
                 and e["items"][0]["resolution"] == "refund" and e["items"][0]["reason"] == "defective")
    return_id = f"E2E-{uuid.uuid4().hex[:12]}"
    return dict(event, return_id=return_id, event_id=f"evt-{return_id}")


async def wait_for(what: str, check, timeout: float = STEP_TIMEOUT, children=()):
    """Poll `check()` (async) until it returns something truthy; fail with `what` on timeout or
    when one of `children` has died (showing its last log lines)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        for child in children:
            if not child.running:
                pytest.fail(f"{child.name} exited (code {child.process.returncode}) while waiting "
                            f"for {what}; last lines of {child.log_path}:\n{child.last_lines(30)}")
        try:
            value = await check()
            if value:
                return value
        except Exception as err:  # not up yet, or not in that state yet
            last_error = err
        await asyncio.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}"
                + (f" (last error: {last_error!r})" if last_error else ""))


async def status(handle: WorkflowHandle) -> ReturnStatus:
    return await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)


async def in_state(handle: WorkflowHandle, state: str, children) -> ReturnStatus:
    async def check():
        current = await status(handle)
        return current if current.state == state else None

    return await wait_for(f"state {state!r}", check, children=children)


# --- 1. one return, end to end ---------------------------------------------------------------------
async def test_return_is_refunded_end_to_end(tmp_path: Path, temporal_cli_path: Path) -> None:
    started = time.monotonic()
    async with await WorkflowEnvironment.start_local(
        data_converter=test_data_converter,  # the worker's keys: payloads are encrypted
        dev_server_existing_path=str(temporal_cli_path),
        dev_server_extra_args=cli_flags(),
        ui=False,
    ) as env:
        client: Client = env.client
        data_dir = tmp_path / "data"
        port = free_port()
        secret = "whsec_e2e_" + uuid.uuid4().hex
        child_env = clean_env(TEMPORAL_ADDRESS=client.service_client.config.target_host,
                              TEMPORAL_NAMESPACE=client.namespace, RETURNS_DATA_DIR=str(data_dir),
                              RETURNS_WEBHOOK_SECRETS_OPALOOK=secret,  # refund_request()'s merchant
                              RETURNS_CODEC_KEYS=TEST_KEYS_ENV)
        logs = tmp_path / "logs"
        children = []
        try:
            children.append(await processes.start(
                "worker", [sys.executable, str(ROOT / "worker.py")], log_path=logs / "worker.log",
                env=child_env, cwd=ROOT, echo=False))
            children.append(await processes.start(
                "receiver", [sys.executable, str(ROOT / "starter.py"), "serve", "--port", str(port)],
                log_path=logs / "receiver.log", env=child_env, cwd=ROOT, echo=False))

            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
                async def healthy():
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                        return response.status == 200

                await wait_for("the receiver's /healthz", healthy, children=children)

                event = refund_request()
                body = json.dumps(event).encode()
                headers = {"Content-Type": "application/json",
                           SIGNATURE_HEADER: sign(body, secret, int(time.time()))}
                async with http.post(f"http://127.0.0.1:{port}/events", data=body,
                                     headers=headers) as response:
                    answer = await response.json()
                    assert response.status == 200, answer
                assert answer["outcome"] == "started", answer

                # The same event again (a redelivery) starts nothing new.
                headers[SIGNATURE_HEADER] = sign(body, secret, int(time.time()))
                async with http.post(f"http://127.0.0.1:{port}/events", data=body,
                                     headers=headers) as response:
                    assert (await response.json())["outcome"] == "duplicate"

            handle = client.get_workflow_handle(
                workflow_id_for(event["merchant_id"], event["return_id"]), result_type=ReturnStatus)
            await in_state(handle, "under_review", children)

            await handle.execute_update(names.UPDATE_APPROVE, {"actor": "e2e"})
            await in_state(handle, "awaiting_shipment", children)

            items = event["items"]
            await handle.signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
                "actor": "warehouse:e2e", "receipt_id": "scan-e2e",
                "items": [{"line_id": i["line_id"], "quantity": i["quantity"]} for i in items]})
            await in_state(handle, "inspecting", children)

            await handle.execute_update(names.UPDATE_RECORD_INSPECTION, {
                "actor": "warehouse:e2e",
                "items": [{"line_id": i["line_id"], "passed": True, "checks_confirmed": True}
                          for i in items]})
            final = await asyncio.wait_for(handle.result(), STEP_TIMEOUT)
        finally:
            await processes.stop_all(list(reversed(children)))

        assert final.state == "refunded", final.audit
        assert final.refund is not None and final.refund.status == "succeeded", final.refund
        assert final.refund.amount > 0

        emails = sorted((data_dir / "outbox" / "new").iterdir())
        assert emails, f"no email in the Maildir outbox {data_dir / 'outbox'}"
        labels = sorted((data_dir / "labels").rglob("*.pdf"))
        assert labels, f"no PDF label under {data_dir / 'labels'}"
        assert labels[0].read_bytes().startswith(b"%PDF")
        for child in children:
            assert not child.running
    print(f"end-to-end return refunded in {time.monotonic() - started:.1f}s")


# --- 2. make run: start, ready, stop, nothing left ---------------------------------------------------
def processes_using(data_dir: Path) -> list[str]:
    """Processes whose environment names `data_dir`: everything the dev stack started for it."""
    marker = f"RETURNS_DATA_DIR={data_dir}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker in (proc / "environ").read_bytes().split(b"\0"):
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name}: {command}")
        except OSError:
            continue
    return found


async def run_devstack(env: dict[str, str], output: list[str]) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "runtime.devstack", cwd=ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)

    async def drain() -> None:
        async for raw in process.stdout:
            output.append(raw.decode(errors="replace").rstrip("\n"))

    process.drain = asyncio.create_task(drain())  # type: ignore[attr-defined]
    return process


async def until_ready(process, output: list[str]) -> float:
    started = time.monotonic()
    while not any(line.startswith("ready") for line in output):
        if process.returncode is not None or time.monotonic() - started > 120:
            await asyncio.sleep(0.5)
            pytest.fail("make run did not become ready:\n" + "\n".join(output[-60:]))
        await asyncio.sleep(0.2)
    return time.monotonic() - started


async def interrupt(process, output: list[str]) -> int:
    process.send_signal(signal.SIGINT)
    try:
        code = await asyncio.wait_for(process.wait(), 60)
    except asyncio.TimeoutError:
        process.kill()
        pytest.fail("make run did not stop within 60s of SIGINT:\n" + "\n".join(output[-40:]))
    await process.drain
    return code


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
async def test_make_run_starts_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = (tmp_path / "data").resolve()
    ports = {"RETURNS_TEMPORAL_PORT": free_port(), "RETURNS_UI_PORT": free_port(),
             "RETURNS_WEBHOOK_PORT": free_port(), "RETURNS_WORKER_METRICS_PORT": free_port(),
             "RETURNS_RECEIVER_METRICS_PORT": free_port()}
    env = clean_env(RETURNS_DATA_DIR=str(data_dir), **{k: str(v) for k, v in ports.items()})
    runs = []
    try:
        for attempt in (1, 2):  # the second run finds every return of the first and adds none
            output: list[str] = []
            process = await run_devstack(env, output)
            runs.append(process)
            ready_after = await until_ready(process, output)
            text = "\n".join(output)
            assert f"http://127.0.0.1:{ports['RETURNS_UI_PORT']}/namespaces/default/workflows" in text
            assert f"POST http://127.0.0.1:{ports['RETURNS_WEBHOOK_PORT']}/events" in text
            demo = [line for line in output if "demo " in line and "events posted" in line]
            assert demo, text
            for knob, metric in (("RETURNS_WORKER_METRICS_PORT", "temporal_worker_start"),
                                 ("RETURNS_RECEIVER_METRICS_PORT", "returns_webhook_requests_total")):
                url = f"http://127.0.0.1:{ports[knob]}/metrics"
                assert url in text  # the banner names each Prometheus endpoint
                async with aiohttp.ClientSession() as http, http.get(url) as response:
                    assert metric in await response.text(), url
            if attempt == 1:
                assert "started" in demo[0] and "rejected" not in demo[0], demo[0]
            else:
                assert "duplicate" in demo[0] and " started" not in demo[0], demo[0]
            alive = processes_using(data_dir)
            assert len(alive) >= 3, alive  # temporal, worker, receiver (and the demo is done)

            code = await interrupt(process, output)
            assert code == 0, "\n".join(output[-40:])
            assert any("stopped; nothing left running" in line for line in output)
            deadline = time.monotonic() + 10
            while processes_using(data_dir) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert processes_using(data_dir) == [], "left running after make run stopped"
            print(f"run {attempt}: ready after {ready_after:.1f}s; {demo[0].split('| ')[-1]}")
        assert (data_dir / "temporal.db").exists()
        for merchant in ("opalook", "pearl-platform", "fine-jewelry"):  # one secret each
            assert (data_dir / "webhook-secrets" / merchant).read_text().strip()
        for name in ("temporal", "worker", "receiver"):
            assert (data_dir / "logs" / f"{name}.log").stat().st_size > 0
    finally:
        for process in runs:
            if process.returncode is None:
                process.kill()  # its children get SIGTERM from the kernel (parent-death signal)
                await process.wait()
