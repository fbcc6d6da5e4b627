"""The console's Find box finds a return by any tracking number it knows, typed as a person types
it (spaces, dashes, lower case), through its `TrackingRefs` search attribute (a hash, never the
number: returns/tracking_refs.py), and only among the signed-in person's merchants. In a real
browser (Debian's chromium driven by Playwright, JavaScript off as the console needs none)
against the real console server (a free port), a real worker and the Temporal dev server
(tests/ops/stack.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, expect

from returns.tracking_refs import tracking_ref
from tests.browser.test_operate_in_the_ui import chromium  # noqa: F401
from tests.staff_console.site import console_in_chromium
from tests.ops.stack import two_line_request
from workflows import names

pytestmark = pytest.mark.e2e

PASSWORD = "find-by-tracking-password"
USERS = {"sam": ("reviewer", ["fine-jewelry"]), "otto": ("reviewer", ["opalook"])}
SAMS = "1Z999AA10123456784"  # the carrier's scan of a fine-jewelry return
OTTOS = "JD00014711"  # the number an opalook customer gave


@pytest_asyncio.fixture
async def site(tmp_path, temporal_cli_path: Path, chromium: Path):  # noqa: F811
    async with console_in_chromium(tmp_path, temporal_cli_path, chromium, USERS,
                                   PASSWORD) as (stack, base, as_):
        yield stack, as_


async def scanned(stack, merchant: str, event_id: str, number: str) -> str:
    """A return under review whose parcel was scanned (or its number given by the customer:
    the customer page sends the same signal) before approval."""
    request = two_line_request(f"F{uuid.uuid4().hex[:8].upper()}") \
        .model_copy(update={"merchant_id": merchant})
    return_id = await stack.start_return(request)
    await stack.in_state(return_id, "under_review")
    await stack.handle(return_id).signal(names.SIGNAL_PARCEL_SCANNED, {
        "event_id": event_id, "occurred_at": request.occurred_at.isoformat(),
        "return_id": return_id, "merchant_id": merchant, "carrier": "UPS",
        "tracking_number": number, "scan": "picked_up"})
    await stack.listed(f'TrackingRefs="{tracking_ref(number)}"', {return_id})
    return return_id


async def find(page: Page, typed: str) -> None:
    await page.get_by_label("Find").fill(typed)
    await page.get_by_label("Find").press("Enter")
    await page.wait_for_load_state()


async def test_a_tracking_number_typed_loosely_opens_its_return_of_the_persons_merchants(site):
    stack, as_ = site
    sams = await scanned(stack, "fine-jewelry", "carrier-scan-sam", SAMS)
    ottos = await scanned(stack, "opalook", "customer-tracking-otto", OTTOS)

    sam = await as_("sam")
    await find(sam, "1z 999 aa1 0123-456784")
    assert sam.url.endswith(f"/returns/{stack.workflow_id(sams)}"), sam.url
    await expect(sam.locator("#state")).to_have_text("under_review")
    assert SAMS not in sam.url and "1z" not in sam.url.split("/returns/")[1]

    # Another merchant's return is not found: the same page as a number nobody has.
    await find(sam, "jd 0001 4711")
    assert "/find?" in sam.url
    await expect(sam.locator("#nothing")).to_contain_text("No return of your merchants")
    await expect(sam.locator("body")).not_to_contain_text(ottos)

    # Its own merchant's person finds it.
    otto = await as_("otto")
    await find(otto, "jd-0001-4711")
    assert otto.url.endswith(f"/returns/{stack.workflow_id(ottos)}"), otto.url


async def test_what_can_be_no_tracking_number_or_id_is_named(site):
    stack, as_ = site
    sam = await as_("sam")
    await find(sam, "1Z/99 <x>")
    await expect(sam.locator("#problem")).to_contain_text("q: '1Z/99 <x>' is not a return id, "
                                                          "a label barcode or a tracking number")
