"""Which merchants we accept events for: those with a returns policy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from returns.policy.registry import PolicyRegistry

KnownMerchant = Callable[[str], bool]


def known_merchants(policies_dir: Path) -> KnownMerchant:
    """A check `merchant_id -> bool` over the policies in `policies_dir`.

    Loaded once, so a broken policy file stops the sender or receiver at start (PolicyFileError
    names the file and field), not on a customer's request. A new merchant needs a restart.
    """
    registry = PolicyRegistry.load(policies_dir)
    return registry.__contains__


def merchant_ids(policies_dir: Path) -> list[str]:
    """Every merchant with a returns policy in `policies_dir` (whose webhook secrets are read)."""
    return list(PolicyRegistry.load(policies_dir).merchant_ids)
