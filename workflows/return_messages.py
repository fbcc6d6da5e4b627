"""What a return accepts from outside, and how it shows itself: the signals (warehouse receipt,
withdrawal, parcel scans), the staff's updates with their validators, the status query, the status
card and search attributes, the audit trail and attention. `ReturnWorkflow`
(workflows/return_workflow.py) tells the story; this is its base class.

Every validator asks the domain first (returns/allowed.py: is it this action's turn?) and then
the payload's own checks (returns/receipts.py, returns/inspection.py, returns/policy/overrides.py),
and refuses with their words. No input ever fails a workflow task: a signal is read from its raw
payload and what cannot be read or does not fit is recorded and raised to staff.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.contracts import DeliveryNews
    from returns.actions import (
        Acknowledge, ActionResult, Approve, Cancel, ExtendDeadline, RecordInspection,
        RecordManualRefund, Reject, RequestInfo, RetryRefund, ShipToCustomer, WarehouseReceipt,
    )
    from returns.allowed import OPEN_BEFORE_RECEIPT, Action, Now, deadline_refusal, offered, refusal
    from returns.events import ParcelScanned, Resolution, ReturnRequested, ReturnWithdrawn, ScanKind
    from returns.inspection import exchange_check_problem, failed_checks, inspection_problem
    from returns.owed import owed_before, owed_text, payment_problem
    from returns.collection import waiting_text
    from returns.money import format_money
    from returns.policy.decision import DayUnit, Duration, ItemDecision, ReturnDecision
    from returns.policy.overrides import approval_problem
    from returns.receipts import expected_units, receipt_problems, received_units
    from returns.status import (
        DEADLINE_LABELS, FINAL, TRANSITIONS, AttentionCause, AuditEntry, Deadline,
        DeadlineKind as Kind, InspectionResult, ItemStatus, LabelInfo, Outcome, ReceiptLog,
        ReceiptOutcome, RefundInfo, RefundStatus, ReturnState as State, ReturnStatus, WaitingOn,
        check_transition, describe_outcomes,
    )
    from returns.status import OwedPayment
    from returns.status_card import render_status_card
    from returns.evidence import (
        RecordEvidence, already_recorded, evidence_file, evidence_refusal, media_word,
    )
    from returns.status import EvidenceFile
    from returns.status import ShipmentToCustomer
    from returns.tracking import TrackingNumber, source_of, with_scan
    from returns.customer_answers import (
        AnswerQuestion, CustomerAnswer, OpenQuestion, answer_refusal, resume_review,
    )
    from returns.console_link import CONSOLE_URL_MEMO, console_page_url
    from workflows import metrics, names
    from workflows import search_attributes


def refused(message: str) -> ApplicationError:
    """A validator's refusal: the operator reads `message` in the UI and nothing changes."""
    return ApplicationError(message, type=names.ACTION_REFUSED, non_retryable=True)


class ReturnMessages:
    """The messages and the view of one return; its state is set up in ReturnWorkflow.__init__."""

    request: ReturnRequested
    state: State
    waiting_on: WaitingOn | None
    decision: ReturnDecision | None
    items: dict[str, ItemStatus]
    deadlines: dict[Kind, Deadline]
    review: Approve | Reject | None
    review_error: str | None
    receipts: list[ReceiptLog]
    scans: list[ParcelScanned]
    inspection: RecordInspection | None
    withdrawal: ReturnWithdrawn | None
    cancellation: Cancel | None
    label: LabelInfo | None
    refund: RefundInfo | None
    refund_retry: RetryRefund | None
    manual_refund: RecordManualRefund | None
    shipment: ShipToCustomer | None
    attention: str | None
    attention_cause: AttentionCause | None
    attention_deadline: Kind | None
    email_problems: dict[str, str]
    outcomes: list[Outcome]
    audit: list[AuditEntry]
    event_ids: set[str]
    _upserted: dict[str, object]
    _unsent: list
    evidence: list[EvidenceFile]
    # The customer in the loop (issue 16): staff's open question, the answers, tracking numbers.
    open_question: OpenQuestion | None
    questions_asked: int
    customer_answers: list[CustomerAnswer]
    tracking: list[TrackingNumber]
    shipped_tracking: list[str]  # the shipments' numbers, kept for the TrackingRefs attribute
    owed_payment: OwedPayment | None  # workflows/customer_payments.py

    # ReturnEffects (workflows/return_effects.py) provides the activities the handlers use:
    # _notify, _notify_staff, _compute.

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
            receipt = model is WarehouseReceipt
            self._record("unknown", f"unreadable {what}", why)
            self._attention(f"an unreadable {what} was sent: {why}",
                            AttentionCause.receipt if receipt else AttentionCause.unreadable_message)
            await self._notify_staff("receipt_problem" if receipt else "escalation",
                                     message=f"unreadable {what}: {why}")
            return None

    @workflow.signal(name=names.SIGNAL_WAREHOUSE_RECEIPT,
                     description="Warehouse staff record what arrived: {actor, receipt_id, items: "
                                 "[{line_id, quantity, condition}], note}. Partial receipts are "
                                 "allowed; a repeated receipt_id is recorded once.")
    async def warehouse_receipt(self, payload: RawValue = None) -> None:  # type: ignore[assignment]
        receipt = await self._read(payload, WarehouseReceipt, "warehouse receipt")
        if receipt is None:
            return
        log = lambda outcome, detail="": self.receipts.append(ReceiptLog(  # noqa: E731
            receipt_id=receipt.receipt_id, actor=receipt.actor, outcome=outcome, detail=detail))
        if any(r.receipt_id == receipt.receipt_id and r.outcome == ReceiptOutcome.recorded
               for r in self.receipts):
            log(ReceiptOutcome.repeat, "already recorded; not counted again")
            self._record(receipt.actor, "receipt repeated", receipt.receipt_id)
            self._publish()
            return
        problems = receipt_problems(self._now(), expected_units(list(self.items.values())),
                                    received_units(list(self.items.values())), receipt)
        if problems:  # recorded and raised to staff; never fails the workflow task
            why = "; ".join(problems)
            log(ReceiptOutcome.refused, why)
            self._record(receipt.actor, "receipt refused", why)
            self._attention(f"a warehouse receipt does not fit this return: {why}",
                            AttentionCause.receipt)
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
        log(ReceiptOutcome.recorded)
        self._record(receipt.actor, "received",
                     ", ".join(f"{i.line_id} x{i.quantity}" for i in receipt.items))
        if self.attention_cause == AttentionCause.receipt:
            self._resolved("a receipt that fits arrived")
        self._publish()

    @workflow.signal(name=names.SIGNAL_WITHDRAW,
                     description="The order system's return.withdrawn event: the customer cancels "
                                 "before the warehouse has the parcel.")
    async def withdraw(self, payload: RawValue = None) -> None:  # type: ignore[assignment]
        event = await self._read(payload, ReturnWithdrawn, "withdrawal")
        if event is None or not await self._for_this_return(event, "withdrawal") \
                or self._seen(event.event_id):
            return
        if self.state not in OPEN_BEFORE_RECEIPT or self._parcel_in() or self.cancellation:
            why = f"the customer asked to withdraw, but the return is already {self.state.value}"
            self._record("customer", "withdrawal refused", why)
            self._attention(why, AttentionCause.withdrawal_refused)
            await self._notify_staff("escalation", message=why)
            return
        self.withdrawal = event
        self._record("customer", "withdrawn", event.reason or "")

    @workflow.signal(name=names.SIGNAL_PARCEL_SCANNED,
                     description="Carrier tracking for the return parcel (parcel.scanned event).")
    async def parcel_scanned(self, payload: RawValue = None) -> None:  # type: ignore[assignment]
        event = await self._read(payload, ParcelScanned, "parcel scan")
        if event is None or not await self._for_this_return(event, "parcel scan") \
                or self._seen(event.event_id):
            return
        self._record(source_of(event), f"parcel {event.scan.value}",
                     f"{event.carrier} {event.tracking_number}")
        early = self.state in (State.requested, State.under_review)
        self.tracking = with_scan(self.tracking, event, workflow.now(), early)
        if early:  # kept: once approved, it counts as shipped for the ship-by deadline
            self._record("system", "scan kept until approval",
                         "the parcel was scanned before the return was approved")
        if early or self.state in (State.approved, State.awaiting_shipment, State.in_transit):
            self.scans.append(event)
        if event.scan == ScanKind.delivered_to_warehouse and self.state == State.in_transit:
            self.waiting_on = WaitingOn.warehouse
        self._publish()

    @workflow.signal(name=names.SIGNAL_DELIVERY,
                     description="From this return's deliveries (deliveries-<merchant>-<return>): "
                                 "{kind: failing|recovered|stopped|gave_up, error}. Failing or "
                                 "given up raises it to staff with the last error.")
    async def delivery(self, payload: RawValue = None) -> None:  # type: ignore[assignment]
        news = await self._read(payload, DeliveryNews, "delivery report")
        if news is None:
            return
        if news.kind == "recovered":
            self._record("deliveries", "events reach the order system again")
            if self.attention_cause == AttentionCause.delivery_failed:
                self._resolved("events reach the order system again")
            return
        if news.kind == "stopped":  # a 410: the merchant's choice, nothing for staff to do
            self._record("deliveries", "events to the order system stopped", news.error or "")
            return
        what = ("events to the order system keep failing" if news.kind == "failing"
                else "events to the order system were given up")
        self._record("deliveries", what, news.error or "")
        self._attention(f"{what}: {news.error}", AttentionCause.delivery_failed)

    async def _for_this_return(self, event: ReturnWithdrawn | ParcelScanned, what: str) -> bool:
        """An order-system event names its merchant and return: one for another is refused."""
        if (event.merchant_id, event.return_id) == (self.request.merchant_id,
                                                    self.request.return_id):
            return True
        why = (f"a {what} for {event.merchant_id}/{event.return_id} reached return "
               f"{self.request.merchant_id}/{self.request.return_id}; ignored")
        self._record("system", f"{what} refused", why)
        self._attention(why, AttentionCause.unreadable_message)
        await self._notify_staff("escalation", message=why)
        return False

    # ---------------------------------------------------------------- updates: review
    @workflow.update(name=names.UPDATE_APPROVE,
                     description="Approve the return: {actor, note?, overrides?: [{line_id, "
                                 "waive_fees, accept_exception, resolution, comparison_purchase, "
                                 "reason}]}")
    async def approve(self, action: Approve) -> ActionResult:
        self.review = action
        self.review_error = None
        await workflow.wait_condition(
            lambda: self.state != State.under_review or self.review_error is not None)
        if self.review_error is not None:
            raise refused(f"not approved: {self.review_error}; the return is still under review")
        if self.state in FINAL:  # withdrawn or cancelled at the same moment
            return self._result(f"not approved: the return became {self.state.value} first")
        if self._items_to_ship():
            return self._result("approved; the customer is sent a return label and the ship-by "
                                "deadline")
        return self._result("approved; refunded without a return shipment")

    @approve.validator
    def _validate_approve(self, action: Approve) -> None:
        self._check(Action.approve)
        self._refuse_if(approval_problem(self.decision, action.overrides, action.stock_confirmed))

    @workflow.update(name=names.UPDATE_REJECT, description="Reject the return: {actor, reason}")
    async def reject(self, action: Reject) -> ActionResult:
        self.review = action
        await workflow.wait_condition(lambda: self.state != State.under_review)
        if self.state != State.rejected:
            return self._result(f"not rejected: the return became {self.state.value} first")
        return self._result("rejected; the customer is told why")

    @reject.validator
    def _validate_reject(self, action: Reject) -> None:
        self._check(Action.reject)

    @workflow.update(name=names.UPDATE_REQUEST_INFO,
                     description="Ask the customer for more information: {actor, question}")
    async def request_info(self, action: RequestInfo) -> ActionResult:
        self._record(action.actor, "information requested", action.question)
        self.questions_asked += 1
        self.open_question = OpenQuestion(number=self.questions_asked, question=action.question,
                                          asked_at=workflow.now(), asked_by=action.actor)
        review = self.deadlines.get(Kind.review)
        if review is not None and not (review.met or review.breached) \
                and review.paused_since is None:  # docs/policies.md: the clock waits
            review.paused_since = workflow.now()
            self._record("system", "review clock paused", "until the customer answers")
        self.waiting_on = WaitingOn.customer
        self._publish()
        await self._notify("info_requested", message=action.question)
        return self._result("question sent to the customer")

    @request_info.validator
    def _validate_request_info(self, action: RequestInfo) -> None:
        self._check(Action.request_info)

    # ---------------------------------------------------------------- updates: inspection
    @workflow.update(name=names.UPDATE_RECORD_INSPECTION,
                     description="Record the inspection: {actor, items: [{line_id, passed, "
                                 "quantity?, notes?, checks_confirmed?, failed_checks?, "
                                 "inspection_fee?}], "
                                 "postage_reimbursement?} for every received line")
    async def record_inspection(self, action: RecordInspection) -> ActionResult:
        currency = self.decision.currency
        for r in action.items:
            status = self.items[r.line_id]
            status.inspection = InspectionResult.passed if r.passed else InspectionResult.failed
            status.inspection_notes = r.notes
            status.failed_checks = failed_checks(status.inspection_checks, r.failed_checks)
            accepted = status.quantity_received if r.quantity is None else r.quantity
            status.quantity_accepted = accepted if r.passed else 0
            status.inspection_fee = r.inspection_fee or 0  # itemised for the customer
            if r.inspection_fee:
                self._record(action.actor, "inspection fee", f"line {r.line_id}: "
                             f"{format_money(r.inspection_fee, currency)} "
                             f"({self.decision.item(r.line_id).inspection_fee_clause})")
        self.inspection = action
        if action.postage_reimbursement is not None:
            p = action.postage_reimbursement
            self._record(action.actor, "return postage to reimburse",
                         f"{format_money(p.amount, currency)}, courier documents "
                         f"{p.courier_reference}")
        self._record(action.actor, "inspection recorded", ", ".join(
            f"{r.line_id} {'passed' if r.passed else 'failed'}"
            + ("; checks confirmed: " + "; ".join(self.items[r.line_id].inspection_checks)
               if r.checks_confirmed and self.items[r.line_id].inspection_checks else "")
            for r in action.items))
        await workflow.wait_condition(lambda: self.state != State.inspecting)
        return self._result(f"inspection recorded; outcome: {self.state.value}")

    @record_inspection.validator
    def _validate_inspection(self, action: RecordInspection) -> None:
        self._check(Action.record_inspection)
        self._refuse_if(inspection_problem(self.decision, self.items, action))

    # ---------------------------------------------------------------- updates: deadlines, cancel
    @workflow.update(name=names.UPDATE_EXTEND_DEADLINE,
                     description="Move a running deadline: {actor, deadline: review|ship_by|"
                                 "inspection|refund|reshipment, days, reason}")
    async def extend_deadline(self, action: ExtendDeadline) -> ActionResult:
        deadline = self.deadlines[action.deadline]
        # Extended in the unit the policy counts it in; a deadline in hours by calendar days.
        unit = DayUnit.calendar_days if deadline.unit == DayUnit.hours else deadline.unit
        new_due = await self._compute(deadline.due_at, Duration(amount=action.days, unit=unit))
        deadline.due_at = new_due
        deadline.breached = False
        deadline.extensions.append(f"+{action.days} {unit.value} by {action.actor}: "
                                   f"{action.reason}")
        self._record(action.actor, "deadline extended",
                     f"{DEADLINE_LABELS[action.deadline]} to {new_due.isoformat()}: "
                     f"{action.reason}")
        self._publish()
        # 003 §III.4: told separately, in the customer's words: which date moved, never the
        # reason staff typed (it stays in the audit trail).
        await self._notify("deadline_extended", deadline=new_due,
                           deadline_kind=action.deadline.value)
        return self._result(f"{DEADLINE_LABELS[action.deadline]} is now {new_due.isoformat()}; "
                            f"the customer is told")

    @extend_deadline.validator
    def _validate_extend(self, action: ExtendDeadline) -> None:
        self._check(Action.extend_deadline)
        self._refuse_if(deadline_refusal(action.deadline, self._now()))

    @workflow.update(name=names.UPDATE_CANCEL, description="Cancel the return: {actor, reason}")
    async def cancel(self, action: Cancel) -> ActionResult:
        self.cancellation = action
        self._record(action.actor, "cancel requested", action.reason)
        await workflow.wait_condition(lambda: self.state == State.cancelled
                                      or State.cancelled not in TRANSITIONS[self.state])
        if self.state != State.cancelled:
            return self._result(f"not cancelled: the return became {self.state.value} first")
        return self._result("cancelled; the customer is told")

    @cancel.validator
    def _validate_cancel(self, action: Cancel) -> None:
        self._check(Action.cancel)

    @workflow.update(name=names.UPDATE_ACKNOWLEDGE,
                     description="Staff dealt with what needs attention (NeedsAttention): "
                                 "{actor, note}; clears it, the audit keeps who and how")
    async def acknowledge(self, action: Acknowledge) -> ActionResult:
        self._record(action.actor, "attention acknowledged",
                     f"{action.note} (was: {self._attention_reason()})")
        self.email_problems.clear()
        self._clear_attention()
        return self._result("attention cleared")

    @acknowledge.validator
    def _validate_acknowledge(self, action: Acknowledge) -> None:
        self._check(Action.acknowledge)

    # ---------------------------------------------------------------- updates: refunds, shipping
    @workflow.update(name=names.UPDATE_RETRY_REFUND,
                     description="Try the failed refund again: {actor, note?}")
    async def retry_refund(self, action: RetryRefund) -> ActionResult:
        self.refund_retry = action
        await workflow.wait_condition(lambda: self.refund.status != RefundStatus.failed)
        return self._result("refund retry started")

    @retry_refund.validator
    def _validate_retry(self, action: RetryRefund) -> None:
        self._check(Action.retry_refund)

    @workflow.update(name=names.UPDATE_RECORD_MANUAL_REFUND,
                     description="Record a refund made outside the system: {actor, amount (minor "
                                 "units), reference, note?}")
    async def record_manual_refund(self, action: RecordManualRefund) -> ActionResult:
        self.manual_refund = action
        await workflow.wait_condition(
            lambda: self.refund.status in (RefundStatus.manual, RefundStatus.partial))
        return self._result("manual refund recorded" + (
            "; less than was due, so the return closes as partially refunded"
            if self.refund.status == RefundStatus.partial else ""))

    @record_manual_refund.validator
    def _validate_manual(self, action: RecordManualRefund) -> None:
        self._check(Action.record_manual_refund)
        if action.amount > self.refund.amount:
            raise refused(f"amount: {action.amount} is more than the {self.refund.amount} due "
                           f"({self.refund.currency} minor units)")

    @workflow.update(name=names.UPDATE_SHIP_TO_CUSTOMER,
                     description="Record the shipment to the customer (exchange, repaired item, "
                                 "refused item): {actor, carrier, tracking_number, "
                                 "fee_payment_reference?, customer_payment?: {reference, "
                                 "amount}, checks_confirmed?, note?}")
    async def ship_to_customer(self, action: ShipToCustomer) -> ActionResult:
        self.shipment = action
        self.shipped_tracking.append(action.tracking_number)
        self._record(action.actor, "shipped to customer", f"{action.carrier} "
                     f"{action.tracking_number}" + (f"; fees paid, ref {action.fee_payment_reference}"
                                                    if action.fee_payment_reference else "")
                     + (f"; customer paid {self._money(action.customer_payment.amount)}, "
                        f"ref {action.customer_payment.reference}"
                        if action.customer_payment else ""))
        state = self.state
        await workflow.wait_condition(lambda: self.state != state)
        return self._result(f"shipment recorded; now {self.state.value}")

    @ship_to_customer.validator
    def _validate_ship(self, action: ShipToCustomer) -> None:
        self._check(Action.ship_to_customer)
        online = self.owed_payment  # asked online (workflows/customer_payments.py)
        self._refuse_if(payment_problem(
            self.state, self.decision, self.items, action,
            paid_online=online is not None and online.paid,
            waiting=waiting_text(online) if online is not None and online.url else None))
        self._refuse_if(exchange_check_problem(self.state, self.decision, action))  # 003 §V.2.3

    # ---------------------------------------------------------------- updates: the customer
    @workflow.update(name=names.UPDATE_RECORD_EVIDENCE,
                     description="The customer page stored a photo or video the customer "
                                 "uploaded: {sha256, content_type, size, kind: photos|"
                                 "original_packaging|certificate|..., line_id?, key}. The file "
                                 "stays in the evidence store; the same sha256 is recorded once. "
                                 "Refused once the return is finished.")
    async def record_evidence(self, record: RecordEvidence) -> ActionResult:
        if already_recorded(self.evidence, record):
            return self._result("already recorded")
        self.evidence.append(evidence_file(record, workflow.now()))
        self._record(record.received_by or "customer",
                     f"{media_word(record.content_type)} uploaded"
                     + (" for the customer" if record.received_by else ""),
                     f"{record.kind.value}" + (f", line {record.line_id}" if record.line_id else "")
                     + f", {record.content_type}, {record.size} bytes, sha256 {record.sha256[:12]}")
        self._publish()
        return self._result("recorded")

    @record_evidence.validator
    def _validate_record_evidence(self, record: RecordEvidence) -> None:
        self._refuse_if(evidence_refusal(self.state, describe_outcomes(self.outcomes),
                                         self.request.merchant_id,
                                         self.request.return_id,
                                         [i.line_id for i in self.request.items],
                                         self.evidence, record))

    @workflow.update(name=names.UPDATE_ANSWER_QUESTION,
                     description="The customer answers staff's open question (request_info), "
                                 "from the return page: {question_number, answer}. Refused once "
                                 "the review is over, with no question open, or for a question "
                                 "staff have since replaced; the refusal is written for the "
                                 "customer and its details carry a code the page translates")
    async def answer_question(self, answer: AnswerQuestion) -> ActionResult:
        question = self.open_question
        self.open_question = None
        self.customer_answers.append(CustomerAnswer(
            question=question.question, answer=answer.answer, answered_at=workflow.now(),
            question_number=question.number, asked_at=question.asked_at))
        self._record("customer", "question answered",
                     f"question {question.number}: {answer.answer}")
        review = self.deadlines.get(Kind.review)
        if review is not None and review.paused_since is not None:
            review.due_at, waited = resume_review(review.due_at, review.paused_since,
                                                  workflow.now())
            review.paused_since = None
            review.extensions.append(waited)
            self._record("system", "review clock resumed",
                         f"{DEADLINE_LABELS[Kind.review]} now {review.due_at.isoformat()} ({waited})")
        self.waiting_on = WaitingOn.staff
        self._publish()
        await self._notify_staff("action_needed", message=(
            f"The customer answered question {question.number} ({question.question}): "
            f"{answer.answer.rstrip()}{'' if answer.answer.rstrip()[-1:] in '.!?。！？' else '.'} "
            "The review goes on: approve, reject or ask again."),
            deadline=review.due_at if review is not None else None)
        return self._result("answer recorded; the review goes on")

    @answer_question.validator
    def _validate_answer(self, answer: AnswerQuestion) -> None:
        problem = answer_refusal(self.state == State.under_review and self.review is None,
                                 self.open_question, answer)
        if problem is not None:  # the customer page translates it by its code (details)
            raise ApplicationError(problem.message, problem.code, type=names.ACTION_REFUSED,
                                   non_retryable=True)

    # ---------------------------------------------------------------- query
    @workflow.query(name=names.QUERY_STATUS,
                    description="Full status: state, items, deadlines, amounts, label, refund, "
                                "receipts, audit")
    def status(self) -> ReturnStatus:
        return self._status()

    # ---------------------------------------------------------------- what the return is now
    def _now(self) -> Now:
        """The facts returns.allowed decides on."""
        return Now.of(self._status(with_actions=False),
                      decision_pending=self.review is not None,
                      shipment_recorded=self.shipment is not None,
                      cancel_requested=self.cancellation is not None)

    def _check(self, action: Action) -> None:
        """A validator's first question: is it this action's turn?"""
        self._refuse_if(refusal(action, self._now()))

    @staticmethod
    def _refuse_if(problem: str | None) -> None:
        if problem:
            raise refused(problem)

    def _money(self, amount: int) -> str:
        return format_money(amount, self.decision.currency)

    def _status(self, with_actions: bool = True) -> ReturnStatus:
        currency = self.decision.currency if self.decision else self.request.order.currency
        status = ReturnStatus(
            return_id=self.request.return_id, merchant_id=self.request.merchant_id,
            order_id=self.request.order.order_id, state=self.state,
            outcome=describe_outcomes(self.outcomes), currency=currency,
            refund_total=self.decision.refund_total if self.decision else 0,
            fees_total=self.decision.fees_total if self.decision else 0,
            items=list(self.items.values()), deadlines=list(self.deadlines.values()),
            label=self.label, refund=self.refund,
            needs_attention=self._attention_reason() is not None,
            attention_reason=self._attention_reason(), waiting_on=self.waiting_on,
            requested_at=self.request.occurred_at, receipts=self.receipts, audit=self.audit,
            open_question=self.open_question if self.state == State.under_review else None,
            customer_answers=self.customer_answers, tracking=self.tracking,
            owed_payment=self.owed_payment)
        owed = owed_before(self.state, self.decision, self.items) \
            if self.decision and self.shipment is None else []
        if owed:
            status.customer_owes = owed_text(owed, currency)
            status.customer_owes_amount = sum(o.amount or 0 for o in owed) or None
            status.customer_owes_quoted = any(o.amount is None for o in owed)
        status.evidence = list(self.evidence)
        if self.shipment is not None:  # told to the customer (the customer page)
            status.shipment_to_customer = ShipmentToCustomer(
                carrier=self.shipment.carrier, tracking_number=self.shipment.tracking_number)
        if with_actions:
            status.next_actions = offered(Now.of(
                status, decision_pending=self.review is not None,
                shipment_recorded=self.shipment is not None,
                cancel_requested=self.cancellation is not None))
        return status

    def _publish(self) -> None:
        """The status card follows every change; the search attributes that changed go out at
        the next rest (`_wait`), one upsert for them all."""
        status = self._status()
        workflow.set_current_details(render_status_card(status, self._console_page()))
        self._unsent = [u for u in search_attributes.for_status(status, self.label,
                                                                self.shipped_tracking)
                        if self._upserted.get(u.key.name) != u.value]

    def _console_page(self) -> str | None:
        """The return's page in the staff console: its base URL came in the start request's
        memo (ingestion, RETURNS_CONSOLE_URL), so replay finds the same; none, no link."""
        base = workflow.memo_value(CONSOLE_URL_MEMO, default=None, type_hint=str)
        return console_page_url(base, workflow.info().workflow_id)

    def _attributes_changed(self) -> bool:
        return bool(self._unsent)

    def _upsert_attributes(self) -> None:
        if self._unsent:
            self._upserted.update({u.key.name: u.value for u in self._unsent})
            workflow.upsert_search_attributes(self._unsent)
            self._unsent = []

    # ---------------------------------------------------------------- small helpers
    def _seen(self, event_id: str) -> bool:
        """Order-system events are delivered at least once: act on each event id once."""
        if event_id in self.event_ids:
            return True
        self.event_ids.add(event_id)
        return False

    def _parcel_in(self) -> bool:
        """The warehouse recorded (part of) the parcel."""
        return any(r.outcome == ReceiptOutcome.recorded for r in self.receipts)

    def _stopping(self) -> bool:
        """A withdrawal or cancellation stops the return only where the state allows it."""
        allowed = TRANSITIONS[self.state]
        return (self.cancellation is not None and State.cancelled in allowed) or (
            self.withdrawal is not None and not self._parcel_in()
            and State.withdrawn in allowed)

    def _load_items(self) -> None:
        for d in self.decision.items:
            current = self.items.get(d.line_id)
            status = ItemStatus(
                line_id=d.line_id, sku=d.sku, title=d.title, quantity_requested=d.quantity,
                eligible=d.eligible, resolution=d.resolution, reasons=d.reasons, fees=d.fees,
                refund_amount=d.refund_amount, requested_resolution=d.requested_resolution,
                resolution_reason=d.resolution_reason,
                return_shipping_paid_by=d.return_shipping_paid_by,
                needs_return_shipment=d.needs_return_shipment,
                evidence_missing=d.evidence_missing, staff_review_points=d.staff_review_points,
                inspection_checks=d.inspection_checks)
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

    def _returnless_exchanges(self) -> list[ItemDecision]:
        """Exchanges with nothing to send back (a parcel lost on its way to the customer, 000)."""
        return [i for i in self._eligible()
                if i.resolution == Resolution.exchange and not i.needs_return_shipment]

    def _transition(self, new: State, waiting_on: WaitingOn | None = None) -> None:
        check_transition(self.state, new)
        metrics.state_changed(self.request.merchant_id, self.state.value, new.value)
        self._record("system", "state", f"{self.state.value} -> {new.value}")
        self.state, self.waiting_on = new, waiting_on
        self._publish()

    def _record(self, actor: str, action: str, detail: str = "") -> None:
        self.audit.append(AuditEntry(at=workflow.now(), actor=actor, action=action, detail=detail))

    def _attention(self, why: str, cause: AttentionCause, deadline: Kind | None = None) -> None:
        self.attention, self.attention_cause, self.attention_deadline = why, cause, deadline
        self._publish()

    def _clear_attention(self) -> None:
        self.attention = self.attention_cause = self.attention_deadline = None
        self._publish()

    def _resolved(self, how: str) -> None:
        """What raised the attention is resolved: clear it, and say so in the audit."""
        self._record("system", "attention cleared", f"{how}: {self.attention}")
        self._clear_attention()

    def _attention_reason(self) -> str | None:
        reasons = [r for r in (self.attention, *self.email_problems.values()) if r]
        return "; ".join(reasons) or None

    def _result(self, message: str) -> ActionResult:
        return ActionResult(state=self.state.value, message=message)
