"""One tenant, one secret: each merchant's webhook secrets, read like the other secrets.

    RETURNS_WEBHOOK_SECRETS_OPALOOK=whsec_new...,whsec_old...        opalook (two during a rotation)
    RETURNS_WEBHOOK_SECRETS_PEARL_PLATFORM=whsec_...                 pearl-platform

The variable of a merchant is `RETURNS_WEBHOOK_SECRETS_` + its id in upper case with every other
character than a letter or digit as `_`. Its value is one secret, or several separated by commas
(the new one first) while the merchant's order system moves to a new one. Each variable is read
from the environment, then from the secrets file (`RETURNS_SECRETS_FILE`, `NAME=value` lines,
as for the adapters' secrets, `activities.adapters.read_secrets_file`).

The secret that verifies a request decides its merchant (`ingestion.signing.authenticate`), so
refused at start, with a message naming the variable (never a secret):
- a secret shared by two merchants (either could act as the other);
- a secret shorter than 16 characters (guessable);
- a variable for a merchant that has no returns policy (a typo or a leftover);
- the former `RETURNS_WEBHOOK_SECRET`, one secret for every merchant (it would let any merchant's
  order system act for all of them);
- no merchant with a secret at all (the receiver would refuse everything).
A merchant with a policy but no secret is left out: its requests are refused (401), and the
receiver says so once at start.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ENV_PREFIX = "RETURNS_WEBHOOK_SECRETS_"
LEGACY_SHARED = "RETURNS_WEBHOOK_SECRET"
MIN_SECRET_CHARS = 16


class MissingSecret(ValueError):
    """The merchants' webhook secrets cannot be used; the message says which variable (no value)."""


def env_name(merchant_id: str) -> str:
    """`pearl-platform` -> `RETURNS_WEBHOOK_SECRETS_PEARL_PLATFORM`."""
    return ENV_PREFIX + re.sub(r"[^A-Z0-9]", "_", merchant_id.upper())


def split_secrets(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class MerchantSecrets:
    """merchant id -> its secrets (the current one first). `without` lists the known merchants
    that have none (their requests are refused)."""

    by_merchant: Mapping[str, tuple[str, ...]]
    without: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)  # merchant -> "env NAME" / "secrets file NAME"

    def __repr__(self) -> str:  # never the secrets themselves
        return (f"MerchantSecrets(merchants={sorted(self.by_merchant)}, "
                f"without={list(self.without)})")

    __str__ = __repr__


def load_merchant_secrets(merchants: Iterable[str], env: Mapping[str, str] | None = None,
                          secrets_file: Path | None = None) -> MerchantSecrets:
    """Each of `merchants`' secrets from `env` (default os.environ), then `secrets_file`."""
    env = os.environ if env is None else env
    merchants = sorted(set(merchants))
    file_values: dict[str, str] = {}
    if secrets_file is not None:
        from activities.adapters import AdapterConfigError, read_secrets_file

        try:
            file_values = read_secrets_file(secrets_file)
        except AdapterConfigError as err:
            raise MissingSecret(str(err)) from None

    if env.get(LEGACY_SHARED, "").strip() or file_values.get(LEGACY_SHARED, "").strip():
        raise MissingSecret(
            f"{LEGACY_SHARED} (one secret for every merchant) is no longer read: give each "
            f"merchant its own, {ENV_PREFIX}<MERCHANT>, e.g. {env_name(merchants[0]) if merchants else ENV_PREFIX + 'OPALOOK'} "
            "(see docs/events.md), and remove it")

    names: dict[str, str] = {}
    for merchant in merchants:
        name = env_name(merchant)
        if name in names:
            raise MissingSecret(f"merchants {names[name]!r} and {merchant!r} would share the "
                                f"variable {name}: rename one of them")
        names[name] = merchant
    for name in sorted({*env.keys(), *file_values.keys()}):
        if name.startswith(ENV_PREFIX) and name not in names:
            raise MissingSecret(f"{name} names no merchant with a returns policy (merchants: "
                                f"{', '.join(merchants) or 'none'})")

    by_merchant: dict[str, tuple[str, ...]] = {}
    sources: dict[str, str] = {}
    owner: dict[str, str] = {}
    for name, merchant in names.items():
        if env.get(name, "").strip():
            value, source = env[name], f"env {name}"
        elif file_values.get(name, "").strip():
            value, source = file_values[name], f"secrets file {name}"
        else:
            continue
        secrets = split_secrets(value)
        for n, secret in enumerate(secrets, start=1):
            if len(secret) < MIN_SECRET_CHARS:
                raise MissingSecret(f"{source}: secret {n} is shorter than {MIN_SECRET_CHARS} "
                                    "characters")
            if secret in owner and owner[secret] != merchant:
                raise MissingSecret(f"{source}: secret {n} is also a secret of merchant "
                                    f"{owner[secret]!r}: each merchant needs its own")
            owner[secret] = merchant
        by_merchant[merchant] = secrets
        sources[merchant] = source
    if not by_merchant:
        raise MissingSecret(
            "no merchant has a webhook secret: the receiver only accepts events signed with a "
            f"merchant's own secret; set {ENV_PREFIX}<MERCHANT> for each merchant (e.g. "
            f"{', '.join(env_name(m) for m in merchants[:3]) or ENV_PREFIX + 'OPALOOK'}) in the "
            "environment or RETURNS_SECRETS_FILE (see docs/events.md)")
    without = tuple(m for m in merchants if m not in by_merchant)
    return MerchantSecrets(by_merchant=by_merchant, without=without, sources=sources)


__all__ = ["ENV_PREFIX", "LEGACY_SHARED", "MIN_SECRET_CHARS", "MerchantSecrets", "MissingSecret",
           "env_name", "load_merchant_secrets", "split_secrets"]
