"""What an operator has in front of them, for the operator-facing tests: a real Temporal dev
server with the product's search attributes, a real worker (`worker.build_worker`) with its own
data directory and task queue, every payload encrypted with the test key (samples/keys.py) as
in production, and, with the Web UI, the codec server the UI decrypts payloads through
(`runtime.codec_server`, as `make run` starts it).

Returns are started the way the order system starts them (`Intake.deliver`: search attributes,
static summary and details), so the CLI and the UI see exactly what production shows.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncIterator

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment

from ingestion.intake import Intake, Outcome, details_for, search_attributes_for, summary_for
from returns.events import ReturnRequested, workflow_id_for
from returns.policy.registry import PolicyRegistry
from returns.status import ReturnStatus
from runtime.codec import EncryptionCodec
from runtime.codec_server import CodecServerConfig, create_codec_app
from runtime.settings import Settings
from samples.keys import TEST_KEYRING, TEST_KEYS_ENV, test_data_converter
from samples.events import item, line, return_requested
from tests.loopback import serving
from worker import build_worker
from workflows import names
from workflows import search_attributes as sa
from workflows.search_attributes import cli_flags

STEP_TIMEOUT = 60.0  # generous: CI machines have 2 cores
# Connection settings a developer may have exported; the tests talk to their own server only.
TEMPORAL_ENV = ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_PROFILE",
                "TEMPORAL_CONFIG_FILE", "TEMPORAL_TLS", "TEMPORAL_TLS_CLIENT_CERT_PATH",
                "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH",
                "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def two_line_request(return_id: str | None = None) -> ReturnRequested:
    """A fine-jewelry return of two defective pieces, both refunded after inspection."""
    return return_requested(
        "fine-jewelry", return_id=return_id,
        lines=[line("L1", sku="RING-1", title="Gold ring", quantity=1, unit_price=20000),
               line("L2", sku="EAR-2", title="Pearl earrings", quantity=2, unit_price=15000,
                    unit_tax=2500)],
        items=[item("L1", quantity=1), item("L2", quantity=2)])


@dataclass
class Stack:
    client: Client
    address: str
    namespace: str
    task_queue: str
    data_dir: Path
    ui_url: str | None = None
    codec_url: str | None = None
    codec_token: str | None = None
    started: list[str] = field(default_factory=list)
    merchants: dict[str, str] = field(default_factory=dict)  # return id -> its merchant

    def cli_env(self, **extra: str) -> dict[str, str]:
        """The environment of a `returns` CLI subprocess pointed at this server."""
        env = {k: v for k, v in os.environ.items()
               if k not in TEMPORAL_ENV and not k.startswith("RETURNS_")}
        env.update(TEMPORAL_ADDRESS=self.address, TEMPORAL_NAMESPACE=self.namespace,
                   RETURNS_CODEC_KEYS=TEST_KEYS_ENV, PYTHONUNBUFFERED="1")
        env.update(extra)
        return env

    async def start_return(self, request: ReturnRequested | None = None, *,
                           label_barcode: str | None = None) -> str:
        """Start a return as the order system does; with `label_barcode`, started with that
        `LabelBarcode` search attribute already set (as a carrier label's tracking code is,
        once the workflow has bought the label)."""
        request = request or two_line_request(f"R{uuid.uuid4().hex[:8].upper()}")
        if label_barcode is None:
            intake = Intake(self.client, task_queue=self.task_queue, known_merchant=lambda m: True)
            result = await intake.deliver(request)
            assert result.outcome == Outcome.started, result
        else:
            attrs = search_attributes_for(request)
            await self.client.start_workflow(
                names.WORKFLOW_TYPE, request,
                id=workflow_id_for(request.merchant_id, request.return_id),
                task_queue=self.task_queue, static_summary=summary_for(request),
                static_details=details_for(request),
                search_attributes=TypedSearchAttributes([
                    *attrs.search_attributes,
                    SearchAttributePair(sa.LABEL_BARCODE, label_barcode)]))
        self.started.append(request.return_id)
        self.merchants[request.return_id] = request.merchant_id
        return request.return_id

    def workflow_id(self, return_id: str) -> str:
        """The workflow id of a return this stack started (`return-<merchant>-<return id>`)."""
        return workflow_id_for(self.merchants[return_id], return_id)

    def handle(self, return_id: str) -> WorkflowHandle:
        return self.client.get_workflow_handle(self.workflow_id(return_id), result_type=ReturnStatus)

    async def status(self, return_id: str) -> ReturnStatus:
        return await self.handle(return_id).query(names.QUERY_STATUS, result_type=ReturnStatus)

    async def wait_for(self, what: str, check, timeout: float = STEP_TIMEOUT):
        """Poll `check()` (async) until it returns something truthy."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            try:
                last = await check()
                if last:
                    return last
            except Exception as err:  # not there yet
                last = err
            await asyncio.sleep(0.2)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")

    async def in_state(self, return_id: str, state: str) -> ReturnStatus:
        async def check():
            current = await self.status(return_id)
            return current if current.state == state else None

        return await self.wait_for(f"return {return_id} {state}", check)

    async def listed(self, query: str, return_ids: set[str]) -> list[str]:
        """Visibility is eventually consistent: poll until `query` lists exactly `return_ids`
        among the returns this stack started."""
        async def check():
            found = {w.typed_search_attributes.get(sa.RETURN_ID)
                     async for w in self.client.list_workflows(query)}
            return sorted(found) if found & set(self.started) == return_ids else None

        return await self.wait_for(f"{query!r} to list {sorted(return_ids)}", check)


@asynccontextmanager
async def codec_server(ui_origin: str) -> AsyncIterator[tuple[str, str]]:
    """The product's codec server on a free port, for the Web UI at `ui_origin`: (url, token)."""
    token = "codec_test_" + uuid.uuid4().hex
    app = create_codec_app(EncryptionCodec(TEST_KEYRING),
                           CodecServerConfig(token=token, allowed_origins=(ui_origin,)))
    async with serving(app) as url:
        yield url, token


@asynccontextmanager
async def running_stack(tmp_path: Path, temporal_cli_path: Path, *,
                        ui: bool = False) -> AsyncIterator[Stack]:
    """The dev server (with its Web UI and our codec server when `ui`), and a worker."""
    extra = [*cli_flags(), "--dynamic-config-value", "frontend.enableServerVersionCheck=false"]
    ui_port = free_port() if ui else None
    async with AsyncExitStack() as stack:
        codec_url = token = None
        if ui:
            codec_url, token = await stack.enter_async_context(
                codec_server(f"http://127.0.0.1:{ui_port}"))
            extra += ["--ui-disable-news-fetch", "--ui-codec-endpoint", codec_url]
        env = await stack.enter_async_context(await WorkflowEnvironment.start_local(
            data_converter=test_data_converter,
            dev_server_existing_path=str(temporal_cli_path),
            dev_server_extra_args=extra,
            ui=ui,
            ui_port=ui_port,
        ))
        data_dir = tmp_path / "data"
        task_queue = f"returns-{uuid.uuid4().hex[:8]}"
        settings = Settings.from_env({"RETURNS_DATA_DIR": str(data_dir),
                                      "RETURNS_TASK_QUEUE": task_queue})
        registry = PolicyRegistry.load(settings.policies_dir)
        await stack.enter_async_context(build_worker(env.client, settings, registry))
        yield Stack(client=env.client, address=env.client.service_client.config.target_host,
                    namespace=env.client.namespace, task_queue=task_queue, data_dir=data_dir,
                    ui_url=f"http://127.0.0.1:{ui_port}" if ui else None,
                    codec_url=codec_url, codec_token=token)
