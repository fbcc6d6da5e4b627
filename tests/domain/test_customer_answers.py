"""The customer in the loop, pure: when an answer to staff's question is taken, how the review
clock resumes, the parcel's tracking numbers by source, and what staff read on the status card."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from returns.customer_answers import (
    NO_QUESTION, QUESTION_CHANGED, REFUSALS, REVIEW_OVER, AnswerQuestion, CustomerAnswer,
    OpenQuestion, answer_refusal, resume_review,
)
from returns.events import ParcelScanned, ScanKind
from returns.status import Deadline, DeadlineKind, ReturnState, ReturnStatus
from returns.status_card import render_status_card
from returns.tracking import CUSTOMER_EVENT_PREFIX, source_of, with_scan

AT = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)
QUESTION = OpenQuestion(number=2, question="Is the clasp broken or bent?", asked_at=AT,
                        asked_by="sam")


def scan(event_id: str, number: str = "JD0001", kind: ScanKind = ScanKind.picked_up):
    return ParcelScanned(event_id=event_id, occurred_at=AT, return_id="R-1", merchant_id="m",
                         carrier="DHL", tracking_number=number, scan=kind)


def test_an_answer_is_taken_only_for_the_open_question_while_under_review():
    answer = AnswerQuestion(question_number=2, answer="Bent, since the first day.")
    assert answer_refusal(True, QUESTION, answer) is None
    assert answer_refusal(False, QUESTION, answer) is REVIEW_OVER
    assert answer_refusal(True, None, answer) is NO_QUESTION
    older = AnswerQuestion(question_number=1, answer="Broken.")
    assert answer_refusal(True, QUESTION, older) is QUESTION_CHANGED


def test_refusals_are_written_for_the_customer_and_carry_a_code_the_page_translates():
    from customer_page import words

    for code, refusal in REFUSALS.items():
        assert refusal.code == code
        for staff_word in ("under_review", "request_info", "validator", "§", "staff"):
            assert staff_word not in refusal.message
        for language in words.LANGUAGES:
            assert words.WORDS[language][f"answer_refused_{code}"]


def test_the_answer_is_strict_and_names_the_bad_field():
    with pytest.raises(ValidationError, match="answer"):
        AnswerQuestion(question_number=1, answer="   ")
    with pytest.raises(ValidationError, match="answer"):
        AnswerQuestion(question_number=1, answer="x" * 2001)
    with pytest.raises(ValidationError, match="question_number"):
        AnswerQuestion(question_number="1", answer="yes")  # strict: "1" is not 1
    with pytest.raises(ValidationError, match="extra"):
        AnswerQuestion(question_number=1, answer="yes", actor="customer")
    assert AnswerQuestion(question_number=1, answer="  yes \n").answer == "yes"


def test_the_review_clock_resumes_with_the_time_it_waited():
    due = AT + timedelta(days=2)
    new_due, note = resume_review(due, AT, AT + timedelta(days=3, hours=4))
    assert new_due == due + timedelta(days=3, hours=4)
    assert note == "+3 days 4 h while the customer's answer was awaited"
    assert resume_review(due, AT, AT + timedelta(hours=5, minutes=59)) == (
        due + timedelta(hours=5), "+5 h while the customer's answer was awaited")
    assert resume_review(due, AT, AT + timedelta(minutes=20)) == (
        due, "answered within the hour: the date stays")
    assert resume_review(due, AT, AT - timedelta(hours=1))[0] == due  # never earlier


def test_tracking_numbers_are_listed_once_per_source_with_the_last_scan():
    customer = scan(f"{CUSTOMER_EVENT_PREFIX}abc", "jd0001")
    assert source_of(customer) == "customer" and source_of(scan("evt-9")) == "carrier"
    numbers = with_scan([], customer, AT)
    numbers = with_scan(numbers, scan("evt-1"), AT + timedelta(hours=1))
    numbers = with_scan(numbers, scan("evt-2", kind=ScanKind.in_transit), AT + timedelta(hours=2))
    assert [(n.tracking_number, n.source, n.scan) for n in numbers] == [
        ("JD0001", "customer", "picked_up"), ("JD0001", "carrier", "in_transit")]
    assert numbers[1].at == AT + timedelta(hours=1)  # first heard of


def test_the_status_card_shows_the_question_answers_tracking_and_the_paused_review():
    st = ReturnStatus(
        return_id="R-1", merchant_id="m", order_id="O-1", state=ReturnState.under_review,
        currency="EUR", open_question=QUESTION,
        deadlines=[Deadline(kind=DeadlineKind.review, due_at=AT + timedelta(days=2),
                            basis="2 business days", paused_since=AT)],
        customer_answers=[CustomerAnswer(question="Which size?", answer="54, not 52",
                                         answered_at=AT, question_number=1)],
        tracking=with_scan([], scan("evt-1"), AT, before_approval=True))
    card = render_status_card(st)
    assert "**paused**" in card and "waiting for the customer's answer" in card
    assert "### Customer answers" in card
    assert "question 2 (sam, 24 Nov 09:30 UTC): Is the clasp broken or bent? — **not answered yet**" in card
    assert "question 1: Which size?" in card and "answer (24 Nov 09:30 UTC): 54, not 52" in card
    assert "### Tracking numbers" in card
    assert "DHL JD0001 (carrier, picked up, scanned before approval)" in card
    # Once the review is over, an unanswered question leaves the card; the answers stay.
    approved = render_status_card(st.model_copy(update={"state": ReturnState.approved}))
    assert "not answered yet" not in approved and "54, not 52" in approved


def test_a_paused_review_is_not_the_next_deadline_staff_filter_on():
    from workflows import search_attributes as sa

    st = ReturnStatus(
        return_id="R-1", merchant_id="m", order_id="O-1", state=ReturnState.under_review,
        currency="EUR", deadlines=[Deadline(kind=DeadlineKind.review, due_at=AT, basis="2 days",
                                            paused_since=AT)])
    updates = {u.key.name: u.value for u in sa.for_status(st, None)}
    assert updates["NextDeadline"] is None and updates["NextDeadlineKind"] is None
