"""A tracking number as the return's `TrackingRefs` search attribute holds it: a short hash,
never the number. Pure: no Temporal.

A tracking number lets anyone look the parcel up at the carrier, delivery address included, and
search attributes are not encrypted (house rule: no personal data in them). So the workflow
publishes `tracking_ref(number)` for each number it knows (the customer's, the carrier's scans,
the shipment staff sent), and the console's Find box and `returns show` hash what was typed the
same way to find the return.

The same number typed differently is the same ref: spaces and dashes are dropped and letters
upper-cased first (`1z 999-aa1` is `1Z999AA1`). The prefix keeps our refs apart from a plain
sha256 of the number; it is not a secret (the hash of a short number can be brute-forced, which
is why a ref only ever finds a return for staff who may see it). Changing the prefix orphans
every ref already published: don't.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

REF_PREFIX = "rma-returns/tracking-ref/v1:"
REF_HEX_DIGITS = 16
# What a tracking number is once normalised: the pattern the events and ship_to_customer accept
# (`^[A-Za-z0-9-]{4,40}$`), without the dashes.
_NORMALISED = re.compile(r"^[A-Z0-9]{4,40}$")
_IGNORED = re.compile(r"[\s-]+")


class NotATrackingNumber(ValueError):
    """What was given cannot be a tracking number; the message names the field and says why."""


def normalise(number: str, field: str = "tracking_number") -> str:
    """`number` without spaces or dashes, upper case; NotATrackingNumber unless 4 to 40 letters
    and digits remain."""
    cleaned = _IGNORED.sub("", number).upper()
    if not _NORMALISED.match(cleaned):
        raise NotATrackingNumber(
            f"{field}: {number[:60]!r} is not a tracking number (4 to 40 letters and digits; "
            "spaces and dashes are ignored)")
    return cleaned


def is_tracking_number(number: str) -> bool:
    try:
        normalise(number)
    except NotATrackingNumber:
        return False
    return True


def tracking_ref(number: str) -> str:
    """The first 16 hex digits of sha256(prefix + the normalised number)."""
    digest = hashlib.sha256((REF_PREFIX + normalise(number)).encode("ascii")).hexdigest()
    return digest[:REF_HEX_DIGITS]


def tracking_refs(numbers: Iterable[str]) -> list[str]:
    """The refs of `numbers`, each once, sorted (a stable search attribute value); numbers that
    are not tracking numbers are left out (the events and updates have validated them already)."""
    return sorted({tracking_ref(n) for n in numbers if is_tracking_number(n)})
