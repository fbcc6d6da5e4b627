"""The status card as the Web UI shows it (current details): readable without tables, nothing
left running once the return has finished."""

from datetime import datetime, timezone

from returns.policy.decision import Reason
from returns.status import Deadline, DeadlineKind, ItemStatus, ReturnState, ReturnStatus
from returns.status_card import render_status_card


def status(state: ReturnState, **extra) -> ReturnStatus:
    return ReturnStatus(
        return_id="R1", merchant_id="fine-jewelry", order_id="O1", state=state, currency="USD",
        refund_total=14000,
        items=[ItemStatus(line_id="L1", sku="RING", title="Gold ring", quantity_requested=1,
                          eligible=True, resolution="refund", refund_amount=14000,
                          quantity_received=1, inspection="passed", quantity_accepted=1)],
        deadlines=[Deadline(kind=DeadlineKind.review,
                            due_at=datetime(2026, 11, 25, 23, 59, tzinfo=timezone.utc),
                            basis="2 business days")],
        **extra)


def test_items_are_a_list_the_ui_renders_with_spaces() -> None:
    card = render_status_card(status(ReturnState.under_review))
    assert "- **L1** Gold ring × 1 · refund · 140.00 USD · received 1 · inspection **passed**" in card
    assert "|" not in card  # no Markdown table: the UI renders its cells run together


def test_a_finished_return_shows_no_running_deadline() -> None:
    assert "staff review due" in render_status_card(status(ReturnState.under_review))
    card = render_status_card(status(ReturnState.rejected, outcome="rejected"))
    assert "staff review due" not in card and "### Deadlines" not in card
    assert "outcome **rejected**" in card


def test_the_policy_reasons_are_on_the_card_for_the_review_then_only_for_refused_items() -> None:
    def with_items(state: ReturnState) -> str:
        items = [ItemStatus(line_id="L1", sku="RING", title="Gold ring", quantity_requested=1,
                            eligible=True, resolution="refund",
                            reasons=[Reason(clause="004 §2.2", text="within 15 days")]),
                 ItemStatus(line_id="L2", sku="EAR", title="Earrings", quantity_requested=1,
                            eligible=False, resolution=None,
                            reasons=[Reason(clause="004 §5.1", text="pierced jewellery")])]
        return render_status_card(status(state).model_copy(update={"items": items}))

    review = with_items(ReturnState.under_review)
    assert "- L1: 004 §2.2: within 15 days" in review and "- L2: 004 §5.1: pierced jewellery" in review
    later = with_items(ReturnState.inspecting)
    assert "within 15 days" not in later and "- L2: 004 §5.1: pierced jewellery" in later


def test_an_item_status_of_an_older_return_still_parses() -> None:
    """Statuses recorded before the decision's fields were copied (no requested_resolution, ...)."""
    old = {"line_id": "L1", "sku": "RING", "title": "Gold ring", "quantity_requested": 1,
           "eligible": True, "resolution": "refund", "reasons": [], "fees": [], "refund_amount": 0}
    item = ItemStatus.model_validate(old)
    assert item.requested_resolution is None and item.resolution_reason is None
    assert item.return_shipping_paid_by is None
    assert item.evidence_missing == [] and item.staff_review_points == []


def _reviewed_items() -> list[ItemStatus]:
    return [
        ItemStatus(line_id="L1", sku="RING", title="Gold ring", quantity_requested=1,
                   eligible=True, requested_resolution="repair", resolution="exchange",
                   resolution_reason=Reason(clause="004 §6.1.2, §4.3", text="replaced, not repaired"),
                   return_shipping_paid_by="merchant",
                   evidence_missing=["logistics_signature"],
                   staff_review_points=["004 §2.4: ask the customer for: logistics_signature"]),
        ItemStatus(line_id="L2", sku="EAR", title="Engraved band", quantity_requested=1,
                   eligible=False, requested_resolution="refund", resolution=None,
                   return_shipping_paid_by="nobody",
                   staff_review_points=["004 §4.5: may be specially approved after review"]),
    ]


def test_the_review_card_shows_what_was_asked_missing_evidence_and_staff_points() -> None:
    """004 §2.4 missing documents and 004 §4.5 special approval are for staff to act on during the
    review; the card says what was asked when the policy grants something else (004 §6.1.2)."""
    card = render_status_card(status(ReturnState.under_review).model_copy(
        update={"items": _reviewed_items()}))
    assert ("- **L1** Gold ring × 1 · exchange (asked repair) · no refund · return paid by merchant"
            " · received 0 · missing logistics signature") in card
    assert "- **L2** Engraved band × 1 · not eligible (asked refund) · no refund · received 0" in card
    assert "**For staff to check**\n\n- L1: 004 §2.4: ask the customer for: logistics_signature" in card
    assert "- L2: 004 §4.5: may be specially approved after review" in card


def test_after_the_review_staff_points_and_missing_evidence_leave_the_card() -> None:
    card = render_status_card(status(ReturnState.awaiting_shipment).model_copy(
        update={"items": _reviewed_items()}))
    assert "For staff to check" not in card and "missing logistics" not in card
    assert "exchange (asked repair)" in card and "return paid by merchant" in card
