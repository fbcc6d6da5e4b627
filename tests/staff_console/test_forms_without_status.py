"""Forms sent without reading the return's status first (console/status_needed.py): the console
checks who may see the return, builds the payload from the form alone and sends it; the workflow's
validator still decides, and a refusal or a form problem is shown in the form with the status read
then. The real console server (aiohttp, a free port), a real worker and the Temporal dev server
(tests/ops/stack.py); pages are read over HTTP, not in a browser (tests/browser/test_console.py
covers the same forms in chromium)."""

from __future__ import annotations

import html
import re
import uuid
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from multidict import MultiDict

from console.accounts import Accounts
from console.server import Console
from console.status_needed import needs_status
from ingestion.merchants import merchant_ids
from returns.allowed import Action
from runtime.settings import ROOT
from tests.ops.stack import running_stack, two_line_request
from tests.staff_console.site import console_site, signed_in

PASSWORD = "status-needed-test-password"


@pytest.mark.parametrize("action, form, needed", [
    (Action.reject, {"reason": "worn"}, False),
    (Action.request_info, {"question": "a photo?"}, False),
    (Action.cancel, {"reason": "duplicate"}, False),
    (Action.extend_deadline, {"days": "2", "reason": "waiting"}, False),
    (Action.approve, {"note": "ok"}, False),
    (Action.approve, {"note": "ok", "reason@L1": ""}, False),  # an empty per-line field
    (Action.approve, {"waive_fees@L1": "on"}, True),
    (Action.approve, {"stock_confirmed@L2": "on"}, True),
    (Action.warehouse_receipt, {"quantity@L1": "1"}, True),
    (Action.record_inspection, {}, True),
    (Action.record_manual_refund, {"amount": "1.00"}, True),
    (Action.ship_to_customer, {}, True),
])
def test_which_forms_need_the_status(action, form, needed):
    assert needs_status(action, MultiDict(form)) is needed


@pytest_asyncio.fixture
async def console(tmp_path, temporal_cli_path: Path):
    accounts = Accounts.in_data_dir(tmp_path)
    accounts.add("sam", PASSWORD, "reviewer", ["fine-jewelry"])
    async with running_stack(tmp_path, temporal_cli_path) as stack:
        app = Console(stack.client, accounts, ui_url="http://127.0.0.1:8233", intake=None,
                      merchants=merchant_ids(ROOT / "policies")).app()
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            page = await (await http.get(f"{base}/sign-in")).text()
            async with http.post(f"{base}/sign-in", data={
                    "csrf": _hidden(page, "csrf"), "name": "sam", "password": PASSWORD,
                    "next": "/"}) as r:
                csrf = _hidden(await r.text(), "csrf")
            try:
                yield stack, http, base, csrf
            finally:
                await runner.cleanup()
                accounts.close()


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


async def _under_review(stack) -> str:
    return_id = await stack.start_return(two_line_request(f"S{uuid.uuid4().hex[:8].upper()}"))
    await stack.in_state(return_id, "under_review")
    return return_id


async def test_forms_without_the_status_are_sent_refused_or_corrected_in_the_form(console):
    stack, http, base, csrf = console
    return_id = await _under_review(stack)
    url = f"{base}/returns/{stack.workflow_id(return_id)}"

    # A form problem (no reason): the form comes back with the problem, nothing is sent.
    async with http.post(f"{url}/reject", data={"csrf": csrf, "reason": ""}) as r:
        page = html.unescape(await r.text())
        assert r.status == 400 and 'id="refusal"' in page and "reason" in page, page[:500]
        assert 'id="state">under_review<' in page

    # The approval is sent without per-line fields: approved, and the page shows it.
    async with http.post(f"{url}/approve", data={"csrf": csrf, "note": "fine"}) as r:
        page = html.unescape(await r.text())
        assert r.status == 200 and "approve: approved" in page, page[:500]
    status = await stack.in_state(return_id, "awaiting_shipment")
    assert [a.actor for a in status.audit if a.action == "approved"] == ["sam"]

    # A rejection of the approved return: the validator refuses; the refusal is shown in the form
    # with what was typed and the status read after it, and nothing changed.
    async with http.post(f"{url}/reject", data={"csrf": csrf, "reason": "worn: the clasp"}) as r:
        page = html.unescape(await r.text())
        assert r.status == 409 and 'id="refusal"' in page and "cannot reject" in page, page[:500]
        assert "worn: the clasp" in page
    after = await stack.status(return_id)
    assert after.state == status.state and not any(a.action == "rejected" for a in after.audit)


async def test_a_return_of_a_merchant_not_seen_is_not_found_without_the_status(console):
    stack, http, base, csrf = console
    other = await stack.start_return(two_line_request(f"S{uuid.uuid4().hex[:8].upper()}")
                                     .model_copy(update={"merchant_id": "opalook"}))
    await stack.in_state(other, "under_review")
    async with http.post(f"{base}/returns/{stack.workflow_id(other)}/approve",
                         data={"csrf": csrf}) as r:
        assert r.status == 404
    assert (await stack.status(other)).state == "under_review"


async def test_a_return_seen_by_someone_else_is_still_not_found_by_a_person_of_another_merchant(
        tmp_path, temporal_cli_path: Path):
    """The console remembers each return's run and merchant once checked (console/known_runs.py),
    for all its sessions; whether the person may see that merchant is asked on every request.
    An admin opens an Opalook return (remembered); then a reviewer of fine-jewelry only can
    neither read it nor act on it, and the approval she tries changes nothing."""
    accounts = Accounts.in_data_dir(tmp_path)
    accounts.add("ada", PASSWORD, "admin", ["*"])
    accounts.add("sam", PASSWORD, "reviewer", ["fine-jewelry"])
    async with running_stack(tmp_path, temporal_cli_path) as stack, \
            console_site(stack, accounts) as (console, base):
        other = await stack.start_return(two_line_request(f"S{uuid.uuid4().hex[:8].upper()}")
                                         .model_copy(update={"merchant_id": "opalook"}))
        await stack.in_state(other, "under_review")
        url = f"{base}/returns/{stack.workflow_id(other)}"
        ada, _ = await signed_in(base, "ada", PASSWORD)
        sam, sam_csrf = await signed_in(base, "sam", PASSWORD)
        try:
            async with ada.get(url) as r:
                assert r.status == 200, await r.text()
            known = console.known_runs.get(stack.workflow_id(other))
            assert known is not None and known.merchant_id == "opalook"
            async with sam.get(url) as r:
                assert r.status == 404
            async with sam.post(f"{url}/approve", data={"csrf": sam_csrf}) as r:
                assert r.status == 404
            assert (await stack.status(other)).state == "under_review"
        finally:
            await ada.close()
            await sam.close()
    accounts.close()
