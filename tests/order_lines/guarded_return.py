"""A return in miniature, for the tests: the order-line calls the return workflow makes around a
refund, in the order docs/order-lines.md tells the return workflow to make them."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import contracts as c
    from returns.events import Payment
    from returns.order_lines import LinesAnswer, OrderSpec, RefundOfLine, UnitsOfLine


class GuardedRefundInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order: OrderSpec
    payments: list[Payment]
    refund: list[RefundOfLine]  # per line: units and money
    task_queue: str  # where the worker with the real activities runs


class GuardedRefundResult(BaseModel):
    outcome: str  # "refunded", "approval refused", "refund refused", "refund failed"
    why: str | None = None
    refund_id: str | None = None


RETRY = RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=200))


@workflow.defn
class GuardedRefund:
    @workflow.run
    async def run(self, inp: GuardedRefundInput) -> GuardedRefundResult:
        self.inp = inp
        me = workflow.info().workflow_id
        units = [UnitsOfLine(line_id=r.line_id, units=r.units) for r in inp.refund]
        # at approval: reserve the units; a refusal refuses the approval with the guard's words
        try:
            await self._guard(c.RESERVE_ORDER_LINES, c.ReserveOrderLines(
                **self._call("order-lines:reserve"), lines=units))
        except ApplicationError as refused:
            return GuardedRefundResult(outcome="approval refused", why=refused.message)
        # before the refund: claim its money; refused: no payment, staff decide
        claim_key = c.step_key(me, "order-lines:refund")
        try:
            await self._guard(c.CLAIM_LINE_REFUND, c.ClaimLineRefund(
                **self._call("order-lines:refund"), lines=inp.refund))
        except ApplicationError as refused:
            await self._end()
            return GuardedRefundResult(outcome="refund refused", why=refused.message)
        try:
            issued = await workflow.execute_activity(
                c.ISSUE_REFUND, c.RefundRequest(
                    idempotency_key=c.step_key(me, "refund"), return_id=me,
                    order_id=inp.order.order_id, currency=inp.order.currency,
                    amount=sum(r.amount for r in inp.refund), payments=inp.payments,
                    reason="guarded refund", merchant_id=inp.order.merchant_id),
                result_type=c.RefundIssued, task_queue=inp.task_queue,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
        except ActivityError as err:
            await self._guard(c.RELEASE_LINE_REFUND, c.ReleaseLineRefund(
                **self._call("order-lines:refund:release"), claim_key=claim_key))
            await self._end()
            return GuardedRefundResult(outcome="refund failed", why=str(err.cause))
        await self._guard(c.CONFIRM_LINE_REFUND, c.ConfirmLineRefund(
            **self._call("order-lines:refund:confirm"), claim_key=claim_key))
        await self._end()
        return GuardedRefundResult(outcome="refunded", refund_id=issued.refund_id)

    def _call(self, step: str) -> dict:
        me = workflow.info().workflow_id
        return {"order": self.inp.order, "return_ref": me, "idempotency_key": c.step_key(me, step)}

    async def _end(self) -> None:
        await self._guard(c.RELEASE_ORDER_LINES, c.ReleaseOrderLines(**self._call("order-lines:end")))

    async def _guard(self, name: str, call) -> LinesAnswer:
        """An order-line activity; its refusal (ORDER_LINE_REFUSED) raised as the ApplicationError."""
        try:
            return await workflow.execute_activity(
                name, call, result_type=LinesAnswer, task_queue=self.inp.task_queue,
                start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY)
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.type == c.ORDER_LINE_REFUSED:
                raise err.cause from None
            raise
