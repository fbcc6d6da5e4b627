"""returns.business_days.add_duration: hours, calendar days and business days on a merchant calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from returns.business_days import add_duration, end_of_day, start_of_day
from returns.policy.decision import Calendar, DayUnit, Duration

UTC = timezone.utc
PARIS = ZoneInfo("Europe/Paris")
SHANGHAI = ZoneInfo("Asia/Shanghai")
FR = Calendar(country="FR", timezone="Europe/Paris")
CN = Calendar(country="CN", timezone="Asia/Shanghai")

# French public holidays around the dates used below.
FR_HOLIDAYS = {date(2025, 12, 25), date(2026, 1, 1), date(2026, 4, 6), date(2026, 5, 1),
               date(2026, 5, 8), date(2026, 5, 14), date(2026, 5, 25), date(2026, 7, 14),
               date(2026, 8, 15), date(2026, 11, 1), date(2026, 11, 11), date(2026, 12, 25)}
# China, Golden Week 2025: 1-8 October off; Sunday 28 Sept and Saturday 11 Oct are working days.
CN_HOLIDAYS = {date(2025, 10, d) for d in (1, 2, 3, 6, 7, 8)}
CN_WEEKEND_WORKDAYS = {date(2025, 9, 28), date(2025, 10, 11)}


def fr_holiday(d: date) -> bool:
    return d in FR_HOLIDAYS


def no_holiday(d: date) -> bool:
    return False


def bdays(n: int) -> Duration:
    return Duration(amount=n, unit=DayUnit.business_days)


def cdays(n: int) -> Duration:
    return Duration(amount=n, unit=DayUnit.calendar_days)


def hours(n: int) -> Duration:
    return Duration(amount=n, unit=DayUnit.hours)


def local_end(y: int, m: int, d: int, tz: ZoneInfo) -> datetime:
    """23:59:59 local on y-m-d, as UTC."""
    return datetime(y, m, d, 23, 59, 59, tzinfo=tz).astimezone(UTC)


# --- hours ----------------------------------------------------------------------------------------
def test_hours_are_elapsed_time_across_the_spring_dst_change():
    start = datetime(2026, 3, 28, 12, 0, tzinfo=PARIS)  # Saturday, CET (UTC+1)
    due = add_duration(start, hours(24), FR, fr_holiday)
    assert due == datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    assert due.astimezone(PARIS).hour == 13  # the wall clock moved forward an hour
    assert due.tzinfo is UTC


def test_hours_backwards_and_ignore_weekends_and_holidays():
    deadline = datetime(2026, 7, 14, 21, 59, 59, tzinfo=UTC)  # Bastille Day
    assert add_duration(deadline, hours(48), FR, fr_holiday, backwards=True) == \
        datetime(2026, 7, 12, 21, 59, 59, tzinfo=UTC)


# --- calendar days --------------------------------------------------------------------------------
def test_calendar_days_end_at_the_end_of_the_local_day():
    signed = datetime(2026, 3, 1, 10, 30, tzinfo=PARIS)
    assert add_duration(signed, cdays(15), FR, fr_holiday) == local_end(2026, 3, 16, PARIS)
    assert local_end(2026, 3, 16, PARIS) == datetime(2026, 3, 16, 22, 59, 59, tzinfo=UTC)


def test_calendar_days_across_dst_end_at_local_midnight_in_summer_time():
    signed = datetime(2026, 3, 20, 9, 0, tzinfo=PARIS)
    due = add_duration(signed, cdays(15), FR, fr_holiday)
    assert due == datetime(2026, 4, 4, 21, 59, 59, tzinfo=UTC)  # CEST, UTC+2
    assert due.astimezone(PARIS).time() == time(23, 59, 59)


def test_calendar_days_are_not_extended_by_holidays():
    # 004 §2 note: the timeframe does not extend on holidays. 14 July is a French holiday.
    signed = datetime(2026, 6, 29, 15, 0, tzinfo=PARIS)
    assert add_duration(signed, cdays(15), FR, fr_holiday) == local_end(2026, 7, 14, PARIS)


def test_calendar_days_use_the_merchant_local_date_not_utc():
    # 23:30 UTC on 31 Dec is already 1 January in Shanghai.
    signed = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert add_duration(signed, cdays(1), CN, no_holiday) == local_end(2026, 1, 2, SHANGHAI)
    assert add_duration(signed, cdays(1), Calendar(country="US", timezone="America/New_York"),
                        no_holiday) == local_end(2026, 1, 1, ZoneInfo("America/New_York"))


def test_calendar_days_cross_the_year_boundary_both_ways():
    assert add_duration(datetime(2025, 12, 25, 8, tzinfo=PARIS), cdays(10), FR, fr_holiday) == \
        local_end(2026, 1, 4, PARIS)
    assert add_duration(datetime(2026, 1, 2, 8, tzinfo=PARIS), cdays(3), FR, fr_holiday,
                        backwards=True) == local_end(2025, 12, 30, PARIS)


# --- business days --------------------------------------------------------------------------------
def test_business_days_skip_the_weekend():
    friday = datetime(2026, 6, 5, 18, 0, tzinfo=PARIS)
    assert add_duration(friday, bdays(2), FR, fr_holiday) == local_end(2026, 6, 9, PARIS)  # Tue


def test_business_days_skip_bastille_day():
    friday = datetime(2026, 7, 10, 18, 0, tzinfo=PARIS)
    # Mon 13 (1), Tue 14 July holiday, Wed 15 (2)
    assert add_duration(friday, bdays(2), FR, fr_holiday) == local_end(2026, 7, 15, PARIS)
    assert add_duration(friday, bdays(2), FR, no_holiday) == local_end(2026, 7, 14, PARIS)


def test_business_days_count_from_the_local_date():
    # 22:30 UTC Thursday is 00:30 Friday in Paris: one business day later is Monday, not Friday.
    start = datetime(2026, 7, 9, 22, 30, tzinfo=UTC)
    assert add_duration(start, bdays(1), FR, fr_holiday) == local_end(2026, 7, 13, PARIS)


def test_business_days_over_golden_week():
    tuesday = datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI)
    due = add_duration(tuesday, bdays(1), CN, CN_HOLIDAYS.__contains__)
    assert due == local_end(2025, 10, 9, SHANGHAI)
    assert due == datetime(2025, 10, 9, 15, 59, 59, tzinfo=UTC)
    # 3 business days: Thu 9, Fri 10, and Saturday 11 October is an official working day.
    assert add_duration(tuesday, bdays(3), CN, CN_HOLIDAYS.__contains__,
                        is_extra_workday=CN_WEEKEND_WORKDAYS.__contains__) == \
        local_end(2025, 10, 11, SHANGHAI)
    assert add_duration(tuesday, bdays(3), CN, CN_HOLIDAYS.__contains__) == \
        local_end(2025, 10, 13, SHANGHAI)


def test_adjusted_working_sunday_counts_only_when_given():
    friday = datetime(2025, 9, 26, 17, 0, tzinfo=SHANGHAI)
    assert add_duration(friday, bdays(1), CN, CN_HOLIDAYS.__contains__,
                        is_extra_workday=CN_WEEKEND_WORKDAYS.__contains__) == \
        local_end(2025, 9, 28, SHANGHAI)
    assert add_duration(friday, bdays(1), CN, CN_HOLIDAYS.__contains__) == \
        local_end(2025, 9, 29, SHANGHAI)


def test_a_holiday_on_a_weekend_is_still_not_a_business_day():
    # is_extra_workday never overrides a holiday.
    sunday = date(2025, 9, 28)
    assert add_duration(datetime(2025, 9, 26, 9, tzinfo=SHANGHAI), bdays(1), CN,
                        lambda d: d == sunday, is_extra_workday=lambda d: d == sunday) == \
        local_end(2025, 9, 29, SHANGHAI)


def test_business_days_cross_the_year_boundary():
    new_years_eve = datetime(2025, 12, 31, 11, 0, tzinfo=PARIS)  # Wednesday
    # Thu 1 Jan holiday, Fri 2 (1), Mon 5 (2)
    assert add_duration(new_years_eve, bdays(2), FR, fr_holiday) == local_end(2026, 1, 5, PARIS)


def test_business_days_backwards():
    deadline = local_end(2026, 7, 15, PARIS)  # Wednesday
    # Tue 14 July holiday, Mon 13 (1), Fri 10 (2)
    assert add_duration(deadline, bdays(2), FR, fr_holiday, backwards=True) == \
        local_end(2026, 7, 10, PARIS)
    assert add_duration(datetime(2026, 1, 2, 9, tzinfo=PARIS), bdays(1), FR, fr_holiday,
                        backwards=True) == local_end(2025, 12, 31, PARIS)


def test_business_days_across_the_autumn_dst_change():
    friday = datetime(2026, 10, 23, 12, tzinfo=PARIS)  # clocks go back on Sunday 25 Oct
    due = add_duration(friday, bdays(1), FR, fr_holiday)
    assert due == datetime(2026, 10, 26, 22, 59, 59, tzinfo=UTC)  # CET again, UTC+1


@pytest.mark.parametrize("unit", [DayUnit.business_days, DayUnit.calendar_days])
def test_zero_days_is_the_end_of_the_start_day(unit):
    saturday = datetime(2026, 7, 11, 9, 15, tzinfo=PARIS)
    duration = Duration(amount=0, unit=unit)
    assert add_duration(saturday, duration, FR, fr_holiday) == local_end(2026, 7, 11, PARIS)
    assert add_duration(saturday, duration, FR, fr_holiday, backwards=True) == \
        local_end(2026, 7, 11, PARIS)


def test_zero_hours_is_the_start_itself():
    start = datetime(2026, 7, 11, 9, 15, 42, tzinfo=PARIS)
    assert add_duration(start, hours(0), FR, fr_holiday) == start


# --- days that are not 24 hours long --------------------------------------------------------------
def test_end_of_day_on_23_and_25_hour_days_in_paris():
    spring, autumn = date(2026, 3, 29), date(2026, 10, 25)
    assert end_of_day(spring, PARIS) - start_of_day(spring, PARIS) == \
        timedelta(hours=23) - timedelta(seconds=1)
    assert end_of_day(autumn, PARIS) - start_of_day(autumn, PARIS) == \
        timedelta(hours=25) - timedelta(seconds=1)


def test_midnight_skipped_and_repeated_in_santiago():
    santiago = ZoneInfo("America/Santiago")
    # Saturday 5 Sept 2026 at 24:00 the clocks jump to 01:00: Sunday starts at 01:00 local.
    assert start_of_day(date(2026, 9, 6), santiago) == datetime(2026, 9, 6, 4, tzinfo=UTC)
    assert end_of_day(date(2026, 9, 5), santiago).astimezone(santiago).time() == time(23, 59, 59)
    # Saturday 4 April 2026 at 24:00 the clocks go back to 23:00: the day ends after the second
    # 23:59:59, and it lasted 25 hours.
    assert end_of_day(date(2026, 4, 4), santiago) == datetime(2026, 4, 5, 3, 59, 59, tzinfo=UTC)
    assert end_of_day(date(2026, 4, 4), santiago) - start_of_day(date(2026, 4, 4), santiago) == \
        timedelta(hours=25) - timedelta(seconds=1)


# --- bad input ------------------------------------------------------------------------------------
def test_naive_start_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="start"):
        add_duration(datetime(2026, 1, 1, 9), bdays(1), FR, fr_holiday)


def test_unknown_time_zone_is_refused_naming_the_field():
    with pytest.raises(ValueError, match="calendar.timezone"):
        add_duration(datetime(2026, 1, 1, 9, tzinfo=UTC), bdays(1),
                     Calendar(country="FR", timezone="Europe/Atlantis"), fr_holiday)


# --- properties -----------------------------------------------------------------------------------
ZONES = ["Europe/Paris", "Asia/Shanghai", "America/Los_Angeles", "Pacific/Auckland",
         "America/Santiago", "UTC"]


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31),
                       timezones=st.just(UTC)),
    n=st.integers(min_value=0, max_value=40),
    tz_name=st.sampled_from(ZONES),
    backwards=st.booleans(),
    holiday_days=st.sets(st.integers(min_value=0, max_value=60), max_size=10),
)
def test_business_days_properties(start, n, tz_name, backwards, holiday_days):
    tz = ZoneInfo(tz_name)
    local_start = start.astimezone(tz).date()
    step = -1 if backwards else 1
    holidays = {local_start + timedelta(days=step * k) for k in holiday_days}
    due = add_duration(start, bdays(n), Calendar(country="FR", timezone=tz_name),
                       holidays.__contains__, backwards)
    due_local = due.astimezone(tz)
    assert due.tzinfo is UTC
    assert due_local.time() == time(23, 59, 59)
    due_day = due_local.date()
    if n == 0:
        assert due_day == local_start
        return
    assert due_day.weekday() < 5 and due_day not in holidays
    lo, hi = sorted((local_start, due_day))
    days = [lo + timedelta(days=k) for k in range((hi - lo).days + 1)]
    counted = [d for d in days if d != local_start and d.weekday() < 5 and d not in holidays]
    assert len(counted) == n


@settings(max_examples=300, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31),
                       timezones=st.just(UTC)),
    n=st.integers(min_value=0, max_value=366),
    tz_name=st.sampled_from(ZONES),
    backwards=st.booleans(),
)
def test_calendar_days_properties(start, n, tz_name, backwards):
    tz = ZoneInfo(tz_name)
    due = add_duration(start, cdays(n), Calendar(country="FR", timezone=tz_name), no_holiday,
                       backwards)
    due_local = due.astimezone(tz)
    assert due_local.time() == time(23, 59, 59)
    assert (due_local.date() - start.astimezone(tz).date()).days == (-n if backwards else n)
    # the next second belongs to the next local day
    assert (due + timedelta(seconds=1)).astimezone(tz).date() == due_local.date() + timedelta(days=1)
