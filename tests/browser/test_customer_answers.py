"""A customer answers staff's question on their return page, in a real browser (Debian's
chromium driven by Playwright, JavaScript off, a phone-sized screen) against the real page
server, a real worker and the Temporal dev server:

- in French: staff ask with `request_info`; the page shows the question; an empty answer is
  refused in French, then the answer is sent and the page lists it; the return holds it and the
  review goes on (waiting on staff again);
- in Chinese: the same, then staff approve while a newer question is open, and the late answer
  is refused in Chinese (the workflow's validator refuses; the page translates its code).

Screenshots go to the test's tmp directory, and with UPDATE_SCREENSHOTS=1 to docs/img/
(docs/customer-page.md), each under 200 KB.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import expect

from tests.browser.test_customer_page import PHONE, customer_site, link
from tests.browser.test_operate_in_the_ui import chromium  # noqa: F401
from workflows import names

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(scope="module")
async def site(tmp_path_factory, temporal_cli_path: Path, chromium: Path):  # noqa: F811
    async with customer_site(tmp_path_factory.mktemp("answers"), temporal_cli_path,
                             chromium) as found:
        yield found


async def asked(stack, question: str) -> str:
    """A return under review, and staff's question to its customer (request_info)."""
    return_id = await stack.start_return()
    await stack.in_state(return_id, "under_review")
    await stack.handle(return_id).execute_update(
        names.UPDATE_REQUEST_INFO, {"actor": "sam", "question": question})
    return return_id


async def phone_width_ok(page) -> None:
    width = await page.locator("main").evaluate("e => e.scrollWidth")
    assert width <= PHONE["width"], width


async def test_the_customer_answers_in_french(site):
    stack, page, shots, base = site
    return_id = await asked(stack, "Le fermoir est-il cassé ou tordu ? Depuis quand ?")
    await page.goto(link(stack, base, return_id, "fr"))
    await expect(page.locator("#question h2")).to_have_text("Notre question")
    await expect(page.locator("#question .question")).to_have_text(
        "Le fermoir est-il cassé ou tordu ? Depuis quand ?")
    await expect(page.locator("#next")).to_contain_text("Nous avons une question pour vous")
    await phone_width_ok(page)
    await shots.take_tall(page, page.locator("main"), "customer-answer-question-fr.png")

    # Spaces only: the browser sends it (no JavaScript; `required` is satisfied), the page
    # refuses it in French and nothing reaches the return.
    await page.get_by_label("Votre réponse").fill("   ")
    await page.get_by_role("button", name="Envoyer").first.click()
    await expect(page.locator("#refusal")).to_contain_text("Écrivez votre réponse")
    assert (await stack.status(return_id)).customer_answers == []

    await page.get_by_label("Votre réponse").fill("Tordu, depuis la livraison du 2 décembre.")
    await page.get_by_role("button", name="Envoyer").first.click()
    await expect(page.locator("#answers h2")).to_have_text("Vos réponses")
    await expect(page.locator("#answers")).to_contain_text("Tordu, depuis la livraison")
    await expect(page.locator("#question")).to_have_count(0)
    await expect(page.locator("#next")).to_contain_text("Merci pour votre réponse")
    await phone_width_ok(page)
    await shots.take_tall(page, page.locator("main"), "customer-answer-sent-fr.png")
    st = await stack.status(return_id)
    assert [a.answer for a in st.customer_answers] == ["Tordu, depuis la livraison du 2 décembre."]
    assert st.state == "under_review" and st.waiting_on == "staff"


async def test_the_customer_answers_in_chinese_and_a_late_answer_is_refused(site):
    stack, page, shots, base = site
    return_id = await asked(stack, "请问戒指的尺寸是多少？")
    await page.goto(link(stack, base, return_id, "zh"))
    await expect(page.locator("#question h2")).to_have_text("我们的问题")
    await page.get_by_label("您的回答").fill("尺寸 12 号。")
    await page.get_by_role("button", name="提交").first.click()
    await expect(page.locator("#answers")).to_contain_text("尺寸 12 号。")
    await expect(page.locator("#next")).to_contain_text("感谢您的回答")
    await shots.take_tall(page, page.locator("main"), "customer-answer-sent-zh.png")

    # A newer question, open on the page; staff approve before the customer sends the answer.
    handle = stack.handle(return_id)
    await handle.execute_update(names.UPDATE_REQUEST_INFO,
                                {"actor": "sam", "question": "请问是否保留了原包装？"})
    await page.goto(link(stack, base, return_id, "zh"))
    await expect(page.locator("#question .question")).to_have_text("请问是否保留了原包装？")
    await handle.execute_update(names.UPDATE_APPROVE, {"actor": "sam"})
    await stack.in_state(return_id, "awaiting_shipment")
    await page.get_by_label("您的回答").fill("保留了。")
    await page.get_by_role("button", name="提交").first.click()
    await expect(page.locator("#refusal")).to_contain_text("您的退货审核已结束")
    await expect(page.locator("#question")).to_have_count(0)
    assert "The review of your return is over" not in await page.content()
    await phone_width_ok(page)
    await shots.take(page, "customer-answer-refused-zh.png")
    st = await stack.status(return_id)
    assert [a.answer for a in st.customer_answers] == ["尺寸 12 号。"]
