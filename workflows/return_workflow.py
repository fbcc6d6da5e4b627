"""ReturnWorkflow: one durable workflow per return, id `return-<return_id>`.

It carries a `return.requested` event through the merchant's written policy:

1. evaluate the request against the merchant's policy file (an activity: the decision is recorded);
2. wait for a staff review (approve / reject / request_info), escalating when the review is late;
3. unless the refund is returnless, send the customer a PDF return label and wait for the parcel:
   a reminder before the ship-by deadline, expiry at it unless the carrier scanned the parcel;
4. the warehouse signals `warehouse_receipt` (partial receipts allowed), staff record the inspection;
5. the outcome per item: refund (retried with backoff, escalated before it is due), exchange,
   repair or return to the customer.

Messages (each takes ONE JSON object naming its actor; see returns/actions.py):
- signals: `warehouse_receipt` (warehouse staff), `withdraw` and `parcel_scanned` (order system);
- updates: `approve`, `reject`, `request_info`, `record_inspection`, `extend_deadline`, `cancel`,
  `retry_refund`, `record_manual_refund`, `ship_to_customer` — validators refuse out-of-turn or
  invalid actions with a message a person can act on, and change nothing;
- query: `status` — state, items, deadlines, amounts, label, refund and the audit trail.

Deadlines are computed by an activity (holiday calendars change between releases) and waited on
with durable timers; `extend_deadline` moves them while the workflow waits.
"""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Callable

from temporalio import workflow
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities import contracts as c
    from returns.actions import (
        Acknowledge, ActionResult, Approve, Cancel, ExtendDeadline, RecordInspection,
        RecordManualRefund, Reject, RequestInfo, RetryRefund, ShipToCustomer, WarehouseReceipt,
    )
    from returns.events import ParcelScanned, Resolution, ReturnRequested, ReturnWithdrawn, ScanKind
    from returns.money import format_money
    from returns.policy.decision import DayUnit, Duration, ItemDecision, ReturnDecision
    from returns.policy.refunds import refund_for_accepted
    from returns.status import (
        DEADLINE_LABELS, FINAL, NEXT_ACTIONS, OPEN_BEFORE_RECEIPT, RECEIPT_STATES, RECEIPT_WINDOW,
        AuditEntry, Deadline,
        TRANSITIONS, DeadlineKind, ItemStatus, LabelInfo, RefundInfo, ReturnState, ReturnStatus,
        check_transition,
    )
    from returns.status_card import render_status_card
    from workflows import metrics
    from workflows import names
    from workflows import search_attributes as sa

S = ReturnState
D = DeadlineKind

QUICK = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                    maximum_interval=timedelta(minutes=1), maximum_attempts=8)
NOTIFY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                           maximum_interval=timedelta(minutes=2), maximum_attempts=6,
                           non_retryable_error_types=["PermanentEmailFailure"])
# Behaviour added after the first release. Returns run for weeks, so it is guarded: a return
# started before it replays its history unchanged and keeps the old behaviour to the end (README:
# "Changing the workflow safely"). Under this patch:
# - staff are emailed (`action_needed`) when an inspection or a shipment to the customer waits
#   for them;
# - an email that cannot be delivered is raised to staff and stays on the status card until an
#   email to that person goes through (a refund that succeeds no longer clears it);
# - the label's barcode value is published as the `LabelBarcode` search attribute (scanners);
# - activity attempts time out after 20 s (refunds 30 s) instead of 1-2 minutes, so an attempt
#   lost with a crashed worker is retried in seconds.
STAFF_NOTICES = "2026-12-staff-notices"
# Second change: search attributes are upserted when the return comes to rest (waiting for staff,
# the customer, a timer or a refund) and when it ends, one upsert for everything that changed
# since the last one, instead of an upsert at every change. An activity with a bounded retry
# policy (emails, deadlines, the policy, the label: minutes at most) does not wait for the upsert;
# the status card is always current. About half the visibility writes and 10 fewer history events
# per return (docs/performance.md).
BATCHED_SEARCH_ATTRIBUTES = "2026-12-batched-search-attributes"
# Third change: what raised NeedsAttention clears it once it is resolved: a warehouse receipt that
# fits after one that did not (or was unreadable), a deadline met after its escalation (the review
# overdue, then staff decide). Read where it applies (`_resolved`), not at the start: only the
# returns that take such a turn record its marker. Staff clear anything else with `acknowledge`.
ATTENTION_CLEARS = "2026-12-attention-clears"

# Fourth change: a refund is first tried briefly (REFUND_FIRST_TRY: three attempts within about
# two minutes) like the other short activities, so the return does not come to rest as
# "refunding" (an upsert) for a refund that goes through at once; only if that fails does it rest
# and retry until the refund is due, as before. This patch also stands for STAFF_NOTICES and
# BATCHED_SEARCH_ATTRIBUTES: a return started under it records one marker (and the SDK's one
# `TemporalChangeVersion` upsert) instead of two. Two fewer upserts, one marker and one timer
# fewer: 121 history events per refunded return instead of 126 (docs/performance.md).
QUICK_REFUND = "2026-12-quick-refund"

REFUND_FIRST_TRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                               maximum_attempts=3, non_retryable_error_types=[c.REFUND_REFUSED])
REFUND_RETRY = RetryPolicy(initial_interval=timedelta(seconds=10), backoff_coefficient=2.0,
                           maximum_interval=timedelta(hours=1),
                           non_retryable_error_types=[c.REFUND_REFUSED])


def _refused(message: str) -> ApplicationError:
    """A validator's refusal: the operator reads `message` in the UI and nothing changes."""
    return ApplicationError(message, type=names.ACTION_REFUSED, non_retryable=True)


class _Stopped(Exception):
    """The customer withdrew or staff cancelled while the workflow was waiting."""


@workflow.defn(name=names.WORKFLOW_TYPE)
class ReturnWorkflow:
    @workflow.init
    def __init__(self, request: ReturnRequested) -> None:
        self.request = request
        self.state = S.requested
        self.decision: ReturnDecision | None = None
        self.items: dict[str, ItemStatus] = {}
        self.deadlines: dict[DeadlineKind, Deadline] = {}
        self.deadline_units: dict[DeadlineKind, DayUnit] = {}
        self.deadline_version = 0
        self.audit: list[AuditEntry] = []
        self.review: Approve | Reject | None = None
        self.review_error: str | None = None  # why the last approval could not be applied
        self.receipts: list[WarehouseReceipt] = []
        self.scans: list[ParcelScanned] = []
        self.inspection: RecordInspection | None = None
        self.withdrawal: ReturnWithdrawn | None = None
        self.cancellation: Cancel | None = None
        self.label: LabelInfo | None = None
        self.refund: RefundInfo | None = None
        self.refund_retry: RetryRefund | None = None
        self.manual_refund: RecordManualRefund | None = None
        self.shipment: ShipToCustomer | None = None
        self.attention: str | None = None
        self.attention_cause: str | None = None  # "receipt", "deadline:<kind>", ... (`_resolved`)
        self.email_problems: dict[str, str] = {}  # audience -> why the last email failed
        self.since_staff_notices = False  # set by run(): workflow.patched(STAFF_NOTICES)
        self.since_batched_attributes = False  # set by run(): BATCHED_SEARCH_ATTRIBUTES
        self.since_quick_refund = False  # set by run(): QUICK_REFUND (implies the two above)
        self._pending_attributes: dict[str, object] = {}  # attribute name -> update, not sent yet
        self._bounded_in_flight = 0  # activities with a bounded retry policy running now
        self._flush_scheduled = False
        self.waiting_on: str | None = None
        self.outcome: str | None = None
        self.notify_seq = 0
        self.event_ids: set[str] = {request.event_id}
        self._published: dict[str, object] = {}

    # ---------------------------------------------------------------- the story of a return
    @workflow.run
    async def run(self, request: ReturnRequested) -> ReturnStatus:
        if workflow.patched(QUICK_REFUND):
            self.since_quick_refund = self.since_staff_notices = True
            self.since_batched_attributes = True
        else:  # started before it: the markers it recorded say which of the earlier changes apply
            self.since_staff_notices = workflow.patched(STAFF_NOTICES)
            self.since_batched_attributes = workflow.patched(BATCHED_SEARCH_ATTRIBUTES)
        metrics.return_started(request.merchant_id, self.state.value)
        self._record("system", "return requested", f"event {request.event_id}")
        self._publish()
        try:
            await self._evaluate()
            if self.decision.auto_reject:
                return await self._auto_reject()
            await self._review()
            while isinstance(self.review, Approve) and not await self._apply_overrides():
                await self._await_review()
            if isinstance(self.review, Reject):
                return await self._finish(S.rejected, "rejected", self.review.reason)
            await self._approve()
            await self._refund_returnless_items()
            for i in self._returnless_exchanges():  # nothing comes back to inspect
                self.items[i.line_id].quantity_accepted = i.quantity
            if not self._items_to_ship() and self._returnless_exchanges():
                await self._exchange_without_return()
            elif not self._items_to_ship():
                self.outcome = "returnless refund"
                self._publish()
                await self._notify("closed")
            else:
                if not await self._await_parcel():
                    return await self._finish(S.expired, "expired")
                await self._inspect()
                await self._resolve_inspected_items()
        except _Stopped:
            return await self._stop()
        return await self._final_status()

    async def _evaluate(self) -> None:
        self.decision = await self._activity(
            c.EVALUATE_RETURN, c.EvaluateReturn(request=self.request), ReturnDecision,
            summary="evaluate the merchant's return policy",
        )
        self._load_items(self.decision)
        eligible = sum(1 for i in self.decision.items if i.eligible)
        self._record("policy", "decision", f"{eligible} of {len(self.decision.items)} item(s) "
                     f"eligible under {self.decision.merchant_id} policy "
                     f"{self.decision.policy_version}")
        for i in self.decision.items:
            verdict = (f"eligible: {i.resolution.value}" if i.eligible and i.resolution
                       else "not eligible")
            self._record("policy", f"line {i.line_id} {verdict}",
                         "; ".join(str(r) for r in i.reasons))

    async def _auto_reject(self) -> ReturnStatus:
        reasons = "; ".join(str(r) for r in self.decision.auto_reject_reasons) or \
            "no requested item is eligible under the return policy"
        self._transition(S.rejected)
        self._record("policy", "rejected automatically", reasons)
        await self._notify("rejected", message=reasons)
        self.outcome = "rejected"
        self._publish()
        self._flush_attributes(final=True)
        metrics.return_ended(self.request.merchant_id, self.state.value, self.outcome)
        return self._status()

    async def _review(self) -> None:
        await self._set_deadline(D.review, self.decision.sla.review, workflow.now())
        self._transition(S.under_review, waiting_on="staff")
        await self._notify("request_received", deadline=self._due(D.review))
        await self._notify_staff("review_needed", message=self._review_points())
        await self._await_review()

    async def _await_review(self) -> None:
        if not await self._wait_until_due(lambda: self.review is not None, D.review):
            await self._escalate(D.review, "the review deadline has passed; the customer is waiting")
            await self._until(lambda: self.review is not None)

    async def _apply_overrides(self) -> bool:
        """Staff exceptions re-priced by the policy; False (back to review) if they cannot apply."""
        approval = self.review
        if not approval.overrides:
            return True
        try:
            self.decision = await self._activity(
                c.APPLY_OVERRIDES,
                c.ApplyOverrides(decision=self.decision, overrides=approval.overrides,
                                 actor=approval.actor),
                ReturnDecision, summary="apply staff overrides to the decision",
            )
        except ActivityError as err:
            why = err.cause.message if isinstance(err.cause, ApplicationError) else str(err.cause or err)
            self.review_error = f"the overrides could not be applied: {why}"
            self._record(approval.actor, "approval not applied", why)
            self.review = None  # still under review: approve again, or reject
            return False
        self._load_items(self.decision)
        for o in approval.overrides:
            self._record(approval.actor, "override", f"line {o.line_id}: {o.reason}")
        return True

    async def _approve(self) -> None:
        approval = self.review
        assert isinstance(approval, Approve)
        self._meet(D.review)
        self._transition(S.approved)
        if self._items_to_ship():
            await self._set_deadline(D.ship_by, self.decision.sla.ship_by, workflow.now())
            await self._create_label()
        await self._notify("approved", message=approval.note, label_path=self._label_path(),
                           deadline=self.deadlines[D.ship_by].due_at if D.ship_by in self.deadlines
                           else None)

    async def _refund_returnless_items(self) -> None:
        items = [i for i in self._eligible() if i.resolution == Resolution.returnless_refund]
        if not items:
            return
        amount = sum(i.refund_amount for i in items)
        for i in items:
            self.items[i.line_id].quantity_accepted = i.quantity
        ships_too = bool(self._items_to_ship() or self._returnless_exchanges())
        await self._pay_refund(amount, "returnless", "returnless refund (no shipment needed)",
                               change_state=not ships_too)

    def _returnless_exchanges(self) -> list[ItemDecision]:
        """Exchanges with nothing to send back (a parcel lost on its way to the customer, 000)."""
        if not self.since_staff_notices:  # before the patch these were closed like refunds
            return []
        return [i for i in self._eligible()
                if i.resolution == Resolution.exchange and not i.needs_return_shipment]

    async def _exchange_without_return(self) -> None:
        refunded = self.refund is not None
        await self._ship_back(S.exchange_shipping, S.exchanged, "exchange_shipping",
                              deadline=D.reshipment)
        self.outcome = "refunded, exchanged" if refunded else "exchanged"
        await self._notify("closed")
        self._publish()

    async def _await_parcel(self) -> bool:
        """Wait for the parcel; remind before the ship-by deadline; False when it expired."""
        self._transition(S.awaiting_shipment, waiting_on="customer")
        parcel_moving = lambda: bool(self.receipts or self.scans)  # noqa: E731
        reminded = False
        while not parcel_moving():
            reminder_at = await self._compute(self._due(D.ship_by),
                                              self.decision.sla.ship_by_reminder_before,
                                              backwards=True)
            if not reminded and workflow.now() < reminder_at:
                version = self.deadline_version
                if not await self._wait_until(
                        lambda: parcel_moving() or self.deadline_version != version, reminder_at,
                        "ship-by reminder"):
                    await self._notify("ship_by_reminder", deadline=self._due(D.ship_by))
                    reminded = True
                continue
            if await self._wait_until_due(parcel_moving, D.ship_by):
                break
            self._breach(D.ship_by)
            return False
        self._meet(D.ship_by)
        if not self.receipts:
            self._transition(S.in_transit, waiting_on="carrier")
            scan = self.scans[-1]
            await self._notify("parcel_in_transit", tracking=f"{scan.carrier} {scan.tracking_number}")
            await self._until(lambda: bool(self.receipts))
        return True

    async def _inspect(self) -> None:
        self._transition(S.received, waiting_on="warehouse")
        missing = [f"{i.title} x{i.quantity - self.items[i.line_id].quantity_received}"
                   for i in self._items_to_ship()
                   if self.items[i.line_id].quantity_received < i.quantity]
        await self._notify("received", message=f"Not received yet: {', '.join(missing)}. The "
                           f"refund covers what arrived." if missing else None)
        await self._set_deadline(D.inspection, self.decision.sla.inspection, workflow.now())
        self._transition(S.inspecting, waiting_on="warehouse")
        if self.since_staff_notices:
            await self._notify_staff("action_needed", deadline=self._due(D.inspection), message=(
                "Inspect what arrived and record it (update record_inspection): " + ", ".join(
                    f"{i.line_id} {i.title} x{i.quantity_received}" for i in self.items.values()
                    if i.quantity_received)))
        if not await self._wait_until_due(lambda: self.inspection is not None, D.inspection):
            await self._escalate(D.inspection, "the inspection deadline has passed")
            await self._until(lambda: self.inspection is not None)
        self._meet(D.inspection)
        failed = [i for i in self.items.values() if i.inspection == "failed"]
        passed = [i for i in self.items.values() if i.quantity_accepted > 0]
        if passed:
            await self._notify("inspection_passed")
        if failed:
            shipping = self.decision.inspection_failed_shipping
            await self._notify("inspection_failed", message="; ".join(
                f"{i.title}: {i.inspection_notes or 'did not pass'}" for i in failed)
                + (f"\n\n{shipping}" if shipping else ""))

    async def _resolve_inspected_items(self) -> None:
        """Each accepted item gets its resolution; refused items go back to the customer."""
        accepted = [self.decision.item(i.line_id) for i in self.items.values()
                    if i.quantity_accepted > 0]
        refunds = [i for i in accepted if i.resolution == Resolution.refund]
        exchanges = [i for i in accepted if i.resolution == Resolution.exchange]
        repairs = [i for i in accepted if i.resolution == Resolution.repair]
        refused = [i for i in self.items.values()
                   if i.quantity_received > i.quantity_accepted]
        steps = sum(map(bool, (refunds, exchanges, repairs, refused)))
        if self.inspection.postage_reimbursement is not None:
            p = self.inspection.postage_reimbursement
            await self._notify_staff("action_needed", message=(
                f"Reimburse the customer's return postage of "
                f"{format_money(p.amount, self.decision.currency)} (courier documents "
                f"{p.courier_reference}), separately from any refund (004 §3.4, §4.2)."))
        if refunds:
            amount = sum(refund_for_accepted(i, self.items[i.line_id].quantity_accepted,
                                             self._inspection_fee(i.line_id)) for i in refunds)
            await self._pay_refund(amount, "refund", "refund after inspection")
        if exchanges:
            await self._ship_back(S.exchange_shipping, S.exchanged, "exchange_shipping",
                                  deadline=D.reshipment)
        if repairs:
            await self._notify("repair_started")
            await self._ship_back(S.repairing, S.repaired, "repaired")
        if refused:
            await self._ship_back(S.returning_to_customer, S.closed, "returned_to_customer")
        if steps != 1 and self.state not in FINAL:
            self._transition(S.closed)
        self.outcome = ", ".join(o for o, present in (
            ("refunded", refunds), ("exchanged", exchanges), ("repaired", repairs),
            ("returned to customer", refused)) if present) or "nothing accepted"
        await self._notify("closed")
        self._publish()

    async def _finish(self, state: ReturnState, template: str, message: str | None = None) -> ReturnStatus:
        self.outcome = state.value
        self._transition(state)
        await self._notify(template, message=message)
        return await self._final_status()

    async def _stop(self) -> ReturnStatus:
        if self.cancellation is not None and S.cancelled in TRANSITIONS[self.state]:
            self.outcome = "cancelled"
            self._transition(S.cancelled)
            await self._notify("cancelled", message=self.cancellation.reason)
        else:
            self.outcome = "withdrawn"
            self._transition(S.withdrawn)
            await self._notify("withdrawn", message=self.withdrawal.reason)
        return await self._final_status()

    async def _final_status(self) -> ReturnStatus:
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._flush_attributes(final=True)
        metrics.return_ended(self.request.merchant_id, self.state.value, self.outcome)
        return self._status()

    # ---------------------------------------------------------------- outcome steps
    async def _pay_refund(self, amount: int, step: str, reason: str, change_state: bool = True) -> None:
        """Refund `amount`, retrying with backoff until due; staff retry or refund by hand after."""
        currency = self.decision.currency
        if amount <= 0:
            self._record("system", "no refund due", reason)
            return
        await self._set_deadline(D.refund, self.decision.sla.refund, workflow.now())
        if change_state:
            self._transition(S.refunding, waiting_on="payment provider")
        self.refund = RefundInfo(status="pending", amount=amount, currency=currency)
        self._publish()
        attempt = 0
        while True:
            attempt += 1
            self.refund.attempts = attempt
            self.refund.status = "pending"
            outcome = await self._attempt_refund(amount, step, reason)
            if outcome is not None:
                self.refund.status = "succeeded"
                self.refund.refund_id = outcome.refund_id
                self.refund.splits = outcome.splits
                self._record("payment provider", "refund issued",
                             f"{format_money(amount, currency)} ({outcome.refund_id})")
                break
            # Clear the previous retry before the validators let staff ask for another one.
            self.refund_retry = None
            self.refund.status = "failed"
            self._attention(f"refund failed: {self.refund.last_error}")
            await self._notify_staff("refund_failed", message=self.refund.last_error)
            await self._until(lambda: self.refund_retry is not None or self.manual_refund is not None)
            if self.manual_refund is not None:
                m = self.manual_refund
                self.refund.status = "manual"
                self.refund.manual_reference = m.reference
                self._record(m.actor, "manual refund recorded",
                             f"{format_money(m.amount, currency)} ref {m.reference}")
                break
            self._clear_attention()
            self._record(self.refund_retry.actor, "refund retry requested", self.refund_retry.note or "")
        self._meet(D.refund)
        self._clear_attention()
        if change_state:
            self._transition(S.refunded, waiting_on=None)
        await self._notify("refund_issued", refund_total=format_money(
            self.manual_refund.amount if self.refund.status == "manual" else amount, currency))

    async def _attempt_refund(self, amount: int, step: str, reason: str) -> c.RefundIssued | None:
        """One refund: a brief try first (QUICK_REFUND), then retries with backoff until it is due,
        escalating before then."""
        request = c.RefundRequest(
            idempotency_key=c.step_key(workflow.info().workflow_id, step),
            return_id=self.request.return_id, order_id=self.request.order.order_id,
            merchant_id=self.request.merchant_id,
            currency=self.decision.currency, amount=amount, payments=self.request.order.payments,
            reason=reason,
        )
        due = self._due(D.refund)
        escalate_at = await self._compute(due, self.decision.sla.refund_escalate_before, backwards=True)
        summary = f"refund {format_money(amount, self.decision.currency)}"
        attempt_timeout = self._attempt_timeout(timedelta(seconds=30), timedelta(minutes=2))
        if self.since_quick_refund:
            try:
                with self._bounded():  # no rest (and no upsert) for a refund that goes through
                    return await workflow.execute_activity(
                        c.ISSUE_REFUND, request, result_type=c.RefundIssued,
                        start_to_close_timeout=attempt_timeout, retry_policy=REFUND_FIRST_TRY,
                        summary=summary)
            except ActivityError as err:
                cause = self._refund_error(err)
                final = cause is not None and (cause.non_retryable or cause.type == c.REFUND_REFUSED)
                self._record("payment provider", "refund failed" if final else
                             "refund attempt failed; retrying until it is due", self.refund.last_error)
                if final:  # refused, or a retry cannot help: staff decide (_pay_refund)
                    return None
                self._publish()  # from here the return rests: its search attributes go out
        budget = max(due - workflow.now(), timedelta(minutes=10))
        task = workflow.start_activity(
            c.ISSUE_REFUND, request, result_type=c.RefundIssued,
            start_to_close_timeout=attempt_timeout, schedule_to_close_timeout=budget,
            retry_policy=REFUND_RETRY, summary=summary,
        )
        if workflow.now() < escalate_at:
            if not await self._wait_until(task.done, escalate_at, "refund escalation"):
                self.refund.status = "failing"
                await self._escalate(D.refund, "the refund has not gone through and is due soon; "
                                     "the payment provider keeps failing")
        try:
            return await task
        except ActivityError as err:
            self._refund_error(err)
            self._record("payment provider", "refund failed", self.refund.last_error)
            return None

    def _refund_error(self, err: ActivityError) -> ApplicationError | None:
        """Keep why a refund activity failed (`refund.last_error`); the provider's error, if any."""
        cause = err.cause
        self.refund.last_error = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
        return cause if isinstance(cause, ApplicationError) else None

    async def _ship_back(self, state: ReturnState, done: ReturnState, template: str,
                         deadline: DeadlineKind | None = None) -> None:
        """Wait for staff to record the shipment to the customer (exchange, repair, refused item)."""
        self.shipment = None
        if deadline is not None:
            await self._set_deadline(deadline, self.decision.sla.reshipment, workflow.now())
        self._transition(state, waiting_on="staff")
        if self.since_staff_notices:
            await self._notify_staff("action_needed", message=self._shipment_todo(state),
                                     deadline=self._due(deadline) if deadline else None)
        if deadline is not None:
            if not await self._wait_until_due(lambda: self.shipment is not None, deadline):
                await self._escalate(deadline, f"{DEADLINE_LABELS[deadline]} has passed")
        await self._until(lambda: self.shipment is not None)
        if deadline is not None:
            self._meet(deadline)
        self._transition(done, waiting_on=None)
        await self._notify(template, tracking=f"{self.shipment.carrier} {self.shipment.tracking_number}")

    def _inspection_fee(self, line_id: str) -> int:
        """What staff charged for inspecting this line, where the policy allows it (003 §V.1.4)."""
        return next((r.inspection_fee or 0 for r in self.inspection.items if r.line_id == line_id), 0)

    def _exchange_fees(self) -> int:
        """Unwaived fees on the accepted exchanges: paid by the customer before reshipping."""
        return sum(f.amount for i in self.decision.items
                   if i.resolution == Resolution.exchange and self.items[i.line_id].quantity_accepted
                   for f in i.fees if not f.waived)

    def _shipment_todo(self, state: ReturnState) -> str:
        """What staff must send to the customer, for the action_needed email."""
        if state == S.exchange_shipping:
            items = [i for i in self.decision.items if i.resolution == Resolution.exchange
                     and self.items[i.line_id].quantity_accepted]
            wanted = {r.line_id: r.exchange_for for r in self.request.items}
            todo = "Ship the exchange: " + ", ".join(
                f"{i.title} x{self.items[i.line_id].quantity_accepted}"
                + (f" -> {wanted[i.line_id]}" if wanted.get(i.line_id) else "")
                for i in items)
            fees = self._exchange_fees()
            if fees:
                todo += (f". First collect {format_money(fees, self.decision.currency)} of fees "
                         f"from the customer and give its reference as fee_payment_reference")
        elif state == S.repairing:
            todo = "Repair and send back: " + ", ".join(
                f"{i.title} x{i.quantity_accepted}" for i in self.items.values()
                if i.quantity_accepted and i.resolution == Resolution.repair)
        else:
            todo = "Send back to the customer what did not pass: " + ", ".join(
                f"{i.title} x{i.quantity_received - i.quantity_accepted}"
                for i in self.items.values() if i.quantity_received > i.quantity_accepted)
        return todo + "; then record it (update ship_to_customer: carrier, tracking_number)."

    async def _create_label(self) -> None:
        rma = f"RMA-{self.request.return_id}"
        lines = []
        for i in self._items_to_ship():
            lines.append(c.LabelLine(sku=i.sku, title=i.title, quantity=i.quantity))
        req = c.LabelRequest(
            idempotency_key=c.step_key(workflow.info().workflow_id, "label"), rma_number=rma,
            merchant_id=self.request.merchant_id,
            return_id=self.request.return_id, order_id=self.request.order.order_id,
            merchant_name=self.decision.merchant.name,
            merchant_address=self.decision.merchant.return_address,
            customer_name=self.request.order.customer.name,
            customer_address=self.request.order.shipping_address, lines=lines,
            ship_by=self._due(D.ship_by), timezone=self.decision.sla.calendar.timezone,
        )
        try:
            made = await self._activity(c.CREATE_RETURN_LABEL, req, c.LabelCreated,
                                        summary=f"print return label {rma}")
        except ActivityError as err:
            self._attention(f"the return label could not be created: {err.cause or err}")
            self._record("system", "label failed", str(err.cause or err))
            return
        self.label = LabelInfo(rma_number=made.rma_number, barcode_value=made.barcode_value,
                               path=made.path, sha256=made.sha256)
        self._record("system", "return label created", made.rma_number)

    # ---------------------------------------------------------------- waiting and deadlines
    async def _until(self, condition: Callable[[], bool]) -> None:
        """Wait for `condition`; a withdrawal or cancellation interrupts any wait."""
        await workflow.wait_condition(lambda: condition() or self._stopping())
        if self._stopping() and not condition():
            raise _Stopped()

    async def _wait_until(self, condition: Callable[[], bool], when: datetime, summary: str) -> bool:
        """Wait for `condition` until `when`; True if it came true first."""
        remaining = when - workflow.now()
        if remaining > timedelta(0):
            try:
                await workflow.wait_condition(lambda: condition() or self._stopping(),
                                              timeout=remaining, timeout_summary=summary)
            except asyncio.TimeoutError:
                pass
        if self._stopping() and not condition():
            raise _Stopped()
        return condition()

    async def _wait_until_due(self, condition: Callable[[], bool], kind: DeadlineKind) -> bool:
        """Wait for `condition` until the deadline; extensions move the deadline while waiting."""
        while not condition():
            version = self.deadline_version
            deadline = self.deadlines[kind]
            if workflow.now() >= deadline.due_at:
                return condition()
            await self._wait_until(lambda: condition() or self.deadline_version != version,
                                   deadline.due_at, f"{DEADLINE_LABELS[kind]} ({deadline.basis})")
        return True

    async def _set_deadline(self, kind: DeadlineKind, duration: Duration, start: datetime) -> None:
        due = await self._compute(start, duration)
        clause = self.decision.sla.clauses.get(kind.value)
        cal = self.decision.sla.calendar
        basis = duration.describe()
        if duration.unit == DayUnit.business_days:
            basis += f", {cal.country} holidays"
        if clause:
            basis += f" ({clause})"
        self.deadlines[kind] = Deadline(kind=kind, due_at=due, basis=basis)
        self.deadline_units[kind] = duration.unit
        self.deadline_version += 1
        self._record("system", "deadline set", f"{DEADLINE_LABELS[kind]}: {due.isoformat()} ({basis})")
        self._publish()

    async def _compute(self, start: datetime, duration: Duration, backwards: bool = False) -> datetime:
        if duration.unit == DayUnit.hours:  # plain arithmetic, no calendar involved
            delta = timedelta(hours=duration.amount)
            return start - delta if backwards else start + delta
        return await self._activity(
            c.COMPUTE_DEADLINE,
            c.DeadlineRequest(start=start, duration=duration, calendar=self.decision.sla.calendar,
                              backwards=backwards),
            datetime, summary=f"{'count back' if backwards else 'count'} {duration.describe()}",
        )

    def _due(self, kind: DeadlineKind) -> datetime:
        return self.deadlines[kind].due_at

    def _meet(self, kind: DeadlineKind) -> None:
        if kind in self.deadlines:
            if not (self.deadlines[kind].met or self.deadlines[kind].breached):
                metrics.deadline_met(self.request.merchant_id, kind.value)
            self.deadlines[kind].met = True
            self._resolved(f"deadline:{kind.value}", f"the {kind.value} deadline is met")
            self._publish()

    def _breach(self, kind: DeadlineKind) -> None:
        if not self.deadlines[kind].breached:
            metrics.deadline_breached(self.request.merchant_id, kind.value)
        self.deadlines[kind].breached = True
        self._record("system", "deadline passed", DEADLINE_LABELS[kind])
        self._publish()

    async def _escalate(self, kind: DeadlineKind, why: str) -> None:
        if kind in self.deadlines and workflow.now() >= self._due(kind):
            self._breach(kind)
        self._attention(why, cause=f"deadline:{kind.value}")
        await self._notify_staff("escalation", message=why,
                                 deadline=self._due(kind) if kind in self.deadlines else None)

    # ---------------------------------------------------------------- signals
    # Signals cannot answer their sender, and the SDK drops a signal whose payload does not decode.
    # So each takes the raw payload and reads it here: an unreadable one is recorded in the audit
    # trail and raised to staff with the field that is wrong; nothing is lost silently.
    async def _read(self, payload: RawValue | None, model: type, what: str):
        try:
            if payload is None:  # the UI's "Send a Signal" with the input left empty
                raise ApplicationError("no payload: send one JSON object", type="InvalidInput")
            return workflow.payload_converter().from_payload(payload.payload, model)
        except Exception as err:  # noqa: BLE001 - any undecodable payload is reported, never fatal
            why = err.message if isinstance(err, ApplicationError) else str(err)
            self._record("unknown", f"unreadable {what}", why)
            self._attention(f"an unreadable {what} was sent: {why}",
                            cause="receipt" if model is WarehouseReceipt else None)
            await self._notify_staff("receipt_problem" if model is WarehouseReceipt else "escalation",
                                     message=f"unreadable {what}: {why}")
            return None

    @workflow.signal(name=names.SIGNAL_WAREHOUSE_RECEIPT,
                     description="Warehouse staff record what arrived: {actor, items: [{line_id, "
                                 "quantity, condition}], note}. Partial receipts are allowed.")
    async def warehouse_receipt(self, payload: RawValue = None) -> None:  # type: ignore[assignment]
        receipt = await self._read(payload, WarehouseReceipt, "warehouse receipt")
        if receipt is None:
            return
        problems = self._receipt_problems(receipt)
        if problems:  # recorded and raised to staff; never fails the workflow task
            why = "; ".join(problems)
            self._record(receipt.actor, "receipt refused", why)
            self._attention(f"a warehouse receipt does not fit this return: {why}", cause="receipt")
            await self._notify_staff("receipt_problem", message=why)
            return
        if self.withdrawal is not None:
            self._record(receipt.actor, "withdrawal overtaken",
                         "the parcel arrived; the customer's withdrawal no longer applies")
        for item in receipt.items:
            status = self.items[item.line_id]
            status.quantity_received += item.quantity
            if item.condition:
                status.condition_notes.append(item.condition)
        self.receipts.append(receipt)
        self._record(receipt.actor, "received",
                     ", ".join(f"{i.line_id} x{i.quantity}" for i in receipt.items))
        self._resolved("receipt", "a receipt that fits arrived")
        self._publish()

    def _receipt_problems(self, receipt: WarehouseReceipt) -> list[str]:
        if self.state not in RECEIPT_STATES:
            return [f"the return is {self.state.value}; {RECEIPT_WINDOW}"]
        if self.state == S.inspecting and self.inspection is not None:
            return ["the inspection has already been recorded"]
        problems = []
        shipped = {i.line_id: i for i in self._items_to_ship()}
        for item in receipt.items:
            if item.line_id not in shipped:
                problems.append(f"line {item.line_id!r} is not part of this return")
                continue
            already = self.items[item.line_id].quantity_received
            if already + item.quantity > shipped[item.line_id].quantity:
                problems.append(f"line {item.line_id}: {already + item.quantity} received but only "
                                f"{shipped[item.line_id].quantity} are being returned")
        return problems

    @workflow.signal(name=names.SIGNAL_WITHDRAW,
                     description="The order system's return.withdrawn event: the customer cancels "
                                 "before the warehouse has the parcel.")
    async def withdraw(self, payload: RawValue = None) -> None:  # type: ignore[assignment]
        event = await self._read(payload, ReturnWithdrawn, "withdrawal")
        if event is None:
            return
        if self._seen(event.event_id):
            return
        if self.state not in OPEN_BEFORE_RECEIPT or self.receipts or self.cancellation:
            why = f"the customer asked to withdraw, but the return is already {self.state.value}"
            self._record("customer", "withdrawal refused", why)
            self._attention(why)
            await self._notify_staff("escalation", message=why)
            return
        self.withdrawal = event
        self._record("customer", "withdrawn", event.reason or "")

    @workflow.signal(name=names.SIGNAL_PARCEL_SCANNED,
                     description="Carrier tracking for the return parcel (parcel.scanned event).")
    async def parcel_scanned(self, payload: RawValue = None) -> None:  # type: ignore[assignment]
        event = await self._read(payload, ParcelScanned, "parcel scan")
        if event is None:
            return
        if self._seen(event.event_id):
            return
        self._record("carrier", f"parcel {event.scan.value}",
                     f"{event.carrier} {event.tracking_number}")
        if self.state in (S.awaiting_shipment, S.in_transit):
            self.scans.append(event)
        if event.scan == ScanKind.delivered_to_warehouse and self.state == S.in_transit:
            self.waiting_on = "warehouse"
        self._publish()

    # ---------------------------------------------------------------- updates: review
    @workflow.update(name=names.UPDATE_APPROVE,
                     description="Approve the return: {actor, note?, overrides?: [{line_id, "
                                 "waive_fees, accept_exception, resolution, reason}]}")
    async def approve(self, action: Approve) -> ActionResult:
        self.review = action
        self.review_error = None
        self._record(action.actor, "approved", action.note or "")
        await workflow.wait_condition(
            lambda: self.state != S.under_review or self.review_error is not None)
        if self.review_error is not None:
            raise _refused(f"not approved: {self.review_error}; the return is still under review")
        if self.state != S.approved:  # withdrawn or cancelled at the same moment
            return self._result(f"not approved: the return became {self.state.value} first")
        if self._items_to_ship():
            return self._result("approved; the customer is sent a return label and the ship-by "
                                "deadline")
        return self._result("approved; refunded without a return shipment")

    @approve.validator
    def _validate_approve(self, action: Approve) -> None:
        self._require_state(S.under_review, "approve")
        lines = {i.line_id for i in self.decision.items}
        for o in action.overrides:
            if o.line_id not in lines:
                raise _refused(f"overrides: line {o.line_id!r} is not part of this return "
                                       f"(lines: {', '.join(sorted(lines))})")
        accepted = {o.line_id for o in action.overrides if o.accept_exception}
        for n, o in enumerate(action.overrides):
            if o.resolution is not None and not self.decision.item(o.line_id).eligible \
                    and not o.accept_exception:
                raise _refused(f"overrides[{n}].resolution: line {o.line_id} is not eligible; "
                               f"set accept_exception: true (with a reason) to accept it first")
        if not any(i.eligible or i.line_id in accepted for i in self.decision.items):
            raise _refused("no item is eligible: reject the return, or accept an exception "
                                   "with overrides [{line_id, accept_exception: true, reason}]")

    @workflow.update(name=names.UPDATE_REJECT, description="Reject the return: {actor, reason}")
    async def reject(self, action: Reject) -> ActionResult:
        self.review = action
        self._record(action.actor, "rejected", action.reason)
        await workflow.wait_condition(lambda: self.state != S.under_review)
        return self._result("rejected; the customer is told why")

    @reject.validator
    def _validate_reject(self, action: Reject) -> None:
        self._require_state(S.under_review, "reject")

    @workflow.update(name=names.UPDATE_REQUEST_INFO,
                     description="Ask the customer for more information: {actor, question}")
    async def request_info(self, action: RequestInfo) -> ActionResult:
        self._record(action.actor, "information requested", action.question)
        self.waiting_on = "customer"
        self._publish()
        await self._notify("info_requested", message=action.question)
        return self._result("question sent to the customer")

    @request_info.validator
    def _validate_request_info(self, action: RequestInfo) -> None:
        self._require_state(S.under_review, "request information")

    # ---------------------------------------------------------------- updates: inspection
    @workflow.update(name=names.UPDATE_RECORD_INSPECTION,
                     description="Record the inspection: {actor, items: [{line_id, passed, "
                                 "quantity?, notes?}]} for every received line")
    async def record_inspection(self, action: RecordInspection) -> ActionResult:
        for result in action.items:
            status = self.items[result.line_id]
            status.inspection = "passed" if result.passed else "failed"
            status.inspection_notes = result.notes
            accepted = status.quantity_received if result.quantity is None else result.quantity
            status.quantity_accepted = accepted if result.passed else 0
        self.inspection = action
        for r in action.items:
            if r.inspection_fee:
                self._record(action.actor, "inspection fee", f"line {r.line_id}: "
                             f"{format_money(r.inspection_fee, self.decision.currency)} "
                             f"({self.decision.item(r.line_id).inspection_fee_clause})")
        if action.postage_reimbursement is not None:
            p = action.postage_reimbursement
            self._record(action.actor, "return postage to reimburse",
                         f"{format_money(p.amount, self.decision.currency)}, courier documents "
                         f"{p.courier_reference}")
        self._record(action.actor, "inspection recorded", ", ".join(
            f"{r.line_id} {'passed' if r.passed else 'failed'}"
            + ("; checks confirmed: " + "; ".join(self.items[r.line_id].inspection_checks)
               if r.checks_confirmed and self.items[r.line_id].inspection_checks else "")
            for r in action.items))
        await workflow.wait_condition(lambda: self.state != S.inspecting)
        return self._result(f"inspection recorded; outcome: {self.state.value}")

    @record_inspection.validator
    def _validate_inspection(self, action: RecordInspection) -> None:
        self._require_state(S.inspecting, "record the inspection")
        if self.inspection is not None:
            raise _refused("the inspection is already recorded")
        received = {i.line_id: i for i in self.items.values() if i.quantity_received > 0}
        for r in action.items:
            if r.line_id not in received:
                raise _refused(f"items: line {r.line_id!r} was not received "
                                       f"(received: {', '.join(sorted(received)) or 'nothing'})")
            decided = self.decision.item(r.line_id)
            if r.inspection_fee is not None:
                if decided.inspection_fee_clause is None:
                    raise _refused(f"items: line {r.line_id}: the policy charges no inspection "
                                   f"fee for it (inspection_fee)")
                due = refund_for_accepted(decided, received[r.line_id].quantity_received
                                          if r.quantity is None else r.quantity)
                if not r.passed or r.inspection_fee > due:
                    raise _refused(f"items: line {r.line_id}: inspection_fee {r.inspection_fee} "
                                   f"is more than the {due} refund it is deducted from")
            checks = received[r.line_id].inspection_checks
            if r.passed and checks and not r.checks_confirmed:
                raise _refused(f"items: line {r.line_id} can pass only once the inspection "
                               f"confirmed: {'; '.join(checks)}. Set checks_confirmed: true, "
                               f"or record it as not passed")
            if r.quantity is not None and r.quantity > received[r.line_id].quantity_received:
                raise _refused(f"items: line {r.line_id} quantity {r.quantity} is more than "
                                       f"the {received[r.line_id].quantity_received} received")
        missing = sorted(set(received) - {r.line_id for r in action.items})
        if missing:
            raise _refused(f"items: inspect every received line; missing {', '.join(missing)}")
        if action.postage_reimbursement is not None:
            merchant_pays = [r.line_id for r in action.items if r.passed
                             and self.decision.item(r.line_id).return_shipping_paid_by.value == "merchant"]
            if not merchant_pays:
                raise _refused("postage_reimbursement: under this policy the customer bears the "
                               "return shipping of every line that passed; nothing to reimburse")

    # ---------------------------------------------------------------- updates: deadlines, cancel
    @workflow.update(name=names.UPDATE_EXTEND_DEADLINE,
                     description="Move a deadline: {actor, deadline: review|ship_by|inspection|"
                                 "refund|reshipment, days, reason}")
    async def extend_deadline(self, action: ExtendDeadline) -> ActionResult:
        kind = action.deadline
        unit = self.deadline_units[kind]
        unit = DayUnit.calendar_days if unit == DayUnit.hours else unit
        deadline = self.deadlines[kind]
        new_due = await self._compute(deadline.due_at, Duration(amount=action.days, unit=unit))
        deadline.due_at = new_due
        deadline.breached = False
        deadline.extensions.append(f"+{action.days} {unit.value} by {action.actor}: {action.reason}")
        self.deadline_version += 1
        self._record(action.actor, "deadline extended",
                     f"{DEADLINE_LABELS[kind]} to {new_due.isoformat()}: {action.reason}")
        self._publish()
        return self._result(f"{DEADLINE_LABELS[kind]} is now {new_due.isoformat()}")

    @extend_deadline.validator
    def _validate_extend(self, action: ExtendDeadline) -> None:
        deadline = self.deadlines.get(action.deadline)
        if deadline is None or deadline.met or self.state in FINAL:
            running = [k.value for k, d in self.deadlines.items() if not d.met]
            raise _refused(f"deadline: {action.deadline.value} is not running "
                                   f"(running: {', '.join(running) or 'none'})")

    @workflow.update(name=names.UPDATE_CANCEL, description="Cancel the return: {actor, reason}")
    async def cancel(self, action: Cancel) -> ActionResult:
        self.cancellation = action
        self._record(action.actor, "cancel requested", action.reason)
        await workflow.wait_condition(
            lambda: self.state == S.cancelled or S.cancelled not in TRANSITIONS[self.state])
        if self.state != S.cancelled:
            return self._result(f"not cancelled: the return became {self.state.value} first")
        return self._result("cancelled; the customer is told")

    @cancel.validator
    def _validate_cancel(self, action: Cancel) -> None:
        if S.cancelled not in TRANSITIONS[self.state] or (
                self.state == S.inspecting and self.inspection is not None):
            raise _refused(f"a return that is {self.state.value} cannot be cancelled"
                                   + ("; the refund is in progress: let it finish or fail"
                                      if self.state == S.refunding else ""))

    @workflow.update(name=names.UPDATE_ACKNOWLEDGE,
                     description="Staff dealt with what needs attention (NeedsAttention): "
                                 "{actor, note}; clears it, the audit keeps who and how")
    async def acknowledge(self, action: Acknowledge) -> ActionResult:
        cleared = self._attention_reason()
        self._record(action.actor, "attention acknowledged", f"{action.note} (was: {cleared})")
        self.email_problems.clear()
        self._clear_attention()
        return self._result("attention cleared")

    @acknowledge.validator
    def _validate_acknowledge(self, action: Acknowledge) -> None:
        if self._attention_reason() is None:
            raise _refused("nothing needs attention on this return")
        if self._refund_failed():
            raise _refused("the refund failed: retry_refund or record_manual_refund, which clear "
                           "it; acknowledging would leave the customer unpaid")

    def _refund_failed(self) -> bool:
        return self.refund is not None and self.refund.status == "failed"

    def _can_acknowledge(self) -> bool:
        return self._attention_reason() is not None and not self._refund_failed()

    # ---------------------------------------------------------------- updates: refunds, shipping
    @workflow.update(name=names.UPDATE_RETRY_REFUND,
                     description="Try the failed refund again: {actor, note?}")
    async def retry_refund(self, action: RetryRefund) -> ActionResult:
        self.refund_retry = action
        await workflow.wait_condition(lambda: self.refund.status != "failed")
        return self._result("refund retry started")

    @retry_refund.validator
    def _validate_retry(self, action: RetryRefund) -> None:
        self._require_failed_refund("retry the refund")

    @workflow.update(name=names.UPDATE_RECORD_MANUAL_REFUND,
                     description="Record a refund made outside the system: {actor, amount (minor "
                                 "units), reference, note?}")
    async def record_manual_refund(self, action: RecordManualRefund) -> ActionResult:
        self.manual_refund = action
        await workflow.wait_condition(lambda: self.refund.status == "manual")
        return self._result("manual refund recorded")

    @record_manual_refund.validator
    def _validate_manual(self, action: RecordManualRefund) -> None:
        self._require_failed_refund("record a manual refund")
        if action.amount > self.refund.amount:
            raise _refused(f"amount: {action.amount} is more than the "
                                   f"{self.refund.amount} due ({self.refund.currency} minor units)")

    @workflow.update(name=names.UPDATE_SHIP_TO_CUSTOMER,
                     description="Record the shipment to the customer (exchange, repaired item, "
                                 "refused item): {actor, carrier, tracking_number, note?}")
    async def ship_to_customer(self, action: ShipToCustomer) -> ActionResult:
        self.shipment = action
        self._record(action.actor, "shipped to customer", f"{action.carrier} {action.tracking_number}"
                     + (f"; fees paid, ref {action.fee_payment_reference}"
                        if action.fee_payment_reference else ""))
        state = self.state
        await workflow.wait_condition(lambda: self.state != state)
        return self._result(f"shipment recorded; now {self.state.value}")

    @ship_to_customer.validator
    def _validate_ship(self, action: ShipToCustomer) -> None:
        if self.state not in (S.exchange_shipping, S.repairing, S.returning_to_customer) \
                or self.shipment is not None:
            raise _refused(f"nothing is waiting to be shipped to the customer; the return "
                                   f"is {self.state.value}")
        if self.state == S.exchange_shipping and self._exchange_fees() \
                and not action.fee_payment_reference:
            raise _refused(f"fee_payment_reference: the exchange carries "
                           f"{format_money(self._exchange_fees(), self.decision.currency)} of fees "
                           f"(004 §4.5); collect them first and give the payment's reference")

    # ---------------------------------------------------------------- query
    @workflow.query(name=names.QUERY_STATUS,
                    description="Full status: state, items, deadlines, amounts, label, refund, audit")
    def status(self) -> ReturnStatus:
        return self._status()

    # ---------------------------------------------------------------- helpers
    def _require_state(self, state: ReturnState, what: str) -> None:
        if self.state != state:
            raise _refused(f"cannot {what}: the return is {self.state.value}, not "
                                   f"{state.value}")

    def _require_failed_refund(self, what: str) -> None:
        if not self._refund_failed():
            status = self.refund.status if self.refund else "not started"
            raise _refused(f"cannot {what}: the refund is {status}; this is possible only "
                                   f"after the automatic refund has failed")

    def _seen(self, event_id: str) -> bool:
        """Order-system events are delivered at least once: act on each event id once."""
        if event_id in self.event_ids:
            return True
        self.event_ids.add(event_id)
        return False

    def _stopping(self) -> bool:
        """A withdrawal or cancellation stops the return only where the state allows it."""
        allowed = TRANSITIONS[self.state]
        return (self.cancellation is not None and S.cancelled in allowed) or (
            self.withdrawal is not None and not self.receipts and S.withdrawn in allowed)

    def _load_items(self, decision: ReturnDecision) -> None:
        for d in decision.items:
            current = self.items.get(d.line_id)
            status = ItemStatus(
                line_id=d.line_id, sku=d.sku, title=d.title, quantity_requested=d.quantity,
                eligible=d.eligible, resolution=d.resolution, reasons=d.reasons, fees=d.fees,
                refund_amount=d.refund_amount, requested_resolution=d.requested_resolution,
                resolution_reason=d.resolution_reason,
                return_shipping_paid_by=d.return_shipping_paid_by,
                evidence_missing=d.evidence_missing, staff_review_points=d.staff_review_points,
                inspection_checks=d.inspection_checks,
            )
            if current is not None:
                status.quantity_received = current.quantity_received
                status.quantity_accepted = current.quantity_accepted
                status.condition_notes = current.condition_notes
            self.items[d.line_id] = status
        self._publish()

    def _eligible(self) -> list[ItemDecision]:
        return [i for i in self.decision.items if i.eligible] if self.decision else []

    def _items_to_ship(self) -> list[ItemDecision]:
        return [i for i in self._eligible() if i.needs_return_shipment]

    def _label_path(self) -> str | None:
        return self.label.path if self.label else None

    def _review_points(self) -> str:
        lines = []
        for i in self.decision.items:
            verdict = "eligible" if i.eligible else "not eligible"
            lines.append(f"{i.title} x{i.quantity}: {verdict}, "
                         f"{i.resolution.value if i.resolution else 'no resolution'}")
            lines += [f"  - {r}" for r in i.reasons]
            lines += [f"  - staff: {p}" for p in i.staff_review_points]
            if i.evidence_missing:
                lines.append(f"  - missing evidence: {', '.join(e.value for e in i.evidence_missing)}")
        lines += [f"address: {r}" for r in self.decision.address_problems]
        return "\n".join(lines)

    def _transition(self, new: ReturnState, waiting_on: str | None = "") -> None:
        check_transition(self.state, new)
        self._record("system", "state", f"{self.state.value} -> {new.value}")
        metrics.state_changed(self.request.merchant_id, self.state.value, new.value)
        self.state = new
        if waiting_on != "":
            self.waiting_on = waiting_on
        if new in FINAL:
            self.waiting_on = None
        self._publish()

    def _record(self, actor: str, action: str, detail: str = "") -> None:
        self.audit.append(AuditEntry(at=workflow.now(), actor=actor, action=action, detail=detail))

    def _attention(self, why: str, cause: str | None = None) -> None:
        self.attention = why
        self.attention_cause = cause
        self._publish()

    def _clear_attention(self) -> None:
        self.attention = None
        self.attention_cause = None
        self._publish()

    def _resolved(self, cause: str, how: str) -> None:
        """What raised attention for `cause` is resolved: clear it (ATTENTION_CLEARS)."""
        if self.attention is None or self.attention_cause != cause:
            return
        if workflow.patched(ATTENTION_CLEARS):
            self._record("system", "attention cleared", f"{how}: {self.attention}")
            self._clear_attention()

    def _result(self, message: str) -> ActionResult:
        return ActionResult(state=self.state.value, message=message)

    async def _activity(self, name: str, arg, result_type, summary: str):
        with self._bounded():
            return await workflow.execute_activity(
                name, arg, result_type=result_type,
                start_to_close_timeout=self._attempt_timeout(timedelta(seconds=20),
                                                             timedelta(minutes=1)),
                retry_policy=QUICK, summary=summary,
            )

    @contextmanager
    def _bounded(self):
        """Around an activity whose retry policy ends within minutes (QUICK, NOTIFY_RETRY): the
        search attributes changed before it are upserted at the next rest, not before it."""
        self._bounded_in_flight += 1
        try:
            yield
        finally:
            self._bounded_in_flight -= 1
            if self._pending_attributes:
                self._schedule_flush()

    def _attempt_timeout(self, now: timedelta, before: timedelta) -> timedelta:
        """How long one activity attempt may run before Temporal retries it elsewhere."""
        return now if self.since_staff_notices else before

    async def _notify(self, template: str, *, message: str | None = None,
                      deadline: datetime | None = None, label_path: str | None = None,
                      tracking: str | None = None, refund_total: str | None = None) -> None:
        await self._send(template, "customer", self.request.order.customer.email, message=message,
                         deadline=deadline, label_path=label_path, tracking=tracking,
                         refund_total=refund_total)

    async def _notify_staff(self, template: str, *, message: str | None = None,
                            deadline: datetime | None = None) -> None:
        await self._send(template, "staff", self.decision.merchant.staff_email, message=message,
                         deadline=deadline)

    async def _send(self, template: str, audience: str, to: str, *, message, deadline,
                    label_path=None, tracking=None, refund_total=None) -> None:
        if self.decision is None:
            return
        self.notify_seq += 1
        currency = self.decision.currency
        note = c.Notification(
            idempotency_key=c.step_key(workflow.info().workflow_id,
                                       f"notify:{self.notify_seq}:{template}"),
            template=template, audience=audience, to=to, merchant_id=self.request.merchant_id,
            locale=self.request.order.customer.locale,
            merchant_name=self.decision.merchant.name,
            merchant_support_email=self.decision.merchant.support_email,
            merchant_return_address=self.decision.merchant.return_address,
            return_id=self.request.return_id, order_id=self.request.order.order_id,
            customer_name=self.request.order.customer.name, state=self.state.value,
            items=[c.NotificationItem(
                title=i.title, quantity=i.quantity,
                resolution=i.resolution.value if i.resolution else None, eligible=i.eligible,
                reasons=[str(r) for r in i.reasons],
                refund=format_money(i.refund_amount, currency) if i.refund_amount else None,
                fees=[f"{f.kind.value}: {format_money(f.amount, currency)}" for f in i.fees
                      if not f.waived],
            ) for i in self.decision.items],
            message=message,
            deadline=deadline.strftime("%A %d %B %Y, %H:%M UTC") if deadline else None,
            deadline_at=deadline, timezone=self.decision.sla.calendar.timezone,
            refund_total=refund_total or (format_money(self.decision.refund_total, currency)
                                          if self.decision.refund_total else None),
            label_path=label_path, tracking=tracking,
        )
        try:
            with self._bounded():
                await workflow.execute_activity(
                    c.SEND_NOTIFICATION, note, result_type=c.NotificationSent,
                    start_to_close_timeout=self._attempt_timeout(timedelta(seconds=20),
                                                                 timedelta(minutes=1)),
                    retry_policy=NOTIFY_RETRY, summary=f"email {audience}: {template}",
                )
            self._record("system", f"emailed {audience}", template)
            if self.email_problems.pop(audience, None):  # that address works again
                self._publish()
        except ActivityError as err:
            # A failed email must not stop the return; staff see it and reach the person.
            why = err.cause.message if isinstance(err.cause, ApplicationError) else str(err.cause or err)
            self._record("system", f"email to {audience} failed", f"{template}: {why}")
            problem = f"could not email the {audience} ({template}): {why}"
            if not self.since_staff_notices:
                self._attention(problem)
                return
            self.email_problems[audience] = problem
            self._publish()
            if audience == "customer":
                await self._notify_staff("escalation", message=f"{problem}. Reach the customer "
                                         f"another way; the return goes on.")

    def _status(self) -> ReturnStatus:
        currency = self.decision.currency if self.decision else self.request.order.currency
        return ReturnStatus(
            return_id=self.request.return_id, merchant_id=self.request.merchant_id,
            order_id=self.request.order.order_id, state=self.state, outcome=self.outcome,
            currency=currency,
            refund_total=self.decision.refund_total if self.decision else 0,
            fees_total=self.decision.fees_total if self.decision else 0,
            items=list(self.items.values()),
            deadlines=list(self.deadlines.values()), label=self.label, refund=self.refund,
            needs_attention=self._attention_reason() is not None,
            attention_reason=self._attention_reason(),
            waiting_on=self.waiting_on,
            next_actions=[] if self.state in FINAL else NEXT_ACTIONS.get(self.state, []) + (
                ["acknowledge (what needs attention)"] if self._can_acknowledge() else []),
            audit=self.audit,
        )

    def _attention_reason(self) -> str | None:
        reasons = [r for r in (self.attention, *self.email_problems.values()) if r]
        return "; ".join(reasons) or None

    def _next_deadline(self) -> Deadline | None:
        running = [d for d in self.deadlines.values() if not d.met and self.state not in FINAL]
        return min(running, key=lambda d: d.due_at, default=None)

    def _publish(self) -> None:
        """Keep search attributes and the UI's status card in step with the state."""
        nxt = self._next_deadline()
        resolutions = sorted({i.resolution.value for i in self._eligible() if i.resolution})
        refund_total = self.decision.refund_total if self.decision else 0
        updates = [
            sa.RETURN_ID.value_set(self.request.return_id),
            sa.MERCHANT_ID.value_set(self.request.merchant_id),
            sa.ORDER_ID.value_set(self.request.order.order_id),
            sa.RETURN_STATE.value_set(self.state.value),
            sa.WAITING_ON.value_set(self.waiting_on or "nobody"),
            sa.NEEDS_ATTENTION.value_set(self._attention_reason() is not None),
            sa.REFUND_AMOUNT.value_set(refund_total),
            sa.CURRENCY.value_set(self.decision.currency if self.decision else self.request.order.currency),
            sa.RESOLUTIONS.value_set(resolutions),
            sa.REQUESTED_AT.value_set(self.request.occurred_at),
            sa.NEXT_DEADLINE.value_set(nxt.due_at) if nxt else sa.NEXT_DEADLINE.value_unset(),
            sa.NEXT_DEADLINE_KIND.value_set(nxt.kind.value) if nxt else sa.NEXT_DEADLINE_KIND.value_unset(),
        ]
        if self.label is not None and self.since_staff_notices:
            updates.append(sa.LABEL_BARCODE.value_set(self.label.barcode_value))
        # Upsert only what changed: each upsert is an event in the history.
        changed = [u for u in updates if self._published.get(u.key.name) != u.value]
        if changed:
            self._published.update({u.key.name: u.value for u in changed})
            if self.since_batched_attributes:
                self._pending_attributes.update({u.key.name: u for u in changed})
                self._schedule_flush()
            else:
                workflow.upsert_search_attributes(changed)
        workflow.set_current_details(render_status_card(self._status()))

    def _schedule_flush(self) -> None:
        """Upsert once the running coroutines have all reached their next wait, still within this
        workflow task: every change made in one task becomes one upsert."""
        if self._flush_scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # No loop: the worker is tearing this workflow down (its coroutine closed by the
            # garbage collector after eviction or at shutdown). Nothing is published then; the
            # return carries on from its history wherever it runs next.
            return
        self._flush_scheduled = True
        loop.call_soon(self._flush_attributes)

    def _flush_attributes(self, final: bool = False) -> None:
        self._flush_scheduled = False
        if not self._pending_attributes or (self._bounded_in_flight and not final):
            return  # nothing new, or a short activity runs: at its end, or at the next rest
        workflow.upsert_search_attributes(list(self._pending_attributes.values()))
        self._pending_attributes.clear()


