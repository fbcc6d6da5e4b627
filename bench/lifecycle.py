"""Lifecycle throughput and history size: full returns (request -> approve -> receipt -> inspection
-> refund) per second against bench/minimal.py's MinimalReturn (same number of activities,
updates, signals and timers, empty bodies), one after the other on the same dev server, each with
its worker as a separate process and the same encrypting converter. A third worker,
bench/stub_worker.py, runs the real workflow with stub email/label/refund activities, to split
the gap into orchestration and side effects; a fourth, MinimalWithAttributes on the minimal
worker, adds the return's search attribute upserts and patch markers to the minimal workflow, to
find the floor; a fifth, MinimalWithData on a worker of its own, adds the return's real request,
activity arguments and results to that (the floor with data). docs/performance.md.

    .venv/bin/python bench/lifecycle.py [--returns 100] [--concurrency 40] [--repeats 5]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from returns.events import workflow_id_for  # noqa: E402
from returns.status import ReturnStatus  # noqa: E402
from bench import data_plan  # noqa: E402
from bench.procs import cpu_seconds, server_pid, steal_seconds  # noqa: E402
from runtime import processes  # noqa: E402
from samples.keys import TEST_KEYS_ENV, test_data_converter  # noqa: E402
from samples.events import return_requested  # noqa: E402
from workflows import names  # noqa: E402
from workflows.search_attributes import cli_flags  # noqa: E402

POLL = 0.2  # both drivers poll a query at this interval before each step
QUERIES = collections.Counter()  # queries sent per driver ("full", "minimal"): they cost CPU too

PHASE_MARKERS = (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                 EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)


async def full_return(client, queue: str) -> str:
    event = return_requested("fine-jewelry")
    handle = await client.start_workflow(names.WORKFLOW_TYPE, event,
                                         id=workflow_id_for(event.merchant_id, event.return_id), task_queue=queue,
                                         result_type=ReturnStatus)

    async def until(state: str) -> None:
        while True:
            st = await handle.query(names.QUERY_STATUS, result_type=ReturnStatus)
            QUERIES["full"] += 1
            if st.state.value == state and (state != "under_review" or any(
                    a.detail == "review_needed" for a in st.audit)):
                return
            await asyncio.sleep(POLL)

    await until("under_review")
    await handle.execute_update(names.UPDATE_APPROVE, {"actor": "bench"})
    await until("awaiting_shipment")
    await handle.signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
        "actor": "warehouse:bench", "receipt_id": "scan-1",
        "items": [{"line_id": "L1", "quantity": 1}]})
    await until("inspecting")
    await handle.execute_update(names.UPDATE_RECORD_INSPECTION, {
        "actor": "bench", "items": [{"line_id": "L1", "passed": True, "checks_confirmed": True}]})
    final = await handle.result()
    assert final.state.value == "refunded", final.state
    return handle.id


async def minimal_return(client, queue: str, plan, n: int, floor=None, request=None) -> str:
    """MinimalReturn, or with `floor` = (upsert plan, patch markers) MinimalWithAttributes (the
    floor, docs/performance.md), and with the full return's `request` too MinimalWithData (its
    worker holds the return's activity arguments and results)."""
    if floor is None:
        kind, args = "MinimalReturn", [plan]
    elif request is None:
        kind, args = "MinimalWithAttributes", [plan, *floor]
    else:
        kind, args = "MinimalWithData", [plan, *floor, request]
    handle = await client.start_workflow(kind, args=args, id=f"minimal-{n}-{time.time_ns()}",
                                         task_queue=queue)

    async def until(phase: int) -> None:
        while await handle.query("phase", result_type=int) < phase:
            QUERIES["minimal"] += 1
            await asyncio.sleep(POLL)
        QUERIES["minimal"] += 1

    await until(1)
    await handle.execute_update("step", 1, result_type=int)
    await until(2)
    await handle.signal("step_signal", 2)
    await until(3)
    await handle.execute_update("step", 3, result_type=int)
    await handle.result()
    return handle.id


async def run_batch(count: int, concurrency: int, one) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def limited(n: int):
        async with gate:
            return await one(n)

    started = time.monotonic()
    await asyncio.gather(*(limited(n) for n in range(count)))
    return count / (time.monotonic() - started)


def shape(events) -> tuple[list[list[int]], collections.Counter]:
    """Per phase (split at updates/signals): [activities scheduled, timers started]."""
    plan = [[0, 0]]
    for e in events:
        if e.event_type in PHASE_MARKERS:
            plan.append([0, 0])
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            plan[-1][0] += 1
        elif e.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            plan[-1][1] += 1
    return plan, collections.Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_")
                                     for e in events)


def upsert_plan(events) -> list:
    """The full return's own search attribute upserts, for MinimalWithAttributes: per upsert
    [phase, activities completed in that phase before it, [[name, type, value]]] (bench/minimal.py's
    KEYS; value None: the attribute is removed). The SDK's `TemporalChangeVersion` upserts are
    left out: the floor's own patch markers make them."""
    plan, phase, done = [], 0, 0
    for e in events:
        if e.event_type in PHASE_MARKERS:
            phase, done = phase + 1, 0
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done += 1
        elif e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = e.upsert_workflow_search_attributes_event_attributes.search_attributes
            pairs = [[name, payload.metadata.get("type", b"").decode(),
                      json.loads(payload.data) if payload.data else None]  # None: unset
                     for name, payload in fields.indexed_fields.items()
                     if name != "TemporalChangeVersion"]
            if pairs:
                plan.append([phase, done, pairs])
    return plan


async def recorded_data(events, codec) -> tuple[dict, dict]:
    """A full return's request (its workflow input) and, in the order they were scheduled, each
    activity's argument and result, decrypted from its history as plain JSON (bench/data_plan.py)."""
    async def plain(payloads) -> list:
        return [json.loads(p.data) for p in await codec.decode(list(payloads))]

    request, types, inputs, results, index = None, [], [], [], {}
    for e in events:
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            [request] = await plain(e.workflow_execution_started_event_attributes.input.payloads)
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = e.activity_task_scheduled_event_attributes
            index[e.event_id] = len(inputs)
            [argument] = await plain(scheduled.input.payloads)
            types.append(scheduled.activity_type.name)
            inputs.append(argument)
            results.append(None)
        elif e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = e.activity_task_completed_event_attributes
            [results[index[done.scheduled_event_id]]] = await plain(done.result.payloads)
    return request, {"types": types, "inputs": inputs, "results": results}


def data_bytes(events) -> int:
    """Bytes of a history's workflow input, activity arguments and activity results."""
    return sum(p.ByteSize() for e in events for p in (
        *e.workflow_execution_started_event_attributes.input.payloads,
        *e.activity_task_scheduled_event_attributes.input.payloads,
        *e.activity_task_completed_event_attributes.result.payloads))


def paired(rates: dict[str, list[float]]) -> None:
    """The target's ratio, full / minimal, within each repeat, and its median over the repeats.

    The machine's speed changes from minute to minute: the same 100 minimal returns have taken
    259 and 375 ms of CPU each in two rounds of one run (docs/performance.md), with no steal
    time reported. A ratio of the best round of each kind compares rounds run at different
    speeds; rounds a few seconds apart in the same repeat share the machine's speed."""
    minimal = rates["minimal"]
    for kind in ("full", "stub side effects", "minimal + attributes", "minimal + data"):
        ratios = sorted(r / m for r, m in zip(rates[kind], minimal))
        print(f"paired {kind} / minimal: median {statistics.median(ratios):.2f} "
              f"(repeats {[round(x, 2) for x in ratios]})"
              + (" (target >= 0.8)" if kind == "full" else ""))


def report(best: dict[str, float], cpu: dict[str, float]) -> None:
    """The target's ratio (best rounds), the same ratio by CPU per return (worker + server +
    driver: the benchmark is CPU-bound, so throughput is ~ cores / CPU per return, and CPU per
    return varies less from round to round than the rate does), and the floor: the minimal
    workflow with the return's search attributes and patch markers, plus the real side effects
    (full minus stub), the best ratio a workflow that has those could reach on this machine; and
    the floor with data: the same with the return's real request, activity arguments and results
    carried through the SDK (MinimalWithData instead of MinimalWithAttributes)."""
    t = {k: 1 / v for k, v in best.items()}
    print(f"ratio full / minimal {best['full'] / best['minimal']:.2f} (target >= 0.8); "
          f"stub side effects / minimal {best['stub side effects'] / best['minimal']:.2f}; "
          f"minimal + attributes / minimal {best['minimal + attributes'] / best['minimal']:.2f}")
    for name, per in (("best rounds", t), ("CPU per return", cpu)):
        side_effects = per["full"] - per["stub side effects"]
        floor = per["minimal + attributes"] + side_effects
        print(f"by {name}: full / minimal {per['minimal'] / per['full']:.2f}; search attributes "
              f"and patch markers {1e3 * (per['minimal + attributes'] - per['minimal']):.0f} ms, "
              f"side effects {1e3 * side_effects:.0f} ms, the rest of the workflow "
              f"{1e3 * (per['full'] - floor):.0f} ms per return; floor / minimal "
              f"{per['minimal'] / floor:.2f}")
        with_data = per["minimal + data"] + side_effects
        print(f"  the return's data through the SDK "
              f"{1e3 * (per['minimal + data'] - per['minimal + attributes']):.0f} ms, the rest of "
              f"the workflow beyond it {1e3 * (per['full'] - with_data):.0f} ms per return; "
              f"floor with data / minimal {per['minimal'] / with_data:.2f}")


async def start_worker(name: str, argv: list[str], env: dict, logs: Path):
    child = await processes.start(name, argv, log_path=logs / f"{name}.log", env=env, cwd=ROOT,
                                  echo=False)
    await asyncio.sleep(2.5)  # imports and first poll
    return child


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--returns", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", choices=("full", "stub", "minimal", "attributes", "data"),
                        action="append",
                        help="drive only these (e.g. while profiling one worker with py-spy)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="returns-bench-"))
    data = None
    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, ui=False, dev_server_extra_args=cli_flags(),
            dev_server_existing_path=str(Path(sys.executable).parent / "temporal")) as env:
        client = env.client
        address = client.service_client.config.target_host
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RETURNS_"))}
        base.update(TEMPORAL_ADDRESS=address, RETURNS_CODEC_KEYS=TEST_KEYS_ENV,
                    RETURNS_LOG_FORMAT="json", RETURNS_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
        real = await start_worker("worker", [sys.executable, str(ROOT / "worker.py")],
                                  dict(base, RETURNS_DATA_DIR=str(work / "data"),
                                       RETURNS_TASK_QUEUE="bench-returns"), work)
        minimal = await start_worker("minimal", [sys.executable, str(ROOT / "bench" / "minimal.py")],
                                     dict(base, RETURNS_TASK_QUEUE="bench-minimal"), work)
        stub = await start_worker("stub", [sys.executable, str(ROOT / "bench" / "stub_worker.py")],
                                  dict(base, RETURNS_TASK_QUEUE="bench-stub"), work)
        try:
            # The shape of a full return, from one run of it, drives the minimal workflow.
            wid = await full_return(client, "bench-returns")
            events = (await client.get_workflow_handle(wid).fetch_history()).events
            plan, kinds = shape(events)
            mid = await minimal_return(client, "bench-minimal", plan, -1)
            minimal_events = (await client.get_workflow_handle(mid).fetch_history()).events
            _, minimal_kinds = shape(minimal_events)
            print(f"a full return: {len(events)} history events {dict(kinds)}")
            print(f"minimal:       {len(minimal_events)} history events {dict(minimal_kinds)}")
            print(f"history events ratio: {len(events) / len(minimal_events):.2f} (target <= 1.2)")
            print(f"plan per phase [activities, timers]: {plan}")
            upserts, markers = upsert_plan(events), kinds["MARKER_RECORDED"]
            print(f"its search attribute upserts [phase, after activity, names]: "
                  f"{[[ph, after, [p[0] for p in pairs]] for ph, after, pairs in upserts]}; "
                  f"patch markers: {markers}")
            floor = upserts, markers
            aid = await minimal_return(client, "bench-minimal", plan, -2, floor)
            _, attribute_kinds = shape((await client.get_workflow_handle(aid).fetch_history()).events)
            print(f"minimal + attributes: {sum(attribute_kinds.values())} history events "
                  f"{dict(attribute_kinds)}")
            request, recorded = await recorded_data(events, client.data_converter.payload_codec)
            (work / "data-plan.json").write_text(json.dumps(recorded))
            print(f"a full return's activities, arguments and results: {work / 'data-plan.json'} "
                  f"(bench/side_effects.py times its side effects alone)")
            data = await start_worker("data", [sys.executable, str(ROOT / "bench" / "minimal.py")],
                                      dict(base, RETURNS_TASK_QUEUE="bench-data",
                                           **{data_plan.ENV: str(work / "data-plan.json")}), work)
            did = await minimal_return(client, "bench-data", plan, -3, floor, request)
            data_events = (await client.get_workflow_handle(did).fetch_history()).events
            print(f"minimal + data: {len(data_events)} history events, {data_bytes(data_events)} "
                  f"bytes of encrypted workflow input and activity payloads (the full return: "
                  f"{data_bytes(events)})")
            await full_return(client, "bench-stub")  # warm the stub worker too
            kinds_ = {"full": (real, lambda n: full_return(client, "bench-returns")),
                      "stub side effects": (stub, lambda n: full_return(client, "bench-stub")),
                      "minimal": (minimal, lambda n: minimal_return(client, "bench-minimal", plan, n)),
                      "minimal + attributes": (minimal, lambda n: minimal_return(
                          client, "bench-minimal", plan, n, floor)),
                      "minimal + data": (data, lambda n: minimal_return(
                          client, "bench-data", plan, n, floor, request))}
            if args.only:
                short = {"stub side effects": "stub", "minimal + attributes": "attributes",
                         "minimal + data": "data"}
                kinds_ = {k: v for k, v in kinds_.items() if short.get(k, k) in args.only}
            rates = {k: [] for k in kinds_}
            cpu = {k: 0.0 for k in kinds_}
            server = server_pid()
            server_cpu = {k: 0.0 for k in kinds_}
            driver_cpu = {k: 0.0 for k in kinds_}  # this process: the drivers and their client
            QUERIES.clear()
            order = list(kinds_)
            for repeat in range(args.repeats):
                # Each repeat runs every kind once, in an order rotated by one each time, so no
                # kind always runs first (on the emptiest server) or right after the heaviest;
                # the target's ratio is taken within each repeat, minutes apart at most.
                for kind in order[repeat % len(order):] + order[:repeat % len(order)]:
                    child, one = kinds_[kind]
                    before = cpu_seconds(child.pid), cpu_seconds(server) if server else 0.0
                    driver_before, steal_before = time.process_time(), steal_seconds()
                    rates[kind].append(await run_batch(args.returns, args.concurrency, one))
                    used = (cpu_seconds(child.pid) - before[0],
                            cpu_seconds(server) - before[1] if server else 0.0,
                            time.process_time() - driver_before)
                    cpu[kind] += used[0]
                    server_cpu[kind] += used[1]
                    driver_cpu[kind] += used[2]
                    print(f"  round: {kind:<20} {rates[kind][-1]:5.1f}/s; CPU per return "
                          f"{1e3 * sum(used) / args.returns:.0f} ms (worker "
                          f"{1e3 * used[0] / args.returns:.0f}, server {1e3 * used[1] / args.returns:.0f}"
                          f"); machine steal {steal_seconds() - steal_before:.1f} s", flush=True)
            best = {k: max(v) for k, v in rates.items()}
            print(f"throughput ({args.returns} returns, {args.concurrency} at a time, best of "
                  f"{args.repeats}):")
            for kind in kinds_:
                print(f"  {kind:<18} {best[kind]:5.1f}/s (runs {[round(r, 1) for r in rates[kind]]}); "
                      f"worker CPU {1e3 * cpu[kind] / (args.returns * args.repeats):.0f} ms, "
                      f"server CPU {1e3 * server_cpu[kind] / (args.returns * args.repeats):.0f} ms, "
                      f"driver CPU {1e3 * driver_cpu[kind] / (args.returns * args.repeats):.0f} ms "
                      f"per return")
            full_kinds = sum(k in ("full", "stub side effects") for k in kinds_)
            driven = {"full": full_kinds * args.returns * args.repeats,
                      "minimal": (len(kinds_) - full_kinds) * args.returns * args.repeats}
            print(f"status queries per return while driving: full and stub "
                  f"{QUERIES['full'] / max(1, driven['full']):.1f}, minimal (both) "
                  f"{QUERIES['minimal'] / max(1, driven['minimal']):.1f} (polled every {POLL}s)")
            total = {k: (cpu[k] + server_cpu[k] + driver_cpu[k]) / (args.returns * args.repeats)
                     for k in kinds_}
            if len(kinds_) == 5:
                paired(rates)
                report(best, total)
        finally:
            await processes.stop_all([real, minimal, stub] + ([data] if data else []), grace=5)


if __name__ == "__main__":
    asyncio.run(main())
    # Skip interpreter teardown: the Temporal client's Rust threads can abort it
    # ("PyGILState_Release ... finalizing", temporalio/sdk-python#300) after the results are out.
    sys.stdout.flush()
    os._exit(0)
