"""From a console form to the one JSON object its update or signal takes.

Pure: the form's fields (a multidict, as aiohttp reads a POST) and the return's status in, one
`returns.actions` model out, or `FormProblem` naming the field. The actor is never read from the
form: the server passes the signed-in person. Per-line fields are named `<field>@<line_id>`
(`@` is not allowed in a line id). Amounts are typed as people write them (`12.50`) and become
integer minor units of the return's currency.
"""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from returns.actions import (
    Acknowledge, Approve, Cancel, ExtendDeadline, RecordInspection, RecordManualRefund, Reject,
    RequestInfo, RetryRefund, ShipToCustomer, WarehouseReceipt,
)
from returns.allowed import Action
from returns.money import exponent
from returns.status import ReturnStatus
from runtime.converter import describe_validation_error
from workflows import names


class Form(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...


class FormProblem(ValueError):
    """What to fix in the form; the message names the field."""


# The update (or signal) each action sends: the names the Temporal UI's dialogs use.
MESSAGE_NAMES: dict[Action, str] = {
    Action.approve: names.UPDATE_APPROVE,
    Action.reject: names.UPDATE_REJECT,
    Action.request_info: names.UPDATE_REQUEST_INFO,
    Action.warehouse_receipt: names.SIGNAL_WAREHOUSE_RECEIPT,
    Action.record_inspection: names.UPDATE_RECORD_INSPECTION,
    Action.extend_deadline: names.UPDATE_EXTEND_DEADLINE,
    Action.retry_refund: names.UPDATE_RETRY_REFUND,
    Action.record_manual_refund: names.UPDATE_RECORD_MANUAL_REFUND,
    Action.ship_to_customer: names.UPDATE_SHIP_TO_CUSTOMER,
    Action.cancel: names.UPDATE_CANCEL,
    Action.acknowledge: names.UPDATE_ACKNOWLEDGE,
}
SIGNALS = frozenset({Action.warehouse_receipt})


def field(name: str, line_id: str) -> str:
    return f"{name}@{line_id}"


def _text(form: Form, key: str) -> str | None:
    value = form.get(key)
    if value is None:
        return None
    value = " ".join(str(value).split())
    return value or None


def _flag(form: Form, key: str) -> bool:
    return form.get(key) not in (None, "", "0", "off")


def _int(form: Form, key: str, label: str) -> int | None:
    raw = _text(form, key)
    if raw is None:
        return None
    if not re.fullmatch(r"\d{1,6}", raw):
        raise FormProblem(f"{label}: {raw!r} is not a whole number")
    return int(raw)


def amount(raw: str | None, currency: str, label: str) -> int | None:
    """`"12.50"`, EUR -> 1250; `"12,5"` too. None when left empty."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip().replace(" ", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FormProblem(f"{label}: {raw!r} is not an amount (e.g. 12.50)") from None
    exp = exponent(currency)
    minor = value * (10 ** exp)
    if not value.is_finite() or minor != minor.to_integral_value() or value < 0:
        raise FormProblem(f"{label}: {raw!r} is not an amount in {currency} "
                          f"({exp} decimals at most)")
    return int(minor)


def _model(cls: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    # Read as JSON, exactly as the worker reads the object the Temporal UI sends (strict JSON
    # mode: "ship_by" is a DeadlineKind, "3" is not 3).
    try:
        return cls.model_validate_json(json.dumps(data))
    except ValidationError as err:
        raise FormProblem(describe_validation_error(err)) from None


def build(action: Action, form: Form, status: ReturnStatus | None, actor: str) -> BaseModel:
    """The payload of `action` from `form`, sent as `actor` (the signed-in person). `status`
    may be None where `console.status_needed.needs_status` says the form does not read it."""
    return _BUILDERS[action](form, status, actor)


def _approve(form: Form, status: ReturnStatus | None, actor: str) -> Approve:
    overrides, stock = [], []
    for item in status.items if status is not None else ():
        one = {k: _flag(form, field(k, item.line_id))
               for k in ("waive_fees", "accept_exception", "comparison_purchase")}
        resolution = _text(form, field("resolution", item.line_id))
        if resolution:
            one["resolution"] = resolution
        if any(one.values()):
            reason = _text(form, field("reason", item.line_id))
            if reason is None:
                raise FormProblem(f"reason (line {item.line_id}): say why this line is an "
                                  f"exception; it is kept in the audit trail")
            overrides.append({"line_id": item.line_id, "reason": reason, **one})
        if _flag(form, field("stock_confirmed", item.line_id)):
            stock.append(item.line_id)
    return _model(Approve, {"actor": actor, "note": _text(form, "note"), "overrides": overrides,
                            "stock_confirmed": stock})


def _reject(form: Form, status: ReturnStatus, actor: str) -> Reject:
    return _model(Reject, {"actor": actor, "reason": _text(form, "reason")})


def _request_info(form: Form, status: ReturnStatus, actor: str) -> RequestInfo:
    return _model(RequestInfo, {"actor": actor, "question": _text(form, "question")})


def _receipt(form: Form, status: ReturnStatus, actor: str) -> WarehouseReceipt:
    items = []
    for item in status.items:
        quantity = _int(form, field("quantity", item.line_id), f"quantity (line {item.line_id})")
        if quantity:
            items.append({"line_id": item.line_id, "quantity": quantity,
                          "condition": _text(form, field("condition", item.line_id))})
    if not items:
        raise FormProblem("quantity: enter how many units of at least one line arrived")
    # What the scanner typed (the parcel's label or the receipt's number); a fresh number when
    # nothing was scanned, so the same form sent twice is still one receipt per parcel opened.
    scanned = (_text(form, "receipt_id") or "").replace(" ", "")
    receipt_id = scanned or f"console-{uuid.uuid4().hex[:12]}"
    return _model(WarehouseReceipt, {"actor": actor, "receipt_id": receipt_id, "items": items,
                                     "note": _text(form, "note")})


def _inspection(form: Form, status: ReturnStatus, actor: str) -> RecordInspection:
    items = []
    for item in status.items:
        if item.quantity_received <= 0:
            continue
        label = f"line {item.line_id}"
        result = _text(form, field("result", item.line_id))
        if result not in ("passed", "failed"):
            raise FormProblem(f"result ({label}): choose passed or failed")
        confirmed = [n for n in range(1, len(item.inspection_checks) + 1)
                     if _flag(form, field(f"check{n}", item.line_id))]
        one: dict[str, Any] = {
            "line_id": item.line_id, "passed": result == "passed",
            "quantity": _int(form, field("quantity", item.line_id), f"quantity ({label})"),
            "notes": _text(form, field("notes", item.line_id)),
            "inspection_fee": amount(form.get(field("inspection_fee", item.line_id)),
                                     status.currency, f"inspection fee ({label})"),
            # A check is ticked when it was done and the item met it; when the item failed,
            # the checks left unticked are the ones it failed.
            "checks_confirmed": len(confirmed) == len(item.inspection_checks),
            "failed_checks": [] if result == "passed" else [
                n for n in range(1, len(item.inspection_checks) + 1) if n not in confirmed],
        }
        items.append({k: v for k, v in one.items() if v is not None})
    if not items:
        raise FormProblem("items: nothing was received yet; record the receipt first")
    data: dict[str, Any] = {"actor": actor, "items": items}
    postage = amount(form.get("postage_amount"), status.currency, "postage reimbursed")
    if postage is not None:
        data["postage_reimbursement"] = {
            "amount": postage, "courier_reference": _text(form, "postage_courier_reference"),
            "standard_shipping": amount(form.get("postage_standard_shipping"), status.currency,
                                        "standard shipping rate")}
    return _model(RecordInspection, data)


def _extend(form: Form, status: ReturnStatus, actor: str) -> ExtendDeadline:
    return _model(ExtendDeadline, {"actor": actor, "deadline": _text(form, "deadline"),
                                   "days": _int(form, "days", "days"),
                                   "reason": _text(form, "reason")})


def _retry(form: Form, status: ReturnStatus, actor: str) -> RetryRefund:
    return _model(RetryRefund, {"actor": actor, "note": _text(form, "note")})


def _manual(form: Form, status: ReturnStatus, actor: str) -> RecordManualRefund:
    return _model(RecordManualRefund, {
        "actor": actor, "amount": amount(form.get("amount"), status.currency, "amount"),
        "reference": _text(form, "reference"), "note": _text(form, "note")})


def _ship(form: Form, status: ReturnStatus, actor: str) -> ShipToCustomer:
    data: dict[str, Any] = {
        "actor": actor, "carrier": _text(form, "carrier"),
        "tracking_number": (_text(form, "tracking_number") or "").replace(" ", "") or None,
        "fee_payment_reference": _text(form, "fee_payment_reference"),
        "checks_confirmed": _flag(form, "checks_confirmed"), "note": _text(form, "note")}
    paid = amount(form.get("payment_amount"), status.currency, "customer paid")
    reference = _text(form, "payment_reference")
    if paid is not None or reference:
        data["customer_payment"] = {"reference": reference, "amount": paid}
    return _model(ShipToCustomer, data)


def _cancel(form: Form, status: ReturnStatus, actor: str) -> Cancel:
    return _model(Cancel, {"actor": actor, "reason": _text(form, "reason")})


def _acknowledge(form: Form, status: ReturnStatus, actor: str) -> Acknowledge:
    return _model(Acknowledge, {"actor": actor, "note": _text(form, "note")})


_BUILDERS = {
    Action.approve: _approve, Action.reject: _reject, Action.request_info: _request_info,
    Action.warehouse_receipt: _receipt, Action.record_inspection: _inspection,
    Action.extend_deadline: _extend, Action.retry_refund: _retry,
    Action.record_manual_refund: _manual, Action.ship_to_customer: _ship,
    Action.cancel: _cancel, Action.acknowledge: _acknowledge,
}


def scanned(entered: dict[str, list[str]], status: ReturnStatus, code: str) -> tuple[dict, str]:
    """An item scanned into the receipt form (its SKU or line id): one more unit of its line in
    the form's values, and what to tell the person. Nothing is sent until the form is."""
    code = code.strip()
    matches = [i for i in status.items
               if code.lower() in (i.sku.lower(), i.line_id.lower())]
    if not matches:
        skus = ", ".join(f"{i.sku} (line {i.line_id})" for i in status.items)
        raise FormProblem(f"scan: {code!r} is not an item of this return (items: {skus})")
    item = matches[0]
    key = field("quantity", item.line_id)
    current = (entered.get(key) or [""])[0].strip()
    count = int(current) + 1 if current.isdigit() else 1
    return {**entered, key: [str(count)], "scan": [""]}, (
        f"{item.title} (line {item.line_id}): {count} scanned")
