"""Lost parcels (000 §1.3 "products lost, damaged or not in conformity with the order will be
refunded or exchanged"): nothing comes back, so no label is printed and no ship-by deadline runs;
an exchange goes straight from approval to reshipping, a refund straight to the ledger."""

from __future__ import annotations

from returns.status import ReturnState
from samples.events import item, return_requested
from tests.lifecycle.test_paths import templates, update, wait_state

S = ReturnState


def lost(resolution: str, **extra) -> dict:
    return item("L1", reason="lost_in_transit", resolution=resolution, evidence=(), **extra)


async def test_a_lost_parcel_is_exchanged_without_a_return(harness):
    """000 §1.3 exchanged; 000 §3.3 the replacement ships at Opalook's cost: approved ->
    exchange_shipping, staff asked to ship, no label, no refund, then exchanged."""
    event = return_requested("opalook", customer_type="business",
                             items=[lost("exchange", exchange_for="same ring")])
    handle = await harness.start(event)
    st = await wait_state(handle, S.under_review)
    assert st.items[0].eligible and st.items[0].resolution.value == "exchange", st.items[0].reasons
    await update(handle, "approve", {"actor": "claire", "note": "carrier confirmed the loss"})
    st = await wait_state(handle, S.exchange_shipping)
    assert st.label is None and not any(d.kind.value == "ship_by" for d in st.deadlines)
    assert any(d.kind.value == "reshipment" and not d.met for d in st.deadlines)
    await update(handle, "ship_to_customer", {"actor": "claire", "carrier": "Colissimo",
                                              "tracking_number": "6A12345678901"})
    final = await harness.result(handle)
    assert final.state == S.exchanged and final.outcome == "exchanged"
    assert not list(harness.settings.labels_dir.glob("*.pdf"))
    assert await harness.ledger.refunds(order_id=event.order.order_id) == []
    sent = templates(harness)
    assert "action_needed" in sent and "exchange_shipping" in sent


async def test_a_lost_parcel_is_refunded_without_a_return(harness):
    """000 §1.3 refunded; 000 §2.1 limited to the price excluding tax; no label."""
    event = return_requested("opalook", customer_type="business", items=[lost("refund")])
    handle = await harness.start(event)
    st = await wait_state(handle, S.under_review)
    assert st.items[0].resolution.value == "returnless_refund", st.items[0].reasons
    await update(handle, "approve", {"actor": "claire"})
    final = await harness.result(handle)
    assert final.state == S.refunded and final.label is None
    refunds = await harness.ledger.refunds(order_id=event.order.order_id)
    assert len(refunds) == 1 and refunds[0].amount == 20000 - 3333
