"""The event contract between a merchant's order system and this product.

These pydantic models ARE the contract: `schemas/*.json` is generated from them
(`python -m returns.schema_export`) and a test fails when the two drift apart.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from returns.money import Currency, MinorUnits

# The largest amount any money field of an event may hold, in minor units: 10^12, ten billion in a
# two-decimal currency, a trillion yen. Every sum the product makes of them (an order's 200 lines
# x 1000 units, its payments, a refund with its fees) stays under 2^63 - 1 by a factor of more
# than 40, so it always fits the `RefundAmount` Int search attribute (int64) and the ledger. An
# event above it is refused at intake (422, naming the field) instead of failing its workflow.
MAX_AMOUNT = 10**12
Amount = Annotated[MinorUnits, Field(le=MAX_AMOUNT)]

# A timestamp with its offset (RFC 3339): the schema says so with a pattern as well as the
# `date-time` format, since many validators do not check formats.
Timestamp = Annotated[AwareDatetime, Field(json_schema_extra={
    "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?"
               "([Zz]|[+-][0-9]{2}:[0-9]{2})$"})]

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"),
    Field(description="letters, digits and . _ : - ; 1 to 64 characters"),
]
CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    Field(description="ISO 3166-1 alpha-2 country code, upper case"),
]
# `\S`: not only whitespace (stripped, it would be empty), said in the schema too.
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                             pattern=r"\S")]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerType(StrEnum):
    consumer = "consumer"
    business = "business"


class Resolution(StrEnum):
    """What the customer asks for, and what the policy grants."""

    refund = "refund"
    exchange = "exchange"
    repair = "repair"
    returnless_refund = "returnless_refund"


class ReturnReason(StrEnum):
    """Why the customer returns the item. Which reasons count as quality issues is the policy's call."""

    defective = "defective"  # craftsmanship/material defect (broken prong, loose pearl, plating peeling)
    not_as_described = "not_as_described"  # material/style/specification differs from the order
    wrong_item = "wrong_item"  # merchant shipped the wrong style, size or material
    damaged_in_transit = "damaged_in_transit"  # logistics damage, proven at signature
    lost_in_transit = "lost_in_transit"  # the parcel never arrived: nothing to send back
    changed_mind = "changed_mind"  # no reason given / cooling-off
    size_fit = "size_fit"  # size correct but not as expected
    style_preference = "style_preference"  # dislike of style, colour, texture


class EvidenceKind(StrEnum):
    photos = "photos"  # clear photos/videos of the product or the defective part
    original_packaging = "original_packaging"
    certificate = "certificate"  # quality inspection / grading certificate
    logistics_signature = "logistics_signature"  # carrier's signature record
    damage_proof = "damage_proof"  # proof of damage at logistics signing
    courier_receipt = "courier_receipt"  # receipt of the customer's return shipping


class Address(_Model):
    line1: ShortText
    line2: ShortText | None = None
    city: ShortText
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)]
    region: ShortText | None = None
    country: CountryCode


class Customer(_Model):
    id: Identifier
    email: Email
    name: ShortText
    type: CustomerType
    country: CountryCode
    locale: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")] = "en"


class Payment(_Model):
    payment_id: Identifier
    method: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,31}$")] = Field(
        description="card, apple_pay, google_pay, shop_pay, klarna, afterpay, bank_transfer, ..."
    )
    amount: Amount


class LineAttributes(_Model):
    category: ShortText | None = None  # e.g. "necklace", "ring"
    customized: bool = False  # custom design, special size, exclusive pattern
    engraved: bool = False  # text/engraving personalisation
    material: ShortText | None = None  # e.g. "platinum_950", "black_gold", "lab_grown_diamond"
    pearl_type: ShortText | None = None  # e.g. "akoya", "south_sea", "tahitian", "freshwater"
    certificate_number: ShortText | None = None  # product number on the grading certificate
    final_sale: bool = False  # marked non-returnable/exchangeable at sale
    previously_exchanged: bool = False  # this item is itself the result of an exchange
    third_party_modified: bool = False  # repaired/resized by a third party, secondary processing


class OrderLine(_Model):
    line_id: Identifier
    sku: Identifier
    title: ShortText
    quantity: Annotated[int, Field(ge=1, le=1000)]
    unit_price: Amount = Field(description="price paid per unit, tax included, in minor units")
    unit_tax: Amount = Field(0, description="tax included in unit_price, per unit, in minor units")
    attributes: LineAttributes = LineAttributes()

    @model_validator(mode="after")
    def _tax_within_price(self) -> "OrderLine":
        if self.unit_tax > self.unit_price:
            raise ValueError("unit_tax cannot exceed unit_price")
        return self


class Order(_Model):
    order_id: Identifier
    currency: Currency
    placed_at: Timestamp
    delivered_at: Timestamp | None = Field(None, description="carrier's signature date")
    customer: Customer
    shipping_address: Address
    payments: Annotated[list[Payment], Field(min_length=1, max_length=10)]
    lines: Annotated[list[OrderLine], Field(min_length=1, max_length=200)]
    shipping_paid: Amount = 0

    @model_validator(mode="after")
    def _consistent(self) -> "Order":
        ids = [line.line_id for line in self.lines]
        if len(set(ids)) != len(ids):
            raise ValueError("lines: line_id values must be unique")
        pids = [p.payment_id for p in self.payments]
        if len(set(pids)) != len(pids):
            raise ValueError("payments: payment_id values must be unique")
        if self.delivered_at is not None and self.delivered_at < self.placed_at:
            raise ValueError("delivered_at cannot be before placed_at")
        return self

    def line(self, line_id: str) -> OrderLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(line_id)

    @property
    def total_paid(self) -> int:
        return sum(p.amount for p in self.payments)


class RequestedItem(_Model):
    line_id: Identifier
    quantity: Annotated[int, Field(ge=1, le=1000)]
    reason: ReturnReason
    resolution: Resolution = Resolution.refund
    exchange_for: ShortText | None = Field(None, description="style/size wanted in exchange")
    customer_note: LongText | None = None
    evidence: list[EvidenceKind] = Field([], description="evidence the customer uploaded")
    evidence_declared_missing: list[EvidenceKind] = Field(
        [], description="evidence the customer declares they no longer have (a lost certificate, "
                        "packaging thrown away), as opposed to not uploaded yet; policies decide "
                        "on it at request time where their text is clear (003 §VI.2, 004 §5.5)")

    @model_validator(mode="after")
    def _exchange_target(self) -> "RequestedItem":
        both = sorted(set(self.evidence) & set(self.evidence_declared_missing))
        if both:
            raise ValueError(f"evidence_declared_missing: {', '.join(both)} is also in evidence "
                             f"(uploaded); list each kind in one of them only")
        if self.resolution == Resolution.returnless_refund:
            raise ValueError("resolution: customers ask for refund, exchange or repair; "
                             "returnless refund is the merchant's decision")
        if self.resolution == Resolution.exchange and not self.exchange_for:
            raise ValueError("exchange_for: required when resolution is exchange "
                             "(state the style/size wanted)")
        return self


class ReturnRequested(_Model):
    """`return.requested`: a customer asked to return items of one order."""

    type: Literal["return.requested"] = "return.requested"
    event_id: Identifier
    occurred_at: Timestamp
    return_id: Identifier
    merchant_id: Identifier
    order: Order
    items: Annotated[list[RequestedItem], Field(min_length=1, max_length=200)]
    estimated_return_shipping: Amount | None = Field(
        None, description="carrier's estimate of return shipping, in the order's currency"
    )

    @model_validator(mode="after")
    def _items_fit_order(self) -> "ReturnRequested":
        seen: set[str] = set()
        for i, item in enumerate(self.items):
            if item.line_id in seen:
                raise ValueError(f"items[{i}].line_id: {item.line_id!r} is requested twice")
            seen.add(item.line_id)
            try:
                line = self.order.line(item.line_id)
            except KeyError:
                raise ValueError(f"items[{i}].line_id: {item.line_id!r} is not a line of order "
                                 f"{self.order.order_id}") from None
            if item.quantity > line.quantity:
                raise ValueError(f"items[{i}].quantity: {item.quantity} is more than the "
                                 f"{line.quantity} ordered on line {item.line_id}")
        return self


class ReturnWithdrawn(_Model):
    """`return.withdrawn`: the customer cancels the return before the warehouse receives it."""

    type: Literal["return.withdrawn"] = "return.withdrawn"
    event_id: Identifier
    occurred_at: Timestamp
    return_id: Identifier
    merchant_id: Identifier
    reason: LongText | None = None


class ScanKind(StrEnum):
    picked_up = "picked_up"
    in_transit = "in_transit"
    delivered_to_warehouse = "delivered_to_warehouse"


class ParcelScanned(_Model):
    """`parcel.scanned`: carrier tracking for the customer's return parcel."""

    type: Literal["parcel.scanned"] = "parcel.scanned"
    event_id: Identifier
    occurred_at: Timestamp
    return_id: Identifier
    merchant_id: Identifier
    carrier: ShortText
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{4,40}$")]
    scan: ScanKind


OrderEvent = Annotated[
    Union[ReturnRequested, ReturnWithdrawn, ParcelScanned], Field(discriminator="type")
]


# The rules of the events that JSON Schema cannot say (across fields); each schema's description
# lists them, and the model refuses an event that breaks one with these words.
CROSS_FIELD_RULES = (
    "unit_tax cannot exceed unit_price",
    "line_id values must be unique",
    "payment_id values must be unique",
    "delivered_at cannot be before placed_at",
    "is requested twice",
    "is not a line of order",
    "ordered on line",
    "exchange_for: required when resolution is exchange",
    "returnless refund is the merchant's decision",
    "list each kind in one of them only",  # evidence and evidence_declared_missing
)


def workflow_id_for(merchant_id: str, return_id: str) -> str:
    """One workflow per return of one merchant: `return-<merchant_id>-<return_id>`.

    Two merchants may both have a return `R-1`; each has its own workflow. Both ids may hold `-`,
    so the workflow id is not split back into them: find a return by its `MerchantId` and
    `ReturnId` search attributes.
    """
    return f"return-{merchant_id}-{return_id}"


# What identifies the delivery of a request, not the request: a sender may send the same request
# again with a new event id and time (a retry after a crash, a replayed outbox).
ENVELOPE_FIELDS = frozenset({"type", "event_id", "occurred_at"})


def request_differences(first: ReturnRequested, second: ReturnRequested) -> list[str]:
    """The field paths (`items[0].quantity`, `order.lines[1].unit_price`) where `second` asks for
    something else than `first`; empty when it is the same request. Compared as parsed, so key
    order, spacing and defaults written out or left out do not count; the envelope
    (ENVELOPE_FIELDS) does not either. Paths only: the values may be personal data."""
    a = first.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))
    b = second.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))
    found: list[str] = []
    _diff(a, b, "", found)
    return found


def _diff(a: object, b: object, path: str, found: list[str]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(a.keys() | b.keys()):
            _diff(a.get(key), b.get(key), f"{path}.{key}" if path else key, found)
    elif isinstance(a, list) and isinstance(b, list):
        for n, (x, y) in enumerate(zip(a, b)):
            _diff(x, y, f"{path}[{n}]", found)
        for n in range(min(len(a), len(b)), max(len(a), len(b))):  # added or left out
            found.append(f"{path}[{n}]")
    elif a != b:
        found.append(path or "(body)")


__all__ = [
    "Address", "Customer", "CustomerType", "EvidenceKind", "LineAttributes", "Order", "OrderEvent",
    "OrderLine", "ParcelScanned", "Payment", "RequestedItem", "Resolution", "ReturnReason",
    "ReturnRequested", "ReturnWithdrawn", "ScanKind", "workflow_id_for", "datetime", "Amount",
    "ENVELOPE_FIELDS", "MAX_AMOUNT", "request_differences", "CROSS_FIELD_RULES", "Timestamp",
]
