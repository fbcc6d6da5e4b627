"""OrderWorkflow and the order-line activities against a real Temporal dev server (conftest.py says
why not the time-skipping one), with the real worker (`build_worker`: the worker's own wiring) and
real refund providers: the SQLite ledger, and Stripe's SDK against stripe-stateful-mock."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Replayer, Worker

from activities import contracts as c
from activities.adapters import Secret
from activities.ledger import SqliteLedger
from activities.order_lines import OrderLineActivities
from activities.stripe_refunds import StripeRefunds
from returns.events import Payment
from returns.order_lines import (
    LineSpec, OrderLinesStatus, OrderSpec, RefundOfLine, Reserve, ReserveLine, UnitsOfLine,
    order_workflow_id,
)
from returns.policy.registry import PolicyRegistry
from runtime.settings import ROOT, Settings
from tests.order_lines.conftest import unique
from tests.order_lines.guarded_return import GuardedRefund, GuardedRefundInput, GuardedRefundResult
from worker import build_worker
from workflows.order_workflow import OrderWorkflow

MERCHANT = "opalook"
STRIPE_KEY = "sk_test_order_lines"


def order(*lines: tuple[str, int, int], merchant: str = MERCHANT) -> OrderSpec:
    return OrderSpec(merchant_id=merchant, order_id=unique("O"), currency="EUR",
                     placed_at=datetime.now(timezone.utc) - timedelta(days=10),
                     lines=[LineSpec(line_id=k, units=u, paid=p) for k, u, p in lines])


@dataclasses.dataclass
class Stack:
    client: object
    task_queue: str
    settings: Settings
    provider: str = "ledger"  # the refund provider of MERCHANT's card payments: ledger or stripe
    stripe: object = None  # the stripe_mock fixture's server, for "stripe"


@pytest.fixture(params=["ledger", "stripe"])
async def stack(request, dev_env, tmp_path):
    """The real worker, refunding through the embedded ledger or through Stripe (the merchant's
    adapters file, as in production, pointed at stripe-stateful-mock)."""
    env = {"RETURNS_DATA_DIR": str(tmp_path / "data")}
    if request.param == "stripe":
        mock = request.getfixturevalue("stripe_mock")
        adapters = tmp_path / "adapters.toml"
        adapters.write_text(f'[default]\npayments = {{ methods = {{}} }}\n\n'
                            f'[merchants.{MERCHANT}.payments.stripe]\n'
                            f'api_key_env = "ORDER_LINES_STRIPE_KEY"\napi_base = "{mock.url}"\n\n'
                            f'[merchants.{MERCHANT}.payments.methods]\ncard = "stripe"\n')
        secrets = tmp_path / "returns.env"
        secrets.write_text(f"ORDER_LINES_STRIPE_KEY={STRIPE_KEY}\n")
        env |= {"RETURNS_ADAPTERS_FILE": str(adapters), "RETURNS_SECRETS_FILE": str(secrets)}
    settings = replace(Settings.from_env(env), task_queue=unique("orderlines"))
    registry = PolicyRegistry.load(ROOT / "policies")
    async with build_worker(dev_env.client, settings, registry), \
            Worker(dev_env.client, task_queue=f"{settings.task_queue}-returns",
                   workflows=[GuardedRefund]):
        yield Stack(dev_env.client, settings.task_queue, settings, provider=request.param,
                    stripe=request.getfixturevalue("stripe_mock")
                    if request.param == "stripe" else None)


async def payment(stack: Stack, amount: int) -> Payment:
    """A captured payment the provider knows: a charge in the Stripe mock, or a ledger id."""
    if stack.provider == "ledger":
        return Payment(payment_id=unique("pay"), method="card", amount=amount)
    stripe = StripeRefunds(Secret(STRIPE_KEY, "test"), api_base=stack.stripe.url, timeout=10)
    try:
        made = await stripe.client.v1.charges.create_async(
            {"amount": amount, "currency": "eur", "source": "tok_visa"})
    finally:
        await stripe.aclose()
    return Payment(payment_id=made.id, method="card", amount=amount)


async def refunded_by_provider(stack: Stack, pay: Payment) -> int:
    if stack.provider == "ledger":
        return await SqliteLedger(stack.settings.ledger_path).refunded_total(pay.payment_id)
    stripe = StripeRefunds(Secret(STRIPE_KEY, "test"), api_base=stack.stripe.url, timeout=10)
    try:
        return (await stripe.client.v1.charges.retrieve_async(pay.payment_id)).amount_refunded
    finally:
        await stripe.aclose()


async def guarded_refund(stack: Stack, spec: OrderSpec, pay: Payment,
                         refund: list[RefundOfLine]) -> GuardedRefundResult:
    return await stack.client.execute_workflow(
        GuardedRefund.run, GuardedRefundInput(order=spec, payments=[pay], refund=refund,
                                              task_queue=stack.task_queue),
        id=f"return-{MERCHANT}-{uuid.uuid4().hex[:8]}", task_queue=f"{stack.task_queue}-returns",
        result_type=GuardedRefundResult)


async def no_failed_workflow_task(stack: Stack, spec: OrderSpec) -> None:
    history = await stack.client.get_workflow_handle(
        order_workflow_id(spec.merchant_id, spec.order_id)).fetch_history()
    failed = [e for e in history.events
              if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    assert failed == []


async def guard_status(stack: Stack, spec: OrderSpec) -> OrderLinesStatus:
    handle = stack.client.get_workflow_handle(order_workflow_id(spec.merchant_id, spec.order_id))
    return await handle.query(OrderWorkflow.status, result_type=OrderLinesStatus)


# --- the refund guard, whichever provider ---------------------------------------------------------
async def test_a_guarded_refund_goes_through_and_is_recorded_per_line(stack):
    spec = order(("L1", 2, 20000))
    pay = await payment(stack, 20000)
    result = await guarded_refund(stack, spec, pay, [RefundOfLine(line_id="L1", units=1, amount=10000)])
    assert result.outcome == "refunded", result
    assert await refunded_by_provider(stack, pay) == 10000
    [line] = (await guard_status(stack, spec)).lines
    assert (line.held, line.refunded_units, line.refunded, line.units_left, line.money_left) == (
        1, 1, 10000, 1, 10000)


async def test_two_returns_racing_for_the_last_unit_only_one_is_refunded(stack):
    """Two returns of the same order, each for the line's only unit, started at once: both reach
    the guard first (both try to start the order workflow); one is refunded, the other's approval
    is refused with the guard's words, and the provider pays once, Stripe or ledger alike."""
    spec = order(("L1", 1, 15000))
    pay = await payment(stack, 15000)
    refund = [RefundOfLine(line_id="L1", units=1, amount=15000)]
    results = await asyncio.gather(*(guarded_refund(stack, spec, pay, refund) for _ in range(2)))
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["approval refused", "refunded"], results
    [loser] = [r for r in results if r.outcome == "approval refused"]
    assert f"line L1 of order {spec.order_id}: cannot reserve 1 unit" in loser.why
    assert "1 ordered, 1 already under return, refunded or exchanged" in loser.why
    assert await refunded_by_provider(stack, pay) == 15000
    await no_failed_workflow_task(stack, spec)


async def test_a_refund_the_line_cannot_pay_never_reaches_the_provider(stack):
    """The claim comes before the provider: refused, nothing is paid, the units go back."""
    spec = order(("L1", 2, 20000))
    pay = await payment(stack, 20000)
    result = await guarded_refund(stack, spec, pay, [RefundOfLine(line_id="L1", units=1, amount=15000)])
    assert result.outcome == "refund refused"
    assert result.why.startswith(f"line L1 of order {spec.order_id}: cannot refund 150.00 EUR for "
                                 f"1 unit for return-{MERCHANT}-")
    assert result.why.endswith(": 1 unit of 2 cost 100.00 EUR of the 200.00 EUR paid for the line")
    assert await refunded_by_provider(stack, pay) == 0
    [line] = (await guard_status(stack, spec)).lines
    assert (line.held, line.claimed, line.units_left) == (0, 0, 2)


# --- the activities, as the return workflow calls them ---------------------------------------------
def activities(stack_or_env, ref: str) -> tuple[OrderLineActivities, ActivityEnvironment]:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id=ref)  # the return calling
    return OrderLineActivities(stack_or_env.client, stack_or_env.task_queue), env


def call(spec: OrderSpec, ref: str, step: str) -> dict:
    return {"order": spec, "return_ref": ref, "idempotency_key": c.step_key(ref, step)}


@pytest.fixture
async def guard(dev_env):
    """A worker running OrderWorkflow only (no refund provider involved)."""
    task_queue = unique("guard")
    async with Worker(dev_env.client, task_queue=task_queue, workflows=[OrderWorkflow]):
        yield Stack(dev_env.client, task_queue, Settings.from_env({}))


async def test_two_refunds_racing_for_the_last_money_only_one_is_claimed(guard):
    """Across returns a refund's money is bounded by its units (returns/order_lines.py), so two
    returns racing for money race for units (above). Within one return, two claims under different
    steps (a retry given a new key while the first claim is pending) race for the same money:
    one is claimed, the other refused."""
    spec = order(("L1", 1, 9900))
    ref = f"return-{MERCHANT}-{uuid.uuid4().hex[:8]}"
    acts, env = activities(guard, ref)
    await env.run(acts.reserve_order_lines, c.ReserveOrderLines(
        **call(spec, ref, "order-lines:reserve"), lines=[UnitsOfLine(line_id="L1", units=1)]))
    claims = [env.run(acts.claim_line_refund, c.ClaimLineRefund(
        **call(spec, ref, f"order-lines:refund:{n}"),
        lines=[RefundOfLine(line_id="L1", units=1, amount=9900)])) for n in range(2)]
    results = await asyncio.gather(*claims, return_exceptions=True)
    [won] = [r for r in results if not isinstance(r, BaseException)]
    [lost] = [r for r in results if isinstance(r, BaseException)]
    assert won.lines[0].claimed == 9900 and won.lines[0].money_left == 0
    assert isinstance(lost, ApplicationError) and lost.type == c.ORDER_LINE_REFUSED
    assert lost.non_retryable
    assert f"line L1 of order {spec.order_id}: {ref} cannot refund 1 unit" in lost.message


async def test_eight_returns_racing_for_three_units_three_win(guard):
    """Eight returns of a new order ask for one unit each at once (all of them trying to start the
    guard, several updates landing in one workflow task): exactly three get one."""
    spec = order(("L1", 3, 30000))
    refs = [f"return-{MERCHANT}-{uuid.uuid4().hex[:8]}" for _ in range(8)]

    async def ask(ref: str):
        acts, env = activities(guard, ref)
        return await env.run(acts.reserve_order_lines, c.ReserveOrderLines(
            **call(spec, ref, "order-lines:reserve"), lines=[UnitsOfLine(line_id="L1", units=1)]))

    results = await asyncio.gather(*(ask(ref) for ref in refs), return_exceptions=True)
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 3 and len(lost) == 5, results
    assert all(isinstance(e, ApplicationError) and e.type == c.ORDER_LINE_REFUSED
               and "3 ordered, 3 already under return, refunded or exchanged" in e.message
               and e.message.endswith("0 left") for e in lost), lost
    [line] = (await guard_status(guard, spec)).lines
    assert (line.held, line.units_left) == (3, 0)
    await no_failed_workflow_task(guard, spec)


async def test_every_step_answers_and_a_retry_answers_the_same(guard):
    spec = order(("L1", 3, 30000), ("L2", 1, 5000))
    ref = f"return-{MERCHANT}-{uuid.uuid4().hex[:8]}"
    acts, env = activities(guard, ref)
    reserve = c.ReserveOrderLines(**call(spec, ref, "order-lines:reserve"), lines=[
        UnitsOfLine(line_id="L1", units=2), UnitsOfLine(line_id="L2", units=1)])
    first = await env.run(acts.reserve_order_lines, reserve)
    again = await env.run(acts.reserve_order_lines, reserve)
    assert not first.duplicate and again.model_copy(update={"duplicate": False}) == first
    with pytest.raises(ApplicationError, match="cannot receive 3 units more: it reserved 2") as err:
        await env.run(acts.receive_order_lines, c.ReceiveOrderLines(
            **call(spec, ref, "order-lines:receipt:1"), lines=[UnitsOfLine(line_id="L1", units=3)]))
    assert err.value.type == c.ORDER_LINE_REFUSED and err.value.non_retryable
    await env.run(acts.receive_order_lines, c.ReceiveOrderLines(
        **call(spec, ref, "order-lines:receipt:1"), lines=[UnitsOfLine(line_id="L1", units=2)]))
    claim_key = c.step_key(ref, "order-lines:refund")
    await env.run(acts.claim_line_refund, c.ClaimLineRefund(
        **call(spec, ref, "order-lines:refund"), lines=[RefundOfLine(line_id="L1", units=1, amount=10000)]))
    with pytest.raises(ApplicationError, match="cannot end while a refund it claimed is pending"):
        await env.run(acts.release_order_lines, c.ReleaseOrderLines(**call(spec, ref, "order-lines:end")))
    confirmed = await env.run(acts.confirm_line_refund, c.ConfirmLineRefund(
        **call(spec, ref, "order-lines:refund:confirm"), claim_key=claim_key, amount_paid=9000))
    assert (confirmed.lines[0].refunded, confirmed.lines[0].refunded_units) == (9000, 1)
    await env.run(acts.mark_lines_exchanged, c.MarkLinesExchanged(
        **call(spec, ref, "order-lines:exchange"), lines=[UnitsOfLine(line_id="L2", units=1)]))
    ended = await env.run(acts.release_order_lines, c.ReleaseOrderLines(
        **call(spec, ref, "order-lines:end")))
    assert ended.done == f"{ref} ended; gave back 1 unit of L1"
    status = await guard_status(guard, spec)
    assert [(u.line_id, u.held, u.units_left) for u in status.lines] == [("L1", 1, 2), ("L2", 1, 0)]
    assert [(h.return_ref, h.ended) for h in status.returns] == [(ref, True)]
    # the history replays: the handlers' changes are deterministic
    history = await guard.client.get_workflow_handle(
        order_workflow_id(MERCHANT, spec.order_id)).fetch_history()
    await Replayer(workflows=[OrderWorkflow], data_converter=guard.client.data_converter
                   ).replay_workflow(history)


async def test_a_return_speaks_only_for_itself(guard):
    spec = order(("L1", 1, 100))
    acts, env = activities(guard, "return-opalook-R-mine")
    with pytest.raises(ApplicationError, match="return_ref: 'return-opalook-R-other' is not the "
                                               "calling workflow 'return-opalook-R-mine'"):
        await env.run(acts.reserve_order_lines, c.ReserveOrderLines(
            **call(spec, "return-opalook-R-other", "order-lines:reserve"),
            lines=[UnitsOfLine(line_id="L1", units=1)]))


async def test_another_merchant_is_refused_and_changes_nothing(guard):
    """An update sent straight to the order workflow (the UI, a script) naming another merchant."""
    spec = order(("L1", 1, 100))
    ref = f"return-{MERCHANT}-{uuid.uuid4().hex[:8]}"
    acts, env = activities(guard, ref)
    await env.run(acts.reserve_order_lines, c.ReserveOrderLines(
        **call(spec, ref, "order-lines:reserve"), lines=[UnitsOfLine(line_id="L1", units=1)]))
    handle = guard.client.get_workflow_handle(order_workflow_id(MERCHANT, spec.order_id))
    intruder = Reserve(merchant_id="brightgem", order_id=spec.order_id,
                       return_ref="return-brightgem-R-1",
                       idempotency_key="return-brightgem-R-1:reserve",
                       lines=[ReserveLine(line_id="L1", units=1, ordered=1, paid=100)])
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await handle.execute_update(OrderWorkflow.reserve_units, intruder)
    assert err.value.cause.type == c.ORDER_LINE_REFUSED
    assert err.value.cause.message == (f"merchant_id: order {spec.order_id} here is not an order "
                                       "of merchant 'brightgem'")
    for bad in ({"units": "1"}, {"units": 1.5}, {"paid": "1.00"}):
        body = intruder.model_dump() | {"merchant_id": MERCHANT, "lines": [
            ReserveLine(line_id="L1", units=1, ordered=1, paid=100).model_dump() | bad]}
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update("reserve_units", body)
        assert err.value.cause.type == "InvalidInput", bad
        assert "lines[0]." in err.value.cause.message
    for update in ("reserve_units", "claim_refund", "release_return"):  # the UI's empty input
        with pytest.raises(WorkflowUpdateFailedError) as err:
            await handle.execute_update(update)
        assert "request" in err.value.cause.message  # "missing ... argument: 'request'"
    [line] = (await handle.query(OrderWorkflow.status, result_type=OrderLinesStatus)).lines
    assert (line.held, line.units_left) == (1, 0)
    await no_failed_workflow_task(guard, spec)


async def test_state_survives_continue_as_new(guard):
    """With a small history limit the guard continues as new between requests; what it held, and
    the answers it gave (idempotency), carry over."""
    spec = order(("L1", 5, 50000))
    wid = order_workflow_id(MERCHANT, spec.order_id)
    start = c.OrderGuardStart(order=spec, keep_until=spec.placed_at + timedelta(days=730),
                              history_limit=20)
    handle = await guard.client.start_workflow(OrderWorkflow.run, start, id=wid,
                                               task_queue=guard.task_queue)
    ref = f"return-{MERCHANT}-{uuid.uuid4().hex[:8]}"
    acts, env = activities(guard, ref)
    reserve = c.ReserveOrderLines(**call(spec, ref, "order-lines:reserve"),
                                  lines=[UnitsOfLine(line_id="L1", units=4)])
    first = await env.run(acts.reserve_order_lines, reserve)
    for n in range(1, 5):
        await env.run(acts.receive_order_lines, c.ReceiveOrderLines(
            **call(spec, ref, f"order-lines:receipt:{n}"), lines=[UnitsOfLine(line_id="L1", units=1)]))
    latest = await guard.client.get_workflow_handle(wid).describe()
    assert latest.run_id != handle.first_execution_run_id, "the guard never continued as new"
    again = await env.run(acts.reserve_order_lines, reserve)
    assert again.duplicate and again.done == first.done
    [line] = (await guard_status(guard, spec)).lines
    assert (line.held, line.received, line.units_left) == (4, 4, 1)
    await guard.client.get_workflow_handle(wid).terminate("test finished")


async def test_a_guard_started_after_its_keeping_time_refuses_everything(guard):
    """A run that starts fresh after `keep_until` may have lost an earlier run's memory: it refuses
    and says a person must check the order."""
    spec = order(("L1", 1, 100))
    spec = spec.model_copy(update={"placed_at": datetime.now(timezone.utc) - timedelta(days=800)})
    ref = f"return-{MERCHANT}-{uuid.uuid4().hex[:8]}"
    acts, env = activities(guard, ref)
    with pytest.raises(ApplicationError, match=f"the guard of order {spec.order_id} was kept until "
                                               r"\d{4}-\d\d-\d\d and may have forgotten earlier "
                                               "returns; a person must check"):
        await env.run(acts.reserve_order_lines, c.ReserveOrderLines(
            **call(spec, ref, "order-lines:reserve"), lines=[UnitsOfLine(line_id="L1", units=1)]))
