"""The refund for what actually passed inspection, from what the policy decided at request time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from returns.events import Resolution
from returns.money import prorate
from returns.policy.decision import ItemDecision, ReturnDecision

if TYPE_CHECKING:  # returns.status imports the policy package
    from returns.status import ItemStatus


def refund_for_accepted(item: ItemDecision, accepted_quantity: int, inspection_fee: int = 0) -> int:
    """`item.refund_amount` (fees already deducted) for `accepted_quantity` of the requested units,
    rounded down; never more than was paid for those units, 0 for an item that is not eligible
    or is exchanged/repaired (its refund_amount is 0). `inspection_fee`, charged by the inspector
    where the policy allows it (003 §V.1.4), is deducted, never below 0."""
    if isinstance(accepted_quantity, bool) or not isinstance(accepted_quantity, int):
        raise ValueError(f"accepted_quantity: must be a whole number, got {accepted_quantity!r}")
    if not 0 <= accepted_quantity <= item.quantity:
        raise ValueError(f"accepted_quantity: {accepted_quantity} is not between 0 and the "
                         f"{item.quantity} requested on line {item.line_id}")
    if not item.eligible or item.quantity == 0:
        return 0
    refund = prorate(item.refund_amount, accepted_quantity, item.quantity)
    return max(0, min(refund, prorate(item.paid, accepted_quantity, item.quantity)) - inspection_fee)


def exchange_fees(decision: ReturnDecision, items: Mapping[str, ItemStatus]) -> int:
    """Unwaived fees on the accepted exchanges: paid by the customer before reshipping (004 §4.5)."""
    return sum(f.amount for i in decision.items
               if i.resolution == Resolution.exchange and items[i.line_id].quantity_accepted
               for f in i.fees if not f.waived)
