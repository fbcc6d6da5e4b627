"""Events are accepted for merchants with a returns policy, and only for them."""

from __future__ import annotations

import pytest

from ingestion.merchants import known_merchants
from returns.policy.registry import PolicyFileError

from ingestion_support import DEMO_MERCHANTS, POLICIES_DIR


def test_the_merchants_with_a_policy_are_known():
    known = known_merchants(POLICIES_DIR)
    assert all(known(merchant) for merchant in DEMO_MERCHANTS)
    assert not known("no-such-shop")
    assert not known("opalook.toml")


def test_a_broken_policy_stops_the_intake_at_start(tmp_path):
    (tmp_path / "broken.toml").write_text("[policy\n")
    with pytest.raises(PolicyFileError, match="broken.toml"):
        known_merchants(tmp_path)
