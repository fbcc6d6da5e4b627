"""Fixtures for the ingestion tests: a real Temporal server, the receiver, valid events.

The server is the Temporal dev server (`temporal server start-dev`, our search attributes
registered with `--search-attribute`), started once per session, not the time-skipping test
server. The time-skipping server (temporal-test-server 1.40) refuses custom search attributes until
they are added through the OperatorService; more to the point it leaves
`StartWorkflowExecutionResponse.started` unset (so "started" and "duplicate" cannot be told apart),
a second start with USE_EXISTING corrupts the execution (describe and terminate then fail), and it
has no ListWorkflowExecutions. Ingestion starts and signals workflows but never runs them, so
nothing here needs time skipping, and no worker runs: workflows stay where they were started.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from ingestion_support import (
    DEMO_MERCHANTS,
    SECRET,
    SECRETS,
    TASK_QUEUE,
    follow_up_event,
    requested_event,
    runs_of,
    workflow_exists,
)

from ingestion.intake import Intake  # noqa: E402  (after ingestion_support fixed sys.path)
from ingestion.signing import SIGNATURE_HEADER, sign  # noqa: E402
from ingestion.webhook import WebhookConfig, create_app  # noqa: E402
from workflows.search_attributes import cli_flags  # noqa: E402


@pytest.fixture(scope="session")
async def temporal_env(temporal_cli_path: Path) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(temporal_cli_path),
        dev_server_extra_args=cli_flags(),
        ui=False,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
def known_merchant() -> Callable[[str], bool]:
    """The demo merchants. In-process tests don't load policies/ (test_ingestion_merchants.py
    and the starter.py processes do), so a policy being edited does not break the receiver's tests.
    """
    return DEMO_MERCHANTS.__contains__


@pytest.fixture
def intake(client: Client, known_merchant) -> Intake:
    return Intake(client, task_queue=TASK_QUEUE, known_merchant=known_merchant)


@pytest.fixture
async def http(intake: Intake) -> AsyncIterator[TestClient]:
    """The receiver on a real local port, talking to the dev server."""
    app = create_app(intake, WebhookConfig(secrets=SECRETS))
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


PostEvent = Callable[..., Awaitable[tuple[int, dict[str, Any]]]]


@pytest.fixture
def post_event(http: TestClient) -> PostEvent:
    """POST an event (dict, or raw bytes) signed with a merchant's secret (opalook's unless
    `secret=`); returns (status, json)."""

    async def post(event: dict[str, Any] | bytes, *, secret: str = SECRET,
                   timestamp: int | None = None, signed: bool = True) -> tuple[int, dict[str, Any]]:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        headers = {"Content-Type": "application/json"}
        if signed:
            headers[SIGNATURE_HEADER] = sign(body, secret, timestamp or int(time.time()))
        response = await http.post("/events", data=body, headers=headers)
        return response.status, await response.json()

    return post


@pytest.fixture
def requested() -> Callable[..., dict[str, Any]]:
    return requested_event


@pytest.fixture
def withdrawn() -> Callable[..., dict[str, Any]]:
    return lambda return_id, **kw: follow_up_event("return.withdrawn", return_id, **kw)


@pytest.fixture
def scanned() -> Callable[..., dict[str, Any]]:
    return lambda return_id, **kw: follow_up_event("parcel.scanned", return_id, **kw)


@pytest.fixture
def exists(client: Client) -> Callable[[str], Awaitable[bool]]:
    return lambda workflow_id: workflow_exists(client, workflow_id)


@pytest.fixture
def runs(client: Client) -> Callable[..., Awaitable[list[str]]]:
    return lambda workflow_id, expect_at_least=1: runs_of(client, workflow_id, expect_at_least)
