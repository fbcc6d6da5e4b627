"""In which order staff see returns: what is due first, and work without a deadline never sinks
below finished returns (issue 17: a return waiting on staff with no deadline running, e.g. a
repair to send back or a failed refund, used to land after every finished return).

Pure: from the facts a list row has (its search attributes) to a sort key. `returns list` sorts
with it; the staff console's queues can too.
"""

from __future__ import annotations

from datetime import datetime, timezone

_FAR = datetime.max.replace(tzinfo=timezone.utc)


def due_first(*, running: bool, next_deadline: datetime | None, needs_attention: bool,
              requested_at: datetime | None, return_id: str) -> tuple:
    """Sort key: open returns with a deadline, earliest first; then open returns without one,
    those needing attention first, oldest request first; finished returns last, the most
    recently requested first."""
    requested = requested_at or _FAR
    if running and next_deadline is not None:
        return (0, next_deadline, not needs_attention, requested, return_id)
    if running:
        return (1, _FAR, not needs_attention, requested, return_id)
    newest_first = -(requested_at.timestamp() if requested_at else 0.0)
    return (2, _FAR, True, newest_first, return_id)


__all__ = ["due_first"]
