"""Local configuration, secrets and the dev stack's data never reach git (docs/adapters.md)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from runtime.settings import ROOT

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None or not (ROOT / ".git").exists(),
                                reason="not a git checkout")


def ignored(path: str) -> bool:
    # --no-index: judge the path by .gitignore alone, whether or not it is tracked.
    run = subprocess.run([GIT, "check-ignore", "--no-index", "-q", path], cwd=ROOT)
    assert run.returncode in (0, 1), run
    return run.returncode == 0


@pytest.mark.parametrize("path", [
    "config/adapters.toml", "config/adapters.staging.toml",
    "returns.env", "secrets.env", "config/returns.secrets.env", "config/prod.secrets.toml",
    ".env", ".env.local",
    ".data/", ".data/temporal.db", ".data/codec-keys", ".data/ledger.sqlite3",
])
def test_local_configuration_secrets_and_data_are_ignored(path: str) -> None:
    assert ignored(path), f"{path} is not in .gitignore"


@pytest.mark.parametrize("path", ["config/adapters.example.toml", "pyproject.toml",
                                  "policies/opalook.toml", "tools/stripe-mock/package-lock.json"])
def test_what_belongs_in_the_repository_is_not_ignored(path: str) -> None:
    assert not ignored(path), f"{path} is ignored"
