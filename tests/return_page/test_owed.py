"""The customer page says what the customer owes before a shipment and where to pay it (issue 18
point 2; 004 §4.4 "the difference must be paid before arranging shipment"), in the customer's
words (returns/customer_words.py, the emails' catalogue: no clause, no staff sentence): built
from the status (pure) and rendered by the page's own template, in en, fr and zh."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from customer_page import view, words
from returns import customer_words
from customer_page.server import _environment
from returns.status import ItemStatus, OwedPayment, ReturnState, ReturnStatus

OWES = ("To pay before we ship: the price difference between the exchanged product and the "
        "original (Gold ring): as quoted (004 §4.4). We ship once it is paid.")
PAGE = "https://checkout.stripe.com/c/pay/cs_test_a1"


def status(payment: OwedPayment | None, owes: str | None = OWES) -> ReturnStatus:
    return ReturnStatus(
        return_id="R-1", merchant_id="fine-jewelry", order_id="O-1",
        state=ReturnState.exchange_shipping, currency="USD", customer_owes=owes,
        customer_owes_quoted=owes is not None,
        owed_payment=payment, requested_at=datetime(2026, 11, 24, tzinfo=timezone.utc),
        items=[ItemStatus(line_id="L1", sku="R", title="Gold ring", quantity_requested=1,
                          eligible=True, resolution="exchange", quantity_received=1,
                          quantity_accepted=1)])


def asked(paid: bool = False) -> OwedPayment:
    return OwedPayment(amount=4500, currency="USD", why="the price difference (004 §4.4)",
                       provider="stripe", payment_id="cs_test_a1", url=None if paid else PAGE,
                       paid=paid, reference="pi_1" if paid else None)


def render(v: view.CustomerView) -> str:
    return _environment().get_template("page.html").render(
        v=v, base="/r/fine-jewelry/R-1/t", csrf="c", refusal=None, form={}, language=v.language,
        html_lang=words.HTML_LANG[v.language], nonce="n", colon=": ")


@pytest.mark.parametrize("language, pay, amount", [
    ("en", "Pay $45.00 securely", "$45.00"),
    ("fr", "Payer 45,00\xa0$US en toute sécurité", "45,00\xa0$US"),
    ("zh", "安全支付 US$45.00", "US$45.00"),
])
def test_the_page_says_what_is_owed_why_and_links_to_the_payment_page(language, pay, amount):
    v = view.build(status(asked()), None, "Asia/Shanghai", language)
    assert v.owed.payment_url == PAGE and v.owed.amount == amount
    assert v.next_action == words.WORDS[language]["pay_now"]
    html = render(v)
    assert f'href="{PAGE}"' in html and pay in html
    assert "§" not in html and "To pay before we ship:" not in html  # never the staff sentence


def test_once_paid_the_page_thanks_the_customer_and_shows_no_link():
    v = view.build(status(asked(paid=True)), None, None, "en")
    assert v.owed.paid and v.owed.payment_url is None
    html = render(v)
    assert "your payment of $45.00 has reached us" in html and "checkout.stripe.com" not in html


def test_before_staff_quote_the_amount_the_page_says_what_is_owed_and_that_a_link_follows():
    v = view.build(status(None), None, None, "fr")
    assert v.owed.why == customer_words.text("fr", "owed_quoted") and v.owed.payment_url is None
    html = render(v)
    assert "un lien pour le régler" in html and "§" not in html and "price difference" not in html


def test_nothing_owed_shows_nothing():
    v = view.build(status(None, owes=None), None, None, "en")
    assert v.owed is None and 'id="owed"' not in render(v)
