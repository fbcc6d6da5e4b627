"""The inspection staff record: whether it fits what arrived and what the policy asks of it."""

from __future__ import annotations

from returns.actions import RecordInspection, ShipToCustomer
from returns.money import format_money
from returns.policy.decision import Party, ReturnDecision
from returns.policy.refunds import refund_for_accepted
from returns.status import ItemStatus, ReturnState


def inspection_problem(decision: ReturnDecision, items: dict[str, ItemStatus],
                       action: RecordInspection) -> str | None:
    """Why `action` cannot be recorded, naming the field; None when it fits."""
    received = {line: i for line, i in items.items() if i.quantity_received > 0}
    for r in action.items:
        if r.line_id not in received:
            return (f"items: line {r.line_id!r} was not received "
                    f"(received: {', '.join(sorted(received)) or 'nothing'})")
        arrived = received[r.line_id].quantity_received
        decided = decision.item(r.line_id)
        if r.inspection_fee is not None:  # 003 §V.1.4: only where the policy allows it
            if decided.inspection_fee_clause is None:
                return (f"items: line {r.line_id}: the policy charges no inspection fee for it "
                        f"(inspection_fee)")
            due = refund_for_accepted(decided, arrived if r.quantity is None else r.quantity)
            if not r.passed or r.inspection_fee > due:
                return (f"items: line {r.line_id}: inspection_fee {r.inspection_fee} is more than "
                        f"the {due} refund it is deducted from")
        checks = received[r.line_id].inspection_checks  # e.g. 003 §IV.2 certificate match
        for n in r.failed_checks:
            if n > len(checks):
                listed = f"1 to {len(checks)}" if checks else "none"
                return (f"items: line {r.line_id}: failed_checks {n} is not one of its checks "
                        f"(listed on the status card: {listed})")
        if r.failed_checks and r.passed:
            return (f"items: line {r.line_id} failed check(s) "
                    f"{', '.join(str(n) for n in r.failed_checks)}: record it with passed: false")
        if r.passed and checks and not r.checks_confirmed:
            return (f"items: line {r.line_id} can pass only once the inspection confirmed: "
                    f"{'; '.join(checks)}. Confirm every check (checks_confirmed: true; in the "
                    "console, tick each one), or record it as not passed")
        if r.quantity is not None and r.quantity > arrived:
            return (f"items: line {r.line_id} quantity {r.quantity} is more than the {arrived} "
                    f"received")
    missing = sorted(set(received) - {r.line_id for r in action.items})
    if missing:
        return f"items: inspect every received line; missing {', '.join(missing)}"
    if action.postage_reimbursement is not None and not any(
            r.passed and decision.item(r.line_id).return_shipping_paid_by == Party.merchant
            for r in action.items):  # 004 §3.4
        return ("postage_reimbursement: under this policy the customer bears the return shipping "
                "of every line that passed; nothing to reimburse")
    return postage_cap_problem(decision, action)


def postage_cap_problem(decision: ReturnDecision, action: RecordInspection) -> str | None:
    """Return postage is reimbursed up to standard shipping where the policy says so (004 §3.4)."""
    postage, cap = action.postage_reimbursement, decision.postage_standard_only
    if postage is None or cap is None:
        return None
    if postage.standard_shipping is None:
        return (f"postage_reimbursement.standard_shipping: give the standard shipping rate for "
                f"this parcel; the policy reimburses up to it ({cap})")
    if postage.amount > postage.standard_shipping:
        currency = decision.currency
        return (f"postage_reimbursement.amount: {format_money(postage.amount, currency)} is more "
                f"than the {format_money(postage.standard_shipping, currency)} standard shipping; "
                f"reimburse at most that ({cap})")
    return None


def inspection_fee(action: RecordInspection, line_id: str) -> int:
    """What staff charged for inspecting this line, where the policy allows it (003 §V.1.4)."""
    return next((r.inspection_fee or 0 for r in action.items if r.line_id == line_id), 0)


def failed_checks(checks: list[str], numbers: list[int]) -> list[str]:
    """The checks an item failed, from the numbers staff gave (as the status card lists them)."""
    return [checks[n - 1] for n in dict.fromkeys(numbers) if 1 <= n <= len(checks)]


def failed_check_sentence(check: str) -> str:
    """A check ("<clause>: <text>") as the customer reads it: the text, its clause in brackets."""
    clause, _, text = check.partition(": ")
    return f"{text} ({clause})" if text else check


def exchange_check_problem(state: ReturnState, decision: ReturnDecision,
                           action: ShipToCustomer) -> str | None:
    """An exchange ships only once staff confirm what the policy asks of the product sent
    (003 §V.2.3 "new products of the same quality … with a quality inspection certificate")."""
    if state != ReturnState.exchange_shipping or not decision.exchange_checks:
        return None
    if not action.checks_confirmed:
        return (f"checks_confirmed: before the exchange ships, confirm "
                f"{'; '.join(decision.exchange_checks)}")
    return None
