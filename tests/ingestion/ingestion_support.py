"""Constants and builders the ingestion tests import (a unique module name: several test
directories have a `conftest.py`, so `from conftest import ...` would be ambiguous)."""

from __future__ import annotations

import asyncio
import copy
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # ingestion/ and demo/ are not installed packages
    sys.path.insert(0, str(ROOT))

# One secret per merchant (ingestion.merchant_secrets): the secret that signs decides the merchant.
SECRET = "whsec_ingestion_tests_5f0c"  # opalook's, the merchant of requested_event()
SECRETS = {
    "opalook": (SECRET,),
    "fine-jewelry": ("whsec_fine_jewelry_tests_91aa",),
    "pearl-platform": ("whsec_pearl_platform_new_77c1", "whsec_pearl_platform_old_02de"),
}
TASK_QUEUE = "ingestion-tests"
POLICIES_DIR = ROOT / "policies"
DEMO_MERCHANTS = frozenset({"opalook", "pearl-platform", "fine-jewelry"})

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


def requested_event(return_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """A valid return.requested for a fresh return id (the server is shared by the session)."""
    event = copy.deepcopy(_REQUESTED)
    event["return_id"] = return_id or new_id("R")
    event["event_id"] = new_id("evt")
    event.update(changes)
    return event


def follow_up_event(kind: str, return_id: str, merchant_id: str = "opalook") -> dict[str, Any]:
    """A valid return.withdrawn or parcel.scanned for `return_id`."""
    common = {"event_id": new_id("evt"), "occurred_at": "2026-03-11T08:00:00Z",
              "return_id": return_id, "merchant_id": merchant_id}
    if kind == "return.withdrawn":
        return {"type": kind, **common, "reason": "found a better fit"}
    return {"type": kind, **common, "carrier": "Colissimo", "tracking_number": "6A12345678901",
            "scan": "picked_up"}


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
