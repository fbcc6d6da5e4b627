"""Every customer email carries the customer's return page link (customer_page.links), in the
email's language; staff emails do not, and without keys the emails go without it."""

from __future__ import annotations

import mailbox
import re
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.mail import MaildirOutbox
from activities.notifications import TEMPLATE_AUDIENCE, NotificationActivities
from customer_page.links import CustomerLinks

from .support import customer_notification, parse, staff_notification

LINKS = CustomerLinks(("k" * 40,), "https://returns.maison-perle.example")
WORDING = {"en": "Your return page", "fr": "La page de votre retour", "zh": "您的退货页面"}


def read(outbox: Path):
    box = mailbox.Maildir(outbox, factory=None, create=False)
    return [parse(box.get_bytes(key)) for key in box.keys()]


@pytest.mark.parametrize("locale", ["en", "fr", "zh-CN"])
async def test_a_customer_email_links_to_the_return_page(tmp_path: Path, locale: str):
    acts = NotificationActivities(MaildirOutbox(tmp_path), links=LINKS)
    await ActivityEnvironment().run(acts.send_notification, customer_notification(
        "approved", locale=locale, merchant_id="maison-perle"))
    [msg] = read(tmp_path)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    language = locale.split("-")[0]
    url = re.search(r"https://returns\.maison-perle\.example/r/\S+", text)[0]
    assert url.startswith("https://returns.maison-perle.example/r/maison-perle/R-1001/")
    assert url.endswith(f"?lang={language}")
    token = url.split("/")[-1].split("?")[0]
    assert LINKS.check("maison-perle", "R-1001", token) is None
    assert WORDING[language] in html and url.replace("&", "&amp;") in html


async def test_every_customer_template_shows_the_link(tmp_path: Path):
    acts = NotificationActivities(MaildirOutbox(tmp_path), links=LINKS)
    customer = [t for t, a in TEMPLATE_AUDIENCE.items() if a == "customer"]
    for template in customer:
        await ActivityEnvironment().run(acts.send_notification, customer_notification(
            template, merchant_id="maison-perle"))
    messages = read(tmp_path)
    assert len(messages) == len(customer)
    for msg in messages:
        assert "/r/maison-perle/R-1001/" in msg.get_body(("plain",)).get_content(), msg["Subject"]


async def test_staff_emails_and_emails_without_keys_have_no_link(tmp_path: Path):
    await ActivityEnvironment().run(
        NotificationActivities(MaildirOutbox(tmp_path / "a"), links=LINKS).send_notification,
        staff_notification("review_needed", merchant_id="maison-perle"))
    await ActivityEnvironment().run(
        NotificationActivities(MaildirOutbox(tmp_path / "b")).send_notification,
        customer_notification("approved", merchant_id="maison-perle"))
    for outbox in ("a", "b"):
        [msg] = read(tmp_path / outbox)
        assert "/r/" not in msg.get_body(("plain",)).get_content()
