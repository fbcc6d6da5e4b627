"""Events out: each return's events to the merchant's order system (docs/events.md, "Events out").

Two activities:
- `enqueue_return_event` (a local activity of the return workflow): signal-with-start of the
  return's deliveries workflow (`deliveries-<merchant>-<return>`, workflows/delivery_workflow.py)
  with one event. Quick: the return never waits for the merchant's endpoint. A merchant without an
  endpoint gets nothing (`delivering=False`); so does a return whose deliveries have ended.
- `deliver_return_event` (the deliveries workflow's): one POST of the event's JSON, signed with the
  merchant's webhook secrets in the same `Returns-Signature: t=...,v1=...` scheme the receiver
  checks (ingestion/signing.py), so a merchant verifies both directions with one function. During
  a rotation there is one `v1=` per secret. A 2xx is delivered; a 410 is `ENDPOINT_GONE` (not
  retried: the order system asked to stop); anything else is `DELIVERY_FAILED`, retried. The
  event id is in the body and the `Returns-Event-Id` header: the receiver drops a repeat by it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp
from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from activities import contracts as c
from ingestion.signing import SIGNATURE_HEADER, sign_with_secrets
from returns.outbound import deliveries_workflow_id
from workflows import names

EVENT_ID_HEADER = "Returns-Event-Id"


@dataclass(frozen=True)
class Endpoint:
    """One merchant's endpoint, its delivery setting and the secrets that sign (current first)."""

    url: str
    secrets: tuple[str, ...] = field(repr=False)
    retry_for: timedelta = timedelta(days=3)
    attention_after: timedelta = timedelta(hours=1)
    timeout: float = 10.0

    @property
    def plan(self) -> c.DeliveryPlan:
        return c.DeliveryPlan(retry_for=self.retry_for, attention_after=self.attention_after,
                              attempt=timedelta(seconds=self.timeout + 5))

    @property
    def host(self) -> str:
        """For error messages: the host, never the path or query (they may hold a token)."""
        return urlsplit(self.url).netloc


def body_of(event) -> bytes:
    """The exact bytes sent and signed: the event's JSON, absent fields left out."""
    return event.model_dump_json(exclude_none=True).encode()


class DeliveryActivities:
    """Bound to the Temporal client (for signal-with-start), the task queue and the endpoints."""

    def __init__(self, client: Client | None, task_queue: str,
                 endpoints: Mapping[str, Endpoint]) -> None:
        self._client = client
        self._task_queue = task_queue
        self._endpoints = dict(endpoints)

    def all(self) -> list:
        return [self.enqueue_return_event, self.deliver_return_event]

    @activity.defn(name=c.ENQUEUE_EVENT)
    async def enqueue_return_event(self, call: c.EnqueueEvent) -> c.Enqueued:
        event = call.event
        endpoint = self._endpoints.get(event.merchant_id)
        if endpoint is None or self._client is None:
            return c.Enqueued(delivering=False, detail="the merchant has no endpoint for events")
        try:
            await self._client.start_workflow(
                names.DELIVERIES_WORKFLOW_TYPE,
                c.DeliveryStart(merchant_id=event.merchant_id, return_id=event.return_id,
                                return_workflow_id=call.return_workflow_id, plan=endpoint.plan),
                id=deliveries_workflow_id(event.merchant_id, event.return_id),
                task_queue=self._task_queue,
                start_signal=names.SIGNAL_RETURN_EVENT, start_signal_args=[event],
                # Ended (the last event delivered, or stopped by a 410): never started again.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
        except WorkflowAlreadyStartedError:
            return c.Enqueued(delivering=False, detail="this return's deliveries have ended")
        return c.Enqueued(delivering=True)

    @activity.defn(name=c.DELIVER_EVENT)
    async def deliver_return_event(self, call: c.DeliverEvent) -> c.Delivered:
        event = call.event
        endpoint = self._endpoints.get(event.merchant_id)
        if endpoint is None:
            raise ApplicationError("the merchant no longer has an endpoint for events",
                                   type=c.NO_ENDPOINT, non_retryable=True)
        body = body_of(event)
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: sign_with_secrets(body, endpoint.secrets, int(time.time())),
                   EVENT_ID_HEADER: event.event_id}
        try:
            async with aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=endpoint.timeout)) as session:
                async with session.post(endpoint.url, data=body, headers=headers,
                                        allow_redirects=False) as response:
                    status = response.status
        except (aiohttp.ClientError, TimeoutError) as err:
            raise ApplicationError(f"{endpoint.host} did not answer: {type(err).__name__}",
                                   type=c.DELIVERY_FAILED) from None
        if 200 <= status < 300:
            return c.Delivered(status=status)
        if status == 410:
            raise ApplicationError(f"{endpoint.host} answered 410 Gone: the order system asked "
                                   "for no more events of this return",
                                   type=c.ENDPOINT_GONE, non_retryable=True)
        raise ApplicationError(f"{endpoint.host} answered HTTP {status}", type=c.DELIVERY_FAILED)


__all__ = ["DeliveryActivities", "EVENT_ID_HEADER", "Endpoint", "body_of"]
