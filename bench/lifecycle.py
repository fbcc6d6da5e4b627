"""Lifecycle: what one worker carries, and what each return writes to Temporal. docs/performance.md.

1. History per return: a few returns of each main path (refunded, rejected, exchanged; driven
   as staff and the warehouse would, bench/faultlib.PATHS) and, from their histories, the history
   events and the search attribute upserts (each one a visibility write on the server) per return.
2. Throughput: rounds of refunded returns (request -> approve -> receipt -> inspection -> refund),
   `--concurrency` in flight: returns per second per round, and CPU per return of the worker, the
   dev server and this driver (read from /proc around each round); then the same history counts
   over every return the rounds ran.

The real `worker.py` runs in its own process with the project's encrypting converter and the
embedded side effects (Maildir emails, PDF label, SQLite ledger), on a dev server of its own.

    .venv/bin/python bench/lifecycle.py [--returns 100] [--concurrency 40] [--repeats 3] [--sample 5]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from bench.faultlib import PATHS, drive, returns_for  # noqa: E402
from bench.procs import cpu_seconds, server_pid, steal_seconds  # noqa: E402
from returns.events import workflow_id_for  # noqa: E402
from runtime import processes  # noqa: E402
from samples.keys import TEST_KEYS_ENV, test_data_converter  # noqa: E402
from workflows.search_attributes import cli_flags  # noqa: E402

QUEUE = "bench-lifecycle"
MEASURED = {"refund": "refunded", "reject": "rejected", "exchange": "exchanged"}  # path: its end
BY_NAME = {p.name: p for p in PATHS}
UPSERT = EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES


def upserts(events) -> list[dict]:
    """The search attributes each upsert of a history wrote (value None: removed)."""
    return [{name: json.loads(p.data) if p.data else None
             for name, p in e.upsert_workflow_search_attributes_event_attributes
             .search_attributes.indexed_fields.items()}
            for e in events if e.event_type == UPSERT]


def spread(values: list[int]) -> str:
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{mid:g}" if low == high else f"{mid:g} ({low}-{high})"


async def histories(client, ids: list[str]) -> list[list]:
    return [(await client.get_workflow_handle(wid).fetch_history()).events for wid in ids]


def describe(label: str, runs: list[list]) -> None:
    """History events and upserts per return over `runs` (each a history), and what the first
    one's upserts wrote: the state it came to rest in and how many attributes."""
    counts = collections.Counter()
    for events in runs:
        counts.update(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in events)
    per = {k: round(v / len(runs), 1) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}
    writes = [f"{u.get('ReturnState', '-')} ({len(u)})" for u in upserts(runs[0])]
    print(f"  {label:<10} history events {spread([len(e) for e in runs])}, search attribute "
          f"upserts {spread([len(upserts(e)) for e in runs])}; {len(runs)} returns")
    print(f"  {'':<10} upserts of the first, state (attributes): {', '.join(writes)}")
    print(f"  {'':<10} events by kind, mean: {per}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--returns", type=int, default=100, help="refunded returns per round")
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3, help="rounds")
    parser.add_argument("--sample", type=int, default=5,
                        help="returns of each path for the history counts before the rounds")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="returns-bench-"))
    rng = random.Random()
    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, ui=False, dev_server_extra_args=cli_flags(),
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal")) as env:
        client = env.client
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNS_"))}
        child_env.update(TEMPORAL_ADDRESS=client.service_client.config.target_host,
                         RETURNS_CODEC_KEYS=TEST_KEYS_ENV, RETURNS_DATA_DIR=str(work / "data"),
                         RETURNS_TASK_QUEUE=QUEUE, RETURNS_LOG_FORMAT="json",
                         RETURNS_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
        worker = await processes.start("worker", [sys.executable, str(ROOT / "worker.py")],
                                       log_path=work / "worker.log", env=child_env, cwd=ROOT,
                                       echo=False)
        await asyncio.sleep(2.5)  # imports and first poll
        deadline = time.monotonic() + 1800

        async def run(path_name: str, count: int) -> list[str]:
            runs = returns_for([BY_NAME[path_name]] * count, rng)
            finals = await asyncio.gather(*(drive(client, p, e, QUEUE, deadline) for p, e in runs))
            for (path, event), final in zip(runs, finals):
                assert final.state.value == MEASURED[path.name], (event.return_id, final.state)
            return [workflow_id_for(e.merchant_id, e.return_id) for _, e in runs]

        try:
            print(f"history per return ({args.sample} of each path, {args.sample} at a time):")
            for name, end in MEASURED.items():
                describe(end, await histories(client, await run(name, args.sample)))

            server = server_pid()
            gate = asyncio.Semaphore(args.concurrency)

            async def one() -> str:
                async with gate:
                    return (await run("refund", 1))[0]

            rates, cpu, ids = [], [], []
            print(f"throughput ({args.returns} refunded returns a round, {args.concurrency} in "
                  f"flight; CPU per return: worker + dev server + this driver):")
            for _ in range(args.repeats):
                before = (cpu_seconds(worker.pid), cpu_seconds(server) if server else 0.0,
                          time.process_time(), steal_seconds())
                started = time.monotonic()
                ids += await asyncio.gather(*(one() for _ in range(args.returns)))
                rates.append(args.returns / (time.monotonic() - started))
                used = [1e3 * x / args.returns for x in (
                    cpu_seconds(worker.pid) - before[0],
                    cpu_seconds(server) - before[1] if server else 0.0,
                    time.process_time() - before[2])]
                cpu.append(used)
                print(f"  round: {rates[-1]:4.1f} returns/s; CPU per return {sum(used):.0f} ms "
                      f"(worker {used[0]:.0f}, server {used[1]:.0f}, driver {used[2]:.0f}); "
                      f"machine steal {steal_seconds() - before[3]:.1f} s", flush=True)
            worker_ms, server_ms, driver_ms = (statistics.median(c) for c in zip(*cpu))
            print(f"  median of {args.repeats}: {statistics.median(rates):.1f} returns/s (best "
                  f"{max(rates):.1f}); CPU per return {worker_ms + server_ms + driver_ms:.0f} ms "
                  f"(worker {worker_ms:.0f}, server {server_ms:.0f}, driver {driver_ms:.0f})")
            print("history per return over the rounds:")
            describe("refunded", await histories(client, ids))
        finally:
            await processes.stop_all([worker], grace=5)


if __name__ == "__main__":
    asyncio.run(main())
    # Skip interpreter teardown: the Temporal client's Rust threads can abort it
    # ("PyGILState_Release ... finalizing", temporalio/sdk-python#300) after the results are out.
    sys.stdout.flush()
    os._exit(0)
