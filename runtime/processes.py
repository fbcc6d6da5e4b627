"""Child processes of the dev stack (and of the end-to-end tests): start, log, stop, leave nothing.

Each child runs in its own session (process group), so a Ctrl-C in the terminal reaches only the
parent, which then stops the children in order: receiver, worker, server. Stopping signals the whole
group, waits, and escalates to SIGKILL. On Linux a child also gets SIGTERM should the parent die
without cleaning up (SIGKILL, crash), so a killed `make run` leaves no server holding the ports.

Output goes to a log file (as the child wrote it: JSON lines for our processes) and, optionally,
to the console as readable lines prefixed with the process name.

`supervise` keeps a child running: one that dies is started again after a delay that doubles
with each quick failure (RestartPolicy), until it has run long enough to count as healthy again;
a child that keeps dying at once is given up on, and a stop request ends it all.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, TextIO

GRACE_SECONDS = 10.0


def _parent_death_signal() -> Callable[[], None] | None:
    """A preexec hook asking Linux to SIGTERM the child when its parent dies; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def hook() -> None:
        prctl(pr_set_pdeathsig, int(signal.SIGTERM))

    return hook


_PDEATHSIG = _parent_death_signal()


# Console noise that stays in the log files only: the receiver's per-request HTTP access lines.
QUIET_ON_CONSOLE = {"aiohttp.access"}


def _json_record(line: str) -> dict | None:
    """The structlog JSON object a line holds, or None for any other line."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


# `Child.echo_from`: everything reaches the console, or (once the stack is up) only what went
# wrong, so the ready banner stays the last thing a newcomer reads; the log files keep it all.
EVERYTHING, WARNING = 0, 30
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "warn": 30, "error": 40, "critical": 50,
           "exception": 40}


def _quiet(line: str, echo_from: int = EVERYTHING) -> bool:
    record = _json_record(line)
    if record is not None and record.get("logger") in QUIET_ON_CONSOLE:
        return True
    if echo_from <= EVERYTHING:
        return False
    if record is not None:
        return _LEVELS.get(str(record.get("level", "")).lower(), 0) < echo_from
    lowered = line.lower()  # the Temporal dev server's own lines, tracebacks
    return not any(word in lowered for word in ("error", "traceback", "level=warn", "panic"))


def readable(line: str) -> str:
    """One structlog JSON line as `12:00:01 info  event  key=value ...`; other lines unchanged."""
    record = _json_record(line)
    if record is None or "event" not in record:
        return line
    record = dict(record)
    event = record.pop("event")
    level = str(record.pop("level", "")).lower()
    stamp = str(record.pop("timestamp", ""))
    clock = stamp[11:19] if len(stamp) >= 19 else stamp
    rest = " ".join(f"{key}={value}" for key, value in record.items() if key != "exception")
    text = f"{clock} {level:<5} {event}" + (f"  {rest}" if rest else "")
    if "exception" in record:
        text += "\n" + str(record["exception"])
    return text


@dataclass
class Child:
    """One started process: its name, its process, its log file and its last lines of output."""

    name: str
    argv: list[str]
    log_path: Path
    process: asyncio.subprocess.Process
    echo: bool
    console: TextIO
    echo_from: int = EVERYTHING
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    _pump: asyncio.Task | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.returncode is None

    def last_lines(self, count: int = 15) -> str:
        return "\n".join(list(self.tail)[-count:])

    async def wait(self) -> int:
        code = await self.process.wait()
        if self._pump is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._pump), 2)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
        return code

    async def stop(self, first_signal: int = signal.SIGTERM, grace: float = GRACE_SECONDS) -> int:
        """Signal the child's process group, wait `grace` seconds, then SIGKILL what is left."""
        if self.running:
            _signal_group(self.pid, first_signal)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except asyncio.TimeoutError:
                print(f"{self.name} did not stop within {grace:.0f}s; killing it", file=self.console,
                      flush=True)
        # The leader may be gone while others of its group are not: always sweep the group.
        _signal_group(self.pid, signal.SIGKILL)
        return await self.wait()

    def kill(self) -> None:
        _signal_group(self.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


async def start(name: str, argv: list[str], *, log_path: Path, env: dict[str, str] | None = None,
                cwd: Path | None = None, echo: bool = True, console: TextIO = sys.stdout,
                prefix_width: int = 8) -> Child:
    """Start `argv` in its own process group; its output goes to `log_path` (appended) and, when
    `echo`, to `console` as `name | line`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
        cwd=cwd,
        start_new_session=True,
        preexec_fn=_PDEATHSIG,
        limit=1 << 20,
    )
    child = Child(name=name, argv=list(argv), log_path=log_path, process=process, echo=echo,
                  console=console)
    child._pump = asyncio.create_task(_pump(child, prefix_width), name=f"{name}-output")
    return child


async def _pump(child: Child, prefix_width: int) -> None:
    assert child.process.stdout is not None
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    prefix = f"{child.name:<{prefix_width}}| "
    with child.log_path.open("a", encoding="utf-8", errors="replace") as log:
        log.write(f"----- {started} started (pid {child.pid}): {' '.join(child.argv)}\n")
        log.flush()
        while True:
            try:
                raw = await child.process.stdout.readline()
            except (ValueError, asyncio.LimitOverrunError):
                continue  # an over-long line: skip it rather than stop logging
            if not raw:
                break
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            log.write(line + "\n")
            log.flush()
            child.tail.append(line)
            if child.echo and not _quiet(line, child.echo_from):
                text = readable(line)
                print("\n".join(prefix + part for part in text.splitlines() or [""]),
                      file=child.console, flush=True)


async def stop_all(children: list[Child], grace: float = GRACE_SECONDS) -> None:
    """Stop children in the given order; Python children get SIGINT first (their graceful path)."""
    for child in children:
        python = Path(child.argv[0]).name.startswith("python")
        await child.stop(signal.SIGINT if python else signal.SIGTERM, grace)


@dataclass(frozen=True)
class RestartPolicy:
    """When to start a dead child again. A child that ran `stable_after` seconds or more died on
    its own account (a crash, an OOM kill): start it again after `first_delay`. One that died
    sooner failed again: wait twice as long each time, up to `max_delay`; after
    `max_quick_failures` in a row it cannot start (a port taken, a bad setting): give up."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    stable_after: float = 60.0
    max_quick_failures: int = 8

    def delay(self, quick_failures: int) -> float:
        """The wait before the next start, after `quick_failures` quick failures in a row."""
        return min(self.max_delay, self.first_delay * 2 ** max(0, quick_failures - 1))


@dataclass(frozen=True)
class Exit:
    """What `supervise` reports of one death: the child, its exit code, how long it ran, what
    happens next (`restart_in` seconds, or None: given up)."""

    child: Child
    code: int
    ran_for: float
    quick_failures: int
    restart_in: float | None


async def supervise(child: Child, start: Callable[[], Awaitable[Child]], *,
                    stop: asyncio.Event, on_exit: Callable[[Exit], None],
                    on_restart: Callable[[Child], None],
                    policy: RestartPolicy = RestartPolicy()) -> None:
    """Restart `child` (with `start()`) whenever it dies, until `stop` is set or it is given up
    on. `on_exit` hears of every death, `on_restart` of every new child (to log, to track it)."""
    quick = 0
    while True:
        began = time.monotonic()
        code = await child.wait()
        if stop.is_set():
            return
        ran_for = time.monotonic() - began
        quick = 0 if ran_for >= policy.stable_after else quick + 1
        given_up = quick > policy.max_quick_failures
        delay = None if given_up else policy.delay(max(quick, 1))
        on_exit(Exit(child, code, ran_for, quick, delay))
        if delay is None:
            return
        try:
            await asyncio.wait_for(stop.wait(), delay)
            return  # stopped while waiting: nothing to restart
        except asyncio.TimeoutError:
            pass
        child = await start()
        if stop.is_set():  # a stop came while it was starting: it must not outlive the rest
            await child.stop(signal.SIGINT if Path(child.argv[0]).name.startswith("python")
                             else signal.SIGTERM)
            return
        on_restart(child)
