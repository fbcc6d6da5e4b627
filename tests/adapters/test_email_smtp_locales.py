"""Emails in the customer's language, sent over SMTP to a real aiosmtpd server on 127.0.0.1,
through the adapters configured per merchant (the adapters file, as the worker loads it)."""

from __future__ import annotations

import ssl
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.customer_email import NO_PARCEL_COMING
from activities import wiring
from activities.adapters import load_adapters
from activities.contracts import NotificationItem
from activities.mail import PERMANENT_EMAIL_FAILURE, MaildirOutbox, TransientEmailFailure
from activities.notifications import (
    TEMPLATE_AUDIENCE,
    TEMPLATE_NAMES,
    NotificationActivities,
    NotificationTemplates,
    format_deadline,
)
from runtime.settings import Settings

from .support import (
    CUSTOMER,
    MERCHANT,
    RETURN_ADDRESS,
    STAFF,
    SUPPORT,
    RecordingHandler,
    free_port,
    notification,
)

TEMPLATES = NotificationTemplates()
# End of Tuesday 24 November 2026 in Paris (23:59:59 local), as policy deadlines in days end.
DEADLINE = datetime(2026, 11, 24, 22, 59, 59, tzinfo=timezone.utc)

GREETING = {"fr": "Bonjour", "zh": "您好"}
STAFF_GREETING = {"fr": f"Bonjour à l’équipe {MERCHANT}", "zh": f"{MERCHANT} 团队，您好"}
# Phrases of the English layout that must not survive into a translation.
ENGLISH = ("Hello", "Questions?", "Return address", "Your return", "What happens next", "Order<br>",
           "Refund</th>", "Item</th>", "Not accepted", "Eligible", "Fee:", "returns service")


def full(name: str, locale: str):
    audience = TEMPLATE_AUDIENCE[name]
    return notification(
        name, audience=audience, to=STAFF if audience == "staff" else CUSTOMER, locale=locale,
        message="Le fermoir est tordu.\nMerci de l’envoyer dans sa boîte.",
        deadline="Tuesday 24 November 2026, 22:59 UTC", deadline_at=DEADLINE,
        timezone="Europe/Paris", tracking="1Z999AA10123456784", label_path="/tmp/label.pdf",
        items=[
            NotificationItem(title="Collier de perles Akoya", quantity=1, resolution="refund",
                             refund="180,00 EUR", reasons=["003 §II.3: retour sous 30 jours"],
                             fees=["Frais de contrôle : 20,00 EUR"]),
            NotificationItem(title="Bracelet gravé", quantity=1, eligible=False,
                             reasons=["003 §IV.1: pièce gravée"]),
            NotificationItem(title="Bague en argent", quantity=2, resolution="returnless_refund",
                             refund="40,00 EUR"),
        ])


def minimal(name: str, locale: str):
    audience = TEMPLATE_AUDIENCE[name]
    return notification(name, audience=audience, locale=locale, items=[], refund_total=None,
                        merchant_return_address=None)


@pytest.mark.parametrize("build", [full, minimal], ids=["full", "minimal"])
@pytest.mark.parametrize("locale", ["fr", "zh-CN"])
@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_every_template_is_translated_and_names_the_merchant(name, locale, build):
    n = build(name, locale)
    r = TEMPLATES.render(n)
    language = locale[:2]

    assert r.locale == language
    assert n.return_id in r.subject and "\n" not in r.subject
    assert f'<html lang="{"zh-CN" if language == "zh" else "fr"}">' in r.html
    facts = [n.merchant_name, n.return_id, n.order_id, n.merchant_support_email]
    if n.merchant_return_address and (n.audience == "staff" or name not in NO_PARCEL_COMING):
        facts.append(RETURN_ADDRESS.line1)  # not after a refusal or the end (nothing to send)
    greeting = (STAFF_GREETING if n.audience == "staff" else GREETING)[language]
    for part in (r.subject + "\n" + r.text, r.html):
        for fact in facts:
            assert fact in part, f"{name}: {fact!r} missing"
        assert "None" not in part
        for phrase in ENGLISH:
            assert phrase not in part, f"{name}/{locale}: English left: {phrase!r}"
    assert greeting in r.text and greeting in r.html
    # the workflow's English UTC rendering never shows: the date is formatted per language
    assert "UTC" not in r.subject + r.text + r.html


@pytest.mark.parametrize("locale, shown", [
    ("fr", "mardi 24 novembre 2026"),
    ("zh-CN", "2026年11月24日 星期二"),
    ("zh", "2026年11月24日 星期二"),
    ("en", "Tuesday 24 November 2026"),
])
def test_the_deadline_is_a_local_date_in_the_customer_language(locale, shown):
    n = full("approved", locale)
    r = TEMPLATES.render(n)
    assert shown in r.text and shown in r.html and "UTC" not in r.text


def test_a_deadline_that_is_not_the_end_of_a_day_shows_its_time():
    at = datetime(2026, 11, 24, 13, 0, tzinfo=timezone.utc)
    assert format_deadline(at, "Europe/Paris", "fr") == \
        "mardi 24 novembre 2026 à 14:00 (Europe/Paris)"
    assert format_deadline(at, "Asia/Shanghai", "zh") == \
        "2026年11月24日 星期二 21:00（Asia/Shanghai）"
    assert format_deadline(DEADLINE, None, "en") == "Tuesday 24 November 2026, 22:59 (UTC)"


# --- over SMTP, configured per merchant -------------------------------------------------------------
def settings_for(tmp_path: Path, config: str, **env) -> tuple[Settings, object]:
    path = tmp_path / "adapters.toml"
    path.write_text(config)
    settings = Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data"),
                                  "RETURNS_ADAPTERS_FILE": str(path)})
    adapters = load_adapters(path, env=env, known_merchants=["opalook", "pearl-platform",
                                                               "fine-jewelry"])
    return settings, adapters


@pytest.fixture
def label_pdf(tmp_path: Path) -> Path:
    from reportlab.pdfgen import canvas

    path = tmp_path / "RMA-R-1001.pdf"
    c = canvas.Canvas(str(path))
    c.drawString(72, 720, "RETURN LABEL RMA-R-1001")
    c.showPage()
    c.save()
    return path


def smtp_config(port: int, **extra) -> str:
    lines = "\n".join(f"{k} = {v}" for k, v in extra.items())
    return f"""
[merchants.opalook]
staff_locale = "fr"
[merchants.opalook.email]
transport = "smtp"
host = "127.0.0.1"
port = {port}
starttls = false
mail_from = "retours@opalook.example"
timeout = 5
{lines}
"""


async def send(acts: NotificationActivities, n):
    return await ActivityEnvironment().run(acts.send_notification, n)


async def test_french_approval_over_smtp_with_both_parts_the_label_and_content_language(
        smtp_server, tmp_path, label_pdf):
    settings, adapters = settings_for(tmp_path, smtp_config(smtp_server.port))
    acts = wiring.notification_activities(settings, adapters)
    n = full("approved", "fr").model_copy(update={
        "merchant_id": "opalook", "label_path": str(label_pdf)})

    sent = await send(acts, n)

    assert sent.transport == "smtp" and not sent.duplicate
    [got] = smtp_server.handler.received
    msg = got.message
    assert got.mail_from == "retours@opalook.example" and got.rcpt_tos == [CUSTOMER]
    assert msg["Subject"] == f"{MERCHANT} : votre retour R-1001 est accepté"
    assert msg["Content-Language"] == "fr"
    assert msg["Reply-To"] == SUPPORT and msg["From"].addresses[0].display_name == MERCHANT
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Bonjour Camille Dupont," in text and "Bonjour Camille Dupont," in html
    assert "au plus tard le mardi 24 novembre 2026" in text
    assert "au plus tard le <strong>mardi 24 novembre 2026</strong>" in html
    assert "Imprimez l’étiquette de retour jointe" in text
    assert "11 rue Alix" in text and SUPPORT in html
    [pdf] = list(msg.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename() == "return-label-R-1001.pdf"
    assert pdf.get_content() == label_pdf.read_bytes()


async def test_chinese_email_over_smtp(smtp_server, tmp_path):
    settings, adapters = settings_for(tmp_path, smtp_config(smtp_server.port))
    acts = wiring.notification_activities(settings, adapters)
    n = full("ship_by_reminder", "zh-CN").model_copy(update={"merchant_id": "opalook",
                                                             "label_path": None})
    await send(acts, n)

    [got] = smtp_server.handler.received
    msg = got.message
    assert msg["Subject"] == f"提醒：请于 2026年11月24日 星期二 前寄出您的退货 R-1001（{MERCHANT}）"
    assert msg["Content-Language"] == "zh-CN"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Camille Dupont，您好：" in text and "Camille Dupont，您好：" in html
    assert "请于 2026年11月24日 星期二 前寄出。" in text
    assert "退货地址：" in text and "如有疑问，请直接回复本邮件" in text


async def test_staff_read_the_merchant_staff_locale_not_the_customer_one(smtp_server, tmp_path):
    config = smtp_config(smtp_server.port) + f"""
[merchants.pearl-platform.email]
transport = "smtp"
host = "127.0.0.1"
port = {smtp_server.port}
starttls = false
mail_from = "returns@pearl.example"
"""
    settings, adapters = settings_for(tmp_path, config)
    acts = wiring.notification_activities(settings, adapters)
    # The workflow passes the customer's locale (zh) on staff emails too.
    review = full("review_needed", "zh-CN").model_copy(update={"to": STAFF})
    await send(acts, review.model_copy(update={"merchant_id": "opalook"}))
    await send(acts, review.model_copy(update={"merchant_id": "pearl-platform",
                                               "idempotency_key": "return-R-1001:review:2"}))

    fr, en = [r.message for r in smtp_server.handler.received]
    assert fr["Content-Language"] == "fr" and fr["Subject"].startswith("[À examiner]")
    assert en["Content-Language"] == "en" and en["Subject"].startswith("[Review]")
    assert "Tuesday 24 November 2026" in en.get_body(("plain",)).get_content()


async def test_a_busy_mailbox_is_retried_and_a_bad_address_is_final(smtp_server, tmp_path):
    settings, adapters = settings_for(tmp_path, smtp_config(smtp_server.port))
    acts = wiring.notification_activities(settings, adapters)
    busy = full("received", "fr").model_copy(update={"merchant_id": "opalook",
                                                     "to": "anne@busy.example"})
    with pytest.raises(TransientEmailFailure) as err:  # not an ApplicationError: Temporal retries
        await send(acts, busy)
    assert "451" in str(err.value) and "anne@" not in str(err.value)
    retried = await send(acts, busy)  # the server takes it on the next attempt
    assert not retried.duplicate and len(smtp_server.handler.received) == 1

    refused = full("received", "fr").model_copy(update={
        "merchant_id": "opalook", "to": "nobody@refused.example",
        "idempotency_key": "return-R-1001:notify:9:received"})
    with pytest.raises(ApplicationError) as err:
        await send(acts, refused)
    assert err.value.type == PERMANENT_EMAIL_FAILURE and err.value.non_retryable
    assert "550" in err.value.message and "nobody@" not in err.value.message


async def test_each_merchant_uses_its_own_transport(smtp_server, tmp_path):
    settings, adapters = settings_for(tmp_path, smtp_config(smtp_server.port))
    acts = wiring.notification_activities(settings, adapters)
    await send(acts, full("closed", "fr").model_copy(update={"merchant_id": "opalook"}))
    await send(acts, full("closed", "fr").model_copy(update={
        "merchant_id": "fine-jewelry", "idempotency_key": "return-R-2:closed"}))
    await send(acts, full("closed", "fr").model_copy(update={
        "merchant_id": None, "idempotency_key": "return-R-3:closed"}))

    assert len(smtp_server.handler.received) == 1  # opalook only
    outbox = MaildirOutbox(settings.outbox_dir)
    assert outbox.contains("return-R-2:closed") and outbox.contains("return-R-3:closed")


@pytest.fixture
def tls_server(tmp_path: Path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    logins: list[tuple[bool, bool]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (b"opalook-returns", b"smtp-pa55")
        logins.append((session.ssl is not None, ok))
        return AuthResult(success=ok, handled=False)

    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(),
                            tls_context=server_tls, require_starttls=True,
                            authenticator=authenticator)
    controller.start()
    try:
        yield controller, handler, logins, cert
    finally:
        controller.stop()


async def test_starttls_and_login_come_from_the_config_and_the_secrets_file(tmp_path, tls_server):
    controller, handler, logins, cert = tls_server
    secrets = tmp_path / "secrets.env"
    secrets.write_text("# dev secrets\nOPALOOK_SMTP_PASSWORD='smtp-pa55'\n")
    path = tmp_path / "adapters.toml"
    path.write_text(f"""
[merchants.opalook.email]
transport = "smtp"
host = "127.0.0.1"
port = {controller.port}
starttls = true
username = "opalook-returns"
password_env = "OPALOOK_SMTP_PASSWORD"
mail_from = "retours@opalook.example"
ca_file = "{cert}"
timeout = 5
""")
    settings = Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")})
    adapters = load_adapters(path, env={}, secrets_file=secrets)
    assert "smtp-pa55" not in repr(adapters)  # the resolved secret never prints
    acts = wiring.notification_activities(settings, adapters)

    await send(acts, full("withdrawn", "fr").model_copy(update={"merchant_id": "opalook"}))

    assert logins == [(True, True)]  # logged in, over TLS
    [got] = handler.received
    assert got.message["Subject"] == f"{MERCHANT} : votre retour R-1001 est annulé à votre demande"


async def test_a_carrier_png_label_is_attached_as_png(smtp_server, tmp_path):
    png = tmp_path / "RMA-R-1001.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    settings, adapters = settings_for(tmp_path, smtp_config(smtp_server.port))
    acts = wiring.notification_activities(settings, adapters)
    await send(acts, full("approved", "zh").model_copy(update={"merchant_id": "opalook",
                                                               "label_path": str(png)}))
    [got] = smtp_server.handler.received
    [label] = list(got.message.iter_attachments())
    assert label.get_content_type() == "image/png"
    assert label.get_filename() == "return-label-R-1001.png"
    assert label.get_content() == png.read_bytes()
    assert "打印附件中的退货标签" in got.message.get_body(("plain",)).get_content()
