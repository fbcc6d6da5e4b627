"""The states of a return, the transitions between them (in one place), and the status view.

A status is a readable value; every transition the workflow makes goes through `check_transition`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from returns.customer_answers import CustomerAnswer, OpenQuestion
from returns.events import EvidenceKind, Resolution
from returns.policy.decision import DayUnit, Fee, Party, Reason
from returns.tracking import TrackingNumber


class ReturnState(StrEnum):
    requested = "requested"
    under_review = "under_review"
    approved = "approved"
    awaiting_shipment = "awaiting_shipment"
    in_transit = "in_transit"
    received = "received"
    inspecting = "inspecting"
    refunding = "refunding"
    refunded = "refunded"
    exchange_shipping = "exchange_shipping"
    exchanged = "exchanged"
    repairing = "repairing"
    repaired = "repaired"
    returning_to_customer = "returning_to_customer"
    closed = "closed"
    rejected = "rejected"
    expired = "expired"
    withdrawn = "withdrawn"
    cancelled = "cancelled"


S = ReturnState
_OUTCOME = {S.refunding, S.exchange_shipping, S.repairing, S.returning_to_customer}
_AFTER_OUTCOME = {S.refunded, S.exchanged, S.repaired, S.closed}
# Which state may follow which. Staff may cancel anything still open (cancel is the operator's
# emergency stop); the customer may withdraw only until the warehouse has the parcel.
TRANSITIONS: dict[ReturnState, set[ReturnState]] = {
    S.requested: {S.under_review, S.rejected, S.withdrawn, S.cancelled},
    S.under_review: {S.approved, S.rejected, S.withdrawn, S.cancelled},
    # Nothing to send back (a lost parcel, 000 §1.3): a returnless refund, or the replacement
    # shipped straight away.
    S.approved: {S.awaiting_shipment, S.refunding, S.exchange_shipping, S.withdrawn, S.cancelled},
    S.awaiting_shipment: {S.in_transit, S.received, S.expired, S.withdrawn, S.cancelled},
    S.in_transit: {S.received, S.withdrawn, S.cancelled},
    S.received: {S.inspecting, S.cancelled},
    S.inspecting: _OUTCOME | {S.closed, S.cancelled},
    # No cancel while money is moving: the refund either lands or fails to staff first.
    S.refunding: {S.refunded, S.closed},  # closed: a partial manual refund
    S.refunded: _OUTCOME | _AFTER_OUTCOME,
    S.exchange_shipping: {S.exchanged, S.cancelled},
    S.exchanged: _OUTCOME | _AFTER_OUTCOME,
    S.repairing: {S.repaired, S.cancelled},
    S.repaired: _OUTCOME | _AFTER_OUTCOME,
    S.returning_to_customer: {S.closed, S.cancelled},
    S.closed: set(),
    S.rejected: set(),
    S.expired: set(),
    S.withdrawn: set(),
    S.cancelled: set(),
}
FINAL = frozenset(s for s, nxt in TRANSITIONS.items() if not nxt)


class TransitionError(ValueError):
    pass


def check_transition(current: ReturnState, new: ReturnState) -> None:
    if new not in TRANSITIONS[current]:
        raise TransitionError(f"a return cannot go from {current.value} to {new.value}")


class DeadlineKind(StrEnum):
    review = "review"
    ship_by = "ship_by"
    inspection = "inspection"
    refund = "refund"
    reshipment = "reshipment"


DEADLINE_LABELS = {
    DeadlineKind.review: "staff review due",
    DeadlineKind.ship_by: "customer ship-by",
    DeadlineKind.inspection: "inspection due",
    DeadlineKind.refund: "refund due",
    DeadlineKind.reshipment: "reshipment due",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Deadline(_Model):
    kind: DeadlineKind
    due_at: datetime
    basis: str  # "2 business days, FR holidays (004 §3.2)"
    unit: DayUnit = DayUnit.calendar_days  # what extend_deadline counts in
    breached: bool = False
    met: bool = False
    extensions: list[str] = []
    # Set while the clock waits for the customer (the review, while a question is open:
    # returns/customer_answers.py); the due date then moves by the time it waited.
    paused_since: datetime | None = None


class AuditEntry(_Model):
    at: datetime
    actor: str  # staff member, "customer", "warehouse:<name>", "carrier", "system"
    action: str
    detail: str = ""


class WaitingOn(StrEnum):
    """Who the return waits for now (the `WaitingOn` search attribute)."""

    staff = "staff"
    customer = "customer"
    warehouse = "warehouse"
    carrier = "carrier"
    payment_provider = "payment provider"
    customer_payment = "customer payment"  # what they owe before a shipment (004 §4.4, §3.7)


class RefundStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failing = "failing"  # still retrying, and escalated: due soon
    failed = "failed"  # staff retry it or record a manual refund
    manual = "manual"  # staff refunded outside the system
    partial = "partial"  # staff refunded less than was due, outside the system


class InspectionResult(StrEnum):
    passed = "passed"
    failed = "failed"


class AttentionCause(StrEnum):
    """Why a return needs a person (NeedsAttention); what resolves it clears it."""

    receipt = "receipt"  # a warehouse receipt did not fit, or could not be read
    late = "late"  # a deadline passed (`attention_deadline` says which)
    refund_failed = "refund_failed"  # cleared by retry_refund or record_manual_refund
    label_failed = "label_failed"
    withdrawal_refused = "withdrawal_refused"
    unreadable_message = "unreadable_message"
    delivery_failed = "delivery_failed"  # events to the order system keep failing (last error)
    customer_payment = "customer_payment"  # not paid online as asked: staff settle it by hand


class Outcome(StrEnum):
    """How a return ended; a mixed return has several (refunded, returned to customer)."""

    refunded = "refunded"
    partially_refunded = "partially refunded"
    exchanged = "exchanged"
    repaired = "repaired"
    returned_to_customer = "returned to customer"
    returnless_refund = "returnless refund"
    nothing_accepted = "nothing accepted"
    rejected = "rejected"
    expired = "expired"
    withdrawn = "withdrawn"
    cancelled = "cancelled"


def describe_outcomes(outcomes: list[Outcome]) -> str | None:
    """"refunded, returned to customer" for the status card and `returns show`."""
    return ", ".join(o.value for o in outcomes) or None


class ItemStatus(_Model):
    line_id: str
    sku: str
    title: str
    quantity_requested: int
    eligible: bool
    resolution: Resolution | None
    # From the policy decision (ItemDecision); defaults keep statuses of older returns readable.
    requested_resolution: Resolution | None = None
    resolution_reason: Reason | None = None  # why `resolution` differs from what was asked
    return_shipping_paid_by: Party | None = None
    needs_return_shipment: bool = True  # False: refunded or exchanged with nothing sent back
    evidence_missing: list[EvidenceKind] = []
    staff_review_points: list[str] = []
    inspection_checks: list[str] = []  # what the inspection must confirm (record_inspection)
    reasons: list[Reason] = []
    fees: list[Fee] = []
    refund_amount: int = 0  # decided for the requested quantity
    quantity_received: int = 0
    condition_notes: list[str] = []
    inspection: InspectionResult | None = None
    inspection_notes: str | None = None
    failed_checks: list[str] = []  # the inspection_checks this item failed ("<clause>: <text>")
    quantity_accepted: int = 0
    # What staff charged for inspecting this line (record_inspection's inspection_fee, 003
    # §V.1.4), deducted from its refund (returns/refund_itemised.py); 0: none.
    inspection_fee: int = 0


class ReceiptOutcome(StrEnum):
    recorded = "recorded"
    repeat = "repeat"  # the same receipt id again: recorded once, not counted twice
    refused = "refused"  # did not fit the return: staff are alerted


class ReceiptLog(_Model):
    """What became of one warehouse receipt (`returns receive` waits for its receipt id here)."""

    receipt_id: str
    actor: str
    outcome: ReceiptOutcome
    detail: str = ""


class LabelInfo(_Model):
    rma_number: str
    barcode_value: str
    path: str
    sha256: str


class OwedPayment(_Model):
    """What the customer is asked to pay before a shipment, and how (issue 18 point 2): a page of
    the merchant's payment provider (`url`), or nothing online (`provider` None: staff record it).
    """

    amount: int  # minor units
    currency: str
    why: str  # "the price difference (004 §4.4); …", the clauses in brackets
    provider: str | None = None  # "stripe"
    payment_id: str | None = None  # the provider's page (Stripe Checkout Session cs_...)
    collect_key: str | None = None  # `<workflow id>:collect:<state>:<n>`, in the payment's metadata
    url: str | None = None  # where the customer pays (Stripe-hosted); None once paid or expired
    expires_at: datetime | None = None
    paid: bool = False
    reference: str | None = None  # the provider's payment (pi_...) once paid


class RefundInfo(_Model):
    status: RefundStatus
    amount: int
    currency: str
    refund_id: str | None = None
    paid: int = 0  # what reached the customer (less than `amount` for a partial manual refund)
    splits: dict[str, int] = {}  # payment_id -> amount
    attempts: int = 0
    last_error: str | None = None
    manual_reference: str | None = None


class EvidenceFile(_Model):
    """A photo or video the customer uploaded (returns/evidence.py): the file itself is in the
    evidence store (evidence/store.py) under `key`; history keeps only this."""

    sha256: str
    content_type: str
    size: int  # bytes
    kind: EvidenceKind  # what it shows: photos (of the item), original_packaging, certificate, ...
    line_id: str | None = None  # the item it is about, when the customer said
    uploaded_at: datetime
    key: str


class ShipmentToCustomer(_Model):
    """What staff shipped to the customer (ship_to_customer: an exchange's replacement, a repaired
    item, an item sent back): the carrier and the tracking number the customer is told."""

    carrier: str
    tracking_number: str


class ReturnStatus(_Model):
    """Everything the status query shows an operator."""

    return_id: str
    merchant_id: str
    order_id: str
    state: ReturnState
    outcome: str | None = None
    currency: str
    refund_total: int = 0
    fees_total: int = 0
    items: list[ItemStatus] = []
    deadlines: list[Deadline] = []
    label: LabelInfo | None = None
    refund: RefundInfo | None = None
    needs_attention: bool = False
    attention_reason: str | None = None
    waiting_on: WaitingOn | None = None
    requested_at: datetime | None = None
    next_actions: list[str] = []
    # What the customer pays before the next shipment, and why (004 §4.4, §4.5, §3.7).
    customer_owes: str | None = None
    # The same for the customer's words (returns/customer_words.owed): the known amount (minor
    # units) and whether staff still quote some of it (price difference, postage).
    customer_owes_amount: int | None = None
    customer_owes_quoted: bool = False
    # The payment asked of the customer for it, with its link (issue 18 point 2).
    owed_payment: OwedPayment | None = None
    receipts: list[ReceiptLog] = []
    audit: list[AuditEntry] = []
    evidence: list[EvidenceFile] = []  # the customer's uploads, in order
    # The customer in the loop (issue 16): staff's open question, the customer's answers, the
    # parcel's tracking numbers from the customer and from the carrier.
    open_question: OpenQuestion | None = None
    customer_answers: list[CustomerAnswer] = []
    tracking: list[TrackingNumber] = []
    # The last shipment staff recorded to the customer (the customer page shows its tracking).
    shipment_to_customer: ShipmentToCustomer | None = None
