"""Activity names and their input/output models: what the workflow and the activities agree on.

Light on purpose (pydantic and the domain only) so the workflow can import it. Every request that
causes a side effect carries an `idempotency_key` derived from the workflow id and the step
(`return-R1:refund:1`), so retries and worker crashes never refund, email or buy a label twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from returns.actions import ItemOverride
from returns.events import Address, Payment, ReturnRequested
from returns.money import format_money
from returns.policy.decision import Calendar, Duration, ReturnDecision

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


class NotificationItem(_Model):
    title: str
    quantity: int
    resolution: str | None = None
    eligible: bool = True
    reasons: list[str] = []  # plain-language reasons, each citing its clause
    refund: str | None = None  # "123.45 EUR"
    fees: list[str] = []


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

    @classmethod
    def for_return(cls, request: ReturnRequested, decision: ReturnDecision, *, state: str,
                   template: str, audience: Audience, to: str, idempotency_key: str,
                   message: str | None = None, deadline: datetime | None = None,
                   label_path: str | None = None, tracking: str | None = None,
                   refund_total: str | None = None) -> "Notification":
        """The email for one step of a return: its items as the policy decided them, amounts
        formatted in the return's currency."""
        currency = decision.currency
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
            ) for i in decision.items],
            message=message,
            deadline=deadline.strftime("%A %d %B %Y, %H:%M UTC") if deadline else None,
            deadline_at=deadline, timezone=decision.sla.calendar.timezone,
            refund_total=refund_total or (format_money(decision.refund_total, currency)
                                          if decision.refund_total else None),
            label_path=label_path, tracking=tracking)


class NotificationSent(_Model):
    message_id: str
    transport: str  # "maildir" | "smtp"
    duplicate: bool = False  # True when this key had already been sent


# --- labels --------------------------------------------------------------------------------------
class LabelLine(_Model):
    sku: str
    title: str
    quantity: int


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
