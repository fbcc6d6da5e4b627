"""Serve an aiohttp application on a free loopback port for the length of a test (stand-ins for
EasyPost and Stripe, the codec server): the one place tests start such a server."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from aiohttp import web


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Yields the server's base URL, `http://127.0.0.1:<port>`; stops it afterwards."""
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()
