"""The merchant settings a customer reads in every email and on the return page: the return
address, the sender (From:) and the support address. Each comes from the merchant's policy file
([merchant] table); the worker refuses to start while one is missing or still a placeholder, naming
the merchant and the setting, so no "PLACEHOLDER returns centre" ever reaches a customer.

Pure: no Temporal, no I/O.
"""

from __future__ import annotations

import re

from returns.policy.decision import MerchantContact

# What a value left to be filled in looks like: the word, the seeds' own blanks ("xxx@xxx.com",
# 004 §3.1) and our "not in seed" markers. `.example` domains are real demo addresses (RFC 2606).
_PLACEHOLDER = re.compile(r"placeholder|not in seed|\bx{3,}\b|\bt\.?b\.?d\b|changeme", re.I)

# The settings, as the policy file names them.
SETTINGS = ("return_address", "sender_email", "support_email")


class MerchantSettingsError(ValueError):
    """A merchant setting a customer would read is missing or a placeholder."""


def problems(contact: MerchantContact) -> list[str]:
    """Each setting of `contact` that is missing or a placeholder: "[merchant] sender_email: ..."."""
    found = []
    address = contact.return_address
    parts = [address.line1, address.line2, address.city, address.postal_code, address.region]
    if any(p and _PLACEHOLDER.search(p) for p in parts):
        found.append(f"[merchant] return_address: {address.line1!r} is a placeholder; give the "
                     f"address customers send their parcels to")
    for setting, meaning in (("sender_email", "the From: address of its emails"),
                             ("support_email", "the address customers write to")):
        value = getattr(contact, setting, None)
        if not value:
            found.append(f"[merchant] {setting}: missing; give {meaning}")
        elif _PLACEHOLDER.search(value):
            found.append(f"[merchant] {setting}: {value!r} is a placeholder; give {meaning}")
    return found


def check(contacts: dict[str, MerchantContact], sources: dict[str, str] | None = None) -> None:
    """Raises MerchantSettingsError naming every merchant (and its policy file, from `sources`)
    and setting that is not ready."""
    sources = sources or {}
    lines = [f"merchant {merchant_id}"
             + (f" ({sources[merchant_id]})" if sources.get(merchant_id) else "") + f": {problem}"
             for merchant_id, contact in sorted(contacts.items()) for problem in problems(contact)]
    if lines:
        raise MerchantSettingsError("; ".join(lines))
