"""Staff overrides at approval (apply_overrides) and refunds for accepted units (refund_for_accepted)."""

from __future__ import annotations

import pytest

from returns.actions import ItemOverride
from returns.events import Resolution
from returns.policy.decision import FeeKind, Party
from returns.policy.engine import decide
from returns.policy.overrides import apply_overrides, approval_problem
from returns.policy.refunds import refund_for_accepted

from .builders import (
    fine_jewelry_request,
    merchant_line,
    opalook_request,
    order_line,
    pearl_platform_request,
    requested_item,
)


def _override(**kw) -> ItemOverride:
    return ItemOverride(**({"line_id": "L1", "reason": "agreed with the customer"} | kw))


def _two_rings(fine):
    lines = [merchant_line("fine-jewelry", "L1"), merchant_line("fine-jewelry", "L2")]
    return decide(fine, fine_jewelry_request(lines=lines, items=[
        requested_item("L1", reason="size_fit")]))


# --- apply_overrides ---------------------------------------------------------------------------------
def test_comparison_purchase_doubles_the_non_quality_fee(fine):
    """004 §7.1: if staff determine a comparison purchase, the non-quality fee is doubled to 50%
    of the order amount (replacing the 30% of 004 §4.1)."""
    decision = _two_rings(fine)
    after = apply_overrides(decision, [_override(comparison_purchase=True)], "lea", fine)
    item = after.items[0]
    assert [(f.kind, f.amount, f.basis_points) for f in item.fees] == [
        (FeeKind.comparison_purchase, 25_000, 5000)]
    assert item.refund_amount == 25_000
    assert str(item.reasons[-1]) == ("staff override by lea: agreed with the customer "
                                     "(comparison purchase)")
    assert decision.items[0].fees_total == 15_000  # the input decision is not changed


def test_comparison_purchase_on_a_quality_issue_costs_nothing(fine):
    """004 §7.1 doubles "the fee for non-quality issues"; quality returns have none (004 §4.2)."""
    decision = decide(fine, fine_jewelry_request())
    item = apply_overrides(decision, [_override(comparison_purchase=True)], "lea", fine).items[0]
    assert item.fees == [] and item.refund_amount == item.paid


def test_waive_fees_refunds_in_full_and_records_who(fine):
    """004 §4.1 fee waived by staff: the refund is the full cap; the fee stays visible, waived."""
    decision = decide(fine, fine_jewelry_request(items=[requested_item(reason="changed_mind")]))
    item = apply_overrides(decision, [_override(waive_fees=True, reason="VIP goodwill")],
                           "marc", fine).items[0]
    assert item.fees[0].waived and item.fees[0].waived_by == "marc"
    assert item.fees_total == 0 and item.refund_amount == item.refund_cap == 50_000
    assert str(item.reasons[-1]) == "staff override by marc: VIP goodwill (fees waived)"


def test_waiver_survives_a_later_comparison_flag_on_other_fees(fine):
    """Overrides compose: a waiver already granted stays granted when the fee is re-priced."""
    decision = decide(fine, fine_jewelry_request(items=[requested_item(reason="changed_mind")]))
    once = apply_overrides(decision, [_override(waive_fees=True)], "marc", fine)
    twice = apply_overrides(once, [_override(resolution=Resolution.refund)], "lea", fine)
    assert twice.items[0].fees[0].waived and twice.items[0].fees[0].waived_by == "marc"


def test_special_approval_of_a_custom_return_costs_30_percent(fine):
    """004 §4.5: a custom product's return, "if specially approved after review", has 30% deducted
    as a non-quality fee with no additional loss fees. The request goes to staff (not
    auto-rejected) with a review point citing 004 §4.5; accepting it is the override."""
    decision = decide(fine, fine_jewelry_request(lines=[merchant_line("fine-jewelry", engraved=True)],
                                                 items=[requested_item(reason="size_fit")]))
    refused = decision.items[0]
    assert not decision.auto_reject and not refused.eligible and refused.resolution is None
    assert refused.staff_review_required
    assert any(p.startswith("004 §4.5") and "specially approved" in p
               for p in refused.staff_review_points)
    assert [r.clause for r in refused.refusals] == ["004 §5.2, §4.5"]
    after = apply_overrides(decision, [_override(accept_exception=True)], "lea", fine)
    item = after.items[0]
    assert item.eligible and item.resolution == Resolution.refund
    assert [(f.kind, f.amount) for f in item.fees] == [(FeeKind.restocking, 15_000)]
    assert item.refund_amount == 35_000
    assert item.return_shipping_paid_by == Party.customer  # 004 §3.4 non-quality
    assert item.needs_return_shipment
    assert not after.auto_reject and after.auto_reject_reasons == []
    assert "accepted as an exception (refund)" in item.reasons[-1].text


def test_accepting_the_l221_3_exception(opalook):
    """000 §1.2: staff confirm the L221-3 exception: the professional withdraws, pays the return
    (Consumer Code L221-23) and gets all sums paid, tax included (L221-24): 000 §2.1's cap to the
    price excluding tax is the guarantee's, not a withdrawal's (docs/policies.md)."""
    decision = decide(opalook, opalook_request(items=[requested_item(reason="changed_mind")]))
    item = apply_overrides(decision, [_override(accept_exception=True)], "sophie", opalook).items[0]
    assert item.eligible and item.resolution == Resolution.refund
    assert item.paid == 12_000 and item.refund_cap == 12_000 and item.refund_amount == 12_000
    assert item.return_shipping_paid_by == Party.customer
    assert any(r.clause.startswith("000 §1.2 (Consumer Code L221-3") and "refunded in full" in r.text
               for r in item.reasons)


def test_a_guarantee_claim_is_still_capped_at_the_price_excluding_tax(opalook):
    """000 §2.1: "limited to the amount excluding tax paid by the buyer" for a defect."""
    item = decide(opalook, opalook_request(items=[requested_item(reason="defective")])).items[0]
    assert item.eligible and item.refund_cap == 10_000 and item.refund_amount == 10_000


def test_exchange_without_stock_converted_to_refund(pearl):
    """003 §III.2: "If there is no inventory, it can be converted to a return process"."""
    decision = decide(pearl, pearl_platform_request(items=[requested_item(resolution="exchange")]))
    assert decision.items[0].refund_amount == 0
    item = apply_overrides(decision, [_override(resolution=Resolution.refund,
                                                reason="003 §III.2 no stock of size 54")],
                           "wei", pearl).items[0]
    assert item.resolution == Resolution.refund and item.refund_amount == 15_000
    assert item.reshipping_paid_by == Party.nobody
    assert item.return_shipping_paid_by == Party.merchant
    assert str(item.resolution_reason) == "staff override by wei: 003 §III.2 no stock of size 54"
    assert "resolution exchange -> refund" in item.reasons[-1].text


def test_returnless_refund_by_override(fine):
    """Staff may refund without taking the item back: nothing ships, the refund is unchanged."""
    decision = decide(fine, fine_jewelry_request())
    item = apply_overrides(decision, [_override(resolution=Resolution.returnless_refund,
                                                reason="parcel value below postage")],
                           "lea", fine).items[0]
    assert item.resolution == Resolution.returnless_refund
    assert not item.needs_return_shipment
    assert item.return_shipping_paid_by == Party.nobody
    assert item.resolution_reason.clause == "staff override by lea"
    assert item.refund_amount == 50_000


def test_unknown_line_is_refused_naming_the_field(fine):
    """Overrides name a line of the return; a wrong one is a ValueError naming the field."""
    decision = decide(fine, fine_jewelry_request())
    with pytest.raises(ValueError, match=r"overrides\[1\]\.line_id: 'L9' is not part of this return"):
        apply_overrides(decision, [_override(), _override(line_id="L9")], "lea", fine)


def test_changing_resolution_of_a_refused_item_needs_accept_exception(fine):
    """An override cannot silently make a refused item eligible: accept_exception says so."""
    decision = decide(fine, fine_jewelry_request(days_after_delivery=40, items=[
        requested_item(reason="size_fit")]))
    with pytest.raises(ValueError, match=r"overrides\[0\]\.resolution: .*accept_exception"):
        apply_overrides(decision, [_override(resolution=Resolution.exchange)], "lea", fine)


def test_actor_is_required(fine):
    """Every override names its actor."""
    with pytest.raises(ValueError, match="actor"):
        apply_overrides(decide(fine, fine_jewelry_request()), [_override()], " ", fine)


# --- refund_for_accepted ------------------------------------------------------------------------------
def test_refund_prorated_by_accepted_units(fine):
    """004 §3.7: units failing inspection are refused and sent back; the refund covers the units
    accepted — 2 of 3 units, after the 30% fee of 004 §4.1."""
    request = fine_jewelry_request(lines=[order_line(quantity=3, unit_price=10_000)],
                                   items=[requested_item(reason="changed_mind", quantity=3)])
    item = decide(fine, request).items[0]
    assert item.refund_amount == 21_000
    assert refund_for_accepted(item, 3) == 21_000
    assert refund_for_accepted(item, 2) == 14_000
    assert refund_for_accepted(item, 0) == 0


def test_refund_for_accepted_rounds_down(opalook):
    """Money in minor units, rounded down (never refund more than owed): 1 of 3 units of 100.00."""
    request = opalook_request(lines=[order_line(quantity=3, unit_price=3_334, unit_tax=0)],
                              items=[requested_item(quantity=3)])
    item = decide(opalook, request).items[0]
    assert item.refund_amount == 10_002
    assert refund_for_accepted(item, 1) == 3_334


def test_an_inspection_fee_is_deducted_never_below_nothing(opalook):
    """003 §V.1.4: an inspection fee the inspector sets comes off the line's refund."""
    request = opalook_request(lines=[order_line(quantity=3, unit_price=3_334, unit_tax=0)],
                              items=[requested_item(quantity=3)])
    item = decide(opalook, request).items[0]
    assert refund_for_accepted(item, 3, inspection_fee=2_000) == 8_002
    assert refund_for_accepted(item, 1, inspection_fee=5_000) == 0


def test_refund_for_accepted_is_zero_for_exchanges_and_refused_items(fine):
    """Exchanges and repairs refund nothing (004 §4.3); refused items refund nothing."""
    exchange = decide(fine, fine_jewelry_request(items=[requested_item(resolution="exchange")]))
    assert refund_for_accepted(exchange.items[0], 1) == 0
    refused = decide(fine, fine_jewelry_request(days_after_delivery=400))
    assert refund_for_accepted(refused.items[0], 1) == 0


@pytest.mark.parametrize("quantity", [-1, 2, True, 1.0])
def test_refund_for_accepted_checks_the_quantity(fine, quantity):
    """The accepted quantity is a whole number between 0 and the requested quantity."""
    item = decide(fine, fine_jewelry_request()).items[0]
    with pytest.raises(ValueError, match="accepted_quantity"):
        refund_for_accepted(item, quantity)


def test_an_exchange_is_approved_only_once_its_stock_is_confirmed(pearl):
    """003 §III.2 "The platform will give priority to confirming inventory. If there is no
    inventory, it can be converted to a return process": approving the exchange needs
    stock_confirmed for its line, or an override to refund."""
    decision = decide(pearl, pearl_platform_request(items=[requested_item(resolution="exchange")]))
    item = decision.items[0]
    assert item.stock_check.startswith("003 §III.2: ")
    problem = approval_problem(decision, [])
    assert problem.startswith("stock_confirmed: line L1 (Freshwater pearl necklace) is to be "
                              "exchanged: 003 §III.2")
    assert approval_problem(decision, [], ["L1"]) is None
    assert approval_problem(decision, [_override(resolution=Resolution.refund)]) is None


def test_a_refund_needs_no_stock_check(pearl):
    """003 §III.2 concerns exchanges only."""
    decision = decide(pearl, pearl_platform_request())
    assert decision.items[0].stock_check is None and approval_problem(decision, []) is None
