"""What each step of a return tells staff and the customer, beyond the template: the lines of a
review, what to inspect or ship, what did not arrive, why an item failed. Pure text from the
decision and the items; the workflow sends it (activities/notifications.py renders the email)."""

from __future__ import annotations

from returns.actions import PostageReimbursement
from returns.events import RequestedItem, Resolution
from returns.inspection import failed_check_sentence
from returns.money import format_money
from returns.owed import owed_before, owed_text
from returns.policy.decision import ItemDecision, ReturnDecision
from returns.status import ItemStatus, ReturnState


def review_points(decision: ReturnDecision) -> str:
    """The staff email asking for a review: each item's verdict, reasons and what to check."""
    lines = []
    for i in decision.items:
        verdict = "eligible" if i.eligible else "not eligible"
        lines.append(f"{i.title} x{i.quantity}: {verdict}, "
                     f"{i.resolution.value if i.resolution else 'no resolution'}")
        lines += [f"  - {r}" for r in i.reasons]
        lines += [f"  - staff: {p}" for p in i.staff_review_points]
        if i.evidence_missing:
            lines.append(f"  - missing evidence: {', '.join(e.value for e in i.evidence_missing)}")
    lines += [f"address: {r}" for r in decision.address_problems]
    return "\n".join(lines)


def not_received(items: dict[str, ItemStatus]) -> str | None:
    """For the customer once the parcel is in: what has not arrived (the refund covers what did)."""
    missing = [f"{i.title} x{i.quantity_requested - i.quantity_received}" for i in items.values()
               if i.eligible and i.needs_return_shipment and i.resolution is not None
               and i.quantity_received < i.quantity_requested]
    if not missing:
        return None
    return f"Not received yet: {', '.join(missing)}. The refund covers what arrived."


def inspection_todo(items: dict[str, ItemStatus]) -> str:
    return "Inspect what arrived and record it (update record_inspection): " + ", ".join(
        f"{i.line_id} {i.title} x{i.quantity_received}" for i in items.values()
        if i.quantity_received)


def inspection_failed(decision: ReturnDecision, items: dict[str, ItemStatus]) -> str:
    """For the customer: which items failed and who ships them back (004 §3.7, 003 §III.4)."""
    failed = "; ".join(f"{i.title}: " + "; ".join(
        [*(f"did not meet: {failed_check_sentence(c)}" for c in i.failed_checks),
         *([i.inspection_notes] if i.inspection_notes else [])] or ["did not pass"])
        for i in items.values() if i.inspection == "failed")
    shipping = decision.inspection_failed_shipping
    due = owed_text(owed_before(ReturnState.returning_to_customer, decision, items),
                    decision.currency)  # 004 §3.7: paid before it is sent back
    return failed + (f"\n\n{shipping}" if shipping else "") + (f"\n\n{due}" if due else "")


def postage_todo(postage: PostageReimbursement, currency: str) -> str:
    return (f"Reimburse the customer's return postage of {format_money(postage.amount, currency)} "
            f"(courier documents {postage.courier_reference}), separately from any refund "
            f"(004 §3.4, §4.2).")


def shipment_todo(state: ReturnState, decision: ReturnDecision, items: dict[str, ItemStatus],
                  requested: list[RequestedItem]) -> str:
    """What staff must send to the customer (exchange, repair, refused item), for their email."""
    if state == ReturnState.exchange_shipping:
        wanted = {r.line_id: r.exchange_for for r in requested}
        todo = "Ship the exchange: " + ", ".join(
            f"{i.title} x{items[i.line_id].quantity_accepted}"
            + (f" -> {wanted[i.line_id]}" if wanted.get(i.line_id) else "")
            for i in decision.items
            if i.resolution == Resolution.exchange and items[i.line_id].quantity_accepted)
        todo += _collect_first(state, decision, items)
        if decision.exchange_checks:  # 003 §V.2.3
            todo += (". Check the product you send: " + "; ".join(decision.exchange_checks)
                     + " (checks_confirmed: true)")
    elif state == ReturnState.repairing:
        todo = "Repair and send back: " + ", ".join(
            f"{i.title} x{i.quantity_accepted}" for i in items.values()
            if i.quantity_accepted and i.resolution == Resolution.repair)
        todo += _collect_first(state, decision, items)
    else:
        todo = "Send back to the customer what did not pass: " + ", ".join(
            f"{i.title} x{i.quantity_received - i.quantity_accepted}"
            for i in items.values() if i.quantity_received > i.quantity_accepted)
        todo += _collect_first(state, decision, items)
    return todo + "; then record it (update ship_to_customer: carrier, tracking_number)."


def _collect_first(state: ReturnState, decision: ReturnDecision,
                   items: dict[str, ItemStatus]) -> str:
    """For staff: what the customer pays before this shipment, and how to record it."""
    due = owed_before(state, decision, items)
    if not due:
        return ""
    fees_only = all(o.fee for o in due)
    return (". First collect from the customer: "
            + "; ".join(o.sentence(decision.currency) for o in due)
            + (" and give its reference as fee_payment_reference (or customer_payment)"
               if fees_only else " and record it as customer_payment: {reference, amount}"
               " (where the merchant collects through Stripe, quote the total with "
               "request_customer_payment: {amount} instead, and the customer pays online)"))


def owed_after_inspection(decision: ReturnDecision, items: dict[str, ItemStatus]) -> str | None:
    """For the customer, with the inspection's result: what they pay before the exchange or the
    repaired item ships (004 §4.4, §4.5)."""
    due = [o for state in (ReturnState.exchange_shipping, ReturnState.repairing)
           for o in owed_before(state, decision, items)]
    return owed_text(due, decision.currency)


def wanted(item: ItemDecision, requested: list[RequestedItem]) -> str | None:
    """What the item comes back for, for the packing slip: "refund", "exchange: size 54" (003
    §III.3 "a return list (indicating the order number and return/exchange needs)", 004 §3.1)."""
    if item.resolution is None:
        return None
    target = next((r.exchange_for for r in requested if r.line_id == item.line_id), None)
    if item.resolution == Resolution.exchange and target:
        return f"exchange: {target}"
    return item.resolution.value.replace("_", " ")


# --- the facts of a customer email (worded by returns/customer_words.py in their language) -------
def missing_units(items: dict[str, ItemStatus]) -> dict[str, int]:
    """Units not (yet) received, per line id, for the customer's "received" email."""
    return {i.line_id: i.quantity_requested - i.quantity_received for i in items.values()
            if i.eligible and i.needs_return_shipment and i.resolution is not None
            and i.quantity_received < i.quantity_requested}


def failed_units(items: dict[str, ItemStatus]) -> dict[str, int]:
    """Units that did not pass inspection, per line id, for the customer's email."""
    return {i.line_id: i.quantity_received - i.quantity_accepted for i in items.values()
            if i.inspection == "failed" and i.quantity_received > i.quantity_accepted}


def owed_for_customer(owed: list) -> dict:
    """What the customer pays before a shipment to them, as the email's facts: the amounts the
    product knows, and whether staff quote more (`Notification.owed_amount`, `owed_quoted`)."""
    return {"owed_amount": sum(o.amount for o in owed if o.amount is not None) or None,
            "owed_quoted": any(o.amount is None for o in owed)}


def owed_after_inspection_for_customer(decision: ReturnDecision,
                                       items: dict[str, ItemStatus]) -> dict:
    return owed_for_customer([o for state in (ReturnState.exchange_shipping, ReturnState.repairing)
                              for o in owed_before(state, decision, items)])


def owed_for_failed_items(decision: ReturnDecision, items: dict[str, ItemStatus]) -> dict:
    return owed_for_customer(owed_before(ReturnState.returning_to_customer, decision, items))
