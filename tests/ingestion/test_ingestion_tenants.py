"""One tenant, one secret: what another merchant's order system can and cannot do.

The receiver on a real local port, the Temporal dev server (conftest.py). Every merchant signs
with its own secret (ingestion_support.SECRETS); the secret decides the merchant.
"""

from __future__ import annotations

import json
import time

from ingestion.signing import SIGNATURE_HEADER, sign_with_secrets
from returns.events import workflow_id_for
from workflows import search_attributes as sa

from ingestion_support import SECRETS

OPALOOK, FINE = SECRETS["opalook"][0], SECRETS["fine-jewelry"][0]


def signals_of(history) -> list[str]:
    return [e.workflow_execution_signaled_event_attributes.signal_name for e in history.events
            if e.HasField("workflow_execution_signaled_event_attributes")]


async def test_an_event_naming_another_merchant_is_a_403_and_changes_nothing(
        post_event, requested, withdrawn, scanned, client, exists):
    """fine-jewelry's order system, with its own valid secret, names opalook's return."""
    victim = requested()  # opalook's
    victim_id = workflow_id_for("opalook", victim["return_id"])
    assert (await post_event(victim))[0] == 200
    before = len((await client.get_workflow_handle(victim_id).fetch_history()).events)

    for event in (withdrawn(victim["return_id"]), scanned(victim["return_id"]),
                  requested(return_id=victim["return_id"])):
        status, body = await post_event(event, secret=FINE)
        assert (status, body["outcome"]) == (403, "forbidden"), event["type"]
        assert body["errors"] == [{"field": "merchant_id", "problem":
                                   "this request is signed with the secret of merchant "
                                   "'fine-jewelry'; it cannot act for merchant 'opalook'"}]

    history = await client.get_workflow_handle(victim_id).fetch_history()
    assert len(history.events) == before and signals_of(history) == []
    assert not await exists(workflow_id_for("fine-jewelry", victim["return_id"]))


async def test_two_merchants_may_both_have_a_return_with_the_same_id(
        post_event, requested, client):
    """B's `return.requested` reusing A's return id starts B's own return (was: "duplicate")."""
    a = requested()
    b = requested(return_id=a["return_id"], merchant_id="fine-jewelry")
    assert await post_event(a) == (200, {"outcome": "started", "workflow_id":
                                         f"return-opalook-{a['return_id']}"})
    assert await post_event(b, secret=FINE) == (200, {"outcome": "started", "workflow_id":
                                                      f"return-fine-jewelry-{a['return_id']}"})
    for merchant in ("opalook", "fine-jewelry"):
        description = await client.get_workflow_handle(
            workflow_id_for(merchant, a["return_id"])).describe()
        assert description.typed_search_attributes.get(sa.MERCHANT_ID) == merchant


async def test_a_merchants_withdrawal_reaches_only_its_own_return(
        post_event, requested, withdrawn, client):
    a = requested()
    b = requested(return_id=a["return_id"], merchant_id="fine-jewelry")
    await post_event(a)
    await post_event(b, secret=FINE)

    status, body = await post_event(withdrawn(a["return_id"], merchant_id="fine-jewelry"),
                                    secret=FINE)

    assert (status, body) == (200, {"outcome": "signalled",
                                    "workflow_id": f"return-fine-jewelry-{a['return_id']}"})
    mine = await client.get_workflow_handle(
        workflow_id_for("fine-jewelry", a["return_id"])).fetch_history()
    theirs = await client.get_workflow_handle(
        workflow_id_for("opalook", a["return_id"])).fetch_history()
    assert signals_of(mine) == ["withdraw"] and signals_of(theirs) == []


async def test_during_a_rotation_either_of_a_merchants_secrets_signs_for_it(
        post_event, requested, http):
    new, old = SECRETS["pearl-platform"]
    for secret in (new, old):
        event = requested(merchant_id="pearl-platform")
        status, body = await post_event(event, secret=secret)
        assert (status, body["outcome"]) == (200, "started")
    # The sender's side of a rotation: one header with both entries.
    event = requested(merchant_id="pearl-platform")
    raw = json.dumps(event).encode()
    response = await http.post("/events", data=raw, headers={
        SIGNATURE_HEADER: sign_with_secrets(raw, [new, old], int(time.time()))})
    assert response.status == 200


async def test_a_secret_of_no_merchant_is_a_401(post_event, requested, exists):
    event = requested()
    status, body = await post_event(event, secret="whsec_guessed_but_long_enough")
    assert (status, body["errors"][0]["field"]) == (401, SIGNATURE_HEADER)
    assert not await exists(workflow_id_for("opalook", event["return_id"]))
