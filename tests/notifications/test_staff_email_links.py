"""A staff email names the return's real workflow id (`return-<merchant>-<return>`: it printed
`return-<return>`, which the Temporal UI cannot find) and links its page in the staff console when
the worker knows the console's address; customer emails never carry either."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from activities.mail import MaildirOutbox
from activities.notifications import TEMPLATE_AUDIENCE, NotificationActivities

from .support import customer_notification, parse, staff_notification

CONSOLE = "https://console.maison-perle.example"


def bodies(outbox: Path) -> list[tuple[str, str]]:
    box = mailbox.Maildir(outbox, factory=None, create=False)
    msgs = [parse(box.get_bytes(k)) for k in box.keys()]
    return [(m.get_body(("plain",)).get_content(), m.get_body(("html",)).get_content())
            for m in msgs]


@pytest.mark.parametrize("staff_locale", ["en", "fr", "zh"])
async def test_every_staff_email_names_the_workflow_and_links_the_console(
        tmp_path: Path, staff_locale: str):
    acts = NotificationActivities(MaildirOutbox(tmp_path), console_url=CONSOLE + "/",
                                  staff_locale=staff_locale)
    staff = [t for t, a in TEMPLATE_AUDIENCE.items() if a == "staff"]
    for template in staff:
        await ActivityEnvironment().run(acts.send_notification, staff_notification(
            template, merchant_id="maison-perle"))
    found = bodies(tmp_path)
    assert len(found) == len(staff)
    for text, html in found:
        assert "return-maison-perle-R-1001" in text and "return-maison-perle-R-1001" in html
        assert "return-R-1001" not in text and "return-R-1001" not in html
        assert f"{CONSOLE}/returns/return-maison-perle-R-1001" in text
        assert f'href="{CONSOLE}/returns/return-maison-perle-R-1001"' in html


async def test_no_console_address_no_link_and_customers_never_see_it(tmp_path: Path):
    await ActivityEnvironment().run(NotificationActivities(MaildirOutbox(tmp_path / "a"))
                                    .send_notification,
                                    staff_notification("review_needed", merchant_id="maison-perle"))
    [(text, _)] = bodies(tmp_path / "a")
    assert "return-maison-perle-R-1001" in text and "/returns/" not in text
    await ActivityEnvironment().run(
        NotificationActivities(MaildirOutbox(tmp_path / "b"), console_url=CONSOLE)
        .send_notification, customer_notification("approved", merchant_id="maison-perle"))
    [(text, html)] = bodies(tmp_path / "b")
    assert CONSOLE not in text and CONSOLE not in html
