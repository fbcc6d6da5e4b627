"""Seed 000, Opalook (B2B jewelry, France): policies/opalook.toml through the engine."""

from __future__ import annotations

import pytest

from returns.events import Resolution
from returns.policy.decision import Party
from returns.policy.engine import decide

from .builders import merchant_line, opalook_request, order_line, requested_item

PAID, TAX = 12_000, 2_000  # the builder's earrings: EUR 120.00 with EUR 20.00 VAT


@pytest.mark.parametrize("reason", ["defective", "not_as_described", "wrong_item",
                                    "damaged_in_transit"])
def test_non_conforming_products_are_refunded_within_15_days(opalook, reason):
    """000 §1.3/§1.4: lost, damaged or non-conforming products are refunded or exchanged; defective
    products may be returned within 15 days after receipt; 000 §3.3: Opalook pays the shipping."""
    item = decide(opalook, opalook_request(days_after_delivery=15,
                                           items=[requested_item(reason=reason)])).items[0]
    assert item.eligible and item.quality_issue
    assert item.resolution == Resolution.refund
    assert item.return_shipping_paid_by == Party.merchant
    assert any(r.clause == "000 §1.4" and "last day 2026-03-17" in r.text for r in item.reasons)


def test_day_16_is_refused_but_a_person_sees_it(opalook):
    """000 §1.4 "within a maximum period of 15 days"; 000 §3.1 favours dialogue, so the policy
    does not auto-reject: the refusal waits for staff."""
    decision = decide(opalook, opalook_request(days_after_delivery=16))
    item = decision.items[0]
    assert not item.eligible
    assert item.reasons[0].clause == "000 §1.4"
    assert not decision.auto_reject


@pytest.mark.parametrize("reason", ["changed_mind", "size_fit", "style_preference"])
def test_professional_has_no_withdrawal_right_but_l221_3_goes_to_staff(opalook, reason):
    """000 §1.2: a professional buyer has no right of withdrawal unless Consumer Code L221-3 applies
    — within its 14 days a person checks the buyer; the item is not eligible until they accept."""
    item = decide(opalook, opalook_request(days_after_delivery=10,
                                           items=[requested_item(reason=reason)])).items[0]
    assert not item.eligible and item.resolution is None and item.refund_amount == 0
    assert item.staff_review_required
    assert any("L221-3" in p for p in item.staff_review_points)
    assert any(r.clause == "000 §1.2" and r.text.startswith("if accepted: refund")
               for r in item.reasons)


def test_professional_withdrawal_after_14_days_is_refused(opalook):
    """000 §1.2: outside the L221-3 exception's 14 days the professional simply has no withdrawal
    right; the refusal cites it."""
    item = decide(opalook, opalook_request(days_after_delivery=15,
                                           items=[requested_item(reason="changed_mind")])).items[0]
    assert not item.eligible and not item.staff_review_required
    assert item.reasons[0].clause == "000 §1.2"
    assert "no right of withdrawal" in item.reasons[0].text


def test_professional_repair_without_a_defect_is_offered_by_no_ground(opalook):
    """000 §1.2: the L221-3 exception is a withdrawal (refund or exchange); no ground offers a
    repair for a change of mind, and the refusal says so rather than cite a deadline."""
    item = decide(opalook, opalook_request(days_after_delivery=3, items=[
        requested_item(reason="changed_mind", resolution="repair")])).items[0]
    assert not item.eligible and not item.staff_review_required
    assert [str(r) for r in item.refusals] == [
        "000 §1.2: no ground of this policy offers repair for changed_mind"]


def test_consumer_buyer_goes_to_staff(opalook):
    """000 §1.2 is written for professionals: a buyer marked consumer would have the Consumer Code
    withdrawal right (merchant default: a person confirms the buyer's status)."""
    item = decide(opalook, opalook_request(customer_type="consumer",
                                           items=[requested_item(reason="changed_mind")])).items[0]
    assert item.staff_review_required
    assert any("consumer" in p for p in item.staff_review_points)


def test_refund_is_limited_to_the_price_excluding_tax(opalook):
    """000 §2.1: the guarantee is limited to the amount excluding tax paid by the buyer."""
    item = decide(opalook, opalook_request()).items[0]
    assert item.paid == PAID
    assert item.refund_cap == PAID - TAX
    assert item.refund_amount == PAID - TAX


def test_excluding_tax_cap_scales_with_quantity(opalook):
    """000 §2.1 for 2 of 3 units: cap = 2 x (price - tax)."""
    request = opalook_request(lines=[order_line(quantity=3, unit_price=6_000, unit_tax=1_000)],
                              items=[requested_item(quantity=2)])
    item = decide(opalook, request).items[0]
    assert (item.paid, item.refund_cap, item.refund_amount) == (12_000, 10_000, 10_000)


@pytest.mark.parametrize("country", ["US", "GB", "PL", "JP"])
def test_buyer_outside_france_and_neighbours_is_refunded_without_return(opalook, country):
    """000 §1.5: returning a product from outside France or a neighbouring country is
    counterproductive: refunded without return, nothing shipped."""
    decision = decide(opalook, opalook_request(country=country))
    item = decision.items[0]
    assert item.resolution == Resolution.returnless_refund
    assert item.resolution_reason.clause == "000 §1.5" and country in item.resolution_reason.text
    assert not item.needs_return_shipment and not decision.needs_return_shipment
    assert item.return_shipping_paid_by == item.reshipping_paid_by == Party.nobody
    assert item.refund_amount == PAID - TAX


@pytest.mark.parametrize("country", ["FR", "BE", "LU", "DE", "CH", "IT", "MC", "ES", "AD"])
def test_france_and_neighbours_send_the_product_back(opalook, country):
    """000 §1.5: buyers in France or a neighbouring country return the product (000 §3.2.VI)."""
    item = decide(opalook, opalook_request(country=country)).items[0]
    assert item.resolution == Resolution.refund and item.needs_return_shipment


@pytest.mark.parametrize("shipping, returnless", [(12_001, True), (12_000, False), (500, False)])
def test_shipping_above_product_value_means_refund_without_return(opalook, shipping, returnless):
    """000 §1.5: "if the shipping costs exceed the value of the product, Opalook reserves the right
    to directly reimburse the product without exchange" — strictly more than the value paid."""
    item = decide(opalook, opalook_request(estimated_return_shipping=shipping)).items[0]
    assert (item.resolution == Resolution.returnless_refund) is returnless
    assert item.needs_return_shipment is not returnless


def test_shipping_is_compared_with_the_whole_parcel(opalook):
    """000 §1.5, choice (docs/policies.md): the parcel's shipping estimate is compared with the
    value of everything eligible in it — two items of 60.00 with 100.00 shipping still travel."""
    lines = [order_line("L1", unit_price=6_000), order_line("L2", unit_price=6_000)]
    request = opalook_request(lines=lines, estimated_return_shipping=10_000,
                              items=[requested_item("L1"), requested_item("L2")])
    assert all(i.resolution == Resolution.refund for i in decide(opalook, request).items)


def test_exchange_becomes_refund_without_return_when_shipping_exceeds_value(opalook):
    """000 §1.5 "reimburse the product without exchange": an exchange request too."""
    item = decide(opalook, opalook_request(estimated_return_shipping=20_000, items=[
        requested_item(resolution="exchange")])).items[0]
    assert item.resolution == Resolution.returnless_refund
    assert item.refund_amount == PAID - TAX


def test_exchange_is_reshipped_at_opalooks_cost(opalook):
    """000 §1.3 refunded or exchanged; 000 §3.3 shipping is Opalook's responsibility for a
    non-compliant product — both legs."""
    item = decide(opalook, opalook_request(items=[requested_item(resolution="exchange")])).items[0]
    assert item.resolution == Resolution.exchange and item.refund_amount == 0
    assert item.return_shipping_paid_by == item.reshipping_paid_by == Party.merchant


def test_repair_request_becomes_exchange(opalook):
    """000 §1.3 (refund or exchange) and 000 §2.2 (no commercial guarantee): no repair service."""
    item = decide(opalook, opalook_request(items=[requested_item(resolution="repair")])).items[0]
    assert item.resolution == Resolution.exchange
    assert item.resolution_reason.clause == "000 §1.3, §2.2"
    # the customer is told why too: the reason is among the item's reasons
    assert item.resolution_reason in item.reasons
    assert any("no repair service" in r.text for r in item.reasons)


def test_photos_of_a_defect_are_asked_for(opalook):
    """Merchant default, not in seed (000 §3.2.IV asks only for the reason): photos of a defect;
    without them a person asks the buyer."""
    item = decide(opalook, opalook_request(items=[requested_item(evidence=[])])).items[0]
    assert item.evidence_missing == ["photos"]
    assert item.staff_review_required
    ok = decide(opalook, opalook_request(items=[requested_item(reason="wrong_item", evidence=[])]))
    assert ok.items[0].evidence_required == []


def test_business_buyer_note_favours_dialogue(opalook):
    """000 §3.1 "We favor dialogue and are at your disposal ... before considering a hasty return":
    told to the buyer in the buyer's terms, not as an instruction to staff."""
    item = decide(opalook, opalook_request()).items[0]
    note = next(r for r in item.reasons if r.clause == "000 §3.1")
    assert note.text.startswith("we favour dialogue and are at your disposal")
    assert "contact the buyer" not in note.text


def test_missing_photos_are_asked_of_the_buyer_in_plain_words(opalook):
    """Merchant default (photos of a defect): the buyer reads "please send us: photos or videos of
    the item"; staff are told to ask for `photos`."""
    item = decide(opalook, opalook_request(items=[requested_item(evidence=[])])).items[0]
    assert "merchant default, not in seed: please send us: photos or videos of the item" in [
        str(r) for r in item.reasons]
    assert "merchant default, not in seed: ask the buyer for: photos" in item.staff_review_points


def test_no_fees_for_opalook(opalook):
    """Seed 000 states no fees."""
    request = opalook_request(lines=[merchant_line("opalook", engraved=True)])
    assert decide(opalook, request).items[0].fees == []
