"""The side effects a return asks for, each an activity with its idempotency key and retry
policy: the policy's deadlines (`_compute`), emails (`_notify`), the order's line guard
(`_order_lines`, docs/order-lines.md), events to the order system (`_tell`, docs/events.md) and
the short steps (`_step`). A failure here never stops the return: it is recorded and raised to
staff, or handed back as words for the story to act on. `ReturnWorkflow` (the story) and
`ReturnMessages` (the handlers) call them; none of them decides anything.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as TemporalTimeout

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from activities import contracts
    from returns import outbound
    from returns.order_lines import LinesAnswer, UnitsOfLine
    from returns.outbound import OutboundType as Out
    from returns.policy.decision import DayUnit, Duration, ItemDecision
    from workflows.return_messages import ReturnMessages

# Policy, deadlines and label: a few quick retries, then the step fails to staff.
SHORT_STEP = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                         maximum_interval=timedelta(minutes=1), maximum_attempts=8)
EMAIL = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                    maximum_interval=timedelta(minutes=2), maximum_attempts=6,
                    non_retryable_error_types=["PermanentEmailFailure"])
# What must happen in the end (giving units back, confirming money paid): retried until it does.
UNTIL_DONE = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                         maximum_interval=timedelta(minutes=10),
                         non_retryable_error_types=[contracts.ORDER_LINE_REFUSED])
# One attempt's limit: an attempt lost with a crashed worker is retried elsewhere in seconds.
ATTEMPT = timedelta(seconds=20)
# A local step that failed is retried inside its workflow task only after a short backoff; a
# longer one waits on a durable timer instead, so a failing step never holds a workflow task open
# (nor the test server's clock) for minutes.
LOCAL_RETRY_IN_TASK = timedelta(seconds=2)


def _local_failure(name: str, err: ApplicationError | TemporalTimeout) -> ActivityError:
    """The ActivityError a remote activity's final failure would be, for a local one's."""
    failure = ActivityError("local activity failed", scheduled_event_id=0, started_event_id=0,
                            identity="", activity_type=name, activity_id="",
                            retry_state=None)
    failure.__cause__ = err
    return failure


def why(err: ActivityError) -> str:
    """What went wrong in an activity, in its own words."""
    cause = err.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or err)


class ReturnEffects(ReturnMessages):
    """The activities of one return (its state is set up in ReturnWorkflow.__init__)."""

    async def _compute(self, start: datetime, duration: Duration,
                       backwards: bool = False) -> datetime:
        if duration.unit == DayUnit.hours:  # plain arithmetic, no calendar involved
            delta = timedelta(hours=duration.amount)
            return start - delta if backwards else start + delta
        return await self._step(
            contracts.COMPUTE_DEADLINE,
            contracts.DeadlineRequest(start=start, duration=duration,
                                      calendar=self.decision.sla.calendar, backwards=backwards),
            datetime, f"{'count back' if backwards else 'count'} {duration.describe()}",
            local=True)

    async def _step(self, name: str, arg, result_type, summary: str, *, local: bool = False):
        """An activity that should take seconds: a few quick retries, then its error (an
        ActivityError, whose words `why` gives).

        `local`: for a computation in this worker's memory (the policy's decision and overrides,
        a deadline on the holiday calendar): a local activity, with the same retries and time
        limit, run inside the workflow task that asks for it. A return's intake takes two workflow
        tasks instead of five, and each deadline none of its own: less for the server to store and
        dispatch, so staff's actions wait behind less (docs/performance.md, "Pages people wait
        on"). A local activity's final failure reaches the workflow unwrapped (temporalio 1.35):
        it is raised here as the ActivityError a remote one gives, so callers handle one kind."""
        if not local:
            return await workflow.execute_activity(
                name, arg, result_type=result_type, start_to_close_timeout=ATTEMPT,
                retry_policy=SHORT_STEP, summary=summary)
        try:
            return await workflow.execute_local_activity(
                name, arg, result_type=result_type, start_to_close_timeout=ATTEMPT,
                retry_policy=SHORT_STEP, local_retry_threshold=LOCAL_RETRY_IN_TASK,
                summary=summary)
        except ActivityError:
            raise
        except (ApplicationError, TemporalTimeout) as err:
            raise _local_failure(name, err) from err

    # ---------------------------------------------------------------- the order's lines
    async def _order_lines(self, name: str, call, step: str | None = None,
                           retry: RetryPolicy = SHORT_STEP, local: bool = False,
                           **fields) -> str | None:
        """Ask the order's guard (docs/order-lines.md); None when the order's lines allow it,
        else why not (the guard's words, or why it could not be asked). `local`: as a local
        activity, for a person waiting on the answer (the approval): it runs inside the same
        workflow task, with the same idempotency key and retries, instead of costing two more
        workflow tasks and an activity dispatch (docs/performance.md, "Pages people wait on")."""
        if step is not None:
            call = call.for_return(self.request, workflow.info().workflow_id,
                                   f"order-lines:{step}", **fields)
        summary = f"order lines: {name.replace('_', ' ')}"
        try:
            if local:
                try:
                    await workflow.execute_local_activity(
                        name, call, result_type=LinesAnswer, start_to_close_timeout=ATTEMPT,
                        retry_policy=retry, summary=summary)
                except (ApplicationError, TemporalTimeout) as err:
                    # A local activity's final failure (the guard's refusal, retries spent, its
                    # time up) reaches the workflow unwrapped here (temporalio 1.35), not as an
                    # ActivityError: the same words as `why` gives, and the return goes on.
                    return err.message
            else:
                await workflow.execute_activity(
                    name, call, result_type=LinesAnswer, start_to_close_timeout=ATTEMPT,
                    retry_policy=retry, summary=summary)
        except ActivityError as err:
            return why(err)
        return None

    async def _mark_exchanged(self, items: list[ItemDecision]) -> None:
        await self._order_lines(
            contracts.MARK_LINES_EXCHANGED, contracts.MarkLinesExchanged, "exchange",
            retry=UNTIL_DONE, lines=[UnitsOfLine(line_id=i.line_id,
                                                 units=self.items[i.line_id].quantity_accepted)
                                     for i in items])

    # ---------------------------------------------------------------- events out
    async def _tell(self, kind: Out, **shipment: str) -> None:
        """One event to the merchant's order system, queued on this return's deliveries (a quick
        local activity); delivering it never holds the return, and nothing here fails it."""
        if not self.telling:
            return
        self.events_told += 1
        try:
            event = outbound.event_from_status(
                self._status(with_actions=False), kind, workflow_id=workflow.info().workflow_id,
                sequence=self.events_told, occurred_at=workflow.now(), **shipment)
            queued = await workflow.execute_local_activity(
                contracts.ENQUEUE_EVENT,
                contracts.EnqueueEvent(event=event, return_workflow_id=workflow.info().workflow_id),
                result_type=contracts.Enqueued, start_to_close_timeout=ATTEMPT,
                retry_policy=SHORT_STEP, summary=f"event out: {kind.value}")
        except (ActivityError, ValidationError) as err:
            reason = why(err) if isinstance(err, ActivityError) else str(err)
            self._record("system", "event to the order system not queued",
                         f"{kind.value}: {reason}")
            return
        self.telling = queued.delivering

    # ---------------------------------------------------------------- emails
    async def _notify(self, template: str, **fields) -> None:
        await self._send(template, "customer", self.request.order.customer.email, **fields)

    async def _notify_staff(self, template: str, **fields) -> None:
        await self._send(template, "staff", self.decision.merchant.staff_email, **fields)

    async def _send(self, template: str, audience: str, to: str, **fields) -> None:
        """One email; a failure never stops the return: staff see it and reach the person."""
        if self.decision is None:
            return
        self.emails_sent += 1
        note = contracts.Notification.for_return(
            self.request, self.decision, state=self.state.value, template=template,
            audience=audience, to=to, idempotency_key=contracts.step_key(
                workflow.info().workflow_id, f"notify:{self.emails_sent}:{template}"), **fields)
        try:
            await workflow.execute_activity(
                contracts.SEND_NOTIFICATION, note, result_type=contracts.NotificationSent,
                start_to_close_timeout=ATTEMPT, retry_policy=EMAIL,
                summary=f"email {audience}: {template}")
        except ActivityError as err:
            self._record("system", f"email to {audience} failed", f"{template}: {why(err)}")
            problem = f"could not email the {audience} ({template}): {why(err)}"
            self.email_problems[audience] = problem
            self._publish()
            if audience == "customer":
                await self._notify_staff("escalation", message=f"{problem}. Reach the customer "
                                         f"another way; the return goes on.")
            return
        self._record("system", f"emailed {audience}", template)
        if self.email_problems.pop(audience, None):  # that address works again
            self._publish()
