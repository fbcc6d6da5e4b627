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
                          quantity_received=1, inspection="passed")],
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
