"""Which merchants we accept events for: those with a policy in the policies directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

KnownMerchant = Callable[[str], bool]


def known_merchants(policies_dir: Path) -> KnownMerchant:
    """A check `merchant_id -> bool` backed by the merchants' policies.

    Uses `returns.policy.registry.PolicyRegistry` (loaded once, so a broken policy fails the
    receiver at start, not on a customer's request). Without that module, a merchant is known when
    `<policies_dir>/<merchant_id>.toml` exists.
    """
    try:
        from returns.policy.registry import PolicyRegistry, UnknownMerchant
    except ModuleNotFoundError as err:
        if err.name != "returns.policy.registry":
            raise
        return lambda merchant_id: (Path(policies_dir) / f"{merchant_id}.toml").is_file()

    registry = PolicyRegistry.load(policies_dir)

    def known(merchant_id: str) -> bool:
        try:
            registry.get(merchant_id)
        except UnknownMerchant:
            return False
        return True

    return known
