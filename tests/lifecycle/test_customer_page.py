"""The customer page against the real workflow and worker (time-skipping server): the page in
three languages, one return's link refused on another, and the customer's tracking number and
withdrawal sent through the page's forms (CSRF cookie and token as a browser sends them)."""

from __future__ import annotations

import re
from datetime import timedelta
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web

from customer_page.links import CustomerLinks
from customer_page.server import CSRF_COOKIE, CustomerPages
from returns.status import ReturnState
from samples.events import return_requested
from tests.lifecycle.test_paths import approve as approve_now, settled, status, wait_state

S = ReturnState
LINKS = CustomerLinks(("k" * 40,), "http://127.0.0.1")


@asynccontextmanager
async def page_server(harness, registry):
    runner = web.AppRunner(CustomerPages(harness.client, LINKS, registry).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as session:
        yield session
    await runner.cleanup()


def page_path(event, merchant_id=None, return_id=None) -> str:
    token = LINKS.token(event.merchant_id, event.return_id)
    return LINKS.path(merchant_id or event.merchant_id, return_id or event.return_id, token)


async def approve(handle):
    await settled(handle)  # under review, the review request sent
    return await approve_now(handle)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


async def test_the_page_shows_the_return_in_the_customers_language(harness, registry):
    event = return_requested()
    handle = await harness.start(event)
    await approve(handle)
    async with page_server(harness, registry) as http:
        path = page_path(event)
        pages = {}
        for lang in ("en", "fr", "zh"):
            async with http.get(f"{path}?lang={lang}") as r:
                assert r.status == 200
                assert r.headers["Referrer-Policy"] == "no-referrer"
                pages[lang] = await r.text()
        assert "Send the parcel by tracked post by" in pages["en"]
        assert "Return address" in pages["en"]
        assert "Adresse de retour" in pages["fr"] and "au plus tard le" in pages["fr"]
        assert "退货地址" in pages["zh"] and "年" in pages["zh"]
        assert "<h2>Items</h2>" in pages["en"] and "<h2>Articles</h2>" in pages["fr"]
        for html in pages.values():
            assert "built-in method" not in html
            assert "§" not in html, html  # no rule codes (the address is the policy file's, issue 16 §4)
        async with http.get(f"{path}/label") as r:
            assert r.status == 200 and r.headers["Content-Type"] in (
                "application/pdf", "image/png")


async def test_one_returns_link_neither_reads_nor_acts_on_another(harness, registry):
    a, b = return_requested(), return_requested()
    handle_a, handle_b = await harness.start(a), await harness.start(b)
    await approve(handle_a)
    await approve(handle_b)
    async with page_server(harness, registry) as http:
        a_on_b = page_path(a, return_id=b.return_id)
        async with http.get(f"{a_on_b}?lang=fr") as r:
            assert r.status == 403
            text = await r.text()
            assert "Ce lien n’est pas valide" in text and b.order.order_id not in text
        async with http.get(page_path(a)) as r:  # a real form token, from A's page
            csrf = csrf_of(await r.text())
        async with http.post(f"{a_on_b}/tracking", data={
                "csrf": csrf, "carrier": "DHL", "tracking_number": "JD0001"},
                allow_redirects=False) as r:
            assert r.status == 403
        async with http.post(f"{a_on_b}/withdraw", data={"csrf": csrf},
                             allow_redirects=False) as r:
            assert r.status == 403
        expired = LINKS.path(a.merchant_id, a.return_id,
                             LINKS.token(a.merchant_id, a.return_id, expires=1))
        async with http.get(expired) as r:
            assert r.status == 410
    assert (await status(handle_b)).state == S.awaiting_shipment
    assert (await status(handle_a)).state == S.awaiting_shipment


async def test_the_customer_gives_the_tracking_number_and_the_return_is_in_transit(harness,
                                                                                 registry):
    event = return_requested()
    handle = await harness.start(event)
    await approve(handle)
    async with page_server(harness, registry) as http:
        path = page_path(event)
        async with http.get(f"{path}?lang=fr") as r:
            csrf = csrf_of(await r.text())
        # No CSRF token: refused, nothing sent.
        async with http.post(f"{path}/tracking?lang=fr", data={
                "carrier": "DHL", "tracking_number": "JD0001"}) as r:
            assert r.status == 403 and "Ce formulaire a expiré" in await r.text()
        # A bad tracking number: refused in French, with what to fix; the entry is kept.
        async with http.post(f"{path}/tracking?lang=fr", data={
                "csrf": csrf, "carrier": "DHL", "tracking_number": "#!"}) as r:
            assert r.status == 400 and "Vérifiez le numéro de suivi" in await r.text()
        assert (await status(handle)).state == S.awaiting_shipment
        async with http.post(f"{path}/tracking?lang=fr", data={
                "csrf": csrf, "carrier": "Colissimo", "tracking_number": "6a 123 456 789"}) as r:
            assert r.status == 200  # after the 303 back to the page
            html = await r.text()
            assert "COLISSIMO" in html.upper() and "6A123456789" in html
        st = await wait_state(handle, S.in_transit)
        assert any(e.action == "parcel picked_up" and "6A123456789" in e.detail for e in st.audit)
        # It counts as shipped: the ship-by deadline is met, and passing it expires nothing.
        [ship_by] = [d for d in st.deadlines if d.kind == "ship_by"]
        assert ship_by.met and not ship_by.breached
        await harness.sleep(handle, ship_by.due_at - st.requested_at + timedelta(days=1))
        assert (await status(handle)).state == S.in_transit
        # Given again once in transit: refused, and the customer is told why.
        async with http.post(f"{path}/tracking?lang=fr", data={
                "csrf": csrf, "carrier": "DHL", "tracking_number": "JD0001"}) as r:
            assert r.status == 409 and "jusqu’à la réception du colis" in await r.text()


async def test_the_customer_withdraws_before_the_parcel_is_in(harness, registry):
    event = return_requested()
    handle = await harness.start(event)
    await approve(handle)
    async with page_server(harness, registry) as http:
        path = page_path(event)
        async with http.get(f"{path}?lang=zh") as r:
            csrf = csrf_of(await r.text())
        async with http.post(f"{path}/withdraw?lang=zh", data={"csrf": csrf}) as r:
            assert r.status == 200 and "您的退货已撤回" in await r.text()
    assert (await wait_state(handle, S.withdrawn)).state == S.withdrawn
