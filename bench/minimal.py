"""The yardstick for bench/lifecycle.py: a workflow with the same number of activities, updates,
signals and timers as a full return (request -> approve -> receipt -> inspection -> refund), with
empty bodies: what Temporal itself costs for that shape, on the same server and converter.

    python bench/minimal.py          # its worker (TEMPORAL_ADDRESS, RETURNS_TASK_QUEUE)
"""

from __future__ import annotations

import asyncio
import compileall
import os
import sys
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.worker import Worker

WORKFLOW = "MinimalReturn"


@activity.defn(name="noop")
async def noop() -> None:
    return None


@workflow.defn(name=WORKFLOW)
class MinimalReturn:
    """`plan`: per phase [activities, timers]; between phases one message, in order: update,
    signal, update (approve, warehouse receipt, inspection). Timers are started at the start of
    their phase and cancelled at its end, as the return's deadline waits are."""

    def __init__(self) -> None:
        self.phase = 0
        self.received = 0

    @workflow.run
    async def run(self, plan: list[list[int]]) -> int:
        for n, (activities, timers) in enumerate(plan):
            pending = [asyncio.ensure_future(asyncio.sleep(30 * 86400)) for _ in range(timers)]
            for _ in range(activities):
                await workflow.execute_activity(noop, start_to_close_timeout=timedelta(minutes=1))
            if n < len(plan) - 1:
                self.phase = n + 1  # ready for message n + 1
                await workflow.wait_condition(lambda: self.received > n)
            for timer in pending:
                timer.cancel()
        return self.received

    @workflow.update(name="step")
    async def step(self, n: int) -> int:
        self.received = max(self.received, n)
        return self.received

    @workflow.signal(name="step_signal")
    async def step_signal(self, n: int) -> None:
        self.received = max(self.received, n)

    @workflow.query(name="phase")
    def current_phase(self) -> int:
        return self.phase


async def main() -> None:
    # The sandbox re-imports a workflow's module by name: use `bench.minimal`, not `__main__`.
    from bench.minimal import MinimalReturn as Workflow, noop as Noop
    from runtime.client import connect

    compileall.compile_file(Path(__file__), quiet=2)  # worker.py's treatment: a .pyc for the sandbox
    client = await connect()
    worker = Worker(client, task_queue=os.environ.get("RETURNS_TASK_QUEUE", "minimal"),
                    workflows=[Workflow], activities=[Noop])
    print("minimal worker polling", flush=True)
    await worker.run()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    asyncio.run(main())
