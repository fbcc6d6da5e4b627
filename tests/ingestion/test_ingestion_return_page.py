"""The webhook's `started` (and `duplicate`) answer carries the customer's return page link, so
the order system can show it in the customer's account; follow-up events and other merchants'
returns get none. Real receiver and dev server (conftest.py)."""

from __future__ import annotations

import json
import time

import structlog.testing
from aiohttp.test_utils import TestClient, TestServer

from customer_page.links import CustomerLinks
from ingestion.intake import Intake
from ingestion.signing import SIGNATURE_HEADER, sign
from ingestion.webhook import WebhookConfig, create_app

from ingestion_support import SECRET, SECRETS, TASK_QUEUE

LINKS = CustomerLinks(("p" * 40,), "https://returns.example")


async def test_started_and_duplicate_answers_carry_the_return_page(client, known_merchant,
                                                                   requested, withdrawn):
    intake = Intake(client, task_queue=TASK_QUEUE, known_merchant=known_merchant, links=LINKS)
    async with TestClient(TestServer(create_app(intake, WebhookConfig(secrets=SECRETS)),
                                     host="127.0.0.1")) as http:
        async def post(event):
            body = json.dumps(event).encode()
            response = await http.post("/events", data=body, headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))})
            return response.status, await response.json()

        event = requested()
        with structlog.testing.capture_logs() as logs:
            status, body = await post(event)
        assert (status, body["outcome"]) == (200, "started")
        url = body["return_page_url"]
        prefix = f"https://returns.example/r/{event['merchant_id']}/{event['return_id']}/"
        assert url.startswith(prefix)
        assert url.endswith("?lang=" + event["order"]["customer"]["locale"].split("-")[0])
        token = url[len(prefix):].split("?")[0]
        assert LINKS.check(event["merchant_id"], event["return_id"], token) is None
        assert event["order"]["customer"]["email"] not in url
        assert logs and token not in repr(logs)  # the link opens the return: never logged

        status, body = await post(event)
        assert (status, body["outcome"]) == (200, "duplicate") and body["return_page_url"]

        status, body = await post(withdrawn(event["return_id"]))
        assert body["outcome"] == "signalled" and "return_page_url" not in body
