"""Lifecycle tests: the real ReturnWorkflow and its real activities (policy engine, holiday
calendars, Maildir outbox, PDF labels, SQLite ledger) on the time-skipping test server."""

from __future__ import annotations

import uuid
import asyncio
import collections
import email
import email.policy
import mailbox
import os
from email.message import EmailMessage
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType, IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from samples.keys import test_data_converter as data_converter  # encrypted, fixed test key
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.ledger import SqliteLedger
from returns.events import ReturnRequested, workflow_id_for
from returns.order_lines import order_workflow_id
from returns.policy.registry import PolicyRegistry
from runtime.settings import Settings
from worker import build_worker
from workflows import search_attributes as sa
from workflows.return_workflow import ReturnWorkflow

_TYPES = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "BOOL": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "KEYWORD_LIST": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}


async def start_skipping_env(test_server_path) -> WorkflowEnvironment:
    """A time-skipping test server with the project's search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter, test_server_existing_path=str(test_server_path)
    )
    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=env.client.namespace,
        search_attributes={k.name: _TYPES[k.indexed_value_type.name] for k in sa.ALL},
    ))
    return env


@pytest_asyncio.fixture(scope="module")
async def env(test_server_path) -> WorkflowEnvironment:
    """One time-skipping server per test module: a module's leftovers (a return still waiting
    on a retry or a timer when its test ended) can never hold the clock of another module's tests,
    whose skips would then wait in real time."""
    env = await start_skipping_env(test_server_path)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def registry() -> PolicyRegistry:
    return PolicyRegistry.load(Path(__file__).resolve().parents[2] / "policies")


HISTORIES = Path(__file__).resolve().parents[1] / "histories"


@dataclass
class Harness:
    client: Client
    env: WorkflowEnvironment
    settings: Settings
    handles: list = field(default_factory=list)
    guards: list = field(default_factory=list)  # each return's order guard (OrderWorkflow)

    @property
    def ledger(self) -> SqliteLedger:
        return SqliteLedger(self.settings.ledger_path)

    async def start(self, event: ReturnRequested) -> WorkflowHandle:
        handle = await self.client.start_workflow(
            ReturnWorkflow.run, event, id=workflow_id_for(event.merchant_id, event.return_id),
            task_queue=self.settings.task_queue,
        )
        self.handles.append(handle)
        self.guards.append(self.client.get_workflow_handle(
            order_workflow_id(event.merchant_id, event.order.order_id)))
        return handle

    async def finish(self) -> None:
        """The time-skipping clock is shared, and it stops skipping while a workflow task waits
        for a worker that is gone: leave no workflow running into the next test (an order's guard
        waits a week idle, or two years after a refund)."""
        for handle in self.handles + self.guards:
            try:
                await handle.terminate("test finished")
            except Exception:  # noqa: BLE001 - already completed
                pass

    async def sleep(self, handle: WorkflowHandle, duration: timedelta) -> None:
        """Move the shared clock once `handle` is idle: no activity or workflow task in flight
        (the test server does not skip time reliably while an activity is running)."""
        closed = {EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
                  EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED}
        for _ in range(400):
            events = (await handle.fetch_history()).events
            count = collections.Counter(e.event_type for e in events)
            activities_idle = count[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED] == sum(
                count[t] for t in closed)
            tasks_idle = count[EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED] == sum(count[t] for t in (
                EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
                EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT))
            if activities_idle and tasks_idle:
                break
            await asyncio.sleep(0.025)
        # The sleep RPC can time out on a loaded machine even though the clock moved: go by the
        # server's clock and sleep only what is left.
        target = await self.env.get_current_time() + duration
        for _ in range(5):
            remaining = target - await self.env.get_current_time()
            if remaining <= timedelta(0):
                return
            try:
                await self.env.sleep(remaining)
            except RPCError:  # "Timeout expired", or the h2 stream reset that can follow it
                await asyncio.sleep(0.5)
        assert await self.env.get_current_time() >= target, "the test server's clock is stuck"

    async def result(self, handle: WorkflowHandle):
        """The workflow's result without letting the server skip time while activities run
        (auto time-skipping would jump the clock past every timer); tests move time explicitly
        with `env.sleep`."""
        with self.env.auto_time_skipping_disabled():
            return await handle.result()

    def outbox(self) -> list[EmailMessage]:
        box = mailbox.Maildir(self.settings.outbox_dir, create=True)
        return [email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
                for key in box.keys()]

    def subjects(self) -> list[str]:
        return [str(m["Subject"]) for m in self.outbox()]


@pytest_asyncio.fixture
async def harness(env, registry, tmp_path, request):
    settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")}),
                       task_queue=f"returns-{uuid.uuid4()}")
    async with build_worker(env.client, settings, registry):
        h = Harness(client=env.client, env=env, settings=settings)
        yield h
        await record_if_asked(h, request.node.name)
        await h.finish()


async def record_if_asked(harness: Harness, test_name: str) -> None:
    """`RECORD_HISTORIES=1 make test` writes each finished path's history for the replay test
    (tests that run their own worker call this themselves)."""
    if os.environ.get("RECORD_HISTORIES") != "1":
        return
    HISTORIES.mkdir(exist_ok=True)
    for n, handle in enumerate(harness.handles):
        history = await handle.fetch_history()
        if history.events[-1].event_type != EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            continue  # still waiting (escalation, extension tests): not a finished path
        name = test_name.removeprefix("test_") + (f"-{n}" if n else "")
        (HISTORIES / f"{name}.json").write_text(history.to_json())
