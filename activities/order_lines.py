"""The order-line activities: a return asks its order's guard (workflows/order_workflow.py) before it
approves, receives, refunds or exchanges, and tells it when a refund went through and when the
return ended.

Each reaches the order workflow `order-<merchant_id>-<order_id>` with update-with-start (the first
return of an order starts it; the others reach the running one), with the return's idempotency key
as the update id. A request the line does not allow fails the activity for good
(`ApplicationError`, type `ORDER_LINE_REFUSED`, the guard's words: line and numbers); anything
else (the server unreachable, a timeout) is retried by Temporal, and the key makes that safe.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError

from activities import contracts as c
from returns import order_lines as ol
from runtime.converter import INVALID_INPUT
from runtime.logging import get_logger
from workflows.order_workflow import OrderWorkflow

log = get_logger(__name__)

# How long an order's guard remembers what its returns took, counted from the order's date: longer
# than any return window or warranty a policy grants (docs/order-lines.md).
KEEP_FOR = timedelta(days=2 * 365)


class OrderLineActivities:
    """Activities bound to the Temporal client and the task queue the order workflows run on."""

    def __init__(self, client: Client, task_queue: str, *, keep_for: timedelta = KEEP_FOR) -> None:
        self._client = client
        self._task_queue = task_queue
        self._keep_for = keep_for

    @activity.defn(name=c.RESERVE_ORDER_LINES)
    async def reserve_order_lines(self, call: c.ReserveOrderLines) -> ol.LinesAnswer:
        lines = []
        for ask in call.lines:
            spec = call.order.line(ask.line_id)  # an unknown line is refused by the guard
            lines.append(ol.ReserveLine(line_id=ask.line_id, units=ask.units,
                                        ordered=spec.units if spec else 1,
                                        paid=spec.paid if spec else 0))
        return await self._ask(call, OrderWorkflow.reserve_units, ol.Reserve, lines=lines)

    @activity.defn(name=c.RECEIVE_ORDER_LINES)
    async def receive_order_lines(self, call: c.ReceiveOrderLines) -> ol.LinesAnswer:
        return await self._ask(call, OrderWorkflow.receive_units, ol.Receive, lines=call.lines)

    @activity.defn(name=c.CLAIM_LINE_REFUND)
    async def claim_line_refund(self, call: c.ClaimLineRefund) -> ol.LinesAnswer:
        return await self._ask(call, OrderWorkflow.claim_refund, ol.ClaimRefund,
                               currency=call.order.currency, lines=call.lines)

    @activity.defn(name=c.CONFIRM_LINE_REFUND)
    async def confirm_line_refund(self, call: c.ConfirmLineRefund) -> ol.LinesAnswer:
        return await self._ask(call, OrderWorkflow.confirm_refund, ol.ConfirmRefund,
                               claim_key=call.claim_key, amount_paid=call.amount_paid)

    @activity.defn(name=c.RELEASE_LINE_REFUND)
    async def release_line_refund(self, call: c.ReleaseLineRefund) -> ol.LinesAnswer:
        return await self._ask(call, OrderWorkflow.release_refund, ol.ReleaseRefund,
                               claim_key=call.claim_key)

    @activity.defn(name=c.MARK_LINES_EXCHANGED)
    async def mark_lines_exchanged(self, call: c.MarkLinesExchanged) -> ol.LinesAnswer:
        return await self._ask(call, OrderWorkflow.mark_exchanged, ol.MarkExchanged,
                               lines=call.lines)

    @activity.defn(name=c.RELEASE_ORDER_LINES)
    async def release_order_lines(self, call: c.ReleaseOrderLines) -> ol.LinesAnswer:
        return await self._ask(call, OrderWorkflow.release_return, ol.ReleaseReturn)

    def all(self) -> list:
        return [self.reserve_order_lines, self.receive_order_lines, self.claim_line_refund,
                self.confirm_line_refund, self.release_line_refund, self.mark_lines_exchanged,
                self.release_order_lines]

    async def _ask(self, call: c.OrderLinesCall, update, request_type, **fields) -> ol.LinesAnswer:
        caller = activity.info().workflow_id
        if caller is not None and caller != call.return_ref:
            # A return speaks for itself only: its reference is the id of the workflow calling.
            raise ApplicationError(f"return_ref: {call.return_ref!r} is not the calling workflow "
                                   f"{caller!r}", type=INVALID_INPUT, non_retryable=True)
        order = call.order
        try:
            request = request_type(merchant_id=order.merchant_id, order_id=order.order_id,
                                   return_ref=call.return_ref,
                                   idempotency_key=call.idempotency_key, **fields)
        except ValueError as err:  # pydantic's ValidationError: names the field
            raise ApplicationError(str(err), type=INVALID_INPUT, non_retryable=True) from None
        start = WithStartWorkflowOperation(
            OrderWorkflow.run,
            c.OrderGuardStart(order=order, keep_until=order.placed_at + self._keep_for),
            id=ol.order_workflow_id(order.merchant_id, order.order_id),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=f"order {order.order_id}: what its returns took of each line",
        )
        try:
            answer = await self._client.execute_update_with_start_workflow(
                update, request, start_workflow_operation=start, id=call.idempotency_key)
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type in (c.ORDER_LINE_REFUSED,
                                                                      INVALID_INPUT):
                log.warning("order line refused", order_id=order.order_id,
                            merchant_id=order.merchant_id, return_ref=call.return_ref,
                            idempotency_key=call.idempotency_key, why=cause.message)
                raise ApplicationError(cause.message, type=c.ORDER_LINE_REFUSED,
                                       non_retryable=True) from None
            raise
        log.info("order lines", order_id=order.order_id, merchant_id=order.merchant_id,
                 return_ref=call.return_ref, done=answer.done, duplicate=answer.duplicate)
        return answer


__all__ = ["KEEP_FOR", "OrderLineActivities"]
