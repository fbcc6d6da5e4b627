"""The email sent when staff ship to the customer (ship_to_customer: an exchange's replacement, a
repaired item, an item sent back) names the carrier and the tracking number, in en, fr and zh.
The repaired item's email had no template: the workflow sent "repaired" and the email failed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from activities.notifications import TEMPLATE_AUDIENCE, NotificationTemplates

from .support import customer_notification

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = NotificationTemplates()
# The templates the workflow's ship-back step sends (`_ship_back(<state>, <done>, "<template>"`).
SHIPPED = re.findall(r'_ship_back\(\s*State\.\w+,\s*State\.\w+,\s*"(\w+)"',
                     (ROOT / "workflows" / "return_workflow.py").read_text())
WORDS = {"en": ("Tracking", "on its way"), "fr": ("Suivi", "renvoy"), "zh": ("快递单号", "寄")}


def test_the_workflow_sends_each_shipment_email_from_a_known_template():
    assert sorted(set(SHIPPED)) == ["exchange_shipping", "repaired", "returned_to_customer"]
    for name in SHIPPED:
        assert TEMPLATE_AUDIENCE.get(name) == "customer", name


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR", "zh-CN"])
@pytest.mark.parametrize("template", ["exchange_shipping", "repaired", "returned_to_customer"])
def test_the_shipment_email_names_the_carrier_and_the_tracking_number(template, locale):
    n = customer_notification(template, locale=locale, tracking="UPS 1Z999AA10123456784")
    r = TEMPLATES.render(n)
    label, _ = WORDS[locale[:2]]
    assert r.locale == locale[:2]
    for part in (r.text, r.html):
        assert "UPS 1Z999AA10123456784" in part and label in part, (template, locale)


def test_the_repaired_email_says_the_repaired_item_is_on_its_way_and_no_return_address():
    r = TEMPLATES.render(customer_notification("repaired", tracking="UPS 1Z999AA10123456784"))
    assert "repaired item" in r.subject and "Tracking: UPS 1Z999AA10123456784" in r.text
    assert "Return address" not in r.text  # nothing more is to be sent to the merchant
