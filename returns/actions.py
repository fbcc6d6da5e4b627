"""Operator, warehouse and customer actions on a running return.

Each one is ONE JSON object (the Temporal UI sends one payload) and names its actor.
Field constraints here give a readable error that names the field; whether an action is
allowed *now* is decided by the workflow's update validators.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from returns.events import MAX_AMOUNT, Identifier, Resolution
from returns.status import DeadlineKind, ReturnState

Actor = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=80),
    Field(description="who is acting: a staff login or name"),
]
Why = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]


class _Action(BaseModel):
    # strict: "120" is not 120 and "yes" is not true; the refusal names the field
    model_config = ConfigDict(extra="forbid", strict=True)

    actor: Actor


class ItemOverride(BaseModel):
    """A staff exception at review: waive fees or accept an item the policy refused."""

    model_config = ConfigDict(extra="forbid", strict=True)

    line_id: Identifier
    waive_fees: bool = Field(False, description="waive this line's fees (restocking, "
                                                "exchange): the customer pays none")
    accept_exception: bool = Field(False, description="accept this line although the policy "
                                                      "refused it (an exception staff grant)")
    resolution: Resolution | None = Field(None, description="grant this instead of what the "
                                                            "policy decided")
    comparison_purchase: bool = Field(  # staff judged the order a comparison purchase (004 §7.1)
        False, description="staff judged the order a comparison purchase (004 §7.1: several "
                           "sizes or colours bought to keep one), which the policy treats as it "
                           "says")
    reason: Why = Field(description="why the exception, kept in the audit trail")


class Approve(_Action):
    note: Note | None = Field(None, description="goes into the customer's approval email")
    overrides: list[ItemOverride] = Field([], description="staff exceptions per line, each with "
                                                          "its reason")
    stock_confirmed: Annotated[list[Identifier], Field(max_length=200)] = Field(
        [], description="lines to be exchanged whose stock staff confirmed (003 §III.2); an "
                        "exchange the policy checks stock for is approved only with it")


class Reject(_Action):
    reason: Why = Field(description="why, written for the customer, who is told")


class RequestInfo(_Action):
    question: Why = Field(description="emailed to the customer; the return stays under review")


class ItemInspection(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    line_id: Identifier = Field(description="a received line of the return (the demo's are "
                                            "`1`, `2`)")
    passed: bool = Field(description="true: the line gets its resolution; false: it goes back to "
                                     "the customer")
    quantity: Annotated[int, Field(ge=0, le=1000)] | None = Field(
        None, description="units that passed; defaults to all units received"
    )
    notes: Note | None = Field(None, description="what the inspector saw (staff only)")
    inspection_fee: Annotated[int, Field(gt=0, le=MAX_AMOUNT)] | None = Field(
        None, description="minor units charged for the inspection where the policy allows it "
                          "(003 §V.1.4), deducted from this line's refund")
    checks_confirmed: bool = Field(
        False, description="every check the policy asks of this line's inspection was done and "
                           "confirmed (the status card lists them, e.g. 003 §IV.2 certificate match)")
    failed_checks: Annotated[list[Annotated[int, Field(ge=1, le=50)]], Field(max_length=50)] = Field(
        [], description="the numbers (as the status card lists them for this line) of the checks "
                        "the item failed, e.g. 004 §2.3 worn; the customer is told each one "
                        "with its clause. Only with passed: false")


class PostageReimbursement(BaseModel):
    """The customer's return postage, reimbursed where the merchant bears return shipping, on the
    courier's documents (004 §3.4: standard shipping only)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    amount: Annotated[int, Field(gt=0, le=MAX_AMOUNT)] = Field(description="minor units")
    courier_reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                                        max_length=100)] = Field(
        description="the courier's document (receipt or waybill number) for the postage")
    standard_shipping: Annotated[int, Field(gt=0, le=MAX_AMOUNT)] | None = Field(
        None, description="minor units: the standard (not expedited) rate for this parcel; "
                          "required where the policy reimburses standard shipping only "
                          "(004 §3.4), and the reimbursement is at most this")


class RecordInspection(_Action):
    items: Annotated[list[ItemInspection], Field(min_length=1)] = Field(
        description="every received line, once")
    postage_reimbursement: PostageReimbursement | None = Field(
        None, description="the customer's return postage, where the merchant bears return "
                          "shipping (004 §3.4); staff are asked to pay it separately")

    @model_validator(mode="after")
    def _unique(self) -> "RecordInspection":
        ids = [i.line_id for i in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("items: each line_id may appear once")
        return self


class ExtendDeadline(_Action):
    deadline: DeadlineKind = Field(description="a running deadline (the status card lists them)")
    days: Annotated[int, Field(ge=1, le=60)] = Field(
        description="how far to move it, in the policy's unit for that deadline"
    )
    reason: Why = Field(description="why, for the audit trail and staff; the customer is told "
                                   "which date moved in their own words (003 §III.4)")


class Cancel(_Action):
    reason: Why = Field(description="why, kept in the audit trail and told to the customer")


class Acknowledge(_Action):
    """Staff dealt with what the return raised (NeedsAttention): what they did, for the audit."""

    note: Why = Field(description="what you did about it, kept in the audit trail")


class RetryRefund(_Action):
    note: Note | None = Field(None, description="kept in the audit trail")


class RecordManualRefund(_Action):
    amount: Annotated[int, Field(gt=0, le=MAX_AMOUNT)] = Field(
        description="minor units refunded outside the system")
    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                                max_length=100)] = Field(
        description="the bank's or provider's reference of the refund made by hand")
    note: Note | None = Field(None, description="kept in the audit trail")


class CustomerPayment(BaseModel):
    """What the customer paid before a shipment that depends on it, recorded by staff where no
    payment provider collects it (004 §4.4 price difference and reshipping, §4.5 fees, §3.7
    shipping back a failed item)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                                max_length=100)] = Field(
        description="the payment's reference in the merchant's payment system")
    amount: Annotated[int, Field(gt=0, le=MAX_AMOUNT)] = Field(
        description="minor units paid, in the return's currency")


class ShipToCustomer(_Action):
    """Exchange reshipped, repaired item sent back, or refused item returned to the customer."""

    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2,
                                              max_length=60)] = Field(description="e.g. UPS")
    tracking_number: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{4,40}$")] = Field(
        description="the parcel's tracking number, told to the customer")
    fee_payment_reference: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)
    ] | None = Field(None, description="the customer's payment of the exchange fees or price "
                                       "difference, required before an exchange with fees ships "
                                       "(004 §4.4, §4.5)")
    checks_confirmed: bool = Field(
        False, description="what the policy asks of the product sent in exchange was checked "
                           "(003 §V.2.3: new, same quality, with its quality certificate)")
    customer_payment: CustomerPayment | None = Field(
        None, description="what the customer paid for what they owe before this shipment (the "
                          "status card lists it: fees, price difference, reshipping, shipping "
                          "back a failed item); required when they owe anything but fees")
    note: Note | None = Field(None, description="kept in the audit trail")


class ReceivedItem(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    line_id: str = Field(max_length=64, description="a line of the return (the demo's are `1`, "
                                                    "`2`)")
    quantity: Annotated[int, Field(ge=1, le=1000)] = Field(description="units that arrived in "
                                                                       "this parcel")
    condition: Note | None = Field(None, description="as noted on arrival, e.g. box dented")


class WarehouseReceipt(_Action):
    """Signal from warehouse staff: what arrived, per line. Partial receipts are allowed; the
    same receipt_id again (a scan sent twice) is recorded once and not counted again."""

    receipt_id: Identifier = Field(description="the scan or receipt number: one per parcel "
                                               "opened, e.g. the scanner's read id")
    items: Annotated[list[ReceivedItem], Field(min_length=1, max_length=200)] = Field(
        description="what arrived, per line; partial receipts are fine")
    note: Note | None = Field(None, description="a note on the whole receipt")


class ActionResult(BaseModel):
    """What an update returns to the operator."""

    state: ReturnState
    message: str
