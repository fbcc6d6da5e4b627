"""The example adapters file and the policy files agree on where each merchant is and on who buys
return labels (issue 18 point 5; 004 §3.4 "the shipping cost of returning the product shall be
borne by you" for non-quality returns)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from returns.policy.decision import Party

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "adapters.example.toml"
COUNTRY_NAMES = {"FR": "France", "CN": "China", "US": "United States"}
# EasyPost carriers that only ship within the United States.
US_DOMESTIC_CARRIERS = {"USPS"}


def _section_heading(text: str, merchant_id: str) -> str:
    """The `# --- Name: ...` comment that opens the merchant's part of the example."""
    before = text[:text.index(f"[merchants.{merchant_id}]")]
    return re.findall(r"^# --- .*$", before, re.MULTILINE)[-1]


@pytest.mark.parametrize("merchant_id", ["opalook", "pearl-platform", "fine-jewelry"])
def test_the_example_places_each_merchant_where_its_policy_does(registry, merchant_id):
    """The heading names the policy's return-address country (004: Shenzhen, CN calendar)."""
    policy = registry.get(merchant_id)
    country = policy.merchant.return_address.country
    assert policy.sla.calendar.country == country
    heading = _section_heading(EXAMPLE.read_text(), merchant_id)
    assert f"({country})" in heading and COUNTRY_NAMES[country] in heading, heading
    assert "US merchant" not in EXAMPLE.read_text()


def test_no_example_buys_a_domestic_us_label_for_a_merchant_outside_the_us(registry):
    """A carrier label goes to the policy's return address: a US-only carrier cannot reach CN."""
    example = tomllib.loads(EXAMPLE.read_text())
    for merchant_id, adapters in example["merchants"].items():
        labels = adapters.get("labels", {})
        if labels.get("provider") == "easypost":
            country = registry.get(merchant_id).merchant.return_address.country
            assert country == "US" or labels["carrier"] not in US_DOMESTIC_CARRIERS, merchant_id


def test_a_merchant_with_carrier_labels_has_returns_the_customer_pays_for(registry):
    """004 §3.4: the fine jewelry store (EasyPost in the example) leaves non-quality return postage
    to the customer, so the label must be bought per return (returns.postage.prepaid_label), not
    for every return: the policy has grounds of both kinds."""
    payers = {g.return_shipping for g in registry.get("fine-jewelry").grounds}
    assert {Party.merchant, Party.customer} <= payers
