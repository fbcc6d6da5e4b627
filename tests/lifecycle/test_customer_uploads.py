"""The customer's photos and videos through the customer page's HTTP endpoint, against the real
workflow and worker on the Temporal dev server (tests/conftest.py `dev_env`: real time, as the page
runs in production) and a local evidence store: the upload is recorded by
the workflow (hash, type, size, kind, line, key) and shows on the status and the status card;
location is stripped from the stored photo; the same file twice is recorded once; bad files are
refused in the customer's language naming the field, and nothing is recorded; one return's link
cannot upload to another; a finished return takes no more files."""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from contextlib import asynccontextmanager
from dataclasses import replace

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from temporalio.client import WorkflowUpdateFailedError

from customer_page.links import CustomerLinks
from customer_page.server import CustomerPages
from evidence import evidence_bytes, files
from evidence.store import LocalEvidenceStore
from returns.console_link import console_page_url
from returns.evidence import MAX_PHOTO_BYTES
from returns.status import ReturnState
from returns.status_card import render_status_card
from samples.events import item, return_requested
from runtime.settings import Settings
from tests.lifecycle.conftest import Harness
from worker import build_worker
from tests.lifecycle.test_paths import approve as approve_now, settled, status, update, wait_state
from tests.uploads.media import mp4, photo
from workflows import names

S = ReturnState
LINKS = CustomerLinks(("u" * 40,), "http://127.0.0.1")


@asynccontextmanager
async def page_server(harness, registry, store):
    pages = CustomerPages(harness.client, LINKS, registry, evidence_store=store)
    runner = web.AppRunner(pages.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", cookie_jar=jar) as session:
        yield session
    await runner.cleanup()


def page_path(event, return_id=None) -> str:
    return LINKS.path(event.merchant_id, return_id or event.return_id,
                      LINKS.token(event.merchant_id, event.return_id))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def form(csrf: str | None, data: bytes, filename="IMG_0001.jpg", kind="photos",
         line_id: str | None = None) -> aiohttp.FormData:
    """The page's multipart form, fields in the page's order (csrf first, the file last)."""
    f = aiohttp.FormData()
    if csrf is not None:
        f.add_field("csrf", csrf)
    f.add_field("kind", kind)
    if line_id is not None:
        f.add_field("line_id", line_id)
    f.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return f


def without_evidence():
    """A defective ring at fine-jewelry with nothing uploaded: photos and the signature record
    are missing (004 §2.4), so the review is flagged."""
    return return_requested(items=[item(evidence=())])


@pytest_asyncio.fixture
async def harness(dev_env, registry, tmp_path):
    """The lifecycle tests' Harness on the dev server instead of the time-skipping one."""
    settings = replace(Settings.from_env({"RETURNS_DATA_DIR": str(tmp_path / "data")}),
                       task_queue=f"uploads-{uuid.uuid4().hex[:8]}")
    async with build_worker(dev_env.client, settings, registry):
        h = Harness(client=dev_env.client, env=dev_env, settings=settings)
        yield h
        await h.finish()


@pytest.fixture
def store(tmp_path):
    return LocalEvidenceStore(tmp_path / "evidence")


async def test_a_photo_uploaded_under_review_is_recorded_without_its_location(harness, registry,
                                                                            store):
    event = without_evidence()
    handle = await harness.start(event)
    before = await settled(handle)
    assert before.state == S.under_review and before.items[0].evidence_missing
    sent = photo(noise=True, size=(320, 240))
    assert files.has_location(sent)
    async with page_server(harness, registry, store) as http:
        path = page_path(event)
        async with http.get(f"{path}?lang=en") as r:
            html = await r.text()
            assert 'enctype="multipart/form-data"' in html and "please add them below" in html
            csrf = csrf_of(html)
        async with http.post(f"{path}/evidence?lang=en", data=form(csrf, sent, line_id="L1")) as r:
            assert r.status == 200  # after the 303 back to the page
            html = await r.text()
            assert "What you sent" in html and "The item (photo)" in html
        # The same file again (a double submit): recorded once.
        async with http.post(f"{path}/evidence?lang=en", data=form(csrf, sent, line_id="L1")) as r:
            assert r.status == 200
    st = await status(handle)
    [recorded] = st.evidence
    assert (recorded.kind, recorded.line_id, recorded.content_type) == ("photos", "L1",
                                                                        "image/jpeg")
    assert recorded.key == f"{event.merchant_id}/{event.return_id}/{recorded.sha256}"
    stored = await store.get(recorded.key)
    assert hashlib.sha256(stored).hexdigest() == recorded.sha256 and len(stored) == recorded.size
    assert not files.has_location(stored)  # the upload had a GPS position; the stored file not
    assert [a.action for a in st.audit].count("photo uploaded") == 1
    # Staff: the status card lists it with the console's link, next to what was missing.
    card = render_status_card(st, console_page_url("https://console.example", handle.id))
    assert "uploaded after the request: photos (1 file)" in card
    assert (f"https://console.example/returns/{handle.id}/evidence/{recorded.sha256}") in card
    assert await evidence_bytes(store, st, recorded.sha256) == (stored, "image/jpeg")
    # Nothing approved itself: the review is the staff's.
    assert st.state == S.under_review and "approve" in st.next_actions


async def test_bad_files_are_refused_in_the_customers_language_and_nothing_is_recorded(
        harness, registry, store):
    event = without_evidence()
    handle = await harness.start(event)
    await settled(handle)
    async with page_server(harness, registry, store) as http:
        path = page_path(event)
        async with http.get(f"{path}?lang=fr") as r:
            csrf = csrf_of(await r.text())
        async with http.post(f"{path}/evidence?lang=fr",
                             data=form(csrf, b"%PDF-1.7\n" + b"x" * 4000, "photo.jpg")) as r:
            assert r.status == 400
            assert "Photo ou vidéo : ce fichier n’est ni une photo" in await r.text()
        too_big = photo() + b"\x00" * MAX_PHOTO_BYTES
        async with http.post(f"{path}/evidence?lang=fr", data=form(csrf, too_big)) as r:
            assert r.status == 413
            assert "Photo ou vidéo : une photo ne peut pas dépasser 10 Mo" in await r.text()
        async with http.post(f"{path}/evidence?lang=zh", data=form(csrf, b"", "")) as r:
            assert r.status == 400 and "照片或视频：请选择一个文件" in await r.text()
        async with http.post(f"{path}/evidence?lang=fr", data=form(None, photo())) as r:
            assert r.status == 403 and "Ce formulaire a expiré" in await r.text()
        async with http.post(f"{path}/evidence?lang=fr",
                             data=form(csrf, photo(), kind="selfie")) as r:
            assert r.status == 400 and "Ce qu’elle montre : choisissez" in await r.text()
        async with http.post(f"{path}/evidence?lang=fr",
                             data=form(csrf, photo(), line_id="L9")) as r:
            assert r.status == 400 and "Article : choisissez" in await r.text()
    assert (await status(handle)).evidence == []
    assert not store.root.exists() or not any(p.is_file() for p in store.root.rglob("*"))


async def test_one_returns_link_cannot_upload_to_another(harness, registry, store):
    a, b = without_evidence(), without_evidence()
    handle_a, handle_b = await harness.start(a), await harness.start(b)
    await settled(handle_a)
    await settled(handle_b)
    async with page_server(harness, registry, store) as http:
        async with http.get(page_path(a)) as r:
            csrf = csrf_of(await r.text())  # a real form token, from A's page
        async with http.post(f"{page_path(a, return_id=b.return_id)}/evidence",
                             data=form(csrf, photo())) as r:
            assert r.status == 403
    assert (await status(handle_b)).evidence == []
    # And the workflow itself refuses a file stored under another return's key.
    sha = hashlib.sha256(b"x").hexdigest()
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(handle_b, names.UPDATE_RECORD_EVIDENCE, {
            "sha256": sha, "content_type": "image/jpeg", "size": 10, "kind": "photos",
            "key": f"{a.merchant_id}/{a.return_id}/{sha}"})
    assert "is not this return's" in str(refused.value.cause)
    # A payload that does not fit the strict model is refused too, naming the field.
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await update(handle_b, names.UPDATE_RECORD_EVIDENCE, {
            "sha256": sha, "content_type": "image/gif", "size": "10", "kind": "photos",
            "key": f"{b.merchant_id}/{b.return_id}/{sha}"})
    assert "content_type" in str(refused.value.cause) or "content_type" in str(refused.value)
    assert (await status(handle_b)).evidence == []


async def test_videos_after_approval_then_nothing_once_the_return_ended(harness, registry,
                                                                       store):
    event = without_evidence()
    handle = await harness.start(event)
    await settled(handle)
    await approve_now(handle)
    video = mp4(2 * 1024 * 1024)
    async with page_server(harness, registry, store) as http:
        path = page_path(event)
        async with http.get(path) as r:
            csrf = csrf_of(await r.text())
        async with http.post(f"{path}/evidence", data=form(csrf, video, "clip.mp4")) as r:
            assert r.status == 200 and "The item (video)" in await r.text()
        [recorded] = (await status(handle)).evidence
        assert recorded.content_type == "video/mp4" and recorded.size == len(video)
        assert await store.get(recorded.key) == video
        await update(handle, "cancel", {"actor": "sam", "reason": "customer asked by phone"})
        await wait_state(handle, S.cancelled)
        async with http.get(path) as r:
            html = await r.text()
            assert "The item (video)" in html and 'name="file"' not in html
        async with http.post(f"{path}/evidence", data=form(csrf, photo())) as r:
            assert r.status == 409 and "this return is closed" in await r.text()
    assert len((await status(handle)).evidence) == 1


async def test_an_announced_upload_past_100_mb_is_refused_before_its_body_is_read(
        harness, registry, store):
    event = without_evidence()
    handle = await harness.start(event)
    await settled(handle)
    pages = CustomerPages(harness.client, LINKS, registry, evidence_store=store)
    runner = web.AppRunner(pages.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", runner.addresses[0][1])
        writer.write((f"POST {page_path(event)}/evidence?lang=fr HTTP/1.1\r\n"
                      "Host: 127.0.0.1\r\n"
                      "Content-Type: multipart/form-data; boundary=x\r\n"
                      f"Content-Length: {200 * 1024 * 1024}\r\n\r\n--x\r\n").encode())
        await writer.drain()  # 200 MB announced, a few bytes sent: the answer comes anyway
        head = b""
        while b"</html>" not in head:  # the whole refusal page, however it is split
            chunk = await asyncio.wait_for(reader.read(65536), timeout=20)
            if not chunk:
                break
            head += chunk
        writer.close()
    finally:
        await runner.cleanup()
    assert head.startswith(b"HTTP/1.1 413")
    assert "une vidéo ne peut pas dépasser 100 Mo".encode() in head
    assert (await status(handle)).evidence == []


async def test_uploads_are_rate_limited_per_return(harness, registry, store):
    event = without_evidence()
    handle = await harness.start(event)
    await settled(handle)
    async with page_server(harness, registry, store) as http:
        path = page_path(event)
        async with http.get(path) as r:
            csrf = csrf_of(await r.text())
        codes = []
        for n in range(11):
            async with http.post(f"{path}/evidence",
                                 data=form(csrf, photo("PNG", gps=False, color=(n, 0, 0)),
                                           "IMG.png")) as r:
                codes.append(r.status)
    assert codes == [200] * 10 + [429]
    assert len((await status(handle)).evidence) == 10


async def test_staff_download_a_recorded_file_from_the_console_and_nobody_else_does(
        harness, registry, store, tmp_path):
    """The status card's link (`/returns/<id>/evidence/<sha256>` on the staff console) serves the
    stored photo to a signed-in person who may see the return's merchant; a person of another
    merchant gets 404, as does a hash the return never recorded, even when the file is in the
    store (a file of another return)."""
    from console.accounts import Accounts
    from console.server import Console
    from tests.staff_console.test_auth import sign_in

    event = without_evidence()
    handle = await harness.start(event)
    await settled(handle)
    other = return_requested(items=[item(evidence=())])
    await store.put(f"{other.merchant_id}/{other.return_id}/{'cd' * 32}", b"not ours", "image/jpeg")
    sent = photo(noise=True, size=(200, 150))
    async with page_server(harness, registry, store) as http:
        path = page_path(event)
        async with http.get(f"{path}?lang=en") as r:
            csrf = csrf_of(await r.text())
        async with http.post(f"{path}/evidence?lang=en", data=form(csrf, sent, line_id="L1")) as r:
            assert r.status == 200
    recorded = (await status(handle)).evidence[0]
    kept = await store.get(recorded.key)
    assert hashlib.sha256(kept).hexdigest() == recorded.sha256

    accounts = Accounts(tmp_path / "console.sqlite3")
    accounts.add("sam", "correct horse battery", "reviewer", [event.merchant_id])
    accounts.add("olga", "correct horse battery", "admin", ["opalook"])
    console = Console(harness.client, accounts, ui_url="http://127.0.0.1:8233",
                      evidence_store=store)
    runner = web.AppRunner(console.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    workflow_id = handle.id
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            assert (await sign_in(http, base, "correct horse battery", "sam")).status == 303
            async with http.get(f"{base}/returns/{workflow_id}/evidence/{recorded.sha256}") as r:
                assert r.status == 200
                assert await r.read() == kept
                assert r.headers["Content-Type"] == recorded.content_type
                assert r.headers["X-Content-Type-Options"] == "nosniff"
                assert r.headers["Content-Disposition"].startswith("attachment")
            async with http.get(f"{base}/returns/{workflow_id}/evidence/{'cd' * 32}") as r:
                assert r.status == 404
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            assert (await sign_in(http, base, "correct horse battery", "olga")).status == 303
            async with http.get(f"{base}/returns/{workflow_id}/evidence/{recorded.sha256}") as r:
                assert r.status == 404
                assert kept not in await r.read()
    finally:
        await runner.cleanup()


async def test_customer_service_adds_a_photo_the_customer_emailed_from_the_console(
        harness, registry, store, tmp_path):
    """004 §3.1 (a request by email or phone) and 17 §4: the console's return page takes a photo
    the customer sent another way; it goes through the same checks (location stripped) and the
    workflow's record_evidence, and the audit names the staff member. A role that may not take
    requests, and a form without its CSRF token, change nothing."""
    from console.accounts import Accounts
    from console.server import Console
    from tests.staff_console.test_auth import hidden, sign_in

    event = without_evidence()
    handle = await harness.start(event)
    await settled(handle)
    accounts = Accounts(tmp_path / "console.sqlite3")
    accounts.add("sam", "correct horse battery", "reviewer", [event.merchant_id])
    accounts.add("wes", "correct horse battery", "warehouse", [event.merchant_id])
    console = Console(harness.client, accounts, ui_url="http://127.0.0.1:8233",
                      evidence_store=store)
    runner = web.AppRunner(console.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    page = f"{base}/returns/{handle.id}"
    sent = photo(noise=True, size=(200, 150))

    def upload_form(csrf: str | None) -> aiohttp.FormData:
        f = aiohttp.FormData()
        if csrf is not None:
            f.add_field("csrf", csrf)
        f.add_field("kind", "photos")
        f.add_field("line_id", "L1")
        f.add_field("file", sent, filename="from-email.jpg", content_type="image/jpeg")
        return f

    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            assert (await sign_in(http, base, "correct horse battery", "wes")).status == 303
            html = await (await http.get(page)).text()
            assert 'id="form-upload"' not in html
            async with http.post(f"{page}/upload", data=upload_form(hidden(html, "csrf"))) as r:
                assert r.status == 403 and "may not add files" in await r.text()
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            assert (await sign_in(http, base, "correct horse battery", "sam")).status == 303
            html = await (await http.get(page)).text()
            assert 'id="form-upload"' in html and 'enctype="multipart/form-data"' in html
            async with http.post(f"{page}/upload", data=upload_form("forged")) as r:
                assert r.status == 403
            assert (await status(handle)).evidence == []
            async with http.post(f"{page}/upload", data=upload_form(hidden(html, "csrf"))) as r:
                assert r.status == 200 and "photos added for the customer" in await r.text()
        st = await status(handle)
        assert len(st.evidence) == 1 and st.evidence[0].line_id == "L1"
        kept = await store.get(st.evidence[0].key)
        assert not files.has_location(kept)
        entry = next(a for a in st.audit if a.action == "photo uploaded for the customer")
        assert entry.actor == "sam"
    finally:
        await runner.cleanup()


async def test_a_video_uploaded_is_recorded_without_its_location(harness, registry, store):
    """An iPhone-style MOV with its place in ©xyz, loci and Apple's location key, through the
    page: the stored video has none of them, the same length, and the workflow records the
    stored file's hash (evidence/video_location.py, in place, no re-encoding)."""
    from evidence import video_location
    from tests.uploads.media import PARIS_ISO6709, video_with_location

    event = without_evidence()
    handle = await harness.start(event)
    await settled(handle)
    sent = video_with_location(quicktime=True)
    assert video_location.has_location(sent)
    async with page_server(harness, registry, store) as http:
        path = page_path(event)
        async with http.get(f"{path}?lang=fr") as r:
            csrf = csrf_of(await r.text())
        async with http.post(f"{path}/evidence?lang=fr",
                             data=form(csrf, sent, "IMG_0002.MOV", line_id="L1")) as r:
            assert r.status == 200
    [recorded] = (await status(handle)).evidence
    stored = await store.get(recorded.key)
    assert recorded.content_type == "video/quicktime"
    assert len(stored) == len(sent) == recorded.size
    assert hashlib.sha256(stored).hexdigest() == recorded.sha256
    assert PARIS_ISO6709 not in stored and not video_location.has_location(stored)
