"""Faults, reproducibly (seeded): returns through seven paths on the dev server, two worker
processes on one task queue, one of them SIGKILLed at random moments and restarted, while the
payment provider, mail and label services fail, lose their answers or hang (RETURNS_FAULTS).
Afterwards every return is in the state its inputs dictate, the ledger holds exactly one refund per
refunded return and none for the others, and no email or label was produced twice.

The larger run (more returns, more kills, a dev-server restart) is bench/faults.py; see
docs/faults.md."""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from bench.faultlib import (DEFAULT_FAULTS, PATHS, WorkerPool, chaos, drive, fault_counts,
                            returns_for, verify)
from samples.keys import TEST_KEYS_ENV, test_data_converter
from workflows.search_attributes import cli_flags

pytestmark = pytest.mark.e2e

SEED = int(os.environ.get("RETURNS_FAULT_SEED", "20261123"))
# Seconds for every return to finish; about 75 s here. The slowest return sets it: its refund's
# two faulty attempts wait 6 s of backoff in its brief first try (outage=2; a kill can push it
# into the long retry, 10 s and 20 s apart), each email's up to 6 s, and each kill can cost an
# attempt in flight its 20-30 s timeout.
BUDGET = 300.0


def worker_env(address: str, data_dir: Path, queue: str, faults: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEMPORAL_", "RETURNS_"))}
    env.update(TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE="default", RETURNS_DATA_DIR=str(data_dir),
               RETURNS_TASK_QUEUE=queue, RETURNS_CODEC_KEYS=TEST_KEYS_ENV, RETURNS_FAULTS=faults,
               RETURNS_LOG_FORMAT="json", PYTHONUNBUFFERED="1")
    return env


async def test_kills_and_failing_providers_lose_nothing_and_duplicate_nothing(
        temporal_cli_path: Path, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, dev_server_existing_path=str(temporal_cli_path),
            dev_server_extra_args=cli_flags(), ui=False) as env:
        client = env.client
        data_dir = tmp_path / "data"
        queue = f"faults-{SEED}"
        pool = WorkerPool(2, worker_env(client.service_client.config.target_host, data_dir, queue,
                                        f"seed={SEED};{DEFAULT_FAULTS}"), tmp_path / "logs")
        await pool.start_all()
        kills: list[str] = []
        killer = None
        try:
            deadline = time.monotonic() + BUDGET
            runs = returns_for(PATHS + PATHS[:1], rng)  # 8 returns
            killer = asyncio.create_task(chaos(pool, rng, kills=4, first_after=1.0,
                                               spacing=(0.5, 2.5), down_for=(0.2, 1.0), log=kills))
            finals = await asyncio.gather(*(drive(client, path, event, queue, deadline)
                                            for path, event in runs), return_exceptions=True)
            await killer
        finally:
            if killer is not None:
                killer.cancel()
            await pool.stop()
        unfinished = [str(f) for f in finals if isinstance(f, BaseException)]
        assert not unfinished, "\n".join(unfinished + kills)
        records = pool.log_records()
        problems = await verify([(p, e, f) for (p, e), f in zip(runs, finals)], data_dir, records)
        faults = fault_counts(records)
        took = time.monotonic() - started
        print(f"seed {SEED}: {len(runs)} returns in {took:.0f}s; {len(kills)} kills; "
              f"{pool.started} worker starts; injected {dict(faults)}")
        print("\n".join(kills))
        assert not problems, "\n".join(problems + kills)
        assert len(kills) == 4 and sum(faults.values()) >= 5, (kills, faults)
        # Both worker slots did work (the task queue's load is shared).
        busy = {r["_slot"] for r in records if r.get("event") == "notification_sent"}
        assert busy == {"worker0", "worker1"}, busy
