"""parse_event: bytes -> one of the three events, or every bad field named by its path."""

from __future__ import annotations

import json

import pytest

from ingestion.intake import BODY, InvalidEvent, details_for, parse_event, summary_for
from returns.events import ParcelScanned, ReturnRequested, ReturnWithdrawn


def problems_of(event: dict | bytes) -> dict[str, str]:
    raw = event if isinstance(event, bytes) else json.dumps(event).encode()
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw)
    return {p.field: p.problem for p in caught.value.problems}


def test_each_event_type_parses_to_its_model(requested, withdrawn, scanned):
    assert isinstance(parse_event(json.dumps(requested())), ReturnRequested)
    assert isinstance(parse_event(json.dumps(withdrawn("R-1")).encode()), ReturnWithdrawn)
    assert isinstance(parse_event(json.dumps(scanned("R-1")).encode()), ParcelScanned)


def test_every_bad_field_is_named_by_its_path(requested):
    event = requested()
    event["order"]["lines"][0]["unit_price"] = -100
    del event["order"]["customer"]["email"]
    event["order"]["currency"] = "euro"
    event["items"][1]["reason"] = "bored"
    event["surprise"] = True

    problems = problems_of(event)

    assert set(problems) == {"order.lines[0].unit_price", "order.customer.email",
                             "order.currency", "items[1].reason", "surprise"}
    assert "greater than or equal to 0" in problems["order.lines[0].unit_price"]
    assert problems["order.customer.email"] == "Field required"


def test_an_item_for_a_line_the_order_does_not_have_names_the_item(requested):
    event = requested()
    event["items"][0]["line_id"] = "99"
    assert problems_of(event) == {
        "items[0].line_id": "'99' is not a line of order ORD-1",
    }


def test_model_rules_point_at_the_field_they_check(requested):
    event = requested()
    event["items"][1].pop("exchange_for")  # exchange without saying for what
    problems = problems_of(event)
    assert list(problems) == ["items[1].exchange_for"]
    assert problems["items[1].exchange_for"].startswith("required when resolution is exchange")

    event = requested()
    event["order"]["lines"][0]["unit_tax"] = 9000
    assert problems_of(event) == {"order.lines[0]": "unit_tax cannot exceed unit_price"}


def test_problems_never_echo_the_customers_input(requested):
    event = requested()
    event["order"]["customer"]["email"] = "jane.doe.private-at-example.org"
    event["order"]["customer"]["name"] = ""
    problems = problems_of(event)
    assert set(problems) == {"order.customer.email", "order.customer.name"}
    assert "jane.doe" not in json.dumps(problems)


@pytest.mark.parametrize("raw, expected", [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"", "not JSON"),
])
def test_a_body_that_is_not_one_json_object_is_malformed(raw, expected):
    with pytest.raises(InvalidEvent) as caught:
        parse_event(raw)
    assert caught.value.malformed
    [problem] = caught.value.problems
    assert problem.field == BODY and expected in problem.problem


def test_an_unknown_or_missing_type_is_invalid_not_malformed(requested):
    for event in ({**requested(), "type": "return.approved"},
                  {k: v for k, v in requested().items() if k != "type"}):
        with pytest.raises(InvalidEvent) as caught:
            parse_event(json.dumps(event))
        assert not caught.value.malformed
        assert [p.field for p in caught.value.problems] == ["type"]


def test_ui_summary_and_details_carry_no_customer_data(requested):
    event = parse_event(json.dumps(requested(return_id="R-42")))
    assert summary_for(event) == "Return R-42 · opalook · order ORD-1"
    details = details_for(event)
    assert ("- line 1 · OPL-COL-OPALINE-925 · Collier Opaline \\| argent 925 · qty 1 · "
            "reason: defective · wants: refund") in details
    assert ("- line 2 · OPL-BO-GOUTTE-OR · Boucles Goutte plaqué or · qty 1 · reason: wrong item · "
            "wants: exchange") in details
    customer = event.order.customer
    for private in (customer.email, customer.name, event.order.shipping_address.line1,
                    event.order.shipping_address.city, "Fermoir cassé"):
        assert private not in details
