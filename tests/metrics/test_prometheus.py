"""A real Prometheus (Debian's `prometheus`, installed by `make test`) scrapes the worker and the
receiver, each a real process (`worker.py`, `starter.py serve`) with its Prometheus endpoint
(`RETURNS_METRICS_ADDRESS`), on a Temporal dev server, while returns run through the signed
webhook; the series it stored are checked against what the returns did (their status, audit
trail, emails in the outbox, the answers the webhook gave). The same Prometheus loads the alert
rules (monitoring/prometheus-rules.yml) and evaluates them and every query of the Grafana
dashboard (monitoring/grafana-dashboard.json) against those series.

Each process has its own Temporal runtime, as in production: nothing here shares the test
process's runtime.
"""

from __future__ import annotations

import asyncio
import collections
import json
import mailbox
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from temporalio.testing import WorkflowEnvironment

from activities import metrics as activity_metrics
from ingestion.signing import SIGNATURE_HEADER, sign
from returns.actions import ActionResult
from returns.events import ReturnRequested, workflow_id_for
from returns.status import ReturnStatus
from runtime.settings import ROOT
from samples.keys import TEST_KEYS_ENV, test_data_converter
from samples.events import return_requested
from tests.metrics.test_rules import RULES, dashboard_queries, product_metrics
from tests.ops.stack import TEMPORAL_ENV, free_port
from workflows import metrics as workflow_metrics
from workflows import names
from workflows.search_attributes import cli_flags

SECRET = "whsec_metrics_test_0b1d"  # fine-jewelry's; each merchant has its own
OPALOOK_SECRET = "whsec_metrics_test_opalook_7c2e"
PEARL_SECRET = "whsec_metrics_test_pearl_41aa"
STEP_TIMEOUT = 60.0
SCRAPE = "1s"


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path is None:
        pytest.fail("prometheus is missing: `make test` installs Debian's `prometheus` package "
                    "(apt-get install prometheus)", pytrace=False)
    return path


def child_env(address: str, tmp_path: Path, task_queue: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in TEMPORAL_ENV and not k.startswith(("RETURNS_", "OTEL_"))}
    env.update(TEMPORAL_ADDRESS=address, RETURNS_CODEC_KEYS=TEST_KEYS_ENV,
               RETURNS_DATA_DIR=str(tmp_path / "data"), RETURNS_TASK_QUEUE=task_queue,
               PYTHONUNBUFFERED="1", **extra)
    return env


@asynccontextmanager
async def process(name: str, argv: list[str], env: dict[str, str], log_dir: Path):
    log = (log_dir / f"{name}.log").open("wb")
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(proc.wait, 15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


async def wait_for(what: str, check, timeout: float = STEP_TIMEOUT, logs: Path | None = None):
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = await check()
            if last:
                return last
        except Exception as err:  # noqa: BLE001 - not there yet
            last = err
        await asyncio.sleep(0.25)
    tails = ""
    if logs is not None:
        tails = "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                        for p in sorted(logs.glob("*.log")))
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})"
                         f"{tails}")


def key(**labels: str) -> tuple:
    """A series' key in `Prom.query`'s answer: its label values in label-name order."""
    return tuple(v for _, v in sorted(labels.items()))


class Prom:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url

    async def query(self, promql: str) -> dict[tuple, float]:
        """{key(**labels): value} of an instant query."""
        async with self.session.get(f"{self.url}/api/v1/query", params={"query": promql}) as r:
            body = await r.json()
        assert body["status"] == "success", body
        return {key(**s["metric"]): float(s["value"][1])
                for s in body["data"]["result"]}

    async def series(self, match: str) -> list[dict[str, str]]:
        async with self.session.get(f"{self.url}/api/v1/series", params={"match[]": match}) as r:
            body = await r.json()
        assert body["status"] == "success", body
        return body["data"]


def event_body(event: ReturnRequested) -> bytes:
    return event.model_dump_json().encode()


async def post(session: aiohttp.ClientSession, url: str, body: bytes, secret: str = SECRET) -> int:
    headers = {SIGNATURE_HEADER: sign(body, secret, int(time.time())),
               "Content-Type": "application/json"}
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status


async def in_state(client, event: ReturnRequested, state: str) -> ReturnStatus:
    return_id = event.return_id
    handle = client.get_workflow_handle(workflow_id_for(event.merchant_id, return_id))

    async def check():
        st = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
        return st if st.state.value == state else None

    return await wait_for(f"{return_id} {state}", check)


def transitions(st: ReturnStatus) -> list[tuple[str, str]]:
    """(from, to) of every state change, from the audit trail."""
    return [tuple(a.detail.split(" -> ")) for a in st.audit if a.action == "state"]


async def test_prometheus_scrapes_the_worker_and_the_receiver_while_returns_run(
        tmp_path, temporal_cli_path):
    prometheus = prometheus_binary()
    logs = tmp_path / "logs"
    logs.mkdir()
    worker_port, receiver_port, webhook_port, prom_port = (free_port() for _ in range(4))
    task_queue = f"returns-metrics-{uuid.uuid4().hex[:8]}"
    # monitoring/prometheus.example.yml, on this test's ports and scraping every second.
    (tmp_path / "prometheus.yml").write_text(json.dumps({  # YAML is a superset of JSON
        "global": {"scrape_interval": SCRAPE, "evaluation_interval": SCRAPE},
        "rule_files": [str(RULES)],
        "scrape_configs": [
            {"job_name": "returns-worker",
             "static_configs": [{"targets": [f"127.0.0.1:{worker_port}"]}]},
            {"job_name": "returns-receiver",
             "static_configs": [{"targets": [f"127.0.0.1:{receiver_port}"]}]},
        ],
    }))
    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, dev_server_existing_path=str(temporal_cli_path),
            dev_server_extra_args=[*cli_flags(), "--dynamic-config-value",
                                   "frontend.enableServerVersionCheck=false"]) as env, \
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        client = env.client
        address = client.service_client.config.target_host
        worker_env = child_env(address, tmp_path, task_queue,
                               RETURNS_METRICS_ADDRESS=f"127.0.0.1:{worker_port}")
        receiver_env = child_env(address, tmp_path, task_queue,
                                 RETURNS_WEBHOOK_SECRETS_FINE_JEWELRY=SECRET,
                                 RETURNS_WEBHOOK_SECRETS_OPALOOK=OPALOOK_SECRET,
                                 RETURNS_WEBHOOK_SECRETS_PEARL_PLATFORM=PEARL_SECRET,
                                 RETURNS_METRICS_ADDRESS=f"127.0.0.1:{receiver_port}")
        async with process("worker", [sys.executable, str(ROOT / "worker.py")], worker_env, logs), \
                process("receiver", [sys.executable, str(ROOT / "starter.py"), "serve",
                                     "--port", str(webhook_port)], receiver_env, logs), \
                process("prometheus", [
                    prometheus, f"--config.file={tmp_path / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}"], os.environ.copy(), logs):
            prom = Prom(http, f"http://127.0.0.1:{prom_port}")
            events_url = f"http://127.0.0.1:{webhook_port}/events"

            async def receiver_up():
                async with http.get(f"http://127.0.0.1:{webhook_port}/healthz") as r:
                    return r.status == 200

            await wait_for("the receiver", receiver_up, logs=logs)

            # What the order system sends, and what the receiver answers.
            refunded = return_requested("fine-jewelry")
            rejected = return_requested("opalook")
            answers = collections.Counter()
            for body, secret in [(event_body(refunded), SECRET),
                                 (event_body(rejected), OPALOOK_SECRET),
                                 (event_body(refunded), SECRET),  # again: a duplicate
                                 (event_body(rejected), "not-the-secret"),
                                 (b'{"type": "return.requested", "event_id": "evt-x"}', SECRET)]:
                answers[await post(http, events_url, body, secret)] += 1
            assert answers[200] == 3 and answers[401] == 1, answers

            # Staff carry one return to its refund and reject the other.
            await in_state(client, refunded, "under_review")
            a = client.get_workflow_handle(workflow_id_for(refunded.merchant_id, refunded.return_id))
            await a.execute_update(names.UPDATE_APPROVE, {"actor": "sam"}, result_type=ActionResult)
            await in_state(client, refunded, "awaiting_shipment")
            await a.signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
                "actor": "warehouse:anna", "receipt_id": "scan-1", "items": [{"line_id": "L1", "quantity": 1}]})
            await in_state(client, refunded, "inspecting")
            await a.execute_update(names.UPDATE_RECORD_INSPECTION, {
                "actor": "ines", "items": [{"line_id": "L1", "passed": True, "checks_confirmed": True}]},
                result_type=ActionResult)
            await in_state(client, rejected, "under_review")
            b = client.get_workflow_handle(workflow_id_for(rejected.merchant_id, rejected.return_id))
            await b.execute_update(names.UPDATE_REJECT, {"actor": "sam", "reason": "worn"},
                                   result_type=ActionResult)
            finals = {r.return_id: await client.get_workflow_handle(
                workflow_id_for(r.merchant_id, r.return_id), result_type=ReturnStatus).result()
                for r in (refunded, rejected)}
            a_final, b_final = finals[refunded.return_id], finals[rejected.return_id]
            assert a_final.state.value == "refunded" and b_final.state.value == "rejected"

            # Expected, from what the returns did.
            started = collections.Counter(key(merchant_id=st.merchant_id) for st in finals.values())
            ended = collections.Counter(key(merchant_id=st.merchant_id, state=st.state.value,
                                            outcome=st.outcome or st.state.value)
                                        for st in finals.values())
            entered = collections.Counter()
            left = collections.Counter()
            for st in finals.values():
                entered[key(merchant_id=st.merchant_id, state="requested")] += 1
                for old, new in transitions(st):
                    left[key(merchant_id=st.merchant_id, state=old)] += 1
                    entered[key(merchant_id=st.merchant_id, state=new)] += 1
                left[key(merchant_id=st.merchant_id, state=st.state.value)] += 1  # it ended there
            met = collections.Counter(key(merchant_id=st.merchant_id, kind=d.kind.value)
                                      for st in finals.values()
                                      for d in st.deadlines if d.met and not d.breached)
            emailed = collections.Counter(
                key(merchant_id=st.merchant_id, audience=a.action.removeprefix("emailed "))
                for st in finals.values() for a in st.audit if a.action.startswith("emailed "))
            outbox = mailbox.Maildir(tmp_path / "data" / "outbox", create=False)
            assert sum(emailed.values()) == len(outbox.keys()) > 0

            async def scraped(promql: str, expected: dict) -> dict:
                """Prometheus has scraped `expected` (it scrapes every second); keys are label
                values in label-name order."""
                async def check():
                    got = await prom.query(promql)
                    return got if got == expected else None
                try:
                    return await wait_for(promql, check, timeout=30)
                except AssertionError:
                    got = await prom.query(promql)
                    assert got == expected, f"{promql}: got {got}, expected {expected}"

            def floats(counter: collections.Counter) -> dict:
                return {k: float(v) for k, v in counter.items()}

            # The workflow's events (workflows/metrics.py).
            await scraped(f"sum by (merchant_id) ({workflow_metrics.STARTED})", floats(started))
            await scraped(f"sum by (merchant_id, outcome, state) ({workflow_metrics.ENDED})",
                          floats(ended))
            await scraped(f"sum by (merchant_id, state) ({workflow_metrics.STATE_ENTERED})",
                          floats(entered))
            await scraped(f"sum by (merchant_id, state) ({workflow_metrics.STATE_LEFT})",
                          floats(left))
            await scraped(f"sum by (merchant_id, kind) ({workflow_metrics.DEADLINES_MET})",
                          floats(met))
            # No return is open any more: in each state, entered - left is 0.
            open_now = await prom.query(
                f"sum by (state) ({workflow_metrics.STATE_ENTERED}) - "
                f"sum by (state) ({workflow_metrics.STATE_LEFT})")
            assert set(open_now.values()) == {0.0}, open_now

            # The side effects (activities/metrics.py).
            refund = a_final.refund
            await scraped(f"sum by (merchant_id, currency) ({activity_metrics.REFUNDS_ISSUED})",
                          {key(merchant_id="fine-jewelry", currency=refund.currency): 1.0})
            await scraped(f"sum by (merchant_id, currency) ({activity_metrics.REFUNDED_AMOUNT})",
                          {key(merchant_id="fine-jewelry", currency=refund.currency):
                           float(refund.amount)})
            await scraped(f"sum by (audience, merchant_id) ({activity_metrics.EMAILS_SENT})",
                          floats(emailed))
            await scraped(f"sum by (merchant_id) ({activity_metrics.LABELS_CREATED})",
                          {key(merchant_id="fine-jewelry"): 1.0})
            assert await prom.query(f"sum({activity_metrics.REFUND_FAILURES})") == {}

            # The receiver's answers.
            await scraped('sum by (status) (returns_webhook_requests_total{path="/events"})',
                          {key(status=str(status)): float(n) for status, n in answers.items()})

            # Temporal's own metrics, from both processes.
            assert await prom.query("sum by (job, instance) (up)") == {
                key(job="returns-receiver", instance=f"127.0.0.1:{receiver_port}"): 1.0,
                key(job="returns-worker", instance=f"127.0.0.1:{worker_port}"): 1.0}
            await scraped('sum(temporal_workflow_completed{job="returns-worker", '
                          f'workflow_type="{names.WORKFLOW_TYPE}"}})', {(): 2.0})
            for sdk_metric in ("temporal_workflow_task_schedule_to_start_latency_bucket",
                               "temporal_activity_execution_latency_bucket",
                               "temporal_worker_task_slots_available",
                               "temporal_sticky_cache_size"):
                assert await prom.query(f'count({sdk_metric}{{job="returns-worker"}})'), sdk_metric
            starts = await prom.query('sum(temporal_request{job="returns-receiver", '
                                      'operation="StartWorkflowExecution"})')
            assert starts and starts[()] >= 2, starts

            # The rules evaluate without error; nothing fires for these two healthy returns; the
            # recording rule counts no open return.
            async def evaluated():
                async with http.get(f"{prom.url}/api/v1/rules") as r:
                    groups = (await r.json())["data"]["groups"]
                rules = [rule for g in groups for rule in g["rules"]]
                return rules if rules and all(rule.get("lastEvaluation", "").startswith("20")
                                              and not rule["lastEvaluation"].startswith("0001")
                                              for rule in rules) else None
            rules = await wait_for("the rules evaluated", evaluated)
            assert {r["name"]: r["health"] for r in rules} == {r["name"]: "ok" for r in rules}
            firing = [(r["name"], r["alerts"]) for r in rules if r["type"] == "alerting"
                      and r["alerts"]]
            assert not firing, (firing, (logs / "worker.log").read_text()[-5000:])
            open_returns = await wait_for("the recording rule", lambda: prom.query(
                "returns:open:by_merchant_state"))
            assert set(open_returns.values()) == {0.0}, open_returns

            # Every query of the dashboard evaluates; the queues, deadlines, refunds, emails and
            # webhook panels show these returns (once `increase()` has two samples of a series).
            wanted = {workflow_metrics.STATE_ENTERED, workflow_metrics.DEADLINES_MET,
                      workflow_metrics.ENDED, activity_metrics.REFUNDS_ISSUED,
                      activity_metrics.EMAILS_SENT, "returns_webhook_requests_total"}

            async def panels_show():
                shown = set()
                for query in dashboard_queries():
                    if query.startswith("label_values("):
                        continue  # a Grafana function, not PromQL
                    if await prom.query(query.replace("$merchant", ".*")):
                        shown |= product_metrics(query)
                return shown if wanted <= shown else None

            await wait_for(f"the dashboard's panels to show {sorted(wanted)}", panels_show,
                           timeout=30)

            # No label carries a per-return id or personal data.
            secrets_ = {refunded.return_id, rejected.return_id, refunded.order.order_id,
                        rejected.order.order_id, refunded.order.customer.email,
                        refunded.order.customer.name, refunded.order.customer.id}
            for series in await prom.series('{job=~"returns-worker|returns-receiver"}'):
                for label, value in series.items():
                    assert not any(s in value for s in secrets_), (label, value)
