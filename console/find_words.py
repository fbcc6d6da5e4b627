"""What the console's Find box says about what was typed, when it found nothing. Pure.

The box takes a return id (`RMA-` optional), a label barcode or any tracking number the return
knows (returns/tracking_refs.py: found by its hash, typed with or without spaces and dashes).
Text that can be none of these is a 400 naming the field and saying what would do.
"""

from __future__ import annotations

import re

from returns.tracking_refs import is_tracking_number

# returns.events.Identifier: what a return id (and our `RMA-<id>` barcode) can be.
_RETURN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def find_problem(typed: str) -> str | None:
    """None when `typed` may be a return id, a label barcode or a tracking number; otherwise
    why it cannot, naming the field (`q`)."""
    if is_tracking_number(typed) or _RETURN_ID.match(typed.removeprefix("RMA-")):
        return None
    return (f"q: {typed[:60]!r} is not a return id, a label barcode or a tracking number. "
            "A return id is letters, digits and . _ : - (up to 64); a tracking number is 4 to 40 "
            "letters and digits, spaces and dashes ignored.")


NOTHING_FOUND = "No return of your merchants has this id, label barcode or tracking number."
