"""Events out over days, on the time-skipping server: a return that expires tells the order
system (approved, label created, expired), and the deliveries wait out the days with it. The
receiver is the real one on loopback (tests/deliveries/conftest.py). Its own time-skipping
server: the lifecycle tests share theirs, and its clock with it."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta

import pytest_asyncio
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from ingestion.merchant_secrets import env_name
from returns.outbound import deliveries_workflow_id
from returns.policy.registry import PolicyRegistry
from runtime.settings import Settings
from samples.keys import test_data_converter
from samples.events import return_requested
from tests.deliveries.conftest import ROOT, SECRETS, Receiver, adapters_file, free_port
from tests.lifecycle.conftest import _TYPES, Harness, record_if_asked
from tests.lifecycle.test_paths import S, approve, wait_state
from worker import build_worker
from workflows import search_attributes as sa


@pytest_asyncio.fixture(scope="module")
async def env(test_server_path):
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=test_data_converter, test_server_existing_path=str(test_server_path))
    await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
        namespace=env.client.namespace,
        search_attributes={k.name: _TYPES[k.indexed_value_type.name] for k in sa.ALL}))
    yield env
    await env.shutdown()


@pytest_asyncio.fixture
async def told(env, tmp_path, monkeypatch, request):
    registry = PolicyRegistry.load(ROOT / "policies")
    for merchant, secret in SECRETS.items():
        monkeypatch.setenv(env_name(merchant), secret)
    receiver = Receiver(free_port())
    await receiver.up()
    settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")}),
                       task_queue=f"returns-{uuid.uuid4()}",
                       adapters_file=adapters_file(tmp_path, receiver.url))
    async with build_worker(env.client, settings, registry):
        h = Harness(client=env.client, env=env, settings=settings)
        yield h, receiver
        await record_if_asked(h, request.node.name)
        await h.finish()
    await receiver.down()


async def test_an_expired_return_tells_the_order_system(told):
    harness, receiver = told
    event = return_requested("fine-jewelry")
    handle = await harness.start(event)
    await wait_state(handle, S.under_review)
    st = await approve(handle)
    ship_by = next(d for d in st.deadlines if d.kind.value == "ship_by").due_at
    await harness.sleep(handle, ship_by - await harness.env.get_current_time() + timedelta(hours=1))
    final = await harness.result(handle)
    assert final.state == S.expired
    events = await receiver.wait_for(event.return_id, "return.expired")
    assert [e["type"] for e in events] == ["return.approved", "return.label_created",
                                           "return.expired"]
    assert [e["sequence"] for e in events] == [1, 2, 3]
    deliveries = harness.client.get_workflow_handle(
        deliveries_workflow_id(event.merchant_id, event.return_id))
    with harness.env.auto_time_skipping_disabled():
        await deliveries.result()
