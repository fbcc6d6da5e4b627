"""The two commands of the README: `make run` needs only Python 3.11, make and bash; `make test`
installs what the suite needs beyond the venv (chromium, a CJK font, node/npm, prometheus) with one
`apt-get update` when it runs as root, and does nothing when everything is there."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runtime.settings import ROOT

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")

FAKE_APT = """#!/bin/sh
# Records each call; `install` provides what was asked for, as the real one would.
PATH="/usr/bin:/bin"
echo "$DEBIAN_FRONTEND $*" >> "{log}"
if [ "$1" = install ]; then
  for p in "$@"; do
    case "$p" in
      chromium|npm) printf '#!/bin/sh\\n' > "{bin}/$p"; chmod +x "{bin}/$p" ;;
      prometheus) printf '#!/bin/sh\\n' > "{bin}/promtool"; chmod +x "{bin}/promtool" ;;
      fonts-wqy-zenhei) : > "{font}" ;;
    esac
  done
fi
"""


def make(*args: str, path: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([MAKE, "--no-print-directory", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def fake_system(tmp_path: Path, uid: int) -> tuple[Path, Path, Path]:
    """A PATH with only `id` and `apt-get` (fakes), and a font path that does not exist yet."""
    bin_dir, log, font = tmp_path / "bin", tmp_path / "apt.log", tmp_path / "wqy-zenhei.ttc"
    bin_dir.mkdir()
    (bin_dir / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (bin_dir / "apt-get").write_text(FAKE_APT.format(log=log, bin=bin_dir, font=font))
    for tool in ("id", "apt-get"):
        (bin_dir / tool).chmod(0o755)
    return bin_dir, log, font


def test_make_run_needs_no_npm_and_no_system_packages() -> None:
    # -B: as on a fresh machine (nothing built yet); -n: print the recipes, run nothing.
    run = make("-n", "-B", "run")
    assert run.returncode == 0, run.stderr
    assert "pip install" in run.stdout and "runtime.devstack" in run.stdout
    for word in ("npm", "apt-get", "node", "chromium"):
        assert word not in run.stdout, f"`make run` uses {word}:\n{run.stdout}"


def test_make_test_installs_the_system_packages_and_the_stripe_mock_first() -> None:
    run = make("-n", "-B", "test")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.count("apt-get update") == 1
    for package in ("chromium", "fonts-wqy-zenhei", "nodejs npm", "prometheus"):
        assert package in out
    assert "npm ci --prefix tools/stripe-mock" in out
    assert out.index("apt-get update") < out.index("npm ci") < out.index("-m pytest")


def test_as_root_the_missing_packages_are_installed_with_one_apt_get_update(tmp_path: Path) -> None:
    bin_dir, log, font = fake_system(tmp_path, uid=0)
    run = make("system-packages", f"CJK_FONTS={font}", path=str(bin_dir))
    assert run.returncode == 0, run.stderr
    assert run.stdout == "make test: installing chromium fonts-wqy-zenhei nodejs npm prometheus\n"
    assert log.read_text().splitlines() == [
        "noninteractive update -qq",
        "noninteractive install -y -qq chromium fonts-wqy-zenhei nodejs npm prometheus"]

    # Everything is there now: nothing is run, nothing is said.
    again = make("system-packages", f"CJK_FONTS={font}", path=str(bin_dir))
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert len(log.read_text().splitlines()) == 2


def test_as_root_only_what_is_missing_is_installed(tmp_path: Path) -> None:
    bin_dir, log, font = fake_system(tmp_path, uid=0)
    font.write_bytes(b"")
    for tool in ("chromium", "promtool"):
        (bin_dir / tool).write_text("#!/bin/sh\n")
        (bin_dir / tool).chmod(0o755)
    run = make("system-packages", f"CJK_FONTS={font}", path=str(bin_dir))
    assert run.returncode == 0, run.stderr
    assert log.read_text().splitlines() == ["noninteractive update -qq",
                                            "noninteractive install -y -qq nodejs npm"]


def test_not_root_nothing_is_installed_and_the_failing_tests_are_named(tmp_path: Path) -> None:
    bin_dir, log, font = fake_system(tmp_path, uid=1000)
    run = make("system-packages", f"CJK_FONTS={font}", path=str(bin_dir))
    assert run.returncode == 0, run.stderr
    assert not log.exists()
    assert run.stdout == (
        "make test: missing chromium fonts-wqy-zenhei nodejs npm prometheus (apt-get install "
        "chromium fonts-wqy-zenhei nodejs npm prometheus as root): tests/browser tests/labels "
        "tests/adapters/test_stripe_refunds.py tests/metrics will fail\n")


def test_make_run_installs_the_product_without_the_test_tools() -> None:
    run = make("-n", "-B", "run")
    assert "pip install --quiet --disable-pip-version-check -e ." in run.stdout
    assert "[test]" not in run.stdout, run.stdout


@pytest.mark.parametrize("name", ["python3", "python3.12", "python3.13"])
def test_make_finds_a_python_from_3_11_to_3_13_without_being_told(tmp_path: Path, name: str):
    """Debian 13 and recent Ubuntu have no python3.11: the first of 3.11-3.13 on the PATH is
    taken (here the running interpreter under another name), without setting PYTHON."""
    import sys
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / name).symlink_to(sys.executable)
    run = make("-n", "-B", "run", path=str(bin_dir))  # no python3.11 on this PATH
    assert run.returncode == 0, run.stderr
    picked = [line for line in run.stdout.splitlines() if "-m venv" in line]
    assert picked and f"|| {name} -m venv" in picked[0], run.stdout
