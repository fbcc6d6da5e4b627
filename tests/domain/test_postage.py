"""Who buys the return label (returns/postage.py), decided from the policy's shipping terms."""

from __future__ import annotations

import pytest

from returns.policy.engine import decide
from returns.policy.registry import PolicyRegistry
from returns.postage import prepaid_label
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
