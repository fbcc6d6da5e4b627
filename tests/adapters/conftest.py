"""Real peers on 127.0.0.1 for the adapter tests: a Stripe-compatible server (the npm package
stripe-stateful-mock, run with node) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from .support import RecordingHandler, SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[2]
STRIPE_MOCK = ROOT / "tools" / "stripe-mock"


@dataclass
class StripeMock:
    url: str
    process: subprocess.Popen


@pytest.fixture(scope="session")
def stripe_mock():
    """stripe-stateful-mock (installed by `make test`: npm ci --prefix tools/stripe-mock),
    listening on 127.0.0.1 on a port the OS picks; stopped at the end of the session."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the Stripe refund tests run stripe-stateful-mock "
                    "with it (apt-get install nodejs npm; `make test` does when run as root)",
                    pytrace=False)
    if not (STRIPE_MOCK / "node_modules" / "stripe-stateful-mock").is_dir():
        pytest.fail(f"stripe-stateful-mock is not installed: run `npm ci --prefix {STRIPE_MOCK}` "
                    "(make test does)", pytrace=False)
    proc = subprocess.Popen([node, str(STRIPE_MOCK / "server.js")], cwd=STRIPE_MOCK,
                            env={**os.environ, "PORT": "0", "LOG_LEVEL": "silent"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.startswith("listening ") or not line and proc.poll() is not None:
                break
        if not line.startswith("listening "):
            pytest.fail(f"stripe-stateful-mock did not start: {line!r}", pytrace=False)
        port = int(line.split()[1])
        yield StripeMock(url=f"http://127.0.0.1:{port}", process=proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield SmtpServer(controller.hostname, controller.port, handler)
    finally:
        controller.stop()
