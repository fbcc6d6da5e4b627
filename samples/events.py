"""Builders for return.requested events used by the lifecycle tests (times relative to now)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from returns.events import ReturnRequested


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def line(line_id="L1", *, sku="RING-1", title="Gold ring", quantity=1, unit_price=20000,
         unit_tax=3333, **attributes) -> dict:
    return {"line_id": line_id, "sku": sku, "title": title, "quantity": quantity,
            "unit_price": unit_price, "unit_tax": unit_tax, "attributes": attributes}


def item(line_id="L1", *, quantity=1, reason="defective", resolution="refund",
         evidence=("photos", "original_packaging", "logistics_signature", "certificate"),
         **extra) -> dict:
    return {"line_id": line_id, "quantity": quantity, "reason": reason,
            "resolution": resolution, "evidence": list(evidence), **extra}


def return_requested(merchant_id="fine-jewelry", *, lines=None, items=None, currency=None,
                     customer_type="consumer", country=None, delivered_days_ago=3,
                     payments=None, estimated_return_shipping=None, return_id=None,
                     address=None) -> ReturnRequested:
    now = _now()
    country = country or {"opalook": "FR", "pearl-platform": "DE"}.get(merchant_id, "US")
    currency = currency or ("USD" if country == "US" else "EUR")
    lines = lines or [line()]
    items = items or [item(lines[0]["line_id"])]
    total = sum(ln["unit_price"] * ln["quantity"] for ln in lines)
    return_id = return_id or f"T{uuid.uuid4().hex[:10].upper()}"
    address = address or {"line1": "12 Main Street", "city": "Springfield", "postal_code": "12345",
                           "country": country}
    return ReturnRequested.model_validate({
        "event_id": f"evt-{uuid.uuid4().hex[:12]}",
        "occurred_at": now.isoformat(),
        "return_id": return_id,
        "merchant_id": merchant_id,
        "order": {
            "order_id": f"O-{return_id}",
            "currency": currency,
            "placed_at": (now - timedelta(days=delivered_days_ago + 4)).isoformat(),
            "delivered_at": (now - timedelta(days=delivered_days_ago)).isoformat(),
            "customer": {"id": "C-1", "email": "ada@example.com", "name": "Ada Lovelace",
                         "type": customer_type, "country": country, "locale": "en"},
            "shipping_address": address,
            "payments": payments or [{"payment_id": f"P-{return_id}", "method": "card",
                                      "amount": total}],
            "lines": lines,
        },
        "items": items,
        "estimated_return_shipping": estimated_return_shipping,
    })
