"""OrderWorkflow: one per order of one merchant, id `order-<merchant_id>-<order_id>`.

It holds what every return of the order has taken from each order line (returns/order_lines.py)
so that no return is approved, received or refunded for more units or money than a line has left,
even when two returns of the order race: Temporal runs one update of a workflow at a time, and
each update's validator and handler run back to back, so the check and the change are one step.

The returns reach it from activities (activities/order_lines.py) with update-with-start: the first
one starts it. Updates (each takes ONE JSON object; the merchant and order are checked in every
one; a validator refuses with the guard's words, type `OrderLineRefused`, and nothing changes):
- `reserve_units`: at approval, the units of each line that will come back or be refunded or
  exchanged;
- `receive_units`: units the warehouse received, never more than reserved;
- `claim_refund`: before a refund is paid, the money of each line it pays;
- `confirm_refund` / `release_refund`: the claimed refund was paid (all, or less) / was not;
- `mark_exchanged`: reserved units settled by an exchange;
- `release_return`: the return ended; what it did not refund or exchange goes back.
Each is idempotent by its key: the same request again answers the same (`duplicate`).
Query: `status` — every line (ordered, held, refunded, money left) and every return's holding.

When it ends (docs/order-lines.md): never while a return holds anything. Once none does and
nothing happened for `idle_end_after` (7 days), it ends if nothing was ever refunded or exchanged
(a later return starts a new run from the same empty state, so nothing is forgotten); otherwise it
waits until `keep_until` (the order's date plus two years) so that what was refunded is never
forgotten while a return could still come. A run started after `keep_until` refuses everything:
whatever an earlier run knew is gone, and a person must check the order. It continues as new when
its history grows, carrying its ledger.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import contracts as c
    from returns import order_lines as ol
    from returns.order_lines import (
        ClaimRefund, ConfirmRefund, LinesAnswer, MarkExchanged, OrderLinesStatus, Receive,
        ReleaseRefund, ReleaseReturn, Reserve,
    )

WORKFLOW_TYPE = "OrderWorkflow"


def _refused(message: str) -> ApplicationError:
    return ApplicationError(message, type=c.ORDER_LINE_REFUSED, non_retryable=True)


@workflow.defn(name=WORKFLOW_TYPE)
class OrderWorkflow:
    @workflow.init
    def __init__(self, start: c.OrderGuardStart) -> None:
        self.start = start
        self.ledger = start.ledger or ol.OrderLedger.open(start.order)
        self.last_change = start.last_change or workflow.now()
        self.changes = 0
        self.closed: str | None = None  # why every request is refused, if it is
        order = start.order
        expected = ol.order_workflow_id(order.merchant_id, order.order_id)
        if workflow.info().workflow_id != expected:
            self.closed = (f"this workflow guards {expected}, not {workflow.info().workflow_id}: "
                           "it was started by hand with another order")
        elif start.ledger is None and workflow.now() >= start.keep_until:
            self.closed = (f"the guard of order {order.order_id} was kept until "
                           f"{start.keep_until:%Y-%m-%d} and may have forgotten earlier returns; "
                           "a person must check this order's returns")

    @workflow.run
    async def run(self, start: c.OrderGuardStart) -> OrderLinesStatus:
        while True:
            await workflow.wait_condition(workflow.all_handlers_finished)
            if self._history_long():
                workflow.continue_as_new(self.start.model_copy(
                    update={"ledger": self.ledger, "last_change": self.last_change}))
            if self._may_end():
                return self.status()
            seen = self.changes
            try:
                await workflow.wait_condition(
                    lambda: self.changes != seen or self._history_long(),
                    timeout=self._until_it_may_end(), timeout_summary="order guard idle")
            except asyncio.TimeoutError:
                pass

    # ---------------------------------------------------------------- updates
    @workflow.update(name="reserve_units", description=(
        "Reserve units of order lines for a return (at approval): {merchant_id, order_id, "
        "return_ref, idempotency_key, lines: [{line_id, units, ordered, paid}]}"))
    def reserve_units(self, request: Reserve) -> LinesAnswer:
        return self._apply(request)

    @reserve_units.validator
    def _validate_reserve(self, request: Reserve) -> None:
        self._check(request)

    @workflow.update(name="receive_units", description=(
        "Record units the warehouse received, never more than reserved: {merchant_id, order_id, "
        "return_ref, idempotency_key, lines: [{line_id, units}]}"))
    def receive_units(self, request: Receive) -> LinesAnswer:
        return self._apply(request)

    @receive_units.validator
    def _validate_receive(self, request: Receive) -> None:
        self._check(request)

    @workflow.update(name="claim_refund", description=(
        "Claim the money of a refund before it is paid: {merchant_id, order_id, return_ref, "
        "idempotency_key, currency, lines: [{line_id, units, amount (minor units)}]}"))
    def claim_refund(self, request: ClaimRefund) -> LinesAnswer:
        return self._apply(request)

    @claim_refund.validator
    def _validate_claim(self, request: ClaimRefund) -> None:
        self._check(request)

    @workflow.update(name="confirm_refund", description=(
        "The claimed refund was paid: {merchant_id, order_id, return_ref, idempotency_key, "
        "claim_key, amount_paid? (minor units, if less than claimed)}"))
    def confirm_refund(self, request: ConfirmRefund) -> LinesAnswer:
        return self._apply(request)

    @confirm_refund.validator
    def _validate_confirm(self, request: ConfirmRefund) -> None:
        self._check(request)

    @workflow.update(name="release_refund", description=(
        "The claimed refund was not paid; its money goes back: {merchant_id, order_id, "
        "return_ref, idempotency_key, claim_key}"))
    def release_refund(self, request: ReleaseRefund) -> LinesAnswer:
        return self._apply(request)

    @release_refund.validator
    def _validate_release_refund(self, request: ReleaseRefund) -> None:
        self._check(request)

    @workflow.update(name="mark_exchanged", description=(
        "Reserved units settled by an exchange that shipped: {merchant_id, order_id, return_ref, "
        "idempotency_key, lines: [{line_id, units}]}"))
    def mark_exchanged(self, request: MarkExchanged) -> LinesAnswer:
        return self._apply(request)

    @mark_exchanged.validator
    def _validate_exchange(self, request: MarkExchanged) -> None:
        self._check(request)

    @workflow.update(name="release_return", description=(
        "A return ended: the units it did not refund or exchange go back (staff: for a return "
        "terminated by hand): {merchant_id, order_id, return_ref, idempotency_key}"))
    def release_return(self, request: ReleaseReturn) -> LinesAnswer:
        return self._apply(request)

    @release_return.validator
    def _validate_release_return(self, request: ReleaseReturn) -> None:
        self._check(request)

    @workflow.query(name="status", description="Every order line (ordered, held, refunded, money "
                    "left) and what each return holds")
    def status(self) -> OrderLinesStatus:
        return ol.status(self.ledger, self.closed)

    # ---------------------------------------------------------------- the guard
    def _check(self, request: ol.Request) -> None:
        """The validator: would the order lines allow it? Changes nothing."""
        if self.closed is not None:
            raise _refused(self.closed)
        try:
            ol.apply(self.ledger, request)
        except ol.OrderLineRefused as err:
            raise _refused(str(err)) from None

    def _apply(self, request: ol.Request) -> LinesAnswer:
        """The handler: the same check again (an earlier update of the same workflow task may have
        changed the ledger since this one was validated), then the change, in one step."""
        self._check(request)
        self.ledger, answer = ol.apply(self.ledger, request)
        if not answer.duplicate:
            self.changes += 1
            self.last_change = workflow.now()
        return answer

    # ---------------------------------------------------------------- when it ends
    def _history_long(self) -> bool:
        info = workflow.info()
        return (info.is_continue_as_new_suggested()
                or info.get_current_history_length() >= self.start.history_limit)

    def _may_end(self) -> bool:
        if self.ledger.holding():
            return False
        now = workflow.now()
        if now - self.last_change < self.start.idle_end_after:
            return False
        return not self.ledger.ever_settled() or now >= self.start.keep_until

    def _until_it_may_end(self) -> timedelta | None:
        if self.ledger.holding():
            return None  # a return holds something: wait for it, however long
        end = self.last_change + self.start.idle_end_after
        if self.ledger.ever_settled():
            end = max(end, self.start.keep_until)
        return max(end - workflow.now(), timedelta(seconds=1))
