"""Who may do what in the staff console: one role per person, each role a set of actions.

Pure: no Temporal, no web. The console offers an action only when the return takes it now
(returns/allowed.py) AND the signed-in person's role may send it (`may`); the server refuses
anything else before it reaches Temporal.
"""

from __future__ import annotations

from enum import StrEnum

from returns.allowed import Action


class Role(StrEnum):
    reviewer = "reviewer"
    warehouse = "warehouse"
    inspector = "inspector"
    refunds = "refunds"
    admin = "admin"


# Recording a return request on a customer's behalf (customer service, 000 §3.3, 004 §3.1).
TAKE_REQUEST = "take_request"

A = Action
ROLE_ACTIONS: dict[Role, frozenset[str]] = {
    # Decides returns and keeps their deadlines; deals with what needs attention; takes requests
    # by email or phone.
    Role.reviewer: frozenset({A.approve, A.reject, A.request_info, A.extend_deadline, A.cancel,
                              A.acknowledge, TAKE_REQUEST}),
    # Opens parcels (receipt) and sends parcels to customers (exchange, repair, send-back).
    Role.warehouse: frozenset({A.warehouse_receipt, A.ship_to_customer}),
    # Inspects what was received; may record a receipt too (the same bench often does both).
    Role.inspector: frozenset({A.warehouse_receipt, A.record_inspection}),
    # Money: failed refunds retried or recorded as paid outside the system.
    Role.refunds: frozenset({A.retry_refund, A.record_manual_refund, A.acknowledge}),
    Role.admin: frozenset({*Action, TAKE_REQUEST}),
}

ALL_MERCHANTS = "*"  # an account that sees every merchant (the demo admin)


def may(role: Role, action: str) -> bool:
    return action in ROLE_ACTIONS[role]


def action_of(offered: str) -> Action | None:
    """The action behind one of the status card's `next_actions` entries
    ("signal warehouse_receipt", "extend_deadline (ship_by)", "acknowledge (what needs ...)")."""
    for word in offered.replace("(", " ").split():
        try:
            return Action(word)
        except ValueError:
            continue
    return None


def offered_actions(next_actions: list[str]) -> list[Action]:
    """The actions a return takes now, as its status says (returns.allowed.offered)."""
    found = [action_of(a) for a in next_actions]
    return [a for a in found if a is not None]
