"""Response times of the pages people wait on, with many open returns: the customer's return page
(`python -m customer_page`, its own process: a signed link, the workflow's status query, the
page rendered) and a staff decision's round trip from the staff console's form (`python -m
console serve`, its own process: POST the approval form, the console reads the return, sends the
`approve` update, waits for the validator's and the workflow's answer, redirects, and the return's
page is rendered again), p50 / p95 / max. `--direct` adds the same update sent straight from a
client (what the Temporal UI does), to tell the console's share from the workflow's.

Two conditions, one after the other, on the same open returns:
- quiet: nothing else runs;
- under intake: new signed return.requested events arrive through the webhook (`starter.py
  serve`, its own process) at half of what this machine takes in, measured first here as the
  rate at which events become returns under review at full speed.

Probes run one at a time (a person clicking), on returns picked at random among the open ones, so
most are not in the worker's workflow cache: a probe pays the replay of that return's history.
The console's approval is timed two ways: from the form of the return's page, opened a second
before the click as a person does (the goal's measure: the page's own read brought the return into
the worker's cache and the console knows whose it is), and posted cold for a return nobody opened.

    .venv/bin/python bench/pages.py [--open 10000] [--probes 200] [--direct] [--intake-rate 7]
                                    [--cache 12000]

`--cache` sets the worker's `RETURNS_WORKFLOW_CACHE` (returns kept in its memory; default 1,000).
The worker's and the dev server's CPU time during the probes and the worker's resident memory at
the end are printed with the timings.

docs/performance.md has the results. Nothing here is asserted: timings on a shared machine vary.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from bench.procs import cpu_seconds, free_port, server_pid  # noqa: E402
from customer_page.links import CustomerLinks  # noqa: E402
from ingestion.intake import start_options  # noqa: E402
from ingestion.merchant_secrets import env_name  # noqa: E402
from ingestion.signing import SIGNATURE_HEADER, sign  # noqa: E402
from returns.events import workflow_id_for  # noqa: E402
from runtime import processes  # noqa: E402
from samples.events import return_requested  # noqa: E402
from samples.keys import TEST_KEYS_ENV, test_data_converter  # noqa: E402
from workflows import names  # noqa: E402
from workflows.search_attributes import cli_flags  # noqa: E402

MERCHANT = "fine-jewelry"
QUEUE = "bench-pages"
SECRET = "whsec_bench_" + uuid.uuid4().hex
PAGE_KEY = secrets.token_urlsafe(32)


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def summary(name: str, times: list[float]) -> str:
    ms = sorted(1000 * t for t in times)
    p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
    return (f"{name}: p50 {statistics.median(ms):.0f} ms, p95 {p95:.0f} ms, max {ms[-1]:.0f} ms "
            f"({len(ms)} probes)")


async def wait_healthy(http: aiohttp.ClientSession, url: str) -> None:
    for _ in range(150):
        try:
            async with http.get(url) as r:
                if r.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit(f"{url} never answered")


async def under_review(client, extra: str = "") -> int:
    return (await client.count_workflows(
        f'TaskQueue="{QUEUE}" AND ReturnState="under_review" AND ExecutionStatus="Running"'
        + extra)).count


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open", type=int, default=10_000, help="open returns under review")
    parser.add_argument("--probes", type=int, default=200, help="probes per kind and condition")
    parser.add_argument("--capacity-events", type=int, default=300)
    parser.add_argument("--intake-rate", type=float, default=None,
                        help="new returns per second under intake (default: half the measured "
                             "capacity); a fixed rate compares runs on a shared machine")
    parser.add_argument("--cache", type=int, default=None,
                        help="the worker's RETURNS_WORKFLOW_CACHE (default: the worker's, 1,000)")
    parser.add_argument("--direct", action="store_true",
                        help="also time the approval sent straight from a client")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="returns-bench-"))
    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, ui=False, dev_server_extra_args=cli_flags(),
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal")) as env:
        client = env.client
        webhook_port, page_port, console_port = free_port(), free_port(), free_port()
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNS_"))}
        child_env.update(TEMPORAL_ADDRESS=client.service_client.config.target_host,
                         RETURNS_CODEC_KEYS=TEST_KEYS_ENV, **{env_name(MERCHANT): SECRET},
                         RETURNS_DATA_DIR=str(work / "data"), RETURNS_TASK_QUEUE=QUEUE,
                         RETURNS_LOG_FORMAT="json", RETURNS_LOG_LEVEL="WARNING",
                         RETURNS_CUSTOMER_PAGE_KEYS=PAGE_KEY,
                         RETURNS_CUSTOMER_PAGE_URL=f"http://127.0.0.1:{page_port}")
        if args.cache:
            child_env["RETURNS_WORKFLOW_CACHE"] = str(args.cache)
        children = [
            await processes.start("worker", [sys.executable, str(ROOT / "worker.py")],
                                  log_path=work / "worker.log", env=child_env, cwd=ROOT, echo=False),
            await processes.start("receiver", [sys.executable, str(ROOT / "starter.py"), "serve",
                                               "--port", str(webhook_port)],
                                  log_path=work / "receiver.log", env=child_env, cwd=ROOT, echo=False),
            await processes.start("customer-page", [sys.executable, "-m", "customer_page",
                                                    "--port", str(page_port)],
                                  log_path=work / "page.log", env=child_env, cwd=ROOT, echo=False),
            await processes.start("console", [sys.executable, "-m", "console", "serve",
                                              "--port", str(console_port)],
                                  log_path=work / "console.log", env=child_env, cwd=ROOT, echo=False),
        ]
        add_user = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "console", "add-user", "bench", "--role", "admin", "--merchant",
            MERCHANT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
            env=child_env, cwd=ROOT)
        await add_user.communicate(b"bench-password-" + PAGE_KEY.encode() + b"\n")
        console = f"http://127.0.0.1:{console_port}"
        links = CustomerLinks((PAGE_KEY,), f"http://127.0.0.1:{page_port}")
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
                await wait_healthy(http, f"http://127.0.0.1:{webhook_port}/healthz")
                await wait_healthy(http, f"http://127.0.0.1:{page_port}/healthz")
                await wait_healthy(http, f"{console}/healthz")
                staff = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120),
                                              cookie_jar=aiohttp.CookieJar(unsafe=True))
                sign_in = await (await staff.get(f"{console}/sign-in")).text()
                async with staff.post(f"{console}/sign-in", data={
                        "csrf": hidden(sign_in, "csrf"), "name": "bench",
                        "password": "bench-password-" + PAGE_KEY, "next": "/"}) as r:
                    csrf = hidden(await r.text(), "csrf")

                # 1. The open returns, started as the intake starts them.
                began = time.monotonic()
                opened: list[str] = []
                gate = asyncio.Semaphore(50)

                async def open_one() -> None:
                    async with gate:
                        event = return_requested(MERCHANT)
                        await client.start_workflow(names.WORKFLOW_TYPE, event,
                                                    **start_options(event, QUEUE))
                        opened.append(event.return_id)

                await asyncio.gather(*(open_one() for _ in range(args.open)))
                while (n := await under_review(client)) < args.open:
                    print(f"  {n} of {args.open} under review", flush=True)
                    await asyncio.sleep(10)
                print(f"{args.open} open returns under review in {time.monotonic() - began:.0f} s",
                      flush=True)
                await asyncio.sleep(5)

                async def send_event() -> None:
                    body = return_requested(MERCHANT).model_dump_json().encode()
                    headers = {"Content-Type": "application/json",
                               SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))}
                    async with http.post(f"http://127.0.0.1:{webhook_port}/events", data=body,
                                         headers=headers) as response:
                        assert response.status in (200, 201, 202), await response.text()

                # 2. What the machine takes in: events through the webhook until under review.
                baseline = await under_review(client)
                began = time.monotonic()
                gate = asyncio.Semaphore(20)

                async def send_gated() -> None:
                    async with gate:
                        await send_event()

                await asyncio.gather(*(send_gated() for _ in range(args.capacity_events)))
                while await under_review(client) < baseline + args.capacity_events:
                    await asyncio.sleep(0.5)
                capacity = args.capacity_events / (time.monotonic() - began)
                print(f"intake capacity: {capacity:.1f} returns/s taken in and under review "
                      f"({args.capacity_events} events, 20 in flight)", flush=True)
                await asyncio.sleep(5)

                pool = list(opened)
                random.shuffle(pool)

                async def page_probe() -> float:
                    return_id = random.choice(opened)
                    url = links.url(MERCHANT, return_id)
                    t = time.monotonic()
                    async with http.get(url) as r:
                        body = await r.text()
                        assert r.status == 200, (r.status, body[:200])
                    return time.monotonic() - t

                async def console_probe(page_open: bool) -> float:
                    """The approval posted from the return's page: with `page_open`, the page is
                    opened first (not timed) and the click comes a second later, as a person
                    reads it; without, the form is posted cold, for a return nobody opened."""
                    workflow_id = workflow_id_for(MERCHANT, pool.pop())
                    if page_open:
                        async with staff.get(f"{console}/returns/{workflow_id}") as r:
                            assert r.status == 200 and 'action="/returns/' in await r.text()
                        await asyncio.sleep(1.0)
                    t = time.monotonic()
                    async with staff.post(f"{console}/returns/{workflow_id}/approve",
                                          data={"csrf": csrf}) as r:
                        body = await r.text()
                        assert r.status == 200 and "approve: approved" in body, (r.status, body[:300])
                    return time.monotonic() - t

                async def direct_probe() -> float:
                    handle = client.get_workflow_handle(workflow_id_for(MERCHANT, pool.pop()))
                    t = time.monotonic()
                    await handle.execute_update(names.UPDATE_APPROVE, {"actor": "bench"})
                    return time.monotonic() - t

                async def probes() -> dict[str, list[float]]:
                    times: dict[str, list[float]] = {
                        "customer page": [], "approval from the console's form (page open)": [],
                        "approval from the console, posted cold": []}
                    if args.direct:
                        times["approval, update from a client"] = []
                    for _ in range(args.probes):
                        times["customer page"].append(await page_probe())
                        times["approval from the console's form (page open)"].append(
                            await console_probe(page_open=True))
                        times["approval from the console, posted cold"].append(
                            await console_probe(page_open=False))
                        if args.direct:
                            times["approval, update from a client"].append(await direct_probe())
                        await asyncio.sleep(0.05)
                    return times

                # 3. Quiet.
                server = server_pid()
                cpu0 = {c.name: cpu_seconds(c.pid) for c in children}
                server0 = cpu_seconds(server) if server else 0.0
                probes_began = time.monotonic()
                quiet = await probes()
                for name, t in quiet.items():
                    print("quiet, " + summary(name, t), flush=True)

                # 4. Under intake at half of capacity.
                rate = args.intake_rate or capacity / 2
                stop = asyncio.Event()
                sent = 0

                async def producer() -> None:
                    nonlocal sent
                    start = time.monotonic()
                    inflight: set[asyncio.Task] = set()
                    while not stop.is_set():
                        due = start + sent / rate
                        await asyncio.sleep(max(0.0, due - time.monotonic()))
                        task = asyncio.create_task(send_event())
                        inflight.add(task)
                        task.add_done_callback(inflight.discard)
                        sent += 1
                    await asyncio.gather(*inflight)

                began = time.monotonic()
                producing = asyncio.create_task(producer())
                await asyncio.sleep(5)  # the intake reaches its pace
                loaded = await probes()
                stop.set()
                await producing
                took = time.monotonic() - began
                for name, t in loaded.items():
                    print(f"under intake ({rate:.1f} new returns/s, {sent} sent in {took:.0f} s), "
                          + summary(name, t), flush=True)
                cpu = {c.name: cpu_seconds(c.pid) - cpu0[c.name] for c in children}
                if server:
                    cpu["dev server"] = cpu_seconds(server) - server0
                print(f"CPU during the probes ({time.monotonic() - probes_began:.0f} s): "
                      + ", ".join(f"{k} {v:.0f} s" for k, v in cpu.items()))
                worker_rss = resident_mib(children[0].pid)
                print(f"worker resident memory at the end: {worker_rss:.0f} MiB "
                      f"(cache {args.cache or 1000})", flush=True)
                await staff.close()
        finally:
            await processes.stop_all(children, grace=10)


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)
