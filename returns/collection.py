"""Collecting what the customer owes before a shipment through the merchant's payment provider
(issue 18 point 2): what staff quote, how much is asked, what a provider's notice must match.

`returns/owed.py` says what is owed and why (004 §4.4 price difference and reshipping, §4.5 fees,
§3.7 and 003 §III.4 shipping back a failed item). Amounts the policy knows (fees) are asked at
once; where the policy leaves an amount to staff (price difference, postage), staff quote the
total with `request_customer_payment`, and the customer is sent the provider's payment page. A
payment notice (Stripe's `payment_intent.succeeded`, verified by ingestion/stripe_webhook.py) counts
only when it is for this merchant, this return, this very page, in the currency and for at least
the amount asked; anything else changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from returns.actions import Actor, Note
from returns.allowed import SHIPPING_BACK
from returns.events import MAX_AMOUNT
from returns.money import format_money
from returns.owed import Owed
from returns.status import OwedPayment, ReturnState


class RequestCustomerPayment(BaseModel):
    """Staff quote what the customer owes before this shipment, where the policy leaves the amount
    to them (004 §4.4 the price difference and the reshipping, §3.7 shipping a failed item back).
    Where the merchant collects through Stripe, the customer is sent a payment page for it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    actor: Actor
    amount: Annotated[int, Field(gt=0, le=MAX_AMOUNT)] = Field(
        description="minor units, in the return's currency: everything owed before this "
                    "shipment (the status card lists it), fees included")
    note: Note | None = Field(None, description="how it was quoted (for the audit)")


class PaymentNotice(BaseModel):
    """The payment provider says the customer paid (from its verified webhook)."""

    model_config = ConfigDict(extra="forbid")

    event_id: str  # the provider's event id: acted on once
    provider: str  # "stripe"
    merchant_id: str  # whose webhook secret verified it, never what the payload says
    return_id: str
    collect_key: str
    payment_intent: str
    amount_received: int
    currency: str


def amount_known(owed: list[Owed]) -> int | None:
    """The total when the policy knows every amount (fees), else None: staff quote it."""
    if not owed or any(o.amount is None for o in owed):
        return None
    return sum(o.amount for o in owed)


def payment_description(owed: list[Owed]) -> str:
    """What the payment is for, each with its clause: the provider's page shows it."""
    return "; ".join(f"{o.what} ({o.clause})" for o in owed)


def quote_problem(state: ReturnState, owed: list[Owed], currency: str,
                  action: RequestCustomerPayment, current: OwedPayment | None,
                  shipment_recorded: bool) -> str | None:
    """Why staff cannot ask the customer for `action.amount` now; None when they can."""
    if state not in SHIPPING_BACK or shipment_recorded:
        return f"nothing is waiting to be shipped to the customer; the return is {state.value}"
    if not owed:
        return "amount: the customer owes nothing before this shipment (see the status card)"
    if current is not None:
        return (f"amount: the customer was already asked for "
                f"{format_money(current.amount, current.currency)}"
                + ("" if not current.paid else " and paid it")
                + "; if they paid another way, record it with ship_to_customer customer_payment")
    known = sum(o.amount or 0 for o in owed)
    if action.amount < known:
        return (f"amount: {format_money(action.amount, currency)} is less than the "
                f"{format_money(known, currency)} owed in fees alone "
                f"({', '.join(o.clause for o in owed if o.amount)})")
    return None


def notice_problem(expected: OwedPayment | None, notice: PaymentNotice, merchant_id: str,
                   return_id: str) -> str | None:
    """Why a provider's payment notice does not settle what this return asked; None when it does."""
    if (notice.merchant_id, notice.return_id) != (merchant_id, return_id):
        return (f"the notice is for {notice.merchant_id}/{notice.return_id}, not "
                f"{merchant_id}/{return_id}")
    if expected is None:
        return "no payment is being asked of the customer now"
    if expected.paid:
        return f"already paid ({expected.reference})"
    if notice.collect_key != expected.collect_key:
        return f"the notice is for another payment page ({notice.collect_key})"
    if notice.currency.upper() != expected.currency:
        return f"paid in {notice.currency.upper()}, asked in {expected.currency}"
    if notice.amount_received < expected.amount:
        return (f"{format_money(notice.amount_received, expected.currency)} received, "
                f"{format_money(expected.amount, expected.currency)} asked")
    return None


def waiting_text(p: OwedPayment) -> str:
    """The status card's and the refusal's words: how much, why, where."""
    where = f" on {p.provider.capitalize()}" if p.provider else ""
    if p.paid:
        return f"{format_money(p.amount, p.currency)} paid{where} ({p.reference}) for {p.why}"
    return f"{format_money(p.amount, p.currency)} asked{where} for {p.why}"
