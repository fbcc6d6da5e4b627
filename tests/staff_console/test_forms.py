"""Console forms to payloads (console/forms.py), pure: every action's form builds the JSON object
the Temporal UI's dialog would send, with the signed-in person as actor; a bad field is named.
Covers the forms the browser tests cannot reach on the demo returns (ship to the customer, a
failed refund, acknowledge)."""

from __future__ import annotations

import pytest
from multidict import MultiDict

from console.forms import MESSAGE_NAMES, FormProblem, amount, build, field
from returns.allowed import Action
from returns.status import ItemStatus, ReturnState, ReturnStatus


def status(**extra) -> ReturnStatus:
    items = [ItemStatus(line_id="L1", sku="RING-1", title="Gold ring", quantity_requested=1,
                        eligible=True, resolution="refund", quantity_received=1,
                        inspection_checks=["003 §IV.2: certificate matches", "004 §2.3: not worn"]),
             ItemStatus(line_id="L2", sku="EAR-2", title="Earrings", quantity_requested=2,
                        eligible=True, resolution="refund")]
    return ReturnStatus(return_id="R1", merchant_id="fine-jewelry", order_id="O1",
                        state=ReturnState.inspecting, currency="EUR", items=items, **extra)


def form(**fields) -> MultiDict:
    return MultiDict({k.replace("__", "@"): v for k, v in fields.items()})


def test_the_actor_is_the_signed_in_person_never_the_form():
    payload = build(Action.reject, form(reason="worn: scratches", actor="someone-else"),
                    status(), "sam")
    assert payload.model_dump(exclude_none=True) == {"actor": "sam", "reason": "worn: scratches"}


def test_each_action_sends_the_uis_message_name():
    assert MESSAGE_NAMES[Action.warehouse_receipt] == "warehouse_receipt"
    assert MESSAGE_NAMES[Action.record_inspection] == "record_inspection"
    assert set(MESSAGE_NAMES) == set(Action)


def test_approve_with_overrides_and_stock():
    payload = build(Action.approve, form(note="ok", waive_fees__L1="on",
                                         comparison_purchase__L1="on",
                                         reason__L1="loyal customer", stock_confirmed__L2="on",
                                         resolution__L2="exchange", reason__L2="asked by phone"),
                    status(), "sam")
    assert payload.model_dump(exclude_defaults=True) == {
        "actor": "sam", "note": "ok", "stock_confirmed": ["L2"],
        "overrides": [{"line_id": "L1", "waive_fees": True, "comparison_purchase": True,
                       "reason": "loyal customer"},
                      {"line_id": "L2", "resolution": "exchange", "reason": "asked by phone"}]}


def test_an_exception_needs_its_reason():
    with pytest.raises(FormProblem, match=r"^reason \(line L1\)"):
        build(Action.approve, form(accept_exception__L1="on"), status(), "sam")


def test_receipt_per_line_with_the_scanned_number():
    payload = build(Action.warehouse_receipt,
                    form(receipt_id=" SCAN 0001 ", quantity__L1="1", condition__L1="sealed",
                         quantity__L2="0"), status(), "wes")
    assert payload.model_dump(exclude_none=True) == {
        "actor": "wes", "receipt_id": "SCAN0001",
        "items": [{"line_id": "L1", "quantity": 1, "condition": "sealed"}]}
    generated = build(Action.warehouse_receipt, form(quantity__L2="2"), status(), "wes")
    assert generated.receipt_id.startswith("console-")
    with pytest.raises(FormProblem, match="^quantity"):
        build(Action.warehouse_receipt, form(), status(), "wes")
    with pytest.raises(FormProblem, match=r"^quantity \(line L1\): 'two'"):
        build(Action.warehouse_receipt, form(quantity__L1="two"), status(), "wes")


def test_inspection_checks_fees_and_postage():
    passed = build(Action.record_inspection,
                   form(result__L1="passed", check1__L1="on", check2__L1="on",
                        inspection_fee__L1="12,50", postage_amount="8.90",
                        postage_courier_reference="DHL-1", postage_standard_shipping="6"),
                   status(), "ines")
    assert passed.model_dump(exclude_none=True) == {
        "actor": "ines",
        "items": [{"line_id": "L1", "passed": True, "inspection_fee": 1250,
                   "checks_confirmed": True, "failed_checks": []}],
        "postage_reimbursement": {"amount": 890, "courier_reference": "DHL-1",
                                  "standard_shipping": 600}}
    failed = build(Action.record_inspection,
                   form(result__L1="failed", check1__L1="on", notes__L1="worn clasp"),
                   status(), "ines")
    item = failed.items[0]
    assert (item.passed, item.checks_confirmed, item.failed_checks, item.notes) == (
        False, False, [2], "worn clasp")  # the unticked check is the one it failed
    with pytest.raises(FormProblem, match=r"^result \(line L1\)"):
        build(Action.record_inspection, form(), status(), "ines")


def test_ship_to_customer_with_the_customers_payment():
    payload = build(Action.ship_to_customer,
                    form(carrier="UPS", tracking_number="1Z 999 AA1", checks_confirmed="on",
                         payment_reference="PAY-4411", payment_amount="120"), status(), "wes")
    assert payload.model_dump(exclude_none=True) == {
        "actor": "wes", "carrier": "UPS", "tracking_number": "1Z999AA1", "checks_confirmed": True,
        "customer_payment": {"reference": "PAY-4411", "amount": 12000}}
    with pytest.raises(FormProblem, match="^tracking_number"):
        build(Action.ship_to_customer, form(carrier="UPS", tracking_number="#"), status(), "wes")


def test_refunds_extend_cancel_acknowledge():
    manual = build(Action.record_manual_refund, form(amount="207.50", reference="BANK-77"),
                   status(), "rita")
    assert (manual.amount, manual.reference) == (20750, "BANK-77")
    assert build(Action.retry_refund, form(note="card fixed"), status(), "rita").note == "card fixed"
    extend = build(Action.extend_deadline, form(deadline="ship_by", days="3",
                                                reason="carrier strike"), status(), "sam")
    assert (extend.deadline.value, extend.days) == ("ship_by", 3)
    with pytest.raises(FormProblem, match="^days"):
        build(Action.extend_deadline, form(deadline="ship_by", days="99", reason="strike"),
              status(), "sam")
    assert build(Action.cancel, form(reason="duplicate"), status(), "sam").reason == "duplicate"
    with pytest.raises(FormProblem, match="^note"):
        build(Action.acknowledge, form(note=""), status(), "sam")


@pytest.mark.parametrize("raw, currency, expected", [
    ("12.50", "EUR", 1250), ("12,5", "EUR", 1250), ("1 200", "JPY", 1200), ("0.125", "KWD", 125),
    ("", "EUR", None)])
def test_amounts_in_minor_units(raw, currency, expected):
    assert amount(raw, currency, "amount") == expected


@pytest.mark.parametrize("raw", ["12.505", "-1", "ten", "1e3x", "NaN"])
def test_bad_amounts_are_named(raw):
    with pytest.raises(FormProblem, match="^amount"):
        amount(raw, "EUR", "amount")


def test_field_names_cannot_collide_with_line_ids():
    assert field("quantity", "L:1") == "quantity@L:1"


def test_a_scanned_item_counts_one_more_of_its_line():
    from console.forms import scanned

    entered, note = scanned({"receipt_id": ["P-1"]}, status(), "ring-1")
    assert entered["quantity@L1"] == ["1"] and entered["receipt_id"] == ["P-1"]
    entered, note = scanned(entered, status(), "RING-1")
    assert entered["quantity@L1"] == ["2"] and note == "Gold ring (line L1): 2 scanned"
    with pytest.raises(FormProblem, match="^scan: 'SHOE-9' is not an item"):
        scanned(entered, status(), "SHOE-9")
