"""No placeholder reaches a customer: a merchant's return address, sender (From:) and support
address are settings of its policy file, checked by `worker.py` at start (a missing or placeholder
one stops it, naming the merchant, the file and the setting), and no email or return page of any
merchant can render "PLACEHOLDER" (issue 16 point 4)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from activities.contracts import Notification
from activities.notifications import TEMPLATE_AUDIENCE, NotificationTemplates
from customer_page import view
from customer_page.server import _environment
from customer_page import words as page_words
from returns import merchant_settings
from returns.events import Address
from returns.policy.registry import PolicyRegistry
from returns.status import ItemStatus, ReturnState, ReturnStatus

from .support import customer_notification

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = PolicyRegistry.load(ROOT / "policies")


def contacts() -> dict:
    return {m: REGISTRY.get(m).contact() for m in REGISTRY.merchant_ids}


def test_the_demo_merchants_have_every_setting():
    merchant_settings.check(contacts())
    for merchant, contact in contacts().items():
        assert contact.sender_email and contact.support_email, merchant
        assert merchant_settings.problems(contact) == []
    # 000 §3.2.VI: Opalook's return address is the seed's own.
    assert contacts()["opalook"].return_address.line1 == "11 rue Alix"


@pytest.mark.parametrize("update, setting", [
    ({"sender_email": None}, "sender_email: missing"),
    ({"support_email": "xxx@xxx.com"}, "support_email: 'xxx@xxx.com' is a placeholder"),
    ({"return_address": Address(line1="PLACEHOLDER returns centre, not in seed", city="Shanghai",
                                postal_code="200000", country="CN")},
     "return_address: 'PLACEHOLDER returns centre, not in seed' is a placeholder"),
])
def test_a_missing_or_placeholder_setting_is_named_with_its_merchant(update, setting):
    broken = {**contacts(), "pearl-platform": contacts()["pearl-platform"].model_copy(update=update)}
    with pytest.raises(merchant_settings.MerchantSettingsError) as err:
        merchant_settings.check(broken, {"pearl-platform": "policies/pearl-platform.toml"})
    message = str(err.value)
    assert message.startswith("merchant pearl-platform (policies/pearl-platform.toml): [merchant] ")
    assert setting in message
    assert "opalook" not in message and "fine-jewelry" not in message


def test_the_worker_refuses_to_start_naming_the_merchant_and_the_setting(tmp_path: Path):
    """A real `python worker.py`: it stops before connecting to Temporal (none runs here)."""
    for path in (ROOT / "policies").glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    opalook = tmp_path / "opalook.toml"
    text = opalook.read_text()
    assert 'sender_email = "retours@opalook.example"\n' in text
    opalook.write_text(text.replace('sender_email = "retours@opalook.example"\n', ""))
    env = {**os.environ, "RETURNS_POLICIES_DIR": str(tmp_path),
           "RETURNS_DATA_DIR": str(tmp_path / "data"), "TEMPORAL_ADDRESS": "127.0.0.1:1"}
    done = subprocess.run([sys.executable, str(ROOT / "worker.py")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "merchant opalook" in done.stderr and "opalook.toml" in done.stderr
    assert "[merchant] sender_email: missing" in done.stderr


def _notification(merchant: str, template: str, locale: str) -> Notification:
    contact = contacts()[merchant]
    return customer_notification(
        template, locale=locale, merchant_id=merchant, merchant_name=contact.name,
        merchant_support_email=contact.support_email,
        merchant_return_address=contact.return_address,
        merchant_sender_email=contact.sender_email)


@pytest.mark.parametrize("merchant", REGISTRY.merchant_ids)
def test_no_email_of_any_merchant_renders_a_placeholder(merchant):
    templates = NotificationTemplates()
    for template, audience in TEMPLATE_AUDIENCE.items():
        if audience != "customer":
            continue
        for locale in ("en", "fr", "zh"):
            r = templates.render(_notification(merchant, template, locale))
            for part in (r.subject, r.text, r.html):
                assert "PLACEHOLDER" not in part.upper(), (merchant, template, locale)
                assert "not in seed" not in part


@pytest.mark.parametrize("merchant", REGISTRY.merchant_ids)
def test_no_return_page_of_any_merchant_renders_a_placeholder(merchant):
    contact = contacts()[merchant]
    at = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)
    status = ReturnStatus(
        return_id="R-1", merchant_id=merchant, order_id="O-1", state=ReturnState.awaiting_shipment,
        currency="EUR", refund_total=11_550, requested_at=at,
        items=[ItemStatus(line_id="L1", sku="S1", title="Ring", quantity_requested=1,
                          eligible=True, resolution="refund", refund_amount=11_550)])
    for language in ("en", "fr", "zh"):
        v = view.build(status, contact, REGISTRY.get(merchant).sla_terms().calendar.timezone,
                       language)
        html = _environment().get_template("page.html").render(
            html_lang=page_words.HTML_LANG[language], nonce="n", colon=": ", v=v,
            base="/r/x", csrf="c", refusal=None, form={}, language=language)
        assert contact.return_address.line1 in html
        assert "PLACEHOLDER" not in html.upper() and "not in seed" not in html
