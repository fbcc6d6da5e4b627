"""The refund and closing emails itemise an inspection fee (003 §V.1.4): each line's amount, the
fee deducted, what the line refunds and the total, in the customer's language, from the same
facts as the return page (returns/refund_itemised.py) and worded by the one catalogue."""

from __future__ import annotations

import re

import pytest

from activities.contracts import Notification
from activities.notifications import NotificationTemplates
from returns.refund_itemised import RefundItemised, RefundedLine
from returns.policy.engine import decide
from samples.events import item, return_requested

from .support import customer_notification
from .test_customer_words import REGISTRY, STAFF_MARKERS

ITEMISED = RefundItemised(currency="EUR", total=16_000, lines=[
    RefundedLine(line_id="L1", title="Akoya pearl necklace", quantity=1, amount=18_000,
                 inspection_fee=2_000, refunded=16_000)])
EXPECTED = {
    "en": ["Akoya pearl necklace × 1: €180.00", "Inspection fee deducted: −€20.00",
           "Refunded for this item: €160.00", "Total refunded: €160.00"],
    "fr": ["Akoya pearl necklace × 1 : 180,00 €", "Frais de contrôle déduits : −20,00 €",
           "Remboursé pour cet article : 160,00 €", "Total remboursé : 160,00 €"],
    "zh": ["Akoya pearl necklace × 1：€180.00", "已扣除检验费：−€20.00", "此商品退款：€160.00",
           "退款总额：€160.00"],
}


def spaces(text: str) -> str:
    return re.sub("[\u00a0\u202f]", " ", text)


@pytest.mark.parametrize("language", ["en", "fr", "zh"])
@pytest.mark.parametrize("template", ["refund_issued", "closed"])
def test_the_refund_email_shows_the_fee_line(template, language):
    n = customer_notification(template, locale=language, state="refunded", message=None,
                              refund_total="160.00 EUR", refund_total_amount=16_000,
                              refund_lines=ITEMISED)
    rendered = NotificationTemplates().render(n)
    text, html = spaces(rendered.text), spaces(rendered.html)
    for line in EXPECTED[language]:
        assert line in text, (line, text)
        assert line.replace("&", "&amp;") in html
    assert not STAFF_MARKERS.search(text)


def test_without_a_fee_the_emails_are_as_before():
    n = customer_notification("refund_issued", state="refunded", message=None)
    rendered = NotificationTemplates().render(n)
    assert "Inspection fee deducted" not in rendered.text and "Total refunded" not in rendered.text


def test_other_emails_never_itemise():
    n = customer_notification("approved", refund_lines=ITEMISED)
    assert "Inspection fee deducted" not in NotificationTemplates().render(n).text


def test_the_workflow_passes_the_itemised_refund_with_the_email():
    """Notification.for_return carries `refund_lines` (what the workflow passes from
    returns.refund_itemised.itemised(status)) through the activity's payload."""
    request = return_requested("pearl-platform", delivered_days_ago=20, country="US",
                               currency="USD", items=[item("L1", reason="changed_mind")])
    decision = decide(REGISTRY.get(request.merchant_id), request)
    lines = RefundItemised(currency="USD", total=8_500, lines=[RefundedLine(
        line_id="L1", title="x", quantity=1, amount=10_000, inspection_fee=1_500,
        refunded=8_500)])
    n = Notification.for_return(request, decision, state="refunded", template="refund_issued",
                                audience="customer", to="c@example.com", idempotency_key="k",
                                refund_paid=8_500, refund_lines=lines)
    again = Notification.model_validate_json(n.model_dump_json())
    assert again.refund_lines == lines
    assert "Inspection fee deducted: −$15.00" in NotificationTemplates().render(again).text
