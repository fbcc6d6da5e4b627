"""What a return shows about its money: the refund that follows its outcome, in one place.

The policy's decision (`ReturnStatus.refund_total`, `ItemStatus.refund_amount`) is a proposal:
what the customer gets *if* the items are approved and pass inspection. Once the return has an
outcome, what it shows must follow it: a failed inspection shows no refund, a rejected, expired,
withdrawn or cancelled return refunds nothing, an exchange or repair refunds nothing, a refund
shows what was paid. The status card, `returns list` / `show`, the `RefundAmount` search
attribute and the closing email all ask here. Pure: no Temporal.
"""

from __future__ import annotations

from dataclasses import dataclass

from returns.events import Resolution
from returns.money import format_money, prorate
from returns.status import (
    FINAL, InspectionResult, ItemStatus, RefundStatus, ReturnState, ReturnStatus,
)

S = ReturnState
_BEFORE_APPROVAL = frozenset({S.requested, S.under_review})
# Ended without anything accepted (unless money already moved, e.g. a returnless refund paid
# before staff cancelled the exchange of another line).
_ENDED_WITHOUT = {S.rejected: "rejected", S.expired: "expired: nothing was sent back",
                  S.withdrawn: "withdrawn by the customer", S.cancelled: "cancelled"}
_REFUNDED = {RefundStatus.succeeded, RefundStatus.manual, RefundStatus.partial}


@dataclass(frozen=True)
class RefundShown:
    """`amount`: minor units the return shows as its refund now (RefundAmount); `words`: the
    line the card and `returns show` print, e.g. "refunded 207.50 EUR" or "no refund: the
    inspection failed"; `final`: the amount will not change any more."""

    amount: int
    words: str
    final: bool = False


def _inspected(status: ReturnStatus) -> bool:
    return any(i.inspection is not None for i in status.items)


def line_refund(item: ItemStatus, state: ReturnState) -> int:
    """What this line refunds, as far as the return knows now: the decision's amount until the
    inspection, then only for the units that passed (before any inspection fee); 0 for a line
    refused, exchanged, repaired or failed, and for a return that ended without an outcome."""
    if not item.eligible or item.resolution not in (Resolution.refund,
                                                    Resolution.returnless_refund):
        return 0
    if state in _ENDED_WITHOUT and item.resolution != Resolution.returnless_refund:
        return 0
    if item.inspection == InspectionResult.failed:
        return 0
    if item.inspection == InspectionResult.passed and item.quantity_requested:
        return prorate(item.refund_amount, min(item.quantity_accepted, item.quantity_requested),
                       item.quantity_requested)
    return item.refund_amount


def line_inspection_fee(item: ItemStatus, state: ReturnState) -> int:
    """The inspection fee deducted from this line's refund (003 §V.1.4): what staff charged,
    never more than the line refunds (returns/policy/refunds.py: never below 0)."""
    return min(item.inspection_fee, line_refund(item, state))


def line_words(item: ItemStatus, state: ReturnState, currency: str) -> str:
    """The refund column of one line: an amount, or why there is none."""
    if not item.eligible or item.resolution in (Resolution.exchange, Resolution.repair):
        return "no refund"  # the decision beside it says why: not eligible, exchange, repair
    if item.inspection == InspectionResult.failed:
        return "no refund (inspection failed)"
    amount = line_refund(item, state)
    if amount == 0 and state in _ENDED_WITHOUT:
        return f"no refund ({state.value})"
    fee = line_inspection_fee(item, state)
    if fee:  # the customer's page and emails itemise it the same way (returns/refund_itemised.py)
        return (f"{format_money(amount, currency)} less inspection fee "
                f"{format_money(fee, currency)}: {format_money(amount - fee, currency)}")
    return format_money(amount, currency)


def refund_shown(status: ReturnStatus) -> RefundShown:
    """The return's refund as it should be shown now, following its state and outcome."""
    cur = status.currency
    r = status.refund
    if r is not None:
        money = format_money(r.amount, r.currency)
        if r.status == RefundStatus.partial:
            return RefundShown(r.paid, f"refunded {format_money(r.paid, r.currency)} of {money} "
                                       f"(partial, recorded by staff)", True)
        if r.status in _REFUNDED:
            how = ", recorded by staff" if r.status == RefundStatus.manual else ""
            return RefundShown(r.paid or r.amount,
                               f"refunded {format_money(r.paid or r.amount, r.currency)}{how}",
                               True)
        if r.status == RefundStatus.failed:
            return RefundShown(r.amount, f"refund of {money} failed: retry_refund or "
                                         "record_manual_refund")
        if r.status == RefundStatus.failing:
            return RefundShown(r.amount, f"refund of {money} failing, still retrying")
        return RefundShown(r.amount, f"refund of {money} being paid")
    if status.state in _ENDED_WITHOUT:
        return RefundShown(0, f"no refund: {_ENDED_WITHOUT[status.state]}", True)
    if _inspected(status):
        due = sum(line_refund(i, status.state) for i in status.items)
        if due and status.state not in FINAL and status.state == S.inspecting:
            return RefundShown(due, f"refund total {format_money(due, cur)} after inspection, "
                                    "less any inspection fee")
        failed = [i for i in status.items if i.inspection == InspectionResult.failed]
        if failed and not any(i.quantity_accepted for i in status.items):
            return RefundShown(0, "no refund: the inspection failed", status.state in FINAL)
        return RefundShown(0, "no refund" + (f": {status.outcome}" if status.outcome else ""),
                           status.state in FINAL)
    proposed = sum(line_refund(i, status.state) for i in status.items) if status.items \
        else status.refund_total
    if status.state in FINAL:  # closed / exchanged / repaired without money moving
        return RefundShown(0, "no refund" + (f": {status.outcome}" if status.outcome else ""),
                           True)
    if proposed == 0:
        kinds = sorted({i.resolution.value for i in status.items if i.eligible and i.resolution})
        return RefundShown(0, "no refund" + (f" ({', '.join(kinds)})" if kinds else ""))
    money = format_money(proposed, cur)
    if status.state in _BEFORE_APPROVAL:
        return RefundShown(proposed, f"refund total {money} if approved as proposed")
    if not any(i.needs_return_shipment for i in status.items if line_refund(i, status.state)):
        return RefundShown(proposed, f"refund total {money}, nothing to send back")
    return RefundShown(proposed, f"refund total {money} once the items pass inspection")


__all__ = ["RefundShown", "line_inspection_fee", "line_refund", "line_words", "refund_shown"]
