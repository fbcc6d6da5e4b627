"""Properties that hold for every merchant and every request (hypothesis)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returns.actions import ItemOverride
from returns.events import EvidenceKind, Resolution, ReturnReason, ReturnRequested
from returns.policy.engine import decide
from returns.policy.overrides import apply_overrides
from returns.policy.refunds import refund_for_accepted
from returns.policy.registry import PolicyRegistry

from .builders import POLICIES_DIR

REGISTRY = PolicyRegistry.load(POLICIES_DIR)
MATERIALS = [None, "gold_18k", "silver_925", "platinum_950", "black_gold",
             "salt_and_pepper_diamond", "lab_grown_diamond"]
PEARLS = [None, "freshwater", "akoya", "south_sea", "tahitian"]
COUNTRIES = ["FR", "BE", "DE", "IT", "ES", "PL", "GB", "CH", "US", "CN", "JP"]
LINE1 = ["1 Main Street", "P.O. Box 12", "PSC 802 Box 74", "11 rue Alix"]
CATEGORIES = [None, "ring", "necklace"]


@st.composite
def lines(draw, line_id: str) -> dict:
    price = draw(st.integers(min_value=0, max_value=5_000_000))
    return {
        "line_id": line_id, "sku": f"S-{line_id}", "title": f"Item {line_id}",
        "quantity": draw(st.integers(min_value=1, max_value=5)),
        "unit_price": price,
        "unit_tax": draw(st.integers(min_value=0, max_value=price)),
        "attributes": {
            "category": draw(st.sampled_from(CATEGORIES)),
            "customized": draw(st.booleans()), "engraved": draw(st.booleans()),
            "material": draw(st.sampled_from(MATERIALS)),
            "pearl_type": draw(st.sampled_from(PEARLS)),
            "certificate_number": draw(st.sampled_from([None, "C-1"])),
            "final_sale": draw(st.booleans()),
            "previously_exchanged": draw(st.booleans()),
            "third_party_modified": draw(st.booleans()),
        },
    }


@st.composite
def requests(draw) -> ReturnRequested:
    merchant_id = draw(st.sampled_from(REGISTRY.merchant_ids))
    order_lines = [draw(lines(f"L{i}")) for i in range(draw(st.integers(1, 3)))]
    chosen = draw(st.lists(st.sampled_from(order_lines), min_size=1, max_size=len(order_lines),
                           unique_by=lambda ln: ln["line_id"]))
    items = []
    for ln in chosen:
        resolution = draw(st.sampled_from(["refund", "exchange", "repair"]))
        items.append({
            "line_id": ln["line_id"],
            "quantity": draw(st.integers(1, ln["quantity"])),
            "reason": draw(st.sampled_from([r.value for r in ReturnReason])),
            "resolution": resolution,
            "exchange_for": "size 54" if resolution == "exchange" else None,
            "evidence": draw(st.lists(st.sampled_from([e.value for e in EvidenceKind]),
                                      unique=True)),
        })
    placed = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc) + timedelta(
        minutes=draw(st.integers(0, 60 * 24 * 60)))
    delivered = placed + timedelta(hours=draw(st.integers(0, 24 * 20)))
    requested = delivered + timedelta(minutes=draw(st.integers(-60 * 24, 60 * 24 * 420)))
    lines_total = sum(ln["unit_price"] * ln["quantity"] for ln in order_lines)
    shipping = draw(st.integers(0, 5_000))
    # Payments may be less than the goods (an order discount) or exactly the total.
    paid = draw(st.one_of(st.just(lines_total + shipping),
                          st.integers(min_value=1, max_value=max(1, lines_total + shipping))))
    country = draw(st.sampled_from(COUNTRIES))
    return ReturnRequested.model_validate({
        "event_id": "evt-prop", "occurred_at": requested.isoformat(), "return_id": "R-prop",
        "merchant_id": merchant_id,
        "order": {
            "order_id": "O-prop", "currency": "EUR", "placed_at": placed.isoformat(),
            "delivered_at": delivered.isoformat() if draw(st.booleans()) else None,
            "customer": {"id": "C", "email": "c@example.com", "name": "C",
                         "type": draw(st.sampled_from(["consumer", "business"])),
                         "country": country},
            "shipping_address": {"line1": draw(st.sampled_from(LINE1)), "city": "Town",
                                 "postal_code": "1000", "country": country},
            "payments": [{"payment_id": "P", "method": "card", "amount": paid}],
            "lines": order_lines, "shipping_paid": shipping,
        },
        "items": items,
        "estimated_return_shipping": draw(st.one_of(st.none(), st.integers(0, 100_000))),
    })


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(requests())
def test_refund_never_exceeds_what_was_paid(request):
    """Money rules of every seed (000 §2.1 cap, 004 §4.1 deductions): a refund is never negative,
    never above the cap nor what was paid for the item, and all refunds together never exceed
    the order's payments."""
    decision = decide(REGISTRY.get(request.merchant_id), request)
    for item in decision.items:
        line = request.order.line(item.line_id)
        assert 0 <= item.refund_amount <= item.refund_cap <= item.paid
        assert item.paid <= line.unit_price * item.quantity
        for accepted in range(item.quantity + 1):
            assert 0 <= refund_for_accepted(item, accepted) <= item.paid
    assert decision.refund_total <= request.order.total_paid


@PROPERTY
@given(requests())
def test_fees_are_never_negative_nor_above_the_price(request):
    """004 §4.1/§4.5/§7.1: fees are 30% or 50% of the amount paid: never negative, never more."""
    for item in decide(REGISTRY.get(request.merchant_id), request).items:
        for fee in item.fees:
            assert 0 <= fee.amount <= item.paid
            assert fee.reason.clause


@PROPERTY
@given(requests())
def test_same_input_same_decision(request):
    """Deterministic: the workflow may re-run the activity; the same request gives the same decision."""
    policy = REGISTRY.get(request.merchant_id)
    assert decide(policy, request) == decide(policy, request.model_copy(deep=True))


@PROPERTY
@given(requests())
def test_every_refusal_has_a_cited_reason(request):
    """003 §V.2.1 "reject applications ... with explanations", 004 §3.2 "explain the specific
    reasons": every refused item carries a reason with a clause; every auto-reject too."""
    decision = decide(REGISTRY.get(request.merchant_id), request)
    for item in decision.items:
        assert all(r.clause and r.text for r in item.reasons)
        # The refusals themselves, not just any reason (ReasonCategory always adds one).
        if not item.eligible and not item.staff_review_required:
            assert item.refusals, f"{item.line_id} refused without a refusal: {item.reasons}"
        assert all(r.clause.strip() and r.text.strip() for r in item.refusals)
        assert all(r in item.reasons for r in item.refusals)
        if item.eligible:
            assert item.refusals == [] and item.resolution is not None
        else:
            assert item.resolution is None and item.refund_amount == 0
            assert item.fees == [] and not item.needs_return_shipment
        if item.resolution in (Resolution.exchange, Resolution.repair):
            assert item.refund_amount == 0
        if item.resolution != item.requested_resolution and item.resolution is not None:
            assert item.resolution_reason is not None and item.resolution_reason.clause
        # ... and the customer is told why (it is one of the reasons).
        if item.resolution_reason is not None:
            assert item.resolution_reason in item.reasons
        if item.staff_review_required:
            assert item.staff_review_points
    if decision.auto_reject:
        assert decision.auto_reject_reasons
        assert not any(i.eligible or i.staff_review_required for i in decision.items)


# Instructions to staff ("ask the buyer for", "verify the signature record", "contact the buyer")
# belong in staff_review_points: the reasons are what the customer reads.
STAFF_WORDING = re.compile(r"\b(ask the|asks? (?:the )?(?:buyer|customer|consumer)|verify|"
                           r"contact the (?:buyer|customer)|staff|a person|flag it|check the)\b", re.I)


@PROPERTY
@given(requests())
def test_reasons_are_written_for_the_customer(request):
    """003 §V.2.1 / 004 §3.2: the customer is told the reasons; staff get their own points."""
    for item in decide(REGISTRY.get(request.merchant_id), request).items:
        for reason in item.reasons:
            assert not STAFF_WORDING.search(reason.text), f"staff wording in a reason: {reason}"


@PROPERTY
@given(requests(), st.data())
def test_overrides_keep_the_money_rules(request, data):
    """Staff overrides (accept, waive, re-resolve, comparison purchase) re-price with the policy
    and still never refund more than was paid nor charge negative fees."""
    policy = REGISTRY.get(request.merchant_id)
    decision = decide(policy, request)
    item = data.draw(st.sampled_from(decision.items))
    override = ItemOverride(
        line_id=item.line_id, reason="property test",
        accept_exception=True, waive_fees=data.draw(st.booleans()),
        comparison_purchase=data.draw(st.booleans()),
        resolution=data.draw(st.sampled_from([None, *Resolution])))
    after = apply_overrides(decision, [override], "tester", policy).item(item.line_id)
    assert after.eligible
    assert 0 <= after.refund_amount <= after.refund_cap <= after.paid
    assert all(0 <= f.amount <= after.paid for f in after.fees)
    assert after.reasons[-1].clause == "staff override by tester"
