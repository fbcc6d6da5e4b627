"""SqliteLedger and the issue_refund activity against a real SQLite file."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import REFUND_REFUSED, RefundIssued, RefundRequest
from activities.ledger import SqliteLedger
from activities.payments import PaymentActivities, RefundProvider, RefundRefused
from returns.events import Payment

CARD = Payment(payment_id="pay_card", method="card", amount=6000)
GIFT = Payment(payment_id="pay_gift", method="gift_card", amount=4000)


def request(key: str = "return-R1:refund:1", amount: int = 2500, *, order_id: str = "O1",
            return_id: str = "R1", currency: str = "EUR",
            payments: list[Payment] | None = None) -> RefundRequest:
    return RefundRequest(idempotency_key=key, return_id=return_id, order_id=order_id,
                         currency=currency, amount=amount,
                         payments=[CARD] if payments is None else payments,
                         reason="return approved")


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "ledger.sqlite3")


def rows(path: Path, table: str) -> int:
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


async def test_is_a_refund_provider(ledger):
    assert isinstance(ledger, RefundProvider)


async def test_one_refund_is_recorded(ledger):
    issued = await ledger.refund(request(amount=2500))
    assert issued.amount == 2500 and issued.currency == "EUR"
    assert issued.splits == {"pay_card": 2500}
    assert not issued.duplicate
    assert issued.refund_id.startswith("re_")
    [recorded] = await ledger.refunds()
    assert recorded.refund_id == issued.refund_id
    assert recorded.idempotency_key == "return-R1:refund:1"
    assert (recorded.order_id, recorded.return_id, recorded.amount) == ("O1", "R1", 2500)
    assert recorded.splits == {"pay_card": 2500}
    assert await ledger.captured("pay_card") == 6000
    assert await ledger.refunded_total("pay_card") == 2500


async def test_same_key_returns_the_same_refund_without_a_second_row(ledger):
    first = await ledger.refund(request())
    again = await ledger.refund(request())
    assert again.duplicate
    assert again.model_copy(update={"duplicate": False}) == first
    assert len(await ledger.refunds()) == 1
    assert rows(ledger.path, "refund_splits") == 1
    assert await ledger.refunded_total("pay_card") == 2500


@pytest.mark.parametrize("change", [
    {"amount": 2600}, {"currency": "USD"}, {"order_id": "O2"}, {"return_id": "R2"},
])
async def test_same_key_with_other_parameters_is_refused(ledger, change):
    await ledger.refund(request())
    with pytest.raises(RefundRefused, match="idempotency_key"):
        await ledger.refund(request(**change))
    assert len(await ledger.refunds()) == 1


async def test_over_refund_is_refused(ledger):
    with pytest.raises(RefundRefused, match="amount: 60.01 EUR is more than the 60.00 EUR"):
        await ledger.refund(request(amount=6001))
    assert await ledger.refunds() == []
    assert rows(ledger.path, "captures") == 0  # a refused request leaves no trace


async def test_split_across_two_payments_in_order(ledger):
    issued = await ledger.refund(request(amount=7500, payments=[CARD, GIFT]))
    assert list(issued.splits.items()) == [("pay_card", 6000), ("pay_gift", 1500)]
    # the next refund starts where the card is exhausted
    second = await ledger.refund(request("return-R1:refund:2", 1000, payments=[CARD, GIFT]))
    assert second.splits == {"pay_gift": 1000}
    assert await ledger.refunded_total("pay_card") == 6000
    assert await ledger.refunded_total("pay_gift") == 2500


async def test_split_follows_the_order_of_the_request(ledger):
    issued = await ledger.refund(request(amount=4500, payments=[GIFT, CARD]))
    assert list(issued.splits.items()) == [("pay_gift", 4000), ("pay_card", 500)]


async def test_partial_refunds_accumulate_up_to_captured(ledger):
    for n in range(1, 4):
        await ledger.refund(request(f"return-R1:refund:{n}", 2000))
    assert await ledger.refunded_total("pay_card") == 6000
    with pytest.raises(RefundRefused, match="0.00 EUR still refundable"):
        await ledger.refund(request("return-R1:refund:4", 1))
    assert [r.amount for r in await ledger.refunds("O1")] == [2000, 2000, 2000]


async def test_first_capture_registration_wins(ledger):
    await ledger.refund(request(amount=1000))
    inflated = Payment(payment_id="pay_card", method="card", amount=1_000_000)
    with pytest.raises(RefundRefused, match="amount"):
        await ledger.refund(request("return-R1:refund:2", 50_000, payments=[inflated]))
    assert await ledger.captured("pay_card") == 6000


async def test_payment_of_another_order_is_refused(ledger):
    await ledger.refund(request(amount=1000))
    with pytest.raises(RefundRefused, match=r"payments\[0\].payment_id: 'pay_card' was captured "
                                            "for another order"):
        await ledger.refund(request("return-R9:refund:1", 1000, order_id="O9", return_id="R9"))


async def test_currency_mismatch_is_refused(ledger):
    await ledger.refund(request(amount=1000))
    with pytest.raises(RefundRefused, match="currency: payment pay_card was captured in EUR"):
        await ledger.refund(request("return-R1:refund:2", 1000, currency="USD"))


@pytest.mark.parametrize("bad, field", [
    ({"amount": 0}, "amount"), ({"amount": -5}, "amount"), ({"currency": "eur"}, "currency"),
    ({"payments": []}, "payments"), ({"payments": [CARD, CARD]}, r"payments\[1\]"),
])
async def test_invalid_requests_are_refused_naming_the_field(ledger, bad, field):
    with pytest.raises(RefundRefused, match=field):
        await ledger.refund(request(**bad))


async def test_reopening_the_file_keeps_the_state(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    first = await SqliteLedger(path).refund(request(amount=4000))
    reopened = SqliteLedger(path)
    assert [r.refund_id for r in await reopened.refunds()] == [first.refund_id]
    again = await reopened.refund(request(amount=4000))
    assert again.duplicate and again.refund_id == first.refund_id
    with pytest.raises(RefundRefused):
        await reopened.refund(request("return-R1:refund:2", 2001))


async def test_concurrent_tasks_with_the_same_key_refund_once(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    ledgers = [SqliteLedger(path) for _ in range(8)]  # as if eight workers
    results = await asyncio.gather(*(lg.refund(request(amount=5000)) for lg in ledgers))
    assert len({r.refund_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    assert len(await ledgers[0].refunds()) == 1
    assert await ledgers[0].refunded_total("pay_card") == 5000


def test_concurrent_threads_with_the_same_key_refund_once(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    barrier = threading.Barrier(10)
    results: list[RefundIssued] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(asyncio.run(SqliteLedger(path).refund(request(amount=5000))))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 10
    assert len({r.refund_id for r in results}) == 1
    assert sum(not r.duplicate for r in results) == 1
    assert rows(path, "refunds") == 1


def _refund_in_process(path: str, key: str, amount: int, queue) -> None:
    try:
        issued = asyncio.run(SqliteLedger(Path(path)).refund(request(key, amount)))
        queue.put(("ok", issued.refund_id, issued.duplicate))
    except RefundRefused as e:
        queue.put(("refused", str(e), None))


def test_concurrent_processes_never_refund_more_than_captured(tmp_path):
    # Six workers (processes) each refund 20.00 of a 60.00 capture, three of them twice with the
    # same key: three refunds succeed, the rest are duplicates; nothing is over-refunded.
    path = tmp_path / "ledger.sqlite3"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    keys = [f"return-R1:refund:{n}" for n in range(6)] + [f"return-R1:refund:{n}" for n in range(3)]
    procs = [ctx.Process(target=_refund_in_process, args=(str(path), k, 2000, queue)) for k in keys]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    ok = [o for o in outcomes if o[0] == "ok"]
    refused = [o for o in outcomes if o[0] == "refused"]
    assert len({o[1] for o in ok}) == 3
    assert rows(path, "refunds") == 3
    assert len(refused) + sum(1 for o in ok if o[2]) == len(keys) - 3
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT SUM(amount) FROM refund_splits").fetchone()[0] == 6000


# --- the activity ---------------------------------------------------------------------------------
async def test_activity_issues_the_refund(ledger):
    activities = PaymentActivities(ledger)
    issued = await ActivityEnvironment().run(activities.issue_refund, request(amount=1234))
    assert issued.amount == 1234 and issued.splits == {"pay_card": 1234}
    again = await ActivityEnvironment().run(activities.issue_refund, request(amount=1234))
    assert again.duplicate and again.refund_id == issued.refund_id


async def test_activity_turns_a_refusal_into_a_non_retryable_error(ledger):
    activities = PaymentActivities(ledger)
    with pytest.raises(ApplicationError) as info:
        await ActivityEnvironment().run(activities.issue_refund, request(amount=999_999))
    assert info.value.type == REFUND_REFUSED
    assert info.value.non_retryable
    assert "amount" in str(info.value)


async def test_activity_lets_other_errors_be_retried(tmp_path):
    # A ledger whose path is a directory cannot open: an operational error, retried by Temporal.
    broken = SqliteLedger(tmp_path)
    with pytest.raises(sqlite3.OperationalError):
        await ActivityEnvironment().run(PaymentActivities(broken).issue_refund, request())
