"""Builders for the notification tests: typical notifications, an SMTP handler that records."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage

from activities.contracts import FeeAmount, Notification, NotificationItem
from returns.events import Address

MERCHANT = "Maison Perle"
SUPPORT = "service@maison-perle.example"
CUSTOMER = "camille@customer.example"
STAFF = "returns-desk@maison-perle.example"


def customer_notification(template: str = "approved", **overrides) -> Notification:
    """What the workflow sends a customer: everything filled in, reasons citing their clauses."""
    data = dict(
        idempotency_key=f"return-R-1001:{template}",
        template=template,
        audience="customer",
        to=CUSTOMER,
        merchant_name=MERCHANT,
        merchant_support_email=SUPPORT,
        merchant_return_address=Address(line1="11 rue Alix", city="Aulnay-sous-Bois",
                                        postal_code="93600", country="FR"),
        return_id="R-1001",
        order_id="O-5001",
        customer_name="Camille Dupont",
        state="approved",
        items=[
            NotificationItem(title="Akoya pearl necklace", quantity=1, resolution="refund",
                             refund="180.00 EUR", refund_amount=18000,
                             reasons=["003 §II.3: non-customised pearl jewellery, returned within "
                                      "30 days of receipt"],
                             fees=["Inspection fee: 20.00 EUR (003 §V.1.4)"],
                             fee_amounts=[FeeAmount(kind="inspection", amount=2000)],
                             missing=1, failed=1),
            NotificationItem(title="Freshwater pearl studs", quantity=2, resolution="exchange",
                             reasons=["003 §III.2: exchange for the same style in size M"],
                             resolution_changed=True, missing=2),
            NotificationItem(title="Engraved bangle", quantity=1, eligible=False,
                             reasons=["003 §IV.1: engraved pieces can only be exchanged for a "
                                      "quality problem"]),
        ],
        message="The clasp of the necklace is bent.\nPlease send it in its box.",
        deadline="Tuesday 24 November 2026",
        refund_total="180.00 EUR",
        tracking="1Z999AA10123456784",
        # the facts the customer's words are built from (activities/customer_email.py)
        currency="EUR",
        refund_total_amount=18000,
        deadline_kind="ship_by",
        owed_amount=2500,
        owed_quoted=True,
    )
    data.update(overrides)
    return Notification(**data)


def staff_notification(template: str = "review_needed", **overrides) -> Notification:
    data = dict(
        idempotency_key=f"return-R-1001:{template}",
        template=template,
        audience="staff",
        to=STAFF,
        merchant_name=MERCHANT,
        merchant_support_email=SUPPORT,
        return_id="R-1001",
        order_id="O-5001",
        customer_name="Camille Dupont",
        state="under_review",
        items=[
            NotificationItem(title="Akoya pearl necklace", quantity=1, resolution="refund",
                             refund="180.00 EUR", reasons=["003 §II.1: quality problem reported"]),
            NotificationItem(title="Engraved bangle", quantity=1, eligible=False,
                             reasons=["003 §IV.1: engraved, exchange only"]),
        ],
        message="Photos show a bent clasp: confirm it is a manufacturing defect.\n"
                "Certificate number must match the outbound record (003 §IV.2).",
        deadline="Thursday 19 November 2026",
        refund_total="180.00 EUR",
        tracking="1Z999AA10123456784",
    )
    data.update(overrides)
    return Notification(**data)


def minimal_notification(template: str, audience: str) -> Notification:
    """Only the required fields: templates must read well without the optional ones."""
    return Notification(
        idempotency_key=f"return-R-2002:{template}", template=template, audience=audience,
        to=STAFF if audience == "staff" else CUSTOMER, merchant_name=MERCHANT,
        merchant_support_email=SUPPORT, return_id="R-2002", order_id="O-6002",
        customer_name="Sam Lee", state="requested",
    )


def parse(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """aiosmtpd handler: keeps what it accepts; refuses `*@refused.example` (550) and answers
    `*@busy.example` with 451 (try later)."""

    received: list[Received] = field(default_factory=list)
    rcpt_attempts: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts += 1
        if address.endswith("@refused.example"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.endswith("@busy.example"):
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      parse(envelope.original_content)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler
