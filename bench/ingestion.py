"""Ingestion throughput: signed return.requested events through the webhook (`starter.py serve`,
its own process) to started workflows, per second, against raw `client.start_workflow` of the same
events from this process; the same dev server, the same encrypting converter, alternated twice.
No worker runs: this measures intake, not the lifecycle. docs/performance.md.

    .venv/bin/python bench/ingestion.py [--events 400] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from ingestion.signing import SIGNATURE_HEADER, sign  # noqa: E402
from returns.events import workflow_id_for  # noqa: E402
from runtime import processes  # noqa: E402
from tests.codec_keys import TEST_KEYS_ENV, test_data_converter  # noqa: E402
from tests.lifecycle.events import return_requested  # noqa: E402
from workflows import names  # noqa: E402
from workflows.search_attributes import cli_flags  # noqa: E402

SECRET = "whsec_bench_" + uuid.uuid4().hex


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def events(count: int) -> list[bytes]:
    return [return_requested("fine-jewelry").model_dump_json().encode() for _ in range(count)]


async def run(count: int, concurrency: int, send) -> float:
    bodies = events(count)
    gate = asyncio.Semaphore(concurrency)

    async def one(body: bytes) -> None:
        async with gate:
            await send(body)

    started = time.monotonic()
    await asyncio.gather(*(one(b) for b in bodies))
    return count / (time.monotonic() - started)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="returns-bench-"))
    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, ui=False, dev_server_extra_args=cli_flags(),
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal")) as env:
        client = env.client
        port = free_port()
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNS_"))}
        child_env.update(TEMPORAL_ADDRESS=client.service_client.config.target_host,
                         RETURNS_CODEC_KEYS=TEST_KEYS_ENV, RETURNS_WEBHOOK_SECRET=SECRET,
                         RETURNS_DATA_DIR=str(work), RETURNS_TASK_QUEUE="bench-ingestion",
                         RETURNS_LOG_FORMAT="json", RETURNS_LOG_LEVEL="WARNING")
        receiver = await processes.start(
            "receiver", [sys.executable, str(ROOT / "starter.py"), "serve", "--port", str(port)],
            log_path=work / "receiver.log", env=child_env, cwd=ROOT, echo=False)
        url = f"http://127.0.0.1:{port}/events"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
                for _ in range(100):
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.2)

                async def via_webhook(body: bytes) -> None:
                    headers = {"Content-Type": "application/json",
                               SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))}
                    async with http.post(url, data=body, headers=headers) as response:
                        answer = await response.json()
                        assert answer.get("outcome") == "started", answer

                async def raw(body: bytes) -> None:
                    event = json.loads(body)
                    await client.start_workflow(names.WORKFLOW_TYPE, event,
                                                id=workflow_id_for(event["return_id"]),
                                                task_queue="bench-ingestion")

                await run(20, 5, via_webhook)  # warm up both paths
                await run(20, 5, raw)
                rates = {"webhook": [], "raw": []}
                cpu = {"receiver": 0.0, "here (webhook)": 0.0, "here (raw)": 0.0}
                for _ in range(args.repeats):  # alternate, to even out drift; best of each
                    before = cpu_seconds(receiver.pid), time.process_time()
                    rates["webhook"].append(await run(args.events, args.concurrency, via_webhook))
                    cpu["receiver"] += cpu_seconds(receiver.pid) - before[0]
                    cpu["here (webhook)"] += time.process_time() - before[1]
                    before = time.process_time()
                    rates["raw"].append(await run(args.events, args.concurrency, raw))
                    cpu["here (raw)"] += time.process_time() - before
        finally:
            await processes.stop_all([receiver], grace=5)
    hook, direct = max(rates["webhook"]), max(rates["raw"])
    print(f"ingestion ({args.events} events, {args.concurrency} in flight): webhook {hook:.0f}/s "
          f"(runs {[round(r) for r in rates['webhook']]}), raw start_workflow {direct:.0f}/s "
          f"(runs {[round(r) for r in rates['raw']]}); ratio {hook / direct:.2f} (target >= 0.9)")
    total = args.events * args.repeats
    print("CPU per event: " + ", ".join(f"{name} {1e3 * secs / total:.2f} ms"
                                        for name, secs in cpu.items()))


if __name__ == "__main__":
    asyncio.run(main())
