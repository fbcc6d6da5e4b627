"""`compute_deadline`: when a policy time limit runs out, on the merchant's holiday calendar.

An activity, not workflow code, because the holiday data ships with the `holidays` package and
changes between releases (governments announce China's adjusted working days each November).
The result is recorded in the workflow history, so a replay after an upgrade keeps the deadline
the customer was told. The arithmetic itself is `returns.business_days.add_duration`.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.contracts import COMPUTE_DEADLINE, DeadlineRequest
from returns.business_days import add_duration, zone
from returns.policy.decision import Calendar
from runtime.logging import get_logger

log = get_logger(__name__)

UNKNOWN_CALENDAR = "UnknownCalendar"  # ApplicationError type: fix the policy file, do not retry


def holiday_calendar(calendar: Calendar, around: int):
    """The public holidays of `calendar`'s country (and subdivision), loaded around year `around`.

    The object loads further years on demand, so deadlines that cross a year boundary work.
    Raises ApplicationError(type="UnknownCalendar", non_retryable) for an unknown country or
    subdivision: retrying cannot help, the merchant's policy file must be fixed.
    """
    try:
        return _country_holidays(calendar.country, calendar.subdivision, around)
    except NotImplementedError as e:
        where = f"{calendar.country}" + (f"/{calendar.subdivision}" if calendar.subdivision else "")
        field = "calendar.subdivision" if calendar.subdivision and "subdivision" in str(e) else \
            "calendar.country"
        raise ApplicationError(f"{field}: no holiday calendar for {where} ({e})",
                               type=UNKNOWN_CALENDAR, non_retryable=True) from None


@functools.lru_cache(maxsize=64)
def _country_holidays(country: str, subdivision: str | None, around: int):
    """Built once per worker process and calendar: building one costs up to ~10 ms (the US
    calendar) and every return computes five or six deadlines. The holiday data is that of the
    installed `holidays` package, fixed for the life of the process."""
    import holidays

    return holidays.country_holidays(country, subdiv=subdivision, years=range(around - 1, around + 3))


@activity.defn(name=COMPUTE_DEADLINE)
async def compute_deadline(req: DeadlineRequest) -> datetime:
    """The UTC instant at which `req.duration` counted from `req.start` runs out."""
    try:
        zone(req.calendar.timezone)
    except ValueError as e:
        raise ApplicationError(str(e), type=UNKNOWN_CALENDAR, non_retryable=True) from None
    if req.start.tzinfo is None:
        raise ApplicationError(f"start: must be timezone-aware, got {req.start.isoformat()}",
                               type="InvalidDeadlineRequest", non_retryable=True)

    public_holidays = holiday_calendar(req.calendar, req.start.year)

    def is_holiday(d: date) -> bool:
        return d in public_holidays

    def is_extra_workday(d: date) -> bool:
        # Checking membership first makes the calendar load d's year, and with it that year's
        # official weekend working days (only some countries have them, e.g. CN).
        _ = d in public_holidays
        return d in getattr(public_holidays, "weekend_workdays", ())

    deadline = add_duration(req.start, req.duration, req.calendar, is_holiday, req.backwards,
                            is_extra_workday=is_extra_workday)
    log.info("deadline computed", duration=req.duration.describe(), backwards=req.backwards,
             country=req.calendar.country, deadline=deadline.isoformat())
    return deadline
