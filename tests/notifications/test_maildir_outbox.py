"""The default transport: a real Maildir on disk, read back with the stdlib `mailbox` module."""

from __future__ import annotations

import asyncio
import email.utils
import mailbox
import re
from pathlib import Path

import structlog.testing
from temporalio.testing import ActivityEnvironment

from activities.mail import MaildirOutbox, SmtpTransport, message_id_for
from activities.notifications import NotificationActivities, notification_activities_from_settings
from runtime.settings import Settings, SmtpSettings

from .support import CUSTOMER, MERCHANT, SUPPORT, customer_notification, parse


def read_outbox(directory: Path) -> list:
    box = mailbox.Maildir(directory, factory=None, create=False)
    return [parse(box.get_bytes(key)) for key in box.keys()]


async def send(acts: NotificationActivities, n):
    return await ActivityEnvironment().run(acts.send_notification, n)


async def test_the_email_lands_in_the_maildir_with_headers_both_parts_and_the_label(
        tmp_path: Path, label_pdf: Path):
    outbox = tmp_path / "outbox"
    acts = NotificationActivities(MaildirOutbox(outbox, mail_from="returns@maison-perle.example"))
    n = customer_notification("approved", label_path=str(label_pdf))

    sent = await send(acts, n)

    assert sent.transport == "maildir" and not sent.duplicate
    assert sent.message_id == message_id_for("return-R-1001:approved")
    [msg] = read_outbox(outbox)
    assert msg["Message-ID"] == sent.message_id
    assert msg["From"].addresses[0].display_name == MERCHANT
    assert msg["From"].addresses[0].addr_spec == "returns@maison-perle.example"
    assert msg["To"] == CUSTOMER
    assert msg["Reply-To"] == SUPPORT
    assert msg["Subject"] == "Maison Perle: your return R-1001 is approved"
    assert email.utils.parsedate_to_datetime(msg["Date"]).tzinfo is not None
    assert msg["Auto-Submitted"] == "auto-generated"

    assert msg.get_content_type() == "multipart/mixed"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Print the attached return label" in text and "Hello Camille Dupont," in text
    assert "Print the attached return label" in html and html.lstrip().startswith("<!DOCTYPE html>")
    [pdf] = list(msg.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == "return-label-R-1001.pdf"
    assert pdf.get_content() == label_pdf.read_bytes()
    assert pdf.get_content().startswith(b"%PDF")


async def test_without_a_label_the_email_is_text_and_html_only(tmp_path: Path):
    acts = NotificationActivities(MaildirOutbox(tmp_path))
    await send(acts, customer_notification("refund_issued"))
    [msg] = read_outbox(tmp_path)
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert list(msg.iter_attachments()) == []


async def test_a_missing_label_file_sends_without_promising_an_attachment(tmp_path: Path):
    acts = NotificationActivities(MaildirOutbox(tmp_path / "outbox"))
    await send(acts, customer_notification("approved", label_path=str(tmp_path / "gone.pdf")))
    [msg] = read_outbox(tmp_path / "outbox")
    assert list(msg.iter_attachments()) == []
    assert "attached" not in msg.get_body(("plain",)).get_content()
    assert "Put a note with your return number R-1001" in msg.get_body(("plain",)).get_content()


async def test_the_same_key_twice_leaves_one_message(tmp_path: Path, label_pdf: Path):
    n = customer_notification("approved", label_path=str(label_pdf))
    first = await send(NotificationActivities(MaildirOutbox(tmp_path)), n)
    # a retry on another worker process: a fresh transport over the same directory
    again = await send(NotificationActivities(MaildirOutbox(tmp_path)), n)

    assert not first.duplicate and again.duplicate
    assert again.message_id == first.message_id
    assert len(read_outbox(tmp_path)) == 1

    other = await send(NotificationActivities(MaildirOutbox(tmp_path)),
                       customer_notification("ship_by_reminder"))
    assert not other.duplicate and other.message_id != first.message_id
    assert len(read_outbox(tmp_path)) == 2


async def test_a_message_read_in_a_mail_client_still_counts_as_sent(tmp_path: Path):
    acts = NotificationActivities(MaildirOutbox(tmp_path))
    n = customer_notification("withdrawn")
    await send(acts, n)
    box = mailbox.Maildir(tmp_path, create=False)
    [key] = box.keys()
    read = box[key]
    read.set_subdir("cur")
    read.add_flag("S")
    box[key] = read  # what a client does on open: new/<name> -> cur/<name>:2,S
    assert not any((tmp_path / "new").iterdir())

    assert (await send(acts, n)).duplicate
    assert len(box.keys()) == 1


async def test_concurrent_workers_sending_the_same_key_deliver_once(tmp_path: Path):
    n = customer_notification("closed")
    results = await asyncio.gather(*[
        send(NotificationActivities(MaildirOutbox(tmp_path)), n) for _ in range(12)])
    assert sorted(r.duplicate for r in results) == [False] + [True] * 11
    assert len(read_outbox(tmp_path)) == 1
    assert not any((tmp_path / "tmp").iterdir())  # no half-written files left behind


def test_the_factory_picks_the_outbox_unless_smtp_is_configured(tmp_path: Path):
    plain = notification_activities_from_settings(Settings(data_dir=tmp_path, mail_from="r@m.example"))
    assert isinstance(plain.transport, MaildirOutbox)
    assert plain.transport.directory == tmp_path / "outbox"
    assert plain.transport.mail_from == "r@m.example"

    smtp = notification_activities_from_settings(
        Settings(data_dir=tmp_path, smtp=SmtpSettings(host="mail.example"), mail_from="r@m.example"))
    assert isinstance(smtp.transport, SmtpTransport)
    assert smtp.transport.sent_log.path == tmp_path / "sent.sqlite3"
    assert smtp.transport.mail_from == "r@m.example"


async def test_logs_carry_ids_not_personal_data(tmp_path: Path, label_pdf: Path):
    acts = NotificationActivities(MaildirOutbox(tmp_path / "outbox"))
    with structlog.testing.capture_logs() as logs:
        await send(acts, customer_notification("approved", label_path=str(label_pdf)))
        await send(acts, customer_notification("approved", label_path=str(label_pdf)))
        await send(acts, customer_notification("ship_by_reminder",
                                               label_path=str(tmp_path / "missing.pdf")))

    assert [e["event"] for e in logs] == ["notification_sent", "notification_sent",
                                          "notification_label_missing", "notification_sent"]
    assert logs[0]["return_id"] == "R-1001" and logs[0]["template"] == "approved"
    assert logs[0]["message_id"] == message_id_for("return-R-1001:approved")
    assert [e.get("duplicate") for e in logs] == [False, True, None, False]
    flat = repr(logs)
    for personal in (CUSTOMER, SUPPORT, "Camille", "Dupont", "rue Alix"):
        assert personal not in flat
    # the only address-like strings are Message-IDs
    assert {a.split("@")[1] for a in re.findall(r"[\w.+-]+@[\w.-]+", flat)} == {"returns.local"}
