"""States and transitions live in one table; the status card shows what an operator needs."""

from datetime import datetime, timezone

import pytest

from returns.status import (
    FINAL, TRANSITIONS, Deadline, DeadlineKind, ItemStatus, ReturnState, ReturnStatus,
    TransitionError, check_transition,
)
from returns.status_card import render_status_card

S = ReturnState


def test_every_state_is_reachable_from_requested():
    seen, todo = {S.requested}, [S.requested]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(S)


def test_final_states_have_no_way_out():
    assert FINAL == {S.closed, S.rejected, S.expired, S.withdrawn, S.cancelled}


def test_returnless_refund_goes_from_approval_to_refunding():
    check_transition(S.approved, S.refunding)


def test_lost_parcel_exchange_ships_straight_after_approval():
    """000 §1.3 lost products are exchanged with nothing to send back: approved -> exchange_shipping."""
    check_transition(S.approved, S.exchange_shipping)
    with pytest.raises(TransitionError):
        check_transition(S.approved, S.repairing)  # a repair needs the item back


@pytest.mark.parametrize("frm,to", [(S.received, S.withdrawn), (S.refunding, S.cancelled),
                                    (S.rejected, S.approved), (S.under_review, S.refunded)])
def test_forbidden_transitions_say_why(frm, to):
    with pytest.raises(TransitionError, match=f"from {frm.value} to {to.value}"):
        check_transition(frm, to)


def test_status_card_shows_state_deadlines_items_and_actions():
    status = ReturnStatus(
        return_id="R1", merchant_id="fine-jewelry", order_id="O1", state=S.under_review,
        currency="USD", refund_total=14000,
        items=[ItemStatus(line_id="L1", sku="RING", title="Gold ring", quantity_requested=1,
                          eligible=True, resolution="refund", refund_amount=14000)],
        deadlines=[Deadline(kind=DeadlineKind.review,
                            due_at=datetime(2026, 11, 25, 23, 59, tzinfo=timezone.utc),
                            basis="2 business days", breached=True)],
        needs_attention=True, attention_reason="review overdue", next_actions=["approve", "reject"],
    )
    card = render_status_card(status)
    assert "under review" in card and "staff review due" in card and "**overdue**" in card
    assert "140.00 USD" in card and "- approve" in card and "review overdue" in card
