"""The compute_deadline activity with the real `holidays` data."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.contracts import DeadlineRequest
from activities.deadlines import compute_deadline
from returns.policy.decision import Calendar, DayUnit, Duration

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def end(y: int, m: int, d: int, tz: ZoneInfo) -> datetime:
    return datetime(y, m, d, 23, 59, 59, tzinfo=tz).astimezone(UTC)


async def run(start: datetime, amount: int, unit: DayUnit, calendar: Calendar,
              backwards: bool = False) -> datetime:
    req = DeadlineRequest(start=start, duration=Duration(amount=amount, unit=unit),
                          calendar=calendar, backwards=backwards)
    return await ActivityEnvironment().run(compute_deadline, req)


FR = Calendar(country="FR", timezone="Europe/Paris")
CN = Calendar(country="CN", timezone="Asia/Shanghai")


async def test_review_due_two_business_days_later_skipping_bastille_day():
    due = await run(datetime(2026, 7, 10, 18, tzinfo=PARIS), 2, DayUnit.business_days, FR)
    assert due == end(2026, 7, 15, PARIS)
    assert due.tzinfo == UTC


async def test_golden_week_is_skipped():
    due = await run(datetime(2025, 9, 30, 10, tzinfo=SHANGHAI), 1, DayUnit.business_days, CN)
    assert due == end(2025, 10, 9, SHANGHAI)


async def test_china_adjusted_working_weekend_days_count():
    # Sunday 28 Sept 2025 and Saturday 11 Oct 2025 were official working days.
    assert await run(datetime(2025, 9, 26, 17, tzinfo=SHANGHAI), 1, DayUnit.business_days, CN) \
        == end(2025, 9, 28, SHANGHAI)
    assert await run(datetime(2025, 10, 9, 9, tzinfo=SHANGHAI), 2, DayUnit.business_days, CN) \
        == end(2025, 10, 11, SHANGHAI)


async def test_year_boundary_loads_next_years_holidays():
    # Wed 31 Dec 2025 + 2: Thu 1 Jan is New Year's Day, Fri 2 (1), Mon 5 (2).
    assert await run(datetime(2025, 12, 31, 11, tzinfo=PARIS), 2, DayUnit.business_days, FR) \
        == end(2026, 1, 5, PARIS)
    # Thu 31 Dec 2026 + 1: Fri 1 Jan 2027 is New Year's Day, so Monday 4 January.
    assert await run(datetime(2026, 12, 31, 11, tzinfo=PARIS), 1, DayUnit.business_days, FR) \
        == end(2027, 1, 4, PARIS)


async def test_subdivision_holidays():
    monday = datetime(2026, 1, 5, 9, tzinfo=BERLIN)  # Epiphany (6 Jan) is a holiday in Bavaria only
    bavaria = Calendar(country="DE", subdivision="BY", timezone="Europe/Berlin")
    berlin = Calendar(country="DE", subdivision="BE", timezone="Europe/Berlin")
    assert await run(monday, 1, DayUnit.business_days, bavaria) == end(2026, 1, 7, BERLIN)
    assert await run(monday, 1, DayUnit.business_days, berlin) == end(2026, 1, 6, BERLIN)


async def test_backwards_reminder_before_a_deadline():
    deadline = end(2026, 7, 15, PARIS)
    assert await run(deadline, 1, DayUnit.business_days, FR, backwards=True) == \
        end(2026, 7, 13, PARIS)
    assert await run(deadline, 24, DayUnit.hours, FR, backwards=True) == \
        datetime(2026, 7, 14, 21, 59, 59, tzinfo=UTC)


async def test_calendar_days_ignore_holidays():
    assert await run(datetime(2026, 6, 29, 15, tzinfo=PARIS), 15, DayUnit.calendar_days, FR) == \
        end(2026, 7, 14, PARIS)


@pytest.mark.parametrize("calendar, field", [
    (Calendar(country="XX", timezone="UTC"), "calendar.country"),
    (Calendar(country="FR", subdivision="ZZ", timezone="Europe/Paris"), "calendar.subdivision"),
    (Calendar(country="FR", timezone="Europe/Atlantis"), "calendar.timezone"),
])
async def test_unknown_calendar_is_not_retryable(calendar, field):
    with pytest.raises(ApplicationError) as info:
        await run(datetime(2026, 1, 5, 9, tzinfo=UTC), 1, DayUnit.business_days, calendar)
    assert info.value.type == "UnknownCalendar"
    assert info.value.non_retryable
    assert field in str(info.value)


async def test_naive_start_is_not_retryable():
    with pytest.raises(ApplicationError) as info:
        await run(datetime(2026, 1, 5, 9), 1, DayUnit.business_days, FR)
    assert info.value.non_retryable
    assert "start" in str(info.value)
