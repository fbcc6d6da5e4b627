"""The workflow's business metrics (workflows/metrics.py) count each event once, however often
the workflow's history is replayed.

The worker here keeps no workflow in its cache (`max_cached_workflows=0`): every workflow task
replays the return's whole history from the start, as after a worker restart or an eviction.
Its client has a Temporal runtime of its own whose metrics go to a buffer the test reads (the
suite's other workers keep the process's default runtime), so the counts are exact.
"""

from __future__ import annotations

import collections
import uuid
from dataclasses import replace
from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.runtime import MetricBuffer, Runtime, TelemetryConfig

from returns.status import ReturnState as S
from runtime.settings import Settings
from samples.keys import test_data_converter
from tests.lifecycle.conftest import Harness
from samples.events import return_requested
from tests.lifecycle.test_paths import approve, receive_and_inspect, wait_state
from worker import build_worker
from workflows import metrics

# Attributes every workflow metric carries from the SDK; the test compares the product's own.
SDK_ATTRIBUTES = {"namespace", "task_queue", "workflow_type", "service_name"}


class Counts:
    """Counter totals from a runtime's metric buffer: {(name, ((label, value), ...)): total}."""

    def __init__(self, buffer: MetricBuffer) -> None:
        self.buffer = buffer
        self.totals: collections.Counter = collections.Counter()

    def read(self) -> collections.Counter:
        for update in self.buffer.retrieve_updates():
            if update.metric.name in metrics.ALL:
                labels = tuple(sorted((k, v) for k, v in update.attributes.items()
                                      if k not in SDK_ATTRIBUTES))
                self.totals[(update.metric.name, labels)] += update.value
        return self.totals


def expected(name: str, **labels: str) -> tuple:
    return (name, tuple(sorted(labels.items())))


async def test_workflow_metrics_do_not_double_when_the_history_replays(env, registry, tmp_path):
    buffer = MetricBuffer(100_000)
    runtime = Runtime(telemetry=TelemetryConfig(metrics=buffer))
    client = await Client.connect(env.client.service_client.config.target_host,
                                  namespace=env.client.namespace,
                                  data_converter=test_data_converter, runtime=runtime)
    counts = Counts(buffer)
    settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")}),
                       task_queue=f"returns-{uuid.uuid4()}")
    harness = Harness(client=env.client, env=env, settings=settings)
    async with build_worker(client, settings, registry, max_cached_workflows=0):
        handle = await harness.start(return_requested("fine-jewelry"))
        await wait_state(handle, S.under_review)
        await harness.sleep(handle, timedelta(days=6))  # the review is late: escalated
        st = await wait_state(handle, S.under_review)
        assert st.needs_attention
        await approve(handle)
        await receive_and_inspect(handle, ("L1", 1))
        final = await harness.result(handle)
    assert final.state == S.refunded

    history = await handle.fetch_history()
    tasks = sum(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
                for e in history.events)
    assert tasks >= 8, f"only {tasks} workflow tasks: too few replays to prove anything"

    m = "fine-jewelry"
    states = ["requested"] + [a.detail.split(" -> ")[1] for a in final.audit
                                 if a.action == "state"]
    want = collections.Counter({
        expected(metrics.STARTED, merchant_id=m): 1,
        expected(metrics.ENDED, merchant_id=m, state="refunded", outcome="refunded"): 1,
        expected(metrics.DEADLINES_BREACHED, merchant_id=m, kind="review"): 1,
        **{expected(metrics.DEADLINES_MET, merchant_id=m, kind=kind): 1
           for kind in ("ship_by", "inspection", "refund")},
    })
    for state in states:  # each state entered once, and left once (the last one as it ended)
        want[expected(metrics.STATE_ENTERED, merchant_id=m, state=state)] += 1
        want[expected(metrics.STATE_LEFT, merchant_id=m, state=state)] += 1
    assert len(states) == len(set(states)) >= 7, states
    assert counts.read() == want
