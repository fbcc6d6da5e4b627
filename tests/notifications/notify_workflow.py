"""A one-step workflow that sends one notification, the way ReturnWorkflow does, and reports the
outcome as a string (used by test_in_worker.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import SEND_NOTIFICATION, Notification, NotificationSent


@workflow.defn
class SendOneNotification:
    @workflow.run
    async def run(self, n: Notification) -> str:
        try:
            sent = await workflow.execute_activity(
                SEND_NOTIFICATION, n, result_type=NotificationSent,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50),
                                         backoff_coefficient=1.0, maximum_attempts=3),
            )
        except ActivityError as err:
            cause = err.cause
            assert isinstance(cause, ApplicationError)
            return f"failed type={cause.type} non_retryable={cause.non_retryable}: {cause.message}"
        return f"sent {sent.message_id} via {sent.transport} duplicate={sent.duplicate}"
