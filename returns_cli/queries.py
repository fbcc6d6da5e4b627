"""List filters as Temporal visibility queries: the same strings staff paste into the Web UI.

Pure: from filters to a query string (docs/operating-in-the-ui.md lists the daily ones).

    Filters(states=["under_review"]).query()
        -> 'ReturnState="under_review" AND ExecutionStatus="Running"'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote

from returns.status import FINAL, DeadlineKind, ReturnState
from workflows import names
from workflows import search_attributes as sa

# What `WaitingOn` holds (the workflow's `waiting_on`, "nobody" once nothing is awaited).
WAITING_ON = ("staff", "customer", "warehouse", "carrier", "payment provider", "nobody")
# States a return can end in: the final ones, and the outcomes a return may finish with.
ENDING = FINAL | {ReturnState.refunded, ReturnState.exchanged, ReturnState.repaired}
_SAFE_VALUE = re.compile(r"^[^\"'\\\n]{1,200}$")


class FilterError(ValueError):
    """A filter value that cannot be a query; the message names the option."""


def quoted(option: str, value: str) -> str:
    if not _SAFE_VALUE.match(value):
        raise FilterError(f"{option}: {value!r} is not a valid value (no quotes or backslashes)")
    return f'"{value}"'


def timestamp(moment: datetime) -> str:
    """`2026-11-23T12:00:00Z`: what visibility queries compare Datetime attributes with."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Filters:
    states: list[str] = field(default_factory=list)
    merchant: str | None = None
    order: str | None = None
    needs_attention: bool = False
    overdue: str | None = None  # a DeadlineKind value, or "" for any deadline
    waiting_on: str | None = None
    include_finished: bool = False
    as_of: datetime | None = None  # "now" for --overdue; None means the current time

    def check(self) -> None:
        known = {s.value for s in ReturnState}
        for state in self.states:
            if state not in known:
                raise FilterError(f"--state: unknown state {state!r} (states: "
                                  f"{', '.join(s.value for s in ReturnState)})")
        kinds = {k.value for k in DeadlineKind}
        if self.overdue and self.overdue not in kinds:
            raise FilterError(f"--overdue: unknown deadline {self.overdue!r} (deadlines: "
                              f"{', '.join(k.value for k in DeadlineKind)})")
        if self.waiting_on is not None and self.waiting_on not in WAITING_ON:
            raise FilterError(f"--waiting-on: unknown party {self.waiting_on!r} (one of: "
                              f"{', '.join(WAITING_ON)})")

    @property
    def only_running(self) -> bool:
        """Daily work is about open returns; asking for a final state asks for finished ones."""
        return not self.include_finished and not any(s in ENDING for s in self.states)

    def query(self) -> str:
        self.check()
        parts = []
        if len(self.states) == 1:
            parts.append(f"{sa.RETURN_STATE.name}={quoted('--state', self.states[0])}")
        elif self.states:
            values = ", ".join(quoted("--state", s) for s in self.states)
            parts.append(f"{sa.RETURN_STATE.name} IN ({values})")
        if self.merchant is not None:
            parts.append(f"{sa.MERCHANT_ID.name}={quoted('--merchant', self.merchant)}")
        if self.order is not None:
            parts.append(f"{sa.ORDER_ID.name}={quoted('--order', self.order)}")
        if self.waiting_on is not None:
            parts.append(f"{sa.WAITING_ON.name}={quoted('--waiting-on', self.waiting_on)}")
        if self.needs_attention:
            parts.append(f"{sa.NEEDS_ATTENTION.name}=true")
        if self.overdue is not None:
            if self.overdue:
                parts.append(f"{sa.NEXT_DEADLINE_KIND.name}={quoted('--overdue', self.overdue)}")
            now = self.as_of or datetime.now(timezone.utc)
            parts.append(f'{sa.NEXT_DEADLINE.name} < "{timestamp(now)}"')
        if not parts:
            parts.append(f'WorkflowType="{names.WORKFLOW_TYPE}"')
        if self.only_running:
            parts.append('ExecutionStatus="Running"')
        return " AND ".join(parts)


def label_barcode_query(barcode: str) -> str:
    """The returns whose label's barcode holds `barcode` (RMA number or carrier tracking code),
    finished ones too."""
    return f"{sa.LABEL_BARCODE.name}={quoted('barcode', barcode)}"


def ui_url(ui_base: str, namespace: str, query: str) -> str:
    """The Web UI's workflow list filtered by `query` (a link to bookmark or share)."""
    return f"{ui_base.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows?query={quote(query, safe='')}"
