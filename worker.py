"""The worker: runs ReturnWorkflow, OrderWorkflow (each order's line guard), DeliveryWorkflow (each
return's events to the merchant's order system) and their activities on the `returns` task queue.

    python worker.py            # connects per temporalio.envconfig (TEMPORAL_ADDRESS, ...)

Policies are loaded and validated first: an invalid policy file stops the worker with a message
naming the file, the field and the problem; so does a merchant whose return address, sender or
support address (what customers read) is missing or a placeholder (returns/merchant_settings.py),
and an invalid adapters file (`RETURNS_ADAPTERS_FILE`: each merchant's email, payment and label
services, docs/adapters.md).
"""

from __future__ import annotations

import asyncio
import compileall
import functools
import os
import signal
import sys
from pathlib import Path

from temporalio.worker import Worker

from activities import wiring
from activities.adapters import AdapterConfigError
from activities.deadlines import compute_deadline
from activities.deliveries import DeliveryActivities
from activities.metrics import with_metrics
from activities.order_lines import OrderLineActivities
from activities.policy import PolicyActivities
from returns import merchant_settings
from returns.policy.registry import PolicyFileError, PolicyRegistry
from runtime.client import connect, worker_data_converter
from runtime.codec import CodecKeyError
from runtime.faults import FaultPlan, with_faults
from runtime.logging import configure_logging, get_logger
from runtime.settings import Settings
from runtime.shutdown import exit_now
from runtime import telemetry, workflow_runner
import workflows
from workflows.delivery_workflow import DeliveryWorkflow
from workflows.order_workflow import OrderWorkflow
from workflows.return_workflow import ReturnWorkflow

log = get_logger("worker")


def build_activities(settings: Settings, registry: PolicyRegistry, client=None) -> list:
    """Every activity the workflow calls, with each merchant's adapters from the adapters file
    (`RETURNS_ADAPTERS_FILE`; without one, the embedded defaults). Raises AdapterConfigError.
    With `client`, also the order-line activities, which reach each order's OrderWorkflow."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    policy = PolicyActivities(registry)
    adapters = wiring.load_for(settings, known_merchants=registry.merchant_ids)
    for merchant, line in wiring.describe(adapters).items():
        log.info("adapters", merchant=merchant, adapters=line)
    notifications = wiring.notification_activities(settings, adapters)
    labels = wiring.label_activities(settings, adapters)
    payments = wiring.payment_activities(settings, adapters)
    collection = wiring.collection_activities(settings, adapters)  # what the customer owes
    order_lines = OrderLineActivities(client, settings.task_queue).all() if client else []
    endpoints = wiring.delivery_endpoints(settings, adapters, registry.merchant_ids)
    for merchant, endpoint in endpoints.items():
        log.info("events out", merchant=merchant, endpoint=endpoint.host,
                 retry_for=str(endpoint.retry_for))
    deliveries = DeliveryActivities(client, settings.task_queue, endpoints)
    return with_metrics(with_faults([
        policy.evaluate_return,
        policy.apply_overrides,
        compute_deadline,
        notifications.send_notification,
        labels.create_return_label,
        payments.issue_refund,
        collection.create_customer_payment,
        collection.check_customer_payment,
        *order_lines,
        *deliveries.all(),
    ], FaultPlan.from_env(os.environ)))  # faults: fault tests only, off unless RETURNS_FAULTS


@functools.cache
def _bytecode_for_the_sandbox() -> None:
    """Write the workflow modules' bytecode (.pyc) if it is missing or stale.

    The workflow sandbox imports the workflow module afresh for every workflow run it starts. With
    PYTHONDONTWRITEBYTECODE set (common in containers and dev shells) no .pyc is ever written, and
    each run compiled ~1,100 lines again (a tenth of the worker's CPU per return,
    docs/performance.md). Reading a .pyc is allowed either way; writing it is best-effort (a
    read-only install just keeps compiling)."""
    compileall.compile_dir(Path(workflows.__file__).parent, quiet=2)


def build_worker(client, settings: Settings, registry: PolicyRegistry, **kwargs) -> Worker:
    _bytecode_for_the_sandbox()
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ReturnWorkflow, OrderWorkflow, DeliveryWorkflow],
        activities=build_activities(settings, registry, client),
        **kwargs,
    )


async def main() -> int:
    configure_logging()
    settings = Settings.from_env()
    try:
        registry = PolicyRegistry.load(settings.policies_dir)
    except PolicyFileError as err:
        log.error("invalid policy file", error=str(err))
        print(f"worker: {err}", file=sys.stderr)
        return 2
    try:  # what customers read: each merchant's return address, sender and support address
        merchant_settings.check({m: registry.get(m).contact() for m in registry.merchant_ids},
                                {m: str(registry.source(m) or "") for m in registry.merchant_ids})
    except merchant_settings.MerchantSettingsError as err:
        log.error("merchant settings not ready", error=str(err))
        print(f"worker: {err}", file=sys.stderr)
        return 2
    try:  # each merchant's email, payment and label services, secrets included
        adapters = wiring.load_for(settings, known_merchants=registry.merchant_ids)
        wiring.delivery_endpoints(settings, adapters, registry.merchant_ids)  # events out
    except AdapterConfigError as err:  # names the file and the field
        log.error("invalid adapters file", error=str(err))
        print(f"worker: {err}", file=sys.stderr)
        return 2
    try:  # every payload is encrypted: no key, no worker (docs/security.md)
        keyring = worker_data_converter.payload_codec.keyring
    except CodecKeyError as err:
        print(f"worker: {err}", file=sys.stderr)
        return 2
    try:  # metrics (RETURNS_METRICS_ADDRESS) and traces (OTEL_EXPORTER_OTLP_*): docs/operations.md
        metrics_address = telemetry.install_runtime()
    except telemetry.TelemetryConfigError as err:
        print(f"worker: {err}", file=sys.stderr)
        return 2
    try:  # the sandbox, with the workflow modules imported once (runtime/workflow_runner.py)
        runner = workflow_runner.from_env(os.environ)
        cache = workflow_runner.cache_size(os.environ)
    except ValueError as err:
        print(f"worker: {err}", file=sys.stderr)
        return 2
    tracing = telemetry.tracing("returns-worker")
    client = await connect(interceptors=tracing.interceptors(),
                           data_converter=worker_data_converter)
    worker = build_worker(client, settings, registry, workflow_runner=runner,
                          max_cached_workflows=cache)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.task_queue, merchants=registry.merchant_ids,
             cached_returns=cache,
             data_dir=str(settings.data_dir), encryption_key=keyring.current_id,
             metrics=f"http://{metrics_address}/metrics" if metrics_address else None,
             traces=tracing.endpoint)
    async with worker:
        await stop.wait()
    tracing.shutdown()
    log.info("worker stopped")
    return 0


if __name__ == "__main__":
    exit_now(asyncio.run(main()))
