"""demo/generate.py: realistic events that stay valid whatever the day."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from demo.generate import demo_events
from ingestion.intake import parse_event
from returns.events import ReturnRequested

from ingestion_support import DEMO_MERCHANTS, ROOT

MERCHANTS = DEMO_MERCHANTS


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2028, 2, 29),
                                   datetime.now(timezone.utc).date()])
def test_every_demo_event_is_valid_recent_and_for_a_demo_merchant(today):
    events = [parse_event(json.dumps(e)) for e in demo_events(today)]
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc)

    requests = [e for e in events if isinstance(e, ReturnRequested)]
    assert Counter(e.merchant_id for e in requests) == {m: 4 for m in MERCHANTS}
    assert {e.merchant_id for e in events} == set(DEMO_MERCHANTS)
    for event in events:
        assert midnight - timedelta(days=4) <= event.occurred_at <= midnight, event.event_id
    for request in requests:
        delivered = request.order.delivered_at
        assert midnight - timedelta(days=21) <= delivered <= request.occurred_at, request.return_id
        assert request.order.total_paid == request.order.shipping_paid + sum(
            line.quantity * line.unit_price for line in request.order.lines)
    # Follow-ups come after every request and point at a requested return.
    first_follow_up = len(requests)
    assert all(isinstance(e, ReturnRequested) for e in events[:first_follow_up])
    requested_ids = {e.return_id: e for e in requests}
    for follow_up in events[first_follow_up:]:
        assert follow_up.occurred_at > requested_ids[follow_up.return_id].occurred_at
    assert {e.type for e in events[first_follow_up:]} == {"parcel.scanned", "return.withdrawn"}
    assert len({e.event_id for e in events}) == len(events)


def test_the_demo_covers_each_merchants_cases():
    requests = [parse_event(json.dumps(e)) for e in demo_events(date(2026, 5, 4))
                if e["type"] == "return.requested"]
    by_merchant = {m: [r for r in requests if r.merchant_id == m] for m in MERCHANTS}

    opalook = by_merchant["opalook"]
    assert {r.order.currency for r in opalook} == {"EUR"}
    assert {r.order.customer.type for r in opalook} == {"business"}

    pearls = by_merchant["pearl-platform"]
    assert {r.order.currency for r in pearls} == {"EUR", "USD"}
    assert {r.order.customer.country for r in pearls} & {"DE", "FR"}
    assert {r.order.customer.country for r in pearls} & {"US", "CA"}
    lines = [line for r in pearls for line in r.order.lines]
    assert {"akoya", "south_sea", "freshwater"} <= {line.attributes.pearl_type for line in lines}
    assert any(line.attributes.customized for line in lines)

    fine = by_merchant["fine-jewelry"]
    assert {r.order.currency for r in fine} == {"USD"}
    lines = [line for r in fine for line in r.order.lines]
    assert any(line.attributes.engraved for line in lines)
    assert any(line.attributes.material == "platinum_950" for line in lines)
    assert any(r.order.shipping_address.line1.upper().startswith("PO BOX") for r in fine)

    reasons = {item.reason for r in requests for item in r.items}
    resolutions = {item.resolution for r in requests for item in r.items}
    assert len(reasons) >= 6 and {"refund", "exchange", "repair"} <= set(resolutions)


def test_return_ids_carry_the_day_so_each_day_gives_new_returns():
    monday = {e["return_id"] for e in demo_events(date(2026, 5, 4))}
    tuesday = {e["return_id"] for e in demo_events(date(2026, 5, 5))}
    assert monday.isdisjoint(tuesday)
    assert demo_events(date(2026, 5, 4)) == demo_events(date(2026, 5, 4))


def test_the_script_prints_json_lines():
    out = subprocess.run([sys.executable, str(ROOT / "demo" / "generate.py"), "--date",
                          "2026-05-04"], check=True, capture_output=True, text=True).stdout
    assert [json.loads(line) for line in out.splitlines()] == demo_events(date(2026, 5, 4))
