"""The worker process's sandbox (runtime/workflow_runner.py): `fast` imports the workflow modules
once per process instead of once per run. A return, its order's guard (OrderWorkflow) and a
refusal of the guard on a worker built with that runner. The other tests keep the SDK's strict
default, which refuses the clock or randomness in workflow code. (Not with `max_cached_workflows=0`:
a local activity, such as the approval's reservation, needs its run kept while it runs.)"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest
import pytest_asyncio
from temporalio.client import WorkflowUpdateFailedError

from returns.status import ReturnState
from runtime import workflow_runner
from runtime.settings import Settings
from samples.events import return_requested
from tests.lifecycle.conftest import Harness
from tests.lifecycle.test_paths import approve, update, wait_state
from worker import build_worker

S = ReturnState


@pytest_asyncio.fixture
async def fast_harness(env, registry, tmp_path):
    settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")}),
                       task_queue=f"returns-{uuid.uuid4()}")
    async with build_worker(env.client, settings, registry,
                            workflow_runner=workflow_runner.workflow_runner("fast")):
        h = Harness(client=env.client, env=env, settings=settings)
        yield h
        await h.finish()


async def test_returns_run_on_the_fast_runner_without_a_cache(fast_harness):
    first = return_requested("fine-jewelry")
    second = first.model_copy(update={"return_id": first.return_id + "B",
                                      "event_id": first.event_id + "b"})
    a = await fast_harness.start(first)
    b = await fast_harness.start(second)
    await wait_state(a, S.under_review)
    await wait_state(b, S.under_review)
    await approve(a)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(b, "approve", {"actor": "lea"})
    assert "the order's lines do not allow it" in refused.value.cause.message
    assert (await wait_state(b, S.under_review)).state == S.under_review


def test_the_runner_is_named_by_its_variable():
    assert workflow_runner.from_env({}) is not None
    assert workflow_runner.from_env({"RETURNS_WORKFLOW_SANDBOX": "strict"}) is not None
    with pytest.raises(ValueError, match="^RETURNS_WORKFLOW_SANDBOX: 'loose'"):
        workflow_runner.from_env({"RETURNS_WORKFLOW_SANDBOX": "loose"})


def test_the_cache_size_is_named_by_its_variable():
    assert workflow_runner.cache_size({}) == 1_000
    assert workflow_runner.cache_size({"RETURNS_WORKFLOW_CACHE": " 12000 "}) == 12_000
    for bad in ("0", "-5", "many", "1.5"):
        with pytest.raises(ValueError, match="^RETURNS_WORKFLOW_CACHE: "):
            workflow_runner.cache_size({"RETURNS_WORKFLOW_CACHE": bad})
