"""Metrics and traces of one process (the worker, the receiver): docs/operations.md.

Metrics: `RETURNS_METRICS_ADDRESS=host:port` gives the process a Temporal runtime whose Prometheus
endpoint serves `http://host:port/metrics`: the SDK's own metrics (task latencies,
schedule-to-start, slots, sticky cache, failures) and the product's (`workflows.metrics`,
`activities.metrics`, the receiver's requests). Unset: no endpoint, nothing recorded.
A process has one such runtime: `install_runtime` is called once, before the first client.

Traces: OpenTelemetry spans over the webhook request, the workflow start, the workflow and its
activities (the SDK's `TracingInterceptor`), exported over OTLP/HTTP when
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (a full URL) or `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL;
`/v1/traces` is added) is set, and `OTEL_SDK_DISABLED` is not `true`. Off by default.
`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_EXPORTER_OTLP_HEADERS` are read as the
OpenTelemetry SDK reads them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass

from aiohttp import web
from temporalio.common import MetricMeter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

METRICS_ADDRESS_ENV = "RETURNS_METRICS_ADDRESS"
WEBHOOK_REQUESTS = "returns_webhook_requests_total"


class TelemetryConfigError(ValueError):
    pass


def metrics_address(env: Mapping[str, str] | None = None) -> str | None:
    """`host:port` of this process's Prometheus endpoint, or None (RETURNS_METRICS_ADDRESS)."""
    env = os.environ if env is None else env
    address = env.get(METRICS_ADDRESS_ENV, "").strip()
    if not address:
        return None
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TelemetryConfigError(f"{METRICS_ADDRESS_ENV}: {address!r} is not host:port "
                                   f"(e.g. 127.0.0.1:9464)")
    return address


def install_runtime(env: Mapping[str, str] | None = None) -> str | None:
    """Make this process's default Temporal runtime export Prometheus metrics at
    RETURNS_METRICS_ADDRESS; returns the address (None: not configured, nothing changes).

    Call once per process, before the first client connects (the runtime is the process's)."""
    address = metrics_address(env)
    if address is None:
        return None
    # Counters keep the SDK's names (no `_total` added: Temporal's dashboards use them as they
    # are); ours carry `_total` in their names already.
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(
        metrics=PrometheusConfig(bind_address=address))))
    return address


def meter() -> MetricMeter:
    """The process's metric meter (a no-op one when no metrics are configured)."""
    return Runtime.default().metric_meter


# ---------------------------------------------------------------------------------- traces
def otlp_traces_endpoint(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip():
        return env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].strip()
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        return env["OTEL_EXPORTER_OTLP_ENDPOINT"].strip().rstrip("/") + "/v1/traces"
    return None


@dataclass
class Tracing:
    """The process's tracer, or none when tracing is off."""
    tracer: object | None = None  # opentelemetry.trace.Tracer
    provider: object | None = None  # opentelemetry.sdk.trace.TracerProvider
    endpoint: str | None = None

    def interceptors(self) -> list:
        """The SDK's tracing interceptor for the client (a worker built on that client uses it
        too), or nothing."""
        if self.tracer is None:
            return []
        from temporalio.contrib.opentelemetry import TracingInterceptor
        return [TracingInterceptor(self.tracer)]

    def shutdown(self) -> None:
        """Send what is buffered; call when the process stops."""
        if self.provider is not None:
            self.provider.shutdown()


def tracing(service_name: str, env: Mapping[str, str] | None = None,
            exporter=None) -> Tracing:
    """Tracing for this process: on when an OTLP endpoint is configured (or `exporter` is given,
    in tests), off otherwise. The provider is this process's own, not OpenTelemetry's global."""
    endpoint = otlp_traces_endpoint(env)
    if endpoint is None and exporter is None:
        return Tracing()
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter(endpoint=endpoint)
    env = os.environ if env is None else env
    resource = Resource.create({SERVICE_NAME: env.get("OTEL_SERVICE_NAME") or service_name})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return Tracing(tracer=provider.get_tracer("returns"), provider=provider, endpoint=endpoint)


# ---------------------------------------------------------------------------------- receiver
def webhook_middleware(metric_meter: MetricMeter, tracer=None):
    """An aiohttp middleware: counts each request by route and status
    (`returns_webhook_requests_total{path, status}`) and, when tracing, wraps it in a server span
    that the workflow start continues. No label or span attribute carries the body, a header or
    the remote address."""
    from opentelemetry.trace import SpanKind

    requests = metric_meter.create_counter(
        WEBHOOK_REQUESTS, "Requests to the event receiver, by path and HTTP status")

    @web.middleware
    async def observe(request: web.Request, handler):
        resource = request.match_info.route.resource
        path = resource.canonical if resource is not None else "unmatched"
        status = 500
        span = tracer.start_as_current_span(f"{request.method} {path}", kind=SpanKind.SERVER) \
            if tracer is not None else nullcontext()
        with span as current:
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as err:
                status = err.status
                raise
            finally:
                requests.add(1, {"path": path, "status": str(status)})
                if current is not None:
                    current.set_attribute("http.request.method", request.method)
                    current.set_attribute("http.route", path)
                    current.set_attribute("http.response.status_code", status)

    return observe


__all__ = ["METRICS_ADDRESS_ENV", "TelemetryConfigError", "Tracing", "install_runtime",
           "metrics_address", "meter", "tracing", "webhook_middleware"]
