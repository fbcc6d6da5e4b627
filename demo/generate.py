"""Demo events for the three demo merchants, dated relative to a day so that they stay valid.

    python demo/generate.py > events.jsonl               today's events (JSON Lines)
    python demo/generate.py --date 2026-11-23            another day's
    python starter.py send events.jsonl                  feed them to the product

Return ids carry the day (`OPL-261123-01`): running it again the same day gives the same ids
(the product answers "duplicate"), the next day gives new returns. All times are before midnight
UTC of that day, so no event is in the future. The people and addresses are invented.

First every return.requested, then the carrier's scans and a withdrawal for some of them.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time, timedelta, timezone
from typing import Any


def _vat(price: int, rate_percent: int) -> int:
    """VAT included in a tax-inclusive price, in minor units, rounded down."""
    return price * rate_percent // (100 + rate_percent)


class _Day:
    def __init__(self, today: date) -> None:
        self.midnight = datetime.combine(today, time(0, 0), tzinfo=timezone.utc)
        self.stamp = today.strftime("%y%m%d")

    def at(self, days_ago: int, hour: int, minute: int = 0) -> str:
        moment = self.midnight - timedelta(days=days_ago) + timedelta(hours=hour, minutes=minute)
        return moment.isoformat().replace("+00:00", "Z")


def _line(line_id: str, sku: str, title: str, quantity: int, unit_price: int, vat_percent: int,
          **attributes: Any) -> dict[str, Any]:
    return {"line_id": line_id, "sku": sku, "title": title, "quantity": quantity,
            "unit_price": unit_price, "unit_tax": _vat(unit_price, vat_percent),
            "attributes": attributes}


def _order(day: _Day, order_id: str, currency: str, placed_days_ago: int, delivered_days_ago: int,
           customer: dict[str, Any], address: dict[str, Any], lines: list[dict[str, Any]],
           methods: list[str], shipping_paid: int = 0) -> dict[str, Any]:
    """Payments cover the order exactly; with two methods the first is a fixed part (gift card)."""
    total = sum(line["quantity"] * line["unit_price"] for line in lines) + shipping_paid
    amounts = [total] if len(methods) == 1 else [5000, total - 5000]
    payments = [{"payment_id": f"pay-{order_id}-{i + 1}", "method": method, "amount": amount}
                for i, (method, amount) in enumerate(zip(methods, amounts))]
    return {"order_id": order_id, "currency": currency,
            "placed_at": day.at(placed_days_ago, 9, 12),
            "delivered_at": day.at(delivered_days_ago, 14, 30),
            "customer": customer, "shipping_address": address, "payments": payments,
            "lines": lines, "shipping_paid": shipping_paid}


def _requested(day: _Day, return_id: str, merchant_id: str, order: dict[str, Any],
               items: list[dict[str, Any]], days_ago: int, hour: int,
               estimated_return_shipping: int | None = None) -> dict[str, Any]:
    event = {"type": "return.requested", "event_id": f"evt-{return_id}-requested",
             "occurred_at": day.at(days_ago, hour), "return_id": return_id,
             "merchant_id": merchant_id, "order": order, "items": items}
    if estimated_return_shipping is not None:
        event["estimated_return_shipping"] = estimated_return_shipping
    return event


def _opalook(day: _Day) -> list[dict[str, Any]]:
    """French B2B jewellery: boutiques buying stock, EUR, 20 % VAT (21 % in Belgium)."""
    rid = lambda n: f"OPL-{day.stamp}-{n:02d}"  # noqa: E731
    oid = lambda n: f"OPL-ORD-{day.stamp}-{n:02d}"  # noqa: E731

    def boutique(n: int, country: str, city: str, postal: str) -> tuple[dict, dict]:
        customer = {"id": f"opl-b2b-{n:03d}", "email": f"achats{n}@boutique-{n}.example.fr",
                    "name": f"Boutique Lumière {n}", "type": "business", "country": country,
                    "locale": "fr"}
        address = {"line1": f"{10 + n} rue des Orfèvres", "city": city, "postal_code": postal,
                   "country": country}
        return customer, address

    c1, a1 = boutique(1, "FR", "Lyon", "69002")
    c2, a2 = boutique(2, "FR", "Bordeaux", "33000")
    c3, a3 = boutique(3, "BE", "Bruxelles", "1000")
    c4, a4 = boutique(4, "FR", "Nantes", "44000")
    return [
        _requested(day, rid(1), "opalook", _order(
            day, oid(1), "EUR", 12, 4, c1, a1, [
                _line("1", "OPL-COL-OPALINE-925", "Collier Opaline argent 925", 6, 8900, 20,
                      category="necklace", material="silver_925"),
                _line("2", "OPL-BO-GOUTTE-OR", "Boucles Goutte plaqué or", 10, 4500, 20,
                      category="earrings", material="gold_plated"),
            ], ["bank_transfer"], shipping_paid=1500),
            [{"line_id": "1", "quantity": 2, "reason": "defective", "resolution": "refund",
              "customer_note": "Fermoir cassé sur deux colliers à la réception.",
              "evidence": ["photos", "original_packaging"]}],
            days_ago=2, hour=8),
        _requested(day, rid(2), "opalook", _order(
            day, oid(2), "EUR", 9, 3, c2, a2, [
                _line("1", "OPL-BAG-LUNE-54", "Bague Lune argent, taille 54", 4, 6500, 20,
                      category="ring", material="silver_925"),
            ], ["card"]),
            [{"line_id": "1", "quantity": 4, "reason": "wrong_item", "resolution": "exchange",
              "exchange_for": "Bague Lune argent, taille 52 (commandée)",
              "evidence": ["photos", "original_packaging"]}],
            days_ago=1, hour=10, estimated_return_shipping=1290),
        _requested(day, rid(3), "opalook", _order(
            day, oid(3), "EUR", 20, 11, c3, a3, [
                _line("1", "OPL-BO-CREOLE-OR", "Créoles fines plaqué or", 10, 3900, 21,
                      category="earrings", material="gold_plated"),
                _line("2", "OPL-BRA-JONC-925", "Jonc martelé argent 925", 5, 7200, 21,
                      category="bracelet", material="silver_925"),
            ], ["bank_transfer"], shipping_paid=2000),
            [{"line_id": "1", "quantity": 10, "reason": "changed_mind", "resolution": "refund",
              "customer_note": "Référence qui ne se vend pas en boutique."}],
            days_ago=1, hour=15),
        _requested(day, rid(4), "opalook", _order(
            day, oid(4), "EUR", 6, 2, c4, a4, [
                _line("1", "OPL-PEN-ETOILE-OR", "Pendentif Étoile or 18 carats", 2, 24900, 20,
                      category="pendant", material="gold_750"),
            ], ["card"]),
            [{"line_id": "1", "quantity": 1, "reason": "damaged_in_transit", "resolution": "refund",
              "evidence": ["damage_proof", "logistics_signature", "photos"]}],
            days_ago=1, hour=7),
    ]


def _pearl_platform(day: _Day) -> list[dict[str, Any]]:
    """Pearl jewellery sold to consumers in and outside the EU, in EUR or USD."""
    rid = lambda n: f"PRL-{day.stamp}-{n:02d}"  # noqa: E731
    oid = lambda n: f"PRL-ORD-{day.stamp}-{n:02d}"  # noqa: E731

    def consumer(n: int, name: str, country: str, locale: str, city: str, postal: str,
                 region: str | None = None) -> tuple[dict, dict]:
        customer = {"id": f"prl-cus-{n:04d}", "email": f"customer{n}@mail.example.com",
                    "name": name, "type": "consumer", "country": country, "locale": locale}
        address = {"line1": f"{n} Example Street", "city": city, "postal_code": postal,
                   "country": country}
        if region:
            address["region"] = region
        return customer, address

    c1, a1 = consumer(1, "Lena Beispiel", "DE", "de", "Hamburg", "20095")
    c2, a2 = consumer(2, "Jordan Sample", "US", "en-US", "Portland", "97205", "OR")
    c3, a3 = consumer(3, "Camille Exemple", "FR", "fr", "Marseille", "13001")
    c4, a4 = consumer(4, "Avery Specimen", "CA", "en-CA", "Vancouver", "V6B 1A1", "BC")
    return [
        _requested(day, rid(1), "pearl-platform", _order(
            day, oid(1), "EUR", 10, 5, c1, a1, [
                _line("1", "PRL-AKO-STRAND-7", "Akoya pearl strand 7-7.5 mm, 45 cm", 1, 68000, 19,
                      category="necklace", pearl_type="akoya", certificate_number="AK-2291-7"),
            ], ["klarna"]),
            [{"line_id": "1", "quantity": 1, "reason": "changed_mind", "resolution": "refund",
              "evidence": ["original_packaging", "certificate"]}],
            days_ago=1, hour=18, estimated_return_shipping=690),
        _requested(day, rid(2), "pearl-platform", _order(
            day, oid(2), "USD", 15, 7, c2, a2, [
                _line("1", "PRL-SS-DROP-11", "South Sea golden pearl drop earrings 11 mm", 1,
                      129000, 0, category="earrings", pearl_type="south_sea",
                      certificate_number="SS-88120"),
                _line("2", "PRL-CARE-KIT", "Pearl care kit", 1, 2500, 0, category="accessory"),
            ], ["gift_card", "card"], shipping_paid=1500),
            [{"line_id": "1", "quantity": 1, "reason": "not_as_described", "resolution": "refund",
              "customer_note": "Lustre much duller than the product photos; one pearl has a "
                               "visible spot.",
              "evidence": ["photos", "certificate"]}],
            days_ago=2, hour=21),
        _requested(day, rid(3), "pearl-platform", _order(
            day, oid(3), "EUR", 25, 9, c3, a3, [
                _line("1", "PRL-FW-BRACELET-C", "Freshwater pearl bracelet, custom length", 1, 18900,
                      20, category="bracelet", pearl_type="freshwater", customized=True),
            ], ["card"]),
            [{"line_id": "1", "quantity": 1, "reason": "size_fit", "resolution": "exchange",
              "exchange_for": "Same bracelet in 17 cm instead of 19 cm"}],
            days_ago=3, hour=11),
        _requested(day, rid(4), "pearl-platform", _order(
            day, oid(4), "USD", 28, 18, c4, a4, [
                _line("1", "PRL-AKO-RING-C", "Akoya pearl ring, custom setting, size 6", 1, 54000,
                      0, category="ring", pearl_type="akoya", customized=True),
            ], ["apple_pay"]),
            [{"line_id": "1", "quantity": 1, "reason": "defective", "resolution": "repair",
              "customer_note": "The pearl came loose from its setting after two weeks.",
              "evidence": ["photos"]}],
            days_ago=1, hour=2),
    ]


def _fine_jewelry(day: _Day) -> list[dict[str, Any]]:
    """US fine jewellery in USD: platinum, engraved pieces, one order shipped to a P.O. box."""
    rid = lambda n: f"FJ-{day.stamp}-{n:02d}"  # noqa: E731
    oid = lambda n: f"FJ-ORD-{day.stamp}-{n:02d}"  # noqa: E731

    def customer(n: int, name: str, region: str, city: str, postal: str,
                 line1: str | None = None) -> tuple[dict, dict]:
        who = {"id": f"fj-{n:05d}", "email": f"buyer{n}@example.net", "name": name,
               "type": "consumer", "country": "US", "locale": "en-US"}
        address = {"line1": line1 or f"{100 + n} Sample Avenue", "city": city,
                   "postal_code": postal, "region": region, "country": "US"}
        return who, address

    c1, a1 = customer(1, "Morgan Placeholder", "NY", "New York", "10001")
    c2, a2 = customer(2, "Riley Testperson", "AK", "Anchorage", "99501", line1="PO Box 4471")
    c3, a3 = customer(3, "Casey Demo", "TX", "Austin", "78701")
    c4, a4 = customer(4, "Taylor Fictional", "IL", "Chicago", "60601")
    return [
        _requested(day, rid(1), "fine-jewelry", _order(
            day, oid(1), "USD", 14, 6, c1, a1, [
                _line("1", "FJ-PT-BAND-ENG", "Platinum 950 wedding band, engraved", 1, 189000, 0,
                      category="ring", material="platinum_950", engraved=True),
            ], ["card"]),
            [{"line_id": "1", "quantity": 1, "reason": "changed_mind", "resolution": "refund"}],
            days_ago=1, hour=16),
        _requested(day, rid(2), "fine-jewelry", _order(
            day, oid(2), "USD", 11, 4, c2, a2, [
                _line("1", "FJ-PT-SOL-65", "Platinum solitaire ring, size 6.5", 1, 325000, 0,
                      category="ring", material="platinum_950",
                      certificate_number="GIA-2211873340"),
            ], ["card"], shipping_paid=2500),
            [{"line_id": "1", "quantity": 1, "reason": "size_fit", "resolution": "exchange",
              "exchange_for": "Same ring, size 7", "evidence": ["original_packaging",
                                                                 "certificate"]}],
            days_ago=2, hour=13, estimated_return_shipping=2400),
        _requested(day, rid(3), "fine-jewelry", _order(
            day, oid(3), "USD", 30, 21, c3, a3, [
                _line("1", "FJ-LGD-PEND-1CT", "Lab-grown diamond pendant 1 ct, 14k white gold", 1,
                      149000, 0, category="pendant", material="lab_grown_diamond"),
            ], ["shop_pay"]),
            [{"line_id": "1", "quantity": 1, "reason": "defective", "resolution": "repair",
              "customer_note": "One prong is bent and the stone moves.",
              "evidence": ["photos"]}],
            days_ago=1, hour=5),
        _requested(day, rid(4), "fine-jewelry", _order(
            day, oid(4), "USD", 9, 3, c4, a4, [
                _line("1", "FJ-GOLD-HOOP-SALE", "18k gold hoops (final sale)", 1, 42000, 0,
                      category="earrings", material="gold_750", final_sale=True),
                _line("2", "FJ-GOLD-STUD", "18k gold studs", 2, 18000, 0,
                      category="earrings", material="gold_750"),
            ], ["afterpay"]),
            [{"line_id": "1", "quantity": 1, "reason": "style_preference", "resolution": "refund"},
             {"line_id": "2", "quantity": 1, "reason": "style_preference", "resolution": "refund"}],
            days_ago=1, hour=20),
    ]


def _follow_ups(day: _Day) -> list[dict[str, Any]]:
    """Carrier scans for some returns, and one customer who changes their mind."""
    def scanned(return_id: str, merchant_id: str, carrier: str, tracking: str, scan: str,
                days_ago: int, hour: int) -> dict[str, Any]:
        return {"type": "parcel.scanned", "event_id": f"evt-{return_id}-{scan}",
                "occurred_at": day.at(days_ago, hour), "return_id": return_id,
                "merchant_id": merchant_id, "carrier": carrier, "tracking_number": tracking,
                "scan": scan}

    s = day.stamp
    return [
        scanned(f"OPL-{s}-01", "opalook", "Colissimo", f"6A{s}0001FR", "picked_up", 1, 9),
        scanned(f"OPL-{s}-01", "opalook", "Colissimo", f"6A{s}0001FR", "in_transit", 1, 19),
        scanned(f"PRL-{s}-02", "pearl-platform", "UPS", f"1Z{s}PRL02", "picked_up", 1, 15),
        scanned(f"PRL-{s}-02", "pearl-platform", "UPS", f"1Z{s}PRL02", "in_transit", 1, 22),
        scanned(f"FJ-{s}-02", "fine-jewelry", "USPS", f"9400{s}0002", "picked_up", 1, 17),
        {"type": "return.withdrawn", "event_id": f"evt-PRL-{s}-03-withdrawn",
         "occurred_at": day.at(1, 12), "return_id": f"PRL-{s}-03", "merchant_id": "pearl-platform",
         "reason": "A local jeweller can shorten the bracelet; keeping it."},
    ]


def demo_events(today: date | None = None) -> list[dict[str, Any]]:
    """Every demo event for `today` (default: the current UTC date), requests first."""
    day = _Day(today or datetime.now(timezone.utc).date())
    return _opalook(day) + _pearl_platform(day) + _fine_jewelry(day) + _follow_ups(day)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo/generate.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", type=date.fromisoformat, default=None,
                        help="the day the events are relative to (default: today, UTC)")
    args = parser.parse_args(argv)
    for event in demo_events(args.date):
        sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
