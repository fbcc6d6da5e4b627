"""The staff console as the console tests run it: the real server (aiohttp) on a free port over a
running stack (tests/ops/stack.py), and a person signed in, over HTTP or in chromium."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from typing import AsyncIterator

import aiohttp
from aiohttp import web

from console.accounts import Accounts
from console.server import Console
from ingestion.merchants import merchant_ids
from runtime.settings import ROOT
from tests.ops.stack import running_stack


@asynccontextmanager
async def console_site(stack, accounts: Accounts, **options) -> AsyncIterator[tuple[Console, str]]:
    """(the console, its base URL), serving until the block ends."""
    console = Console(stack.client, accounts, ui_url="http://127.0.0.1:8233",
                      **{"intake": None, "merchants": merchant_ids(ROOT / "policies"), **options})
    runner = web.AppRunner(console.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield console, f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


async def signed_in(base: str, name: str, password: str) -> tuple[aiohttp.ClientSession, str]:
    """An HTTP session signed in as `name`, and its CSRF token (close the session when done)."""
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    page = await (await http.get(f"{base}/sign-in")).text()
    async with http.post(f"{base}/sign-in", data={
            "csrf": hidden(page, "csrf"), "name": name, "password": password, "next": "/"}) as r:
        return http, hidden(await r.text(), "csrf")


async def browser_signed_in(browser, base: str, name: str, password: str):
    """A chromium page (JavaScript off, as the console needs none) signed in as `name`."""
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    page.set_default_timeout(30_000)
    await page.goto(f"{base}/sign-in")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    return page


@asynccontextmanager
async def console_in_chromium(tmp_path, temporal_cli_path, chromium, users: dict, password: str):
    """A running stack, the console over it with `users` ({name: (role, merchants)}) and chromium:
    yields (stack, base URL, `as_(name)` giving a page signed in as that person)."""
    from playwright.async_api import async_playwright

    from tests.browser.test_operate_in_the_ui import CHROMIUM_ARGS

    accounts = Accounts.in_data_dir(tmp_path)
    for name, (role, merchants) in users.items():
        accounts.add(name, password, role, merchants)
    try:
        async with running_stack(tmp_path, temporal_cli_path) as stack, \
                console_site(stack, accounts) as (_, base), async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(chromium),
                                                       args=CHROMIUM_ARGS)

            async def as_(name: str):
                return await browser_signed_in(browser, base, name, password)

            try:
                yield stack, base, as_
            finally:
                await browser.close()
    finally:
        accounts.close()
