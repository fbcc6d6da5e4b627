"""A customer uploads a photo on their return page, in a real browser (Debian's chromium driven by
Playwright, JavaScript off, a phone-sized screen) against the real page server, a real worker,
the Temporal dev server and a local evidence store:

- picks a file that is not a photo and is told in French which field to fix;
- uploads a photo carrying a GPS position: the page lists it ("L’article (photo)"), the return
  records it once, and the stored photo has no location.

Screenshots go to the test's tmp directory, and with UPDATE_SCREENSHOTS=1 to docs/img/
(docs/customer-page.md), each under 200 KB.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import expect

from evidence import files
from evidence.store import LocalEvidenceStore
from tests.browser.test_customer_page import PHONE, customer_site, link
from tests.browser.test_operate_in_the_ui import chromium  # noqa: F401
from tests.uploads.media import photo

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(scope="module")
async def site(tmp_path_factory, temporal_cli_path: Path, chromium: Path):  # noqa: F811
    tmp_path = tmp_path_factory.mktemp("uploads")
    store = LocalEvidenceStore(tmp_path / "evidence")
    async with customer_site(tmp_path, temporal_cli_path, chromium, store) as found:
        yield (*found, store, tmp_path)


async def test_a_photo_uploaded_in_french_on_a_phone_without_javascript(site):
    stack, page, shots, base, store, tmp_path = site
    return_id = await stack.start_return()
    await stack.in_state(return_id, "under_review")  # before approval
    await page.goto(link(stack, base, return_id, "fr"))
    section = page.locator("#evidence")
    await expect(section.locator("h2")).to_have_text("Photos et vidéos")

    not_a_photo = tmp_path / "photo.jpg"
    not_a_photo.write_bytes(b"%PDF-1.7\n" + b"x" * 5000)
    await page.get_by_label("Photo ou vidéo").set_input_files(str(not_a_photo))
    await page.get_by_role("button", name="Joindre le fichier").click()
    await expect(page.locator("#refusal")).to_contain_text(
        "Photo ou vidéo : ce fichier n’est ni une photo")
    await shots.take(page, "customer-page-upload-refused-fr.png")
    assert (await stack.status(return_id)).evidence == []

    with_gps = tmp_path / "IMG_0001.jpg"
    with_gps.write_bytes(photo(noise=True, size=(640, 480)))
    assert files.has_location(with_gps.read_bytes())
    await page.get_by_label("Ce qu’elle montre").select_option(label="L’article")
    await page.get_by_label("Photo ou vidéo").set_input_files(str(with_gps))
    await page.get_by_role("button", name="Joindre le fichier").click()
    await expect(page.locator("#evidence")).to_contain_text("Ce que vous avez envoyé")
    await expect(page.locator("#evidence li")).to_contain_text("L’article (photo)")
    assert await page.locator("#refusal").count() == 0
    width = await page.locator("main").evaluate("e => e.scrollWidth")
    assert width <= PHONE["width"], width
    await shots.take(page.locator("#evidence"), "customer-page-upload-fr.png")

    [recorded] = (await stack.status(return_id)).evidence
    assert recorded.content_type == "image/jpeg" and recorded.kind == "photos"
    assert not files.has_location(await store.get(recorded.key))
