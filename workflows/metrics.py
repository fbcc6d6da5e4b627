"""The return's business metrics, from the workflow's own events (docs/operations.md#metrics).

One function per event; the workflow calls each at the point of its lifecycle the event names.
They record through `workflow.metric_meter()`, which records nothing while the workflow replays
its history (after a worker restart or a cache eviction), so an event is counted once however
often its history is replayed. Recording is not a command: calling these changes no history, so
adding or moving a call needs no `workflow.patched` guard.

Labels: `merchant_id`, `state`, `outcome`, deadline `kind` only; never a return, order or customer
id, never personal data. Counters live in the worker process and restart at zero with it
(Prometheus' `increase()` / `rate()` read through resets).

Returns in a state now = `returns_state_entered_total - returns_state_left_total` by state (a
return that ends leaves its final state, so only open returns are counted).
"""

from __future__ import annotations

from temporalio import workflow

STARTED = "returns_started_total"
ENDED = "returns_ended_total"
STATE_ENTERED = "returns_state_entered_total"
STATE_LEFT = "returns_state_left_total"
DEADLINES_MET = "returns_deadlines_met_total"
DEADLINES_BREACHED = "returns_deadlines_breached_total"

DESCRIPTIONS = {
    STARTED: "Returns started (the workflow began), by merchant",
    ENDED: "Returns ended, by merchant, final state and outcome",
    STATE_ENTERED: "Returns that entered a state, by merchant and state",
    STATE_LEFT: "Returns that left a state (or ended in it), by merchant and state",
    DEADLINES_MET: "Deadlines met in time, by merchant and kind",
    DEADLINES_BREACHED: "Deadlines that passed before they were met, by merchant and kind",
}


def _add(name: str, **labels: str) -> None:
    workflow.metric_meter().create_counter(name, DESCRIPTIONS[name]).add(1, labels)


def return_started(merchant_id: str, state: str) -> None:
    """The workflow began: counts the return and puts it in its first state (`requested`)."""
    _add(STARTED, merchant_id=merchant_id)
    _add(STATE_ENTERED, merchant_id=merchant_id, state=state)


def state_changed(merchant_id: str, left: str, entered: str) -> None:
    """The return moved from state `left` to state `entered`."""
    _add(STATE_LEFT, merchant_id=merchant_id, state=left)
    _add(STATE_ENTERED, merchant_id=merchant_id, state=entered)


def return_ended(merchant_id: str, state: str, outcome: str | None) -> None:
    """The run method returns: the return ended in `state` with `outcome` (what the status card
    says: "refunded", "rejected", "refunded, exchanged", ...). It leaves its final state, so the
    states count open returns only."""
    _add(ENDED, merchant_id=merchant_id, state=state, outcome=outcome or state)
    _add(STATE_LEFT, merchant_id=merchant_id, state=state)


def deadline_met(merchant_id: str, kind: str) -> None:
    """A deadline of `kind` (review, ship_by, inspection, refund, reshipment) met before it
    passed. One met after it passed was counted by `deadline_breached` instead."""
    _add(DEADLINES_MET, merchant_id=merchant_id, kind=kind)


def deadline_breached(merchant_id: str, kind: str) -> None:
    """A deadline of `kind` passed before it was met (escalated, or the return expired)."""
    _add(DEADLINES_BREACHED, merchant_id=merchant_id, kind=kind)


ALL = tuple(DESCRIPTIONS)
