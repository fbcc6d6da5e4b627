"""What staff and the warehouse can do to a return now: one answer for the workflow's validators,
the status card's "What you can do", the CLI and the web pages.

`refusal(action, now)` is the turn check every validator asks first (the payload's own checks
follow in `receipts`, `inspection`, `policy.overrides`); `offered(now)` lists exactly the actions
whose turn check passes, so what the status card offers is what the validators accept.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from returns.status import (
    FINAL, TRANSITIONS, DeadlineKind, RefundStatus, ReturnState, ReturnStatus,
)

S = ReturnState


class Action(StrEnum):
    """The updates (and the warehouse's signal) an operator sends to a return."""

    approve = "approve"
    reject = "reject"
    request_info = "request_info"
    warehouse_receipt = "warehouse_receipt"  # a signal: refused receipts are recorded, not answered
    record_inspection = "record_inspection"
    extend_deadline = "extend_deadline"
    retry_refund = "retry_refund"
    record_manual_refund = "record_manual_refund"
    ship_to_customer = "ship_to_customer"
    cancel = "cancel"
    acknowledge = "acknowledge"


# The customer may withdraw until the warehouse has the parcel (003 §II.4, 004 §3.1).
OPEN_BEFORE_RECEIPT = frozenset({S.requested, S.under_review, S.approved, S.awaiting_shipment,
                                 S.in_transit})
# Where a warehouse receipt is taken: from the approval (a parcel can be scanned in the moment
# between the approval and the ship-by wait, e.g. while the approval email goes out or a worker
# restarts) until the inspection is recorded. What is expected back is decided per line
# (returns/receipts.py): nothing, for a return refunded without a shipment.
RECEIPT_STATES = frozenset({S.approved, S.awaiting_shipment, S.in_transit, S.received,
                            S.inspecting})
RECEIPT_WINDOW = "receipts are recorded from the approval until the inspection is recorded"
SHIPPING_BACK = frozenset({S.exchange_shipping, S.repairing, S.returning_to_customer})


@dataclass(frozen=True)
class Now:
    """The facts about a return that decide which actions it takes."""

    state: ReturnState
    decision_pending: bool = False  # an approve or reject is being applied
    inspection_recorded: bool = False
    shipment_recorded: bool = False
    refund: RefundStatus | None = None
    running_deadlines: tuple[DeadlineKind, ...] = ()
    needs_attention: bool = False
    cancel_requested: bool = False

    @classmethod
    def of(cls, status: ReturnStatus, *, decision_pending: bool = False,
           shipment_recorded: bool = False, cancel_requested: bool = False) -> "Now":
        """The facts as a status shows them, plus the workflow's own in-flight flags."""
        running = () if status.state in FINAL else tuple(
            d.kind for d in status.deadlines if not d.met)
        return cls(state=status.state, decision_pending=decision_pending,
                   inspection_recorded=any(i.inspection for i in status.items),
                   shipment_recorded=shipment_recorded,
                   refund=status.refund.status if status.refund else None,
                   running_deadlines=running, needs_attention=status.needs_attention,
                   cancel_requested=cancel_requested)


def refusal(action: Action, now: Now) -> str | None:
    """Why `action` cannot be taken now, in words an operator can act on; None when it can."""
    state = now.state.value
    if now.state in FINAL:
        return f"return is finished ({state}); nothing more can be recorded"
    match action:
        case Action.approve | Action.reject | Action.request_info:
            verb = {Action.approve: "approve", Action.reject: "reject",
                    Action.request_info: "request information"}[action]
            if now.state != S.under_review:
                return f"cannot {verb}: the return is {state}, not under_review"
            if now.decision_pending and action != Action.request_info:
                return f"cannot {verb}: a decision is already being applied; reload the return"
        case Action.warehouse_receipt:
            if now.state not in RECEIPT_STATES:
                return f"the return is {state}; {RECEIPT_WINDOW}"
            if now.inspection_recorded:
                return "the inspection has already been recorded"
        case Action.record_inspection:
            if now.state != S.inspecting:
                return f"cannot record the inspection: the return is {state}, not inspecting"
            if now.inspection_recorded:
                return "the inspection is already recorded"
        case Action.extend_deadline:
            if not now.running_deadlines:
                return "deadline: no deadline is running (running: none)"
        case Action.retry_refund | Action.record_manual_refund:
            if now.refund != RefundStatus.failed:
                verb = "retry the refund" if action == Action.retry_refund else \
                    "record a manual refund"
                return (f"cannot {verb}: the refund is "
                        f"{now.refund.value if now.refund else 'not started'}; this is possible "
                        f"only after the automatic refund has failed")
        case Action.ship_to_customer:
            if now.state not in SHIPPING_BACK or now.shipment_recorded:
                return (f"nothing is waiting to be shipped to the customer; the return is "
                        f"{state}")
        case Action.cancel:
            if S.cancelled not in TRANSITIONS[now.state] or (
                    now.state == S.inspecting and now.inspection_recorded):
                return (f"a return that is {state} cannot be cancelled"
                        + ("; the refund is in progress: let it finish or fail"
                           if now.state == S.refunding else ""))
            if now.cancel_requested:
                return "the return is being cancelled already"
        case Action.acknowledge:
            if not now.needs_attention:
                return "nothing needs attention on this return"
            if now.refund == RefundStatus.failed:
                return ("the refund failed: retry_refund or record_manual_refund, which clear "
                        "it; acknowledging would leave the customer unpaid")
    return None


def possible(now: Now) -> list[Action]:
    """Every action whose turn check passes now."""
    return [a for a in Action if refusal(a, now) is None]


def offered(now: Now) -> list[str]:
    """`possible(now)` as the status card shows it: the signal marked, deadlines named."""
    out = []
    for a in possible(now):
        if a == Action.warehouse_receipt:
            out.append("signal warehouse_receipt")
        elif a == Action.extend_deadline:
            out.append(f"extend_deadline ({', '.join(k.value for k in now.running_deadlines)})")
        elif a == Action.acknowledge:
            out.append("acknowledge (what needs attention)")
        else:
            out.append(a.value)
    return out


def deadline_refusal(kind: DeadlineKind, now: Now) -> str | None:
    """extend_deadline's payload check: the deadline it names must be running."""
    if kind in now.running_deadlines:
        return None
    running = ", ".join(k.value for k in now.running_deadlines) or "none"
    return f"deadline: {kind.value} is not running (running: {running})"
