"""What the status card offers is exactly what the validators accept (issue 14): for every state a
return can rest in, each action is offered if and only if the workflow's own validator takes a
valid payload for it. The validators are called as Temporal calls them, on a ReturnWorkflow whose
state is set as the story leaves it; no server is needed (validators are pure)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from temporalio.exceptions import ApplicationError

from returns.actions import (
    Acknowledge, Approve, Cancel, ExtendDeadline, ItemInspection, RecordInspection,
    RecordManualRefund, Reject, RequestInfo, RetryRefund, ShipToCustomer, WarehouseReceipt,
    ReceivedItem,
)
from returns.allowed import Action, Now, offered, possible, refusal
from returns.policy.engine import decide
from returns.policy.registry import PolicyRegistry
from returns.receipts import expected_units, receipt_problems, received_units
from returns.status import (
    FINAL, Deadline, DeadlineKind, InspectionResult, ItemStatus, RefundInfo, RefundStatus,
    ReturnState,
)
from samples.events import item, line, return_requested
from tests.policy.builders import POLICIES_DIR
from workflows.return_workflow import ReturnWorkflow

S = ReturnState
DUE = datetime(2027, 1, 1, tzinfo=timezone.utc)

# Which deadline runs while a return rests in each state (as the story sets them).
RUNNING = {S.under_review: DeadlineKind.review, S.awaiting_shipment: DeadlineKind.ship_by,
           S.inspecting: DeadlineKind.inspection, S.refunding: DeadlineKind.refund,
           S.exchange_shipping: DeadlineKind.reshipment}


def a_return(state: ReturnState, *, refund: RefundStatus | None = None,
             attention: bool = False) -> ReturnWorkflow:
    request = return_requested("fine-jewelry", lines=[line("L1", quantity=2)],
                               items=[item("L1", quantity=2)])
    wf = ReturnWorkflow(request)
    wf.decision = decide(PolicyRegistry.load(POLICIES_DIR).get("fine-jewelry"), request)
    for d in wf.decision.items:
        wf.items[d.line_id] = ItemStatus(
            line_id=d.line_id, sku=d.sku, title=d.title, quantity_requested=d.quantity,
            eligible=d.eligible, resolution=d.resolution, refund_amount=d.refund_amount,
            needs_return_shipment=d.needs_return_shipment)
    wf.state = state
    if state in RUNNING:
        wf.deadlines[RUNNING[state]] = Deadline(kind=RUNNING[state], due_at=DUE, basis="2 days")
    if state in (S.received, S.inspecting) or state in FINAL:
        wf.items["L1"].quantity_received = 1
    if refund is not None:
        wf.refund = RefundInfo(status=refund, amount=10_000, currency="USD")
    if attention:
        wf.attention = "something a person must see"
    return wf


VALID = {
    Action.approve: Approve(actor="sam"),
    Action.reject: Reject(actor="sam", reason="worn from daily use"),
    Action.request_info: RequestInfo(actor="sam", question="A photo of the clasp, please?"),
    Action.record_inspection: RecordInspection(actor="ines", items=[
        ItemInspection(line_id="L1", passed=True, checks_confirmed=True)]),
    Action.retry_refund: RetryRefund(actor="sam"),
    Action.record_manual_refund: RecordManualRefund(actor="sam", amount=100, reference="BANK-1"),
    Action.ship_to_customer: ShipToCustomer(actor="sam", carrier="UPS", tracking_number="1Z9999",
                                            fee_payment_reference="PAY-1"),
    Action.cancel: Cancel(actor="sam", reason="duplicate request"),
    Action.acknowledge: Acknowledge(actor="sam", note="called the customer"),
}
VALIDATORS = {
    Action.approve: "_validate_approve", Action.reject: "_validate_reject",
    Action.request_info: "_validate_request_info", Action.record_inspection: "_validate_inspection",
    Action.extend_deadline: "_validate_extend", Action.retry_refund: "_validate_retry",
    Action.record_manual_refund: "_validate_manual", Action.ship_to_customer: "_validate_ship",
    Action.cancel: "_validate_cancel", Action.acknowledge: "_validate_acknowledge",
}


def accepted(wf: ReturnWorkflow, action: Action) -> bool:
    if action == Action.warehouse_receipt:  # a signal: the workflow records or refuses it
        receipt = WarehouseReceipt(actor="warehouse:anna", receipt_id="scan-1",
                                   items=[ReceivedItem(line_id="L1", quantity=1)])
        items = list(wf.items.values())
        return not receipt_problems(wf._now(), expected_units(items), received_units(items),
                                    receipt)
    payload = VALID.get(action) or ExtendDeadline(
        actor="sam", deadline=(wf._now().running_deadlines or (DeadlineKind.review,))[0], days=2,
        reason="carrier strike")
    try:
        getattr(wf, VALIDATORS[action])(payload)
    except ApplicationError:
        return False
    return True


CASES = [(state, None, False) for state in S] + [
    (S.refunding, RefundStatus.pending, False), (S.refunding, RefundStatus.failed, True),
    (S.under_review, None, True), (S.awaiting_shipment, None, True), (S.inspecting, None, True),
]


@pytest.mark.parametrize("state,refund,attention", CASES,
                         ids=[f"{s.value}-{r.value if r else 'no refund'}"
                              f"{'-attention' if a else ''}" for s, r, a in CASES])
def test_the_actions_offered_are_exactly_those_the_validators_accept(state, refund, attention):
    wf = a_return(state, refund=refund, attention=attention)
    taken = {a for a in Action if accepted(wf, a)}
    assert set(possible(wf._now())) == taken, (state, sorted(taken))
    assert wf.status().next_actions == offered(wf._now())


def test_each_resting_state_offers_what_the_policy_lets_staff_do():
    """Written out, not derived: what an operator sees in "What you can do" in each state."""
    def shown(state, **kw):
        return offered(Now(state=state, running_deadlines=(RUNNING[state],) if state in RUNNING
                           else (), **kw))
    assert shown(S.under_review) == ["approve", "reject", "request_info",
                                     "extend_deadline (review)", "cancel"]
    assert shown(S.awaiting_shipment) == ["signal warehouse_receipt", "extend_deadline (ship_by)",
                                          "cancel"]
    assert shown(S.in_transit) == ["signal warehouse_receipt", "cancel"]
    assert shown(S.inspecting) == ["signal warehouse_receipt", "record_inspection",
                                   "extend_deadline (inspection)", "cancel"]
    assert shown(S.inspecting, inspection_recorded=True) == ["extend_deadline (inspection)"]
    assert shown(S.refunding) == ["extend_deadline (refund)"]  # no cancel while money moves
    assert shown(S.refunding, refund=RefundStatus.failed, needs_attention=True) == [
        "extend_deadline (refund)", "retry_refund", "record_manual_refund"]
    assert shown(S.exchange_shipping) == ["extend_deadline (reshipment)", "ship_to_customer",
                                          "cancel"]
    assert shown(S.repairing) == ["ship_to_customer", "cancel"]
    assert shown(S.under_review, needs_attention=True)[-1] == "acknowledge (what needs attention)"
    assert shown(S.approved) == ["signal warehouse_receipt", "cancel"]
    for state in FINAL:
        assert shown(state) == []


@pytest.mark.parametrize("action,now,words", [
    (Action.approve, Now(state=S.awaiting_shipment), "cannot approve: the return is "
     "awaiting_shipment, not under_review"),
    (Action.approve, Now(state=S.under_review, decision_pending=True), "already being applied"),
    (Action.record_inspection, Now(state=S.received), "not inspecting"),
    (Action.warehouse_receipt, Now(state=S.under_review), "receipts are recorded from the "
     "approval"),
    (Action.cancel, Now(state=S.refunding), "the refund is in progress"),
    (Action.acknowledge, Now(state=S.refunding, refund=RefundStatus.failed,
                             needs_attention=True), "retry_refund or record_manual_refund"),
    (Action.retry_refund, Now(state=S.refunding, refund=RefundStatus.pending),
     "only after the automatic refund has failed"),
    (Action.extend_deadline, Now(state=S.in_transit), "no deadline is running"),
    (Action.reject, Now(state=S.closed), "finished (closed)"),
])
def test_a_refusal_says_what_to_do_instead(action, now, words):
    assert words in refusal(action, now)


def test_a_late_inspection_can_still_be_recorded():
    """004 §3.5: an overdue inspection is escalated, and staff still record it."""
    wf = a_return(S.inspecting)
    wf.deadlines[DeadlineKind.inspection].breached = True
    wf.items["L1"].inspection = None
    assert accepted(wf, Action.record_inspection)
    wf.items["L1"].inspection = InspectionResult.passed
    assert not accepted(wf, Action.record_inspection)
