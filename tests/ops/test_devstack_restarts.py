"""`make run` keeps running: `python -m runtime.devstack` on free ports and its own data directory
(its own dev server, worker, receiver and codec server, no demo), then its worker and receiver are
killed: both are restarted and logged, and Ctrl-C still stops everything.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp
import pytest

ROOT = Path(__file__).resolve().parents[2]
READY = "ready: press Ctrl-C to stop everything started here"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def lines_until(process, output: list[str], pattern: str, timeout: float) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in output:
            found = re.search(pattern, line)
            if found:
                return found
        if process.returncode is not None:
            break
        await asyncio.sleep(0.2)
    pytest.fail(f"no line matching {pattern!r}:\n" + "\n".join(output[-40:]))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups, Linux")
async def test_a_killed_worker_and_receiver_are_restarted_and_ctrl_c_stops_all(tmp_path: Path):
    webhook = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEMPORAL_", "RETURNS_"))}
    env.update(RETURNS_DATA_DIR=str(tmp_path / "data"), RETURNS_DEMO="0", PYTHONUNBUFFERED="1",
               RETURNS_TEMPORAL_PORT=str(free_port()), RETURNS_UI_PORT=str(free_port()),
               RETURNS_WEBHOOK_PORT=str(webhook), RETURNS_CODEC_PORT=str(free_port()),
               RETURNS_EVENTS_PORT=str(free_port()), RETURNS_CUSTOMER_PAGE_PORT=str(free_port()),
               RETURNS_CONSOLE_PORT=str(free_port()))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "runtime.devstack", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output: list[str] = []

    async def pump() -> None:
        async for raw in process.stdout:
            output.append(raw.decode(errors="replace").rstrip("\n"))

    reader = asyncio.create_task(pump())
    try:
        await lines_until(process, output, re.escape(READY), 120)
        # One secret per demo merchant, printed.
        for merchant in ("fine-jewelry", "opalook", "pearl-platform"):
            assert any(re.search(rf"^\s+{merchant}\s+whsec_dev_", line) for line in output), merchant
        # The staff console and its demo admin, whose password is kept in the data dir.
        password = (tmp_path / "data" / "console-admin-password").read_text().strip()
        assert any(re.search(rf"demo admin\s+admin / {password}", line) for line in output)
        pids = {name: int(re.search(rf"started {name} \(pid (\d+)\)", "\n".join(output)).group(1))
                for name in ("worker", "receiver")}
        for pid in pids.values():
            os.killpg(pid, signal.SIGKILL)
        for name, pid in pids.items():
            await lines_until(process, output, rf"{name} exited unexpectedly \(exit code -9.*"
                                               r"restarting it in 1s", 30)
            again = await lines_until(process, output, rf"restarted {name} \(pid (\d+)\)", 30)
            assert int(again.group(1)) != pid
        async with aiohttp.ClientSession() as http:  # the new receiver answers
            deadline = time.monotonic() + 60
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{webhook}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                assert time.monotonic() < deadline, "\n".join(output[-40:])
                await asyncio.sleep(0.3)
        assert process.returncode is None  # the stack kept running

        before_stop = len(output)
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 60) == 0, "\n".join(output[-40:])
        await reader
        assert any("stopped; nothing left running" in line for line in output)
        assert not any("restarted" in line for line in output[before_stop:])  # none after Ctrl-C
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
