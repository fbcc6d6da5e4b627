"""A return request taken by customer service on the customer's behalf: an order placed off-line
(000 §3.3) or a request made by email or phone (004 §3.1).

Pure: the form in, the `return.requested` event as the order system would send it (a dict, read
by ingestion.intake.parse_event like any other event) out, or `FormProblem` naming the field. The
staff member who took the request is recorded in the event id (`cs-<channel>.<name>.<n>`), which
the return's audit trail shows with "return requested": the event contract needs no new field.
The order's lines are entered or pasted one per line: `line id; sku; title; quantity; unit price
[; unit tax]` (prices as people write them, tax included); the items asked for:
`line id; quantity; reason; resolution [; evidence kinds, comma-separated [; exchange for]]`.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, time
from typing import Any

from console.forms import Form, FormProblem, amount
from returns.events import EvidenceKind, Resolution, ReturnReason

CHANNELS = {
    "offline_order": "order placed off-line (000 §3.3)",
    "email": "request by email (004 §3.1)",
    "phone": "request by phone (004 §3.1)",
}
REASONS = [r.value for r in ReturnReason]
RESOLUTIONS = [r.value for r in Resolution if r != Resolution.returnless_refund]
EVIDENCE = [e.value for e in EvidenceKind]


def _text(form: Form, key: str) -> str:
    return " ".join(str(form.get(key) or "").split())


def _rows(text: str, label: str, columns: tuple[int, int]) -> list[list[str]]:
    rows = []
    for n, raw in enumerate(str(text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        cells = [c.strip() for c in re.split(r"[;\t]", raw)]
        if not columns[0] <= len(cells) <= columns[1]:
            raise FormProblem(f"{label}, row {n}: {len(cells)} values; expected "
                              f"{columns[0]} to {columns[1]} separated by ';'")
        rows.append(cells)
    if not rows:
        raise FormProblem(f"{label}: enter at least one row")
    return rows


def _day(form: Form, key: str, label: str, required: bool) -> str | None:
    raw = _text(form, key)
    if not raw:
        if required:
            raise FormProblem(f"{label}: required (YYYY-MM-DD)")
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        raise FormProblem(f"{label}: {raw!r} is not a date (YYYY-MM-DD)") from None
    return datetime.combine(day, time(12, 0), tzinfo=UTC).isoformat()


def _quantity(raw: str, label: str) -> int:
    if not re.fullmatch(r"\d{1,4}", raw):
        raise FormProblem(f"{label}: {raw!r} is not a whole number")
    return int(raw)


def build_request(form: Form, *, merchant_id: str, taken_by: str,
                  now: datetime | None = None) -> dict[str, Any]:
    """The `return.requested` event of the form, as the order system would send it."""
    now = now or datetime.now(UTC)
    channel = _text(form, "channel")
    if channel not in CHANNELS:
        raise FormProblem(f"channel: choose one of {', '.join(CHANNELS)}")
    currency = _text(form, "currency").upper()
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise FormProblem("currency: a 3-letter ISO code, e.g. EUR")
    lines = []
    for n, cells in enumerate(_rows(form.get("lines"), "order lines", (5, 6)), start=1):
        line_id, sku, title, quantity, price, *tax = cells
        lines.append({"line_id": line_id, "sku": sku, "title": title,
                      "quantity": _quantity(quantity, f"order lines, row {n}: quantity"),
                      "unit_price": amount(price, currency, f"order lines, row {n}: unit price"),
                      "unit_tax": amount(tax[0], currency, f"order lines, row {n}: unit tax")
                      if tax and tax[0] else 0})
    items = []
    for n, cells in enumerate(_rows(form.get("items"), "items returned", (4, 6)), start=1):
        line_id, quantity, reason, resolution, *rest = cells
        evidence, exchange_for = (rest + ["", ""])[:2]
        item = {"line_id": line_id,
                "quantity": _quantity(quantity, f"items returned, row {n}: quantity"),
                "reason": reason, "resolution": resolution,
                "evidence": [e.strip() for e in evidence.split(",") if e.strip()]}
        if exchange_for:
            item["exchange_for"] = exchange_for
        items.append(item)
    paid = amount(form.get("paid"), currency, "amount paid")
    if paid is None:
        paid = sum((ln["unit_price"] or 0) * ln["quantity"] for ln in lines)
    order_id = _text(form, "order_id")
    return_id = _text(form, "return_id") or f"CS-{uuid.uuid4().hex[:8].upper()}"
    country = _text(form, "country").upper()
    return {
        "type": "return.requested",
        # Who took it, and how: shown in the return's audit trail ("return requested").
        "event_id": f"cs-{channel.replace('_', '-')}.{taken_by}.{uuid.uuid4().hex[:8]}"[:64],
        "occurred_at": now.isoformat(),
        "return_id": return_id,
        "merchant_id": merchant_id,
        "order": {
            "order_id": order_id,
            "currency": currency,
            "placed_at": _day(form, "placed_on", "placed on", required=True),
            "delivered_at": _day(form, "delivered_on", "delivered on", required=False),
            "customer": {"id": _text(form, "customer_id") or f"CS-{order_id}"[:64],
                         "email": _text(form, "email"), "name": _text(form, "name"),
                         "type": _text(form, "customer_type") or "consumer",
                         "country": country, "locale": _text(form, "locale") or "en"},
            "shipping_address": {"line1": _text(form, "address_line1"),
                                 "city": _text(form, "city"),
                                 "postal_code": _text(form, "postal_code"), "country": country},
            "payments": [{"payment_id": f"P-{order_id}"[:64],
                          "method": _text(form, "payment_method") or "card", "amount": paid}],
            "lines": lines,
        },
        "items": items,
    }
