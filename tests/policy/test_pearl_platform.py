"""Seed 003, the pearl jewelry platform: policies/pearl-platform.toml through the engine."""

from __future__ import annotations

import pytest

from returns.events import Resolution
from returns.policy.decision import Party
from returns.policy.engine import decide

from .builders import merchant_line, pearl_platform_request, requested_item

PAID = 15_000


def _ground_clause(item) -> list[str]:
    return [r.clause for r in item.reasons if "within" in r.text and "calendar days" in r.text]


# --- §II.1 / §II.2 quality, wrong delivery, logistics damage -------------------------------------------
@pytest.mark.parametrize("day, eligible", [(30, True), (31, False)])
def test_quality_problems_within_30_days_of_receipt(pearl, day, eligible):
    """003 §II.1: quality problems may be returned or exchanged within 30 days of receipt."""
    decision = decide(pearl, pearl_platform_request(days_after_delivery=day))
    item = decision.items[0]
    assert item.eligible is eligible
    assert item.quality_issue
    if eligible:
        assert _ground_clause(item) == ["003 §II.1"]
        assert item.refund_amount == PAID and item.fees == []
    else:
        # 003 §VI.3 late applications are not accepted "without reasonable proof of extension":
        # the policy leaves refusals to a person.
        assert item.reasons[0].clause == "003 §II.1, §II.2, §VI.3"
        assert not decision.auto_reject


def test_quality_application_needs_packaging_certificate_and_photos(pearl):
    """003 §II.1: "consumers need to provide the original packaging, quality inspection
    certificate, and clear photos/videos"; a missing one is asked for by staff (003 §III.1)."""
    item = decide(pearl, pearl_platform_request(items=[
        requested_item(evidence=["photos", "original_packaging"])])).items[0]
    assert set(item.evidence_required) == {"original_packaging", "certificate", "photos"}
    assert item.evidence_missing == ["certificate"]
    assert item.staff_review_required
    assert any(p.startswith("003 §III.1") for p in item.staff_review_points)


def test_quality_returns_are_at_the_platforms_cost(pearl):
    """003 §V.1.4 puts freight on the consumer only for non-quality issues, so quality returns and
    exchanges travel at the platform's cost (choice, docs/policies.md)."""
    item = decide(pearl, pearl_platform_request(items=[requested_item(resolution="exchange")])).items[0]
    assert item.return_shipping_paid_by == Party.merchant
    assert item.reshipping_paid_by == Party.merchant


@pytest.mark.parametrize("reason", ["wrong_item", "damaged_in_transit"])
def test_wrong_delivery_and_damage_round_trip_by_platform(pearl, reason):
    """003 §II.2: wrong delivery or logistics damage, within 30 days; round-trip freight borne by
    the platform."""
    item = decide(pearl, pearl_platform_request(days_after_delivery=25, items=[
        requested_item(reason=reason, resolution="exchange")])).items[0]
    assert item.eligible and _ground_clause(item) == ["003 §II.2"]
    assert item.return_shipping_paid_by == item.reshipping_paid_by == Party.merchant


def test_logistics_damage_needs_proof_at_signing(pearl):
    """003 §II.2: damage in transport "needs to provide proof of damage at the time of logistics
    signing"."""
    item = decide(pearl, pearl_platform_request(items=[
        requested_item(reason="damaged_in_transit", evidence=["photos"])])).items[0]
    assert item.evidence_missing == ["damage_proof"]
    assert item.staff_review_required


def test_repair_is_not_offered(pearl):
    """003 §II.1: quality problems are settled by return or exchange: a repair request becomes an
    exchange."""
    item = decide(pearl, pearl_platform_request(items=[requested_item(resolution="repair")])).items[0]
    assert item.resolution == Resolution.exchange
    assert item.resolution_reason.clause == "003 §II.1"


# --- §II.3 unconditional and §II.4 EU cooling-off ---------------------------------------------------------
def test_eu_consumer_cooling_off_with_free_return(pearl):
    """003 §II.4 / §V.2.4: EU consumers have 14 days from receipt to return without reason, without
    bearing the return freight."""
    item = decide(pearl, pearl_platform_request(days_after_delivery=14, items=[
        requested_item(reason="changed_mind")])).items[0]
    assert item.eligible and _ground_clause(item) == ["003 §II.4"]
    assert item.return_shipping_paid_by == Party.merchant
    assert item.refund_amount == PAID and item.fees == []


def test_a_cooling_off_return_bears_no_inspection_fee_and_the_consumer_is_told(pearl):
    """003 §II.4 "without bearing the return freight", §I.3 the EU Directive applies: the §V.1.4
    inspection fee is not open to staff on a cooling-off return (docs/policies.md), and the
    consumer reads why; after the 14 days (§II.3) the fee is possible again."""
    cooling = decide(pearl, pearl_platform_request(days_after_delivery=5, items=[
        requested_item(reason="changed_mind")])).items[0]
    assert cooling.inspection_fee_clause is None
    assert any(r.clause == "003 §II.4, §I.3" and "no inspection fee" in r.text
               for r in cooling.reasons)
    later = decide(pearl, pearl_platform_request(days_after_delivery=15, items=[
        requested_item(reason="changed_mind")])).items[0]
    assert later.inspection_fee_clause is not None and later.inspection_fee_clause.startswith(
        "003 §V.1.4")


def test_eu_cooling_off_exchange_is_reshipped_at_the_consumers_cost(pearl):
    """003 §II.4 / §V.2.4 waive the *return* freight in the cooling-off period; choice
    (docs/policies.md): the waiver names return freight only, so an exchange's reshipping stays
    the consumer's (003 §II.3) while the platform pays the return leg."""
    item = decide(pearl, pearl_platform_request(days_after_delivery=5, items=[
        requested_item(reason="changed_mind", resolution="exchange")])).items[0]
    assert item.eligible and item.resolution == Resolution.exchange
    assert _ground_clause(item) == ["003 §II.4"]
    assert item.return_shipping_paid_by == Party.merchant
    assert item.reshipping_paid_by == Party.customer
    assert any(r.clause == "003 §II.4, §V.2.4" and "reshipping paid by customer" in r.text
               for r in item.reasons)


def test_after_cooling_off_the_unconditional_return_applies(pearl):
    """003 §II.3: after the 14 days, unconditional return within 30 days, round-trip freight
    borne by the consumer."""
    item = decide(pearl, pearl_platform_request(days_after_delivery=15, items=[
        requested_item(reason="changed_mind")])).items[0]
    assert item.eligible and _ground_clause(item) == ["003 §II.3"]
    assert item.return_shipping_paid_by == Party.customer
    assert any(r.clause == "003 §II.4" and "requested by 2026-03-16" in r.text for r in item.reasons)


def test_unconditional_return_ends_at_30_days(pearl):
    """003 §II.3 within 30 days; 003 §VI.3 later applications are not accepted."""
    item = decide(pearl, pearl_platform_request(days_after_delivery=31, items=[
        requested_item(reason="style_preference")])).items[0]
    assert not item.eligible and item.reasons[0].clause == "003 §II.3, §VI.3"


@pytest.mark.parametrize("country, customer_type", [("US", "consumer"), ("CH", "consumer"),
                                                    ("DE", "business")])
def test_cooling_off_is_for_eu_consumers_only(pearl, country, customer_type):
    """003 §II.4 "consumers in the EU": others get the §II.3 unconditional return at their cost."""
    item = decide(pearl, pearl_platform_request(country=country, customer_type=customer_type,
                                                days_after_delivery=5, items=[
        requested_item(reason="changed_mind")])).items[0]
    assert item.eligible and _ground_clause(item) == ["003 §II.3"]
    assert item.return_shipping_paid_by == Party.customer


def test_unconditional_exchange_is_reshipped_at_consumers_cost(pearl):
    """003 §II.3 / §V.1.4: non-quality exchanges: round-trip logistics borne by the consumer."""
    item = decide(pearl, pearl_platform_request(country="US", items=[
        requested_item(reason="size_fit", resolution="exchange")])).items[0]
    assert item.return_shipping_paid_by == item.reshipping_paid_by == Party.customer


def test_exchange_needs_stock_confirmed(pearl):
    """003 §III.2: for exchanges the platform confirms inventory first; with none it converts to a
    return — a staff point at review (conversion is an override)."""
    item = decide(pearl, pearl_platform_request(items=[
        requested_item(reason="size_fit", resolution="exchange")])).items[0]
    assert item.eligible and item.staff_review_required
    assert any(p.startswith("003 §III.2") for p in item.staff_review_points)


def test_unconditional_conditions_are_stated(pearl):
    """003 §II.3: unworn, original packaging intact, accessories complete, no secondary processing;
    confirmed at inspection — stated on the decision."""
    item = decide(pearl, pearl_platform_request(days_after_delivery=20, items=[
        requested_item(reason="changed_mind")])).items[0]
    assert any(r.clause == "003 §II.3" and "unworn" in r.text for r in item.reasons)


# --- §IV special products, §I scope ----------------------------------------------------------------------
@pytest.mark.parametrize("attribute", ["customized", "engraved"])
def test_customized_excluded_from_cooling_off_and_unconditional(pearl, attribute):
    """003 §II.4 "(except customized products)" and 003 §IV.1: no unconditional return or exchange
    for customized or engraved pearl jewelry."""
    item = decide(pearl, pearl_platform_request(
        days_after_delivery=3, lines=[merchant_line("pearl-platform", **{attribute: True})],
        items=[requested_item(reason="changed_mind")])).items[0]
    assert not item.eligible
    assert item.reasons[0].clause == "003 §I.1, §IV.1"


def test_customized_quality_problem_gets_same_style_exchange_only(pearl):
    """003 §IV.1: "Only when there are quality problems can an exchange be applied for (same style
    and specification)": a refund request becomes an exchange; staff check the style."""
    item = decide(pearl, pearl_platform_request(
        lines=[merchant_line("pearl-platform", engraved=True)])).items[0]
    assert item.eligible and item.resolution == Resolution.exchange
    assert item.resolution_reason.clause == "003 §I.1, §IV.1"
    assert item.refund_amount == 0
    assert any("same style and specification" in p for p in item.staff_review_points)


@pytest.mark.parametrize("pearl_type", ["south_sea", "tahitian", "akoya"])
def test_precious_pearls_need_a_matching_certificate(pearl, pearl_type):
    """003 §IV.2: South Sea, Tahitian and Akoya pearls need proof that the original certificate
    matches the product number; processing only after re-inspection confirms it."""
    line = merchant_line("pearl-platform", pearl_type=pearl_type, certificate_number="AK-2291")
    item = decide(pearl, pearl_platform_request(lines=[line], items=[
        requested_item(reason="changed_mind", evidence=["photos", "original_packaging"])])).items[0]
    assert item.eligible
    assert "certificate" in item.evidence_required and item.evidence_missing == ["certificate"]
    assert item.staff_review_required
    assert any(p.startswith("003 §IV.2") and "re-inspection" in p for p in item.staff_review_points)
    assert any("AK-2291" in p for p in item.staff_review_points)
    assert any(c.startswith("003 §IV.2") for c in item.inspection_checks)


def test_precious_pearl_without_certificate_number_is_flagged(pearl):
    """003 §IV.2: the order line must carry the product number to match the certificate."""
    line = merchant_line("pearl-platform", pearl_type="akoya")
    item = decide(pearl, pearl_platform_request(lines=[line])).items[0]
    assert any("no certificate number" in p for p in item.staff_review_points)


def test_freshwater_pearls_need_no_certificate_check(pearl):
    """003 §IV.2 names South Sea, Tahitian and Akoya only."""
    item = decide(pearl, pearl_platform_request(days_after_delivery=20, items=[
        requested_item(reason="changed_mind", evidence=["photos", "original_packaging"])])).items[0]
    assert item.eligible and not item.staff_review_required
    assert not any(c.startswith("003 §IV.2") for c in item.inspection_checks)


def test_marked_non_returnable_is_outside_the_policy(pearl):
    """003 §I.1: products clearly marked non-returnable/exchangeable are excluded; a quality claim
    on one goes to a person (legal guarantee)."""
    line = merchant_line("pearl-platform", final_sale=True)
    refused = decide(pearl, pearl_platform_request(lines=[line], items=[
        requested_item(reason="changed_mind")])).items[0]
    assert not refused.eligible and refused.reasons[0].clause == "003 §I.1"
    quality = decide(pearl, pearl_platform_request(lines=[line])).items[0]
    assert quality.staff_review_required


def test_secondary_processing_blocks_unconditional_return(pearl):
    """003 §II.3: pearl jewelry that has undergone secondary processing (ring size adjustment,
    re-inlay, length adjustment) cannot be returned unconditionally."""
    line = merchant_line("pearl-platform", third_party_modified=True)
    item = decide(pearl, pearl_platform_request(lines=[line], items=[
        requested_item(reason="changed_mind")])).items[0]
    assert not item.eligible and item.reasons[0].clause == "003 §II.3"


def test_no_fee_is_invented_for_re_inspection(pearl):
    """003 §V.1.4 mentions "possible quality inspection fees" without an amount: none is charged
    automatically; the decision says one may be charged (staff add any amount by hand)."""
    item = decide(pearl, pearl_platform_request(country="US", days_after_delivery=20, items=[
        requested_item(reason="changed_mind")])).items[0]
    assert item.fees == [] and item.refund_amount == PAID
    assert any(r.clause == "003 §V.1.4" and "fee" in r.text for r in item.reasons)
