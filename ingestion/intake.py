"""The one intake path from the order system to Temporal, shared by `starter.py send` and the webhook.

    raw bytes --parse_event--> ReturnRequested | ReturnWithdrawn | ParcelScanned
              --Intake.deliver--> start the return's workflow, or signal it

One workflow per return of one merchant (`return-<merchant_id>-<return_id>`), started with
USE_EXISTING / REJECT_DUPLICATE, so a second request for the same return never makes a second
workflow. It is compared with the request that started the return (`_compare`): the same request
again answers "duplicate", a different one "conflict", naming the fields that differ, and
changes nothing. Signals carry the event (with its `event_id`), so the workflow can ignore a
redelivered one.

The webhook passes the merchant whose secret signed the request (`merchant=`): an event naming
another merchant is "forbidden" and reaches no workflow. `starter.py send` has Temporal's own
credentials and names no merchant: the event's `merchant_id` is taken as it is.

Why compare with the workflow's own start input (its first history event, decoded through the
client's data converter, so decrypted) rather than a hash kept in a memo: the input is the one
record of what was asked, already there for every return, running or finished, started before
this change or after; a hash would only say *that* something differs, and the answer must say
*what* (field paths). It costs one history read of one event, only when a return is requested
again, which is rare.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter, ValidationError
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from ingestion.merchants import KnownMerchant
from returns.console_link import CONSOLE_URL_MEMO
from returns.events import (
    OrderEvent,
    ParcelScanned,
    ReturnRequested,
    ReturnWithdrawn,
    request_differences,
    workflow_id_for,
)
from customer_page.links import CustomerLinks
from returns.money import format_money
from runtime.logging import get_logger
from workflows import search_attributes as sa
from workflows.names import SIGNAL_PARCEL_SCANNED, SIGNAL_WITHDRAW, WORKFLOW_TYPE

log = get_logger(__name__)

Event = ReturnRequested | ReturnWithdrawn | ParcelScanned
_EVENTS: TypeAdapter[Event] = TypeAdapter(OrderEvent)

# How long one delivery may take before we tell the sender to retry (the SDK retries transient
# gRPC failures underneath; a sender's HTTP timeout is typically 10 to 30 s).
DELIVERY_DEADLINE = timedelta(seconds=10)
_UNAVAILABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED,
                RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.CANCELLED}


class Outcome(StrEnum):
    started = "started"  # a new return workflow runs
    duplicate = "duplicate"  # the return already has its workflow; nothing new was started
    signalled = "signalled"  # the return's workflow received the event
    rejected = "rejected"  # the event is malformed, invalid or for an unknown merchant
    not_found = "not_found"  # no workflow for that return (yet): the sender should retry later
    closed = "closed"  # the return's workflow has finished: the event can no longer apply
    conflict = "conflict"  # the return exists, requested with something else: nothing changed
    forbidden = "forbidden"  # the event names another merchant than the one that signed it

    @property
    def accepted(self) -> bool:
        return self in (Outcome.started, Outcome.duplicate, Outcome.signalled)


@dataclass(frozen=True)
class FieldProblem:
    """`field` is a path into the event, e.g. `order.lines[0].unit_price`; `(body)` is the whole."""

    field: str
    problem: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "problem": self.problem}


BODY = "(body)"


class InvalidEvent(Exception):
    """The bytes are not a valid event. `malformed`: not even a JSON object (HTTP 400, else 422)."""

    def __init__(self, problems: list[FieldProblem], *, malformed: bool = False) -> None:
        super().__init__("; ".join(f"{p.field}: {p.problem}" for p in problems))
        self.problems = problems
        self.malformed = malformed


class TemporalUnavailable(Exception):
    """Temporal did not answer in time; nothing is known to be accepted, the sender should retry."""


@dataclass(frozen=True)
class IntakeResult:
    outcome: Outcome
    workflow_id: str | None = None
    problems: tuple[FieldProblem, ...] = ()
    malformed: bool = False
    event_type: str | None = None
    event_id: str | None = None
    # The customer's return page (customer_page.links), for the order system to show in the
    # customer's account: in the answer to a request that started (or had started) the return.
    # Never logged: the link opens the return.
    return_page_url: str | None = None

    def as_json(self) -> dict[str, Any]:
        if self.outcome in (Outcome.rejected, Outcome.forbidden):
            return {"outcome": self.outcome.value, "errors": [p.as_dict() for p in self.problems]}
        if self.outcome == Outcome.conflict:
            return {"outcome": self.outcome.value, "workflow_id": self.workflow_id,
                    "errors": [p.as_dict() for p in self.problems]}
        answer = {"outcome": self.outcome.value, "workflow_id": self.workflow_id}
        if self.return_page_url:
            answer["return_page_url"] = self.return_page_url
        return answer


# ---------------------------------------------------------------------------------------- parsing

# Our model validators say which field they mean: "items[0].line_id: 'x' is not a line of ...".
_LEADING_PATH = re.compile(r"^([a-z_]+(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (.+)$", re.DOTALL)


def _path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problem(error: dict[str, Any]) -> FieldProblem:
    loc = tuple(error["loc"])
    # In a discriminated union the first location element is the tag, not a field.
    if loc and loc[0] in ("return.requested", "return.withdrawn", "parcel.scanned"):
        loc = loc[1:]
    message = error["msg"]
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return FieldProblem("type", "must be one of return.requested, return.withdrawn, "
                                    "parcel.scanned")
    if error["type"] == "value_error":
        message = message.removeprefix("Value error, ")
        match = _LEADING_PATH.match(message)
        if match:
            sub, message = match.groups()
            return FieldProblem(_path(loc) + "." + sub if loc else sub, message)
    # Only pydantic's message, never error["input"]: the input may be a customer's email.
    return FieldProblem(_path(loc) or BODY, message)


def parse_event(raw: bytes | str) -> Event:
    """Parse one event (JSON text) or raise `InvalidEvent` naming every bad field.

    Cross-field checks (an item's line_id must be a line of the order, ...) run once the fields
    they read are valid, as pydantic does; the order system sees them on the next attempt.
    """
    if isinstance(raw, str):
        raw = raw.encode()
    try:
        return _EVENTS.validate_json(raw)  # one parse for a good event (the common case)
    except ValidationError as err:
        _refuse_malformed(raw)  # not UTF-8, not JSON, not an object: say that, not field errors
        problems = list(dict.fromkeys(_problem(e) for e in err.errors(include_url=False)))
        raise InvalidEvent(problems) from None


# No event nests deeper than 6 levels (event > order > lines > [n] > attributes); 32 is room to
# grow. Deeper JSON is refused before Python's parser recurses into it (RecursionError: a 500).
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth_exceeds(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Do `raw`'s arrays and objects nest deeper than `limit`? Strings are skipped, so a bracket
    inside a customer's note does not count; stops at the first level too deep."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        if depth > limit:
            return True
    return False


def _refuse_malformed(raw: bytes) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEvent([FieldProblem(BODY, "not UTF-8 text")], malformed=True) from None
    if json_depth_exceeds(raw):
        raise InvalidEvent([FieldProblem(BODY, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")],
                           malformed=True)
    try:
        document = json.loads(text)
    except ValueError as err:
        raise InvalidEvent([FieldProblem(BODY, f"not JSON: {err}")], malformed=True) from None
    if not isinstance(document, dict):
        raise InvalidEvent([FieldProblem(BODY, "must be a JSON object (one event)")],
                           malformed=True)


# ------------------------------------------------------------------------- what staff see in the UI

def search_attributes_for(event: ReturnRequested) -> TypedSearchAttributes:
    """Ids and state only: search attributes are not encrypted (no PII)."""
    return TypedSearchAttributes([
        SearchAttributePair(sa.RETURN_ID, event.return_id),
        SearchAttributePair(sa.MERCHANT_ID, event.merchant_id),
        SearchAttributePair(sa.ORDER_ID, event.order.order_id),
        SearchAttributePair(sa.RETURN_STATE, "requested"),
        SearchAttributePair(sa.REQUESTED_AT, event.occurred_at),
    ])


def start_options(event: ReturnRequested, task_queue: str,
                  console_url: str | None = None) -> dict[str, Any]:
    """Everything `client.start_workflow(WORKFLOW_TYPE, event, ...)` is given for a new return:
    one workflow per return (`USE_EXISTING` / `REJECT_DUPLICATE`), its search attributes and the
    UI's summary and details. bench/ingestion.py makes the same call without the webhook.
    `console_url`: the staff console's base URL, in the memo, for the status card's link to the
    return's page there (returns/console_link.py); None: no link."""
    extra: dict[str, Any] = {"memo": {CONSOLE_URL_MEMO: console_url}} if console_url else {}
    return dict(**extra,
        id=workflow_id_for(event.merchant_id, event.return_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        search_attributes=search_attributes_for(event),
        static_summary=summary_for(event),
        static_details=details_for(event),
    )


def summary_for(event: ReturnRequested) -> str:
    return f"Return {event.return_id} · {event.merchant_id} · order {event.order.order_id}"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def details_for(event: ReturnRequested) -> str:
    """Markdown for the workflow's page in the UI. No customer name, email, address or note."""
    order = event.order
    delivered = order.delivered_at.date().isoformat() if order.delivered_at else "not delivered"
    lines = [
        f"**Merchant:** {event.merchant_id}  ",
        f"**Order:** {order.order_id} · placed {order.placed_at.date().isoformat()} · "
        f"delivered {delivered} · paid {format_money(order.total_paid, order.currency)}  ",
        f"**Customer:** {order.customer.type.value}, {order.customer.country}  ",
        f"**Requested:** {event.occurred_at.isoformat()}",
        "",
        "**Items**",
        "",
    ]
    # A list, not a table: the UI's Markdown draws tables without cell spacing, so the
    # columns ran together ("1style_preferencerefund").
    for item in event.items:
        line = order.line(item.line_id)
        lines.append(f"- line {_cell(item.line_id)} · {_cell(line.sku)} · {_cell(line.title)} · "
                     f"qty {item.quantity} · reason: {item.reason.value.replace('_', ' ')} · "
                     f"wants: {item.resolution.value.replace('_', ' ')}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- delivery

def _started_a_new_run(handle: WorkflowHandle) -> bool:
    """Did this start create a run, or did USE_EXISTING hand back the running one?

    The server says so in `StartWorkflowExecutionResponse.started`; temporalio 1.35 keeps that
    response on the handle but has no public accessor (result_run_id and first_execution_run_id
    are the existing run's ids either way). The tests pin this down against a real server.
    """
    response = getattr(handle, "_start_workflow_response", None)
    if response is None:
        raise RuntimeError("temporalio no longer keeps the start response on the handle: "
                           "update ingestion.intake._started_a_new_run")
    return bool(response.started)


def _is_unavailable(err: BaseException) -> bool:
    if isinstance(err, RPCError):
        return err.status in _UNAVAILABLE
    # A lazily connected client raises this when the first connection fails.
    return isinstance(err, RuntimeError) and str(err).startswith("Failed client connect")


class Intake:
    """Deliver events to Temporal. `known_merchant` decides which merchants we accept."""

    def __init__(self, client: Client, *, task_queue: str, known_merchant: KnownMerchant,
                 deadline: timedelta = DELIVERY_DEADLINE,
                 links: CustomerLinks | None = None, console_url: str | None = None) -> None:
        self._client = client
        # The staff console's address (RETURNS_CONSOLE_URL): the return's status card in the
        # Temporal UI links to its page there (returns/console_link.py). None: no link.
        self._console_url = console_url.rstrip("/") if console_url else None
        self._links = links  # None: answers carry no return page link
        self._task_queue = task_queue
        self._known_merchant = known_merchant
        self._deadline = deadline

    async def submit(self, raw: bytes | str, *, merchant: str | None = None) -> IntakeResult:
        """Parse and deliver one event; raises `TemporalUnavailable` (retry later).

        `merchant`: the merchant the request was authenticated as (the webhook's signature); the
        event must name it. None: a trusted path (`starter.py send`) that takes the event's."""
        try:
            event = parse_event(raw)
        except InvalidEvent as err:
            log.info("event.rejected", problems=[p.as_dict() for p in err.problems],
                     malformed=err.malformed)
            return IntakeResult(Outcome.rejected, problems=tuple(err.problems),
                                malformed=err.malformed)
        return await self.deliver(event, merchant=merchant)

    async def deliver(self, event: Event, *, merchant: str | None = None) -> IntakeResult:
        """Start or signal the return's workflow; answers only once Temporal has accepted it."""
        context = dict(event_type=event.type, event_id=event.event_id, return_id=event.return_id,
                       merchant_id=event.merchant_id)
        if merchant is not None and event.merchant_id != merchant:
            problem = FieldProblem("merchant_id", f"this request is signed with the secret of "
                                                  f"merchant {merchant!r}; it cannot act for "
                                                  f"merchant {event.merchant_id!r}")
            log.warning("event.forbidden", authenticated_merchant=merchant, **context)
            return IntakeResult(Outcome.forbidden, problems=(problem,), event_type=event.type,
                                event_id=event.event_id)
        if not self._known_merchant(event.merchant_id):
            problem = FieldProblem("merchant_id", f"unknown merchant {event.merchant_id!r}: "
                                                  "no returns policy for it")
            log.info("event.rejected", problems=[problem.as_dict()], **context)
            return IntakeResult(Outcome.rejected, problems=(problem,), event_type=event.type,
                                event_id=event.event_id)
        # Whose return: the authenticated merchant's (the event names it, checked above), or, on
        # the trusted path, the one the event names.
        workflow_id = workflow_id_for(merchant or event.merchant_id, event.return_id)
        differences: list[str] = []
        try:
            async with asyncio.timeout(self._deadline.total_seconds()):
                if isinstance(event, ReturnRequested):
                    outcome, differences = await self._start(event)
                elif isinstance(event, ReturnWithdrawn):
                    outcome = await self._signal(workflow_id, event, SIGNAL_WITHDRAW)
                else:
                    outcome = await self._signal(workflow_id, event, SIGNAL_PARCEL_SCANNED)
        except TimeoutError as err:
            log.warning("event.temporal_unavailable", reason="deadline", **context)
            raise TemporalUnavailable("Temporal did not answer in time") from err
        except (RPCError, RuntimeError) as err:
            if not _is_unavailable(err):
                raise
            log.warning("event.temporal_unavailable", reason=str(err)[:200], **context)
            raise TemporalUnavailable(f"Temporal is unreachable: {err}") from err
        problems = tuple(FieldProblem(path, "differs from the request that started this return")
                         for path in differences)
        if outcome == Outcome.conflict:
            log.warning("event.conflict", workflow_id=workflow_id, differs=differences, **context)
        else:
            log.info("event.delivered", outcome=outcome.value, workflow_id=workflow_id, **context)
        page = None
        if (self._links is not None and isinstance(event, ReturnRequested)
                and outcome in (Outcome.started, Outcome.duplicate)):
            page = self._links.url(event.merchant_id, event.return_id,
                                   event.order.customer.locale)
        return IntakeResult(outcome, workflow_id, problems=problems, event_type=event.type,
                            event_id=event.event_id, return_page_url=page)

    async def _start(self, event: ReturnRequested) -> tuple[Outcome, list[str]]:
        try:
            handle = await self._client.start_workflow(
                WORKFLOW_TYPE, event, **start_options(event, self._task_queue, self._console_url))
        except WorkflowAlreadyStartedError:
            # The return's workflow has already finished; REJECT_DUPLICATE keeps it the only one.
            return await self._compare(event)
        if _started_a_new_run(handle):
            return Outcome.started, []
        return await self._compare(event)

    async def _compare(self, event: ReturnRequested) -> tuple[Outcome, list[str]]:
        """The return exists: is `event` the request that started it (duplicate) or another one
        (conflict, with the differing field paths)? Read from its first history event."""
        handle = self._client.get_workflow_handle(
            workflow_id_for(event.merchant_id, event.return_id))
        async for first in handle.fetch_history_events(page_size=1):
            payloads = first.workflow_execution_started_event_attributes.input.payloads
            [started_with] = await self._client.data_converter.decode(payloads, [ReturnRequested])
            break
        else:  # pragma: no cover - a workflow always has its started event
            raise RuntimeError(f"{handle.id} has no history")
        differences = request_differences(started_with, event)
        return (Outcome.conflict if differences else Outcome.duplicate), differences

    async def _signal(self, workflow_id: str, event: ReturnWithdrawn | ParcelScanned,
                      signal: str) -> Outcome:
        handle = self._client.get_workflow_handle(workflow_id)
        try:
            await handle.signal(signal, event)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return await self._why_not_found(handle)
        return Outcome.signalled

    async def _why_not_found(self, handle: WorkflowHandle) -> Outcome:
        """NOT_FOUND means no such workflow, or one that has finished: tell the two apart."""
        try:
            description = await handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return Outcome.not_found
            raise
        if description.status == WorkflowExecutionStatus.RUNNING:
            return Outcome.not_found  # it started just now: the sender's retry will land
        return Outcome.closed


__all__ = [
    "BODY", "Event", "FieldProblem", "Intake", "IntakeResult", "InvalidEvent", "MAX_JSON_DEPTH",
    "Outcome", "json_depth_exceeds",
    "TemporalUnavailable", "details_for", "parse_event", "search_attributes_for", "summary_for",
]
