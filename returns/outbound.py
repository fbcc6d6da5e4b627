"""The events a return sends back to the merchant's order system (docs/events.md, "Events out").

One `ReturnEvent` per step that matters to an order system (approved, received, refunded, ...).
Like the incoming events (returns/events.py) these models ARE the contract: `schemas/return.*.json`
is generated from them.

What an event holds: ids (event, return, order, merchant), the step and the return's state, the
amounts per line, the refund, a carrier's tracking for a shipment, the customer page link when
there is one (none today, so it is left out), and when it happened. Never more personal data than
the order system already has: no name, email or address.

Pure: imports nothing from Temporal. The workflow builds each event with `event_from_status`.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from returns.events import MAX_AMOUNT, Identifier, Timestamp
from returns.money import Currency, MinorUnits
from returns.status import ReturnState, ReturnStatus

# A line's refund may be up to 1000 units of the largest amount an event may hold; a return's, 200
# such lines: still far below 2^63.
Amount = Annotated[MinorUnits, Field(le=MAX_AMOUNT * 1000 * 200)]


class OutboundType(StrEnum):
    """What happened to the return, as the order system is told."""

    approved = "return.approved"
    rejected = "return.rejected"
    label_created = "return.label_created"
    parcel_shipped = "return.parcel_shipped"  # the carrier scanned the customer's parcel
    received = "return.received"
    inspected = "return.inspected"
    refund_issued = "return.refund_issued"
    refund_failed = "return.refund_failed"
    exchange_shipped = "return.exchange_shipped"
    repair_shipped = "return.repair_shipped"
    returned_to_customer = "return.returned_to_customer"  # refused items sent back
    withdrawn = "return.withdrawn_by_customer"
    cancelled = "return.cancelled"
    expired = "return.expired"
    closed = "return.closed"


# The last event of a return: after it nothing more is sent, and its deliveries may end.
ENDING = frozenset({OutboundType.rejected, OutboundType.withdrawn, OutboundType.cancelled,
                    OutboundType.expired, OutboundType.closed})
# The event of a return that ends before it is closed, by its final state.
FINISHED = {ReturnState.rejected: OutboundType.rejected, ReturnState.expired: OutboundType.expired,
            ReturnState.withdrawn: OutboundType.withdrawn,
            ReturnState.cancelled: OutboundType.cancelled}
# The event of a shipment to the customer, by the state that waited for it.
SHIPPED = {ReturnState.exchange_shipping: OutboundType.exchange_shipped,
           ReturnState.repairing: OutboundType.repair_shipped,
           ReturnState.returning_to_customer: OutboundType.returned_to_customer}

EventId = Annotated[str, StringConstraints(pattern=r"^evt_[0-9a-f]{32}$"),
                    Field(description="evt_ and 32 hex digits; the same step always has the same "
                                      "id, so a receiver drops a repeat by it")]
Url = Annotated[str, StringConstraints(pattern=r"^https://[^\s]{1,2000}$", max_length=2008)]
Tracking = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{4,40}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EventLine(_Model):
    """One order line of the return, in units and minor units of the return's currency."""

    line_id: Identifier
    units_requested: Annotated[int, Field(ge=0, le=1000)]
    units_received: Annotated[int, Field(ge=0, le=1000)] = 0
    units_accepted: Annotated[int, Field(ge=0, le=1000)] = 0
    eligible: bool
    resolution: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")] | None = None
    refund_amount: Amount = Field(description="refund decided for the line, in minor units")


class EventRefund(_Model):
    status: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,32}$")]
    amount: Amount = Field(description="refund due, in minor units")
    paid: Amount = Field(0, description="refund that reached the customer, in minor units")


class ReturnEvent(_Model):
    """One step of a return, sent to the merchant's order system, signed like the events it sends
    us (`Returns-Signature`)."""

    type: OutboundType
    event_id: EventId
    sequence: Annotated[int, Field(ge=1, le=10_000,
                                   description="1, 2, 3 ... within the return: the order")]
    occurred_at: Timestamp
    merchant_id: Identifier
    return_id: Identifier
    order_id: Identifier
    state: ReturnState
    outcome: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        None, description="how the return ended, on its last event")
    currency: Currency = Field(description="ISO 4217 code, upper case")
    lines: Annotated[list[EventLine], Field(max_length=200)]
    refund: EventRefund | None = None
    carrier: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    tracking_number: Tracking | None = None
    customer_page_url: Url | None = Field(
        None, description="the customer's page for this return, when the merchant has one")


def deliveries_workflow_id(merchant_id: str, return_id: str) -> str:
    """The workflow delivering one return's events: `deliveries-<merchant_id>-<return_id>`."""
    return f"deliveries-{merchant_id}-{return_id}"


def event_id_for(workflow_id: str, sequence: int, kind: OutboundType) -> str:
    """Deterministic: the same return and step give the same id on every retry and replay."""
    digest = hashlib.sha256(f"{workflow_id}/{sequence}/{kind.value}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


def event_from_status(status: ReturnStatus, kind: OutboundType, *, workflow_id: str,
                      sequence: int, occurred_at, carrier: str | None = None,
                      tracking_number: str | None = None) -> ReturnEvent:
    """The event for step `kind` of the return whose status is `status`."""
    refund = status.refund
    return ReturnEvent(
        type=kind, event_id=event_id_for(workflow_id, sequence, kind), sequence=sequence,
        occurred_at=occurred_at, merchant_id=status.merchant_id, return_id=status.return_id,
        order_id=status.order_id, state=status.state,
        outcome=status.outcome if kind in ENDING else None,
        currency=status.currency,
        lines=[EventLine(line_id=i.line_id, units_requested=i.quantity_requested,
                         units_received=i.quantity_received, units_accepted=i.quantity_accepted,
                         eligible=i.eligible,
                         resolution=i.resolution.value if i.resolution else None,
                         refund_amount=i.refund_amount) for i in status.items],
        refund=EventRefund(status=refund.status.value, amount=refund.amount, paid=refund.paid)
        if refund else None,
        carrier=carrier, tracking_number=tracking_number)


__all__ = ["ENDING", "FINISHED", "SHIPPED", "deliveries_workflow_id", "EventLine", "EventRefund", "OutboundType", "ReturnEvent", "event_from_status",
           "event_id_for"]
