"""`activities.mail.build_message` writes MIME itself (not through `EmailMessage`, see its
docstring): every message it makes must read back through the stdlib's strict parser exactly as
it was meant, stay 7-bit with short lines, and refuse an address it cannot write."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.mail import (
    PERMANENT_EMAIL_FAILURE,
    Attachment,
    MaildirOutbox,
    UnsendableAddress,
    build_message,
    display_name,
    mailbox_address,
    message_id_for,
    one_line,
)
from activities.notifications import NotificationActivities, NotificationTemplates

from .support import customer_notification

STRICT = email.policy.default.clone(raise_on_defect=True)


def build(**changes):
    fields = dict(idempotency_key="return-R-1:approved", mail_from="returns@maison-perle.example",
                  sender_name="Maison Perle", to="camille@customer.example", subject="Hello",
                  text="Hello Camille,\n\nYour return is approved.\n", html="<p>Hello</p>\n",
                  reply_to="service@maison-perle.example",
                  headers={"X-Return-Id": "R-1", "X-Notification": "approved"},
                  date=datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc), content_language="fr")
    fields.update(changes)
    return build_message(**fields)


def read(data: bytes):
    return email.message_from_bytes(data, policy=STRICT)


def assert_wire_safe(data: bytes) -> None:
    """7-bit (any relay takes it), headers folded under 78 columns, no line over 998 (RFC 5322)."""
    assert data.isascii()
    head, _, body = data.partition(b"\n\n")
    assert all(len(line) <= 78 for line in head.split(b"\n")), head
    assert all(len(line) <= 998 for line in body.split(b"\n"))
    assert b"\r" not in data


@pytest.mark.parametrize("locale", ["en", "fr", "zh"])
def test_every_shipped_language_reads_back_header_for_header_and_part_for_part(locale):
    rendered = NotificationTemplates().render(customer_notification("approved", locale=locale))
    pdf = Attachment("return-label-R-1001.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 20)
    out = build(subject=rendered.subject, text=rendered.text, html=rendered.html,
                sender_name="Maison Perle · Paris", attachments=[pdf])
    assert_wire_safe(out.data)

    msg = read(out.data)
    assert msg["Subject"] == rendered.subject
    assert msg["From"].addresses[0].display_name == "Maison Perle · Paris"
    assert msg["From"].addresses[0].addr_spec == "returns@maison-perle.example"
    assert msg["To"] == "camille@customer.example" == out.to
    assert msg["Reply-To"] == "service@maison-perle.example"
    assert msg["Message-ID"] == out.message_id == message_id_for("return-R-1:approved")
    assert msg["Date"] == "Tue, 01 Dec 2026 09:30:00 +0000"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Return-Id"] == "R-1" and msg["X-Notification"] == "approved"
    assert msg["MIME-Version"] == "1.0" and msg["Content-Language"] == "fr"
    assert msg.get_content_type() == "multipart/mixed"
    [alternative, attached] = msg.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert msg.get_body(("plain",)).get_content() == rendered.text
    assert msg.get_body(("html",)).get_content() == rendered.html
    assert attached.get_filename() == "return-label-R-1001.pdf"
    assert attached.get_content_disposition() == "attachment"
    assert attached.get_content() == pdf.content


def test_the_body_encoding_is_the_smallest_seven_bit_one():
    def encodings(text):
        msg = read(build(text=text, html=text).data)
        return {p["Content-Transfer-Encoding"] for p in msg.iter_parts()}

    assert encodings("plain ASCII\n") == {"7bit"}
    assert encodings("Bonjour, votre retour est accepté.\n") == {"quoted-printable"}
    assert encodings("您的退货已获批准。\n" * 5) == {"base64"}
    assert encodings("x" * 2000 + "\n") == {"quoted-printable"}  # ASCII, but one line over 998


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=st.text(min_size=1, max_size=300), name=st.text(max_size=80),
       text=st.text(max_size=3000), html=st.text(max_size=3000))
def test_any_text_round_trips(subject, name, text, html):
    out = build(subject=subject, sender_name=name, text=text, html=html)
    assert_wire_safe(out.data)
    msg = read(out.data)
    # Headers are one line: a run of control characters (line breaks too) is one space.
    assert msg["Subject"] == one_line(subject)
    # A long non-ASCII name is split into several encoded words, and the stdlib's reader puts a
    # space between them (it did so for EmailMessage's own output too); names that fit one
    # encoded word read back exactly (test_every_shipped_language_...).
    shown = msg["From"].addresses[0].display_name
    assert shown.replace(" ", "") == display_name(name).replace(" ", "")
    # Line ends are the email's (LF here, CRLF on the wire); everything else is kept.
    def lines(s):
        return s.replace("\r\n", "\n").replace("\r", "\n")

    assert lines(msg.get_body(("plain",)).get_content()) == lines(text)
    assert lines(msg.get_body(("html",)).get_content()) == lines(html)


def test_the_boundary_never_occurs_in_a_part():
    first = build()
    boundary = re.search(rb'boundary="([^"]+)"', first.data)[1].decode()
    # A text that quotes the boundary the builder would choose is still one part.
    out = build(text=f"--{boundary}\n--{boundary}--\n" * 3)
    msg = read(out.data)
    assert msg.get_body(("plain",)).get_content() == f"--{boundary}\n--{boundary}--\n" * 3


def test_a_header_cannot_smuggle_a_second_header():
    msg = read(build(subject="Hello\r\nBcc: someone@else.example",
                     headers={"X-Return-Id": "R-1\nBcc: x@y.example"}).data)
    assert msg["Bcc"] is None
    assert msg["Subject"] == "Hello Bcc: someone@else.example"


@pytest.mark.parametrize(("address", "written"), [
    ("camille@customer.example", "camille@customer.example"),
    (" camille@customer.example ", "camille@customer.example"),
    ("o'brien+returns@customer.example", "o'brien+returns@customer.example"),
    ("camille@exämple.fr", "camille@xn--exmple-cua.fr"),  # IDNA: any relay routes it
    ("returns@localhost", "returns@localhost"),
])
def test_addresses_are_written_as_plain_mailboxes(address, written):
    assert mailbox_address(address) == written


@pytest.mark.parametrize("address", [
    "josé@customer.example",  # needs SMTPUTF8
    "a,b@customer.example",  # would be two recipients
    "a<b@customer.example", '"quoted"@customer.example', "a..b@customer.example",
    "camille@", "camille@-bad-.example", "no-at-sign",
])
def test_an_address_no_seven_bit_email_can_carry_is_refused_without_quoting_it(address):
    with pytest.raises(UnsendableAddress) as err:
        mailbox_address(address)
    assert address.split("@")[0] not in str(err.value) or not address.split("@")[0]
    assert err.value.role == "recipient"


async def test_an_unsendable_customer_address_is_final_and_nothing_is_written(tmp_path):
    """The workflow treats PermanentEmailFailure like a bounce: staff are told, nothing retries."""
    acts = NotificationActivities(MaildirOutbox(tmp_path))
    with pytest.raises(ApplicationError) as err:
        await ActivityEnvironment().run(acts.send_notification,
                                        customer_notification("approved", to="josé@customer.example"))
    assert err.value.type == PERMANENT_EMAIL_FAILURE and err.value.non_retryable
    assert "josé" not in str(err.value)
    assert not (tmp_path / "new").exists() or not any((tmp_path / "new").iterdir())


async def test_a_bad_merchant_sender_is_retried_not_final(tmp_path):
    """The sender is configuration: Temporal keeps retrying while an operator fixes it."""
    acts = NotificationActivities(MaildirOutbox(tmp_path, mail_from="returns desk@merchant"))
    with pytest.raises(UnsendableAddress) as err:
        await ActivityEnvironment().run(acts.send_notification, customer_notification("approved"))
    assert err.value.role == "sender"
