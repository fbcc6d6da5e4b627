"""A request taken by customer service (console/requests.py), pure: the form becomes the
`return.requested` the order system would send, read by the same parser as every event
(ingestion.intake.parse_event); the person and the channel are in the event id."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from multidict import MultiDict

from console.forms import FormProblem
from console.requests import build_request
from ingestion.intake import InvalidEvent, parse_event

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FORM = dict(channel="email", return_id="CS-1", order_id="SHOP-77", placed_on="2026-11-10",
            delivered_on="2026-11-18", currency="eur", payment_method="cash",
            lines="1; RING-1; Gold ring; 1; 200,00\n\n2\tEAR-2\tEarrings\t2\t150.00\t25.00",
            items="2; 1; size_fit; exchange; photos, original_packaging",
            name="Ada Lovelace", email="ada@example.com", address_line1="1 Rue de la Paix",
            postal_code="75002", city="Paris", country="fr", locale="fr")


def test_the_form_is_a_valid_return_requested():
    data = build_request(MultiDict({**FORM, "items": "2; 1; defective; refund; photos"}),
                         merchant_id="opalook", taken_by="sam", now=NOW)
    event = parse_event(json.dumps(data))
    assert event.merchant_id == "opalook" and event.return_id == "CS-1"
    assert event.event_id.startswith("cs-email.sam.")
    assert [(ln.line_id, ln.unit_price, ln.unit_tax) for ln in event.order.lines] == [
        ("1", 20000, 0), ("2", 15000, 2500)]
    assert event.order.total_paid == 50000 and event.order.payments[0].method == "cash"
    assert event.order.customer.country == "FR" and event.order.currency == "EUR"
    assert event.items[0].evidence == ["photos"]


def test_the_shared_parser_names_a_bad_field():
    data = build_request(MultiDict(FORM), merchant_id="opalook", taken_by="sam", now=NOW)
    with pytest.raises(InvalidEvent, match="exchange_for"):
        parse_event(json.dumps(data))


def test_an_exchange_names_what_is_wanted():
    data = build_request(MultiDict({**FORM, "items": "2; 1; size_fit; exchange; photos; size 7"}),
                         merchant_id="opalook", taken_by="sam", now=NOW)
    assert parse_event(json.dumps(data)).items[0].exchange_for == "size 7"


@pytest.mark.parametrize("change, field", [
    ({"channel": "fax"}, "channel"), ({"currency": "euro"}, "currency"),
    ({"lines": "1; RING-1; Gold ring"}, "order lines, row 1"),
    ({"lines": "1; RING-1; Gold ring; one; 200"}, "order lines, row 1: quantity"),
    ({"items": ""}, "items returned"), ({"placed_on": "10/11/2026"}, "placed on"),
])
def test_a_bad_form_field_is_named(change, field):
    with pytest.raises(FormProblem, match=f"^{field}"):
        build_request(MultiDict({**FORM, **change}), merchant_id="opalook", taken_by="sam",
                      now=NOW)
