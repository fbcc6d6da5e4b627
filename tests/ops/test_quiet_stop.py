"""Ctrl-C (or `make run` stopping its children with SIGINT) stops the staff console and the
customer page server quietly: `make run` printed a KeyboardInterrupt traceback from each."""

from __future__ import annotations

import sys

import console.server
import customer_page.server


async def interrupted(host: str, port: int) -> None:
    raise KeyboardInterrupt


def test_the_console_stops_without_a_traceback(monkeypatch, capsys):
    monkeypatch.setattr(console.server, "serve", interrupted)
    console.server.serve_main(["--port", "0"])
    assert "Traceback" not in capsys.readouterr().err


def test_the_customer_page_stops_without_a_traceback(monkeypatch, capsys):
    monkeypatch.setattr(customer_page.server, "serve", interrupted)
    monkeypatch.setattr(sys, "argv", ["customer_page", "--port", "0"])
    customer_page.server.main()
    assert "Traceback" not in capsys.readouterr().err
