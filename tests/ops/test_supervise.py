"""`make run` keeps running: a child that dies is started again with backoff; a stop ends it all.

Real child processes (`python -c ...`), started and supervised as runtime/devstack.py does it
(`processes.start`, `processes.supervise`), with short delays.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from runtime import processes
from runtime.processes import Exit, RestartPolicy

FAST = RestartPolicy(first_delay=0.05, max_delay=0.2, stable_after=0.5, max_quick_failures=3)


async def started(tmp_path: Path, code: str) -> tuple[processes.Child, callable]:
    async def start() -> processes.Child:
        return await processes.start("child", [sys.executable, "-c", code],
                                     log_path=tmp_path / "child.log", echo=False)

    return await start(), start


def test_the_delay_doubles_with_each_quick_failure_up_to_the_cap():
    policy = RestartPolicy()
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


async def test_a_child_killed_after_running_a_while_is_restarted(tmp_path: Path):
    child, start = await started(tmp_path, "import time; time.sleep(60)")
    stop = asyncio.Event()
    exits: list[Exit] = []
    restarts: list[processes.Child] = []
    watcher = asyncio.create_task(processes.supervise(
        child, start, stop=stop, on_exit=exits.append, on_restart=restarts.append, policy=FAST))
    await asyncio.sleep(0.7)  # longer than stable_after: a healthy child that then died
    child.kill()
    for _ in range(100):
        if restarts:
            break
        await asyncio.sleep(0.05)
    [exit] = exits
    assert exit.code == -signal.SIGKILL and exit.quick_failures == 0
    assert exit.restart_in == FAST.first_delay
    [again] = restarts
    assert again.pid != child.pid and again.running

    # Ctrl-C: the stop is requested first, then the children stop; nothing is restarted.
    stop.set()
    await again.stop(signal.SIGTERM, grace=5)
    await asyncio.wait_for(watcher, 5)
    assert len(restarts) == 1 and len(exits) == 1


async def test_a_child_that_keeps_dying_at_once_is_given_up_on(tmp_path: Path):
    child, start = await started(tmp_path, "import sys; sys.exit(3)")
    exits: list[Exit] = []
    restarts: list[processes.Child] = []
    await asyncio.wait_for(processes.supervise(
        child, start, stop=asyncio.Event(), on_exit=exits.append, on_restart=restarts.append,
        policy=FAST), 10)
    assert [e.code for e in exits] == [3, 3, 3, 3]
    assert [e.restart_in for e in exits] == [0.05, 0.1, 0.2, None]  # doubled, capped, given up
    assert len(restarts) == 3 and not any(c.running for c in restarts)


async def test_a_stop_while_waiting_to_restart_starts_nothing(tmp_path: Path):
    child, start = await started(tmp_path, "import sys; sys.exit(1)")
    stop = asyncio.Event()
    restarts: list[processes.Child] = []
    slow = RestartPolicy(first_delay=5, stable_after=60)
    watcher = asyncio.create_task(processes.supervise(
        child, start, stop=stop, on_exit=lambda e: stop.set(), on_restart=restarts.append,
        policy=slow))
    await asyncio.wait_for(watcher, 3)  # returns at once: the stop came during the delay
    assert restarts == []
