"""The activity inside a real worker (time-skipping test server, the project's data converter):
the workflow gets a NotificationSent back, a refused recipient fails once and for all, a busy
mailbox is retried."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.mail import SmtpTransport, message_id_for
from activities.notifications import NotificationActivities
from runtime.converter import data_converter
from runtime.settings import SmtpSettings

from .notify_workflow import SendOneNotification
from .support import customer_notification


@pytest_asyncio.fixture(scope="module")
async def env(test_server_path):
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter, test_server_existing_path=str(test_server_path))
    yield env
    await env.shutdown()


async def run_one(env, smtp_server, tmp_path: Path, n) -> str:
    settings = SmtpSettings(host=smtp_server.host, port=smtp_server.port, starttls=False)
    acts = NotificationActivities(SmtpTransport(settings, tmp_path / "sent.sqlite3", timeout=5))
    queue = f"notify-{uuid.uuid4()}"
    async with Worker(env.client, task_queue=queue, workflows=[SendOneNotification],
                      activities=[acts.send_notification]):
        return await env.client.execute_workflow(SendOneNotification.run, n, id=f"wf-{uuid.uuid4()}",
                                                 task_queue=queue)


async def test_the_workflow_gets_the_message_id_back(env, smtp_server, tmp_path):
    n = customer_notification("approved")
    assert await run_one(env, smtp_server, tmp_path, n) == (
        f"sent {message_id_for(n.idempotency_key)} via smtp duplicate=False")
    assert await run_one(env, smtp_server, tmp_path, n) == (
        f"sent {message_id_for(n.idempotency_key)} via smtp duplicate=True")
    assert len(smtp_server.handler.received) == 1


async def test_a_refused_recipient_is_not_retried(env, smtp_server, tmp_path):
    n = customer_notification("approved", to="nobody@refused.example")
    outcome = await run_one(env, smtp_server, tmp_path, n)
    assert outcome.startswith("failed type=PermanentEmailFailure non_retryable=True: ")
    assert "550" in outcome and "nobody" not in outcome
    assert smtp_server.handler.rcpt_attempts == 1


async def test_a_busy_mailbox_is_retried_by_temporal(env, smtp_server, tmp_path):
    n = customer_notification("approved", to="camille@busy.example")
    outcome = await run_one(env, smtp_server, tmp_path, n)
    assert outcome.startswith("failed type=TransientEmailFailure non_retryable=False: ")
    assert smtp_server.handler.rcpt_attempts == 3  # the retry policy's maximum_attempts
