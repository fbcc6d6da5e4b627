"""Issue 15, point 8: one property over the whole surface. Generated return requests (any merchant,
lines, quantities, amounts up to the intake bound, reasons and resolutions) run through the real
worker on the dev server, and each receives generated messages: every update and signal, with a
valid payload or one broken in one place. Whatever arrives, no history ever holds a failed workflow
task, and a refused update leaves nothing of itself behind (its actor never appears in the audit).
"""

from __future__ import annotations

import asyncio
import uuid

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError

from returns.events import MAX_AMOUNT, Resolution, ReturnReason, workflow_id_for
from returns.status import FINAL, ReturnStatus
from samples.events import item, line, return_requested
from tests.bad_input.test_workflow_messages import SIGNALS, UPDATES, no_failed_workflow_task
from tests.mutations import broken
from workflows import names

MERCHANTS = ["fine-jewelry", "opalook", "pearl-platform"]


@st.composite
def requests(draw):
    count = draw(st.integers(1, 3))
    lines = [line(f"L{n}", sku=f"SKU-{n}", quantity=draw(st.integers(1, 3)),
                  unit_price=draw(st.integers(1, MAX_AMOUNT // 10)), unit_tax=0)
             for n in range(1, count + 1)]
    chosen = draw(st.lists(st.sampled_from(lines), min_size=1, max_size=count,
                           unique_by=lambda ln: ln["line_id"]))
    items = [item(ln["line_id"], quantity=draw(st.integers(1, ln["quantity"])),
                  reason=draw(st.sampled_from([r.value for r in ReturnReason])),
                  resolution=draw(st.sampled_from([r.value for r in Resolution])))
             for ln in chosen]
    try:
        return return_requested(draw(st.sampled_from(MERCHANTS)), lines=lines, items=items,
                                delivered_days_ago=draw(st.integers(0, 60)))
    except ValidationError:
        assume(False)


@st.composite
def messages(draw):
    """(kind, name, payload): a valid payload or one broken in one place."""
    kind = draw(st.sampled_from(["update", "signal"]))
    table = UPDATES if kind == "update" else SIGNALS
    name = draw(st.sampled_from(sorted(table)))
    entry = table[name]
    valid = entry[1] if kind == "update" else entry[2]
    required, constrained = (entry[2], entry[3]) if kind == "update" else (entry[3], entry[4])
    payload = draw(st.one_of(st.just(valid), broken(valid, required, constrained).map(
        lambda b: b.document)))
    return kind, name, payload


async def settled(handle) -> ReturnStatus:
    """The status once the first staff email (review) or the end is reached."""
    for _ in range(400):
        st_ = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
        sent = {a.detail for a in st_.audit}
        if st_.state.value in ("rejected",) or {"request_received", "review_needed"} <= sent:
            return st_
        await asyncio.sleep(0.05)
    raise AssertionError(f"never settled: {st_.state}")


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(request=requests(), sent=st.lists(messages(), min_size=1, max_size=4))
async def test_no_input_ever_fails_a_workflow_task(dev_worker, request, sent):
    client, queue = dev_worker
    handle = await client.start_workflow(
        names.WORKFLOW_TYPE, request, task_queue=queue,
        id=workflow_id_for(request.merchant_id, request.return_id))
    if (await settled(handle)).state in FINAL:  # auto-rejected (late): nothing can be sent to it
        await handle.result()
        await no_failed_workflow_task(handle)
        return
    refused_actors = []
    for kind, name, payload in sent:
        actor = f"prop-{uuid.uuid4().hex[:8]}"
        if isinstance(payload, dict) and "actor" in payload:
            payload = {**payload, "actor": actor}
        if kind == "signal":
            if isinstance(payload, dict) and "return_id" in payload:  # aimed at this return
                payload = {**payload, "return_id": request.return_id,
                           "merchant_id": request.merchant_id}
            await handle.signal(name, payload)
            await asyncio.sleep(0.2)
        else:
            try:
                await handle.execute_update(name, payload)
            except WorkflowUpdateFailedError:
                refused_actors.append(actor)
                continue
        # A message that ends the return (a cancel, a withdrawal): nothing more can be sent to it;
        # a message racing its completion is the server's UnhandledCommand, not a failed input.
        if (await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)).state in FINAL:
            await handle.result()
            break
    await asyncio.sleep(0.3)  # let the signals be handled
    final = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
    await no_failed_workflow_task(handle)
    assert not [a for a in final.audit if a.actor in refused_actors], final.audit
    if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:  # a cancel ends it
        await handle.terminate("property example done")
