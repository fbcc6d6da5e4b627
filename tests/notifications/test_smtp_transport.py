"""SMTP against a real aiosmtpd server on 127.0.0.1: delivery, idempotency, and failures."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.mail import PERMANENT_EMAIL_FAILURE, SmtpTransport, TransientEmailFailure, message_id_for
from activities.notifications import NotificationActivities
from runtime.settings import SmtpSettings

from .support import CUSTOMER, MERCHANT, SUPPORT, RecordingHandler, customer_notification, free_port

MAIL_FROM = "returns@maison-perle.example"


def activities_for(host: str, port: int, tmp_path: Path, **kwargs) -> NotificationActivities:
    settings = SmtpSettings(host=host, port=port, starttls=False, sender=MAIL_FROM)
    return NotificationActivities(SmtpTransport(settings, tmp_path / "sent.sqlite3", timeout=5, **kwargs))


async def send(acts: NotificationActivities, n):
    return await ActivityEnvironment().run(acts.send_notification, n)


async def test_the_server_receives_headers_both_parts_and_the_label(smtp_server, tmp_path, label_pdf):
    acts = activities_for(smtp_server.host, smtp_server.port, tmp_path)
    n = customer_notification("approved", label_path=str(label_pdf),
                              customer_name="Zoë Ødegård")  # non-ASCII survives the trip

    sent = await send(acts, n)

    assert sent.transport == "smtp" and not sent.duplicate
    assert sent.message_id == message_id_for(n.idempotency_key)
    [got] = smtp_server.handler.received
    assert got.mail_from == MAIL_FROM and got.rcpt_tos == [CUSTOMER]
    msg = got.message
    assert msg["Message-ID"] == sent.message_id
    assert msg["From"].addresses[0].display_name == MERCHANT
    assert msg["From"].addresses[0].addr_spec == MAIL_FROM
    assert msg["To"] == CUSTOMER and msg["Reply-To"] == SUPPORT
    assert msg["Subject"] == "Maison Perle: your return R-1001 is approved"
    assert msg["Date"]
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Hello Zoë Ødegård," in text and "Hello Zoë Ødegård," in html
    assert "11 rue Alix" in text and "11 rue Alix" in html
    [pdf] = list(msg.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == "return-label-R-1001.pdf"
    assert pdf.get_content() == label_pdf.read_bytes()


async def test_the_same_key_twice_is_delivered_once_even_after_a_restart(smtp_server, tmp_path):
    n = customer_notification("refund_issued")
    first = await send(activities_for(smtp_server.host, smtp_server.port, tmp_path), n)
    # a retry after the worker restarted: new transport, same sent-log file
    again = await send(activities_for(smtp_server.host, smtp_server.port, tmp_path), n)

    assert not first.duplicate and again.duplicate
    assert again.message_id == first.message_id
    assert len(smtp_server.handler.received) == 1

    await send(activities_for(smtp_server.host, smtp_server.port, tmp_path),
               customer_notification("closed"))
    assert len(smtp_server.handler.received) == 2


async def test_a_refused_recipient_is_a_permanent_failure_without_the_address(smtp_server, tmp_path):
    acts = activities_for(smtp_server.host, smtp_server.port, tmp_path)
    n = customer_notification("approved", to="nobody@refused.example")

    with pytest.raises(ApplicationError) as err:
        await send(acts, n)

    assert err.value.type == PERMANENT_EMAIL_FAILURE and err.value.non_retryable
    assert "550" in str(err.value)
    assert "nobody" not in str(err.value) and "refused.example" not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert smtp_server.handler.received == []


async def test_a_busy_mailbox_4xx_is_retried_and_not_recorded_as_sent(smtp_server, tmp_path):
    acts = activities_for(smtp_server.host, smtp_server.port, tmp_path)
    n = customer_notification("approved", to="camille@busy.example")

    with pytest.raises(TransientEmailFailure) as err:
        await send(acts, n)
    assert not isinstance(err.value, ApplicationError)
    assert "451" in str(err.value) and "camille" not in str(err.value)
    assert not acts.transport.sent_log.was_sent(n.idempotency_key)


async def test_connection_refused_is_retried_and_the_retry_delivers(tmp_path):
    port = free_port()  # nothing listens here yet
    acts = activities_for("127.0.0.1", port, tmp_path)
    n = customer_notification("expired")

    with pytest.raises(TransientEmailFailure) as err:
        await send(acts, n)
    assert not isinstance(err.value, ApplicationError)  # Temporal retries it

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        sent = await send(acts, n)  # the next attempt, once the server is back
    finally:
        controller.stop()
    assert not sent.duplicate and len(handler.received) == 1


@pytest.fixture
def self_signed_cert(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    return cert, key


async def test_starttls_and_auth_are_used_when_configured(tmp_path, self_signed_cert):
    cert, key = self_signed_cert
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (b"returns", b"s3cret")
        logins.append((session.ssl is not None, ok))
        return AuthResult(success=ok, handled=False)  # handled=False: server answers 535

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=server_tls,
                            require_starttls=True, authenticator=authenticator)
    controller.start()
    try:
        settings = SmtpSettings(host="127.0.0.1", port=controller.port, username="returns",
                                password="s3cret", starttls=True, sender=MAIL_FROM)
        client_tls = ssl.create_default_context(cafile=str(cert))
        acts = NotificationActivities(SmtpTransport(settings, tmp_path / "sent.sqlite3",
                                                    tls_context=client_tls, timeout=5))
        sent = await send(acts, customer_notification("withdrawn"))

        wrong = SmtpSettings(host="127.0.0.1", port=controller.port, username="returns",
                             password="wrong", starttls=True, sender=MAIL_FROM)
        bad = NotificationActivities(SmtpTransport(wrong, tmp_path / "other.sqlite3",
                                                   tls_context=client_tls, timeout=5))
        # bad credentials are the operator's to fix; retrying until then is right
        with pytest.raises(TransientEmailFailure) as err:
            await send(bad, customer_notification("closed"))
        assert "535" in str(err.value)
    finally:
        controller.stop()

    assert not sent.duplicate and len(handler.received) == 1
    assert logins[0] == (True, True)  # logged in over TLS
    assert logins[-1] == (True, False)
