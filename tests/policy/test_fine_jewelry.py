"""Seed 004, the fine jewelry store: policies/fine-jewelry.toml through the engine."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from returns.events import Resolution, ReturnRequested
from returns.policy.decision import FeeKind, Party
from returns.policy.engine import decide

from .builders import (
    fine_jewelry_request,
    merchant_line,
    order_line,
    requested_item,
)

PAID = 50_000  # the builder's ring, USD 500.00


def _clauses(item) -> str:
    return " | ".join(str(r) for r in item.reasons)


# --- time limits: 004 §2.1, §2.2, §2 note, §8 --------------------------------------------------------
def test_return_on_day_15_is_accepted(fine):
    """004 §2.2: a return may be applied for within 15 calendar days from signature."""
    item = decide(fine, fine_jewelry_request(days_after_delivery=15,
                                             items=[requested_item(reason="size_fit")])).items[0]
    assert item.eligible and item.resolution == Resolution.refund
    assert "004 §2.2" in _clauses(item)


def test_return_on_day_16_is_refused_and_auto_rejected(fine):
    """004 §2.2: "applications exceeding 15 days will not be accepted" — and with nothing for a
    person to look at, the policy's auto_reject_ineligible rejects it (004 §2.1, §2.2)."""
    decision = decide(fine, fine_jewelry_request(days_after_delivery=16,
                                                 items=[requested_item(reason="size_fit")]))
    item = decision.items[0]
    assert not item.eligible and item.resolution is None and item.refund_amount == 0
    assert any(r.clause == "004 §2.2" and "2026-03-17" in r.text for r in item.reasons)
    assert decision.auto_reject
    assert decision.auto_reject_reasons[0].clause == "004 §2.1, §2.2, §5"


@pytest.mark.parametrize("day, eligible", [(30, True), (31, False)])
def test_exchange_period_is_30_days(fine, day, eligible):
    """004 §2.1: exchanges within 30 calendar days from signature; later ones are not accepted."""
    request = fine_jewelry_request(days_after_delivery=day,
                                   items=[requested_item(reason="size_fit", resolution="exchange")])
    item = decide(fine, request).items[0]
    assert item.eligible is eligible
    assert ("004 §2.1" in _clauses(item))


def test_request_date_is_taken_in_the_merchants_time_zone(fine):
    """004 §2 note: days count by calendar date; the merchant's date (Shanghai) decides, not UTC.
    23:30 on 17 March in Shanghai is day 15 (accepted); 00:30 on 18 March is day 16 (refused),
    though both are 17 March in UTC."""
    tz = ZoneInfo("Asia/Shanghai")
    base = fine_jewelry_request(items=[requested_item(reason="size_fit")])
    late_evening = base.model_copy(update={"occurred_at": datetime(2026, 3, 17, 23, 30, tzinfo=tz)})
    after_midnight = base.model_copy(update={"occurred_at": datetime(2026, 3, 18, 0, 30, tzinfo=tz)})
    assert late_evening.occurred_at.astimezone(ZoneInfo("UTC")).day == 17
    assert after_midnight.occurred_at.astimezone(ZoneInfo("UTC")).day == 17
    assert decide(fine, late_evening).items[0].eligible
    assert not decide(fine, after_midnight).items[0].eligible


def test_quality_refund_after_15_days_becomes_a_free_exchange(fine):
    """004 §2.1 + §4.3: past the 15-day return period, a quality issue inside the 30-day exchange
    period is granted as a free exchange, and the decision says why."""
    item = decide(fine, fine_jewelry_request(days_after_delivery=20)).items[0]
    assert item.eligible and item.requested_resolution == Resolution.refund
    assert item.resolution == Resolution.exchange
    assert item.resolution_reason is not None and item.resolution_reason.clause == "004 §2.1, §4.3"
    assert item.fees == [] and item.refund_amount == 0
    assert item.reshipping_paid_by == Party.merchant


def test_warranty_repairs_quality_issues_for_a_year(fine):
    """004 §8: 1-year free warranty from signature for quality issues: a defect on day 200 is
    repaired, shipping both ways paid by the store."""
    item = decide(fine, fine_jewelry_request(days_after_delivery=200)).items[0]
    assert item.eligible and item.resolution == Resolution.repair
    assert item.resolution_reason.clause == "004 §8"
    assert item.refund_amount == 0 and item.fees == []
    assert item.return_shipping_paid_by == Party.merchant
    assert item.reshipping_paid_by == Party.merchant


def test_warranty_ends_after_a_year(fine):
    """004 §8 (1-year warranty) and 004 §2.1/§2.2: after 365 days nothing is offered; auto-reject."""
    decision = decide(fine, fine_jewelry_request(days_after_delivery=366))
    assert not decision.items[0].eligible
    assert decision.auto_reject
    assert any(r.clause == "004 §8" for r in decision.items[0].reasons)


def test_missing_signature_date_counts_from_order_and_asks_a_person(fine):
    """004 §2 note: the timeframe is based on logistics signature records; without one the days
    count from the order date and staff must verify."""
    decision = decide(fine, fine_jewelry_request(delivered=False, days_after_delivery=12,
                                                 items=[requested_item(reason="size_fit")]))
    item = decision.items[0]
    # ordered 4 days before delivery: day 16 from the order date -> refused, but a person checks
    assert not item.eligible
    assert item.staff_review_required
    assert any(p.startswith("004 §2 note") for p in item.staff_review_points)
    assert not decision.auto_reject


# --- repair requests on quality grounds: 004 §8, §6.1.2, §4.3, §5.2 ----------------------------------------
@pytest.mark.parametrize("reason", ["wrong_item", "not_as_described", "damaged_in_transit"])
def test_repair_of_a_product_that_differs_or_was_damaged_becomes_a_free_exchange(fine, reason):
    """004 §6.1.2 / §4.3 (choice, docs/policies.md): a product that is not the one ordered (or was
    damaged in transit, merchant default) is replaced, not repaired: a repair request within the
    30-day exchange period (004 §2.1) is granted as the free exchange, the store paying both legs,
    and the decision says why."""
    item = decide(fine, fine_jewelry_request(days_after_delivery=3, items=[
        requested_item(reason=reason, resolution="repair")])).items[0]
    assert item.eligible and item.resolution == Resolution.exchange
    assert item.requested_resolution == Resolution.repair
    assert "replaced, not repaired" in item.resolution_reason.text
    assert item.resolution_reason in item.reasons
    assert item.fees == [] and item.refund_amount == 0
    assert item.return_shipping_paid_by == item.reshipping_paid_by == Party.merchant
    assert not any("outside these periods" in r.text for r in item.reasons)


def test_repair_of_a_defect_stays_a_warranty_repair(fine):
    """004 §8: a defect is repaired under the 1-year warranty even within the return period — the
    repair asked for is granted, not converted to an exchange."""
    item = decide(fine, fine_jewelry_request(days_after_delivery=3, items=[
        requested_item(resolution="repair")])).items[0]
    assert item.eligible and item.resolution == Resolution.repair
    assert item.resolution_reason is None


def test_late_repair_of_a_wrong_item_cites_the_exchange_period(fine):
    """004 §2.1: after 30 days the exchange that replaces a wrong item can no longer be asked;
    the refusal gives the date, and the warranty (004 §8) covers defects only."""
    item = decide(fine, fine_jewelry_request(days_after_delivery=40, items=[
        requested_item(reason="wrong_item", resolution="repair")])).items[0]
    assert not item.eligible
    assert any(r.clause == "004 §2.1" and "2026-04-01" in r.text for r in item.refusals)


def test_no_ground_offering_the_resolution_says_so_not_the_window(fine):
    """The refusal names the real cause: when no ground of the policy offers the resolution for
    the reason at all, the customer is told that, not "outside these periods" (004 §2.1/§2.2).
    The policy of the audit (no repair-to-exchange on 004 §6.1.2) reproduces the case."""
    grounds = [g.model_copy(update={"instead": {Resolution.refund: Resolution.exchange},
                                    "instead_reasons": {}})
               if g.id == "differs_from_order" else g for g in fine.grounds]
    policy = fine.model_copy(update={"grounds": grounds})
    decision = decide(policy, fine_jewelry_request(days_after_delivery=3, items=[
        requested_item(reason="wrong_item", resolution="repair")]))
    item = decision.items[0]
    assert not item.eligible
    assert [r.text for r in item.refusals] == ["no ground of this policy offers repair for wrong_item"]
    assert item.refusals[0].clause == "004 §6.1.2, §4.2, §4.3"
    assert not any("outside these periods" in r.text for r in item.reasons)


# --- quality definitions: 004 §6.1 / §6.2 --------------------------------------------------------------
@pytest.mark.parametrize("reason, quality", [
    ("defective", True), ("not_as_described", True), ("wrong_item", True),
    ("changed_mind", False), ("size_fit", False), ("style_preference", False),
])
def test_quality_issue_definitions(fine, reason, quality):
    """004 §6.1 (broken prongs, differences from the description, factory defects) are quality
    issues; 004 §6.2.1 personal preference is not."""
    item = decide(fine, fine_jewelry_request(items=[requested_item(reason=reason)])).items[0]
    assert item.quality_issue is quality
    expected = "004 §6.1" if quality else "004 §6.2.1"
    assert item.reasons[0].clause.startswith(expected)


def test_transit_damage_needs_damage_proof_and_a_person(fine):
    """Seed 004 is silent on transport damage (§6.1.3 excludes it from factory defects): merchant
    default — treated as a quality issue, damage proof required, checked by staff."""
    evidence = ["photos", "logistics_signature"]
    item = decide(fine, fine_jewelry_request(items=[
        requested_item(reason="damaged_in_transit", evidence=evidence)])).items[0]
    assert item.eligible and item.quality_issue
    assert "damage_proof" in item.evidence_missing
    assert item.staff_review_required


# --- fees and shipping: 004 §3.4, §4.1-§4.5 ---------------------------------------------------------------
def test_non_quality_return_deducts_30_percent_and_customer_ships(fine):
    """004 §4.1: 30% of the order amount (the item's paid amount, see docs) is deducted;
    004 §3.4: the customer pays the return shipping."""
    item = decide(fine, fine_jewelry_request(items=[requested_item(reason="style_preference")])).items[0]
    assert [(f.kind, f.amount, f.basis_points) for f in item.fees] == [
        (FeeKind.restocking, 15_000, 3000)]
    assert item.fees[0].reason.clause == "004 §4.1"
    assert item.refund_amount == PAID - 15_000
    assert item.return_shipping_paid_by == Party.customer
    assert item.reshipping_paid_by == Party.nobody


def test_fee_is_on_the_returned_units_only(fine):
    """004 §4.1 "30% of the order amount": choice — the amount paid for the returned units, not
    the whole order (docs/policies.md). 1 of 3 units at 100.00 returned: fee 30.00."""
    request = fine_jewelry_request(
        lines=[order_line("L1", quantity=3, unit_price=10_000), order_line("L2", unit_price=90_000)],
        items=[requested_item("L1", reason="changed_mind", quantity=1)])
    item = decide(fine, request).items[0]
    assert item.paid == 10_000
    assert item.fees_total == 3_000 and item.refund_amount == 7_000


def test_quality_return_is_a_full_refund_with_merchant_shipping(fine):
    """004 §4.2: quality returns get a full refund with no fees; 004 §3.4: return shipping borne
    by the store (reimbursed on courier documents)."""
    item = decide(fine, fine_jewelry_request()).items[0]
    assert item.fees == [] and item.refund_amount == PAID == item.refund_cap
    assert item.return_shipping_paid_by == Party.merchant
    assert any(r.clause == "004 §3.4, §4.2" for r in item.reasons)


def test_quality_exchange_is_free_and_store_reships(fine):
    """004 §4.3: quality exchanges are free; the re-shipping cost is borne by the store."""
    item = decide(fine, fine_jewelry_request(items=[requested_item(resolution="exchange")])).items[0]
    assert item.eligible and item.resolution == Resolution.exchange
    assert item.fees == [] and item.refund_amount == 0
    assert item.reshipping_paid_by == Party.merchant


def test_non_quality_exchange_has_no_fee_but_customer_pays_reshipping(fine):
    """004 §4.4: no 30% fee for non-quality exchanges; re-shipping borne by the customer, and any
    price difference is paid first. 004 §3.6's "no additional shipping cost" is read as the
    general rule that §4.4 narrows for non-quality exchanges (docs/policies.md, "Where the seeds
    contradict themselves or the product")."""
    item = decide(fine, fine_jewelry_request(items=[
        requested_item(reason="size_fit", resolution="exchange")])).items[0]
    assert item.eligible and item.fees == [] and item.refund_amount == 0
    assert item.return_shipping_paid_by == Party.customer
    assert item.reshipping_paid_by == Party.customer
    assert any(r.clause == "004 §4.4" and "price difference" in r.text for r in item.reasons)


@pytest.mark.parametrize("attribute", ["engraved", "customized"])
def test_personalised_exchange_costs_50_percent(fine, attribute):
    """004 §4.5: exchanging an engraved/personalised product costs 50% of the order amount."""
    request = fine_jewelry_request(lines=[merchant_line("fine-jewelry", **{attribute: True})],
                                   items=[requested_item(reason="size_fit", resolution="exchange")])
    item = decide(fine, request).items[0]
    assert item.eligible
    assert [(f.kind, f.amount) for f in item.fees] == [(FeeKind.personalisation, 25_000)]
    assert item.refund_amount == 0


# --- non-returnable items: 004 §5 ------------------------------------------------------------------------
def test_custom_product_cannot_be_returned_for_non_quality_but_staff_may_approve(fine):
    """004 §5.2 / §4.5: custom-designed products: except for quality issues, returns are not
    allowed in principle (only exchanges) — "if a return is specially approved after review" it
    costs 30%: so the request is not eligible, but goes to staff instead of being auto-rejected,
    with the terms it would get if accepted (004 §3.4: the customer ships)."""
    decision = decide(fine, fine_jewelry_request(lines=[merchant_line("fine-jewelry", engraved=True)],
                                                 items=[requested_item(reason="size_fit")]))
    item = decision.items[0]
    assert not item.eligible and item.fees == [] and item.refund_amount == 0
    assert item.reasons[0].clause == "004 §5.2, §4.5"
    assert item.staff_review_required and not decision.auto_reject
    assert any(p.startswith("004 §4.5") for p in item.staff_review_points)
    assert any(r.clause == "004 §3.4, §4.4" and r.text.startswith("if accepted: refund")
               for r in item.reasons)


def test_late_custom_return_is_auto_rejected_without_special_approval(fine):
    """004 §2.2 (15-day return period) before 004 §4.5: a custom product's return asked on day 16
    could not be accepted even for a normal product, so nobody is asked to approve it."""
    decision = decide(fine, fine_jewelry_request(days_after_delivery=16,
                                                 lines=[merchant_line("fine-jewelry", engraved=True)],
                                                 items=[requested_item(reason="size_fit")]))
    item = decision.items[0]
    assert not item.eligible and not item.staff_review_required
    assert decision.auto_reject
    assert [r.clause for r in item.refusals][:2] == ["004 §5.2, §4.5", "004 §2.1, §2.2"]


def test_custom_product_non_quality_exchange_needs_no_special_approval(fine):
    """004 §4.5 / §5.2: exchanges of custom products are allowed (50% fee): no §4.5 review point."""
    item = decide(fine, fine_jewelry_request(lines=[merchant_line("fine-jewelry", engraved=True)],
                                             items=[requested_item(reason="size_fit",
                                                                   resolution="exchange")])).items[0]
    assert item.eligible and not any(p.startswith("004 §4.5") for p in item.staff_review_points)


def test_custom_product_quality_refund_becomes_exchange(fine):
    """004 §5.2: for quality issues custom products get repair, replacement or free exchange only,
    not a refund: a refund request is granted as a free exchange."""
    item = decide(fine, fine_jewelry_request(lines=[merchant_line("fine-jewelry", customized=True)])
                  ).items[0]
    assert item.eligible and item.resolution == Resolution.exchange
    assert item.resolution_reason.clause == "004 §5.2, §4.5"
    assert item.fees == [] and item.reshipping_paid_by == Party.merchant


def test_custom_product_quality_repair_is_granted(fine):
    """004 §5.2: "for quality issues, only repair, replacement or free exchange" — repair allowed."""
    item = decide(fine, fine_jewelry_request(lines=[merchant_line("fine-jewelry", customized=True)],
                                             items=[requested_item(resolution="repair")])).items[0]
    assert item.eligible and item.resolution == Resolution.repair


@pytest.mark.parametrize("material", ["platinum_950", "black_gold", "salt_and_pepper_diamond",
                                      "lab_grown_diamond"])
def test_special_materials_are_not_returnable_except_quality(fine, material):
    """004 §5.3: solid 950 platinum, black gold, salt and pepper diamonds, lab-grown diamonds:
    no return or exchange, even on day 1, except for quality issues."""
    line = merchant_line("fine-jewelry", material=material)
    refused = decide(fine, fine_jewelry_request(days_after_delivery=1, lines=[line], items=[
        requested_item(reason="changed_mind", resolution="exchange")])).items[0]
    assert not refused.eligible and refused.reasons[0].clause == "004 §5.3"
    defective = decide(fine, fine_jewelry_request(lines=[line])).items[0]
    assert defective.eligible and defective.resolution == Resolution.refund


def test_third_party_modified_is_refused_and_quality_is_checked(fine):
    """004 §5.4: products modified by a third party are not returnable except for quality issues;
    a quality claim on them goes to staff to check the work did not cause it."""
    line = merchant_line("fine-jewelry", third_party_modified=True)
    refused = decide(fine, fine_jewelry_request(lines=[line], items=[
        requested_item(reason="style_preference")])).items[0]
    assert not refused.eligible and refused.reasons[0].clause == "004 §5.4"
    quality = decide(fine, fine_jewelry_request(lines=[line])).items[0]
    assert quality.eligible and quality.staff_review_required
    assert any(p.startswith("004 §5.4") for p in quality.staff_review_points)


def test_previously_exchanged_item_accepts_no_second_exchange(fine):
    """004 §5.6: products already exchanged accept no secondary return/exchange (quality excepted)."""
    line = merchant_line("fine-jewelry", previously_exchanged=True)
    refused = decide(fine, fine_jewelry_request(lines=[line], items=[
        requested_item(reason="size_fit", resolution="exchange")])).items[0]
    assert not refused.eligible and refused.reasons[0].clause == "004 §5.6"
    assert decide(fine, fine_jewelry_request(lines=[line])).items[0].eligible


# --- customs and wrong addresses: 004 §7.2, §7.3 ------------------------------------------------------------
def test_customs_duties_are_the_customers_when_the_parcel_crosses_a_border(fine):
    """004 §7.2: tariffs, VAT and other customs fees of returned/exchanged products are borne by
    the customer: stated for a US buyer of the Chinese store, not for a buyer in China."""
    abroad = decide(fine, fine_jewelry_request()).items[0]
    assert any(r.clause == "004 §7.2" and "customs" in r.text for r in abroad.reasons)
    home = {"line1": "88 Nanjing Road", "city": "Shanghai", "postal_code": "200001", "country": "CN"}
    domestic = decide(fine, fine_jewelry_request(country="CN", shipping_address=home)).items[0]
    assert not any(r.clause == "004 §7.2" for r in domestic.reasons)


def test_reshipment_to_a_wrong_address_is_at_the_customers_cost(fine):
    """004 §7.3: a product returned or lost because of an incorrect address or an absent recipient:
    secondary shipping and losses are the customer's — stated for exchanges and repairs, which the
    store ships to the customer, not for refunds."""
    exchange = decide(fine, fine_jewelry_request(items=[requested_item(resolution="exchange")])).items[0]
    assert any(r.clause == "004 §7.3" and "secondary shipping" in r.text for r in exchange.reasons)
    refund = decide(fine, fine_jewelry_request()).items[0]
    assert not any(r.clause == "004 §7.3" for r in refund.reasons)


def test_final_sale_is_treated_like_the_non_returnable_items_of_section_5(fine):
    """Merchant default, not in seed (004 §5 "not eligible for return or exchange (except for
    quality issues)"): an item sold as final sale is refused for a non-quality reason, even on
    day 1, and auto-rejected; a quality issue is still accepted."""
    line = merchant_line("fine-jewelry", final_sale=True)
    decision = decide(fine, fine_jewelry_request(days_after_delivery=1, lines=[line], items=[
        requested_item(reason="changed_mind", resolution="exchange")]))
    refused = decision.items[0]
    assert not refused.eligible and not refused.staff_review_required
    assert refused.refusals[0].clause == "merchant default, not in seed (004 §5)"
    assert decision.auto_reject
    quality = decide(fine, fine_jewelry_request(lines=[line])).items[0]
    assert quality.eligible and quality.resolution == Resolution.refund


# --- evidence, address, comparison purchase: 004 §2.4, §2.5, §7.1 -------------------------------------------
def test_documents_required_at_application(fine):
    """004 §2.4: photos of the product and logistics signature records are required; missing ones
    are listed and a person asks for them (no auto-reject)."""
    decision = decide(fine, fine_jewelry_request(items=[requested_item(evidence=["photos"])]))
    item = decision.items[0]
    assert item.evidence_required == ["photos", "logistics_signature"]
    assert item.evidence_missing == ["logistics_signature"]
    assert item.staff_review_required
    assert any(p.startswith("004 §2.4") and "logistics_signature" in p
               for p in item.staff_review_points)
    # the customer reads what to send in plain words, not the staff instruction
    assert any(str(r) == "004 §2.4: please send us with your application: the carrier's delivery "
                         "signature record" for r in item.reasons)
    assert not any("ask the customer" in r.text for r in item.reasons)


@pytest.mark.parametrize("line1, city", [
    ("P.O. Box 123", "Springfield"), ("PO Box 77", "Austin"), ("p o box 5", "Reno"),
    ("Post Office Box 9", "Tulsa"), ("Unit 2050 Box 4190", "APO"), ("PSC 802 Box 74", "FPO"),
    ("Unit 8400", "DPO"),
])
def test_po_box_and_military_addresses_are_refused(fine, line1, city):
    """004 §2.5: P.O. boxes, APO/FPO/DPO and other non-physical addresses are not accepted for
    return and exchange shipments: the problem is reported and a person asks for a street address."""
    address = {"line1": line1, "city": city, "postal_code": "09012", "country": "US"}
    decision = decide(fine, fine_jewelry_request(shipping_address=address))
    assert decision.address_problems and decision.address_problems[0].clause == "004 §2.5"
    item = decision.items[0]
    assert item.staff_review_required
    assert any(p.startswith("004 §2.5") for p in item.staff_review_points)


@pytest.mark.parametrize("line1", ["350 Fifth Avenue", "12 Box Hill Road", "5 Apollo Street",
                                   "1 Boxwood Lane", "Depot Road 3"])
def test_street_addresses_pass(fine, line1):
    """004 §2.5: a valid physical street address is accepted (no false P.O. box matches)."""
    address = {"line1": line1, "city": "Springfield", "postal_code": "12345", "country": "US"}
    decision = decide(fine, fine_jewelry_request(shipping_address=address))
    assert decision.address_problems == []
    assert not decision.items[0].staff_review_required


def _two_rings(**item_kw) -> ReturnRequested:
    lines = [merchant_line("fine-jewelry", "L1", title="Ring size 52"),
             merchant_line("fine-jewelry", "L2", title="Ring size 54")]
    return fine_jewelry_request(lines=lines, items=[requested_item("L1", **item_kw)])


def test_comparison_purchase_is_flagged_for_staff(fine):
    """004 §7.1: buying several items and keeping one, returning the rest, is comparison
    purchasing: staff decide (refuse, or flag it at approval to double the fee)."""
    item = decide(fine, _two_rings(reason="size_fit")).items[0]
    assert item.eligible and item.staff_review_required
    assert any(p.startswith("004 §7.1") for p in item.staff_review_points)
    assert item.fees_total == 15_000  # 30% until staff flag it (test_overrides)


def test_returning_everything_or_a_defect_is_not_comparison_purchasing(fine):
    """004 §7.1 applies to keeping one and returning the rest for non-quality reasons: returning a
    defect, or every unit, is not flagged."""
    assert not decide(fine, _two_rings(reason="defective")).items[0].staff_review_required
    lines = [merchant_line("fine-jewelry", "L1"), merchant_line("fine-jewelry", "L2")]
    both = fine_jewelry_request(lines=lines, items=[requested_item("L1", reason="size_fit"),
                                                    requested_item("L2", reason="size_fit")])
    assert not any(i.staff_review_required for i in decide(fine, both).items)


def test_non_quality_repair_is_quoted_by_staff(fine):
    """004 §8: repairs for non-quality issues incur fees quoted by customer service: a person."""
    decision = decide(fine, fine_jewelry_request(days_after_delivery=100, items=[
        requested_item(reason="style_preference", resolution="repair")]))
    item = decision.items[0]
    assert not item.eligible and item.staff_review_required
    assert any(p.startswith("004 §8") for p in item.staff_review_points)
    assert not decision.auto_reject


def test_mixed_return_is_not_auto_rejected(fine):
    """004 §2.1/§2.2 auto-reject applies only when nothing is eligible: one eligible item keeps the
    whole return open."""
    lines = [merchant_line("fine-jewelry", "L1"),
             merchant_line("fine-jewelry", "L2", material="platinum_950")]
    decision = decide(fine, fine_jewelry_request(lines=lines, items=[
        requested_item("L1"), requested_item("L2", reason="changed_mind")]))
    assert [i.eligible for i in decision.items] == [True, False]
    assert not decision.auto_reject
    assert decision.refund_total == PAID
