"""The customer answers staff's question on their return page, against the real workflow and
worker (time-skipping server): the question shown in their language, the answer through the
CSRF form reaching the return, an answer after the review refused in their language (the
validator's code, translated by the page), and the tracking number the page sends listed as the
customer's."""

from __future__ import annotations

import re

from returns.status import ReturnState
from samples.events import return_requested
from tests.lifecycle.test_customer_page import csrf_of, page_path, page_server
from tests.lifecycle.test_paths import settled, status, update, wait_state
from workflows import names

S = ReturnState


async def test_the_customer_answers_on_the_page_and_a_late_answer_is_refused(harness, registry):
    event = return_requested()
    handle = await harness.start(event)
    await settled(handle)
    await update(handle, names.UPDATE_REQUEST_INFO,
                 {"actor": "sam", "question": "Le fermoir est-il cassé ou tordu ?"})
    async with page_server(harness, registry) as http:
        path = page_path(event)
        async with http.get(f"{path}?lang=fr") as r:
            html = await r.text()
        assert "Notre question" in html and "Le fermoir est-il cassé ou tordu ?" in html
        assert "Nous avons une question pour vous" in html
        csrf = csrf_of(html)
        number = re.search(r'name="question_number" value="(\d+)"', html)[1]
        # Without the CSRF token: refused, nothing sent.
        async with http.post(f"{path}/answer?lang=fr", data={
                "question_number": number, "answer": "Tordu."}) as r:
            assert r.status == 403
        # Empty: refused in French, nothing sent.
        async with http.post(f"{path}/answer?lang=fr", data={
                "csrf": csrf, "question_number": number, "answer": "   "}) as r:
            assert r.status == 400 and "Écrivez votre réponse" in await r.text()
        assert (await status(handle)).customer_answers == []
        async with http.post(f"{path}/answer?lang=fr", data={
                "csrf": csrf, "question_number": number,
                "answer": "Tordu, depuis la livraison."}) as r:
            assert r.status == 200  # after the 303 back to the page
            html = await r.text()
        assert "Vos réponses" in html and "Tordu, depuis la livraison." in html
        assert "Merci pour votre réponse" in html and 'name="answer"' not in html
        st = await status(handle)
        assert [a.answer for a in st.customer_answers] == ["Tordu, depuis la livraison."]
        assert st.waiting_on.value == "staff"

        # A second question, answered only after staff approved: refused in the page's language.
        await update(handle, names.UPDATE_REQUEST_INFO, {"actor": "sam", "question": "Taille ?"})
        async with http.get(f"{path}?lang=zh") as r:
            html = await r.text()
        assert "我们的问题" in html and "Taille ?" in html
        await update(handle, names.UPDATE_APPROVE, {"actor": "sam"})
        await wait_state(handle, S.awaiting_shipment)
        async with http.post(f"{path}/answer?lang=zh", data={
                "csrf": csrf, "question_number": "2", "answer": "54"}) as r:
            assert r.status == 409
            html = await r.text()
        assert "您的退货审核已结束" in html
        assert "The review of your return is over" not in html  # never the workflow's English
        assert "Taille ?" not in html.split('id="answers"')[0]  # the open question is gone
        assert len((await status(handle)).customer_answers) == 1

        # The tracking number the customer gives here is listed as the customer's.
        async with http.post(f"{path}/tracking?lang=fr", data={
                "csrf": csrf, "carrier": "Colissimo", "tracking_number": "6A123456789"}) as r:
            assert r.status == 200
        st = await wait_state(handle, S.in_transit)
        [given] = st.tracking
        assert (given.carrier, given.tracking_number, given.source) == (
            "Colissimo", "6A123456789", "customer")
        assert any(e.actor == "customer" and e.action == "parcel picked_up" for e in st.audit)


async def test_an_answer_to_a_return_that_has_ended_is_refused_in_the_customers_words(harness,
                                                                                     registry):
    event = return_requested()
    handle = await harness.start(event)
    await settled(handle)
    await update(handle, names.UPDATE_REQUEST_INFO, {"actor": "sam", "question": "Which size?"})
    async with page_server(harness, registry) as http:
        path = page_path(event)
        async with http.get(f"{path}?lang=fr") as r:
            csrf = csrf_of(await r.text())
        await update(handle, names.UPDATE_REJECT, {"actor": "sam", "reason": "worn: scratches"})
        await harness.result(handle)  # the workflow has ended: no update reaches it any more
        async with http.post(f"{path}/answer?lang=fr", data={
                "csrf": csrf, "question_number": "1", "answer": "54"}) as r:
            assert r.status == 409
            assert "L’examen de votre retour est terminé" in await r.text()
