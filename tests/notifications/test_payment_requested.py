"""The `payment_requested` email (issue 18 point 2): what the customer owes before a shipment,
why (the policy's clauses: 004 §4.4 price difference and reshipping), and the provider-hosted page
to pay it on, in English, French and Simplified Chinese."""

from __future__ import annotations

import pytest

from activities.notifications import NotificationTemplates

from .support import customer_notification

PAGE = "https://checkout.stripe.com/c/pay/cs_test_a1"
OWES = "45.00 USD: the price difference (Gold ring) (004 §4.4)"


@pytest.mark.parametrize("locale, heading, button", [
    ("en", "A payment is needed before we ship", "Pay securely"),
    ("fr", "Un paiement est nécessaire avant l’expédition", "Payer en toute sécurité"),
    ("zh", "发货前需要您付款", "安全付款"),
])
def test_the_email_says_how_much_why_and_links_to_the_payment_page(locale, heading, button):
    r = NotificationTemplates().render(customer_notification(
        "payment_requested", locale=locale, message=OWES, payment_url=PAGE))
    assert r.locale == locale
    for part in (r.text, r.html):
        assert heading in part and PAGE in part and "45.00 USD" in part and "(004 §4.4)" in part
    assert f'href="{PAGE}"' in r.html and button in r.html
    assert "R-1001" in r.subject
