"""What the policy engine decides for one return request; the workflow follows it.

Every reason cites the clause of the merchant's written policy it comes from.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from returns.events import Address, EvidenceKind, Resolution
from returns.money import Currency, MinorUnits


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DayUnit(StrEnum):
    business_days = "business_days"
    calendar_days = "calendar_days"
    hours = "hours"


class Duration(_Model):
    amount: Annotated[int, Field(ge=0, le=366)]
    unit: DayUnit

    def describe(self) -> str:
        words = {"business_days": "business day", "calendar_days": "calendar day", "hours": "hour"}
        word = words[self.unit.value]
        return f"{self.amount} {word}{'' if self.amount == 1 else 's'}"


class Calendar(_Model):
    """Where business days are counted: the merchant's country holidays and time zone."""

    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    subdivision: str | None = None
    timezone: str = "UTC"


class SLA(_Model):
    """The time limits that govern one return, each citing its clause."""

    calendar: Calendar
    review: Duration
    ship_by: Duration
    ship_by_reminder_before: Duration = Duration(amount=24, unit=DayUnit.hours)
    inspection: Duration
    refund: Duration
    refund_escalate_before: Duration = Duration(amount=48, unit=DayUnit.hours)
    reshipment: Duration
    clauses: dict[str, str] = {}  # e.g. {"review": "004 §3.2: review within 2 business days"}


class Reason(_Model):
    clause: str  # e.g. "004 §2.2"
    text: str  # e.g. "returns within 15 calendar days of signature"

    def __str__(self) -> str:
        return f"{self.clause}: {self.text}"


class Party(StrEnum):
    merchant = "merchant"
    customer = "customer"
    nobody = "nobody"  # no shipment on that leg


class FeeKind(StrEnum):
    restocking = "restocking"
    personalisation = "personalisation"
    comparison_purchase = "comparison_purchase"
    inspection = "inspection"


class Fee(_Model):
    kind: FeeKind
    amount: MinorUnits
    basis_points: int | None = None  # 3000 = 30 %
    reason: Reason
    waived: bool = False
    waived_by: str | None = None


class ItemDecision(_Model):
    line_id: str
    sku: str
    title: str
    quantity: int
    eligible: bool
    requested_resolution: Resolution
    resolution: Resolution | None  # None when not eligible
    resolution_reason: Reason | None = None  # why it differs from what was asked
    quality_issue: bool
    needs_return_shipment: bool
    return_shipping_paid_by: Party
    reshipping_paid_by: Party
    paid: MinorUnits  # what the customer paid for these units, tax included
    refund_cap: MinorUnits  # the most that may be refunded (e.g. price excluding tax)
    fees: list[Fee] = []
    refund_amount: MinorUnits  # for the whole requested quantity, after fees; 0 for exchange/repair
    evidence_required: list[EvidenceKind] = []
    evidence_missing: list[EvidenceKind] = []
    staff_review_required: bool = False
    staff_review_points: list[str] = []
    inspection_checks: list[str] = []  # the inspection must confirm these before it passes
    inspection_fee_clause: str | None = None  # staff may charge an inspection fee (003 §V.1.4)
    # An exchange approved only once staff confirm its stock: "<clause>: <text>" (003 §III.2).
    stock_check: str | None = None
    # Who pays each leg comes from this clause (the ground's `shipping_clause`); None in old decisions.
    shipping_clause: str | None = None
    # Money the customer pays before an exchange or repair ships, beyond fees and reshipping, whose
    # amount staff quote (004 §4.4 "the difference must be paid before arranging shipment").
    owed_before_reshipping: list[Reason] = []
    # Why the item is not (or not yet) eligible, each citing its clause; also in `reasons`. Empty
    # for an eligible item; never empty for one that is neither eligible nor waiting for staff.
    refusals: list[Reason] = []
    # Every reason, eligible or not, each citing its clause; written for the customer (what staff
    # must do is in `staff_review_points`).
    reasons: list[Reason] = []
    # The line's attributes the policy rules look at ("engraved", "material:platinum_950"), kept so a
    # staff override can re-price the item without the original request.
    line_attributes: list[str] = []

    @property
    def fees_total(self) -> int:
        return sum(f.amount for f in self.fees if not f.waived)


class MerchantContact(_Model):
    """Who the customer and the label deal with; from the policy file's [merchant] table."""

    name: str
    return_address: Address
    support_email: str
    staff_email: str  # where "a person must act" notifications go
    sender_email: str | None = None  # the From: of its emails; None in older decisions


class ReturnDecision(_Model):
    merchant_id: str
    merchant: MerchantContact
    policy_version: str
    currency: Currency
    items: list[ItemDecision]
    sla: SLA
    address_problems: list[Reason] = []
    auto_reject: bool = False  # nothing eligible and the policy says not to bother staff
    auto_reject_reasons: list[Reason] = []
    # Who ships back items that fail inspection, as one sentence for the customer citing the
    # clause ([inspection_failed] of the policy file: 004 §3.7, 003 §III.4). None in old decisions.
    inspection_failed_shipping: str | None = None
    inspection_failed_shipping_paid_by: Party | None = None
    inspection_failed_shipping_clause: str | None = None
    # Return postage reimbursed up to standard shipping only: "<clause>: <text>" (004 §3.4).
    postage_standard_only: str | None = None
    # Confirmed by staff before an exchange ships, "<clause>: <text>" (003 §V.2.3).
    exchange_checks: list[str] = []
    # The clause requiring the original packaging for the return parcel (003 §III.3, 004 §2.3).
    original_packaging_clause: str | None = None
    decided_on: str  # ISO date of the request the decision was made for

    @property
    def refund_total(self) -> int:
        return sum(i.refund_amount for i in self.items if i.eligible)

    @property
    def fees_total(self) -> int:
        return sum(i.fees_total for i in self.items if i.eligible)

    @property
    def needs_return_shipment(self) -> bool:
        return any(i.eligible and i.needs_return_shipment for i in self.items)

    def item(self, line_id: str) -> ItemDecision:
        for item in self.items:
            if item.line_id == line_id:
                return item
        raise KeyError(line_id)


Verdict = Literal["eligible", "ineligible", "review"]
