"""DeliveryWorkflow: one per return, id `deliveries-<merchant_id>-<return_id>`, sending the
return's events (returns/outbound.py) to the merchant's order system, in order, once per event id.

The return workflow never waits for the endpoint: each of its steps hands one event to the local
activity `enqueue_return_event`, which signal-with-starts this workflow (signal `return_event`).
Here the queue is delivered head first, one event at a time, by the activity
`deliver_return_event` (a signed POST, activities/deliveries.py):

- a 2xx: delivered, the next one goes;
- failing: the activity is retried with backoff (a few quick attempts, then pauses that double up
  to an hour) for as long as the merchant's setting says (`retry_for`, days). Failing for longer
  than `attention_after` raises NeedsAttention on the return, with the last error (signal
  `delivery` back to the return); it clears once an event gets through. When `retry_for` runs
  out, deliveries of this return stop and the return says so;
- a 410: the order system asked to stop; nothing more of this return is sent.

The event id is deterministic (the return's workflow id and step), so a repeated signal is
dropped here and a repeated POST (a worker lost mid-delivery) is dropped by the receiver.
It ends once the return's last event (closed, rejected, withdrawn, cancelled, expired) is queued
and the queue is empty; it continues as new when its history grows, carrying its queue.
Query `status`: the queue, what was delivered, and why it stopped.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import contracts as c
    from returns.outbound import ENDING, ReturnEvent
    from workflows import names
    from workflows import search_attributes as sa

# One round: a few quick attempts (a receiver restarting), then the workflow pauses.
ROUND = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=10), maximum_attempts=4,
                    non_retryable_error_types=[c.ENDPOINT_GONE, c.NO_ENDPOINT])
FIRST_PAUSE = timedelta(seconds=10)
LONGEST_PAUSE = timedelta(hours=1)


def _why(err: ActivityError) -> str:
    cause = err.cause
    return cause.message if isinstance(cause, ApplicationError) else str(cause or err)


@workflow.defn(name=names.DELIVERIES_WORKFLOW_TYPE)
class DeliveryWorkflow:
    @workflow.init
    def __init__(self, start: c.DeliveryStart) -> None:
        self.start = start
        self.queue: list[ReturnEvent] = list(start.queue)
        self.seen: set[str] = set(start.seen)
        self.ended = start.ended
        self.stopped = start.stopped
        self.failing = start.failing
        self.delivered = start.delivered
        self.raised = False  # NeedsAttention upserted on this workflow (the return had ended)

    @workflow.signal(name=names.SIGNAL_RETURN_EVENT,
                     description="One event of the return to send (from enqueue_return_event); "
                                 "a repeated event id is dropped.")
    def return_event(self, event: ReturnEvent) -> None:
        if event.event_id in self.seen:
            return
        self.seen.add(event.event_id)
        self.queue.append(event)
        self.queue.sort(key=lambda e: e.sequence)  # the return's order, whatever the arrival
        if event.type in ENDING:
            self.ended = True

    @workflow.query(name="status", description="The queue, how many were delivered, why stopped")
    def status(self) -> c.DeliveryStart:
        return self._carried()

    @workflow.run
    async def run(self, start: c.DeliveryStart) -> c.DeliveryStart:
        while True:
            await workflow.wait_condition(lambda: bool(self.queue) or self.ended)
            if not self.queue:
                return self._carried()  # the return has ended and all of it is delivered
            if self.stopped is None:
                await self._deliver(self.queue[0])
            self.queue.pop(0)
            self._show()
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._carried())

    async def _deliver(self, event: ReturnEvent) -> None:
        plan = self.start.plan
        started = workflow.now()
        pause = FIRST_PAUSE
        while True:
            try:
                await workflow.execute_activity(
                    c.DELIVER_EVENT, c.DeliverEvent(event=event), result_type=c.Delivered,
                    start_to_close_timeout=plan.attempt, retry_policy=ROUND,
                    summary=f"{event.sequence}: {event.type.value}")
            except ActivityError as err:
                why = _why(err)
                cause = err.cause
                if isinstance(cause, ApplicationError) and cause.type in (c.ENDPOINT_GONE,
                                                                          c.NO_ENDPOINT):
                    self.stopped = why
                    await self._tell_return("stopped", why)
                    return
                failing_for = workflow.now() - started
                if failing_for >= plan.attention_after and self.failing is None:
                    self.failing = why
                    await self._tell_return("failing", why)
                left = plan.retry_for - failing_for
                if left <= timedelta(0):
                    self.stopped = f"gave up after {plan.retry_for} of failing: {why}"
                    await self._tell_return("gave_up", self.stopped)
                    return
                self._show(why)
                wait = min(pause, left)
                if self.failing is None:  # wake in time to raise it
                    wait = min(wait, max(plan.attention_after - failing_for, timedelta(seconds=1)))
                await workflow.sleep(wait, summary="next delivery round")
                pause = min(pause * 2, LONGEST_PAUSE)
                continue
            self.delivered += 1
            if self.failing is not None:
                self.failing = None
                await self._tell_return("recovered")
            return

    async def _tell_return(self, kind: c.DeliveryNewsKind, error: str | None = None) -> None:
        """Staff see it on the return (status card, NeedsAttention). A return that has ended can
        no longer hear it: then this workflow raises NeedsAttention itself (with MerchantId and
        ReturnId, so the "needs a person now" list shows it) and its details say why."""
        try:
            await workflow.get_external_workflow_handle(self.start.return_workflow_id).signal(
                names.SIGNAL_DELIVERY, c.DeliveryNews(kind=kind, error=error))
        except Exception as err:  # noqa: BLE001 - the return has ended: nothing to tell
            workflow.logger.info("return not told about its deliveries", extra={
                "kind": kind, "why": str(err)})
            self._needs_attention(kind in ("failing", "gave_up"))
        else:
            self._needs_attention(False)
        self._show(error)

    def _needs_attention(self, needed: bool) -> None:
        if needed == self.raised:
            return
        self.raised = needed
        workflow.upsert_search_attributes([
            sa.NEEDS_ATTENTION.value_set(needed),
            sa.MERCHANT_ID.value_set(self.start.merchant_id),
            sa.RETURN_ID.value_set(self.start.return_id)])

    def _show(self, error: str | None = None) -> None:
        line = (f"{self.delivered} delivered, {len(self.queue)} queued"
                + (f"; stopped: {self.stopped}" if self.stopped else "")
                + (f"; failing: {error}" if error and not self.stopped else ""))
        workflow.set_current_details(line)

    def _carried(self) -> c.DeliveryStart:
        return self.start.model_copy(update={
            "queue": list(self.queue), "seen": sorted(self.seen), "ended": self.ended,
            "stopped": self.stopped, "failing": self.failing, "delivered": self.delivered})
