"""Issue 19 point 6: every schema in schemas/ (in and out) says what the models enforce, so a
sender that validates against the schema is not refused by us, and what we send validates against
the schema. Events are generated from each schema (hypothesis-jsonschema) and from the models, and
checked with a standard JSON Schema validator (jsonschema, format checking on): the schema and the
model accept the same events.

What JSON Schema cannot say is listed in the schema's description (`CROSS_FIELD_RULES`: rules
across fields, such as a requested line being a line of the order); generated events that break
only such a rule are the one difference allowed, and each is refused by the model with that
rule's words."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from tests.jsonschema_strategies import from_schema
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from returns import schema_export
from returns.events import CROSS_FIELD_RULES

SCHEMAS = {name: json.loads(text) for name, text in schema_export.rendered().items()}
MODELS = {f"{t}.json": m for t, m in schema_export.ALL_MODELS.items()}
FORMATS = Draft202012Validator.FORMAT_CHECKER


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(SCHEMAS[name], format_checker=FORMATS)


def only_cross_field(err: ValidationError) -> bool:
    return all(any(rule in e["msg"] for rule in CROSS_FIELD_RULES) for e in err.errors())


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_schema_and_the_model_accept_the_same_events(name):
    model = MODELS[name]

    # return.requested's schema is large: generating from it takes minutes on a loaded machine.
    @settings(max_examples=15 if name == "return.requested.json" else 40, deadline=None,
              derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(from_schema(SCHEMAS[name]))
    def check(event):
        validator(name).validate(event)  # the generator's own premise
        try:
            parsed = model.model_validate_json(json.dumps(event))
        except ValidationError as err:
            assert only_cross_field(err), (name, err.errors())
            return
        # And back: what the model accepted, as the model writes it, the schema accepts.
        dumped = json.loads(parsed.model_dump_json(exclude_none=True))
        assert not list(validator(name).iter_errors(dumped)), name

    check()


@pytest.mark.parametrize("value", ["EUR", "JPY"])
def test_currency_is_an_iso_code_in_the_schema(value):
    currency = SCHEMAS["return.requested.json"]["$defs"]["Order"]["properties"]["currency"]
    import re
    assert re.search(currency["pattern"], value)
    assert not re.search(currency["pattern"], "eur")


def test_a_timestamp_without_an_offset_is_refused_by_the_schema():
    event = {"type": "return.withdrawn", "event_id": "w-1", "occurred_at": "2026-11-20T10:00:00",
             "return_id": "R-1", "merchant_id": "opalook"}
    errors = list(validator("return.withdrawn.json").iter_errors(event))
    assert errors and "occurred_at" in str(errors[0].path) + errors[0].message
    with pytest.raises(ValidationError):
        MODELS["return.withdrawn.json"].model_validate(event)
    event["occurred_at"] = "2026-11-20T10:00:00+01:00"
    assert not list(validator("return.withdrawn.json").iter_errors(event))


def test_the_samples_and_a_real_outbound_event_validate_against_their_schemas():
    """Events built by the models themselves (the samples the demo and tests send, and an event
    the workflow builds from a return's status) pass the schema with formats checked."""
    from datetime import datetime, timezone

    from returns.outbound import OutboundType, event_from_status
    from returns.status import ItemStatus, RefundInfo, RefundStatus, ReturnState, ReturnStatus
    from samples.events import item, return_requested

    requested = [return_requested(m) for m in ("fine-jewelry", "opalook", "pearl-platform")]
    requested.append(return_requested("fine-jewelry", items=[
        item("L1", resolution="exchange", exchange_for="size 54")]))
    for event in requested:
        body = json.loads(event.model_dump_json(exclude_none=True))
        assert not list(validator("return.requested.json").iter_errors(body))
    status = ReturnStatus(
        return_id="R-1", merchant_id="opalook", order_id="O-1", state=ReturnState.refunded,
        outcome="refunded", currency="EUR",
        items=[ItemStatus(line_id="L1", sku="RING-1", title="Ring", quantity_requested=2,
                          eligible=True, resolution="refund", refund_amount=40000,
                          quantity_received=2, quantity_accepted=2)],
        refund=RefundInfo(status=RefundStatus.succeeded, amount=40000, currency="EUR",
                          paid=40000))
    out = event_from_status(status, OutboundType.closed, workflow_id="return-opalook-R-1",
                            sequence=7, occurred_at=datetime(2026, 12, 6, tzinfo=timezone.utc))
    body = json.loads(out.model_dump_json(exclude_none=True))
    assert not list(validator("out.return-event.json").iter_errors(body))
    assert body["event_id"] == event_from_status(
        status, OutboundType.closed, workflow_id="return-opalook-R-1", sequence=7,
        occurred_at=datetime(2027, 1, 1, tzinfo=timezone.utc)).event_id  # the step, not the time
