"""What a customer receives, on a real SMTP server (aiosmtpd on 127.0.0.1): the real ReturnWorkflow
and its real activities on the time-skipping server, the worker's SMTP transport. One email per
event (a refunded customer gets one closing email, not two), each in the customer's language and
words, from the merchant's sender; a returnless refund says nothing about inspection or sending
the item back; a moved date never carries the staff's typed reason (issue 16 point 4)."""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import replace

import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller

from returns.events import ReturnRequested
from returns.status import ReturnState
from runtime.settings import Settings
from samples.events import item, return_requested
from tests.notifications.support import RecordingHandler, free_port
from worker import build_worker

from .conftest import Harness
from .test_paths import approve, receive_and_inspect, status, update, wait_state

S = ReturnState
CUSTOMER = "ada@example.com"
STAFF_WORDING = re.compile(r"§|\b00\d\b|quality issue|please upload|merchant default|not in seed"
                           r"|PLACEHOLDER|calendar days|\b[a-z]+_[a-z_]+\b", re.I)


@pytest.fixture
def smtp():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@pytest_asyncio.fixture
async def mailed(env, registry, tmp_path, smtp):
    """A worker whose emails go to the aiosmtpd server; yields (harness, the server's handler)."""
    settings = replace(Settings.from_env({
        "RETURNS_DATA_DIR": str(tmp_path / "data"), "RETURNS_SMTP_HOST": "127.0.0.1",
        "RETURNS_SMTP_PORT": str(smtp.port), "RETURNS_SMTP_STARTTLS": "false"}),
        task_queue=f"returns-{uuid.uuid4()}")
    async with build_worker(env.client, settings, registry):
        h = Harness(client=env.client, env=env, settings=settings)
        yield h, smtp.handler
        await h.finish()


def in_language(event: ReturnRequested, locale: str) -> ReturnRequested:
    data = event.model_dump(mode="json")
    data["order"]["customer"]["locale"] = locale
    return ReturnRequested.model_validate(data)


def customer_emails(handler) -> list:
    return [r.message for r in handler.received if r.rcpt_tos == [CUSTOMER]]


def names(messages) -> list[str]:
    return [str(m["X-Notification"]) for m in messages]


def text(message) -> str:
    return " ".join(message.get_body(("plain",)).get_content().split())


async def test_a_refunded_customer_gets_one_closing_email_in_french(mailed):
    """004 §3.6 refund after inspection: the inspection's result and the refund are one closing
    email ("closed"), in French, amounts as French writes them, from the store's sender."""
    harness, handler = mailed
    event = in_language(return_requested("fine-jewelry", country="FR"), "fr")
    handle = await harness.start(event)
    await wait_state(handle, S.under_review)
    await approve(handle)
    await receive_and_inspect(handle, ("L1", 1))
    final = await harness.result(handle)
    assert final.state == S.refunded

    sent = customer_emails(handler)
    assert names(sent) == ["request_received", "approved", "received", "closed"], names(sent)
    closing = text(sent[-1])
    assert "Remboursé" in closing and "relevé" in closing
    assert re.search(r"\d,\d\d[\u00a0\u202f ]€", closing), closing
    for message in sent:
        body = text(message)
        assert not STAFF_WORDING.search(body), (message["X-Notification"], STAFF_WORDING.search(body))
        assert " EUR" not in body and message["Content-Language"] == "fr"
        assert message["From"].addresses[0].addr_spec == "returns@fine-jewelry.example"
        assert "Shuibei" in body or message["X-Notification"] == "closed"


async def test_a_returnless_refund_says_nothing_about_inspection_or_sending_back(mailed):
    """000 §1.5: a professional outside France and its neighbours keeps the goods; their emails
    (approval, then one closing email) speak of no label, parcel, inspection or return address."""
    harness, handler = mailed
    event = return_requested("opalook", customer_type="business", country="US", currency="EUR",
                             items=[item("L1", reason="defective")])
    handle = await harness.start(event)
    st = await wait_state(handle, S.under_review)
    assert st.items[0].resolution.value == "returnless_refund"
    await update(handle, "approve", {"actor": "sam"})
    final = await harness.result(handle)
    assert final.state == S.refunded

    sent = customer_emails(handler)
    assert names(sent) == ["request_received", "approved", "closed"], names(sent)
    for message in sent:
        body = text(message).lower()
        for word in ("inspect", "label", "parcel", "pack ", "tracking", "return address",
                     "rue alix", "send the items", "ship"):
            assert word not in body, (message["X-Notification"], word)
        assert message["From"].addresses[0].addr_spec == "retours@opalook.example"
    assert "keep" in text(sent[1]).lower()


async def test_a_moved_date_tells_the_customer_which_date_never_the_staff_reason(mailed):
    """003 §III.4 "notified separately": the customer reads which date moved, in Chinese; the
    reason staff typed stays in the audit trail."""
    harness, handler = mailed
    event = in_language(return_requested("pearl-platform"), "zh-CN")
    handle = await harness.start(event)
    await wait_state(handle, S.under_review)
    await update(handle, "extend_deadline", {"actor": "sam", "deadline": "review", "days": 2,
                                             "reason": "waiting for Mr Li from QA, back Monday"})
    for _ in range(100):
        moved = [m for m in customer_emails(handler) if m["X-Notification"] == "deadline_extended"]
        if moved:
            break
        await asyncio.sleep(0.05)
    body = text(moved[0])
    assert "变更的日期：我们对您申请的审核。" in body
    assert "Mr Li" not in body and "QA" not in body and "Monday" not in body
    audit = [a.detail for a in (await status(handle)).audit]
    assert any("Mr Li" in d for d in audit)


async def test_a_refund_that_does_not_go_through_at_once_tells_the_inspection_result(
        env, registry, tmp_path, smtp, monkeypatch):
    """The payment provider fails (the real fault wrapper, `refund:fail=1`): the customer is not
    left waiting for the closing email; they hear at once that their items passed, with the date
    the refund is due, and nothing says it was refunded."""
    monkeypatch.setenv("RETURNS_FAULTS", "seed=1;refund:fail=1")
    settings = replace(Settings.from_env({
        "RETURNS_DATA_DIR": str(tmp_path / "data"), "RETURNS_SMTP_HOST": "127.0.0.1",
        "RETURNS_SMTP_PORT": str(smtp.port), "RETURNS_SMTP_STARTTLS": "false"}),
        task_queue=f"returns-{uuid.uuid4()}")
    async with build_worker(env.client, settings, registry):
        harness = Harness(client=env.client, env=env, settings=settings)
        try:
            handle = await harness.start(in_language(return_requested("fine-jewelry"), "fr"))
            await wait_state(handle, S.under_review)
            await approve(handle)
            await receive_and_inspect(handle, ("L1", 1))
            for _ in range(400):
                sent = names(customer_emails(smtp.handler))
                if "inspection_passed" in sent:
                    break
                await asyncio.sleep(0.05)
            assert sent[-1] == "inspection_passed", sent
            assert "closed" not in sent and "refund_issued" not in sent
            passed = text(customer_emails(smtp.handler)[-1])
            assert "remboursement" in passed.lower() and "d’ici le" in passed
        finally:
            await harness.finish()
