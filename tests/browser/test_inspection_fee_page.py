"""The inspection fee itemised on the customer's page, in a real browser (Debian's chromium driven
by Playwright, JavaScript off, a phone-sized screen) against the real page server on a free port:
under the line, the fee deducted and what the line refunds; under the refund, the total refunded;
in English, French and Chinese.

The return's status is the one the `status` query returns after an inspection with a fee
(tests/return_page/test_inspection_fee.py `refunded`), served without a worker: the workflow
records `ItemStatus.inspection_fee` once the lead wires it (workflows/ is being changed on another
branch; see the branch's report). Everything the customer sees, from that status on, is real."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import async_playwright, expect

from customer_page.links import CustomerLinks
from tests.browser.test_operate_in_the_ui import CHROMIUM_ARGS, Screenshots, chromium  # noqa: F401
from tests.return_page.test_inspection_fee import EXPECTED, StatusPages, refunded

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
LINKS = CustomerLinks(("fee-browser-test-key-" + "x" * 32,), "http://127.0.0.1")


def loose(words: str) -> re.Pattern:
    """The words, whatever space Babel puts before the currency sign (no-break, narrow)."""
    return re.compile(re.escape(words).replace("\\ ", "[ \u00a0\u202f]"))


async def test_the_fee_line_on_a_phone_in_three_languages(tmp_path, chromium: Path):  # noqa: F811
    status = refunded()
    runner = web.AppRunner(StatusPages(status, LINKS, tmp_path).app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    token = LINKS.token(status.merchant_id, status.return_id)
    shots = Screenshots(tmp_path)
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(chromium),
                                                       args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context(viewport=PHONE, java_script_enabled=False,
                                                    is_mobile=True)
                page = await context.new_page()
                for language, (amount, fee, line_refunded, total) in EXPECTED.items():
                    response = await page.goto(
                        f"{base}{LINKS.path(status.merchant_id, status.return_id, token)}"
                        f"?lang={language}")
                    assert response.status == 200
                    items = page.locator("#items")
                    await expect(items.locator(".inspection-fee")).to_have_text(loose(fee))
                    await expect(items.locator(".refunded")).to_have_text(loose(line_refunded))
                    await expect(items.locator("td.num")).to_have_text(loose(amount))
                    await expect(page.locator("#refund .refund-itemised-total")).to_have_text(
                        loose(total))
                    await shots.take(page.locator("#items"), f"inspection-fee-{language}.png")
            finally:
                await browser.close()
    finally:
        await runner.cleanup()
