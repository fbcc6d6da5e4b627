"""Activity names and their input/output models: what the workflow and the activities agree on.

Light on purpose (pydantic and the domain only) so the workflow can import it. Every request that
causes a side effect carries an `idempotency_key` derived from the workflow id and the step
(`return-R1:refund:1`), so retries and worker crashes never refund, email or buy a label twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from returns.actions import ItemOverride
from returns.events import Address, Payment, ReturnRequested
from returns.money import format_money
from returns.outbound import ReturnEvent
from returns.order_lines import OrderLedger, OrderSpec, RefundOfLine, UnitsOfLine
from returns.policy.decision import Calendar, Duration, ReturnDecision
from returns.refund_itemised import RefundItemised

EVALUATE_RETURN = "evaluate_return"
APPLY_OVERRIDES = "apply_overrides"
COMPUTE_DEADLINE = "compute_deadline"
SEND_NOTIFICATION = "send_notification"
CREATE_RETURN_LABEL = "create_return_label"
ISSUE_REFUND = "issue_refund"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def step_key(workflow_id: str, step: str) -> str:
    """The idempotency key of one side effect: the workflow id and the step name."""
    return f"{workflow_id}:{step}"


# --- policy --------------------------------------------------------------------------------------
class EvaluateReturn(_Model):
    request: ReturnRequested


class ApplyOverrides(_Model):
    """Staff exceptions at approval, applied by the policy engine (which holds the policy data)."""

    decision: ReturnDecision
    overrides: list[ItemOverride]
    actor: str


# --- deadlines -----------------------------------------------------------------------------------
class DeadlineRequest(_Model):
    start: datetime  # timezone-aware
    duration: Duration
    calendar: Calendar
    backwards: bool = False  # count back from `start` (reminders and escalations before a deadline)


# --- notifications -------------------------------------------------------------------------------
Audience = Literal["customer", "staff"]


class FeeAmount(_Model):
    kind: str  # returns.policy.decision.FeeKind
    amount: int  # minor units, in the notification's currency


class NotificationItem(_Model):
    title: str
    quantity: int
    resolution: str | None = None
    eligible: bool = True
    reasons: list[str] = []  # the policy's reasons, each citing its clause: staff emails only
    refund: str | None = None  # "123.45 EUR"
    fees: list[str] = []
    # The decision's facts a customer email is worded from (returns/customer_words.py, in the
    # customer's language): customers never read `reasons` or `fees` above.
    resolution_changed: bool = False  # granted something else than asked
    evidence_missing: list[str] = []  # EvidenceKind values still needed to decide
    refund_amount: int | None = None  # minor units
    fee_amounts: list[FeeAmount] = []
    missing: int = 0  # units that have not arrived ("received")
    failed: int = 0  # units that did not pass inspection ("inspection_failed")
    needs_return_shipment: bool = True  # False: refunded or exchanged with nothing sent back


class Notification(_Model):
    idempotency_key: str
    template: str  # e.g. "approved", "ship_by_reminder", "review_needed"
    audience: Audience
    to: str  # email address (customer's or staff's)
    locale: str = "en"
    merchant_name: str
    merchant_support_email: str
    merchant_return_address: Address | None = None
    return_id: str
    order_id: str
    customer_name: str
    state: str
    items: list[NotificationItem] = []
    message: str | None = None  # reject reason, staff question, escalation details
    deadline: str | None = None  # English UTC rendering, kept for old histories and templates
    deadline_at: datetime | None = None  # the deadline itself; templates format it per locale
    timezone: str | None = None  # the merchant's time zone, to show deadlines as local dates
    refund_total: str | None = None
    label_path: str | None = None  # PDF to attach
    tracking: str | None = None
    merchant_id: str | None = None  # picks the merchant's email adapter; None: the default one
    # The policy requires the original packaging (003 §III.3, 004 §2.3): the clause, else None.
    packaging_clause: str | None = None
    # The customer's return page (customer_page.links); set by the activity when it sends a
    # customer email, never by the workflow (its keys are the worker's secret).
    return_page_url: str | None = None
    # For the customer's words (returns/customer_words.py): amounts in minor units of `currency`,
    # formatted per language by the activity; None in notifications of older returns.
    currency: str | None = None
    refund_total_amount: int | None = None
    deadline_kind: str | None = None  # "deadline_extended": which date moved (DeadlineKind)
    owed_amount: int | None = None  # paid before a shipment to the customer (004 §4.4, §3.7)
    owed_quoted: bool = False  # and costs staff quote (price difference, postage)
    # The merchant's From address (policy file, [merchant] sender_email); None: the transport's.
    merchant_sender_email: str | None = None
    # Set by the activity for a customer email: no item travels back (a returnless refund, a lost
    # parcel), so the email says nothing about labels, parcels or the return address.
    nothing_to_send: bool = False
    # The provider-hosted page where the customer pays what they owe (issue 18 point 2).
    payment_url: str | None = None
    # The refund line by line once an inspection fee was deducted (returns/refund_itemised.py:
    # the workflow passes `itemised(status)` to the refund and closing emails), and its words in
    # the customer's language, set by the activity (activities/customer_email.py).
    refund_lines: RefundItemised | None = None
    refund_itemised: list[str] = []

    @classmethod
    def for_return(cls, request: ReturnRequested, decision: ReturnDecision, *, state: str,
                   template: str, audience: Audience, to: str, idempotency_key: str,
                   message: str | None = None, deadline: datetime | None = None,
                   label_path: str | None = None, tracking: str | None = None,
                   refund_total: str | None = None, refund_paid: int | None = None,
                   missing: dict[str, int] | None = None, failed: dict[str, int] | None = None,
                   deadline_kind: str | None = None, owed_amount: int | None = None,
                   owed_quoted: bool = False,
                   payment_url: str | None = None,
                   refund_lines: RefundItemised | None = None) -> "Notification":
        """The email for one step of a return: its items as the policy decided them, amounts
        formatted in the return's currency. `refund_paid`: what was refunded (minor units);
        `missing` / `failed`: units per line id not received / not passed."""
        currency = decision.currency
        missing, failed = missing or {}, failed or {}
        return cls(
            idempotency_key=idempotency_key, template=template, audience=audience, to=to,
            merchant_id=request.merchant_id, locale=request.order.customer.locale,
            merchant_name=decision.merchant.name,
            merchant_support_email=decision.merchant.support_email,
            merchant_return_address=decision.merchant.return_address,
            return_id=request.return_id, order_id=request.order.order_id,
            customer_name=request.order.customer.name, state=state,
            items=[NotificationItem(
                title=i.title, quantity=i.quantity,
                resolution=i.resolution.value if i.resolution else None, eligible=i.eligible,
                reasons=[str(r) for r in i.reasons],
                refund=format_money(i.refund_amount, currency) if i.refund_amount else None,
                fees=[f"{f.kind.value}: {format_money(f.amount, currency)}" for f in i.fees
                      if not f.waived],
                resolution_changed=i.resolution_reason is not None,
                evidence_missing=[k.value for k in i.evidence_missing],
                refund_amount=i.refund_amount or None,
                fee_amounts=[FeeAmount(kind=f.kind.value, amount=f.amount) for f in i.fees
                             if not f.waived],
                missing=missing.get(i.line_id, 0), failed=failed.get(i.line_id, 0),
                needs_return_shipment=i.needs_return_shipment,
            ) for i in decision.items],
            message=message,
            deadline=deadline.strftime("%A %d %B %Y, %H:%M UTC") if deadline else None,
            deadline_at=deadline, timezone=decision.sla.calendar.timezone,
            # refund_total "" from the workflow: no refund to tell; else what was paid, else the
            # policy's proposal (an email before any refund).
            refund_total=(refund_total or None) if refund_total is not None else (
                format_money(refund_paid, currency) if refund_paid
                else None if refund_paid is not None
                else format_money(decision.refund_total, currency) if decision.refund_total
                else None),
            label_path=label_path, tracking=tracking,
            packaging_clause=decision.original_packaging_clause,
            currency=currency,
            refund_total_amount=(refund_paid if refund_paid is not None
                                 else decision.refund_total) or None,
            deadline_kind=deadline_kind, owed_amount=owed_amount, owed_quoted=owed_quoted,
            merchant_sender_email=decision.merchant.sender_email, payment_url=payment_url,
            refund_lines=refund_lines)


class NotificationSent(_Model):
    message_id: str
    transport: str  # "maildir" | "smtp"
    duplicate: bool = False  # True when this key had already been sent


# --- labels --------------------------------------------------------------------------------------
class LabelLine(_Model):
    sku: str
    title: str
    quantity: int
    # What the customer asked for, printed on the packing slip so the warehouse knows without
    # looking it up (003 §III.3 "a return list (indicating … return/exchange needs)"):
    # "refund", "exchange: size 54", "repair". None in labels of older returns.
    wanted: str | None = None


class LabelRequest(_Model):
    idempotency_key: str
    rma_number: str
    return_id: str
    order_id: str
    merchant_name: str
    merchant_address: Address
    customer_name: str
    customer_address: Address
    lines: list[LabelLine]
    ship_by: datetime | None = None
    timezone: str | None = None  # the merchant's time zone, to print ship_by as a local date
    merchant_id: str | None = None  # picks the merchant's label adapter; None: the default one
    # A carrier label is bought (and paid by the merchant) only when the merchant bears the return
    # shipping of everything in the parcel (returns.postage.prepaid_label, 004 §3.4); otherwise
    # the customer posts the parcel at their cost with the PDF RMA label.
    prepaid: bool = True


class LabelCreated(_Model):
    rma_number: str
    barcode_value: str
    path: str
    sha256: str
    duplicate: bool = False


# --- payments ------------------------------------------------------------------------------------
class RefundRequest(_Model):
    idempotency_key: str
    return_id: str
    order_id: str
    currency: str
    amount: int  # minor units, > 0
    payments: list[Payment]  # the order's payments, in the order they are refunded
    reason: str
    merchant_id: str | None = None  # picks the merchant's payment providers; None: the default


class RefundIssued(_Model):
    refund_id: str
    amount: int
    currency: str
    splits: dict[str, int]  # payment_id -> amount
    duplicate: bool = False


REFUND_REFUSED = "RefundRefused"  # ApplicationError type: the provider refused; do not retry
# ApplicationError type: no provider is configured for a payment method of the order (or its
# payments need different providers); not retried, staff record a manual refund.
NO_REFUND_PROVIDER = "NoRefundProvider"


# --- order lines (returns/order_lines.py, workflows/order_workflow.py) ---------------------------
# Each activity reaches the order's guard workflow (`order-<merchant_id>-<order_id>`) with
# update-with-start and answers `LinesAnswer`. A request the order line does not allow fails the
# activity for good: ApplicationError of type ORDER_LINE_REFUSED, its message naming the line and
# the numbers (no personal data). The same call again (same idempotency_key) answers the same.
RESERVE_ORDER_LINES = "reserve_order_lines"
RECEIVE_ORDER_LINES = "receive_order_lines"
CLAIM_LINE_REFUND = "claim_line_refund"
CONFIRM_LINE_REFUND = "confirm_line_refund"
RELEASE_LINE_REFUND = "release_line_refund"
MARK_LINES_EXCHANGED = "mark_lines_exchanged"
RELEASE_ORDER_LINES = "release_order_lines"

ORDER_LINE_REFUSED = "OrderLineRefused"  # ApplicationError type: the order line does not allow it


class OrderGuardStart(_Model):
    """The order workflow's input: the order, how long it is kept, and (continue-as-new) its state."""

    order: OrderSpec
    keep_until: AwareDatetime  # after it, and once no return holds anything, the guard may end
    idle_end_after: Annotated[timedelta, Field(ge=timedelta(seconds=1))] = timedelta(days=7)
    history_limit: Annotated[int, Field(ge=20, le=50_000, strict=True)] = 5_000
    ledger: OrderLedger | None = None  # carried by continue-as-new
    last_change: AwareDatetime | None = None  # carried by continue-as-new


class OrderLinesCall(_Model):
    """What every order-line activity carries: the order (from the return's request, `OrderSpec.of`),
    the return (its workflow id) and the step (`step_key(return_ref, "order-lines:reserve")`)."""

    order: OrderSpec
    return_ref: str
    idempotency_key: str

    @classmethod
    def for_return(cls, request: ReturnRequested, return_ref: str, step: str, **fields):
        """`ReserveOrderLines.for_return(self.request, workflow.info().workflow_id,
        "order-lines:reserve", lines=[...])`: the order from the return's request, the key
        `<return_ref>:<step>`."""
        return cls(order=OrderSpec.of(request.merchant_id, request.order), return_ref=return_ref,
                   idempotency_key=step_key(return_ref, step), **fields)


class ReserveOrderLines(OrderLinesCall):
    lines: list[UnitsOfLine]  # the units of each line that will come back, be refunded or exchanged


class ReceiveOrderLines(OrderLinesCall):
    lines: list[UnitsOfLine]  # units the warehouse received


class ClaimLineRefund(OrderLinesCall):
    lines: list[RefundOfLine]  # per line: units refunded and the money (order's currency)

    @property
    def amount(self) -> int:
        """The refund this claim covers: the RefundRequest's amount."""
        return sum(ln.amount for ln in self.lines)


class ConfirmLineRefund(OrderLinesCall):
    claim_key: str  # the idempotency_key of the claim
    amount_paid: int | None = None  # what was paid if less than claimed (a manual refund)


class ReleaseLineRefund(OrderLinesCall):
    claim_key: str


class MarkLinesExchanged(OrderLinesCall):
    lines: list[UnitsOfLine]


class ReleaseOrderLines(OrderLinesCall):
    """The return ended: what it reserved and did not refund or exchange goes back."""


# --- events out (returns/outbound.py, workflows/delivery_workflow.py, activities/deliveries.py) ---
ENQUEUE_EVENT = "enqueue_return_event"  # local activity: signal-with-start the return's deliveries
DELIVER_EVENT = "deliver_return_event"  # one signed POST to the merchant's endpoint

ENDPOINT_GONE = "EndpointGone"  # ApplicationError type: a 410; no further deliveries for the return
NO_ENDPOINT = "NoEndpoint"  # ApplicationError type: the merchant's endpoint was removed meanwhile
DELIVERY_FAILED = "DeliveryFailed"  # ApplicationError type: no answer, or not a 2xx; retried


class DeliveryPlan(_Model):
    """The merchant's delivery setting, as the return's deliveries workflow follows it."""

    retry_for: timedelta = timedelta(days=3)  # how long one event is retried before giving up
    attention_after: timedelta = timedelta(hours=1)  # failing this long: raised to staff
    attempt: timedelta = timedelta(seconds=15)  # one POST's limit (the HTTP timeout and a margin)


class EnqueueEvent(_Model):
    event: ReturnEvent
    return_workflow_id: str


class Enqueued(_Model):
    delivering: bool  # False: the merchant has no endpoint, or this return's deliveries ended
    detail: str = ""


class DeliveryStart(_Model):
    """The deliveries workflow's input, and what it carries over when it continues as new."""

    merchant_id: str
    return_id: str
    return_workflow_id: str
    plan: DeliveryPlan = DeliveryPlan()
    queue: list[ReturnEvent] = []
    seen: list[str] = []  # event ids already queued: a repeat is dropped
    ended: bool = False  # the return's last event is queued
    stopped: str | None = None  # why nothing more is delivered (a 410, or retries ran out)
    failing: str | None = None  # the last error while raised to staff
    delivered: int = 0


class DeliverEvent(_Model):
    event: ReturnEvent


class Delivered(_Model):
    status: int  # the endpoint's 2xx


DeliveryNewsKind = Literal["failing", "recovered", "stopped", "gave_up"]


class DeliveryNews(_Model):
    """From a return's deliveries to the return: shown to staff on the status card."""

    kind: DeliveryNewsKind
    error: str | None = None
