"""`returns` never prints a traceback: whatever goes wrong is one line on stderr,
`returns: <what went wrong>`, and a non-zero exit status. No Temporal server is needed here."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from returns_cli import main as cli_main
from tests.ops.stack import TEMPORAL_ENV

RETURNS = Path(sys.executable).parent / "returns"


def closed_port() -> int:
    """A port nothing listens on (bound once by us, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def returns(*args: str, **env: str) -> subprocess.CompletedProcess:
    if not RETURNS.exists():
        pytest.fail(f"{RETURNS} is missing: run `make venv`", pytrace=False)
    clean = {k: v for k, v in os.environ.items()
             if k not in TEMPORAL_ENV and not k.startswith("RETURNS_")}
    clean.update(env)
    return subprocess.run([str(RETURNS), *args], env=clean, capture_output=True, text=True,
                          timeout=60)


def one_line(run: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{run.stderr}"
    assert run.stdout == ""
    return lines[0]


def test_a_closed_port_names_the_address() -> None:
    address = f"127.0.0.1:{closed_port()}"
    for args in (["show", "R1"], ["receive", "9400111899223197428490", "--all"],
                 ["list", "--needs-attention"]):
        run = returns(*args, "--timeout", "10", TEMPORAL_ADDRESS=address)
        assert run.returncode == 1, run
        assert one_line(run) == f"returns: cannot connect to Temporal at {address}: Connection refused"


@pytest.mark.parametrize("env, line", [
    ({"TEMPORAL_ADDRESS": "127.0.0.1:99999"},
     "returns: cannot connect to Temporal at 127.0.0.1:99999: invalid target URL: invalid port number"),
    ({"TEMPORAL_ADDRESS": "not a host:7233"},
     "returns: cannot connect to Temporal at not a host:7233: invalid target URL: "),
    ({"TEMPORAL_PROFILE": "nope", "TEMPORAL_CONFIG_FILE": "/nonexistent/temporal.toml"},
     "returns: cannot read the Temporal connection settings (TEMPORAL_ADDRESS, TEMPORAL_PROFILE, "
     "TEMPORAL_CONFIG_FILE): "),
    ({"TEMPORAL_ADDRESS": "127.0.0.1:1", "TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/cert.pem",
      "TEMPORAL_TLS_CLIENT_KEY_PATH": "/nonexistent/key.pem"},
     "returns: cannot read the Temporal connection settings (TEMPORAL_ADDRESS, TEMPORAL_PROFILE, "
     "TEMPORAL_CONFIG_FILE): "),
], ids=["bad-port", "bad-host", "missing-profile", "missing-tls-file"])
def test_connection_settings_that_cannot_work_are_one_line(env: dict, line: str) -> None:
    run = returns("show", "R1", "--timeout", "10", **env)
    assert run.returncode == 1, run
    assert one_line(run).startswith(line), run.stderr


def test_anything_unexpected_is_one_line_and_exit_1(monkeypatch, capsys) -> None:
    async def broken(client, args):
        raise KeyError("status")  # a bug: no command expects it

    async def no_server(timeout):
        return object()

    monkeypatch.setattr(cli_main, "connect", no_server)
    monkeypatch.setitem(cli_main.COMMANDS, "show", broken)
    monkeypatch.delenv("RETURNS_CLI_DEBUG", raising=False)
    assert cli_main.cli(["show", "R1"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ("returns: unexpected error: KeyError: 'status' (RETURNS_CLI_DEBUG=1 "
                            "shows the traceback)\n")

    # RETURNS_CLI_DEBUG=1: the traceback too, for whoever fixes it.
    monkeypatch.setenv("RETURNS_CLI_DEBUG", "1")
    assert cli_main.cli(["show", "R1"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith("returns: unexpected error: KeyError: 'status' "
                                               "(RETURNS_CLI_DEBUG=1 shows the traceback)\n")


def test_a_connection_lost_mid_command_names_the_address(monkeypatch, capsys) -> None:
    async def lost(client, args):
        raise ConnectionResetError(104, "Connection reset by peer")

    async def no_server(timeout):
        return object()

    monkeypatch.setattr(cli_main, "connect", no_server)
    monkeypatch.setitem(cli_main.COMMANDS, "list", lost)
    for name in TEMPORAL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.internal:7233")
    assert cli_main.cli(["list"]) == 1
    assert capsys.readouterr().err == ("returns: lost the connection to Temporal at "
                                       "temporal.internal:7233: [Errno 104] Connection reset by "
                                       "peer\n")
