"""ReturnWorkflow: one durable workflow per return, carrying the order system's `return.requested`
through the merchant's written policy.

    evaluate ─► review ─► approve ─► label, ship-by ─► parcel ─► receipt ─► inspection ─► outcome
       │           │                     │ (reminder, then expiry)                      refund
       └ auto-     └ reject              └ nothing to send back: refund or            exchange
         reject                            exchange at once                             repair
                                                                                 back to customer

1. `evaluate`: the policy activity decides each item (eligible? which resolution? fees? refund?).
2. `review`: staff approve (with overrides), reject or ask the customer; a late review is escalated.
3. unless nothing travels back, the customer gets a PDF label and a ship-by deadline: a reminder
   before it, expiry at it unless the carrier scanned the parcel.
4. the warehouse signals `warehouse_receipt` (partial receipts allowed); staff record the
   inspection, escalated when late.
5. each accepted item gets its resolution: refund (retried, escalated before it is due, then
   handed to staff), exchange or repair shipped by staff; what failed goes back to the customer.

The customer may withdraw and staff may cancel until the parcel is in (`_Stopped`).

Messages, each ONE JSON object naming its actor (returns/actions.py):
- signals: `warehouse_receipt` (warehouse staff), `withdraw`, `parcel_scanned` (order system),
  `delivery` (its deliveries workflow: events out failing, through again, stopped);
- updates: `approve`, `reject`, `request_info`, `record_inspection`, `extend_deadline`, `cancel`,
  `retry_refund`, `record_manual_refund`, `ship_to_customer`, `acknowledge`: each validator asks
  the domain (returns/allowed.py and the payload's own checks) and refuses with its words;
- the customer page's update `record_evidence`: a photo or video stored outside history
  (returns/evidence.py), recorded by hash until the return is finished;
- query: `status`, the same view the UI's status card and `returns show` render;
- the customer's update `answer_question` (from their return page, customer_page/): the answer to
  staff's `request_info`; the review clock waits while a question is open (`_review_in_time`).
- what the customer owes before a shipment (workflows/customer_payments.py): the update
  `request_customer_payment` (staff quote it) and the signal `customer_paid` (Stripe's verified
  webhook, through the receiver).

Each step that matters to the merchant's order system is told to it (`_tell`, one line at each
point): the event (returns/outbound.py) is queued on the return's deliveries workflow
(workflows/delivery_workflow.py), which delivers it signed, in order and durably; the return never
waits for the order system. A delivery that keeps failing comes back as the `delivery` signal.

Decisions live in returns/ (pure, tested in milliseconds); this module is the story and its waits;
workflows/return_messages.py has the handlers and the view, workflows/return_effects.py the
activities (emails, deadlines, the order's line guard, events to the order system).
Deadlines come from an activity (holiday calendars) and are waited on with durable timers.
Search attributes are upserted when the return comes to rest (`_wait`) and when it ends.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Callable

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():

    from activities import contracts
    from returns import notices, outbound, postage
    from returns.actions import (
        Approve, Cancel, RecordInspection, RecordManualRefund, Reject, RetryRefund, ShipToCustomer,
    )
    from returns.events import ParcelScanned, Resolution, ReturnRequested, ReturnWithdrawn
    from returns.inspection import inspection_fee
    from returns.money import format_money
    from returns.order_lines import RefundOfLine, UnitsOfLine
    from returns.outbound import OutboundType as Out
    from returns.policy.decision import DayUnit, Duration, ItemDecision, ReturnDecision
    from returns.policy.refunds import refund_for_accepted
    from returns.refund_itemised import itemised
    from returns.status import (
        DEADLINE_LABELS, FINAL, TRANSITIONS, AttentionCause, AuditEntry, Deadline,
        DeadlineKind as Kind, InspectionResult, ItemStatus, LabelInfo, Outcome, ReceiptLog,
        RefundInfo, RefundStatus, ReturnState as State, ReturnStatus, WaitingOn,
        describe_outcomes,
    )
    from returns.status import EvidenceFile
    from workflows import metrics, names
    from workflows.return_effects import UNTIL_DONE, ReturnEffects, why
    from workflows.customer_payments import CustomerPayments

# A refund is tried briefly first, like an email; only if that fails does the return rest and
# retry with backoff until the refund is due (escalated before then), then go to staff.
REFUND_FIRST_TRY = RetryPolicy(initial_interval=timedelta(seconds=2), backoff_coefficient=2.0,
                               maximum_attempts=3,
                               non_retryable_error_types=[contracts.REFUND_REFUSED])
REFUND_UNTIL_DUE = RetryPolicy(initial_interval=timedelta(seconds=10), backoff_coefficient=2.0,
                               maximum_interval=timedelta(hours=1),
                               non_retryable_error_types=[contracts.REFUND_REFUSED])
REFUND_ATTEMPT = timedelta(seconds=30)  # one attempt's limit (other activities: ATTEMPT)


class _Stopped(Exception):
    """The customer withdrew or staff cancelled while the return was waiting."""


@workflow.defn(name=names.WORKFLOW_TYPE)
class ReturnWorkflow(CustomerPayments, ReturnEffects):
    @workflow.init
    def __init__(self, request: ReturnRequested) -> None:
        self.request = request
        self.state = State.requested
        self.waiting_on: WaitingOn | None = None
        self.decision: ReturnDecision | None = None
        self.items: dict[str, ItemStatus] = {}
        self.deadlines: dict[Kind, Deadline] = {}
        self.review: Approve | Reject | None = None
        self.review_error: str | None = None  # why the last approval could not be applied
        self.receipts: list[ReceiptLog] = []
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
        self.attention_cause: AttentionCause | None = None
        self.attention_deadline: Kind | None = None
        self.email_problems: dict[str, str] = {}  # audience -> why the last email failed
        self.outcomes: list[Outcome] = []
        self.audit: list[AuditEntry] = []
        self.event_ids: set[str] = {request.event_id}
        self.emails_sent = 0
        # A refund-only inspection's result is told in the closing email (one email, not three),
        # or when its refund fails, whichever comes first.
        self.inspection_untold = False
        self.approvals = 0
        self.lines_reserved = False
        self.events_told = 0  # events out so far: the next one's sequence (and id)
        self.telling = True  # False once the merchant has no endpoint, or stopped the deliveries
        self._upserted: dict[str, object] = {}  # search attribute name -> value last upserted
        self._unsent: list = []  # search attribute updates waiting for the next rest
        self.evidence: list[EvidenceFile] = []  # the customer's uploads (returns/evidence.py)
        self.open_question = None  # staff's request_info the customer has not answered yet
        self.questions_asked = 0
        self.customer_answers = []
        self.tracking = []  # the parcel's tracking numbers, from the customer and the carrier
        self.shipped_tracking: list[str] = []  # each ship_to_customer's number (TrackingRefs)
        self.owed_payment = None  # what the customer is asked to pay online (customer_payments)
        self.payment_quote = None
        self.payment_pages = 0

    # ---------------------------------------------------------------- the story of a return
    @workflow.run
    async def run(self, request: ReturnRequested) -> ReturnStatus:
        self._record("system", "return requested", f"event {request.event_id}")
        metrics.return_started(request.merchant_id, self.state.value)
        self._publish()
        try:
            await self._evaluate()
            if self.decision.auto_reject:
                reasons = "; ".join(str(r) for r in self.decision.auto_reject_reasons) or \
                    "no requested item is eligible under the return policy"
                return await self._finish(State.rejected, Outcome.rejected, "rejected", reasons,
                                          audit=("policy", "rejected automatically"),
                                          message_for_audit_only=True)
            await self._review()
            if isinstance(self.review, Reject):
                return await self._finish(State.rejected, Outcome.rejected, "rejected",
                                          self.review.reason)
            await self._approve()
            await self._refund_returnless_items()
            if self._items_to_ship():
                if not await self._await_parcel():
                    return await self._finish(State.expired, Outcome.expired, "expired")
                await self._inspect()
                await self._resolve_inspected_items()
            elif self._returnless_exchanges():
                await self._exchange_without_return()
            else:
                await self._close([Outcome.returnless_refund])
        except _Stopped:
            return await self._stop()
        return await self._final_status()

    async def _evaluate(self) -> None:
        self.decision = await self._step(
            contracts.EVALUATE_RETURN, contracts.EvaluateReturn(request=self.request),
            ReturnDecision, "evaluate the merchant's return policy", local=True)
        self._load_items()
        eligible = sum(1 for i in self.decision.items if i.eligible)
        self._record("policy", "decision", f"{eligible} of {len(self.decision.items)} item(s) "
                     f"eligible under {self.decision.merchant_id} policy "
                     f"{self.decision.policy_version}")
        for i in self.decision.items:
            verdict = (f"eligible: {i.resolution.value}" if i.eligible and i.resolution
                       else "not eligible")
            self._record("policy", f"line {i.line_id} {verdict}",
                         "; ".join(str(r) for r in i.reasons))

    async def _review(self) -> None:
        """Staff approve or reject; an approval whose overrides cannot apply goes back to them."""
        await self._set_deadline(Kind.review, self.decision.sla.review)
        self._transition(State.under_review, WaitingOn.staff)
        # The customer's and staff's emails go out side by side: one workflow task fewer per
        # new return (docs/performance.md, "Pages people wait on").
        await asyncio.gather(
            self._notify("request_received", deadline=self._due(Kind.review)),
            self._notify_staff("review_needed", message=notices.review_points(self.decision)))
        while True:
            if not await self._review_in_time():
                await self._escalate(Kind.review, "the review deadline has passed; the customer "
                                                  "is waiting")
                await self._wait(lambda: self.review is not None)
            if isinstance(self.review, Reject):
                self._record(self.review.actor, "rejected", self.review.reason)
                return
            self._record(self.review.actor, "approved", self.review.note or "")
            if await self._apply_overrides() and await self._reserve_order_lines():
                return

    async def _review_in_time(self) -> bool:
        """Wait for staff's decision until the review deadline; False when it passed. The clock
        waits while the customer owes an answer (docs/policies.md: 003 §III.1-2, 004 §3.1-2):
        `answer_question` moves the due date by the time the question was open."""
        decided = lambda: self.review is not None  # noqa: E731
        paused = lambda: self.deadlines[Kind.review].paused_since is not None  # noqa: E731
        while not decided():
            if paused():
                await self._wait(lambda: decided() or not paused())
            elif not await self._before_deadline(lambda: decided() or paused(), Kind.review):
                return False
        return True

    async def _apply_overrides(self) -> bool:
        """Staff exceptions re-priced by the policy; False (back to review) if they cannot apply."""
        approval = self.review
        if not approval.overrides:
            return True
        try:
            self.decision = await self._step(
                contracts.APPLY_OVERRIDES,
                contracts.ApplyOverrides(decision=self.decision, overrides=approval.overrides,
                                         actor=approval.actor),
                ReturnDecision, "apply staff overrides to the decision", local=True)
        except ActivityError as err:
            self.review_error = f"the overrides could not be applied: {why(err)}"
            self._record(approval.actor, "approval not applied", why(err))
            self.review = None  # still under review: approve again, or reject
            return False
        self._load_items()
        for o in approval.overrides:
            self._record(approval.actor, "override", f"line {o.line_id}: {o.reason}")
        return True

    async def _reserve_order_lines(self) -> bool:
        """The units of every eligible item, taken from what the order's lines have left (across
        all the returns of the order); False (back to review) when a line has too few."""
        self.approvals += 1
        refused = await self._order_lines(
            contracts.RESERVE_ORDER_LINES, contracts.ReserveOrderLines, f"reserve:{self.approvals}",
            local=True,  # staff wait on the approval's answer: in the same workflow task
            lines=[UnitsOfLine(line_id=i.line_id, units=i.quantity) for i in self._eligible()])
        if refused:
            self.review_error = f"the order's lines do not allow it: {refused}"
            self._record(self.review.actor, "approval not applied", refused)
            self.review = None
            return False
        self.lines_reserved = True
        return True

    async def _approve(self) -> None:
        self._meet(Kind.review)
        self._transition(State.approved, WaitingOn.staff)
        await self._tell(Out.approved)
        if self._items_to_ship():
            await self._set_deadline(Kind.ship_by, self.decision.sla.ship_by)
            await self._create_label()
        await self._notify("approved", message=self.review.note,
                           label_path=self.label.path if self.label else None,
                           deadline=self._due(Kind.ship_by) if Kind.ship_by in self.deadlines
                           else None)
        for i in self._returnless_exchanges():  # nothing comes back to inspect
            self.items[i.line_id].quantity_accepted = i.quantity

    async def _refund_returnless_items(self) -> None:
        """Refunds that need nothing back (a lost parcel, postage above the value: 000 §1.3)."""
        items = [i for i in self._eligible() if i.resolution == Resolution.returnless_refund]
        if not items:
            return
        for i in items:
            self.items[i.line_id].quantity_accepted = i.quantity
        ships_too = bool(self._items_to_ship() or self._returnless_exchanges())
        await self._pay_refund([RefundOfLine(line_id=i.line_id, units=i.quantity,
                                             amount=i.refund_amount) for i in items],
                               "returnless", "returnless refund (no shipment needed)",
                               change_state=not ships_too, tell_customer=ships_too)

    async def _exchange_without_return(self) -> None:
        refunded = self.refund is not None
        await self._ship_back(State.exchange_shipping, State.exchanged, "exchange_shipping",
                              deadline=Kind.reshipment)
        await self._mark_exchanged(self._returnless_exchanges())
        await self._close([Outcome.refunded, Outcome.exchanged] if refunded
                          else [Outcome.exchanged])

    async def _await_parcel(self) -> bool:
        """Wait for the parcel, reminding before the ship-by deadline; False when it expired."""
        self._transition(State.awaiting_shipment, WaitingOn.customer)
        moving = lambda: self._parcel_in() or bool(self.scans)  # noqa: E731
        reminded = False
        while not moving():
            due = self._due(Kind.ship_by)
            if not reminded:
                reminded = True
                remind_at = await self._compute(due, self.decision.sla.ship_by_reminder_before,
                                                backwards=True)
                if workflow.now() < remind_at:  # no reminder when the deadline is that close
                    if await self._wait(lambda: moving() or self._due(Kind.ship_by) != due,
                                        remind_at, "ship-by reminder"):
                        reminded = moving()  # or staff moved the deadline: plan it again
                        continue
                    await self._notify("ship_by_reminder", deadline=due)
            if not await self._before_deadline(moving, Kind.ship_by):
                self._breach(Kind.ship_by)
                return False
        self._meet(Kind.ship_by)
        if not self._parcel_in():
            self._transition(State.in_transit, WaitingOn.carrier)
            scan = self.scans[-1]
            await self._tell(Out.parcel_shipped, carrier=scan.carrier,
                             tracking_number=scan.tracking_number)
            await self._notify("parcel_in_transit",
                               tracking=f"{scan.carrier} {scan.tracking_number}")
            await self._wait(self._parcel_in)
        return True

    async def _inspect(self) -> None:
        self._transition(State.received, WaitingOn.warehouse)
        await self._tell(Out.received)
        await self._notify("received", message=notices.not_received(self.items),
                           missing=notices.missing_units(self.items))
        await self._set_deadline(Kind.inspection, self.decision.sla.inspection)
        self._transition(State.inspecting, WaitingOn.warehouse)
        await self._notify_staff("action_needed", deadline=self._due(Kind.inspection),
                                 message=notices.inspection_todo(self.items))
        if not await self._before_deadline(lambda: self.inspection is not None, Kind.inspection):
            await self._escalate(Kind.inspection, "the inspection deadline has passed")
            await self._wait(lambda: self.inspection is not None)
        self._meet(Kind.inspection)
        await self._tell(Out.inspected)
        failed = any(i.inspection == InspectionResult.failed for i in self.items.values())
        accepted = [self.decision.item(i.line_id) for i in self.items.values()
                    if i.quantity_accepted]
        if accepted and not failed and all(i.resolution == Resolution.refund for i in accepted):
            self.inspection_untold = True  # the refund's closing email says it
        elif accepted:
            due = sum(self._refund_due(i) for i in accepted if i.resolution == Resolution.refund)
            await self._notify("inspection_passed",  # and what is owed first (004 §4.4, §4.5)
                               message=notices.owed_after_inspection(self.decision, self.items),
                               # the refund of what passed (a failed line refunds nothing)
                               refund_total=format_money(due, self.decision.currency) if due
                               else "",
                               **notices.owed_after_inspection_for_customer(self.decision,
                                                                            self.items))
        if any(i.inspection == InspectionResult.failed for i in self.items.values()):
            await self._notify("inspection_failed",
                               message=notices.inspection_failed(self.decision, self.items),
                               failed=notices.failed_units(self.items),
                               **notices.owed_for_failed_items(self.decision, self.items))

    async def _resolve_inspected_items(self) -> None:
        """Each accepted item gets its resolution; what failed goes back to the customer."""
        accepted = [self.decision.item(i.line_id) for i in self.items.values()
                    if i.quantity_accepted > 0]
        refunds = [i for i in accepted if i.resolution == Resolution.refund]
        exchanges = [i for i in accepted if i.resolution == Resolution.exchange]
        repairs = [i for i in accepted if i.resolution == Resolution.repair]
        refused = [i for i in self.items.values() if i.quantity_received > i.quantity_accepted]
        if self.inspection.postage_reimbursement is not None:  # 004 §3.4: paid separately
            await self._notify_staff("action_needed", message=notices.postage_todo(
                self.inspection.postage_reimbursement, self.decision.currency))
        if refunds:
            await self._pay_refund([RefundOfLine(
                line_id=i.line_id, units=self.items[i.line_id].quantity_accepted,
                amount=self._refund_due(i)) for i in refunds], "refund", "refund after inspection",
            tell_customer=bool(exchanges or repairs or refused))  # else: the closing email
        if exchanges:
            await self._ship_back(State.exchange_shipping, State.exchanged, "exchange_shipping",
                                  deadline=Kind.reshipment)
            await self._mark_exchanged(exchanges)
        if repairs:
            await self._notify("repair_started")
            await self._ship_back(State.repairing, State.repaired, "repaired")
        if refused:
            await self._ship_back(State.returning_to_customer, State.closed,
                                  "returned_to_customer")
        partly = self.refund is not None and self.refund.status == RefundStatus.partial
        outcomes = [o for o, present in ((Outcome.partially_refunded if partly
                                          else Outcome.refunded, refunds),
                                         (Outcome.exchanged, exchanges),
                                         (Outcome.repaired, repairs),
                                         (Outcome.returned_to_customer, refused)) if present]
        if len(outcomes) != 1 and self.state not in FINAL:
            self._transition(State.closed)
        await self._close(outcomes or [Outcome.nothing_accepted])

    def _refund_due(self, item: ItemDecision) -> int:
        """What an inspected line refunds: the units that passed, less any inspection fee."""
        return refund_for_accepted(item, self.items[item.line_id].quantity_accepted,
                                   inspection_fee(self.inspection, item.line_id))

    async def _close(self, outcomes: list[Outcome]) -> None:
        self.outcomes = outcomes
        self._publish()
        await self._tell(Out.closed)
        # What was paid, never the policy's proposal: an item that failed inspection refunds
        # nothing (the email's refund line is left out).
        await self._notify("closed", refund_paid=self.refund.paid if self.refund else 0,
                           failed=notices.failed_units(self.items),
                           refund_lines=itemised(self._status(with_actions=False)))

    async def _finish(self, state: State, outcome: Outcome, template: str,
                      message: str | None = None,
                      audit: tuple[str, str] | None = None,
                      message_for_audit_only: bool = False) -> ReturnStatus:
        self.outcomes = [outcome]
        self._transition(state)
        if audit:
            self._record(*audit, message or "")
        await self._tell(outbound.FINISHED[state])
        # The policy's own reasons (clauses) are for the audit; the customer's email words the
        # items' decisions itself (returns/customer_words.py).
        await self._notify(template, message=None if message_for_audit_only else message)
        return await self._final_status()

    async def _stop(self) -> ReturnStatus:
        if self.cancellation is not None and State.cancelled in TRANSITIONS[self.state]:
            return await self._finish(State.cancelled, Outcome.cancelled, "cancelled",
                                      self.cancellation.reason)
        return await self._finish(State.withdrawn, Outcome.withdrawn, "withdrawn",
                                  self.withdrawal.reason)

    async def _final_status(self) -> ReturnStatus:
        if self.lines_reserved:  # what was not refunded or exchanged goes back to the order
            await self._order_lines(contracts.RELEASE_ORDER_LINES, contracts.ReleaseOrderLines,
                                    "end", retry=UNTIL_DONE)
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._upsert_attributes()
        metrics.return_ended(self.request.merchant_id, self.state.value,
                             describe_outcomes(self.outcomes))
        return self._status()

    # ---------------------------------------------------------------- outcome steps
    async def _pay_refund(self, lines: list[RefundOfLine], step: str, reason: str,
                          change_state: bool = True, tell_customer: bool = True) -> None:
        """Refund `lines` once the order's lines allow it (their money is claimed first); after a
        failure staff retry it or record a manual refund."""
        currency = self.decision.currency
        amount = sum(ln.amount for ln in lines)
        if amount <= 0:
            self._record("system", "no refund due", reason)
            return
        await self._set_deadline(Kind.refund, self.decision.sla.refund)
        if change_state:
            self._transition(State.refunding, WaitingOn.payment_provider)
        self.refund = RefundInfo(status=RefundStatus.pending, amount=amount, currency=currency)
        self._publish()
        claim: str | None = None  # the claim's key once the order's lines allowed the money
        while True:
            self.refund.attempts += 1
            self.refund.status = RefundStatus.pending
            if claim is None:
                claim = await self._claim(lines, f"{step}:{self.refund.attempts}")
            issued = await self._attempt_refund(amount, step, reason) if claim else None
            if issued is not None:
                self.refund.status = RefundStatus.succeeded
                self.refund.refund_id = issued.refund_id
                self.refund.splits = issued.splits
                self.refund.paid = amount
                self._record("payment provider", "refund issued",
                             f"{format_money(amount, currency)} ({issued.refund_id})")
                break
            self.refund_retry = None  # before the validators let staff ask for another one
            self.refund.status = RefundStatus.failed
            self._attention(f"refund failed: {self.refund.last_error}",
                            AttentionCause.refund_failed)
            await self._tell(Out.refund_failed)
            await self._notify_staff("refund_failed", message=self.refund.last_error)
            await self._tell_inspection_passed_now()
            await self._wait(lambda: self.refund_retry is not None or
                             self.manual_refund is not None)
            self._clear_attention()
            if self.manual_refund is not None:
                await self._record_manual_refund(lines, step, claim)
                break
            self._record(self.refund_retry.actor, "refund retry requested",
                         self.refund_retry.note or "")
        if claim and self.refund.paid:
            await self._order_lines(
                contracts.CONFIRM_LINE_REFUND, contracts.ConfirmLineRefund, f"{step}:confirm",
                retry=UNTIL_DONE, claim_key=claim,
                amount_paid=self.refund.paid if self.refund.paid < amount else None)
        self._meet(Kind.refund)
        self._clear_attention()
        if change_state:
            self._transition(State.refunded if self.refund.status != RefundStatus.partial
                             else State.closed)
        await self._tell(Out.refund_issued)
        if tell_customer:  # else the closing email that follows says it: one email, not two
            await self._notify("refund_issued", refund_paid=self.refund.paid,
                               refund_total=format_money(self.refund.paid, currency),
                               refund_lines=itemised(self._status(with_actions=False)))

    async def _claim(self, lines: list[RefundOfLine], step: str) -> str | None:
        """The refund's money claimed on the order's lines: the claim's key, or None (and why in
        `refund.last_error`) when a line has too little left."""
        call = contracts.ClaimLineRefund.for_return(self.request, workflow.info().workflow_id,
                                                    f"order-lines:{step}", lines=lines)
        refused = await self._order_lines(contracts.CLAIM_LINE_REFUND, call)
        if refused:
            self.refund.last_error = f"the order's lines do not allow this refund: {refused}"
            self._record("order lines", "refund refused", refused)
            return None
        return call.idempotency_key

    async def _record_manual_refund(self, lines: list[RefundOfLine], step: str,
                                    claim: str | None) -> None:
        """Staff refunded outside the system: recorded as paid (partial when less than due)."""
        m = self.manual_refund
        partial = m.amount < self.refund.amount
        self.refund.status = RefundStatus.partial if partial else RefundStatus.manual
        self.refund.manual_reference = m.reference
        self.refund.paid = m.amount
        self._record(m.actor, "partial manual refund recorded" if partial
                     else "manual refund recorded",
                     f"{format_money(m.amount, self.refund.currency)} of "
                     f"{format_money(self.refund.amount, self.refund.currency)} ref {m.reference}")
        if claim is None:  # the order's lines refused the money: staff paid it all the same
            self._attention("a manual refund was recorded that the order's lines did not allow: "
                            f"{self.refund.last_error}", AttentionCause.refund_failed)

    async def _tell_inspection_passed_now(self) -> None:
        """A refund-only inspection's result waits for the closing email; a refund that does not
        go through at once tells it now, with the date the refund is due."""
        if self.inspection_untold:
            self.inspection_untold = False
            await self._notify("inspection_passed", deadline=self._due(Kind.refund))

    async def _attempt_refund(self, amount: int, step: str,
                              reason: str) -> contracts.RefundIssued | None:
        """A brief try; then, at rest, retries until the refund is due, escalated before then."""
        request = contracts.RefundRequest(
            idempotency_key=contracts.step_key(workflow.info().workflow_id, step),
            return_id=self.request.return_id, order_id=self.request.order.order_id,
            merchant_id=self.request.merchant_id, currency=self.decision.currency, amount=amount,
            payments=self.request.order.payments, reason=reason)
        summary = f"refund {format_money(amount, self.decision.currency)}"
        try:
            return await workflow.execute_activity(
                contracts.ISSUE_REFUND, request, result_type=contracts.RefundIssued,
                start_to_close_timeout=REFUND_ATTEMPT, retry_policy=REFUND_FIRST_TRY,
                summary=summary)
        except ActivityError as err:
            self.refund.last_error = why(err)
            await self._tell_inspection_passed_now()
            cause = err.cause
            if isinstance(cause, ApplicationError) and (
                    cause.non_retryable or cause.type == contracts.REFUND_REFUSED):
                self._record("payment provider", "refund failed", self.refund.last_error)
                return None  # refused, or a retry cannot help: staff decide
            self._record("payment provider", "refund attempt failed; retrying until it is due",
                         self.refund.last_error)
        due = self._due(Kind.refund)
        escalate_at = await self._compute(due, self.decision.sla.refund_escalate_before,
                                          backwards=True)
        task = workflow.start_activity(
            contracts.ISSUE_REFUND, request, result_type=contracts.RefundIssued,
            start_to_close_timeout=REFUND_ATTEMPT, retry_policy=REFUND_UNTIL_DUE,
            schedule_to_close_timeout=max(due - workflow.now(), timedelta(minutes=10)),
            summary=summary)
        if not await self._wait(task.done, escalate_at, "refund escalation"):
            self.refund.status = RefundStatus.failing
            await self._escalate(Kind.refund, "the refund has not gone through and is due soon; "
                                              "the payment provider keeps failing")
            await self._wait(task.done)
        try:
            return task.result()
        except ActivityError as err:
            self.refund.last_error = why(err)
            self._record("payment provider", "refund failed", self.refund.last_error)
            return None

    async def _ship_back(self, state: State, done: State, template: str,
                         deadline: Kind | None = None) -> None:
        """Wait for staff to record the shipment to the customer (exchange, repair, refused item)."""
        self.shipment = None
        if deadline is not None:
            await self._set_deadline(deadline, self.decision.sla.reshipment)
        self._transition(state, WaitingOn.staff)
        await self._notify_staff(
            "action_needed", deadline=self._due(deadline) if deadline else None,
            message=notices.shipment_todo(state, self.decision, self.items, self.request.items))
        await self._collect_owed(state, deadline)  # what the customer owes first, online if it can
        shipped = lambda: self.shipment is not None  # noqa: E731
        if deadline is not None and not await self._before_deadline(shipped, deadline):
            await self._escalate(deadline, f"{DEADLINE_LABELS[deadline]} has passed")
        await self._wait(shipped)
        if deadline is not None:
            self._meet(deadline)
        self._transition(done)
        await self._tell(outbound.SHIPPED[state], carrier=self.shipment.carrier,
                         tracking_number=self.shipment.tracking_number)
        await self._notify(template,
                           tracking=f"{self.shipment.carrier} {self.shipment.tracking_number}")

    async def _create_label(self) -> None:
        rma = f"RMA-{self.request.return_id}"
        request = contracts.LabelRequest(
            idempotency_key=contracts.step_key(workflow.info().workflow_id, "label"),
            rma_number=rma, merchant_id=self.request.merchant_id,
            return_id=self.request.return_id, order_id=self.request.order.order_id,
            merchant_name=self.decision.merchant.name,
            merchant_address=self.decision.merchant.return_address,
            customer_name=self.request.order.customer.name,
            customer_address=self.request.order.shipping_address,
            lines=[contracts.LabelLine(sku=i.sku, title=i.title, quantity=i.quantity,
                                       wanted=notices.wanted(i, self.request.items))
                   for i in self._items_to_ship()],
            ship_by=self._due(Kind.ship_by), timezone=self.decision.sla.calendar.timezone,
            prepaid=postage.prepaid_label(self._items_to_ship()))
        try:
            made = await self._step(contracts.CREATE_RETURN_LABEL, request,
                                    contracts.LabelCreated, f"print return label {rma}")
        except ActivityError as err:
            self._attention(f"the return label could not be created: {why(err)}",
                            AttentionCause.label_failed)
            self._record("system", "label failed", why(err))
            return
        self.label = LabelInfo(rma_number=made.rma_number, barcode_value=made.barcode_value,
                               path=made.path, sha256=made.sha256)
        self._record("system", "return label created", made.rma_number)
        self._publish()
        await self._tell(Out.label_created)

    # ---------------------------------------------------------------- waiting and deadlines
    async def _wait(self, condition: Callable[[], bool], until: datetime | None = None,
                    summary: str | None = None) -> bool:
        """Rest until `condition` holds (True) or `until` passes (False). Resting is when the
        search attributes go out, and again whenever a message changes them meanwhile. A
        withdrawal or cancellation ends any wait (`_Stopped`)."""
        while True:
            self._upsert_attributes()
            left = None if until is None else until - workflow.now()
            if left is not None and left <= timedelta(0):
                break
            try:
                await workflow.wait_condition(
                    lambda: condition() or self._stopping() or self._attributes_changed(),
                    timeout=left, timeout_summary=summary)
            except asyncio.TimeoutError:
                break
            if condition() or self._stopping():
                break
        if self._stopping() and not condition():
            raise _Stopped()
        return condition()

    async def _before_deadline(self, condition: Callable[[], bool], kind: Kind) -> bool:
        """Wait for `condition` until the `kind` deadline, which staff may extend meanwhile."""
        while not condition():
            due = self._due(kind)
            summary = f"{DEADLINE_LABELS[kind]} ({self.deadlines[kind].basis})"
            if not await self._wait(lambda: condition() or self._due(kind) != due, due, summary) \
                    and self._due(kind) == due:
                return False
        return True

    async def _set_deadline(self, kind: Kind, duration: Duration) -> None:
        due = await self._compute(workflow.now(), duration)
        basis = duration.describe()
        if duration.unit == DayUnit.business_days:
            basis += f", {self.decision.sla.calendar.country} holidays"
        clause = self.decision.sla.clauses.get(kind.value)
        if clause:
            basis += f" ({clause})"
        self.deadlines[kind] = Deadline(kind=kind, due_at=due, basis=basis, unit=duration.unit)
        self._record("system", "deadline set",
                     f"{DEADLINE_LABELS[kind]}: {due.isoformat()} ({basis})")
        self._publish()

    def _due(self, kind: Kind) -> datetime:
        return self.deadlines[kind].due_at

    def _meet(self, kind: Kind) -> None:
        if kind in self.deadlines:
            if not (self.deadlines[kind].met or self.deadlines[kind].breached):
                metrics.deadline_met(self.request.merchant_id, kind.value)
            self.deadlines[kind].met = True
            if self.attention_cause == AttentionCause.late and self.attention_deadline == kind:
                self._resolved(f"the {kind.value} deadline is met")
            self._publish()

    def _breach(self, kind: Kind) -> None:
        if not self.deadlines[kind].breached:
            metrics.deadline_breached(self.request.merchant_id, kind.value)
        self.deadlines[kind].breached = True
        self._record("system", "deadline passed", DEADLINE_LABELS[kind])
        self._publish()

    async def _escalate(self, kind: Kind, why: str) -> None:
        if workflow.now() >= self._due(kind):
            self._breach(kind)
        self._attention(why, AttentionCause.late, kind)
        await self._notify_staff("escalation", message=why, deadline=self._due(kind))
