"""What the workflow and the collection activities agree on (issue 18 point 2): the payment a
customer completes for what they owe before a shipment (004 §4.4 price difference and reshipping,
§4.5 fees, §3.7 / 003 §III.4 shipping back a failed item).

Light on purpose (pydantic only), like `activities.contracts`, so the workflow can import it.
`create_customer_payment` makes (once per `idempotency_key`, `<workflow id>:collect:<state>:<n>`)
a payment the customer completes on the provider's own page, or answers `provider=None` when the
merchant collects through no provider (staff then record the customer's payment);
`check_customer_payment` asks the provider whether it was paid (the fallback when no webhook
came).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

CREATE_CUSTOMER_PAYMENT = "create_customer_payment"
CHECK_CUSTOMER_PAYMENT = "check_customer_payment"
# ApplicationError type: the provider permanently refused to create or read the payment.
PAYMENT_REFUSED = "CUSTOMER_PAYMENT_REFUSED"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PaymentRequest(_Model):
    """One payment for the customer to complete. Ids and amounts only: no personal data goes to
    the provider (the customer types their own details on its page)."""

    idempotency_key: str
    merchant_id: str
    return_id: str
    order_id: str
    amount: int  # minor units
    currency: str  # ISO 4217, upper case
    description: str  # what it is for, with the clauses: "the price difference (004 §4.4)"
    locale: str = "en"  # the provider's page in the customer's language


class PaymentOffer(_Model):
    """The payment made, or `provider=None`: no provider collects for this merchant."""

    provider: str | None = None
    payment_id: str | None = None  # Stripe: the Checkout Session (cs_...)
    url: str | None = None  # the provider-hosted page the customer pays on (no JavaScript of ours)
    expires_at: datetime | None = None


class PaymentCheckRequest(_Model):
    merchant_id: str
    payment_id: str


class PaymentCheck(_Model):
    """Where the payment is: `paid` (with what was received), still `open`, or `expired` (a new
    one is made)."""

    status: Literal["open", "paid", "expired"]
    payment_intent: str | None = None  # Stripe: pi_...
    amount_received: int = 0
    currency: str | None = None


__all__ = ["CHECK_CUSTOMER_PAYMENT", "CREATE_CUSTOMER_PAYMENT", "PAYMENT_REFUSED", "PaymentCheck",
           "PaymentCheckRequest", "PaymentOffer", "PaymentRequest"]
