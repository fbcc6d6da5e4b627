"""Staff on the returns console, in a real browser (Debian's chromium driven by Playwright, with
JavaScript off: the console works without it) against the real console server, a real worker and
the Temporal dev server (tests/ops/stack.py):

- signs in (a wrong password is refused), reads each queue with its count;
- approves several returns at once from the review queue, one of them already decided by someone
  else: each gets its own result, the refused one with its validator's words;
- on a return's page: a reviewer's refused form (the return was decided meanwhile) keeps what was
  typed and changes nothing; request information, extend a deadline, approve;
- the warehouse records a receipt per line with the scanner's field, the inspector records the
  inspection with the policy's checks, and the return is refunded; another is cancelled;
- customer service records a request taken by phone: a wrong line is named and what was typed
  kept; then the return starts through the order system's intake, the person recorded;
- the warehouse may not approve (no form, and a forged post is refused); a person of another
  merchant gets 404 for the return and does not see it in the queues.

Each queue lists what it should (shipments due within a day and failing refunds are only opened:
the demo policies give at least three days to ship, and the embedded ledger does not fail);
a receipt that did not fit raises attention, which the acknowledge form clears.
an exchange (approved with per-line overrides and stock confirmed) is inspected and shipped to
the customer through the ship form. retry_refund and record_manual_refund need a failed refund,
which the embedded ledger never gives (a real peer that refuses cannot run here); their forms are built by the same code (console/forms.py) and are
tested as payloads in tests/staff_console/test_forms.py.

Screenshots go to the test's tmp directory, and with UPDATE_SCREENSHOTS=1 to docs/img/console-*.png.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Page, async_playwright, expect

from console.accounts import Accounts
from console.server import Console
from ingestion.intake import Intake
from ingestion.merchants import merchant_ids
from returns.console_link import CONSOLE_URL_MEMO, console_page_url
from returns.status import ReturnStatus
from returns.status_card import render_status_card
from runtime.settings import ROOT
from tests.browser.test_operate_in_the_ui import (  # noqa: F401
    CHROMIUM_ARGS,
    MAX_PNG_BYTES,
    Screenshots,
    chromium,
)
from tests.ops.stack import STEP_TIMEOUT, running_stack, two_line_request
from workflows import names

pytestmark = pytest.mark.e2e

PASSWORD = "browser-test-password"
POLICIES = ROOT / "policies"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
USERS = {  # name: (role, merchants)
    "ada": ("admin", ["*"]),
    "sam": ("reviewer", ["fine-jewelry"]),
    "wes": ("warehouse", ["fine-jewelry"]),
    "ines": ("inspector", ["fine-jewelry"]),
    "otto": ("reviewer", ["opalook"]),
}


@pytest_asyncio.fixture(scope="module")
async def site(tmp_path_factory, temporal_cli_path: Path, chromium: Path):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("console")
    shots = Screenshots(tmp_path)
    accounts = Accounts.in_data_dir(tmp_path)
    for name, (role, merchants) in USERS.items():
        accounts.add(name, PASSWORD, role, merchants)
    async with running_stack(tmp_path, temporal_cli_path) as stack:
        merchants = merchant_ids(POLICIES)
        intake = Intake(stack.client, task_queue=stack.task_queue,
                        known_merchant=set(merchants).__contains__,
                        console_url="http://console.example")
        console = Console(stack.client, accounts, ui_url="http://127.0.0.1:8233", intake=intake,
                          merchants=merchants)
        runner = web.AppRunner(console.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=str(chromium),
                                                       args=CHROMIUM_ARGS)
            pages: dict[str, Page] = {}

            async def as_(name: str, viewport=DESKTOP) -> Page:
                if name not in pages:
                    context = await browser.new_context(viewport=viewport,
                                                        java_script_enabled=False,
                                                        device_scale_factor=1)
                    page = await context.new_page()
                    page.set_default_timeout(30_000)
                    await sign_in(page, base, name)
                    pages[name] = page
                return pages[name]

            try:
                yield stack, as_, shots, base, browser
            finally:
                await browser.close()
                await runner.cleanup()
                accounts.close()
    for path in shots.taken:
        assert path.stat().st_size < MAX_PNG_BYTES, path


async def sign_in(page: Page, base: str, name: str, password: str = PASSWORD) -> None:
    await page.goto(f"{base}/sign-in")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def listed(page: Page, url: str, return_ids: list[str], present: bool = True) -> None:
    """Visibility is eventually consistent: reload until the queue lists (or not) the returns."""
    deadline = time.monotonic() + STEP_TIMEOUT
    while True:
        await page.goto(url)
        rows = page.locator("#returns tbody")
        text = await rows.inner_text()
        if all((r in text) == present for r in return_ids):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}: {return_ids} {'not ' if present else ''}listed: {text}")
        await page.wait_for_timeout(300)


async def under_review(stack) -> str:
    return_id = await stack.start_return(two_line_request(f"C{uuid.uuid4().hex[:8].upper()}"))
    await stack.in_state(return_id, "under_review")
    return return_id


def return_url(stack, base: str, return_id: str) -> str:
    return f"{base}/returns/{stack.workflow_id(return_id)}"


async def test_sign_in_refuses_a_wrong_password(site):
    stack, as_, shots, base, browser = site
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, base, "sam", "not the password")
    await expect(page.locator("#error")).to_have_text("Wrong name or password.")
    await shots.take(page, "console-sign-in.png")
    await context.close()


async def test_bulk_approval_one_result_per_return(site):
    stack, as_, shots, base, _ = site
    first, second, decided = [await under_review(stack) for _ in range(3)]
    page = await as_("sam")
    await listed(page, f"{base}/queues/to_review", [first, second, decided])
    await expect(page.locator("#count-to_review")).not_to_have_text("0")
    await shots.take(page, "console-queue-to-review.png")
    for return_id in (first, second, decided):
        await page.get_by_label(f"select {return_id}").check()
    # Someone else decides one of them meanwhile (in the Temporal UI, say).
    await stack.handle(decided).execute_update(names.UPDATE_APPROVE, {"actor": "ann"})
    await page.locator("#note").fill("photos checked")
    await page.get_by_role("button", name="Approve selected").click()
    results = page.locator("#results")
    await expect(results.locator("tr", has_text=first)).to_contain_text("approve: approved")
    await expect(results.locator("tr", has_text=second)).to_contain_text("approve: approved")
    await expect(results.locator("tr", has_text=decided)).to_contain_text(
        "cannot approve: the return is")  # its validator's words
    await shots.take(page, "console-bulk-approve.png")
    for return_id in (first, second):
        status = await stack.in_state(return_id, "awaiting_shipment")
        assert any(a.actor == "sam" for a in status.audit)
    assert not any(a.actor == "sam" for a in (await stack.status(decided)).audit)


async def test_a_refused_form_keeps_what_was_typed_and_changes_nothing(site):
    stack, as_, shots, base, _ = site
    return_id = await under_review(stack)
    page = await as_("sam")
    await page.goto(return_url(stack, base, return_id))
    await expect(page.locator("#state")).to_have_text("under_review")
    await page.locator("#reject summary").click()
    await page.get_by_label("Why it is rejected").fill("worn: the clasp is bent")
    # The return is approved by someone else before this form is sent: its validator refuses.
    await stack.handle(return_id).execute_update(names.UPDATE_APPROVE, {"actor": "ann"})
    await page.get_by_role("button", name="Reject").click()
    await expect(page.locator("#refusal")).to_contain_text("cannot reject")
    await expect(page.get_by_label("Why it is rejected")).to_have_value(
        "worn: the clasp is bent")
    await shots.take(page.locator("#reject"), "console-refused.png")
    status = await stack.status(return_id)
    assert status.state != "rejected" and not any(a.actor == "sam" for a in status.audit)


async def test_review_forms_request_info_extend_and_approve(site):
    stack, as_, shots, base, _ = site
    return_id = await under_review(stack)
    page = await as_("sam")
    await page.goto(return_url(stack, base, return_id))
    await page.locator("#request_info summary").click()
    await page.get_by_label("Question to the customer").fill("Please send a photo of the clasp")
    await page.get_by_role("button", name="Send the question").click()
    await expect(page.locator("#flash")).to_contain_text("question sent")

    await page.locator("#extend_deadline summary").click()
    await page.get_by_label("Days").fill("2")
    await page.locator("#extend-reason").fill("waiting for the customer's photo")
    await page.get_by_role("button", name="Extend").click()
    await expect(page.locator("#flash")).to_contain_text("is now")

    await page.get_by_label("Note (optional)").fill("photo received")
    await page.locator("[name='waive_fees@L1']").check()
    await page.get_by_role("button", name="Approve").click()  # no reason for the exception
    await expect(page.locator("#refusal")).to_contain_text("reason (line L1)")
    await expect(page.get_by_label("Note (optional)")).to_have_value("photo received")
    await page.get_by_label("Reason for the exception (line L1)").fill("loyal customer")
    await page.get_by_role("button", name="Approve").click()
    await expect(page.locator("#flash")).to_contain_text("approved")
    await expect(page.locator("#audit")).to_contain_text("information requested")
    await expect(page.locator("#audit")).to_contain_text("deadline extended")
    status = await stack.in_state(return_id, "awaiting_shipment")
    actors = {a.actor for a in status.audit if a.actor not in ("system", "customer", "policy")}
    assert actors == {"sam"}, actors


async def test_warehouse_receipt_inspection_and_refund(site):
    stack, as_, shots, base, _ = site
    return_id = await under_review(stack)
    await stack.handle(return_id).execute_update(names.UPDATE_APPROVE, {"actor": "ann"})
    await stack.in_state(return_id, "awaiting_shipment")
    page = await as_("wes", PHONE)
    await page.goto(return_url(stack, base, return_id))
    await expect(page.locator("#approve")).to_have_count(0)
    await page.get_by_label("Receipt number").fill(f"SCAN-{return_id}")
    await page.get_by_label("Condition (line L1)").fill("sealed")
    for code in ("RING-1", "EAR-2", "EAR-2", "ear-2"):  # one earring too many
        await page.get_by_label("Scan an item").fill(code)
        await page.get_by_label("Scan an item").press("Enter")  # as a scanner ends its input
        await expect(page.locator("#scan-note")).to_contain_text("scanned")
    await expect(page.locator("#scan-note")).to_have_text("Pearl earrings (line L2): 3 scanned")
    await expect(page.get_by_label("Quantity arrived (line L1)")).to_have_value("1")
    await expect(page.get_by_label("Quantity arrived (line L2)")).to_have_value("3")
    await page.get_by_label("Scan an item").fill("SHOE-9")
    await page.get_by_label("Scan an item").press("Enter")
    await expect(page.locator("#refusal")).to_contain_text("'SHOE-9' is not an item")
    assert not (await stack.status(return_id)).receipts  # scans send nothing
    await page.get_by_role("button", name="Record the receipt").click()
    await expect(page.locator("#refusal")).to_contain_text("only 2 are being returned")
    await expect(page.get_by_label("Condition (line L1)")).to_have_value("sealed")
    assert not (await stack.status(return_id)).receipts  # nothing was sent
    await shots.take(page.locator("#warehouse_receipt"), "console-receipt-refused-phone.png")
    await page.get_by_label("Quantity arrived (line L2)").fill("2")
    await page.get_by_role("button", name="Record the receipt").click()
    await expect(page.locator("#flash")).to_contain_text(f"receipt SCAN-{return_id} recorded")
    width = await page.locator("main").evaluate("e => e.scrollWidth")
    assert width <= PHONE["width"] + 2, width

    await stack.in_state(return_id, "inspecting")
    page = await as_("ines")
    await page.goto(return_url(stack, base, return_id))
    form = page.locator("#form-record_inspection")
    await form.get_by_label("passed (line L1)").check()
    await form.get_by_label("passed (line L2)").check()
    for box in await form.locator("input[type=checkbox]").all():
        await box.check()
    await shots.take(page.locator("#record_inspection"), "console-inspection.png")
    await form.get_by_role("button", name="Record the inspection").click()
    await expect(page.locator("#flash")).to_contain_text("inspection recorded")
    status = await stack.in_state(return_id, "refunded")
    assert {a.actor for a in status.audit} >= {"wes", "ines"}
    await page.reload()
    await shots.take(page, "console-return.png")
    await shots.take(page.locator("#audit"), "console-audit.png")


async def test_cancel(site):
    stack, as_, shots, base, _ = site
    return_id = await under_review(stack)
    page = await as_("ada")
    await page.goto(return_url(stack, base, return_id))
    await page.locator("#cancel summary").click()
    await page.locator("#cancel-reason").fill("duplicate request")
    await page.get_by_role("button", name="Cancel the return").click()
    await expect(page.locator("#flash")).to_contain_text("cancelled")
    await stack.in_state(return_id, "cancelled")


async def test_each_queue(site):
    stack, as_, shots, base, _ = site
    reviewing = await under_review(stack)
    page = await as_("ada")
    for key, heading in [("to_review", "To review"), ("reviews_overdue", "Reviews overdue"),
                         ("needs_attention", "Needs attention"),
                         ("shipments_due", "Shipments due within a day"),
                         ("inspections_due", "Inspections due"),
                         ("refunds_failing", "Refunds failing"),
                         ("to_ship", "To ship to the customer")]:
        await page.goto(f"{base}/queues/{key}")
        await expect(page.locator("h1")).to_contain_text(heading)
        await expect(page.locator(f"#count-{key}")).to_be_visible()
    await listed(page, f"{base}/queues/to_review", [reviewing])
    await listed(page, f"{base}/queues/reviews_overdue", [reviewing], present=False)
    await listed(page, f"{base}/merchants/fine-jewelry", [reviewing])
    order = (await stack.status(reviewing)).order_id
    await listed(page, f"{base}/orders/{order}", [reviewing])
    await page.goto(f"{base}/find?q={reviewing}")
    await expect(page.locator("h1")).to_contain_text(f"Return {reviewing}")

    # A return at the inspection bench, and one whose receipt did not fit (attention).
    inspecting, alerted = await under_review(stack), await under_review(stack)
    for return_id in (inspecting, alerted):
        await stack.handle(return_id).execute_update(names.UPDATE_APPROVE, {"actor": "ann"})
        await stack.in_state(return_id, "awaiting_shipment")
    await stack.handle(inspecting).signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
        "actor": "wes", "receipt_id": f"S-{inspecting}",
        "items": [{"line_id": "L1", "quantity": 1}, {"line_id": "L2", "quantity": 2}]})
    await stack.handle(alerted).signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
        "actor": "wes", "receipt_id": f"S-{alerted}", "items": [{"line_id": "L9", "quantity": 1}]})
    await stack.in_state(inspecting, "inspecting")
    await listed(page, f"{base}/queues/inspections_due", [inspecting])
    await listed(page, f"{base}/queues/needs_attention", [alerted])
    await shots.take(page, "console-queue-needs-attention.png")
    await page.get_by_role("link", name=alerted, exact=True).click()
    await page.locator("#ack-note").fill("called the warehouse: wrong parcel scanned")
    await page.get_by_role("button", name="Acknowledge").click()
    await expect(page.locator("#flash")).to_contain_text("attention cleared")
    assert not (await stack.status(alerted)).needs_attention
    await listed(page, f"{base}/queues/needs_attention", [alerted], present=False)


async def test_a_role_that_may_not_act(site):
    stack, as_, shots, base, _ = site
    return_id = await under_review(stack)
    page = await as_("wes")
    await page.set_viewport_size(DESKTOP)
    await page.goto(return_url(stack, base, return_id))
    await expect(page.locator("#no-actions")).to_contain_text("others may: approve")
    await expect(page.locator("#form-approve")).to_have_count(0)
    await shots.take(page.locator("#actions"), "console-role-may-not-act.png")
    csrf = await page.locator("input[name=csrf]").first.get_attribute("value")
    response = await page.request.post(
        f"{return_url(stack, base, return_id)}/approve", form={"csrf": csrf})
    assert response.status == 403
    assert "may not approve" in await response.text()
    assert (await stack.status(return_id)).state == "under_review"


async def test_a_merchant_that_may_not_be_seen(site):
    stack, as_, shots, base, _ = site
    return_id = await under_review(stack)
    mine = await as_("sam")
    await listed(mine, f"{base}/queues/to_review", [return_id])
    page = await as_("otto")
    response = await page.goto(return_url(stack, base, return_id))
    assert response.status == 404
    assert return_id not in await page.content()
    await shots.take(page, "console-not-found.png")
    await page.goto(f"{base}/queues/to_review")
    assert return_id not in await page.locator("#returns").inner_text()
    response = await page.goto(f"{base}/merchants/fine-jewelry")
    assert response.status == 404
    # Nor act on it by naming it in a bulk approval.
    csrf = await page.locator("input[name=csrf]").first.get_attribute("value")
    response = await page.request.post(f"{base}/queues/to_review/bulk", form={
        "csrf": csrf, "bulk": "approve", "selected": stack.workflow_id(return_id)})
    assert response.status == 200
    assert "not found" in await response.text()
    assert (await stack.status(return_id)).state == "under_review"


async def test_customer_service_takes_a_request_by_phone(site):
    stack, as_, shots, base, _ = site
    page = await as_("sam")
    await page.goto(f"{base}/queues/to_review")
    await page.get_by_role("link", name="+ Request for a customer").click()
    order = f"PH-{uuid.uuid4().hex[:6].upper()}"
    await page.get_by_label("How the request came").select_option("phone")
    await page.get_by_label("Order id").fill(order)
    today = datetime.now(UTC).date()
    await page.get_by_label("Placed on").fill((today - timedelta(days=7)).isoformat())
    await page.get_by_label("Delivered on").fill((today - timedelta(days=3)).isoformat())
    await page.get_by_label("Currency").fill("USD")
    await page.locator("#lines").fill("L1; RING-1; Gold ring; 1; 200.00\n"
                                      "L2; EAR-2; Pearl earrings; 2; 150.00; 25.00")
    await page.get_by_label("Name").fill("Ada Lovelace")
    await page.get_by_label("Email").fill("ada@example.com")
    await page.get_by_label("Address").fill("12 Main Street")
    await page.get_by_label("Postal code").fill("12345")
    await page.get_by_label("City").fill("Springfield")
    await page.get_by_label("Country (2 letters)").fill("US")
    evidence = "photos, original_packaging, logistics_signature, certificate"
    await page.locator("#items").fill(f"L3; 1; defective; refund; {evidence}")
    await page.get_by_role("button", name="Record the request").click()
    await expect(page.locator("#refusal")).to_contain_text("items[0].line_id")
    await expect(page.get_by_label("Order id")).to_have_value(order)  # kept
    await shots.take(page, "console-request-refused.png")
    await page.locator("#items").fill(f"L1; 1; defective; refund; {evidence}")
    await page.get_by_role("button", name="Record the request").click()
    await expect(page.locator("#flash")).to_contain_text("taken by sam")
    await expect(page.locator("#audit")).to_contain_text("cs-phone.sam.")
    workflow_id = page.url.rsplit("/", 1)[1]
    status = await stack.client.get_workflow_handle(workflow_id).query(
        names.QUERY_STATUS, result_type=ReturnStatus)
    assert status.order_id == order and status.merchant_id == "fine-jewelry"
    # The return's status card in the Temporal UI (its current details) links back to this page.
    card = render_status_card(status, console_page_url("http://console.example", workflow_id))
    assert f"(http://console.example/returns/{workflow_id})" in card
    memo = await (await stack.client.get_workflow_handle(workflow_id).describe()).memo_value(
        CONSOLE_URL_MEMO)
    assert memo == "http://console.example"  # what the workflow builds that link from


async def test_an_exchange_shipped_to_the_customer(site):
    stack, as_, shots, base, _ = site
    return_id = await under_review(stack)
    page = await as_("ada")
    await page.goto(return_url(stack, base, return_id))
    for line in ("L1", "L2"):
        await page.locator(f"[name='resolution@{line}']").select_option("exchange")
        await page.get_by_label(f"Reason for the exception (line {line})").fill("asked by phone")
        await page.locator(f"[name='stock_confirmed@{line}']").check()
    await page.locator("#form-approve").get_by_role("button", name="Approve").click()
    await expect(page.locator("#flash")).to_contain_text("approved")
    await stack.handle(return_id).signal(names.SIGNAL_WAREHOUSE_RECEIPT, {
        "actor": "wes", "receipt_id": f"S-{return_id}",
        "items": [{"line_id": "L1", "quantity": 1}, {"line_id": "L2", "quantity": 2}]})
    await stack.in_state(return_id, "inspecting")
    await page.reload()
    form = page.locator("#form-record_inspection")
    await form.get_by_label("passed (line L1)").check()
    await form.get_by_label("passed (line L2)").check()
    for box in await form.locator("input[type=checkbox]").all():
        await box.check()
    await form.get_by_role("button", name="Record the inspection").click()
    await expect(page.locator("#flash")).to_contain_text("inspection recorded")
    await stack.in_state(return_id, "exchange_shipping")
    await page.reload()
    form = page.locator("#form-ship_to_customer")
    await form.get_by_label("Carrier").fill("UPS")
    await form.get_by_label("Tracking number").fill("1Z999AA10123456784")
    await form.locator("[name=checks_confirmed]").check()
    await shots.take(page.locator("#ship_to_customer"), "console-ship-to-customer.png")
    await form.get_by_role("button", name="Record the shipment").click()
    await expect(page.locator("#flash")).to_contain_text("shipment recorded")
    status = await stack.wait_for("the exchange shipped", lambda: _state_not(stack, return_id,
                                                                             "exchange_shipping"))
    assert any(a.actor == "ada" and a.action == "shipped to customer" for a in status.audit)


async def _state_not(stack, return_id: str, state: str):
    status = await stack.status(return_id)
    return status if status.state != state else None
