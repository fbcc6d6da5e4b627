"""Helpers for the adapter tests: a recording SMTP handler, free ports, typical requests."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage

from activities.contracts import Notification, NotificationItem
from returns.events import Address

MERCHANT = "Maison Perle"
SUPPORT = "service@maison-perle.example"
CUSTOMER = "camille@customer.example"
STAFF = "returns-desk@maison-perle.example"
RETURN_ADDRESS = Address(line1="11 rue Alix", city="Aulnay-sous-Bois", postal_code="93600",
                         country="FR")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notification(template: str = "approved", **overrides) -> Notification:
    data = dict(
        idempotency_key=f"return-R-1001:notify:1:{template}",
        template=template, audience="customer", to=CUSTOMER, merchant_name=MERCHANT,
        merchant_support_email=SUPPORT, merchant_return_address=RETURN_ADDRESS,
        return_id="R-1001", order_id="O-5001", customer_name="Camille Dupont", state="approved",
        items=[NotificationItem(title="Collier de perles Akoya", quantity=1, resolution="refund",
                                refund="180,00 EUR")],
        refund_total="180,00 EUR",
    )
    data.update(overrides)
    return Notification(**data)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """aiosmtpd handler: keeps what it accepts; `*@refused.example` gets 550 (unknown user),
    `*@busy.example` gets 451 (try later) for its first `busy_times` attempts."""

    received: list[Received] = field(default_factory=list)
    rcpt_attempts: int = 0
    busy_times: int = 1
    _busy_seen: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts += 1
        if address.endswith("@refused.example"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        if address.endswith("@busy.example") and self._busy_seen < self.busy_times:
            self._busy_seen += 1
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(Received(
            envelope.mail_from, list(envelope.rcpt_tos),
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)))
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler
