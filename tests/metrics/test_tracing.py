"""Traces: one trace from the webhook request through the workflow start, the workflow and its
activities, exported over OTLP/HTTP (runtime/telemetry.py) to a receiver on loopback that decodes
what arrives with OpenTelemetry's own protobuf definitions, as a collector would. Off by default.

A real OpenTelemetry Collector is not packaged for Debian or PyPI, so the receiver here is a small
aiohttp app speaking the OTLP/HTTP protocol (POST /v1/traces, protobuf body).
"""

from __future__ import annotations

import asyncio
import time
import uuid

from aiohttp import ClientSession, web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse,
)
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from ingestion.intake import Intake
from ingestion.signing import SIGNATURE_HEADER, sign
from ingestion.webhook import WebhookConfig, create_app
from returns.events import workflow_id_for
from returns.policy.registry import PolicyRegistry
from returns.status import ReturnStatus
from runtime import telemetry
from runtime.settings import Settings
from samples.keys import test_data_converter
from samples.events import return_requested
from tests.loopback import serving
from worker import build_worker
from workflows import names
from workflows.search_attributes import cli_flags

SECRET = "whsec_tracing_test_77"


def test_tracing_is_off_unless_an_otlp_endpoint_is_configured():
    assert telemetry.tracing("returns-worker", {}).interceptors() == []
    assert telemetry.tracing("returns-worker", {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
        "OTEL_SDK_DISABLED": "true"}).interceptors() == []
    assert telemetry.otlp_traces_endpoint(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}) == "http://collector:4318/v1/traces"
    assert telemetry.otlp_traces_endpoint(
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/t"}) == "http://c:4318/t"


def otlp_receiver(spans: list) -> web.Application:
    async def traces(request: web.Request) -> web.Response:
        export = ExportTraceServiceRequest.FromString(await request.read())
        for resource_spans in export.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                spans.extend((service.get("service.name"), span) for span in scope.spans)
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(),
                            content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    return app


async def test_one_trace_from_the_webhook_to_the_activities_exported_over_otlp(
        tmp_path, temporal_cli_path):
    received: list = []
    async with serving(otlp_receiver(received)) as collector, \
            await WorkflowEnvironment.start_local(
                data_converter=test_data_converter,
                dev_server_existing_path=str(temporal_cli_path),
                dev_server_extra_args=[*cli_flags(), "--dynamic-config-value",
                                       "frontend.enableServerVersionCheck=false"]) as env:
        tracing = telemetry.tracing("returns-test", {"OTEL_EXPORTER_OTLP_ENDPOINT": collector})
        assert tracing.endpoint == f"{collector}/v1/traces"
        client = await Client.connect(env.client.service_client.config.target_host,
                                      namespace=env.client.namespace,
                                      data_converter=test_data_converter,
                                      interceptors=tracing.interceptors())
        settings = Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data"),
                                      "RETURNS_TASK_QUEUE": f"returns-{uuid.uuid4().hex[:8]}"})
        registry = PolicyRegistry.load(settings.policies_dir)
        app = create_app(Intake(client, task_queue=settings.task_queue,
                                known_merchant=lambda m: True), WebhookConfig(secrets={"fine-jewelry": (SECRET,)}))
        app.middlewares.append(telemetry.webhook_middleware(telemetry.meter(), tracing.tracer))
        event = return_requested("fine-jewelry")
        body = event.model_dump_json().encode()
        async with build_worker(client, settings, registry), serving(app) as receiver, \
                ClientSession() as http:
            async with http.post(f"{receiver}/events", data=body, headers={
                    SIGNATURE_HEADER: sign(body, SECRET, int(time.time()))}) as response:
                assert response.status == 200, await response.text()
            handle = client.get_workflow_handle(workflow_id_for(event.merchant_id, event.return_id))
            for _ in range(200):  # the policy evaluated, the deadline computed, emails sent
                st = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
                if {"request_received", "review_needed"} <= {a.detail for a in st.audit}:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"the return did not reach its review: {st.state}")
        await asyncio.to_thread(tracing.provider.force_flush)
        tracing.shutdown()

    spans = {span.name: span for _, span in received}
    names_by_id = {span.span_id: span.name for _, span in received}
    parent = {span.name: names_by_id.get(span.parent_span_id) for _, span in received}
    assert {service for service, _ in received} == {"returns-test"}
    # One trace: the webhook request starts the workflow; the workflow's run and the activities
    # it schedules hang under the start (the SDK's interceptor carries it in the headers).
    start = f"StartWorkflow:{names.WORKFLOW_TYPE}"
    assert parent["POST /events"] is None
    assert parent[start] == "POST /events"
    assert parent[f"RunWorkflow:{names.WORKFLOW_TYPE}"] == start
    for activity in ("evaluate_return", "compute_deadline", "send_notification"):
        assert parent[f"StartActivity:{activity}"] == start, sorted(spans)
        assert parent[f"RunActivity:{activity}"] == f"StartActivity:{activity}"
    trace = {span.trace_id for _, span in received if "Query" not in span.name}
    assert trace == {spans["POST /events"].trace_id}  # (the test's status queries trace apart)
    webhook = {a.key: a.value for a in spans["POST /events"].attributes}
    assert webhook["http.response.status_code"].int_value == 200
    # No personal data in any span.
    customer = event.order.customer
    text = str([s for _, s in received])
    for personal in (customer.email, customer.name, event.order.shipping_address.line1):
        assert personal not in text
