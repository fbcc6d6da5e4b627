"""The console's "To ship to the customer" queue in a real browser (Debian's chromium driven by
Playwright, JavaScript off) against the real console server, a real worker and the Temporal dev
server, all on free ports (tests/ops/stack.py):

- an exchange's replacement waiting to ship (exchange_shipping, with its reshipment deadline) and
  an item sent back after a failed inspection (returning_to_customer, no deadline) are listed,
  the one with a deadline first, with the queue's count in the navigation of every page;
- once the shipment is recorded (ship_to_customer) the return leaves the list;
- a person of another merchant sees neither, and a count of 0.

A repaired item (repairing) is in the same query (tests/staff_console/test_queues.py); it is not
driven here, the queue being one visibility query for the three states.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from tests.browser.test_operate_in_the_ui import chromium  # noqa: F401
from tests.staff_console.site import console_in_chromium
from tests.ops.stack import STEP_TIMEOUT, two_line_request
from workflows import names

pytestmark = pytest.mark.e2e

PASSWORD = "to-ship-test-password"
USERS = {"wes": ("warehouse", ["fine-jewelry"]), "otto": ("reviewer", ["opalook"])}


@pytest_asyncio.fixture(scope="module")
async def site(tmp_path_factory, temporal_cli_path: Path, chromium: Path):  # noqa: F811
    async with console_in_chromium(tmp_path_factory.mktemp("to-ship"), temporal_cli_path, chromium, USERS,
                                   PASSWORD) as (stack, base, as_):
        yield stack, as_, base


async def inspected(stack, resolution: str | None, passed: bool) -> str:
    """A fine-jewelry return received and inspected: `resolution` granted to both lines."""
    return_id = await stack.start_return(two_line_request(f"T{uuid.uuid4().hex[:8].upper()}"))
    await stack.in_state(return_id, "under_review")
    handle = stack.handle(return_id)
    approve: dict = {"actor": "ann"}
    if resolution:
        approve |= {"stock_confirmed": ["L1", "L2"], "overrides": [
            {"line_id": line, "resolution": resolution, "reason": "asked by phone"}
            for line in ("L1", "L2")]}
    await handle.execute_update(names.UPDATE_APPROVE, approve)
    await handle.signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
        "actor": "wes", "receipt_id": f"S-{return_id}",
        "items": [{"line_id": "L1", "quantity": 1}, {"line_id": "L2", "quantity": 2}]})
    await stack.in_state(return_id, "inspecting")
    await handle.execute_update(names.UPDATE_RECORD_INSPECTION, {
        "actor": "ines", "items": [{"line_id": line, "passed": passed, "checks_confirmed": True,
                                    "notes": "as described" if passed else "scratched"}
                                   for line in ("L1", "L2")]})
    return return_id


async def rows_when(page: Page, url: str, check) -> list[str]:
    """Visibility is eventually consistent: reload until the list's return ids pass `check`."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        await page.goto(url)
        ids = [t.strip() for t in await page.locator("#returns tbody tr td:first-child")
               .all_inner_texts()] if await page.locator("#returns").count() else []
        if check(ids):
            return ids
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}: {ids}")
        await page.wait_for_timeout(300)


async def test_returns_to_ship_to_the_customer_due_first_per_merchant(site):
    stack, as_, base = site
    exchange = await inspected(stack, "exchange", passed=True)
    await stack.in_state(exchange, "exchange_shipping")
    sent_back = await inspected(stack, None, passed=False)
    await stack.in_state(sent_back, "returning_to_customer")

    wes = await as_("wes")
    url = f"{base}/queues/to_ship"
    rows = await rows_when(wes, url, lambda ids: any(exchange in i for i in ids)
                           and any(sent_back in i for i in ids))
    await expect(wes.locator("h1")).to_contain_text("To ship to the customer")
    first = next(n for n, i in enumerate(rows) if exchange in i)
    second = next(n for n, i in enumerate(rows) if sent_back in i)
    assert first < second, rows  # the reshipment deadline first, then no deadline
    await wes.goto(f"{base}/queues/to_review")  # the count shows on every page's navigation
    count = wes.locator("#count-to_ship")
    await expect(count).to_be_visible()
    assert int(await count.inner_text()) >= 2

    otto = await as_("otto")  # another merchant's person sees neither
    await otto.goto(url)
    await expect(otto.locator("#count-to_ship")).to_have_text("0")
    await expect(otto.locator("body")).not_to_contain_text(exchange)
    await expect(otto.locator("body")).not_to_contain_text(sent_back)

    await stack.handle(exchange).execute_update(names.UPDATE_SHIP_TO_CUSTOMER, {
        "actor": "wes", "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
        "checks_confirmed": True})
    await rows_when(wes, url, lambda ids: not any(exchange in i for i in ids)
                    and any(sent_back in i for i in ids))
