"""A customer on their return page, in a real browser (Debian's chromium driven by Playwright)
against the real page server, a real worker and the Temporal dev server:

- opens the page from their link in English, French and Chinese on a phone-sized screen: the
  timeline, what to do next and by when, the items with their decisions, the refund, the return
  address, the label download; the page works without JavaScript (JavaScript is off);
- types a wrong tracking number and is told in French what to fix; then a right one, and the
  return is in transit (the client confirms it);
- opens another return's page with this return's token and is refused.

Screenshots go to the test's tmp directory, and with UPDATE_SCREENSHOTS=1 to docs/img/ (the
pictures of docs/customer-page.md), each under 200 KB.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import async_playwright, expect

from customer_page.links import CustomerLinks
from customer_page.server import CustomerPages
from returns.policy.registry import PolicyRegistry
from tests.browser.test_operate_in_the_ui import CHROMIUM_ARGS, MAX_PNG_BYTES, Screenshots, chromium  # noqa: F401
from tests.ops.stack import running_stack
from workflows import names

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}  # an iPhone 12-15 sized screen
LINKS = CustomerLinks(("browser-test-key-" + "x" * 32,), "http://127.0.0.1")


@asynccontextmanager
async def customer_site(tmp_path: Path, temporal_cli_path: Path, chromium: Path,  # noqa: F811
                        evidence_store=None):
    """The customer page on a running stack, and chromium as a phone with JavaScript off:
    (stack, page, screenshots, the page server's base URL). The browser tests of the customer
    page share it (test_customer_answers.py, test_customer_uploads.py)."""
    shots = Screenshots(tmp_path)
    async with running_stack(tmp_path, temporal_cli_path) as stack:
        pages = CustomerPages(stack.client, LINKS, PolicyRegistry.load(
            Path(__file__).resolve().parents[2] / "policies"), evidence_store=evidence_store)
        runner = web.AppRunner(pages.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(chromium),
                                                       args=CHROMIUM_ARGS)
            try:
                context = await browser.new_context(viewport=PHONE, java_script_enabled=False,
                                                    device_scale_factor=1, is_mobile=True)
                page = await context.new_page()
                page.set_default_timeout(30_000)
                yield stack, page, shots, base
            finally:
                await browser.close()
                await runner.cleanup()
    for path in shots.taken:
        assert path.stat().st_size < MAX_PNG_BYTES, path


@pytest_asyncio.fixture(scope="module")
async def site(tmp_path_factory, temporal_cli_path: Path, chromium: Path):  # noqa: F811
    async with customer_site(tmp_path_factory.mktemp("customer"), temporal_cli_path,
                             chromium) as found:
        yield found


async def awaiting_shipment(stack) -> str:
    return_id = await stack.start_return()
    await stack.in_state(return_id, "under_review")
    await stack.handle(return_id).execute_update(names.UPDATE_APPROVE, {"actor": "sam"})
    await stack.in_state(return_id, "awaiting_shipment")
    return return_id


def link(stack, base: str, return_id: str, lang: str, token_of: str | None = None) -> str:
    merchant = stack.merchants[return_id]
    token = LINKS.token(stack.merchants[token_of or return_id], token_of or return_id)
    return f"{base}{LINKS.path(merchant, return_id, token)}?lang={lang}"


async def test_the_customer_page_in_three_languages_on_a_phone(site):
    stack, page, shots, base = site
    return_id = await awaiting_shipment(stack)
    expected = {
        "en": ("What you need to do", "Return address", "Download your return label (PDF)"),
        "fr": ("Ce que vous devez faire", "Adresse de retour",
               "Télécharger votre étiquette de retour (PDF)"),
        "zh": ("您需要做什么", "退货地址", "下载退货标签（PDF）"),
    }
    for lang, (next_heading, address, label) in expected.items():
        response = await page.goto(link(stack, base, return_id, lang))
        assert response.status == 200
        await expect(page.locator("#next h2")).to_have_text(next_heading)
        await expect(page.locator("#address h2")).to_have_text(address)
        await expect(page.get_by_role("link", name=label)).to_be_visible()
        await expect(page.locator("#timeline li.done").first).to_be_visible()
        await expect(page.locator("#timeline li.todo").first).to_be_visible()
        await expect(page.locator("#items h2")).to_have_text(
            {"en": "Items", "fr": "Articles", "zh": "商品"}[lang])
        await expect(page.locator("#items td").first).to_be_visible()
        # Readable on a phone: nothing wider than the screen.
        width = await page.locator("main").evaluate("e => e.scrollWidth")
        assert width <= PHONE["width"], (lang, width)
        await shots.take_tall(page, page.locator("main"), f"customer-page-{lang}.png")
        async with page.expect_download() as download:
            await page.get_by_role("link", name=label).click()
        assert (await download.value).suggested_filename.startswith(f"return-label-{return_id}")


async def test_the_customer_gives_the_tracking_number(site):
    stack, page, shots, base = site
    return_id = await awaiting_shipment(stack)
    await page.goto(link(stack, base, return_id, "fr"))
    await page.get_by_label("Transporteur").fill("Colissimo")
    await page.get_by_label("Numéro de suivi").fill("6A#123")
    await page.get_by_role("button", name="Envoyer").click()
    await expect(page.locator("#refusal")).to_contain_text("Vérifiez le numéro de suivi")
    await expect(page.get_by_label("Transporteur")).to_have_value("Colissimo")  # kept
    await shots.take(page, "customer-page-tracking-refused-fr.png")
    assert (await stack.status(return_id)).state == "awaiting_shipment"

    await page.get_by_label("Numéro de suivi").fill("6A 123 456 789")
    await page.get_by_role("button", name="Envoyer").click()
    await expect(page.locator("#next")).to_contain_text("6A123456789")
    await expect(page.locator("#tracking")).to_have_count(0)
    await shots.take(page, "customer-page-in-transit-fr.png")
    await stack.in_state(return_id, "in_transit")


async def test_another_returns_token_is_refused(site):
    stack, page, shots, base = site
    mine, other = await awaiting_shipment(stack), await awaiting_shipment(stack)
    response = await page.goto(link(stack, base, other, "zh", token_of=mine))
    assert response.status == 403
    await expect(page.locator("h1")).to_have_text("此链接无效")
    assert 'id="items"' not in await page.content()  # nothing of either return is shown
    await shots.take(page, "customer-page-refused-zh.png")
