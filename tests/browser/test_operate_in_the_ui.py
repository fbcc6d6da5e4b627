"""An operator who has only the Temporal Web UI, in a real browser (Debian's chromium driven by
Playwright) against the dev server's real UI (2.54), our codec server and a real worker:

- signs in to the codec server once and points the UI at it (payloads are encrypted);
- finds a return by its search attributes, typing the query into the list's query box;
- opens it and reads the status card (current details), the summary and the details;
- sends a refused update and sees the refusal; approves through "Send an Update";
- records the parcel through "Send a Signal" (`warehouse_receipt`);
and the client confirms every step moved the workflow (or, when refused, did not).

Screenshots go to the test's tmp directory, and with UPDATE_SCREENSHOTS=1 to docs/img/ (the
pictures of docs/operating-in-the-ui.md), each under 200 KB.
"""

from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Page, async_playwright, expect

from runtime.settings import ROOT
from tests.ops.stack import Stack, running_stack
from workflows import names

pytestmark = pytest.mark.e2e

CHROMIUM = Path(os.environ.get("RETURNS_CHROMIUM", "/usr/bin/chromium"))
# Nothing reaches the internet, no GPU, no sandbox (containers, CI).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DOCS_IMG = ROOT / "docs" / "img"
MAX_PNG_BYTES = 200_000
UI_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1440, "height": 860}
WIDE = {"width": 1720, "height": 600}
# The validator's message, as the update dialog's error alert shows it.
REFUSAL_SHOWN = re.compile("is not part of this return")
# The list's columns an operator sets up once ("Configure Columns"; the browser remembers them).
COLUMNS = ["ReturnState", "WaitingOn", "NextDeadlineKind", "NextDeadline", "NeedsAttention",
           "MerchantId", "OrderId"]
DROPPED_COLUMNS = ["Run ID", "Type", "Start", "End"]

# What the docs tell operators to paste.
BAD_APPROVAL = {"actor": "sam", "overrides": [{"line_id": "L9", "waive_fees": True,
                                               "reason": "loyal customer"}]}
APPROVAL = {"actor": "sam", "note": "Thanks for the photos"}
RECEIPT = {"actor": "warehouse:anna", "receipt_id": "scan-0001",
           "items": [{"line_id": "L1", "quantity": 1, "condition": "sealed"},
                     {"line_id": "L2", "quantity": 2}]}


def pretty(payload: dict) -> str:
    """As the UI's editor formats it: pasting this keeps the dialog's layout still."""
    return json.dumps(payload, indent=2)


class Screenshots:
    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path / "screenshots"
        self.dir.mkdir()
        self.update_docs = os.environ.get("UPDATE_SCREENSHOTS") == "1"
        self.taken: list[Path] = []

    async def take(self, target, name: str) -> Path:
        """`target` is the page or one element; the PNG is scaled down until it is < 200 KB."""
        from PIL import Image

        raw = await target.screenshot(type="png", **({"animations": "disabled"}
                                                     if isinstance(target, Page) else {}))
        image = Image.open(io.BytesIO(raw))
        while True:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
            if buffer.tell() < MAX_PNG_BYTES:
                break
            image = image.resize((int(image.width * 0.85), int(image.height * 0.85)), Image.LANCZOS)
        path = self.dir / name
        path.write_bytes(buffer.getvalue())
        self.taken.append(path)
        if self.update_docs:
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            (DOCS_IMG / name).write_bytes(buffer.getvalue())
        return path

    async def take_tall(self, page: Page, element, name: str) -> Path:
        """A long element (the status card) whole: the viewport grows for the picture."""
        box = await element.bounding_box()
        size = page.viewport_size
        await page.set_viewport_size({"width": size["width"],
                                      "height": max(size["height"], int(box["y"] + box["height"]) + 40)})
        try:
            return await self.take(element, name)
        finally:
            await page.set_viewport_size(size)


async def sign_in_to_the_codec_server(page: Page, stack: Stack, shots: Screenshots) -> None:
    """Once per browser: the codec server's sign-in, then the UI's codec settings (browser
    endpoint, cross-origin credentials) so the UI can decrypt payloads and encrypt what staff send."""
    await page.goto(f"{stack.codec_url}/login")
    await page.locator("input[name=token]").fill(stack.codec_token)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"{stack.ui_url}/**")
    await page.goto(f"{stack.ui_url}/namespaces/default/workflows")
    await page.locator("[data-testid^=data-encoder-status]").filter(visible=True).first.click()
    dialog = page.get_by_role("dialog").filter(visible=True)
    await dialog.get_by_test_id("use-local-endpoint-input").check(force=True)
    await dialog.get_by_test_id("data-encoder-endpoint-input").fill(stack.codec_url)
    await dialog.get_by_test_id("data-encoder-include-credentials").click()
    await expect(dialog.locator("#pass-access-credentials")).to_be_checked()
    await shots.take(dialog, "ui-codec-server.png")
    await dialog.get_by_role("button", name="Apply").click()
    await expect(dialog).to_be_hidden()


async def configure_columns(page: Page) -> None:
    await page.get_by_test_id("workflows-summary-table-configuration-button").click()
    drawer = page.locator("#workflows-table-configuration-drawer")
    for name in DROPPED_COLUMNS:
        await drawer.get_by_test_id(f"orderable-list-item-{name}-remove-button").click()
    for name in COLUMNS:
        await drawer.get_by_test_id(f"orderable-list-item-{name}-add-button").click()
    await drawer.get_by_test_id("drawer-close-button").click()


async def search(page: Page, query: str) -> None:
    """Type a visibility query into the list's query box (the `</>` toggle) and run it."""
    box = page.get_by_test_id("workflow-manual-search-input")
    if not await box.is_visible():
        await page.get_by_test_id("toggle-manual-query").click()
    await box.fill(query)
    await box.press("Enter")


async def open_dialog(page: Page, item: str, title: str):
    await page.get_by_role("button", name="More Actions").click()
    await page.get_by_role("menuitem", name=item).filter(visible=True).click()
    dialog = page.get_by_role("dialog", name=title)
    await expect(dialog).to_be_visible()
    return dialog


async def fill_payload(page: Page, dialog, payload: dict) -> None:
    """Paste the JSON into the dialog's editor, then leave the editor: it reformats the JSON when
    it loses focus, and a layout change under the pointer would swallow the Submit click."""
    editor = dialog.locator(".cm-content")
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(pretty(payload))
    await dialog.get_by_text("Single JSON payload supported.").click()
    await expect(editor).to_contain_text('"actor": "')


async def read_status_card(page: Page, stack: Stack, return_id: str) -> str:
    await page.goto(f"{stack.ui_url}/namespaces/default/workflows/{stack.workflow_id(return_id)}")
    await page.get_by_role("tab", name="User Metadata").click()
    card = page.frame_locator("#user-metadata-current-details").locator("body")
    await expect(card).to_contain_text(f"Return {return_id}")
    return await card.inner_text()


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser test drives Debian's chromium "
                    "(apt-get install chromium; `make test` installs it when run as root), or set "
                    "RETURNS_CHROMIUM=/path/to/chromium", pytrace=False)
    return CHROMIUM


@dataclass
class UI:
    stack: Stack
    page: Page
    shots: Screenshots


@pytest_asyncio.fixture(scope="module")
async def ui(tmp_path_factory, temporal_cli_path: Path, chromium: Path):
    """The dev server with its Web UI, the codec server, a worker, and a browser signed in."""
    tmp_path = tmp_path_factory.mktemp("ui")
    shots = Screenshots(tmp_path)
    async with running_stack(tmp_path, temporal_cli_path, ui=True) as stack:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(chromium),
                                                       args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(UI_TIMEOUT_MS)
                await sign_in_to_the_codec_server(page, stack, shots)
                yield UI(stack, page, shots)
            finally:
                await browser.close()
    for path in shots.taken:
        assert path.stat().st_size < MAX_PNG_BYTES, path
    print(f"screenshots: {shots.dir}" + (f" (and {DOCS_IMG})" if shots.update_docs else ""))


async def under_review(stack: Stack) -> str:
    return_id = await stack.start_return()
    await stack.in_state(return_id, "under_review")
    return return_id


async def choose_update(dialog, name: str) -> None:
    await dialog.get_by_test_id("update-select-button").click()
    await dialog.get_by_role("option", name=name).first.click()


async def test_operator_finds_reads_and_acts_on_a_return_in_the_web_ui(ui: UI) -> None:
    stack, page, shots = ui.stack, ui.page, ui.shots
    review = await under_review(stack)
    other = await under_review(stack)
    await stack.handle(other).execute_update(names.UPDATE_APPROVE, {"actor": "sam"})
    await stack.in_state(other, "awaiting_shipment")
    await stack.listed('ReturnState="under_review"', {review})

    # 1. Find it: the list, filtered by search attributes typed into the query box.
    await page.goto(f"{stack.ui_url}/namespaces/default/workflows")
    await configure_columns(page)
    await search(page, 'ReturnState="under_review" AND MerchantId="fine-jewelry"')
    rows = page.locator("table tbody tr")
    await expect(rows.filter(has_text=stack.workflow_id(review))).to_have_count(1)
    await expect(rows.filter(has_text=stack.workflow_id(other))).to_have_count(0)
    row = rows.filter(has_text=stack.workflow_id(review))
    for text in ("under_review", "staff", "review", "fine-jewelry", f"O-{review}"):
        await expect(row).to_contain_text(text)
    assert "query=ReturnState%3D%22under_review%22" in page.url, page.url
    await page.set_viewport_size(WIDE)  # every column in the picture
    await shots.take(page, "ui-list-query.png")
    await page.set_viewport_size(VIEWPORT)

    # 2. Open it: summary, details and the status card (current details).
    await row.get_by_role("link", name=stack.workflow_id(review)).click()
    await page.get_by_role("tab", name="User Metadata").click()
    card = page.frame_locator("#user-metadata-current-details").locator("body")
    await expect(card).to_contain_text(f"Return {review} · under review")
    text = await card.inner_text()
    for expected in ("Waiting on: staff", "staff review due", "Gold ring × 1 · refund · 200.00 USD",
                     "Pearl earrings × 2", "Refund total 500.00 USD", "approve", "reject"):
        assert expected in text, f"{expected!r} not on the status card:\n{text}"
    summary = page.frame_locator("#user-metadata-summary").locator("body")
    await expect(summary).to_contain_text(f"Return {review} · fine-jewelry · order O-{review}")
    details = page.frame_locator("#user-metadata-details").locator("body")
    await expect(details).to_contain_text("Customer: consumer")
    assert "Ada" not in await details.inner_text() + text  # no personal data
    await shots.take(page, "ui-user-metadata.png")
    await shots.take_tall(page, page.locator("#user-metadata-current-details"), "ui-status-card.png")

    # 3. A refused update changes nothing, and the dialog says it was refused.
    dialog = await open_dialog(page, "Send an Update", "Send an Update")
    await dialog.get_by_test_id("update-select-button").click()
    # Each update is listed with its description (the workflow's `description=`).
    await expect(dialog.get_by_role("option", name="approve Approve the return")).to_be_visible()
    await expect(dialog.get_by_role("option", name="record_inspection Record the inspection")).to_be_visible()
    await dialog.get_by_role("option", name="approve").first.click()
    await fill_payload(page, dialog, BAD_APPROVAL)
    await dialog.get_by_role("button", name="Submit").click()
    await expect(dialog.get_by_role("alert").filter(has_text=REFUSAL_SHOWN)).to_be_visible()
    await shots.take(dialog, "ui-update-refused.png")
    assert (await stack.status(review)).state.value == "under_review"

    await dialog.get_by_test_id("cancel-modal-button").click()
    await expect(dialog).to_be_hidden()

    # 4. Approve through "Send an Update".
    dialog = await open_dialog(page, "Send an Update", "Send an Update")
    await choose_update(dialog, "approve")
    await fill_payload(page, dialog, APPROVAL)
    await shots.take(dialog, "ui-send-update-approve.png")
    await dialog.get_by_role("button", name="Submit").click()
    await expect(dialog).to_be_hidden()
    status = await stack.in_state(review, "awaiting_shipment")
    assert any(a.actor == "sam" and a.action == "approved" and a.detail == APPROVAL["note"]
               for a in status.audit), status.audit

    # 5. The parcel arrives: "Send a Signal", warehouse_receipt.
    dialog = await open_dialog(page, "Send a Signal", "Send a Signal")
    await dialog.get_by_test_id("signal-select-button").click()
    await dialog.get_by_role("option", name="warehouse_receipt").click()
    await fill_payload(page, dialog, RECEIPT)
    await shots.take(dialog, "ui-send-signal-receipt.png")
    await dialog.get_by_role("button", name="Submit").click()
    await expect(dialog).to_be_hidden()
    status = await stack.in_state(review, "inspecting")
    assert [(i.line_id, i.quantity_received, i.condition_notes) for i in status.items] == [
        ("L1", 1, ["sealed"]), ("L2", 2, [])]
    assert any(a.actor == "warehouse:anna" and a.action == "received" for a in status.audit)

    # 6. The card follows: inspecting, what arrived, the inspection deadline.
    text = await read_status_card(page, stack, review)
    for expected in (f"Return {review} · inspecting", "Waiting on: warehouse", "inspection due",
                     "Pearl earrings × 2 · refund · 300.00 USD · return paid by merchant · received 2", "record_inspection"):
        assert expected in text, f"{expected!r} not on the status card:\n{text}"
    await shots.take_tall(page, page.locator("#user-metadata-current-details"),
                          "ui-status-card-inspecting.png")

    # 7. The status query, from the Queries tab.
    await page.get_by_role("tab", name="Queries").click()
    await page.get_by_role("button", name="Run Query").click()
    await expect(page.get_by_role("textbox", name="Query Result")).to_contain_text(
        '"state": "inspecting"')
    await shots.take(page, "ui-query-status.png")


async def test_a_refused_update_shows_the_validators_message(ui: UI) -> None:
    stack, page = ui.stack, ui.page
    review = await under_review(stack)
    await page.goto(f"{stack.ui_url}/namespaces/default/workflows/{stack.workflow_id(review)}")
    dialog = await open_dialog(page, "Send an Update", "Send an Update")
    await choose_update(dialog, "approve")
    await fill_payload(page, dialog, BAD_APPROVAL)
    await dialog.get_by_role("button", name="Submit").click()
    alert = dialog.get_by_role("alert").filter(has_text=REFUSAL_SHOWN)
    await expect(alert).to_be_visible()
    assert (await stack.status(review)).state.value == "under_review"
    await expect(alert).to_contain_text(
        "overrides[0].line_id: 'L9' is not part of this return (lines: L1, L2)", timeout=2_000)
