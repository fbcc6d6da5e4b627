"""The yardstick for bench/lifecycle.py: a workflow with the same number of activities, updates,
signals and timers as a full return (request -> approve -> receipt -> inspection -> refund), with
empty bodies: what Temporal itself costs for that shape, on the same server and converter.

`MinimalWithAttributes` is the same workflow plus what a return must have for staff to find it
and for it to change safely: the full return's search attribute upserts (the same names and
values, after the same activity of the same phase) and as many `workflow.patched()` markers at
the start as it records (each with the `TemporalChangeVersion` upsert the SDK writes for it). It
is not the target's yardstick; it measures what those cost on this server (docs/performance.md,
"The floor").

`MinimalWithData` is `MinimalWithAttributes` carrying a return's data as well: the full return's
own request as its input and, for each activity, the full return's real argument and result
(bench/data_plan.py, decrypted from a full return's history), as plain JSON objects through the
same encrypting converter. Still no side effects, no status answers, no UI summaries and no
workflow logic: what any workflow that passes this return's data to its activities must pay.

    python bench/minimal.py          # its worker (TEMPORAL_ADDRESS, RETURNS_TASK_QUEUE)
"""

from __future__ import annotations

import asyncio
import compileall
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

if __name__ == "__main__":  # the worker: the project's modules (runtime, bench) importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bench import data_plan  # passed through the sandbox by the worker's runner (main)

WORKFLOW = "MinimalReturn"
WITH_ATTRIBUTES = "MinimalWithAttributes"
WITH_DATA = "MinimalWithData"
# An upsert in a plan: [phase, activities completed in that phase before it, [[name, type, value]]]
# with type as Temporal writes it in a search attribute payload's "type" metadata (a key of KEYS)
# and datetimes as ISO 8601 text; value None removes the attribute.
KEYS = {"Keyword": SearchAttributeKey.for_keyword, "Datetime": SearchAttributeKey.for_datetime,
        "Int": SearchAttributeKey.for_int, "Bool": SearchAttributeKey.for_bool,
        "KeywordList": SearchAttributeKey.for_keyword_list, "Text": SearchAttributeKey.for_text,
        "Double": SearchAttributeKey.for_float}


@activity.defn(name="noop")
async def noop() -> None:
    return None


@activity.defn(name="echo")
async def echo(argument: Any) -> Any:
    """The full return's activity n (its activity id), given its real argument: answers its real
    result. The id carries n, so the payloads are the full return's and no more."""
    return data_plan.load()["results"][int(activity.info().activity_id)]


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
        return await self._phases(plan)

    async def _phases(self, plan: list[list[int]], after=lambda phase, done: None) -> int:
        """The plan's phases; `after(phase, done)` runs at a phase's start (done 0) and after each
        of its activities."""
        count = 0
        for n, (activities, timers) in enumerate(plan):
            pending = [asyncio.ensure_future(asyncio.sleep(30 * 86400)) for _ in range(timers)]
            after(n, 0)
            for done in range(1, activities + 1):
                await self._activity(count)
                count += 1
                after(n, done)
            if n < len(plan) - 1:
                self.phase = n + 1  # ready for message n + 1
                await workflow.wait_condition(lambda: self.received > n)
            for timer in pending:
                timer.cancel()
        return self.received

    async def _activity(self, n: int) -> None:
        """The workflow's activity `n` (0, 1, ... in order)."""
        await workflow.execute_activity(noop, start_to_close_timeout=timedelta(minutes=1))

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


def _update(name: str, kind: str, value) -> SearchAttributeUpdate:
    if value is None:  # removed: the key's type does not matter for an unset
        return SearchAttributeKey.for_keyword(name).value_unset()
    if kind == "Datetime":
        value = datetime.fromisoformat(value)
    return KEYS[kind](name).value_set(value)


@workflow.defn(name=WITH_ATTRIBUTES)
class MinimalWithAttributes(MinimalReturn):
    """MinimalReturn plus the full return's search attribute upserts and patch markers."""

    @workflow.run
    async def run(self, plan: list[list[int]], upserts: list,  # type: ignore[override]
                  markers: int = 1) -> int:
        for n in range(markers):  # a marker and a TemporalChangeVersion upsert each, as the
            workflow.patched(f"bench-{n}")  # return's patches read at its start
        at: dict[tuple[int, int], list] = {}
        for phase, after, pairs in upserts:
            at.setdefault((phase, after), []).append(pairs)

        def upsert(phase: int, done: int) -> None:
            for pairs in at.get((phase, done), []):
                workflow.upsert_search_attributes([_update(*p) for p in pairs])

        return await self._phases(plan, upsert)


@workflow.defn(name=WITH_DATA)
class MinimalWithData(MinimalWithAttributes):
    """MinimalWithAttributes with the full return's request as input and its activities' real
    arguments and results (the data worker loads them before it polls: bench/data_plan.py)."""

    @workflow.run
    async def run(self, plan: list[list[int]], upserts: list,  # type: ignore[override]
                  markers: int, request: Any) -> int:
        # `request` is only carried, as the full return's input is: decoded, never read.
        self.arguments = data_plan.load()["inputs"]
        return await MinimalWithAttributes.run(self, plan, upserts, markers)

    async def _activity(self, n: int) -> None:
        await workflow.execute_activity(echo, self.arguments[n], activity_id=str(n),
                                        start_to_close_timeout=timedelta(minutes=1))


async def main() -> None:
    # The sandbox re-imports a workflow's module by name: use `bench.minimal`, not `__main__`.
    from bench.minimal import (MinimalReturn as Workflow, MinimalWithAttributes, MinimalWithData,
                               echo as Echo, noop as Noop)
    from runtime.client import connect

    if os.environ.get(data_plan.ENV):
        data_plan.load()  # the data worker: read once, before any workflow runs

    compileall.compile_file(Path(__file__), quiet=2)  # worker.py's treatment: a .pyc for the sandbox
    client = await connect()
    worker = Worker(client, task_queue=os.environ.get("RETURNS_TASK_QUEUE", "minimal"),
                    workflows=[Workflow, MinimalWithAttributes, MinimalWithData],
                    activities=[Noop, Echo],
                    # The recorded data the data worker loaded: the same module in every sandbox.
                    workflow_runner=SandboxedWorkflowRunner(
                        SandboxRestrictions.default.with_passthrough_modules(data_plan.__name__)))
    print("minimal worker polling", flush=True)
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
