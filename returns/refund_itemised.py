"""A refund line by line, for the customer: each line's amount, the inspection fee deducted from
it, what it refunds, and the total refunded. Pure: no Temporal.

One place for each fact: the line's amount is `refund_shown.line_refund` (the units that passed,
before any inspection fee), the fee is `ItemStatus.inspection_fee` (staff's record_inspection,
003 §V.1.4), the total is `refund_shown.refund_shown(status).amount` (what the status card and the
`RefundAmount` search attribute show). The customer page (customer_page/view.py) and the refund
and closing emails (activities/customer_email.py, through `Notification.refund_lines`) both word
what `itemised` returns with returns/customer_words.refund_itemised.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from returns.refund_shown import line_inspection_fee, line_refund, refund_shown
from returns.status import ItemStatus, ReturnState, ReturnStatus


class RefundedLine(BaseModel):
    """One line of the refund (it travels in the customer's email: `Notification.refund_lines`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    line_id: str
    title: str
    quantity: int  # units refunded (those that passed inspection)
    amount: int  # minor units before the inspection fee
    inspection_fee: int = 0  # deducted from `amount`
    refunded: int  # amount - inspection_fee, never below 0


class RefundItemised(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str
    lines: list[RefundedLine]
    total: int  # what the return refunds (the status card's amount once the refund is under way)


def refunded_line(item: ItemStatus, state: ReturnState) -> RefundedLine | None:
    """The line's share of the refund, or None when it refunds nothing."""
    amount = line_refund(item, state)
    if amount <= 0:
        return None
    fee = line_inspection_fee(item, state)
    quantity = (min(item.quantity_accepted, item.quantity_requested)
                if item.inspection is not None else item.quantity_requested)
    return RefundedLine(line_id=item.line_id, title=item.title, quantity=quantity, amount=amount,
                        inspection_fee=fee, refunded=amount - fee)


def itemised(status: ReturnStatus) -> RefundItemised | None:
    """The refund line by line once an inspection fee was deducted from it; None otherwise (each
    line's amount is then what it refunds, and the page and emails show it as they always did)."""
    lines = [line for i in status.items if (line := refunded_line(i, status.state)) is not None]
    if not any(line.inspection_fee for line in lines):
        return None
    # Once money moves, the refund's own amount (what the status card shows); before that (the
    # inspection just recorded) the lines' sum, which is what the workflow will pay.
    total = (refund_shown(status).amount if status.refund is not None
             else sum(line.refunded for line in lines))
    return RefundItemised(currency=status.currency, lines=lines, total=total)


__all__ = ["RefundItemised", "RefundedLine", "itemised", "refunded_line"]
