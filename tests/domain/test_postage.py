"""Who buys the return label (returns/postage.py), decided from the policy's shipping terms."""

from __future__ import annotations

import pytest

from returns.actions import ItemInspection, PostageReimbursement, RecordInspection
from returns.inspection import inspection_problem
from returns.policy.engine import decide
from returns.policy.registry import PolicyRegistry
from returns.postage import prepaid_label
from returns.status import ItemStatus
from tests.policy.builders import (
    POLICIES_DIR, fine_jewelry_request, merchant_line, requested_item,
)


@pytest.fixture(scope="module")
def fine():
    return PolicyRegistry.load(POLICIES_DIR).get("fine-jewelry")


def test_a_quality_return_travels_on_a_label_the_store_pays_for(fine):
    """004 §3.4 quality issues: "the return shipping cost shall be borne by us"."""
    decision = decide(fine, fine_jewelry_request(items=[requested_item(reason="defective")]))
    assert prepaid_label(i for i in decision.items if i.needs_return_shipment)


def test_a_non_quality_return_is_posted_by_the_customer(fine):
    """004 §3.4 non-quality issues: "the shipping cost of returning the product shall be borne by
    you": no carrier label is bought on the customer's behalf."""
    decision = decide(fine, fine_jewelry_request(items=[requested_item(reason="changed_mind")]))
    travelling = [i for i in decision.items if i.needs_return_shipment]
    assert travelling and not prepaid_label(travelling)


def test_a_parcel_with_an_item_the_customer_pays_for_is_not_prepaid(fine):
    """004 §3.4: one parcel; the customer posts it when any of its items is theirs to ship."""
    decision = decide(fine, fine_jewelry_request(
        lines=[merchant_line("fine-jewelry"), merchant_line("fine-jewelry", "L2", category="band")],
        items=[requested_item(reason="defective"),
        requested_item(line_id="L2", reason="changed_mind")]))
    assert not prepaid_label(i for i in decision.items if i.needs_return_shipment)
    assert not prepaid_label([])


def _inspected(postage):
    return RecordInspection(actor="ines", items=[ItemInspection(
        line_id="L1", passed=True, checks_confirmed=True)], postage_reimbursement=postage)


def test_return_postage_is_reimbursed_up_to_standard_shipping_only(fine):
    """004 §3.4 quality issues: "borne by us upon presentation of valid courier documents
    (limited to standard shipping fees, excluding value-added fees such as expedited …)": the
    inspector gives the standard rate, and more than it is refused naming the field."""
    decision = decide(fine, fine_jewelry_request(items=[requested_item(reason="defective")]))
    assert decision.postage_standard_only.startswith("004 §3.4: limited to standard shipping")
    items = {"L1": ItemStatus(line_id="L1", sku="S", title="Ring", quantity_requested=1,
                              eligible=True, resolution=decision.items[0].resolution,
                              quantity_received=1,
                              inspection_checks=decision.items[0].inspection_checks)}
    express = PostageReimbursement(amount=4500, courier_reference="SF-1")
    assert inspection_problem(decision, items, _inspected(express)).startswith(
        "postage_reimbursement.standard_shipping: give the standard shipping rate")
    express = PostageReimbursement(amount=4500, courier_reference="SF-1", standard_shipping=1200)
    assert inspection_problem(decision, items, _inspected(express)) == (
        "postage_reimbursement.amount: 45.00 USD is more than the 12.00 USD standard shipping; "
        "reimburse at most that (004 §3.4: limited to standard shipping fees, excluding "
        "value-added fees such as expedited and dedicated line services)")
    standard = PostageReimbursement(amount=1200, courier_reference="SF-1", standard_shipping=1200)
    assert inspection_problem(decision, items, _inspected(standard)) is None


def test_the_slip_names_what_each_item_comes_back_for(fine):
    """003 §III.3 / 004 §3.1: the packing slip says refund or exchange (and the size wanted)."""
    from returns.notices import wanted
    request = fine_jewelry_request(items=[requested_item(resolution="exchange",
                                                         exchange_for="size 54")])
    item = decide(fine, request).items[0]
    assert wanted(item, request.items) == "exchange: size 54"
    refund = decide(fine, fine_jewelry_request()).items[0]
    assert wanted(refund, []) == "refund"
