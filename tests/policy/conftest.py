"""Fixtures for the policy tests: the real policy files, loaded once."""

from __future__ import annotations

import pytest

from returns.policy.registry import PolicyRegistry
from returns.policy.schema import MerchantPolicy

from .builders import POLICIES_DIR


@pytest.fixture(scope="session")
def registry() -> PolicyRegistry:
    return PolicyRegistry.load(POLICIES_DIR)


@pytest.fixture(scope="session")
def opalook(registry: PolicyRegistry) -> MerchantPolicy:
    return registry.get("opalook")


@pytest.fixture(scope="session")
def pearl(registry: PolicyRegistry) -> MerchantPolicy:
    return registry.get("pearl-platform")


@pytest.fixture(scope="session")
def fine(registry: PolicyRegistry) -> MerchantPolicy:
    return registry.get("fine-jewelry")
