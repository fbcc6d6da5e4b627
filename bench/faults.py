"""The larger fault run (docs/faults.md): many returns, three workers SIGKILLed at seeded random
moments, failing/lost/hanging providers, and the file-backed dev server itself killed and
restarted mid-run. Loopback only; bounded in count and time.

    .venv/bin/python bench/faults.py [--rounds 4] [--workers 3] [--kills 10] [--seed 7]

Prints what was injected, how long it took, and every problem `faultlib.verify` found (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temporalio.client import Client  # noqa: E402
from temporalio.service import RPCError  # noqa: E402

from bench.faultlib import (PATHS, WorkerPool, chaos, drive, fault_counts,  # noqa: E402
                            returns_for, status, verify, where_it_stands)
from bench.procs import free_port  # noqa: E402
from returns.events import workflow_id_for  # noqa: E402
from runtime import processes  # noqa: E402
from samples.keys import TEST_KEYS_ENV, test_data_converter  # noqa: E402
from workflows.search_attributes import cli_flags  # noqa: E402

# Refunds retry with exponential backoff (10 s, 20 s, 40 s, ...): with four times the returns, the
# bench injects refund faults a little less often than the test does, and ends outages after 3
# attempts (the test: 2).
BENCH_FAULTS = ("refund:fail=0.2,lost=0.15,hang=0.1;email:fail=0.15,lost=0.1,hang=0.05;"
                "label:fail=0.2,lost=0.2,hang=0.1;hang_s=1.5;outage=3")




async def start_server(port: int, db: Path, logs: Path):
    argv = [str(Path(sys.executable).parent / "temporal"), "server", "start-dev", "--ip", "127.0.0.1",
            "--port", str(port), "--headless", "--db-filename", str(db),
            "--dynamic-config-value", "frontend.enableServerVersionCheck=false", *cli_flags()]
    return await processes.start("temporal", argv, log_path=logs / "temporal.log", echo=False)


async def connect(address: str, deadline: float) -> Client:
    while True:
        try:
            return await Client.connect(address, data_converter=test_data_converter)
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4, help="each round: one return per path (7)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--server-down", type=float, default=3.0, help="seconds the server is down")
    parser.add_argument("--budget", type=float, default=900.0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="returns-faults-"))
    data_dir, logs = work / "data", work / "logs"
    port = free_port()
    address = f"127.0.0.1:{port}"
    started = time.monotonic()
    deadline = started + args.budget
    server = await start_server(port, work / "temporal.db", logs)
    client = await connect(address, deadline)
    queue = f"faults-bench-{args.seed}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNS_"))}
    env.update(TEMPORAL_ADDRESS=address, RETURNS_DATA_DIR=str(data_dir), RETURNS_TASK_QUEUE=queue,
               RETURNS_CODEC_KEYS=TEST_KEYS_ENV, RETURNS_LOG_FORMAT="json", PYTHONUNBUFFERED="1",
               RETURNS_FAULTS=f"seed={args.seed};{BENCH_FAULTS}")
    pool = WorkerPool(args.workers, env, logs)
    await pool.start_all()
    events: list[str] = []

    async def restart_server() -> None:
        nonlocal server
        await asyncio.sleep(rng.uniform(4, 8))
        events.append(f"{time.strftime('%H:%M:%S')} kill -9 the dev server; down {args.server_down}s")
        server.process.send_signal(signal.SIGKILL)
        await server.wait()
        await asyncio.sleep(args.server_down)
        server = await start_server(port, work / "temporal.db", logs)
        events.append(f"{time.strftime('%H:%M:%S')} dev server restarted on the same database")

    runs = returns_for(PATHS * args.rounds, rng)
    try:
        tasks = [asyncio.create_task(chaos(pool, rng, args.kills, 1.0, (0.5, 3.0), (0.2, 2.0), events)),
                 asyncio.create_task(restart_server())]
        finals = await asyncio.gather(*(drive(client, p, e, queue, deadline) for p, e in runs),
                                      return_exceptions=True)
        await asyncio.gather(*tasks)
        took = time.monotonic() - started
        # Where the unfinished ones stand, asked while the workers still answer (their emails are
        # theirs, not strays).
        unfinished, so_far = [], []
        for (p, e), f in zip(runs, finals):
            if isinstance(f, BaseException):
                handle = client.get_workflow_handle(workflow_id_for(e.merchant_id, e.return_id))
                unfinished.append(f"not finished within the budget: {await where_it_stands(handle, p)}")
                try:
                    so_far.append((p, e, await status(handle, time.monotonic() + 15)))
                except (TimeoutError, RPCError):
                    pass
    finally:
        await pool.stop()
        await processes.stop_all([server], grace=5)
    records = pool.log_records()
    problems = unfinished + await verify(
        [(p, e, f) for (p, e), f in zip(runs, finals) if not isinstance(f, BaseException)],
        data_dir, records, so_far)
    print(f"{len(runs)} returns, {args.workers} workers, seed {args.seed}: "
          f"{len(runs) - len(unfinished)} finished in {took:.0f}s")
    print(f"worker starts: {pool.started}; injected faults: {dict(fault_counts(records))}")
    print("\n".join(events))
    print("verify: " + ("OK: every return in its expected state, one refund per refunded "
                        "return, no email or label twice" if not problems else "PROBLEMS"))
    for problem in problems:
        print("  " + problem)
    print(f"(logs and data in {work})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
