"""Events out, against a real HTTP receiver on loopback: a Temporal dev server (real time, as the
delivery rounds and the receiver's outage are), the real worker (`worker.build_worker`) with the
merchants' webhook secrets and an adapters file pointing every merchant's events at the receiver,
and the project's own receiver (runtime/events_receiver.py) on a fixed loopback port, so a test
can take it down and bring it back on the same address."""

from __future__ import annotations

import asyncio
import socket
import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from ingestion.merchant_secrets import env_name
from ingestion.merchants import merchant_ids
from returns.policy.registry import PolicyRegistry
from runtime.events_receiver import PATH, EventsReceiver
from runtime.settings import Settings
from tests.lifecycle.conftest import Harness, record_if_asked
from worker import build_worker

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {m: f"whsec_test_{m.replace('-', '_')}_0123456789abcdef" for m in
           merchant_ids(ROOT / "policies")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver(EventsReceiver):
    """The project's receiver, with what a test needs: every POST kept raw (repeats included),
    an answer to force (`answer = 410`), a hold on the next POST, and down / up."""

    def __init__(self, port: int) -> None:
        super().__init__({m: [s] for m, s in SECRETS.items()})
        self.port = port
        self.url = f"http://127.0.0.1:{port}{PATH}"
        self.raw: list[tuple[dict, bytes]] = []  # (headers, body) of every POST
        self.answer: int | None = None
        self.hold: asyncio.Event | None = None
        self.held = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.raw.append((dict(request.headers), body))
        if self.hold is not None:
            hold, self.hold = self.hold, None
            self.held.set()
            await hold.wait()
        if self.answer is not None:
            return web.Response(status=self.answer)
        return await super().receive(request)

    async def up(self) -> None:
        self._runner = web.AppRunner(self.app())
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def of(self, return_id: str) -> list[dict]:
        return [e for e in self.events if e["return_id"] == return_id]

    async def wait_for(self, return_id: str, last: str, timeout: float = 60.0) -> list[dict]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not any(e["type"] == last for e in self.of(return_id)):
            if loop.time() > deadline:
                raise AssertionError(f"no {last} for {return_id}; got "
                                     f"{[e['type'] for e in self.of(return_id)]}")
            await asyncio.sleep(0.1)
        return self.of(return_id)


def adapters_file(tmp_path: Path, url: str, **deliveries) -> Path:
    fields = ", ".join([f'url = "{url}"', *(f"{k} = {v}" for k, v in deliveries.items())])
    path = tmp_path / "adapters.toml"
    path.write_text(f"[default]\ndeliveries = {{ {fields} }}\n", encoding="utf-8")
    return path


@pytest.fixture
def secrets_env(monkeypatch):
    for merchant, secret in SECRETS.items():
        monkeypatch.setenv(env_name(merchant), secret)
    return SECRETS


@pytest_asyncio.fixture
async def receiver():
    r = Receiver(free_port())
    await r.up()
    yield r
    if r.hold is not None:
        r.hold.set()
    await r.down()


def settings_for(tmp_path: Path, receiver: Receiver, **deliveries) -> Settings:
    return replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")}),
                   task_queue=f"deliveries-{uuid.uuid4()}",
                   adapters_file=adapters_file(tmp_path, receiver.url, **deliveries))


@pytest_asyncio.fixture
async def stack(dev_env, receiver, secrets_env, tmp_path, request):
    """The real worker, every merchant's events to `receiver`; events raised to staff after 2 s
    of failing, given up after 10 minutes. `RECORD_HISTORIES=1`: the finished returns' and
    deliveries' histories are recorded for the replay test."""
    settings = settings_for(tmp_path, receiver, attention_after=2, retry_for=600)
    registry = PolicyRegistry.load(settings.policies_dir)
    async with build_worker(dev_env.client, settings, registry):
        h = Harness(client=dev_env.client, env=dev_env, settings=settings)
        yield h
        await record_if_asked(h, request.node.name)
        await h.finish()
