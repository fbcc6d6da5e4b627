"""Lost parcels (000 §1.3 "products lost, damaged or not in conformity with the order will be
refunded or exchanged"): refunded or exchanged with nothing to send back, for all three merchants."""

from __future__ import annotations

import pytest

from returns.events import Resolution, ReturnReason
from returns.policy.decision import Party
from returns.policy.engine import decide

from .builders import (
    fine_jewelry_request,
    merchant_line,
    opalook_request,
    order_line,
    pearl_platform_request,
    requested_item,
)

LOST = ReturnReason.lost_in_transit.value


def test_every_merchant_classifies_lost_parcels_as_not_the_buyers_doing(registry):
    """000 §1.3 names lost products with non-conforming ones; 003 §II.2 (logistics) and 004 §7.3
    (only a wrong address or an absent recipient is the customer's) as merchant defaults."""
    clauses = {m: registry.get(m).reasons[ReturnReason.lost_in_transit] for m in registry.merchant_ids}
    assert all(meaning.quality for meaning in clauses.values())
    assert clauses["opalook"].clause == "000 §1.3"
    assert "003 §II.2" in clauses["pearl-platform"].clause
    assert "004 §7.3" in clauses["fine-jewelry"].clause


def test_opalook_refunds_a_lost_product_without_return(opalook):
    """000 §1.3: a lost product is refunded; nothing comes back, so no label and no return leg;
    000 §2.1: limited to the price excluding tax. Staff confirm the loss with the carrier."""
    decision = decide(opalook, opalook_request(delivered=False, days_after_delivery=5,
                                               items=[requested_item(reason=LOST, evidence=[])]))
    item = decision.items[0]
    assert item.eligible and item.quality_issue
    assert item.resolution == Resolution.returnless_refund
    assert item.resolution_reason.clause == "000 §1.3" and item.resolution_reason in item.reasons
    assert not item.needs_return_shipment and not decision.needs_return_shipment
    assert item.return_shipping_paid_by == item.reshipping_paid_by == Party.nobody
    assert item.refund_amount == 10_000 and item.fees == []
    assert item.staff_review_required
    assert any(p.startswith("000 §1.3") and "carrier" in p for p in item.staff_review_points)


def test_opalook_exchanges_a_lost_product_reshipped_at_its_cost(opalook):
    """000 §1.3 "refunded or exchanged"; 000 §3.3 shipping is Opalook's: nothing to return, the
    replacement is reshipped by Opalook. 000 §1.5 (refund instead of a return from far away) does
    not apply: nothing travels back."""
    request = opalook_request(country="US", items=[requested_item(reason=LOST, resolution="exchange")])
    item = decide(opalook, request).items[0]
    assert item.eligible and item.resolution == Resolution.exchange
    assert not item.needs_return_shipment
    assert item.return_shipping_paid_by == Party.nobody
    assert item.reshipping_paid_by == Party.merchant
    assert any(r.clause == "000 §1.3, §3.3" and "nothing to send back" in r.text
               for r in item.reasons)


def test_opalook_lost_item_is_not_counted_in_the_parcel_value(opalook):
    """000 §1.5, choice (docs/policies.md): shipping is compared with what travels in the parcel;
    a lost item is not in it. 100.00 shipping for a 60.00 defective item: refund without return."""
    lines = [order_line("L1", unit_price=12_000), order_line("L2", unit_price=6_000)]
    request = opalook_request(lines=lines, estimated_return_shipping=10_000, items=[
        requested_item("L1", reason=LOST), requested_item("L2")])
    lost, defective = decide(opalook, request).items
    assert lost.resolution == Resolution.returnless_refund
    assert lost.resolution_reason.clause == "000 §1.3"
    assert defective.resolution == Resolution.returnless_refund
    assert defective.resolution_reason.clause == "000 §1.5"


def test_opalook_repair_of_a_lost_product_becomes_an_exchange(opalook):
    """000 §1.3 refund or exchange, 000 §2.2 no commercial guarantee (no repair service)."""
    item = decide(opalook, opalook_request(items=[
        requested_item(reason=LOST, resolution="repair")])).items[0]
    assert item.resolution == Resolution.exchange
    assert item.resolution_reason.clause == "000 §1.3, §2.2"


def test_pearl_platform_refunds_a_lost_parcel_in_full_without_return(pearl):
    """Merchant default after 003 §II.2 (logistics failures are the platform's): full refund,
    nothing to send back, a person confirms with the carrier."""
    item = decide(pearl, pearl_platform_request(items=[requested_item(reason=LOST)])).items[0]
    assert item.eligible and item.resolution == Resolution.returnless_refund
    assert item.refund_amount == 15_000 and not item.needs_return_shipment
    assert item.staff_review_required


def test_pearl_platform_lost_exchange_needs_stock_and_is_reshipped_by_the_platform(pearl):
    """003 §III.2 stock confirmed for exchanges; the platform bears the freight (003 §II.2)."""
    item = decide(pearl, pearl_platform_request(items=[
        requested_item(reason=LOST, resolution="exchange")])).items[0]
    assert item.eligible and item.resolution == Resolution.exchange
    assert item.reshipping_paid_by == Party.merchant and not item.needs_return_shipment
    assert any(p.startswith("003 §III.2") for p in item.staff_review_points)


def test_fine_jewelry_refunds_a_lost_parcel_in_full_with_no_fee(fine):
    """Merchant default (004 §4.2 quality refund, no fee): nothing to send back; staff check it
    was not lost through a wrong address or an absent recipient (004 §7.3)."""
    item = decide(fine, fine_jewelry_request(delivered=False, days_after_delivery=10,
                                             items=[requested_item(reason=LOST, evidence=[])])).items[0]
    assert item.eligible and item.resolution == Resolution.returnless_refund
    assert item.refund_amount == 50_000 and item.fees == []
    assert item.evidence_missing == []  # no photos of a parcel that never came
    assert any(p.startswith("004 §7.3") for p in item.staff_review_points)


@pytest.mark.parametrize("day, eligible", [(30, True), (31, False)])
def test_fine_jewelry_lost_parcel_window_is_30_days(fine, day, eligible):
    """Merchant default (like the 30-day exchange period of 004 §2.1), from the order date when
    no signature exists."""
    item = decide(fine, fine_jewelry_request(days_after_delivery=day,
                                             items=[requested_item(reason=LOST)])).items[0]
    assert item.eligible is eligible


def test_lost_custom_product_is_replaced_not_refunded(fine):
    """004 §5.2: custom products get repair, replacement or free exchange for quality issues; a
    lost custom piece is remade (exchange), reshipped by the store, nothing to send back."""
    item = decide(fine, fine_jewelry_request(lines=[merchant_line("fine-jewelry", engraved=True)],
                                             items=[requested_item(reason=LOST)])).items[0]
    assert item.eligible and item.resolution == Resolution.exchange
    assert not item.needs_return_shipment and item.reshipping_paid_by == Party.merchant
