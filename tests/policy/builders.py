"""Valid `return.requested` events for each seed merchant, on fixed dates.

Every builder returns a validated `ReturnRequested`; keyword arguments change one thing at a time:

    fine_jewelry_request(days_after_delivery=16, items=[requested_item(reason="size_fit")])

Dates are fixed (delivery on Monday 2 March 2026, 10:00 in the merchant's time zone) so a test
about "day 15" means exactly that. Defaults per merchant follow its seed: Opalook sells to French
professionals in EUR with 20 % VAT, the pearl platform to German consumers in EUR, the fine
jewelry store to US consumers in USD. By default every kind of evidence is attached, so a test
about one rule is not tripped by another; pass `evidence=[...]` to test evidence rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from returns.events import EvidenceKind, ReturnRequested

POLICIES_DIR = Path(__file__).resolve().parents[2] / "policies"
ALL_EVIDENCE = tuple(kind.value for kind in EvidenceKind)

MERCHANTS: dict[str, dict[str, Any]] = {
    "opalook": {
        "timezone": "Europe/Paris", "currency": "EUR", "customer_type": "business", "country": "FR",
        "address": {"line1": "8 rue de la Republique", "city": "Lyon", "postal_code": "69002",
                    "country": "FR"},
        "line": {"title": "Silver hoop earrings", "unit_price": 12_000, "unit_tax": 2_000},
    },
    "pearl-platform": {
        "timezone": "Asia/Shanghai", "currency": "EUR", "customer_type": "consumer", "country": "DE",
        "address": {"line1": "Hauptstrasse 5", "city": "Berlin", "postal_code": "10115",
                    "country": "DE"},
        "line": {"title": "Freshwater pearl necklace", "unit_price": 15_000, "unit_tax": 2_395,
                 "pearl_type": "freshwater", "category": "necklace"},
    },
    "fine-jewelry": {
        "timezone": "Asia/Shanghai", "currency": "USD", "customer_type": "consumer", "country": "US",
        "address": {"line1": "350 Fifth Avenue", "city": "New York", "postal_code": "10118",
                    "region": "NY", "country": "US"},
        "line": {"title": "Gold solitaire ring", "unit_price": 50_000, "unit_tax": 0,
                 "material": "gold_18k", "category": "ring"},
    },
}


def order_line(line_id: str = "L1", *, sku: str | None = None, title: str = "Jewel",
               quantity: int = 1, unit_price: int = 10_000, unit_tax: int = 0,
               **attributes: Any) -> dict:
    """One order line; extra keywords are `LineAttributes` (engraved=True, material="...")."""
    return {"line_id": line_id, "sku": sku or f"SKU-{line_id}", "title": title,
            "quantity": quantity, "unit_price": unit_price, "unit_tax": unit_tax,
            "attributes": attributes}


def merchant_line(merchant_id: str, line_id: str = "L1", **changes: Any) -> dict:
    """The merchant's typical line (see MERCHANTS), with `changes` applied."""
    return order_line(line_id, **(MERCHANTS[merchant_id]["line"] | changes))


def requested_item(line_id: str = "L1", *, reason: str = "defective", resolution: str = "refund",
                   quantity: int = 1, evidence: list[str] | tuple[str, ...] = ALL_EVIDENCE,
                   exchange_for: str | None = None, customer_note: str | None = None,
                   declared_missing: list[str] | tuple[str, ...] = ()) -> dict:
    if resolution == "exchange" and exchange_for is None:
        exchange_for = "same style, size 54"
    return {"line_id": line_id, "quantity": quantity, "reason": reason, "resolution": resolution,
            "evidence": list(evidence), "exchange_for": exchange_for,
            "customer_note": customer_note,
            **({"evidence_declared_missing": list(declared_missing)} if declared_missing else {})}


def delivered_at(merchant_id: str) -> datetime:
    """Monday 2 March 2026, 10:00 in the merchant's time zone."""
    return datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo(MERCHANTS[merchant_id]["timezone"]))


def return_requested(merchant_id: str, *, days_after_delivery: int = 3,
                     lines: list[dict] | None = None, items: list[dict] | None = None,
                     customer_type: str | None = None, country: str | None = None,
                     shipping_address: dict | None = None, currency: str | None = None,
                     delivered: bool = True, estimated_return_shipping: int | None = None,
                     payments: list[dict] | None = None, shipping_paid: int = 0,
                     return_id: str = "R-1001") -> ReturnRequested:
    """A valid request made `days_after_delivery` calendar days after delivery (14:00 local)."""
    m = MERCHANTS[merchant_id]
    lines = lines or [merchant_line(merchant_id)]
    items = items or [requested_item(lines[0]["line_id"])]
    country = country or m["country"]
    address = shipping_address or (m["address"] if country == m["country"]
                                   else {"line1": "1 Main Street", "city": "Capital",
                                         "postal_code": "1000", "country": country})
    signed = delivered_at(merchant_id)
    total = sum(ln["unit_price"] * ln["quantity"] for ln in lines) + shipping_paid
    return ReturnRequested.model_validate({
        "event_id": f"evt-{return_id}",
        "occurred_at": (signed + timedelta(days=days_after_delivery, hours=4)).isoformat(),
        "return_id": return_id,
        "merchant_id": merchant_id,
        "order": {
            "order_id": f"O-{return_id}",
            "currency": currency or m["currency"],
            "placed_at": (signed - timedelta(days=4)).isoformat(),
            "delivered_at": signed.isoformat() if delivered else None,
            "customer": {"id": "C-1", "email": "buyer@example.com", "name": "Camille Martin",
                         "type": customer_type or m["customer_type"], "country": country},
            "shipping_address": address,
            "payments": payments or [{"payment_id": "P-1", "method": "card", "amount": total}],
            "lines": lines,
            "shipping_paid": shipping_paid,
        },
        "items": items,
        "estimated_return_shipping": estimated_return_shipping,
    })


def opalook_request(**changes: Any) -> ReturnRequested:
    return return_requested("opalook", **changes)


def pearl_platform_request(**changes: Any) -> ReturnRequested:
    return return_requested("pearl-platform", **changes)


def fine_jewelry_request(**changes: Any) -> ReturnRequested:
    return return_requested("fine-jewelry", **changes)
