"""The customer's answers to the questions staff ask with `request_info` (issue 16 §3): the open
question, the answer, and when the customer may answer. Pure: no Temporal.

A question is numbered in the order staff asked it; the customer's answer names the number it
answers, so an answer to a question staff have since replaced is refused, not filed under the new
one. The customer may answer while the return is under review and a question is open; afterwards
the answer is refused with a reason written for the customer (`AnswerRefusal`: its `code` is what
the customer page translates, its `message` the English the workflow shows).

The review clock waits while a question is open (docs/policies.md, "The review clock while the
customer owes an answer": 003 §III.1-§III.2, 004 §3.1-§3.2): `resume_review` moves the review's
due date by exactly as long as the question was open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_ANSWER = 2000  # characters: a message, not a document (photos go through evidence uploads)

AnswerText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=MAX_ANSWER)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenQuestion(_Model):
    """The question staff asked last that the customer has not answered yet."""

    number: int  # 1 for the first question asked on this return, then 2, ...
    question: str
    asked_at: datetime
    asked_by: str


class CustomerAnswer(_Model):
    """One answer, with the question it answers (the status card and the staff console list them)."""

    question: str
    answer: str
    answered_at: datetime
    question_number: int = 0
    asked_at: datetime | None = None


class AnswerQuestion(BaseModel):
    """The `answer_question` update: the customer's answer to the open question (sent by the
    customer page). One JSON object, strict: {question_number, answer}."""

    model_config = ConfigDict(extra="forbid", strict=True)

    question_number: Annotated[int, Field(ge=1, le=1000)] = Field(
        description="the number of the question answered (the page's form carries it)")
    answer: AnswerText = Field(description=f"the customer's answer, 1 to {MAX_ANSWER} characters")


@dataclass(frozen=True)
class AnswerRefusal:
    code: str  # customer_page.words has "answer_refused_<code>" in every language
    message: str  # English, written for the customer (never staff wording)


REVIEW_OVER = AnswerRefusal(
    "review_over", "The review of your return is over, so there is no question to answer any "
                   "more. If you still want to tell us something, write to the shop.")
NO_QUESTION = AnswerRefusal(
    "no_question", "There is no question waiting for your answer.")
QUESTION_CHANGED = AnswerRefusal(
    "question_changed", "We have asked you a newer question: please reload the page and "
                        "answer that one.")
REFUSALS = {r.code: r for r in (REVIEW_OVER, NO_QUESTION, QUESTION_CHANGED)}


def answer_refusal(reviewing: bool, question: OpenQuestion | None,
                   answer: AnswerQuestion) -> AnswerRefusal | None:
    """Why the customer cannot give this answer now; None when they can.

    `reviewing`: the return is under review and no decision is being applied."""
    if not reviewing:
        return REVIEW_OVER
    if question is None:
        return NO_QUESTION
    if answer.question_number != question.number:
        return QUESTION_CHANGED
    return None


def resume_review(due_at: datetime, paused_since: datetime, now: datetime
                  ) -> tuple[datetime, str]:
    """The review's new due date once the customer answered, and the line the deadline's
    extensions keep: the date moves by the time the question was open, in whole hours (an
    answer within the hour moves nothing, so a date shown to the customer does not creep by
    minutes)."""
    hours = int(max(now - paused_since, timedelta(0)).total_seconds() // 3600)
    if hours == 0:
        return due_at, "answered within the hour: the date stays"
    return (due_at + timedelta(hours=hours),
            f"+{_duration(hours)} while the customer's answer was awaited")


def _duration(hours: int) -> str:
    if hours >= 48:
        return f"{hours // 24} days {hours % 24} h" if hours % 24 else f"{hours // 24} days"
    return f"{hours} h"
