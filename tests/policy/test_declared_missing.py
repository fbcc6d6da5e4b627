"""Evidence the customer declares missing (`RequestedItem.evidence_declared_missing`), decided
at request time where the policy's text is clear (issue 18 point 4)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from returns.events import RequestedItem
from returns.policy.engine import decide

from .builders import fine_jewelry_request, pearl_platform_request, requested_item



def test_the_event_says_declared_missing_apart_from_not_uploaded():
    """The contract: a kind is uploaded or declared missing, never both (field named)."""
    item = RequestedItem.model_validate(requested_item(
        evidence=["photos"], declared_missing=["certificate"]))
    assert item.evidence_declared_missing == ["certificate"]
    with pytest.raises(ValidationError, match="evidence_declared_missing: certificate is also in "
                                              "evidence"):
        RequestedItem.model_validate(requested_item(evidence=["certificate"],
                                                    declared_missing=["certificate"]))


def test_pearl_unconditional_return_without_packaging_is_refused(pearl):
    """003 §VI.2 "If the original packaging, certificates, or labels … are missing or damaged,
    affecting secondary sales, unconditional return and exchange are not supported"."""
    item = decide(pearl, pearl_platform_request(country="US", currency="USD", days_after_delivery=20,
                                                items=[requested_item(
        reason="changed_mind", evidence=["photos"],
        declared_missing=["original_packaging"])])).items[0]
    assert not item.eligible and not item.staff_review_required
    assert item.refusals[0].clause == "003 §VI.2"
    assert "you told us you no longer have: photos of the original packaging" in \
        item.refusals[0].text


def test_pearl_cooling_off_is_not_barred_by_missing_packaging_but_a_person_sees_it(pearl):
    """003 §II.4 with §I.3 (the EU Directive): missing packaging is not a bar to withdrawal, so
    §VI.2 is not applied on that ground; staff see what was declared."""
    item = decide(pearl, pearl_platform_request(days_after_delivery=5, items=[requested_item(
        reason="changed_mind", evidence=["photos"],
        declared_missing=["original_packaging"])])).items[0]
    assert item.eligible and item.staff_review_required
    assert any("declares missing: original_packaging" in p for p in item.staff_review_points)


def test_pearl_quality_claim_is_not_refused_for_a_lost_certificate(pearl):
    """003 §VI.2 bars the *unconditional* return only; a quality claim (§II.1) goes to a person."""
    item = decide(pearl, pearl_platform_request(items=[requested_item(
        evidence=["photos", "original_packaging"], declared_missing=["certificate"])])).items[0]
    assert item.eligible and item.staff_review_required


@pytest.mark.parametrize("gone, clause", [("original_packaging", "004 §5.5"),
                                          ("certificate", "004 §2.3")])
def test_fine_jewelry_non_quality_return_without_packaging_or_card_is_auto_rejected(
        fine, gone, clause):
    """004 §5.5 (missing packaging, tags or labels: not returnable except for quality issues),
    004 §2.3 (documents complete); with nothing else eligible, 004 §2.1/§2.2 auto-reject."""
    decision = decide(fine, fine_jewelry_request(items=[requested_item(
        reason="size_fit", evidence=["photos", "logistics_signature"],
        declared_missing=[gone])]))
    item = decision.items[0]
    assert not item.eligible and item.refusals[0].clause == clause
    assert decision.auto_reject


def test_fine_jewelry_quality_claim_with_packaging_gone_is_still_decided(fine):
    """004 §5 "except for quality issues": a defect is still eligible; staff see the declaration."""
    item = decide(fine, fine_jewelry_request(items=[requested_item(
        evidence=["photos", "logistics_signature"], declared_missing=["original_packaging"])]
    )).items[0]
    assert item.eligible and any("declares missing" in p for p in item.staff_review_points)
