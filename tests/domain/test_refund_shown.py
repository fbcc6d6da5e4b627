"""What a return shows about its money follows its outcome (issue 17 point 5): the status card,
`returns show`, the `RefundAmount` search attribute (what `returns list` prints) all ask
returns.refund_shown. One test per outcome; a failed inspection never shows "refund 207.50 EUR"."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from returns.refund_shown import line_refund, line_words, refund_shown
from returns.status import (
    InspectionResult, ItemStatus, RefundInfo, RefundStatus, ReturnState as S, ReturnStatus,
)
from returns.status_card import render_status_card
from returns_cli.render import status_text
from workflows import search_attributes as sa

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)


def item(line_id="1", resolution="refund", amount=20750, **extra) -> ItemStatus:
    return ItemStatus(line_id=line_id, sku=f"SKU-{line_id}", title=f"Item {line_id}",
                      quantity_requested=extra.pop("quantity", 1), eligible=extra.pop("eligible", True),
                      resolution=resolution, refund_amount=amount, **extra)


def status(state: S, items: list[ItemStatus], **extra) -> ReturnStatus:
    return ReturnStatus(return_id="OPL-1", merchant_id="opalook", order_id="O1", state=state,
                        currency="EUR", refund_total=sum(i.refund_amount for i in items if i.eligible),
                        items=items, **extra)


def refund_amount_attribute(st: ReturnStatus) -> int:
    return next(u.value for u in sa.for_status(st, None) if u.key.name == "RefundAmount")


def shown_everywhere(st: ReturnStatus) -> tuple[str, str, int]:
    """(card, show, RefundAmount), each asserted free of the proposal when nothing is refunded."""
    return render_status_card(st), status_text(st, NOW), refund_amount_attribute(st)


FAILED = dict(quantity_received=1, inspection=InspectionResult.failed)
PASSED = dict(quantity_received=1, inspection=InspectionResult.passed, quantity_accepted=1)


def test_a_failed_inspection_shows_no_refund_anywhere() -> None:
    for state, outcome in ((S.returning_to_customer, None), (S.closed, "returned to customer")):
        st = status(state, [item(**FAILED)], outcome=outcome)
        card, show, amount = shown_everywhere(st)
        assert "207.50" not in card and "207.50" not in show, card
        assert "No refund: the inspection failed" in card and "no refund (inspection failed)" in card
        assert "No refund: the inspection failed" in show
        assert amount == 0


def test_under_review_shows_the_proposal() -> None:
    card, show, amount = shown_everywhere(status(S.under_review, [item()]))
    assert "Refund total 207.50 EUR if approved as proposed" in card
    assert "Refund total 207.50 EUR if approved as proposed, fees 0.00 EUR" in show
    assert amount == 20750


def test_waiting_for_the_parcel_shows_it_depends_on_the_inspection() -> None:
    card, show, amount = shown_everywhere(status(S.awaiting_shipment, [item()]))
    assert "Refund total 207.50 EUR once the items pass inspection" in card
    assert amount == 20750


def test_refunded_shows_what_was_paid() -> None:
    st = status(S.refunded, [item(**PASSED)], outcome="refunded",
                refund=RefundInfo(status=RefundStatus.succeeded, amount=20750, paid=20750,
                                  currency="EUR"))
    card, show, amount = shown_everywhere(st)
    assert "**Refunded 207.50 EUR**" in card and "Refunded 207.50 EUR" in show
    assert "fees" not in show.split("Refunded 207.50 EUR")[1].splitlines()[0]
    assert amount == 20750


def test_a_partial_pass_refunds_only_the_units_that_passed() -> None:
    line = item(quantity=2, amount=30000, quantity_received=2, inspection=InspectionResult.passed,
                quantity_accepted=1)
    assert line_refund(line, S.inspecting) == 15000
    shown = refund_shown(status(S.inspecting, [line]))
    assert shown.amount == 15000 and "after inspection" in shown.words


def test_a_partial_manual_refund_shows_what_reached_the_customer() -> None:
    st = status(S.closed, [item(**PASSED)], outcome="partially refunded",
                refund=RefundInfo(status=RefundStatus.partial, amount=20750, paid=15000,
                                  currency="EUR", manual_reference="BANK-1"))
    card, show, amount = shown_everywhere(st)
    assert "Refunded 150.00 EUR of 207.50 EUR (partial, recorded by staff)" in show
    assert amount == 15000


def test_a_failed_refund_says_what_to_do() -> None:
    st = status(S.refunding, [item(**PASSED)],
                refund=RefundInfo(status=RefundStatus.failed, amount=20750, currency="EUR"))
    assert "retry_refund or record_manual_refund" in refund_shown(st).words
    assert refund_amount_attribute(st) == 20750


@pytest.mark.parametrize("resolution,state,outcome", [
    ("exchange", S.exchanged, "exchanged"),
    ("repair", S.repaired, "repaired"),
])
def test_exchanged_and_repaired_refund_nothing(resolution, state, outcome) -> None:
    st = status(state, [item(resolution=resolution, amount=0, **PASSED)], outcome=outcome)
    card, show, amount = shown_everywhere(st)
    assert f"No refund: {outcome}" in card and f"{resolution} · no refund ·" in card
    assert amount == 0


def test_an_exchange_under_review_shows_no_refund_rather_than_zero() -> None:
    shown = refund_shown(status(S.under_review, [item(resolution="exchange", amount=0)]))
    assert shown.words == "no refund (exchange)" and shown.amount == 0


def test_a_returnless_refund_needs_nothing_back_then_shows_it_paid() -> None:
    line = item(resolution="returnless_refund", needs_return_shipment=False)
    shown = refund_shown(status(S.approved, [line]))
    assert shown.words == "refund total 207.50 EUR, nothing to send back"
    st = status(S.refunded, [line.model_copy(update={"quantity_accepted": 1})],
                outcome="returnless refund",
                refund=RefundInfo(status=RefundStatus.succeeded, amount=20750, paid=20750,
                                  currency="EUR"))
    assert refund_shown(st).words == "refunded 207.50 EUR"


@pytest.mark.parametrize("state,why", [
    (S.rejected, "rejected"),
    (S.expired, "expired: nothing was sent back"),
    (S.withdrawn, "withdrawn by the customer"),
    (S.cancelled, "cancelled"),
])
def test_a_return_ended_without_an_outcome_refunds_nothing(state, why) -> None:
    st = status(state, [item(), item("2", amount=4500)], outcome=state.value)
    card, show, amount = shown_everywhere(st)
    assert f"No refund: {why}" in card and f"No refund: {why}" in show
    assert "207.50" not in card and "45.00" not in card and "207.50" not in show
    assert amount == 0
    assert line_words(st.items[0], state, "EUR") == f"no refund ({state.value})"


def test_a_refund_paid_before_a_cancellation_still_shows() -> None:
    """A returnless refund paid, then staff cancelled the exchange of another line."""
    st = status(S.cancelled, [item(resolution="returnless_refund", needs_return_shipment=False),
                              item("2", resolution="exchange", amount=0)],
                outcome="cancelled",
                refund=RefundInfo(status=RefundStatus.succeeded, amount=20750, paid=20750,
                                  currency="EUR"))
    assert refund_shown(st).words == "refunded 207.50 EUR"
    assert refund_amount_attribute(st) == 20750


def test_a_mixed_return_shows_the_refund_of_what_passed_only() -> None:
    st = status(S.closed, [item(**PASSED), item("2", amount=4500, **FAILED)],
                outcome="refunded, returned to customer",
                refund=RefundInfo(status=RefundStatus.succeeded, amount=20750, paid=20750,
                                  currency="EUR"))
    card, show, amount = shown_everywhere(st)
    assert "Refunded 207.50 EUR" in card and "no refund (inspection failed)" in card
    assert "45.00" not in card and amount == 20750


def test_not_eligible_lines_say_so() -> None:
    line = item(eligible=False, resolution=None, amount=0)
    assert line_words(line, S.under_review, "EUR") == "no refund"
