"""Business-time calendars: worked examples and properties against a minute-stepping oracle."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import scaled
from slakeeper.domain.calendars import (
    Calendar,
    OpenSpan,
    due,
    elapsed,
    is_open,
    open_intervals,
    warning_at,
)
from slakeeper.domain.intervals import IntervalSet, NaiveDatetimeError
from strategies import calendars

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def weekly(
    timezone: str,
    hours: tuple[tuple[time, time | None], ...] = ((time(9), time(18)),),
    days: range = range(5),
    holiday_dates: frozenset[date] = frozenset(),
    holiday_countries: tuple[tuple[str, str | None], ...] = (),
) -> Calendar:
    """Openings on ``days``; an end of ``None`` means 24:00."""
    spans = tuple(
        OpenSpan(day, start, 1440 if end is None else end.hour * 60 + end.minute)
        for day in days
        for start, end in hours
    )
    return Calendar(
        f"{timezone} hours",
        timezone,
        spans,
        holiday_dates=holiday_dates,
        holiday_countries=holiday_countries,
    )


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


BUSINESS_NY = weekly("America/New_York")


# -- worked examples ---------------------------------------------------------------------------
def test_friday_afternoon_plus_four_and_a_half_hours_is_monday_lunchtime() -> None:
    result = due(BUSINESS_NY, ny(2026, 3, 13, 17), timedelta(hours=4, minutes=30))
    assert result == ny(2026, 3, 16, 12, 30)
    assert result.tzinfo is UTC


def test_results_are_utc_whatever_the_input_zone() -> None:
    start = ny(2026, 6, 1, 10).astimezone(BERLIN)
    result = due(BUSINESS_NY, start, HOUR)
    assert result.tzinfo is UTC
    assert result == ny(2026, 6, 1, 11)


def test_start_on_saturday_starts_the_clock_on_monday_morning() -> None:
    assert due(BUSINESS_NY, ny(2026, 6, 6, 11), 2 * HOUR) == ny(2026, 6, 8, 11)
    assert elapsed(BUSINESS_NY, ny(2026, 6, 6, 11), ny(2026, 6, 8, 11)) == 2 * HOUR


def test_start_outside_open_hours_starts_at_next_opening() -> None:
    assert due(BUSINESS_NY, ny(2026, 6, 2, 19), timedelta(0)) == ny(2026, 6, 3, 9)
    assert due(BUSINESS_NY, ny(2026, 6, 2, 7), timedelta(0)) == ny(2026, 6, 2, 9)
    assert due(BUSINESS_NY, ny(2026, 6, 2, 10), timedelta(0)) == ny(2026, 6, 2, 10)


def test_a_duration_ending_at_closing_time_is_due_at_closing_not_next_morning() -> None:
    assert due(BUSINESS_NY, ny(2026, 6, 2, 9), 9 * HOUR) == ny(2026, 6, 2, 18)


def test_several_openings_a_day_skip_the_lunch_break() -> None:
    calendar = weekly("America/New_York", ((time(9), time(12)), (time(13), time(17))))
    assert due(calendar, ny(2026, 6, 2, 11), 2 * HOUR) == ny(2026, 6, 2, 14)
    assert due(calendar, ny(2026, 6, 2, 12, 30), timedelta(0)) == ny(2026, 6, 2, 13)
    assert elapsed(calendar, ny(2026, 6, 2, 0), ny(2026, 6, 3, 0)) == 7 * HOUR
    assert len(open_intervals(calendar, ny(2026, 6, 2, 0), ny(2026, 6, 3, 0))) == 2


def test_an_overnight_opening_runs_into_the_next_day() -> None:
    night = Calendar("night", "America/New_York", (OpenSpan(4, time(22), 30 * 60),))
    assert due(night, ny(2026, 6, 5, 21), 4 * HOUR) == ny(2026, 6, 6, 2)
    assert elapsed(night, ny(2026, 6, 5, 20), ny(2026, 6, 6, 8)) == 8 * HOUR
    assert is_open(night, ny(2026, 6, 6, 5, 59))
    assert not is_open(night, ny(2026, 6, 6, 6))


def test_a_holiday_closes_an_overnight_opening_only_on_the_day_it_starts() -> None:
    night = Calendar("night", "America/New_York", (OpenSpan(4, time(22), 30 * 60),))
    friday_off = Calendar(
        "night", "America/New_York", night.spans, holiday_dates=frozenset({date(2026, 6, 5)})
    )
    saturday_off = Calendar(
        "night", "America/New_York", night.spans, holiday_dates=frozenset({date(2026, 6, 6)})
    )
    assert elapsed(friday_off, ny(2026, 6, 5), ny(2026, 6, 7)) == timedelta(0)
    assert elapsed(saturday_off, ny(2026, 6, 5), ny(2026, 6, 7)) == 8 * HOUR


def test_an_opening_ending_at_midnight_joins_the_next_days_opening() -> None:
    calendar = weekly("UTC", ((time(20), None), (time(0), time(4))), days=range(7))
    start = datetime(2026, 6, 1, 23, tzinfo=UTC)
    assert due(calendar, start, 2 * HOUR) == datetime(2026, 6, 2, 1, tzinfo=UTC)
    joined = open_intervals(calendar, start, datetime(2026, 6, 2, 5, tzinfo=UTC))
    assert joined == IntervalSet.single(start, datetime(2026, 6, 2, 4, tzinfo=UTC))


def test_an_opening_may_last_until_midnight_two_days_later() -> None:
    weekend = Calendar("weekend", "America/New_York", (OpenSpan(6, time(0), 2880),))
    assert is_open(weekend, ny(2026, 1, 26, 23, 59))
    assert not is_open(weekend, ny(2026, 1, 27))
    assert elapsed(weekend, ny(2026, 1, 24), ny(2026, 1, 29)) == 48 * HOUR
    assert due(weekend, ny(2026, 1, 26, 20), 5 * HOUR) == ny(2026, 2, 1, 1)


def test_an_explicit_holiday_closes_the_day() -> None:
    calendar = weekly("America/New_York", holiday_dates=frozenset({date(2026, 6, 3)}))
    assert calendar.is_holiday(date(2026, 6, 3))
    assert due(calendar, ny(2026, 6, 2, 17), 2 * HOUR) == ny(2026, 6, 4, 10)


def test_country_holidays_include_observed_days_and_christmas() -> None:
    calendar = weekly("America/New_York", holiday_countries=(("US", None),))
    assert calendar.is_holiday(date(2026, 7, 3))  # Independence Day (observed)
    assert calendar.is_holiday(date(2026, 12, 25))
    assert not calendar.is_holiday(date(2026, 12, 24))
    assert due(calendar, ny(2026, 7, 2, 17), 2 * HOUR) == ny(2026, 7, 6, 10)
    assert due(calendar, ny(2026, 12, 24, 17), 2 * HOUR) == ny(2026, 12, 28, 10)


def test_country_holidays_honour_the_subdivision() -> None:
    bavaria = weekly("Europe/Berlin", holiday_countries=(("DE", "BY"),))
    berlin_state = weekly("Europe/Berlin", holiday_countries=(("DE", "BE"),))
    assert bavaria.is_holiday(date(2026, 1, 6))  # Epiphany
    assert not berlin_state.is_holiday(date(2026, 1, 6))


def test_an_unknown_country_or_zone_is_rejected() -> None:
    with pytest.raises(ValueError, match="holiday"):
        weekly("UTC", holiday_countries=(("XX", None),))
    with pytest.raises(ValueError, match="time zone"):
        Calendar("x", "Mars/Olympus_Mons")


def test_a_24x7_calendar_is_open_every_instant_and_ignores_holidays() -> None:
    always = Calendar(
        "24x7", "America/New_York", always_open=True, holiday_dates=frozenset({date(2026, 6, 6)})
    )
    start = ny(2026, 6, 5, 23, 59)
    assert due(always, start, 26 * HOUR) == start + 26 * HOUR
    assert elapsed(always, start, start + 100 * HOUR) == 100 * HOUR
    assert elapsed(always, ny(2026, 11, 1), ny(2026, 11, 2)) == 25 * HOUR


def test_pauses_across_days_stop_the_clock() -> None:
    pauses = IntervalSet.single(ny(2026, 6, 1, 16), ny(2026, 6, 2, 11))
    start = ny(2026, 6, 1, 10)
    assert due(BUSINESS_NY, start, 8 * HOUR, pauses) == ny(2026, 6, 2, 13)
    assert elapsed(BUSINESS_NY, start, ny(2026, 6, 2, 13), pauses) == 8 * HOUR
    assert due(BUSINESS_NY, start, 6 * HOUR, pauses) == ny(2026, 6, 1, 16)


def test_a_start_inside_a_pause_waits_for_the_pause_to_end() -> None:
    pauses = IntervalSet.single(ny(2026, 6, 1, 8), ny(2026, 6, 1, 12))
    assert due(BUSINESS_NY, ny(2026, 6, 1, 10), HOUR, pauses) == ny(2026, 6, 1, 13)
    assert due(BUSINESS_NY, ny(2026, 6, 1, 10), timedelta(0), pauses) == ny(2026, 6, 1, 12)


def test_new_york_spring_forward_skips_the_missing_hour() -> None:
    gap = Calendar("gap", "America/New_York", (OpenSpan(6, time(2), 3 * 60),))
    straddle = Calendar("straddle", "America/New_York", (OpenSpan(6, time(1, 30), 150),))
    day = (ny(2026, 3, 8), ny(2026, 3, 9))
    assert elapsed(gap, *day) == timedelta(0)
    assert elapsed(straddle, *day) == 30 * MINUTE
    assert elapsed(gap, ny(2026, 3, 15), ny(2026, 3, 16)) == HOUR
    whole = weekly("America/New_York", ((time(0), None),), days=range(7))
    assert elapsed(whole, *day) == 23 * HOUR


def test_new_york_fall_back_opens_the_repeated_hour_twice() -> None:
    twice = Calendar("twice", "America/New_York", (OpenSpan(6, time(1), 90),))
    day = (ny(2026, 11, 1), ny(2026, 11, 2))
    assert elapsed(twice, *day) == HOUR
    assert open_intervals(twice, *day) == IntervalSet.of(
        (datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),
        (datetime(2026, 11, 1, 6, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
    )
    whole = weekly("America/New_York", ((time(0), None),), days=range(7))
    assert elapsed(whole, *day) == 25 * HOUR


def test_business_hours_keep_their_length_across_new_york_dst_weekends() -> None:
    assert due(BUSINESS_NY, ny(2026, 3, 6, 17), 2 * HOUR) == ny(2026, 3, 9, 10)
    assert due(BUSINESS_NY, ny(2026, 10, 30, 17), 2 * HOUR) == ny(2026, 11, 2, 10)
    assert elapsed(BUSINESS_NY, ny(2026, 3, 6, 9), ny(2026, 3, 9, 18)) == 18 * HOUR


def test_berlin_dst_days_have_23_and_25_hours() -> None:
    whole = weekly("Europe/Berlin", ((time(0), None),), days=range(7))
    assert elapsed(whole, berlin(2026, 3, 29), berlin(2026, 3, 30)) == 23 * HOUR
    assert elapsed(whole, berlin(2026, 10, 25), berlin(2026, 10, 26)) == 25 * HOUR
    repeated = Calendar("r", "Europe/Berlin", (OpenSpan(6, time(2, 15), 165),))
    assert elapsed(repeated, berlin(2026, 10, 25), berlin(2026, 10, 26)) == HOUR
    skipped = Calendar("s", "Europe/Berlin", (OpenSpan(6, time(2, 15), 165),))
    assert elapsed(skipped, berlin(2026, 3, 29), berlin(2026, 3, 30)) == timedelta(0)


def test_berlin_business_hours_across_the_dst_weekend() -> None:
    business = weekly("Europe/Berlin")
    result = due(business, berlin(2026, 3, 27, 17), 2 * HOUR)
    assert result == berlin(2026, 3, 30, 10)
    assert result == datetime(2026, 3, 30, 8, tzinfo=UTC)
    assert due(business, berlin(2026, 10, 23, 17), 2 * HOUR) == datetime(
        2026, 10, 26, 9, tzinfo=UTC
    )


def test_the_leap_day_is_an_ordinary_business_day() -> None:
    assert due(BUSINESS_NY, ny(2028, 2, 28, 17), 2 * HOUR) == ny(2028, 2, 29, 10)
    closed = weekly("America/New_York", holiday_dates=frozenset({date(2028, 2, 29)}))
    assert due(closed, ny(2028, 2, 28, 17), 2 * HOUR) == ny(2028, 3, 1, 10)


def test_a_warning_at_75_percent_of_a_4h_target_falls_inside_open_hours() -> None:
    start = ny(2026, 6, 5, 16)
    warning = warning_at(BUSINESS_NY, start, 4 * HOUR, Fraction(3, 4))
    assert warning == ny(2026, 6, 8, 10)
    assert is_open(BUSINESS_NY, warning)
    assert elapsed(BUSINESS_NY, start, warning) == 3 * HOUR


def test_a_warning_fraction_is_exact_and_rounds_up_to_the_microsecond() -> None:
    start = ny(2026, 6, 1, 9)
    third = warning_at(BUSINESS_NY, start, timedelta(microseconds=10), Fraction(1, 3))
    assert third == start + timedelta(microseconds=4)
    exact = warning_at(BUSINESS_NY, start, timedelta(hours=3), Fraction(1, 3))
    assert exact == start + HOUR


def test_a_long_duration_is_exact() -> None:
    start = ny(2026, 1, 5, 9)
    result = due(BUSINESS_NY, start, 400 * HOUR)
    assert elapsed(BUSINESS_NY, start, result) == 400 * HOUR
    assert result == ny(2026, 3, 6, 13)  # 44 business days of 9 h, then 4 h


def test_naive_inputs_raise() -> None:
    naive = datetime(2026, 6, 1, 9)
    aware = ny(2026, 6, 1, 9)
    with pytest.raises(NaiveDatetimeError):
        due(BUSINESS_NY, naive, HOUR)
    with pytest.raises(NaiveDatetimeError):
        elapsed(BUSINESS_NY, aware, naive)
    with pytest.raises(NaiveDatetimeError):
        open_intervals(BUSINESS_NY, naive, aware)
    with pytest.raises(NaiveDatetimeError):
        warning_at(BUSINESS_NY, naive, HOUR, Fraction(3, 4))
    with pytest.raises(NaiveDatetimeError):
        is_open(BUSINESS_NY, naive)


def test_a_calendar_without_openings_raises_instead_of_hanging() -> None:
    with pytest.raises(ValueError, match="never opens"):
        due(Calendar("closed", "UTC"), ny(2026, 6, 1), HOUR)
    assert elapsed(Calendar("closed", "UTC"), ny(2026, 6, 1), ny(2026, 6, 9)) == timedelta(0)


def test_a_calendar_closed_by_holidays_for_over_ten_years_raises() -> None:
    first = date(2026, 1, 1)
    every_day = frozenset(first + timedelta(days=n) for n in range(12 * 366))
    calendar = weekly("America/New_York", holiday_dates=every_day)
    with pytest.raises(ValueError, match="never opens"):
        due(calendar, ny(2026, 1, 1), HOUR)
    with pytest.raises(ValueError, match="never opens"):
        due(calendar, ny(2026, 1, 1), timedelta(0))


def test_a_sparse_calendar_still_finds_a_distant_opening() -> None:
    first = date(2026, 1, 1)
    nine_years = frozenset(first + timedelta(days=n) for n in range(9 * 365))
    calendar = weekly("UTC", holiday_dates=nine_years)
    result = due(calendar, datetime(2026, 1, 1, tzinfo=UTC), timedelta(0))
    assert result.date() >= first + timedelta(days=9 * 365)


def test_negative_durations_are_rejected_and_reversed_ranges_are_empty() -> None:
    with pytest.raises(ValueError, match="negative"):
        due(BUSINESS_NY, ny(2026, 6, 1), -HOUR)
    assert elapsed(BUSINESS_NY, ny(2026, 6, 2), ny(2026, 6, 1)) == timedelta(0)
    assert open_intervals(BUSINESS_NY, ny(2026, 6, 2), ny(2026, 6, 1)) == IntervalSet()


@pytest.mark.parametrize(
    ("weekday", "start", "end_minutes"),
    [(7, time(9), 600), (-1, time(9), 600), (0, time(9), 540), (0, time(9), 2881)],
)
def test_an_invalid_opening_is_rejected(weekday: int, start: time, end_minutes: int) -> None:
    with pytest.raises(ValueError, match=r"weekday|end"):
        OpenSpan(weekday, start, end_minutes)


# -- the oracle --------------------------------------------------------------------------------
def oracle_is_open(calendar: Calendar, instant: datetime) -> bool:
    """The definition, literally: wall-clock comparison against every span's day."""
    if calendar.always_open:
        return True
    local = instant.astimezone(ZoneInfo(calendar.timezone)).replace(tzinfo=None)
    for back in (0, 1, 2):
        day = local.date() - timedelta(days=back)
        for span in calendar.spans:
            if day.weekday() != span.weekday or calendar.is_holiday(day):
                continue
            opens = datetime.combine(day, span.start)
            closes = datetime.combine(day, time(0)) + timedelta(minutes=span.end_minutes)
            if opens <= local < closes:
                return True
    return False


def oracle_minutes(
    calendar: Calendar, start: datetime, minutes: int, pauses: IntervalSet
) -> list[bool]:
    """For each UTC minute from ``start``: open and not paused."""
    return [
        oracle_is_open(calendar, t) and not pauses.contains(t)
        for t in (start + n * MINUTE for n in range(minutes))
    ]


# -- generated inputs --------------------------------------------------------------------------
ANCHORS = [
    datetime(2026, 3, 8, tzinfo=UTC),  # New York spring forward
    datetime(2026, 11, 1, tzinfo=UTC),  # New York fall back
    datetime(2026, 3, 29, tzinfo=UTC),  # Berlin spring forward
    datetime(2026, 10, 25, tzinfo=UTC),  # Berlin fall back
    datetime(2026, 4, 5, tzinfo=UTC),  # Lord Howe falls back 30 minutes
    datetime(2026, 10, 4, tzinfo=UTC),  # Lord Howe springs forward 30 minutes
    datetime(2028, 2, 29, tzinfo=UTC),  # leap day
    datetime(2027, 1, 1, tzinfo=UTC),  # a new year (holidays are looked up per year)
    datetime(2026, 1, 27, tzinfo=UTC),  # the engine caches 32-day blocks: one starts here
]
WINDOW = 3 * 24 * 60  # minutes the oracle looks at


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Calendar, datetime, IntervalSet]:
    """A calendar, a start on a whole minute near a DST change or leap day, and pauses."""
    anchor = draw(st.sampled_from(ANCHORS))
    calendar = draw(calendars(anchor.date()))
    start = anchor + draw(st.integers(-2 * 1440, 1440)) * MINUTE
    pauses = IntervalSet.of(
        *(
            (start + offset * MINUTE, start + (offset + length) * MINUTE)
            for offset, length in draw(
                st.lists(st.tuples(st.integers(-600, WINDOW), st.integers(1, 900)), max_size=3)
            )
        )
    )
    return calendar, start, pauses


ORACLE_SETTINGS = settings(
    max_examples=scaled(120), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
FAST_SETTINGS = settings(
    max_examples=scaled(300), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@ORACLE_SETTINGS
@given(scenarios(), st.integers(0, WINDOW))
def test_elapsed_and_open_intervals_match_the_oracle(
    scenario: tuple[Calendar, datetime, IntervalSet], minutes: int
) -> None:
    calendar, start, pauses = scenario
    end = start + minutes * MINUTE
    flags = oracle_minutes(calendar, start, minutes, pauses)
    assert elapsed(calendar, start, end, pauses) == sum(flags) * MINUTE
    unpaused = oracle_minutes(calendar, start, minutes, IntervalSet())
    expected = IntervalSet.of(
        *((start + n * MINUTE, start + (n + 1) * MINUTE) for n, on in enumerate(unpaused) if on)
    )
    assert open_intervals(calendar, start, end) == expected


@ORACLE_SETTINGS
@given(scenarios(), st.floats(0, 1))
def test_due_is_where_the_oracle_count_reaches_the_duration(
    scenario: tuple[Calendar, datetime, IntervalSet], share: float
) -> None:
    calendar, start, pauses = scenario
    if calendar.never_opens:
        with pytest.raises(ValueError, match="never opens"):
            due(calendar, start, MINUTE, pauses)
        return
    flags = oracle_minutes(calendar, start, WINDOW, pauses)
    open_minutes = [n for n, on in enumerate(flags) if on]
    count = round(share * len(open_minutes))
    result = due(calendar, start, count * MINUTE, pauses)
    if count > 0:
        assert result == start + (open_minutes[count - 1] + 1) * MINUTE
    elif open_minutes:
        assert result == start + open_minutes[0] * MINUTE
    else:
        assert result >= start + WINDOW * MINUTE


@FAST_SETTINGS
@given(scenarios(), st.integers(0, 200 * 3_600_000_000))
def test_elapsed_until_due_gives_back_the_duration(
    scenario: tuple[Calendar, datetime, IntervalSet], micro: int
) -> None:
    calendar, start, pauses = scenario
    duration = timedelta(microseconds=micro)
    if calendar.never_opens:
        return
    result = due(calendar, start, duration, pauses)
    assert result >= start
    assert elapsed(calendar, start, result, pauses) == duration
    if duration:  # and not a microsecond earlier
        assert elapsed(calendar, start, result - timedelta(microseconds=1), pauses) < duration


@FAST_SETTINGS
@given(
    scenarios(),
    st.lists(st.integers(-3 * 86_400_000_000, 40 * 86_400_000_000), min_size=3, max_size=3),
)
def test_elapsed_is_additive(
    scenario: tuple[Calendar, datetime, IntervalSet], offsets: list[int]
) -> None:
    calendar, start, pauses = scenario
    a, b, c = (start + timedelta(microseconds=n) for n in sorted(offsets))
    assert elapsed(calendar, a, b, pauses) + elapsed(calendar, b, c, pauses) == elapsed(
        calendar, a, c, pauses
    )
    assert elapsed(calendar, a, c, pauses) <= elapsed(calendar, a, c) <= c - a


@FAST_SETTINGS
@given(scenarios(), st.integers(0, 40 * 3600), st.fractions(0, 1, max_denominator=1000))
def test_warning_at_is_due_at_the_exact_fraction(
    scenario: tuple[Calendar, datetime, IntervalSet], target_seconds: int, fraction: Fraction
) -> None:
    calendar, start, pauses = scenario
    if calendar.never_opens:
        return
    target = timedelta(seconds=target_seconds)
    micro = Fraction(target_seconds * 1_000_000) * fraction
    rounded = timedelta(microseconds=-(-micro.numerator // micro.denominator))
    assert warning_at(calendar, start, target, fraction, pauses) == due(
        calendar, start, rounded, pauses
    )
