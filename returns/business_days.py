"""When a time limit ends: a start instant plus a policy `Duration`, on the merchant's calendar.

Pure (no Temporal, no holiday data): the caller passes `is_holiday`, so the same function serves
the workflow's tests with a fixed set of dates and the `compute_deadline` activity with the
`holidays` package.

Semantics of `add_duration(start, duration, calendar, is_holiday, backwards=False)`:

- ``hours``: exactly ``start ± N hours`` of elapsed time. A DST change does not move it: 24 hours
  across the spring change in Paris ends at 01:00 local the next day, not at midnight.
- ``calendar_days``: the END of the Nth calendar day after (``backwards``: before) the local date
  of ``start``, local meaning ``calendar.timezone``. Holidays and weekends do not extend it — 004
  §2 note: "the timeframe ... does not extend on holidays". "15 calendar days from signature" for
  a parcel signed on 1 March ends on 16 March at 23:59:59 local.
- ``business_days``: the END of the Nth business day after (``backwards``: before) the local date
  of ``start``. A business day is Monday to Friday and not ``is_holiday``; ``is_extra_workday``
  optionally names weekend days that are official working days (China's adjusted working
  Saturdays and Sundays around Golden Week and Spring Festival). The start day itself is never
  counted: an application on Friday evening reviewed "within 2 business days" is due Tuesday.
- ``N = 0`` (any unit but hours): the end of the start day itself.
- "End of a day" is 23:59:59 local wall time: the last whole second before the next local day
  begins, which stays right on days that are 23 or 25 hours long.

The result is always a timezone-aware UTC datetime (what the workflow sleeps until and records).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from returns.policy.decision import Calendar, DayUnit, Duration

_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)


def add_duration(
    start: datetime,
    duration: Duration,
    calendar: Calendar,
    is_holiday: Callable[[date], bool],
    backwards: bool = False,
    *,
    is_extra_workday: Callable[[date], bool] | None = None,
) -> datetime:
    """The instant (UTC) at which `duration` counted from `start` on `calendar` runs out.

    See the module docstring for the exact meaning of each unit. Raises ValueError naming the
    field when `start` is naive or `calendar.timezone` is unknown.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start: must be timezone-aware, got naive {start.isoformat()}")
    step = -1 if backwards else 1
    n = duration.amount

    if duration.unit == DayUnit.hours:
        # Arithmetic on UTC, not on local wall time: hours are elapsed time.
        return start.astimezone(timezone.utc) + step * timedelta(hours=n)

    tz = zone(calendar.timezone)
    day = start.astimezone(tz).date()

    if duration.unit == DayUnit.calendar_days:
        return end_of_day(day + step * n * _ONE_DAY, tz)

    if duration.unit == DayUnit.business_days:
        def is_business_day(d: date) -> bool:
            if is_holiday(d):
                return False
            if d.weekday() < 5:
                return True
            return is_extra_workday is not None and is_extra_workday(d)

        for _ in range(n):
            day += step * _ONE_DAY
            while not is_business_day(day):
                day += step * _ONE_DAY
        return end_of_day(day, tz)

    raise ValueError(f"duration.unit: unsupported unit {duration.unit!r}")  # pragma: no cover


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ValueError naming `calendar.timezone` when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"calendar.timezone: unknown IANA time zone {name!r}") from None


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) whose local date in `tz` is `day`.

    Local midnight can be repeated (clocks go back at 01:00) or skipped (clocks go forward at
    00:00, as in Chile); of its two readings keep those that really fall on `day`, take the
    earliest, and when midnight was skipped find the instant the clocks jumped. A day that does
    not exist at all (Samoa skipped 30 December 2011) "starts" when the calendar jumped over it.
    """
    r0, r1 = (
        datetime.combine(day, time(0), tzinfo=tz).replace(fold=fold).astimezone(timezone.utc)
        for fold in (0, 1)
    )

    def on_day(instant: datetime) -> bool:
        return instant.astimezone(tz).date() == day

    candidates = [r for r in (r0, r1) if on_day(r)]
    if not candidates:
        return r0
    first = min(candidates)
    earlier = min(r0, r1)
    if first.astimezone(tz).time() != time(0) and not on_day(earlier):
        # Midnight fell in a gap: the day began at the jump, between the two readings.
        lo, hi = earlier, first  # lo is before the day, hi is on it
        while hi - lo > _ONE_SECOND:
            mid = lo + (hi - lo) / 2
            mid = mid.replace(microsecond=0)
            if on_day(mid):
                hi = mid
            else:
                lo = mid
        first = hi
    return first


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """23:59:59 local on `day` in `tz`, as UTC: one second before the next local day starts."""
    return start_of_day(day + _ONE_DAY, tz) - _ONE_SECOND


__all__ = ["add_duration", "end_of_day", "start_of_day", "zone"]
