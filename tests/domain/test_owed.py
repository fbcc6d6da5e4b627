"""Money the customer owes before a shipment (returns/owed.py), settled before it goes out:
recorded by staff with a payment reference where no provider collects it (issue 18 point 2)."""

from __future__ import annotations

import pytest

from returns import notices
from returns.actions import CustomerPayment, ShipToCustomer
from returns.owed import owed_before, payment_problem
from returns.policy.engine import decide
from returns.policy.registry import PolicyRegistry
from returns.status import InspectionResult, ItemStatus, ReturnState as S, ReturnStatus
from returns.status_card import render_status_card
from tests.policy.builders import POLICIES_DIR, merchant_line, return_requested, requested_item

REGISTRY = PolicyRegistry.load(POLICIES_DIR)


def _decided(merchant_id: str, *, lines=None, **item):
    request = return_requested(merchant_id, days_after_delivery=5, lines=lines,
                               items=[requested_item(**item)])
    return decide(REGISTRY.get(merchant_id), request)


def _items(decision, accepted: int = 1, failed: bool = False) -> dict[str, ItemStatus]:
    i = decision.items[0]
    return {i.line_id: ItemStatus(
        line_id=i.line_id, sku=i.sku, title=i.title, quantity_requested=1, eligible=i.eligible,
        resolution=i.resolution, quantity_received=1, quantity_accepted=0 if failed else accepted,
        inspection=InspectionResult.failed if failed else InspectionResult.passed)}


def _ship(**fields) -> ShipToCustomer:
    return ShipToCustomer(actor="sam", carrier="DHL", tracking_number="JD0146000065", **fields)


def test_a_non_quality_exchange_owes_reshipping_and_price_difference_first():
    """004 §4.4 "the shipping cost for re-shipping shall be borne by you; if there is a price
    difference … the difference must be paid before arranging shipment" (and §3.6, docs)."""
    decision = _decided("fine-jewelry", reason="size_fit", resolution="exchange")
    items = _items(decision)
    owed = owed_before(S.exchange_shipping, decision, items)
    assert [(o.clause, o.amount) for o in owed] == [("004 §4.4", None), ("004 §3.4, §4.4", None)]
    assert "price difference" in owed[0].what and "shipping the exchanged Gold solitaire ring" \
        in owed[1].what
    problem = payment_problem(S.exchange_shipping, decision, items, _ship())
    assert problem.startswith("customer_payment: before this shipment the customer owes ")
    assert "(004 §4.4)" in problem
    assert "in the console: what the customer paid" in problem  # the form's own words too
    assert payment_problem(S.exchange_shipping, decision, items, _ship(
        customer_payment=CustomerPayment(reference="PAY-1", amount=2500))) is None
    # the old fee reference alone does not cover what is not a fee
    assert payment_problem(S.exchange_shipping, decision, items,
                           _ship(fee_payment_reference="PAY-1")) is not None


def test_a_quality_exchange_owes_nothing():
    """004 §4.3 "Free exchange with no additional fees, and the re-shipping cost is borne by us"."""
    decision = _decided("fine-jewelry", reason="defective", resolution="exchange")
    assert owed_before(S.exchange_shipping, decision, _items(decision)) == []
    assert payment_problem(S.exchange_shipping, decision, _items(decision), _ship()) is None


def test_fees_known_must_be_covered_by_the_payment_recorded():
    """004 §4.5: the 50 % fee of an engraved exchange is a known amount; a payment below it is
    refused naming the field; fees alone may still be recorded as fee_payment_reference."""
    decision = _decided("fine-jewelry", lines=[merchant_line("fine-jewelry", engraved=True)],
                        reason="size_fit", resolution="exchange")
    items = _items(decision)
    fee = decision.items[0].fees[0].amount
    assert fee == 25_000
    problem = payment_problem(S.exchange_shipping, decision, items, _ship(
        customer_payment=CustomerPayment(reference="PAY-2", amount=fee - 1)))
    assert problem.startswith("customer_payment.amount: 249.99 USD is less than the 250.00 USD")
    assert payment_problem(S.exchange_shipping, decision, items, _ship(
        customer_payment=CustomerPayment(reference="PAY-2", amount=fee + 1800))) is None


@pytest.mark.parametrize("merchant_id, clause", [("fine-jewelry", "004 §3.7"),
                                                 ("pearl-platform", "003 §III.4")])
def test_shipping_back_a_failed_item_is_paid_before_it_goes(merchant_id, clause):
    """004 §3.7 "shipped back to you as is, with the secondary shipping cost borne by you";
    003 §III.4 round-trip freight borne by the consumer: the customer is told in the
    inspection-failed email, and ship_to_customer waits for their payment."""
    decision = _decided(merchant_id, reason="defective")
    items = _items(decision, failed=True)
    [owed] = owed_before(S.returning_to_customer, decision, items)
    assert owed.clause.startswith(clause)
    assert "To pay before we ship: the cost of shipping back what did not pass inspection" in \
        notices.inspection_failed(decision, items)
    assert payment_problem(S.returning_to_customer, decision, items, _ship()) is not None
    assert payment_problem(S.returning_to_customer, decision, items, _ship(
        customer_payment=CustomerPayment(reference="PP-9", amount=1500))) is None


def test_the_staff_email_and_status_card_say_what_is_owed_and_why():
    """004 §4.4: staff read what to collect before shipping; the card shows it while it is due."""
    decision = _decided("fine-jewelry", reason="size_fit", resolution="exchange")
    items = _items(decision)
    todo = notices.shipment_todo(S.exchange_shipping, decision, items, [])
    assert "First collect from the customer: any price difference" in todo
    assert "customer_payment: {reference, amount}" in todo
    owed = notices.owed_after_inspection(decision, items)
    assert owed.startswith("To pay before we ship: any price difference") and "(004 §4.4)" in owed
    card = render_status_card(ReturnStatus(
        return_id="R-1", merchant_id="fine-jewelry", order_id="O-1", state=S.exchange_shipping,
        currency="USD", items=list(items.values()), customer_owes=owed))
    assert "The customer owes" in card and "(004 §3.4, §4.4)" in card


def test_a_moved_date_is_told_to_the_customer_in_their_words():
    """003 §III.4 "for special styles that need customization, the time will be notified
    separately": the customer reads which date moved, in their language; the reason staff typed
    stays in the audit trail."""
    from returns import customer_words
    assert customer_words.deadline_moved("reshipment", "en") == (
        "The date that moved: shipping your exchange or repaired item.")
    assert customer_words.deadline_moved("reshipment", "fr") == (
        "La date qui change : l’envoi de votre échange ou de votre article réparé.")


def test_an_exchange_ships_only_once_the_product_sent_is_confirmed():
    """003 §V.2.3 "The exchanged products must be new products of the same quality as the
    original products, with a quality inspection certificate attached": the staff email asks for
    it and ship_to_customer is refused without checks_confirmed, naming the field and clause."""
    from returns.inspection import exchange_check_problem
    decision = _decided("pearl-platform", reason="defective", resolution="exchange")
    assert decision.exchange_checks[0].startswith("003 §V.2.3: the product sent in exchange is new")
    problem = exchange_check_problem(S.exchange_shipping, decision, _ship())
    assert problem.startswith("checks_confirmed: before the exchange ships, confirm 003 §V.2.3")
    assert exchange_check_problem(S.exchange_shipping, decision, _ship(checks_confirmed=True)) \
        is None
    assert exchange_check_problem(S.returning_to_customer, decision, _ship()) is None
    todo = notices.shipment_todo(S.exchange_shipping, decision, _items(decision), [])
    assert "Check the product you send: 003 §V.2.3" in todo
    fine = _decided("fine-jewelry", reason="defective", resolution="exchange")
    assert fine.exchange_checks == [] and exchange_check_problem(S.exchange_shipping, fine,
                                                                 _ship()) is None
