"""The order-line guard (returns/order_lines.py): units and money per line across all the returns of
one order; every refusal names the line and the numbers and changes nothing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from returns.order_lines import (
    ClaimRefund, ConfirmRefund, LineSpec, MarkExchanged, OrderLedger, OrderLineRefused, OrderSpec,
    Receive, RefundOfLine, ReleaseRefund, ReleaseReturn, Reserve, ReserveLine, UnitsOfLine, apply,
    order_workflow_id, status,
)

ORDER = OrderSpec(merchant_id="opalook", order_id="O-1", currency="EUR",
                  placed_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
                  lines=[LineSpec(line_id="L1", units=2, paid=20000),
                         LineSpec(line_id="L2", units=3, paid=10000)])
R1, R2 = "return-opalook-R1", "return-opalook-R2"
IDS = {"merchant_id": "opalook", "order_id": "O-1"}


def reserve(ret: str, step: str = "reserve", **units: int) -> Reserve:
    return Reserve(**IDS, return_ref=ret, idempotency_key=f"{ret}:{step}", lines=[
        ReserveLine(line_id=k, units=v, ordered=ORDER.line(k).units, paid=ORDER.line(k).paid)
        for k, v in units.items()])


def claim(ret: str, step: str = "refund", **lines: tuple[int, int]) -> ClaimRefund:
    return ClaimRefund(**IDS, return_ref=ret, idempotency_key=f"{ret}:{step}", currency="EUR",
                       lines=[RefundOfLine(line_id=k, units=u, amount=a) for k, (u, a) in lines.items()])


def confirm(ret: str, step: str = "refund", amount_paid: int | None = None) -> ConfirmRefund:
    return ConfirmRefund(**IDS, return_ref=ret, idempotency_key=f"{ret}:{step}:confirm",
                         claim_key=f"{ret}:{step}", amount_paid=amount_paid)


def release_refund(ret: str, step: str = "refund") -> ReleaseRefund:
    return ReleaseRefund(**IDS, return_ref=ret, idempotency_key=f"{ret}:{step}:release",
                         claim_key=f"{ret}:{step}")


def receive(ret: str, step: str = "receipt:1", **units: int) -> Receive:
    return Receive(**IDS, return_ref=ret, idempotency_key=f"{ret}:{step}",
                   lines=[UnitsOfLine(line_id=k, units=v) for k, v in units.items()])


def exchange(ret: str, step: str = "exchange", **units: int) -> MarkExchanged:
    return MarkExchanged(**IDS, return_ref=ret, idempotency_key=f"{ret}:{step}",
                         lines=[UnitsOfLine(line_id=k, units=v) for k, v in units.items()])


def end(ret: str, step: str = "end") -> ReleaseReturn:
    return ReleaseReturn(**IDS, return_ref=ret, idempotency_key=f"{ret}:{step}")


def run(*requests) -> OrderLedger:
    ledger = OrderLedger.open(ORDER)
    for r in requests:
        ledger, _ = apply(ledger, r)
    return ledger


def refused(ledger: OrderLedger, request, match: str) -> None:
    before = ledger.model_dump()
    with pytest.raises(OrderLineRefused, match=match):
        apply(ledger, request)
    assert ledger.model_dump() == before  # a refusal changes nothing


def test_one_workflow_id_per_order_of_a_merchant():
    assert order_workflow_id("opalook", "O-1") == "order-opalook-O-1"


def test_spec_of_an_order_event_is_what_each_line_cost():
    from samples.events import line, return_requested  # the lifecycle samples
    event = return_requested(lines=[line("L1", quantity=2, unit_price=15000), line("L2")])
    spec = OrderSpec.of(event.merchant_id, event.order)
    assert spec.merchant_id == event.merchant_id and spec.currency == event.order.currency
    assert [(ln.line_id, ln.units, ln.paid) for ln in spec.lines] == [
        (ln.line_id, ln.quantity, ln.unit_price * ln.quantity) for ln in event.order.lines]


# --- units ---------------------------------------------------------------------------------------
def test_reserve_takes_units_from_the_line():
    ledger, answer = apply(OrderLedger.open(ORDER), reserve(R1, L1=1, L2=2))
    assert answer.done == f"reserved 1 unit of L1, 2 units of L2 for {R1}"
    assert [(u.line_id, u.held, u.units_left) for u in answer.lines] == [("L1", 1, 1), ("L2", 2, 1)]
    assert not answer.duplicate


def test_the_last_unit_goes_to_one_return_only():
    ledger = run(reserve(R1, L1=1))
    ledger, _ = apply(ledger, reserve(R2, L1=1))
    refused(ledger, reserve("return-opalook-R3", L1=1),
            r"line L1 of order O-1: cannot reserve 1 unit for return-opalook-R3: 2 ordered, 2 "
            r"already under return, refunded or exchanged \(return-opalook-R1: 1, "
            r"return-opalook-R2: 1\), 0 left")


def test_a_return_ending_without_refund_gives_its_units_back():
    ledger = run(reserve(R1, L1=2), end(R1))
    assert ledger.use("L1").units_left == 2
    ledger, _ = apply(ledger, reserve(R2, L1=2))
    assert ledger.use("L1").held == 2


def test_an_ended_return_holds_nothing_more():
    refused(run(reserve(R1, L1=1), end(R1)), reserve(R1, "again", L1=1),
            f"{R1} has ended and gave its units back")


def test_receipt_is_bounded_by_what_the_return_reserved():
    ledger = run(reserve(R1, L2=2), receive(R1, L2=1))
    refused(ledger, receive(R1, "receipt:2", L2=2),
            r"line L2 of order O-1: return-opalook-R1 cannot receive 2 units more: it reserved 2 "
            r"at approval and 1 was already received")
    refused(run(), receive(R2, L2=1), f"{R2} holds nothing of order O-1")


def test_unknown_line_and_changed_order_are_refused():
    refused(run(), Reserve(**IDS, return_ref=R1, idempotency_key=f"{R1}:reserve", lines=[
        ReserveLine(line_id="L9", units=1, ordered=1, paid=1)]),
            r"lines\[0\].line_id: 'L9' is not a line of order O-1 \(its lines: L1, L2\)")
    refused(run(), Reserve(**IDS, return_ref=R1, idempotency_key=f"{R1}:reserve", lines=[
        ReserveLine(line_id="L1", units=1, ordered=5, paid=50000)]),
            r"line L1 of order O-1: this return's order says 5 units for 500.00 EUR, but the "
            r"order was first seen with 2 units for 200.00 EUR")


def test_another_merchant_cannot_touch_the_order():
    other = reserve(R1, L1=1).model_copy(update={"merchant_id": "brightgem"})
    refused(run(), other, "merchant_id: order O-1 here is not an order of merchant 'brightgem'")
    refused(run(), reserve(R1, L1=1).model_copy(update={"order_id": "O-2"}),
            "order_id: this guard holds order O-1, not 'O-2'")


# --- money ---------------------------------------------------------------------------------------
def test_refund_is_claimed_then_confirmed():
    ledger, answer = apply(run(reserve(R1, L1=1)), claim(R1, L1=(1, 10000)))
    assert answer.done == f"claimed 100.00 EUR (100.00 EUR for 1 unit of L1) for {R1}"
    assert (answer.lines[0].claimed, answer.lines[0].money_left) == (10000, 10000)
    ledger, answer = apply(ledger, confirm(R1))
    use = answer.lines[0]
    assert (use.refunded, use.claimed, use.refunded_units, use.money_left) == (10000, 0, 1, 10000)


def test_two_returns_cannot_both_refund_the_last_money():
    ledger = run(reserve(R1, L1=1), reserve(R2, L1=1), claim(R1, L1=(1, 10000)))
    ledger, _ = apply(ledger, claim(R2, L1=(1, 10000)))
    assert ledger.use("L1").money_left == 0
    refused(run(reserve(R1, L1=1), reserve(R2, L1=1), claim(R1, L1=(1, 10000)), confirm(R1)),
            claim(R2, L1=(1, 10001)),
            r"line L1 of order O-1: cannot refund 100.01 EUR for return-opalook-R2: 200.00 EUR "
            r"paid for the line, 100.00 EUR refunded, 0.00 EUR being refunded, 100.00 EUR left")


def test_one_unit_cannot_take_the_price_of_two():
    refused(run(reserve(R1, L1=1)), claim(R1, L1=(1, 10001)),
            r"line L1 of order O-1: cannot refund 100.01 EUR for 1 unit for return-opalook-R1: "
            r"1 unit of 2 cost 100.00 EUR of the 200.00 EUR paid for the line")
    # a third of 100.00 is 33.33 for the first unit: the remainder cent goes to the last one
    refused(run(reserve(R1, L2=3)), claim(R1, L2=(1, 3334)),
            r"1 of 3 units refunded would allow at most 33.33 EUR in all, and 0.00 EUR is "
            r"already refunded or being refunded")


def test_a_unit_refunded_for_less_leaves_no_room_for_more_on_another():
    # R1 was refunded 80.00 for its unit (a fee kept); R2's unit still costs 100.00, never 120.00
    ledger = run(reserve(R1, L1=1), claim(R1, L1=(1, 8000)), confirm(R1), reserve(R2, L1=1))
    refused(ledger, claim(R2, L1=(1, 12000)),
            r"line L1 of order O-1: cannot refund 120.00 EUR for 1 unit for return-opalook-R2: "
            r"1 unit of 2 cost 100.00 EUR of the 200.00 EUR paid for the line")


def test_rounding_leaves_the_last_unit_the_remainder():
    # 100.00 for three units: 33.33 each, the last one 33.34, never more than 100.00 in all
    ledger = run(reserve(R1, L2=3), claim(R1, "refund:1", L2=(1, 3333)),
                 claim(R1, "refund:2", L2=(1, 3333)))
    refused(ledger, claim(R1, "refund:3", L2=(1, 3335)), "66.66 EUR being refunded, 33.34 EUR left")
    ledger, _ = apply(ledger, claim(R1, "refund:3", L2=(1, 3334)))
    assert ledger.use("L2").money_left == 0


def test_a_return_refunds_only_units_it_reserved():
    refused(run(reserve(R1, L1=1)), claim(R1, L1=(2, 100)),
            r"line L1 of order O-1: return-opalook-R1 cannot refund 2 units: it reserved 1, of "
            r"which 0 refunded, 0 exchanged and 0 being refunded; 1 left")
    refused(run(reserve(R1, L1=1), claim(R1, L1=(1, 100))), claim(R1, "refund:2", L1=(1, 100)),
            "it reserved 1, of which 0 refunded, 0 exchanged and 1 being refunded; 0 left")


def test_refund_in_another_currency_is_refused():
    refused(run(reserve(R1, L1=1)), claim(R1, L1=(1, 100)).model_copy(update={"currency": "USD"}),
            r"currency: USD is not the currency of order O-1 \(EUR\)")


def test_a_released_claim_gives_the_money_back():
    ledger = run(reserve(R1, L1=1), claim(R1, L1=(1, 10000)), release_refund(R1))
    assert ledger.use("L1").money_left == 20000
    ledger, _ = apply(ledger, claim(R1, "refund:2", L1=(1, 10000)))  # a second try may claim again
    refused(ledger, confirm(R1), "the refund 'return-opalook-R1:refund' of return-opalook-R1 "
                                 "was already released")


def test_a_manual_refund_for_less_confirms_what_was_paid():
    ledger = run(reserve(R1, L1=1, L2=1), claim(R1, L1=(1, 10000), L2=(1, 3000)))
    refused(ledger, confirm(R1, amount_paid=13001),
            "amount_paid: 130.01 EUR is more than the 130.00 EUR claimed")
    ledger, answer = apply(ledger, confirm(R1, amount_paid=11000))
    assert [(u.line_id, u.refunded, u.refunded_units) for u in answer.lines] == [
        ("L1", 10000, 1), ("L2", 1000, 1)]


def test_a_return_cannot_end_while_its_refund_is_pending():
    refused(run(reserve(R1, L1=1), claim(R1, L1=(1, 100))), end(R1),
            r"return-opalook-R1 cannot end while a refund it claimed is pending: "
            r"return-opalook-R1:refund \(1.00 EUR\); confirm or release it first")


def test_refunded_and_exchanged_units_stay_taken_when_the_return_ends():
    ledger = run(reserve(R1, L2=3), claim(R1, L2=(1, 3333)), confirm(R1), exchange(R1, L2=1))
    ledger, answer = apply(ledger, end(R1))
    assert answer.done == f"{R1} ended; gave back 1 unit of L2"
    use = ledger.use("L2")
    assert (use.held, use.refunded_units, use.exchanged_units, use.units_left) == (2, 1, 1, 1)
    refused(ledger, reserve(R2, L2=2), "cannot reserve 2 units for return-opalook-R2: 3 ordered, "
                                       "2 already under return")


def test_exchange_takes_only_free_reserved_units():
    refused(run(reserve(R1, L1=1), claim(R1, L1=(1, 100))), exchange(R1, L1=1),
            "return-opalook-R1 cannot exchange 1 unit: it reserved 1, of which 0 refunded, "
            "0 exchanged and 1 being refunded; 0 left")


# --- idempotency and strict input -----------------------------------------------------------------
def test_the_same_request_again_answers_the_same_and_changes_nothing():
    ledger, first = apply(OrderLedger.open(ORDER), reserve(R1, L1=2))
    again_ledger, again = apply(ledger, reserve(R1, L1=2))
    assert again.duplicate and again.model_copy(update={"duplicate": False}) == first
    assert again_ledger.model_dump() == ledger.model_dump()
    ledger = run(reserve(R1, L1=1), claim(R1, L1=(1, 100)), confirm(R1))
    _, again = apply(ledger, confirm(R1))  # a retried confirm after the claim was settled
    assert again.duplicate


def test_a_key_used_for_another_request_is_refused():
    refused(run(reserve(R1, L1=1)), reserve(R1, L1=2),
            r"idempotency_key: 'return-opalook-R1:reserve' was already used for another request "
            r"\(reserved 1 unit of L1 for return-opalook-R1\)")


@pytest.mark.parametrize("change, field", [
    ({"idempotency_key": "return-opalook-R2:reserve"}, "idempotency_key: must begin"),
    ({"lines": [{"line_id": "L1", "units": "1", "ordered": 2, "paid": 20000}]}, r"lines.0.units"),
    ({"lines": [{"line_id": "L1", "units": 1.0, "ordered": 2, "paid": 20000}]}, r"lines.0.units"),
    ({"lines": [{"line_id": "L1", "units": 0, "ordered": 2, "paid": 20000}]}, r"lines.0.units"),
    ({"lines": [{"line_id": "L1", "units": 1, "ordered": 2, "paid": "200.00"}]}, r"lines.0.paid"),
    ({"lines": []}, "lines"),
    ({"lines": [{"line_id": "L1", "units": 1, "ordered": 2, "paid": 20000}] * 2}, "appears twice"),
    ({"surprise": True}, "surprise"),
])
def test_bad_input_names_the_field(change, field):
    body = reserve(R1, L1=1).model_dump() | change
    with pytest.raises(ValidationError, match=field):
        Reserve.model_validate(body)


def test_status_lists_lines_and_holders():
    s = status(run(reserve(R1, L1=1), claim(R1, L1=(1, 100))))
    assert [u.line_id for u in s.lines] == ["L1", "L2"]
    [holding] = s.returns
    assert (holding.return_ref, holding.reserved, holding.pending_refunds) == (
        R1, {"L1": 1}, [f"{R1}:refund"])


# --- properties: never more out than the line has, whatever the interleaving ----------------------
RETURNS = [R1, R2, "return-opalook-R3"]
LINES = ["L1", "L2"]


@st.composite
def requests(draw):
    ret = draw(st.sampled_from(RETURNS))
    kind = draw(st.sampled_from(["reserve", "receive", "claim", "confirm", "release_refund",
                                 "exchange", "end"]))
    step = str(draw(st.integers(0, 3)))  # few steps: retries and key reuse happen often
    line = draw(st.sampled_from(LINES))
    units = draw(st.integers(1, 4))
    if kind == "reserve":
        return reserve(ret, f"reserve:{step}", **{line: units})
    if kind == "receive":
        return receive(ret, f"receipt:{step}", **{line: units})
    if kind == "claim":
        return claim(ret, f"refund:{step}", **{line: (units, draw(st.integers(0, 25000)))})
    if kind == "confirm":
        return confirm(ret, f"refund:{step}", draw(st.none() | st.integers(0, 25000)))
    if kind == "release_refund":
        return release_refund(ret, f"refund:{step}")
    if kind == "exchange":
        return exchange(ret, f"exchange:{step}", **{line: units})
    return end(ret, f"end:{step}")


def check_invariants(ledger: OrderLedger) -> None:
    for spec in ORDER.lines:
        use = ledger.use(spec.line_id)
        assert 0 <= use.held <= spec.units
        assert use.refunded_units + use.exchanged_units <= use.held
        assert 0 <= use.refunded + use.claimed <= spec.paid
        claimed_units = sum(r.claimed_units(spec.line_id) for r in ledger.returns.values())
        assert use.refunded + use.claimed <= spec.paid * (use.refunded_units + claimed_units) // spec.units
        for r in ledger.returns.values():
            assert r.free(spec.line_id) >= 0
            assert r.received.get(spec.line_id, 0) <= r.reserved.get(spec.line_id, 0) or r.ended
            if r.ended:
                assert not r.claims
                assert r.reserved.get(spec.line_id, 0) == (r.refunded_units.get(spec.line_id, 0)
                                                            + r.exchanged_units.get(spec.line_id, 0))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(requests(), max_size=40))
def test_no_interleaving_takes_more_than_a_line_has(reqs):
    ledger = OrderLedger.open(ORDER)
    for req in reqs:
        before = ledger.model_dump()
        try:
            new, answer = apply(ledger, req)
        except OrderLineRefused:
            assert ledger.model_dump() == before
            continue
        # a retry of what was just applied answers the same and changes nothing
        again, repeat = apply(new, req)
        assert repeat.duplicate and repeat.done == answer.done
        assert again.model_dump() == new.model_dump()
        ledger = new
        check_invariants(ledger)


@settings(max_examples=150, deadline=None)
@given(st.lists(requests(), max_size=25), st.randoms(use_true_random=False))
def test_retried_requests_anywhere_in_the_sequence_change_nothing(reqs, rnd):
    """Replaying the whole sequence with each request sent once or twice, at random places (a
    retried activity whose first call went through), ends in the same ledger."""
    def run_through(seq):
        ledger = OrderLedger.open(ORDER)
        for req in seq:
            try:
                ledger, _ = apply(ledger, req)
            except OrderLineRefused:
                pass
        return ledger

    once = run_through(reqs)
    doubled = []
    for req in reqs:
        doubled.append(req)
        if rnd.random() < 0.5:
            doubled.append(req)
    assert run_through(doubled).model_dump() == once.model_dump()
    check_invariants(once)
