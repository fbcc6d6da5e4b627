"""The console's daily lists: each one a Temporal visibility query (the same strings the README
gives for the Web UI, built by returns_cli.queries.Filters), narrowed to the merchants the
signed-in person may see, and ordered by what is due first.

Pure: from a queue name, a person and "now" to a query; from listed rows to their order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from console.accounts import Staff
from returns.allowed import SHIPPING_BACK
from returns.status import ReturnState, WaitingOn
from returns_cli.queries import Filters, quoted
from workflows import search_attributes as sa

SHIPMENTS_DUE_WITHIN = timedelta(days=1)
# Where ship_to_customer is staff's next action (returns.allowed): an exchange's replacement, a
# repaired item, an item sent back after a failed inspection. Waiting on staff: not while the
# customer is still asked to pay what they owe first (WaitingOn "customer payment").
TO_SHIP_STATES = [s.value for s in ReturnState if s in SHIPPING_BACK]


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    filters: Callable[[datetime], Filters]
    bulk: bool = False  # select several and approve or reject them at once


QUEUES: dict[str, Queue] = {q.key: q for q in (
    Queue("to_review", "To review", lambda now: Filters(states=["under_review"]), bulk=True),
    Queue("reviews_overdue", "Reviews overdue",
          lambda now: Filters(overdue="review", as_of=now), bulk=True),
    Queue("needs_attention", "Needs attention", lambda now: Filters(needs_attention=True)),
    Queue("shipments_due", "Shipments due within a day",
          lambda now: Filters(overdue="ship_by", as_of=now + SHIPMENTS_DUE_WITHIN)),
    Queue("inspections_due", "Inspections due",
          lambda now: Filters(states=["received", "inspecting"])),
    Queue("refunds_failing", "Refunds failing",
          lambda now: Filters(states=["refunding"], needs_attention=True)),
    Queue("to_ship", "To ship to the customer",
          lambda now: Filters(states=TO_SHIP_STATES, waiting_on=WaitingOn.staff.value)),
)}
# Lists that take a value: one merchant's open returns, an order's returns (finished too).
MERCHANT = Queue("merchant", "Merchant", lambda now: Filters())
ORDER = Queue("order", "Order", lambda now: Filters(include_finished=True))


def query(queue: Queue, staff: Staff, now: datetime, *, merchant: str | None = None,
          order: str | None = None) -> str:
    """The visibility query of `queue` as `staff` may see it."""
    filters = queue.filters(now)
    if merchant is not None:
        filters.merchant = merchant
    if order is not None:
        filters.order = order
    text = filters.query()
    if not staff.all_merchants and merchant is None:
        allowed = ", ".join(quoted("merchant", m) for m in sorted(staff.merchants))
        text += f" AND {sa.MERCHANT_ID.name} IN ({allowed})"
    return text


@dataclass
class Row:
    workflow_id: str
    return_id: str
    merchant_id: str
    order_id: str
    state: str
    waiting_on: str
    next_deadline: datetime | None
    next_deadline_kind: str | None
    needs_attention: bool
    refund_amount: int | None
    currency: str | None
    running: bool
    requested_at: datetime | None


def due_first(rows: list[Row]) -> list[Row]:
    """Open returns with a deadline, soonest first; then open returns with none (oldest request
    first); finished returns last: work without a deadline never sinks below finished work."""
    def when(r: Row) -> float:
        moment = r.next_deadline or r.requested_at
        return moment.timestamp() if moment else float("inf")

    return sorted(rows, key=lambda r: (not r.running, r.next_deadline is None, when(r),
                                       r.return_id))
