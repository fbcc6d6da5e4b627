"""`python -m runtime.search_attributes register` on a real dev server that has none of ours."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from runtime.search_attributes import SearchAttributeError, plan, register, wanted
from runtime.settings import ROOT

pytestmark = pytest.mark.e2e


def run_cli(address: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    env.update(TEMPORAL_ADDRESS=address, TEMPORAL_NAMESPACE="default")
    return subprocess.run([sys.executable, "-m", "runtime.search_attributes", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


async def test_register_adds_missing_skips_existing_and_refuses_other_types(
        temporal_cli_path: Path) -> None:
    async with await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_cli_path), ui=False) as env:
        client = env.client
        address = client.service_client.config.target_host

        before = await plan(client, "default")
        assert set(before.missing) == set(wanted())

        checked = run_cli(address, "check")
        assert checked.returncode == 1
        assert "missing:  ReturnState (Keyword)" in checked.stdout
        assert "tcld namespace search-attributes add" in checked.stdout

        first = run_cli(address, "register")
        assert first.returncode == 0, first.stderr
        assert "added " in first.stdout
        assert "LabelBarcode" in first.stdout  # what `returns receive <carrier barcode>` lists
        second = run_cli(address, "register")
        assert second.returncode == 0, second.stderr
        assert f"nothing to add; {len(wanted())} already registered" in second.stdout
        assert run_cli(address, "check").returncode == 0

        after = await plan(client, "default")
        assert not after.missing and not after.conflicts
        assert "LabelBarcode" in after.present

    # A name taken with another type: a clear error, nothing changed.
    async with await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal_cli_path), ui=False) as env:
        await env.client.operator_service.add_search_attributes(AddSearchAttributesRequest(
            namespace="default",
            search_attributes={"ReturnState": IndexedValueType.INDEXED_VALUE_TYPE_INT}))
        with pytest.raises(SearchAttributeError, match="ReturnState is already registered as Int"):
            await register(env.client, "default")
        result = run_cli(env.client.service_client.config.target_host, "register")
        assert result.returncode == 1
        assert "ReturnState is already registered as Int" in result.stderr
        assert "MerchantId" in (await plan(env.client, "default")).missing
