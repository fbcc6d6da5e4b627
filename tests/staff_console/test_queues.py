"""The console's queues as visibility queries (console/queues.py), pure: each daily list is the
README's query, narrowed to the person's merchants; rows come due first, and work without a
deadline never sinks below finished returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.accounts import Staff
from console.queues import MERCHANT, ORDER, QUEUES, Row, due_first, query
from console.roles import Role
from returns.allowed import Action, Now, refusal
from returns.status import ReturnState

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
ADMIN = Staff("ada", Role.admin, frozenset({"*"}))
SAM = Staff("sam", Role.reviewer, frozenset({"opalook", "fine-jewelry"}))


def test_the_daily_lists_are_the_readmes_queries():
    assert query(QUEUES["to_review"], ADMIN, NOW) == \
        'ReturnState="under_review" AND ExecutionStatus="Running"'
    assert query(QUEUES["reviews_overdue"], ADMIN, NOW) == (
        'NextDeadlineKind="review" AND NextDeadline < "2026-11-23T12:00:00Z" AND '
        'ExecutionStatus="Running"')
    assert query(QUEUES["shipments_due"], ADMIN, NOW) == (
        'NextDeadlineKind="ship_by" AND NextDeadline < "2026-11-24T12:00:00Z" AND '
        'ExecutionStatus="Running"')
    assert query(QUEUES["refunds_failing"], ADMIN, NOW) == (
        'ReturnState="refunding" AND NeedsAttention=true AND ExecutionStatus="Running"')
    assert query(ORDER, ADMIN, NOW, order="O-1001") == 'OrderId="O-1001"'


def test_a_person_sees_only_their_merchants():
    assert query(QUEUES["needs_attention"], SAM, NOW) == (
        'NeedsAttention=true AND ExecutionStatus="Running" AND '
        'MerchantId IN ("fine-jewelry", "opalook")')
    assert query(MERCHANT, SAM, NOW, merchant="opalook") == \
        'MerchantId="opalook" AND ExecutionStatus="Running"'


def row(return_id: str, *, due: int | None = None, requested: int = 0,
        running: bool = True) -> Row:
    return Row(workflow_id=f"return-m-{return_id}", return_id=return_id, merchant_id="m",
               order_id="o", state="x", waiting_on="staff",
               next_deadline=NOW + timedelta(hours=due) if due is not None else None,
               next_deadline_kind="review" if due is not None else None, needs_attention=False,
               refund_amount=None, currency=None, running=running,
               requested_at=NOW - timedelta(days=requested))


def test_due_first_then_no_deadline_then_finished():
    rows = [row("finished", running=False, requested=30), row("no-deadline-new", requested=1),
            row("later", due=48), row("overdue", due=-5), row("no-deadline-old", requested=9)]
    assert [r.return_id for r in due_first(rows)] == [
        "overdue", "later", "no-deadline-old", "no-deadline-new", "finished"]


def test_to_ship_lists_the_states_where_staff_ship_to_the_customer_next():
    """"To ship to the customer": exactly the states in which ship_to_customer is staff's next
    action (returns.allowed), while the return waits on staff (not on the customer's payment)."""
    assert query(QUEUES["to_ship"], ADMIN, NOW) == (
        'ReturnState IN ("exchange_shipping", "repairing", "returning_to_customer") AND '
        'WaitingOn="staff" AND ExecutionStatus="Running"')
    shippable = [s.value for s in ReturnState
                 if refusal(Action.ship_to_customer, Now(state=s)) is None]
    assert shippable == ["exchange_shipping", "repairing", "returning_to_customer"]
    assert query(QUEUES["to_ship"], SAM, NOW).endswith(
        'MerchantId IN ("fine-jewelry", "opalook")')  # per merchant, like the others
    assert query(QUEUES["to_ship"], ADMIN, NOW, merchant="opalook") == (
        'ReturnState IN ("exchange_shipping", "repairing", "returning_to_customer") AND '
        'MerchantId="opalook" AND WaitingOn="staff" AND ExecutionStatus="Running"')
