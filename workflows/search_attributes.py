"""Custom search attributes: how staff find returns in the Temporal UI. No PII here, ever
(search attributes are not encrypted): ids, states, deadlines and amounts only, and tracking
numbers as hashes (TrackingRefs).

The dev server is started with these registered; `python -m runtime.search_attributes register`
adds them to a production cluster. Within the dev server's budget (10 Keyword, 3 of each other).
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from returns.refund_shown import refund_shown
from returns.tracking_refs import tracking_refs
from returns.status import FINAL, LabelInfo, ReturnStatus

RETURN_STATE = SearchAttributeKey.for_keyword("ReturnState")
MERCHANT_ID = SearchAttributeKey.for_keyword("MerchantId")
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
RETURN_ID = SearchAttributeKey.for_keyword("ReturnId")
NEXT_DEADLINE_KIND = SearchAttributeKey.for_keyword("NextDeadlineKind")
WAITING_ON = SearchAttributeKey.for_keyword("WaitingOn")
CURRENCY = SearchAttributeKey.for_keyword("RefundCurrency")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
REQUESTED_AT = SearchAttributeKey.for_datetime("RequestedAt")
REFUND_AMOUNT = SearchAttributeKey.for_int("RefundAmount")  # minor units of RefundCurrency
NEEDS_ATTENTION = SearchAttributeKey.for_bool("NeedsAttention")
RESOLUTIONS = SearchAttributeKey.for_keyword_list("Resolutions")
# What the return label's barcode encodes, set once a label exists: `RMA-<return id>` on the
# embedded PDF label, the carrier's tracking code on an EasyPost label. Not personal data. The
# warehouse scans it: `returns receive <barcode>` finds the return by it.
LABEL_BARCODE = SearchAttributeKey.for_keyword("LabelBarcode")
# Every tracking number the return knows (the customer's, the carrier's scans, the shipment staff
# sent the customer), each as a short hash, never in clear: a tracking number reveals a delivery
# address at the carrier. returns/tracking_refs.py; the console's Find box hashes what is typed.
TRACKING_REFS = SearchAttributeKey.for_keyword_list("TrackingRefs")

ALL = [
    RETURN_STATE, MERCHANT_ID, ORDER_ID, RETURN_ID, NEXT_DEADLINE_KIND, WAITING_ON, CURRENCY,
    NEXT_DEADLINE, REQUESTED_AT, REFUND_AMOUNT, NEEDS_ATTENTION, RESOLUTIONS, LABEL_BARCODE,
    TRACKING_REFS,
]


def for_status(status: ReturnStatus, label: LabelInfo | None,
               shipped: Sequence[str] = ()) -> list[SearchAttributeUpdate]:
    """What staff filter on, from the return's status: ids, state, who it waits on, the next
    deadline, amounts, the label's barcode once there is one, and the refs of its tracking
    numbers once it has any (`shipped`: those of the shipments staff sent the customer)."""
    running = [d for d in status.deadlines if not d.met] if status.state not in FINAL else []
    # A clock waiting for the customer (a review while a question is open) is not due meanwhile.
    running = [d for d in running if d.paused_since is None]
    nxt = min(running, key=lambda d: d.due_at, default=None)
    updates = [
        RETURN_ID.value_set(status.return_id),
        MERCHANT_ID.value_set(status.merchant_id),
        ORDER_ID.value_set(status.order_id),
        RETURN_STATE.value_set(status.state.value),
        WAITING_ON.value_set(status.waiting_on.value if status.waiting_on else "nobody"),
        NEEDS_ATTENTION.value_set(status.needs_attention),
        # What was paid once the refund is done (less for a partial one), what is due before;
        # 0 once the outcome refunds nothing (a failed inspection, a rejection): refund_shown.
        REFUND_AMOUNT.value_set(refund_shown(status).amount),
        CURRENCY.value_set(status.currency),
        RESOLUTIONS.value_set(sorted({i.resolution.value for i in status.items
                                      if i.eligible and i.resolution})),
        NEXT_DEADLINE.value_set(nxt.due_at) if nxt else NEXT_DEADLINE.value_unset(),
        NEXT_DEADLINE_KIND.value_set(nxt.kind.value) if nxt else NEXT_DEADLINE_KIND.value_unset(),
    ]
    if status.requested_at is not None:
        updates.append(REQUESTED_AT.value_set(status.requested_at))
    if label is not None:
        updates.append(LABEL_BARCODE.value_set(label.barcode_value))
    refs = tracking_refs([n.tracking_number for n in status.tracking] + list(shipped))
    if refs:
        updates.append(TRACKING_REFS.value_set(refs))
    return updates


def cli_flags() -> list[str]:
    """`--search-attribute Name=Type` flags for `temporal server start-dev`."""
    kinds = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "INT": "Int", "BOOL": "Bool",
             "KEYWORD_LIST": "KeywordList", "DOUBLE": "Double", "TEXT": "Text"}
    flags = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={kinds[key.indexed_value_type.name]}"]
    return flags
