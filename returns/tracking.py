"""The return parcel's tracking numbers, as the customer gave them (customer page) and as the
carrier scanned them (the order system's `parcel.scanned`). Pure: no Temporal.

Both arrive as the `parcel_scanned` signal; the customer page's events carry ids that start with
`CUSTOMER_EVENT_PREFIX`, which is how a number's source is told apart. Each number is listed once
per source, with when it was first heard of and the last scan.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from returns.events import ParcelScanned

CUSTOMER_EVENT_PREFIX = "customer-tracking-"  # the customer page's parcel_scanned event ids

Source = Literal["customer", "carrier"]


class TrackingNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: str
    tracking_number: str
    source: Source
    at: datetime  # first heard of
    scan: str | None = None  # the last scan (picked_up, in_transit, delivered_to_warehouse)
    before_approval: bool = False  # kept, and counted as shipped once the return was approved


def source_of(event: ParcelScanned) -> Source:
    return "customer" if event.event_id.startswith(CUSTOMER_EVENT_PREFIX) else "carrier"


def with_scan(numbers: list[TrackingNumber], event: ParcelScanned, at: datetime,
              before_approval: bool = False) -> list[TrackingNumber]:
    """`numbers` with this scan: a new number (per source) is added, a known one gets its scan."""
    source = source_of(event)
    number = event.tracking_number.upper()
    out = [n.model_copy() for n in numbers]
    for n in out:
        if n.tracking_number == number and n.source == source:
            n.scan = event.scan.value
            return out
    out.append(TrackingNumber(carrier=event.carrier, tracking_number=number, source=source,
                              at=at, scan=event.scan.value, before_approval=before_approval))
    return out


def describe(n: TrackingNumber) -> str:
    """"DHL JD0001 (customer, picked up)" for the status card."""
    extra = [n.source] + ([n.scan.replace("_", " ")] if n.scan else [])
    if n.before_approval:
        extra.append("scanned before approval")
    return f"{n.carrier} {n.tracking_number} ({', '.join(extra)})"
