"""The warehouse's receipts and the inspection, decided without Temporal (returns/receipts.py,
returns/inspection.py): the same checks the workflow and `returns receive` make."""

from __future__ import annotations

import pytest

from returns.actions import (
    ItemInspection, PostageReimbursement, ReceivedItem, RecordInspection, WarehouseReceipt,
)
from returns.allowed import Now
from returns.events import Resolution
from returns.inspection import inspection_fee, inspection_problem
from returns.policy.engine import decide
from returns.policy.registry import PolicyRegistry
from returns.receipts import expected_units, receipt_problems, received_units
from returns.status import ItemStatus, ReturnState
from samples.events import item, line, return_requested
from tests.policy.builders import POLICIES_DIR

S = ReturnState


def status(line_id: str, quantity: int, received: int = 0, *, eligible: bool = True,
           resolution: Resolution | None = Resolution.refund, ships: bool = True,
           checks: tuple[str, ...] = ()) -> ItemStatus:
    return ItemStatus(line_id=line_id, sku="S", title="Ring", quantity_requested=quantity,
                      eligible=eligible, resolution=resolution, needs_return_shipment=ships,
                      quantity_received=received, inspection_checks=list(checks))


def receipt(*lines: tuple[str, int]) -> WarehouseReceipt:
    return WarehouseReceipt(actor="warehouse:anna", receipt_id="scan-1", items=[
        ReceivedItem(line_id=lid, quantity=qty) for lid, qty in lines])


ITEMS = [status("L1", 2, received=1), status("L2", 1, eligible=False, resolution=None),
         status("L3", 1, resolution=Resolution.returnless_refund, ships=False)]


def test_only_what_travels_back_is_expected():
    assert expected_units(ITEMS) == {"L1": 2}
    assert received_units(ITEMS) == {"L1": 1}


@pytest.mark.parametrize("lines,problems", [
    ((("L1", 1),), []),
    ((("L1", 2),), ["line L1: 3 received but only 2 are being returned"]),
    ((("L2", 1),), ["line 'L2' is not part of this return (expected: L1)"]),
    ((("L3", 1), ("L9", 1)), ["line 'L3' is not part of this return (expected: L1)",
                              "line 'L9' is not part of this return (expected: L1)"]),
])
def test_a_receipt_fits_what_is_still_expected(lines, problems):
    now = Now(state=S.awaiting_shipment)
    assert receipt_problems(now, expected_units(ITEMS), received_units(ITEMS),
                            receipt(*lines)) == problems


def test_a_parcel_scanned_in_the_moment_after_the_approval_is_taken():
    """The warehouse may record a parcel while the return is still `approved` (the approval email
    going out, a worker restarting): it is expected, so it counts (found by bench/faults.py)."""
    assert receipt_problems(Now(state=S.approved), expected_units(ITEMS), received_units(ITEMS),
                            receipt(("L1", 1))) == []


def test_a_receipt_out_of_turn_says_when_receipts_are_taken():
    for now in (Now(state=S.under_review), Now(state=S.inspecting, inspection_recorded=True)):
        [problem] = receipt_problems(now, {"L1": 2}, {}, receipt(("L1", 1)))
        assert "from the approval" in problem or "already been recorded" in problem


@pytest.fixture(scope="module")
def decision():
    request = return_requested("fine-jewelry", lines=[line("L1", quantity=2), line("L2")],
                               items=[item("L1", quantity=2), item("L2")])
    return decide(PolicyRegistry.load(POLICIES_DIR).get("fine-jewelry"), request)


def inspect(*results: ItemInspection, postage: PostageReimbursement | None = None):
    return RecordInspection(actor="ines", items=list(results), postage_reimbursement=postage)


def test_an_inspection_covers_every_received_line_and_no_other(decision):
    items = {"L1": status("L1", 2, received=2), "L2": status("L2", 1)}
    assert inspection_problem(decision, items, inspect(ItemInspection(line_id="L1", passed=True))) \
        is None
    assert "line 'L2' was not received (received: L1)" in inspection_problem(
        decision, items, inspect(ItemInspection(line_id="L2", passed=True)))
    items["L2"] = status("L2", 1, received=1)
    assert inspection_problem(decision, items, inspect(
        ItemInspection(line_id="L1", passed=True))) == \
        "items: inspect every received line; missing L2"
    assert "quantity 3 is more than the 2 received" in inspection_problem(decision, items, inspect(
        ItemInspection(line_id="L1", passed=True, quantity=3),
        ItemInspection(line_id="L2", passed=False)))


def test_a_check_the_policy_asks_for_must_be_confirmed_before_a_pass(decision):
    """003 §IV.2 (the certificate matches the product number): a pass needs checks_confirmed."""
    items = {"L1": status("L1", 2, received=2, checks=("certificate matches",))}
    assert "can pass only once the inspection confirmed: certificate matches" in \
        inspection_problem(decision, items, inspect(ItemInspection(line_id="L1", passed=True)))
    assert inspection_problem(decision, items, inspect(
        ItemInspection(line_id="L1", passed=True, checks_confirmed=True))) is None
    assert inspection_problem(decision, items, inspect(
        ItemInspection(line_id="L1", passed=False))) is None


def test_an_inspection_fee_only_where_the_policy_allows_it(decision):
    """003 §V.1.4: the fine-jewelry policy (004) charges none, so any fee is refused."""
    items = {"L1": status("L1", 2, received=2)}
    action = inspect(ItemInspection(line_id="L1", passed=True, inspection_fee=500))
    assert "the policy charges no inspection fee for it (inspection_fee)" in inspection_problem(
        decision, items, action)
    assert inspection_fee(action, "L1") == 500 and inspection_fee(action, "L2") == 0
