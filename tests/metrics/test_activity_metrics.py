"""The side effects' metrics (activities/metrics.py) as the worker wires them
(`worker.build_activities`): the real refund ledger, Maildir outbox and PDF labels, run in
Temporal's activity test environment with a metric meter whose counts the test reads. Failures
are real ones: a refund beyond what the order still allows (the ledger refuses), a payment
method refunded by hand (no provider), an email template sent to the wrong audience, a label
request without lines. A retry that finds its work done (same idempotency key) is not counted.
Outbound deliveries (to the merchant's order system) have no activity yet: their two functions
are called as that activity will call them.
"""

from __future__ import annotations

import collections
from pathlib import Path

from temporalio.exceptions import ApplicationError
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig
from temporalio.testing import ActivityEnvironment

from activities import contracts as c
from activities import metrics
from activities.ledger import SqliteLedger
from activities.payments import PaymentActivities, RefundRouter
from returns.events import Address, Payment
from returns.policy.registry import PolicyRegistry
from runtime.settings import Settings
from worker import build_activities

SDK_ATTRIBUTES = {"namespace", "task_queue", "activity_type", "workflow_type", "service_name"}
ADDRESS = Address(line1="1 Main Street", city="Springfield", postal_code="12345", country="US")


def counts(buffer: MetricBuffer) -> collections.Counter:
    totals: collections.Counter = collections.Counter()
    for update in buffer.retrieve_updates():
        if update.metric.name in metrics.ALL:
            labels = tuple(sorted((k, v) for k, v in update.attributes.items()
                                  if k not in SDK_ATTRIBUTES))
            totals[(update.metric.name, labels)] += update.value
    return totals


def key(name: str, **labels: str) -> tuple:
    return (name, tuple(sorted(labels.items())))


async def run(env: ActivityEnvironment, fn, arg):
    try:
        return await env.run(fn, arg)
    except ApplicationError as err:
        return err


async def test_refunds_emails_and_labels_are_counted_sent_and_failed(tmp_path: Path):
    buffer = MetricBuffer(10_000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    env = ActivityEnvironment()
    env.metric_meter = runtime.metric_meter
    settings = Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")})
    activities = {fn.__temporal_activity_definition.name: fn
                  for fn in build_activities(settings, PolicyRegistry.load(settings.policies_dir))}
    m = "fine-jewelry"

    refund = c.RefundRequest(
        idempotency_key="return-R1:refund", return_id="R1", order_id="O-R1", currency="USD",
        amount=1500, payments=[Payment(payment_id="P-R1", method="card", amount=2000)],
        reason="refund after inspection", merchant_id=m)
    issued = await run(env, activities[c.ISSUE_REFUND], refund)
    assert isinstance(issued, c.RefundIssued) and not issued.duplicate
    again = await run(env, activities[c.ISSUE_REFUND], refund)  # a retry: already refunded
    assert again.duplicate
    beyond = refund.model_copy(update={"idempotency_key": "return-R1:refund-2", "amount": 1000})
    refused = await run(env, activities[c.ISSUE_REFUND], beyond)  # only 500 left on the order
    assert isinstance(refused, ApplicationError) and refused.type == c.REFUND_REFUSED
    by_hand = metrics.with_metrics([PaymentActivities(RefundRouter(
        providers={m: {"ledger": SqliteLedger(settings.ledger_path)}},
        methods_by_merchant={m: {"card": "manual"}}, default_providers={})).issue_refund])[0]
    no_provider = await run(env, by_hand, refund.model_copy(
        update={"idempotency_key": "return-R2:refund", "return_id": "R2", "order_id": "O-R2"}))
    assert isinstance(no_provider, ApplicationError) and no_provider.type == c.NO_REFUND_PROVIDER

    note = c.Notification(
        idempotency_key="return-R1:notify:1:approved", template="approved", audience="customer",
        to="ada@example.com", merchant_name="Fine Jewelry", merchant_support_email="help@fj.example",
        return_id="R1", order_id="O-R1", customer_name="Ada", state="approved", merchant_id=m)
    assert not (await run(env, activities[c.SEND_NOTIFICATION], note)).duplicate
    assert (await run(env, activities[c.SEND_NOTIFICATION], note)).duplicate
    wrong = note.model_copy(update={"idempotency_key": "return-R1:notify:2:review_needed",
                                    "template": "review_needed"})  # a staff template
    assert isinstance(await run(env, activities[c.SEND_NOTIFICATION], wrong), ApplicationError)

    label = c.LabelRequest(
        idempotency_key="return-R1:label", rma_number="RMA-R1", return_id="R1", order_id="O-R1",
        merchant_name="Fine Jewelry", merchant_address=ADDRESS, customer_name="Ada",
        customer_address=ADDRESS, lines=[c.LabelLine(sku="RING-1", title="Gold ring", quantity=1)],
        merchant_id=m)
    assert not (await run(env, activities[c.CREATE_RETURN_LABEL], label)).duplicate
    unlabelled = label.model_copy(update={"idempotency_key": "return-R3:label",
                                          "rma_number": "RMA-R3", "lines": []})
    assert isinstance(await run(env, activities[c.CREATE_RETURN_LABEL], unlabelled),
                      ApplicationError)

    async def deliver_twice():  # as the outbound delivery activity will: one fails, one goes
        metrics.delivery_failed(m)
        metrics.delivery_sent(m)
    await env.run(deliver_twice)

    assert counts(buffer) == collections.Counter({
        key(metrics.REFUNDS_ISSUED, merchant_id=m, currency="USD"): 1,
        key(metrics.REFUNDED_AMOUNT, merchant_id=m, currency="USD"): 1500,
        key(metrics.REFUND_FAILURES, merchant_id=m, currency="USD", reason="refused"): 1,
        key(metrics.REFUND_FAILURES, merchant_id=m, currency="USD", reason="no_provider"): 1,
        key(metrics.REFUND_FAILED_AMOUNT, merchant_id=m, currency="USD"): 1000 + 1500,
        key(metrics.EMAILS_SENT, merchant_id=m, audience="customer"): 1,
        key(metrics.EMAIL_FAILURES, merchant_id=m, audience="customer"): 1,
        key(metrics.LABELS_CREATED, merchant_id=m): 1,
        key(metrics.LABEL_FAILURES, merchant_id=m): 1,
        key(metrics.DELIVERIES_SENT, merchant_id=m): 1,
        key(metrics.DELIVERY_FAILURES, merchant_id=m): 1,
    })
