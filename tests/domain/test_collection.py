"""Collecting what the customer owes through the merchant's payment provider (returns/collection.py,
issue 18 point 2), pure: what is asked at once and what staff quote, when a quote is refused, which
provider notices settle it, and what the status card and the ship refusal say.

004 §4.4 "if there is a price difference … the difference must be paid before arranging
shipment"; §4.5 the 50 % exchange fee of an engraved product; §3.7 "the secondary shipping cost
borne by you"."""

from __future__ import annotations

import pytest

from returns.actions import CustomerPayment, ShipToCustomer
from returns.collection import (
    PaymentNotice, RequestCustomerPayment, amount_known, notice_problem, payment_description,
    quote_problem, waiting_text,
)
from returns.owed import Owed, owed_before, payment_problem
from returns.policy.engine import decide
from returns.policy.registry import PolicyRegistry
from returns.status import ItemStatus, InspectionResult, OwedPayment, ReturnState as S, ReturnStatus
from returns.status_card import render_status_card
from tests.policy.builders import POLICIES_DIR, merchant_line, return_requested, requested_item

REGISTRY = PolicyRegistry.load(POLICIES_DIR)
FEE = Owed("the exchange fee (50 %) (Gold ring)", "004 §4.5", 25_000, fee=True)
DIFFERENCE = Owed("the price difference (Gold ring)", "004 §4.4")


def exchange(engraved: bool = False):
    """004 §4.4: a non-quality exchange (size), passed inspection, waiting to ship."""
    lines = [merchant_line("fine-jewelry", engraved=True)] if engraved else None
    decision = decide(REGISTRY.get("fine-jewelry"), return_requested(
        "fine-jewelry", days_after_delivery=5, lines=lines,
        items=[requested_item(reason="size_fit", resolution="exchange")]))
    i = decision.items[0]
    items = {i.line_id: ItemStatus(line_id=i.line_id, sku=i.sku, title=i.title,
                                   quantity_requested=1, eligible=True, resolution=i.resolution,
                                   quantity_received=1, quantity_accepted=1,
                                   inspection=InspectionResult.passed)}
    return decision, items


def asked(**fields) -> OwedPayment:
    return OwedPayment(**{"amount": 4500, "currency": "USD", "why": "the price difference "
                          "(004 §4.4)", "provider": "stripe", "payment_id": "cs_1",
                          "collect_key": "return-fine-jewelry-R-1:collect:exchange_shipping:1",
                          "url": "https://checkout.stripe.com/c/pay/cs_1", **fields})


def notice(**fields) -> PaymentNotice:
    return PaymentNotice(**{"event_id": "evt_1", "provider": "stripe",
                            "merchant_id": "fine-jewelry", "return_id": "R-1",
                            "collect_key": "return-fine-jewelry-R-1:collect:exchange_shipping:1",
                            "payment_intent": "pi_1", "amount_received": 4500, "currency": "USD",
                            **fields})


def quote(amount: int) -> RequestCustomerPayment:
    return RequestCustomerPayment(actor="sam", amount=amount)


def test_known_fees_are_asked_at_once_and_amounts_left_to_staff_wait_for_their_quote():
    """004 §4.5 fees are stated by the policy; 004 §4.4's price difference is not."""
    assert amount_known([FEE]) == 25_000
    assert amount_known([FEE, DIFFERENCE]) is None
    assert amount_known([]) is None
    assert payment_description([FEE, DIFFERENCE]) == (
        "the exchange fee (50 %) (Gold ring) (004 §4.5); the price difference (Gold ring) "
        "(004 §4.4)")


def test_a_quote_is_refused_below_the_known_fees_or_when_nothing_waits():
    decision, items = exchange(engraved=True)  # 004 §4.5 fee 250.00 USD and §4.4 what staff quote
    owed = owed_before(S.exchange_shipping, decision, items)
    problem = quote_problem(S.exchange_shipping, owed, "USD", quote(100), None, False)
    assert problem.startswith("amount: 1.00 USD is less than the 250.00 USD owed in fees alone")
    assert quote_problem(S.exchange_shipping, owed, "USD", quote(27_000), None, False) is None
    assert quote_problem(S.exchange_shipping, owed, "USD", quote(27_000), asked(),
                         False).startswith("amount: the customer was already asked for 45.00")
    assert quote_problem(S.exchange_shipping, owed, "USD", quote(27_000), None,
                         True).startswith("nothing is waiting to be shipped")
    assert quote_problem(S.inspecting, owed, "USD", quote(27_000), None, False) is not None
    assert quote_problem(S.exchange_shipping, [], "USD", quote(500), None, False) == \
        "amount: the customer owes nothing before this shipment (see the status card)"


def test_only_the_asked_page_currency_and_amount_of_this_return_settle_it():
    assert notice_problem(asked(), notice(), "fine-jewelry", "R-1") is None
    assert notice_problem(asked(), notice(amount_received=9000), "fine-jewelry", "R-1") is None
    assert notice_problem(asked(), notice(amount_received=4499), "fine-jewelry", "R-1") == \
        "44.99 USD received, 45.00 USD asked"
    assert notice_problem(asked(), notice(currency="EUR"), "fine-jewelry", "R-1") == \
        "paid in EUR, asked in USD"
    assert notice_problem(asked(), notice(merchant_id="opalook"), "fine-jewelry", "R-1") == \
        "the notice is for opalook/R-1, not fine-jewelry/R-1"
    assert notice_problem(asked(), notice(return_id="R-2"), "fine-jewelry", "R-1") is not None
    assert notice_problem(asked(), notice(collect_key="x:collect:exchange_shipping:9"),
                          "fine-jewelry", "R-1").startswith("the notice is for another payment")
    assert notice_problem(None, notice(), "fine-jewelry", "R-1") == \
        "no payment is being asked of the customer now"
    assert notice_problem(asked(paid=True), notice(), "fine-jewelry", "R-1") is not None


def test_paid_online_the_exchange_ships_without_a_payment_recorded_by_hand():
    """004 §4.4 "must be paid before arranging shipment": paid through Stripe, it may ship."""
    decision, items = exchange()
    ship = ShipToCustomer(actor="sam", carrier="DHL", tracking_number="JD0146000065")
    waiting = payment_problem(S.exchange_shipping, decision, items, ship,
                              waiting=waiting_text(asked()))
    assert waiting.startswith("customer_payment: the return is waiting on the customer's payment "
                              "(45.00 USD asked on Stripe for the price difference (004 §4.4))")
    assert payment_problem(S.exchange_shipping, decision, items, ship, paid_online=True) is None
    # staff may still record a payment made another way, checked as before
    assert payment_problem(S.exchange_shipping, decision, items, ship.model_copy(update={
        "customer_payment": CustomerPayment(reference="BANK-1", amount=4500)}),
        waiting=waiting_text(asked())) is None


@pytest.mark.parametrize("payment, shown", [
    (None, "`request_customer_payment` {actor, amount} quotes it"),
    (asked(), "**Waiting on the customer's payment:** 45.00 USD on stripe (cs_1), for the price "
              "difference (004 §4.4). Payment page: https://checkout.stripe.com/c/pay/cs_1"),
    (asked(paid=True, reference="pi_1", url=None),
     "**Paid online:** 45.00 USD on stripe (pi_1): ship_to_customer needs no customer_payment."),
], ids=["to_quote", "waiting", "paid"])
def test_the_status_card_says_how_much_why_and_where(payment, shown):
    decision, items = exchange()
    card = render_status_card(ReturnStatus(
        return_id="R-1", merchant_id="fine-jewelry", order_id="O-1", state=S.exchange_shipping,
        currency="USD", items=list(items.values()), owed_payment=payment,
        customer_owes="To pay before we ship: the price difference (004 §4.4)."))
    assert "The customer owes" in card and shown in card
