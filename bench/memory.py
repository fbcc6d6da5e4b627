"""Worker memory with many open returns waiting on timers (each under review, its review deadline
timer running): the worker's resident memory (VmRSS of worker.py, its own process, default worker
settings) at 1,000 and at 10,000 open returns. docs/performance.md.

    .venv/bin/python bench/memory.py [--steps 1000,10000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temporalio.testing import WorkflowEnvironment  # noqa: E402

from returns.events import workflow_id_for  # noqa: E402
from runtime import processes  # noqa: E402
from samples.keys import TEST_KEYS_ENV, test_data_converter  # noqa: E402
from samples.events import return_requested  # noqa: E402
from workflows import names  # noqa: E402
from workflows.search_attributes import cli_flags  # noqa: E402

QUEUE = "bench-memory"


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of `pid` in MiB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", default="1000,10000")
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    work = Path(tempfile.mkdtemp(prefix="returns-bench-"))
    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, ui=False, dev_server_extra_args=cli_flags(),
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal")) as env:
        client = env.client
        child_env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNS_"))}
        child_env.update(TEMPORAL_ADDRESS=client.service_client.config.target_host,
                         RETURNS_CODEC_KEYS=TEST_KEYS_ENV, RETURNS_DATA_DIR=str(work / "data"),
                         RETURNS_TASK_QUEUE=QUEUE, RETURNS_LOG_FORMAT="json",
                         RETURNS_LOG_LEVEL="WARNING")
        worker = await processes.start("worker", [sys.executable, str(ROOT / "worker.py")],
                                       log_path=work / "worker.log", env=child_env, cwd=ROOT,
                                       echo=False)
        try:
            await asyncio.sleep(3)
            print(f"worker idle: {rss_mib(worker.pid)[0]:.0f} MiB")
            gate = asyncio.Semaphore(args.concurrency)
            started = 0
            results = []
            for target in steps:
                began = time.monotonic()

                async def one() -> None:
                    async with gate:
                        event = return_requested("fine-jewelry")
                        await client.start_workflow(names.WORKFLOW_TYPE, event, task_queue=QUEUE,
                                                    id=workflow_id_for(event.merchant_id, event.return_id))

                await asyncio.gather(*(one() for _ in range(target - started)))
                started = target
                # Wait until every return is under review, waiting on its review timer.
                while True:
                    waiting = (await client.count_workflows(
                        f'TaskQueue="{QUEUE}" AND ReturnState="under_review" '
                        f'AND ExecutionStatus="Running"')).count
                    if waiting >= target:
                        break
                    await asyncio.sleep(2)
                await asyncio.sleep(5)  # settle
                current, peak = rss_mib(worker.pid)
                took = time.monotonic() - began
                results.append((target, current, peak))
                print(f"{target:>6} open returns: worker RSS {current:.0f} MiB (peak {peak:.0f} MiB); "
                      f"reached in {took:.0f}s", flush=True)
            (first, m1, _), (last, m2, _) = results[0], results[-1]
            print(f"growth {first} -> {last}: {m2 - m1:+.0f} MiB "
                  f"({(m2 - m1) * 1024 / (last - first):.1f} KiB per extra open return)")
        finally:
            await processes.stop_all([worker], grace=10)


if __name__ == "__main__":
    asyncio.run(main())
    # Skip interpreter teardown: the Temporal client's Rust threads can abort it
    # ("PyGILState_Release ... finalizing", temporalio/sdk-python#300) after the results are out.
    sys.stdout.flush()
    os._exit(0)
