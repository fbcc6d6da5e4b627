"""A refund line by line once an inspection fee was deducted (returns/refund_itemised.py): the
line's amount (the status card's), the fee, what the line refunds, the total the card shows.
Pure: milliseconds."""

from __future__ import annotations

from returns import customer_words as cw
from returns.refund_itemised import RefundItemised, itemised, refunded_line
from returns.refund_shown import line_words, refund_shown
from returns.status import (
    InspectionResult, ItemStatus, RefundInfo, RefundStatus, ReturnState as S, ReturnStatus,
)
from returns.status_card import render_status_card


def line(line_id="L1", amount=20_750, quantity=1, accepted=1, fee=0, **extra) -> ItemStatus:
    return ItemStatus(line_id=line_id, sku=f"SKU-{line_id}", title=f"Ring {line_id}",
                      quantity_requested=quantity, eligible=True, resolution="refund",
                      refund_amount=amount, quantity_received=quantity,
                      quantity_accepted=accepted, inspection=InspectionResult.passed,
                      inspection_fee=fee, **extra)


def status(state: S, items: list[ItemStatus], paid: int | None = None) -> ReturnStatus:
    refund = None if paid is None else RefundInfo(status=RefundStatus.succeeded, amount=paid,
                                                  currency="EUR", paid=paid)
    return ReturnStatus(return_id="R-1", merchant_id="pearl-platform", order_id="O-1",
                        state=state, currency="EUR", items=items, refund=refund,
                        refund_total=sum(i.refund_amount for i in items))


def test_a_fee_is_itemised_under_its_line_and_the_total_is_the_cards():
    st = status(S.refunded, [line(fee=1_500), line("L2", amount=5_000)], paid=19_250 + 5_000)
    shown = itemised(st)
    assert shown == RefundItemised(currency="EUR", total=24_250, lines=[
        refunded_line(st.items[0], st.state), refunded_line(st.items[1], st.state)])
    first, second = shown.lines
    assert (first.amount, first.inspection_fee, first.refunded) == (20_750, 1_500, 19_250)
    assert (second.amount, second.inspection_fee, second.refunded) == (5_000, 0, 5_000)
    assert shown.total == refund_shown(st).amount == sum(x.refunded for x in shown.lines)
    # the staff status card says the same per line
    assert line_words(st.items[0], st.state, "EUR") == (
        "207.50 EUR less inspection fee 15.00 EUR: 192.50 EUR")
    assert "207.50 EUR less inspection fee 15.00 EUR: 192.50 EUR" in render_status_card(st)


def test_no_fee_nothing_to_itemise():
    st = status(S.refunded, [line()], paid=20_750)
    assert itemised(st) is None
    assert line_words(st.items[0], st.state, "EUR") == "207.50 EUR"


def test_the_fee_applies_to_the_units_that_passed_and_never_below_nothing():
    two_of_three = line(amount=30_000, quantity=3, accepted=2, fee=1_000)
    shown = refunded_line(two_of_three, S.refunding)
    assert (shown.quantity, shown.amount, shown.refunded) == (2, 20_000, 19_000)
    everything = refunded_line(line(amount=1_000, fee=5_000), S.refunding)
    assert (everything.inspection_fee, everything.refunded) == (1_000, 0)


def test_before_the_refund_starts_the_total_is_the_lines_sum():
    """Inspection just recorded, the refund not yet asked for: what the workflow will pay."""
    st = status(S.inspecting, [line(fee=1_500)])
    assert itemised(st).total == 19_250


def test_a_failed_line_is_left_out():
    failed = line("L2", accepted=0)
    failed.inspection = InspectionResult.failed
    st = status(S.refunded, [line(fee=100), failed], paid=20_650)
    assert [x.line_id for x in itemised(st).lines] == ["L1"]


def test_the_customer_words_in_every_language():
    st = status(S.refunded, [line(fee=1_500)], paid=19_250)
    en, fr, zh = (cw.refund_itemised(itemised(st), lang) for lang in cw.LANGUAGES)
    assert en == ["Ring L1 × 1: €207.50", "Inspection fee deducted: −€15.00",
                  "Refunded for this item: €192.50", "Total refunded: €192.50"]
    assert fr[1].replace("\u00a0", " ").replace("\u202f", " ") == (
        "Frais de contrôle déduits : −15,00 €")
    assert fr[3].replace("\u00a0", " ").replace("\u202f", " ") == "Total remboursé : 192,50 €"
    assert zh[1] == "已扣除检验费：−€15.00" and zh[3] == "退款总额：€192.50"
