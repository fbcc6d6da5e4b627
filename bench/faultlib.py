"""Fault runs, shared by tests/faults (small, in `make test`) and bench/faults.py (larger, with a
dev-server restart): returns driven through several paths while worker processes are SIGKILLed at
seeded random moments and restarted, and the payment provider, mail and label services fail, lose
their answers or hang (RETURNS_FAULTS, runtime/faults.py). Afterwards `verify` checks what an
operations team would: every return in the state its inputs dictate, exactly one refund per
refunded return and none for the others, no email or label produced twice.

bench/lifecycle.py drives its returns through the same paths (`PATHS`, `drive`), without faults.
"""

from __future__ import annotations

import asyncio
import json
import mailbox
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from activities.ledger import SqliteLedger
from activities.mail import message_id_for
from returns.events import ReturnRequested, workflow_id_for
from returns.status import ReturnStatus
from runtime import processes
from runtime.settings import ROOT
from samples.events import item, return_requested
from workflows import names

DEFAULT_FAULTS = ("refund:fail=0.3,lost=0.2,hang=0.1;email:fail=0.15,lost=0.1,hang=0.05;"
                  "label:fail=0.2,lost=0.2,hang=0.1;hang_s=1.5;outage=2")


# --- the returns ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReturnPath:
    name: str
    event: Callable[[str], ReturnRequested]  # return id -> the order system's event
    steps: tuple[str, ...]  # what staff / warehouse / customer do, in order
    final: str  # the state its inputs dictate
    refunded: bool
    label: bool


def _jewelry(**kw) -> Callable[[str], ReturnRequested]:
    return lambda rid: return_requested("fine-jewelry", return_id=rid, **kw)


PATHS = [
    ReturnPath("refund", _jewelry(), ("approve", "receive", "inspect_pass"), "refunded", True, True),
    ReturnPath("exchange", _jewelry(delivered_days_ago=20, items=[
        item("L1", resolution="exchange", exchange_for="size 54")]),
        ("approve", "receive", "inspect_pass", "ship"), "exchanged", False, True),
    ReturnPath("inspection_failed", _jewelry(), ("approve", "receive", "inspect_fail", "ship"),
               "closed", False, True),
    ReturnPath("reject", _jewelry(), ("reject",), "rejected", False, False),
    ReturnPath("withdraw", _jewelry(), ("approve", "withdraw"), "withdrawn", False, True),
    ReturnPath("cancel", _jewelry(), ("cancel",), "cancelled", False, False),
    ReturnPath("returnless", lambda rid: return_requested(
        "opalook", customer_type="business", country="US", currency="EUR", return_id=rid,
        items=[item("L1", reason="defective")]), ("approve",), "refunded", True, False),
]


def returns_for(paths: list[ReturnPath], rng: random.Random) -> list[tuple[ReturnPath, ReturnRequested]]:
    """One return per path, its id drawn from `rng`: with workflow and activity ids fixed by the
    seed, so are the injected faults (runtime/faults.py draws them per id and attempt)."""
    return [(path, path.event(f"F{rng.getrandbits(40):010X}")) for path in paths]


WAIT_FOR = {"approve": "under_review", "reject": "under_review", "cancel": "under_review",
            "receive": "awaiting_shipment", "withdraw": "awaiting_shipment",
            "inspect_pass": "inspecting", "inspect_fail": "inspecting",
            "ship": ("exchange_shipping", "returning_to_customer")}


async def _retry(what: str, call: Callable[[], Awaitable], deadline: float):
    """Calls that reach a worker (queries) fail while no worker polls: try again until `deadline`."""
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            return await call()
        except RPCError as err:  # no poller / server restarting / deadline: the worker comes back
            last = err
            await asyncio.sleep(0.3)
    raise TimeoutError(f"{what}: gave up ({last})")


async def status(handle: WorkflowHandle, deadline: float) -> ReturnStatus:
    return await _retry("status", lambda: handle.query(names.QUERY_STATUS, result_type=ReturnStatus),
                        deadline)


async def wait_state(handle: WorkflowHandle, states, deadline: float) -> ReturnStatus:
    states = (states,) if isinstance(states, str) else states
    while True:
        st = await status(handle, deadline)
        if st.state.value in states and (st.state.value != "under_review" or any(
                a.detail == "review_needed" for a in st.audit)):
            return st
        if time.monotonic() > deadline:
            raise TimeoutError(f"{handle.id}: still {st.state.value}, expected {states}")
        await asyncio.sleep(0.2)


async def drive(client: Client, path: ReturnPath, event: ReturnRequested, task_queue: str,
                deadline: float) -> ReturnStatus:
    """Start the return and carry it through `path.steps`; returns its final status."""
    handle = await _retry("start", lambda: client.start_workflow(
        names.WORKFLOW_TYPE, event, id=workflow_id_for(event.merchant_id, event.return_id), task_queue=task_queue),
        deadline)
    handle = client.get_workflow_handle(handle.id, result_type=ReturnStatus)
    for n, step in enumerate(path.steps):
        await wait_state(handle, WAIT_FOR[step], deadline)
        update_id = f"{step}-{n}"  # a retried update with the same id is applied once

        async def update(name: str, payload: dict) -> None:
            await _retry(step, lambda: handle.execute_update(name, payload, id=update_id), deadline)

        if step == "approve":
            await update(names.UPDATE_APPROVE, {"actor": "sam"})
        elif step == "reject":
            await update(names.UPDATE_REJECT, {"actor": "sam", "reason": "worn from daily use"})
        elif step == "cancel":
            await update(names.UPDATE_CANCEL, {"actor": "sam", "reason": "duplicate request"})
        elif step == "receive":
            await handle.signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
                "actor": "warehouse:anna", "receipt_id": f"scan-{event.return_id}",
                "items": [{"line_id": "L1", "quantity": 1}]})
        elif step == "withdraw":
            await handle.signal(names.SIGNAL_WITHDRAW, {
                "event_id": f"w-{event.return_id}", "occurred_at": event.occurred_at.isoformat(),
                "return_id": event.return_id, "merchant_id": event.merchant_id,
                "reason": "decided to keep it"})
        elif step in ("inspect_pass", "inspect_fail"):
            await update(names.UPDATE_RECORD_INSPECTION, {"actor": "ines", "items": [
                {"line_id": "L1", "passed": step == "inspect_pass", "notes": "checked",
                 "checks_confirmed": True}]})
        elif step == "ship":
            await update(names.UPDATE_SHIP_TO_CUSTOMER, {
                "actor": "sam", "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
                # what the customer owes for sending back a failed item (004 §3.7), collected
                "customer_payment": {"reference": "PAY-FAULTS", "amount": 2500}})
    while True:  # the result, waiting out worker kills and server restarts
        try:
            return await asyncio.wait_for(handle.result(),
                                          max(1.0, deadline - time.monotonic()))
        except RPCError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)
        except asyncio.TimeoutError:
            raise TimeoutError(await where_it_stands(handle, path)) from None


async def where_it_stands(handle: WorkflowHandle, path: ReturnPath) -> str:
    """What a return that missed the deadline was doing, for the failure message."""
    try:
        st = await status(handle, time.monotonic() + 15)
    except (TimeoutError, RPCError) as err:
        return f"{handle.id} ({path.name}): not finished, and its status is unreadable ({err})"
    last = "; ".join(f"{a.at:%H:%M:%S} {a.actor}: {a.action} {a.detail or ''}".strip()
                     for a in st.audit[-4:])
    return (f"{handle.id} ({path.name}): not finished, still {st.state.value}, waiting on "
            f"{st.waiting_on}; refund {st.refund.status if st.refund else None}; last: {last}")


# --- worker processes ----------------------------------------------------------------------------
@dataclass
class WorkerPool:
    """`size` worker.py processes on one task queue, sharing one data directory."""

    size: int
    env: dict[str, str]
    logs: Path
    children: list = field(default_factory=list)
    started: int = 0

    async def start(self, slot: int):
        self.started += 1
        child = await processes.start(
            f"worker{slot}", [sys.executable, str(ROOT / "worker.py")],
            log_path=self.logs / f"worker{slot}.log", env=self.env, cwd=ROOT, echo=False)
        if slot < len(self.children):
            self.children[slot] = child
        else:
            self.children.append(child)
        return child

    async def start_all(self) -> None:
        for slot in range(self.size):
            await self.start(slot)

    async def kill_and_restart(self, slot: int, down_for: float) -> None:
        self.children[slot].kill()  # SIGKILL: no graceful shutdown, tasks in flight are lost
        await self.children[slot].wait()
        await asyncio.sleep(down_for)
        await self.start(slot)

    async def stop(self) -> None:
        await processes.stop_all(list(self.children), grace=5)

    def log_records(self) -> list[dict]:
        records = []
        for path in self.logs.glob("worker*.log"):
            for line in path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    record["_slot"] = path.stem
                    records.append(record)
        return records


async def chaos(pool: WorkerPool, rng: random.Random, kills: int, first_after: float,
                spacing: tuple[float, float], down_for: tuple[float, float], log: list[str]) -> None:
    """SIGKILL a worker at seeded random moments, restart it a moment later."""
    await asyncio.sleep(first_after)
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(*spacing))
        slot = rng.randrange(pool.size)
        down = rng.uniform(*down_for)
        log.append(f"{time.strftime('%H:%M:%S')} kill -9 worker{slot} (pid {pool.children[slot].pid}), "
                   f"restart after {down:.1f}s")
        await pool.kill_and_restart(slot, down)


# --- what must hold afterwards -------------------------------------------------------------------
Run = tuple[ReturnPath, ReturnRequested, ReturnStatus]


async def verify(runs: list[Run], data_dir: Path, records: list[dict],
                 unfinished: Sequence[Run] = ()) -> list[str]:
    """`runs`: finished returns with their final status. `unfinished`: returns that missed the
    deadline, with their status so far: only their emails are accounted for (the caller reports
    them), so the outbox check does not count their emails as strays."""
    problems = []
    ledger = SqliteLedger(data_dir / "ledger.sqlite3")
    expected_ids: set[str] = set()
    emailed = gave_up = 0
    everything = [(run, True) for run in runs] + [(run, False) for run in unfinished]
    for (path, event, final), finished in everything:
        wid = workflow_id_for(event.merchant_id, event.return_id)
        sends = [a for a in final.audit if a.action.startswith("emailed ")]
        failed = [a for a in final.audit if a.action.startswith("email to ")]
        emailed += len(sends)
        gave_up += len(failed)
        templates = {a.detail for a in sends}
        count = len(sends) + len(failed)
        expected_ids |= {message_id_for(f"{wid}:notify:{n}:{t}")
                         for n in range(1, count + 1) for t in templates}
        if not finished:
            continue
        if final.state.value != path.final:
            problems.append(f"{wid} ({path.name}): ended {final.state.value}, expected {path.final}")
        refunds = await ledger.refunds(order_id=event.order.order_id)
        if len(refunds) != (1 if path.refunded else 0):
            problems.append(f"{wid} ({path.name}): {len(refunds)} refunds in the ledger")
        elif path.refunded and refunds[0].amount != final.refund_total:
            problems.append(f"{wid}: refunded {refunds[0].amount}, due {final.refund_total}")
        if (final.label is not None) != path.label:
            problems.append(f"{wid} ({path.name}): label {'missing' if path.label else 'unexpected'}")
    box = mailbox.Maildir(data_dir / "outbox", create=False)
    ids = [box.get_message(key)["Message-ID"] for key in box.keys()]
    twice = [m for m, n in Counter(ids).items() if n > 1]
    if twice:
        problems.append(f"emails delivered twice: {twice[:5]}")
    stray = set(ids) - expected_ids
    if stray:
        problems.append(f"{len(stray)} emails in the outbox that no audit entry accounts for")
    # Every recorded send is in the box; a send the workflow gave up on may or may not be.
    if not emailed <= len(ids) <= emailed + gave_up:
        problems.append(f"{len(ids)} emails in the outbox, {emailed} recorded as sent")
    sent_fresh = Counter(r.get("message_id") for r in records
                         if r.get("event") == "notification_sent" and r.get("duplicate") is False)
    again = [m for m, n in sent_fresh.items() if n > 1]
    if again:
        problems.append(f"emails rendered and delivered twice (worker logs): {again[:5]}")
    labels = Counter(r.get("rma_number") for r in records
                     if r.get("event") == "return label ready" and r.get("duplicate") is False)
    if any(n > 1 for n in labels.values()):
        problems.append(f"labels produced twice: {[k for k, n in labels.items() if n > 1]}")
    return problems


def fault_counts(records: list[dict]) -> Counter:
    return Counter(r["event"] for r in records if str(r.get("event", "")).startswith("fault."))
