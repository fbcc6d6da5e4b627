"""The yardstick for bench/lifecycle.py: a workflow with the same number of activities, updates,
signals and timers as a full return (request -> approve -> receipt -> inspection -> refund), with
empty bodies: what Temporal itself costs for that shape, on the same server and converter.

`MinimalWithAttributes` is the same workflow plus what a return must have for staff to find it
and for it to change safely: the full return's search attribute upserts (the same names and
values, after the same activity of the same phase) and as many `workflow.patched()` markers at
the start as it records (each with the `TemporalChangeVersion` upsert the SDK writes for it). It
is not the target's yardstick; it measures what those cost on this server (docs/performance.md,
"The floor").

    python bench/minimal.py          # its worker (TEMPORAL_ADDRESS, RETURNS_TASK_QUEUE)
"""

from __future__ import annotations

import asyncio
import compileall
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate
from temporalio.worker import Worker

WORKFLOW = "MinimalReturn"
WITH_ATTRIBUTES = "MinimalWithAttributes"
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
        for n, (activities, timers) in enumerate(plan):
            pending = [asyncio.ensure_future(asyncio.sleep(30 * 86400)) for _ in range(timers)]
            after(n, 0)
            for done in range(1, activities + 1):
                await workflow.execute_activity(noop, start_to_close_timeout=timedelta(minutes=1))
                after(n, done)
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


async def main() -> None:
    # The sandbox re-imports a workflow's module by name: use `bench.minimal`, not `__main__`.
    from bench.minimal import MinimalReturn as Workflow, MinimalWithAttributes, noop as Noop
    from runtime.client import connect

    compileall.compile_file(Path(__file__), quiet=2)  # worker.py's treatment: a .pyc for the sandbox
    client = await connect()
    worker = Worker(client, task_queue=os.environ.get("RETURNS_TASK_QUEUE", "minimal"),
                    workflows=[Workflow, MinimalWithAttributes], activities=[Noop])
    print("minimal worker polling", flush=True)
    await worker.run()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    asyncio.run(main())
