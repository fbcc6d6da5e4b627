"""A dev server and a worker for the bad-input tests (rejections need no time skipping, and a
return whose workflow tasks fail must not stall the lifecycle tests' shared time-skipping clock)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from returns.policy.registry import PolicyRegistry
from runtime.settings import ROOT, Settings
from samples.keys import test_data_converter, test_worker_data_converter
from worker import build_worker
from workflows.search_attributes import cli_flags


@pytest_asyncio.fixture(scope="module")
async def dev_worker(temporal_cli_path: Path, tmp_path_factory):
    """(client, task queue) of a dev server with the real worker (encrypted payloads)."""
    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, dev_server_existing_path=str(temporal_cli_path),
            dev_server_extra_args=cli_flags(), ui=False) as env:
        data = tmp_path_factory.mktemp("bad-input")
        settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(data)}),
                           task_queue=f"bad-input-{uuid.uuid4().hex[:8]}")
        # The worker's own client, as worker.py has it: its codec hands an undecryptable payload
        # on as an error for that one message (runtime/codec.py, tolerant).
        worker_client = await Client.connect(env.client.service_client.config.target_host,
                                             namespace=env.client.namespace,
                                             data_converter=test_worker_data_converter)
        async with build_worker(worker_client, settings, PolicyRegistry.load(ROOT / "policies")):
            yield env.client, settings.task_queue
