"""Ingestion throughput: signed return.requested events through the webhook (`starter.py serve`,
its own process) to started workflows, per second, against raw `client.start_workflow` calls from
this process that start the same workflows the same way (the event as the workflow's input, the
intake's `start_options`: id policies, search attributes, the UI's summary and details); the same
dev server, the same encrypting converter, alternated. A third path, "bare", starts each event as
a plain dict with no options: what the search attributes and UI metadata cost the server.
No worker runs: this measures intake, not the lifecycle. docs/performance.md.

    .venv/bin/python bench/ingestion.py [--events 400] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from ingestion.intake import parse_event, start_options  # noqa: E402
from ingestion.merchant_secrets import env_name  # noqa: E402
from ingestion.signing import SIGNATURE_HEADER, sign  # noqa: E402
from returns.events import workflow_id_for  # noqa: E402
from bench.procs import cpu_seconds, free_port  # noqa: E402
from runtime import processes  # noqa: E402
from samples.keys import TEST_KEYS_ENV, test_data_converter  # noqa: E402
from samples.events import return_requested  # noqa: E402
from workflows import names  # noqa: E402
from workflows.search_attributes import cli_flags  # noqa: E402

MERCHANT = "fine-jewelry"  # every event's merchant, and the one secret the receiver holds
SECRET = "whsec_bench_" + uuid.uuid4().hex


def events(count: int) -> list[bytes]:
    return [return_requested(MERCHANT).model_dump_json().encode() for _ in range(count)]


async def run(count: int, concurrency: int, send, prepare=lambda body: body) -> float:
    """`prepare` turns each event's bytes into what `send` takes, before the clock starts."""
    bodies = [prepare(body) for body in events(count)]
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
                         RETURNS_CODEC_KEYS=TEST_KEYS_ENV, **{env_name(MERCHANT): SECRET},
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

                async def raw(event) -> None:  # the receiver's own start call, no webhook
                    await client.start_workflow(names.WORKFLOW_TYPE, event,
                                                **start_options(event, "bench-ingestion"))

                async def bare(event: dict) -> None:  # no id policies, attributes or UI metadata
                    await client.start_workflow(names.WORKFLOW_TYPE, event,
                                                id=workflow_id_for(event["merchant_id"],
                                                                   event["return_id"]),
                                                task_queue="bench-ingestion")

                paths = {"webhook": (via_webhook, lambda body: body),
                         "raw": (raw, parse_event), "bare": (bare, json.loads)}
                for send, prepare in paths.values():  # warm up every path
                    await run(20, 5, send, prepare)
                rates = {name: [] for name in paths}
                cpu = {"receiver": 0.0} | {f"here ({name})": 0.0 for name in paths}
                for _ in range(args.repeats):  # alternate, to even out drift; best of each
                    for name, (send, prepare) in paths.items():
                        before = cpu_seconds(receiver.pid), time.process_time()
                        rates[name].append(await run(args.events, args.concurrency, send, prepare))
                        if name == "webhook":
                            cpu["receiver"] += cpu_seconds(receiver.pid) - before[0]
                        cpu[f"here ({name})"] += time.process_time() - before[1]
        finally:
            await processes.stop_all([receiver], grace=5)
    best = {name: max(r) for name, r in rates.items()}
    runs = {name: [round(x) for x in r] for name, r in rates.items()}
    print(f"ingestion ({args.events} events, {args.concurrency} in flight): webhook "
          f"{best['webhook']:.0f}/s (runs {runs['webhook']}), raw start_workflow "
          f"{best['raw']:.0f}/s (runs {runs['raw']}); ratio {best['webhook'] / best['raw']:.2f} "
          f"(target >= 0.9)")
    print(f"bare start_workflow (a plain dict, no options) {best['bare']:.0f}/s "
          f"(runs {runs['bare']}): webhook / bare {best['webhook'] / best['bare']:.2f}")
    total = args.events * args.repeats
    print("CPU per event: " + ", ".join(f"{name} {1e3 * secs / total:.2f} ms"
                                        for name, secs in cpu.items()))


if __name__ == "__main__":
    asyncio.run(main())
    # Skip interpreter teardown: the Temporal client's Rust threads can abort it
    # ("PyGILState_Release ... finalizing", temporalio/sdk-python#300) after the results are out.
    sys.stdout.flush()
    os._exit(0)
