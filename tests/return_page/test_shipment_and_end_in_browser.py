"""The customer's page in a real browser (Debian's chromium driven by Playwright, JavaScript off,
a phone-sized screen) against the real page server, a real worker and the Temporal dev server on
free ports (tests/browser/test_customer_page.py's `customer_site`, tests/ops/stack.py):

- after staff ship an exchange's replacement (ship_to_customer), the page shows its carrier and
  tracking number, in French;
- the customer withdraws their return with the page's button: the page then says when, in
  English, and lists the items without any decision; a return staff cancelled says so in Chinese.

Screenshots go to the test's tmp directory.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import expect

from tests.browser.test_customer_page import customer_site, link
from tests.browser.test_operate_in_the_ui import chromium  # noqa: F401
from tests.ops.stack import two_line_request
from workflows import names

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(scope="module")
async def site(tmp_path_factory, temporal_cli_path: Path, chromium: Path):  # noqa: F811
    async with customer_site(tmp_path_factory.mktemp("shipment"), temporal_cli_path,
                             chromium) as found:
        yield found


async def under_review(stack) -> str:
    return_id = await stack.start_return(two_line_request(f"P{uuid.uuid4().hex[:8].upper()}"))
    await stack.in_state(return_id, "under_review")
    return return_id


async def exchange_waiting_to_ship(stack) -> str:
    """Both lines granted as exchanges, received and inspected: staff ship the replacement next."""
    return_id = await under_review(stack)
    handle = stack.handle(return_id)
    await handle.execute_update(names.UPDATE_APPROVE, {
        "actor": "ann", "stock_confirmed": ["L1", "L2"],
        "overrides": [{"line_id": line, "resolution": "exchange", "reason": "asked by phone"}
                      for line in ("L1", "L2")]})
    await handle.signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
        "actor": "wes", "receipt_id": f"S-{return_id}",
        "items": [{"line_id": "L1", "quantity": 1}, {"line_id": "L2", "quantity": 2}]})
    await stack.in_state(return_id, "inspecting")
    await handle.execute_update(names.UPDATE_RECORD_INSPECTION, {
        "actor": "ines", "items": [{"line_id": line, "passed": True, "checks_confirmed": True}
                                   for line in ("L1", "L2")]})
    await stack.in_state(return_id, "exchange_shipping")
    return return_id


async def test_the_replacements_carrier_and_tracking_number_in_french(site):
    stack, page, shots, base = site
    return_id = await exchange_waiting_to_ship(stack)
    await page.goto(link(stack, base, return_id, "fr"))
    await expect(page.locator("#shipment")).to_have_count(0)  # nothing shipped yet
    await stack.handle(return_id).execute_update(names.UPDATE_SHIP_TO_CUSTOMER, {
        "actor": "wes", "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
        "checks_confirmed": True})
    await stack.in_state(return_id, "exchanged")
    await page.goto(link(stack, base, return_id, "fr"))
    await expect(page.locator("#shipment h2")).to_have_text("Notre envoi")
    await expect(page.locator("#shipment p")).to_have_text(
        "Votre article de remplacement est en route, avec UPS. Numéro de suivi : "
        "1Z999AA10123456784.")
    await shots.take(page, "customer-page-shipment-fr.png")


async def test_a_withdrawn_return_says_when_and_lists_no_decisions(site):
    stack, page, shots, base = site
    return_id = await under_review(stack)
    await page.goto(link(stack, base, return_id, "en"))
    await expect(page.locator("#items td").first).to_be_visible()  # decisions while open
    await page.get_by_role("button", name="Withdraw my return").click()
    await stack.in_state(return_id, "withdrawn")
    await page.goto(link(stack, base, return_id, "en"))
    await expect(page.locator("#ended")).to_contain_text("You withdrew this return on ")
    await expect(page.locator("#items li")).to_have_text(["Gold ring × 1", "Pearl earrings × 2"])
    await expect(page.locator("#items table")).to_have_count(0)
    for gone in ("Refund", "Being reviewed", "Not accepted"):
        await expect(page.locator("#items")).not_to_contain_text(gone)
    await expect(page.locator("#timeline li.done").last).to_contain_text("Withdrawn")
    await expect(page.locator("#withdraw")).to_have_count(0)
    await shots.take(page, "customer-page-withdrawn-en.png")


async def test_a_cancelled_return_says_so_in_chinese(site):
    stack, page, _, base = site
    return_id = await under_review(stack)
    await stack.handle(return_id).execute_update(names.UPDATE_CANCEL, {
        "actor": "ann", "reason": "duplicate request"})
    await stack.in_state(return_id, "cancelled")
    await page.goto(link(stack, base, return_id, "zh"))
    await expect(page.locator("#ended")).to_contain_text("此退货已于")
    await expect(page.locator("#ended")).to_contain_text("取消")
    await expect(page.locator("#items li")).to_have_count(2)
    await expect(page.locator("#items table")).to_have_count(0)
