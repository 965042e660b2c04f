"""SLOs: windows, error budgets, burn rates and burn-rate alert states (DOMAIN 7)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import scaled
from slakeeper.domain.intervals import NaiveDatetimeError
from slakeeper.domain.periods import month_period
from slakeeper.domain.slo import (
    CALENDAR_UNITS,
    AlertRecord,
    AlertRule,
    AlertState,
    BurnRate,
    Method,
    NoData,
    Point,
    SloSpec,
    SloStatus,
    Transition,
    WindowKind,
    evaluate,
    next_alert_states,
    window_bounds,
)
from strategies import ZONES

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

OK, WARNING, FIRING, RESOLVED = (
    AlertState.OK,
    AlertState.WARNING,
    AlertState.FIRING,
    AlertState.RESOLVED,
)

# The Google SRE workbook's multiwindow, multi-burn-rate alerts (DOMAIN 7).
PAGE_FAST = AlertRule("page", Fraction(72, 5), HOUR, 5 * MINUTE)
PAGE_SLOW = AlertRule("page", Fraction(6), 6 * HOUR, 30 * MINUTE)
TICKET = AlertRule("ticket", Fraction(1), 3 * DAY, 6 * HOUR)
WORKBOOK = (PAGE_FAST, PAGE_SLOW, TICKET)


def make_spec(
    *,
    objective: Fraction = Fraction(999, 1000),
    method: Method = Method.OCCURRENCES,
    kind: WindowKind = WindowKind.ROLLING,
    unit: str | None = None,
    length: timedelta | None = None,
    zone: ZoneInfo = UTC_ZONE,
    size: timedelta | None = None,
    no_data: NoData = NoData.IGNORE,
    alerts: Sequence[AlertRule] = (),
) -> SloSpec:
    return SloSpec(objective, method, kind, unit, length, zone, size, no_data, tuple(alerts))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def judged(start: datetime, good: bool | None) -> Point:
    """A timeslice point: good, bad, or (None) measured without data."""
    return Point(start, int(bool(good)), 0 if good is None else 1)


# --------------------------------------------------------------------------- windows
def test_a_berlin_october_window_is_745_hours_from_local_midnight_to_local_midnight() -> None:
    spec = make_spec(kind=WindowKind.CALENDAR, unit="month", zone=BERLIN)
    start, end = window_bounds(spec, utc(2026, 10, 14, 9))
    assert start == utc(2026, 9, 30, 22)
    assert end == utc(2026, 10, 31, 23)
    assert end - start == 745 * HOUR


def test_the_first_local_instant_of_a_month_belongs_to_it_and_the_last_to_the_previous() -> None:
    spec = make_spec(kind=WindowKind.CALENDAR, unit="month", zone=BERLIN)
    assert window_bounds(spec, utc(2026, 9, 30, 22))[0] == utc(2026, 9, 30, 22)
    start, end = window_bounds(spec, utc(2026, 9, 30, 21, 59))
    assert (start, end) == (utc(2026, 8, 31, 22), utc(2026, 9, 30, 22))


def test_an_iso_week_starts_on_monday_and_the_spring_forward_week_is_167_hours() -> None:
    spec = make_spec(kind=WindowKind.CALENDAR, unit="week", zone=BERLIN)
    # Sunday 29 March 2026 is the EU spring-forward day.
    start, end = window_bounds(spec, utc(2026, 3, 29, 12))
    assert start == utc(2026, 3, 22, 23)  # Monday 23 March, 00:00 CET
    assert end == utc(2026, 3, 29, 22)  # Monday 30 March, 00:00 CEST
    assert end - start == 167 * HOUR


def test_a_new_york_fourth_quarter_is_92_days_and_an_hour_and_ends_at_local_new_year() -> None:
    spec = make_spec(kind=WindowKind.CALENDAR, unit="quarter", zone=NEW_YORK)
    start, end = window_bounds(spec, utc(2026, 11, 15, 12))
    assert (start, end) == (utc(2026, 10, 1, 4), utc(2027, 1, 1, 5))
    assert end - start == 92 * DAY + HOUR
    # 23:30 on New Year's Eve in New York is already 2027 in UTC, but still Q4 locally.
    assert window_bounds(spec, utc(2027, 1, 1, 4, 30)) == (start, end)
    assert window_bounds(spec, utc(2027, 1, 1, 5))[0] == end


def test_a_spring_forward_day_is_23_hours() -> None:
    spec = make_spec(kind=WindowKind.CALENDAR, unit="day", zone=BERLIN)
    start, end = window_bounds(spec, utc(2026, 3, 29, 10))
    assert (start, end) == (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22))


def test_rolling_and_all_time_windows_end_at_now() -> None:
    now = datetime(2026, 10, 5, 12, 30, 15, tzinfo=UTC)
    rolling = make_spec(length=28 * DAY)
    assert window_bounds(rolling, now) == (now - 28 * DAY, now)
    assert window_bounds(make_spec(kind=WindowKind.ALL_TIME), now) == (None, now)


def test_window_bounds_return_utc_for_an_aware_now_in_another_zone() -> None:
    spec = make_spec(length=HOUR)
    start, end = window_bounds(spec, datetime(2026, 10, 5, 14, tzinfo=BERLIN))
    assert end == utc(2026, 10, 5, 12)
    assert end.tzinfo is UTC
    assert start == utc(2026, 10, 5, 11)


@pytest.mark.parametrize("zone_name", ZONES)
@pytest.mark.parametrize("month", range(1, 13))
def test_calendar_months_agree_with_the_billing_period_helper(zone_name: str, month: int) -> None:
    period = month_period(2026, month, zone_name)
    spec = make_spec(kind=WindowKind.CALENDAR, unit="month", zone=ZoneInfo(zone_name))
    assert window_bounds(spec, period.start) == (period.start, period.end)
    assert window_bounds(spec, period.end - SECOND) == (period.start, period.end)


def unit_key(unit: str, local: datetime) -> tuple[int, ...]:
    """Which calendar unit a local instant is in, computed independently of the engine."""
    if unit == "day":
        return (local.year, local.month, local.day)
    if unit == "week":
        iso = local.isocalendar()
        return (iso.year, iso.week)
    if unit == "month":
        return (local.year, local.month)
    return (local.year, (local.month - 1) // 3)


@settings(max_examples=scaled(200), deadline=None)
@given(
    st.sampled_from(ZONES),
    st.sampled_from(CALENDAR_UNITS),
    st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
    ),
)
def test_a_calendar_window_is_exactly_the_local_unit_that_contains_now(
    zone_name: str, unit: str, now: datetime
) -> None:
    zone = ZoneInfo(zone_name)
    spec = make_spec(kind=WindowKind.CALENDAR, unit=unit, zone=zone)
    start, end = window_bounds(spec, now)
    assert start is not None
    assert start <= now < end
    key = unit_key(unit, now.astimezone(zone))
    tick = timedelta(microseconds=1)
    # start is the first instant of the unit, end the first instant after it
    assert unit_key(unit, start.astimezone(zone)) == key
    assert unit_key(unit, (start - tick).astimezone(zone)) != key
    assert unit_key(unit, (end - tick).astimezone(zone)) == key
    assert unit_key(unit, end.astimezone(zone)) != key


# --------------------------------------------------------------------------- occurrences
NOW = utc(2026, 10, 5, 12)


def test_occurrences_count_the_points_that_start_in_the_window_before_now() -> None:
    spec = make_spec(objective=Fraction(995, 1000), length=DAY)
    points = [
        Point(NOW, 0, 100),  # starts at now: not yet
        Point(NOW - MINUTE, 0, 0),  # no data
        Point(NOW - 30 * MINUTE, 990, 1000),
        Point(NOW - 2 * HOUR, 500, 500),
        Point(NOW - DAY, 150, 200),  # the window's first instant
        Point(NOW - DAY - MINUTE, 0, 100),  # just before the window
    ]
    status = evaluate(spec, points, NOW)
    assert (status.good, status.bad, status.total) == (1640, 60, 1700)
    assert status.no_data_slices == 0
    assert status.sli == Fraction(82, 85)
    assert status.budget_total == Fraction(17, 2)  # 0.5 % of 1700 events
    assert status.budget_consumed == 60
    assert status.budget_remaining == Fraction(-103, 17)  # 1 - 60 / 8.5
    assert status.exhausted
    assert status.time_to_exhaustion == timedelta(0)
    assert (status.window_start, status.window_end, status.now) == (NOW - DAY, NOW, NOW)
    assert evaluate(spec, list(reversed(points)), NOW) == status


def test_a_minute_that_started_before_now_counts_whole() -> None:
    spec = make_spec(length=HOUR)
    now = NOW + 20 * SECOND
    status = evaluate(spec, [Point(NOW, 7, 10), Point(NOW + MINUTE, 0, 5)], now)
    assert (status.good, status.bad, status.total) == (7, 3, 10)


def test_burn_rates_and_the_time_to_exhaustion_of_a_28_day_window() -> None:
    """99.9 % over 28 days: 1,000,000 events, 226 bad, so 1000 may be bad and 22.6 % is spent.

    Last hour: 26 bad of 1000 (2.6 %: burn rate 26); last 5 minutes: 20 of 400 (5 %: 50).
    At burn rate 26 the remaining 77.4 % lasts 0.774 x 28 d / 26 = 72017.723076... s.
    """
    spec = make_spec(length=28 * DAY, alerts=[PAGE_FAST])
    points = [
        Point(NOW - 20 * DAY, 998_800, 999_000),
        Point(NOW - 50 * MINUTE, 594, 600),
        Point(NOW - 3 * MINUTE, 380, 400),
    ]
    status = evaluate(spec, points, NOW)
    assert (status.good, status.bad, status.total) == (999_774, 226, 1_000_000)
    assert status.budget_total == 1000
    assert status.budget_remaining == Fraction(387, 500)
    assert not status.exhausted
    (burn,) = status.burn_rates
    assert burn.rule == PAGE_FAST
    assert (burn.long_rate, burn.short_rate) == (26, 50)
    assert (burn.long_bad, burn.long_total, burn.short_bad, burn.short_total) == (26, 1000, 20, 400)
    assert burn.long_above
    assert burn.short_above
    assert burn.firing
    assert status.projection_rate == 26
    assert status.time_to_exhaustion == timedelta(seconds=72017, microseconds=723076)


def test_burn_rate_thresholds_are_strict_and_windows_reach_before_the_slo_window() -> None:
    """A calendar day that started 2 minutes ago: the 1 h window still sees yesterday."""
    spec = make_spec(kind=WindowKind.CALENDAR, unit="day", alerts=[PAGE_FAST])
    now = utc(2026, 10, 5, 0, 2)
    # 1 h: 864 bad of 60,000 = 1.44 %, burn rate exactly 14.4: not above.
    points = [Point(now - MINUTE * (i + 1), 1000, 1000) for i in range(60)]
    points[59] = Point(now - 60 * MINUTE, 136, 1000)
    status = evaluate(spec, points, now)
    (burn,) = status.burn_rates
    assert burn.long_rate == Fraction(72, 5)
    assert not burn.long_above
    assert burn.short_rate == 0
    assert (status.good, status.total) == (2000, 2000)  # only today's two minutes


def test_no_traffic_gives_no_rate_and_a_whole_budget() -> None:
    spec = make_spec(length=DAY, alerts=[PAGE_FAST])
    status = evaluate(spec, [Point(NOW - MINUTE, 0, 0)], NOW)
    assert status.sli is None
    assert status.budget_total == 0
    assert status.budget_remaining == 1
    assert not status.exhausted
    (burn,) = status.burn_rates
    assert (burn.long_rate, burn.short_rate, burn.firing) == (None, None, False)
    assert status.time_to_exhaustion is None


def test_without_alert_rules_the_projection_uses_the_last_hour() -> None:
    """99 % over 1 day, 20 bad of 10,000 (budget 100, 80 % left); the last hour burns at 2
    (2 % errors), so 0.8 x 24 h / 2 = 9.6 h remain."""
    spec = make_spec(objective=Fraction(99, 100), length=DAY)
    points = [Point(NOW - 5 * HOUR, 9000, 9000), Point(NOW - 30 * MINUTE, 980, 1000)]
    status = evaluate(spec, points, NOW)
    assert status.burn_rates == ()
    assert status.budget_remaining == Fraction(4, 5)
    assert status.projection_rate == 2
    assert status.time_to_exhaustion == timedelta(hours=9, minutes=36)


# --------------------------------------------------------------------------- timeslices
def hourly_day(no_data: NoData) -> SloStatus:
    """A UTC day of 24 one-hour slices at 90 %, seen at 10:30: slices 00:00 to 10:00 started.

    Judged: 00 good, 01 bad, 02 good, 03 measured-without-data, 05 good, 10 bad. The 11:00 slice
    has not started and yesterday's 23:00 is outside: 6 started slices have no data.
    """
    day = utc(2026, 10, 5)
    spec = make_spec(
        objective=Fraction(9, 10),
        method=Method.TIMESLICES,
        kind=WindowKind.CALENDAR,
        unit="day",
        size=HOUR,
        no_data=no_data,
    )
    points = [
        judged(day + 11 * HOUR, True),
        judged(day + 10 * HOUR, False),
        judged(day, True),
        judged(day + HOUR, False),
        judged(day + 2 * HOUR, True),
        judged(day + 3 * HOUR, None),
        judged(day + 5 * HOUR, True),
        judged(day - HOUR, False),
    ]
    return evaluate(spec, points, day + 10 * HOUR + 30 * MINUTE)


def test_no_data_slices_count_as_good_under_good() -> None:
    status = hourly_day(NoData.GOOD)
    assert (status.good, status.bad, status.total, status.no_data_slices) == (9, 2, 11, 6)
    assert status.sli == Fraction(9, 11)
    assert status.budget_total == Fraction(12, 5)  # 10 % of the day's 24 slices
    assert status.budget_remaining == Fraction(1, 6)  # 1 - 2 / 2.4
    # The last hour holds one started slice (10:00, bad): burn rate 1 / 0.1 = 10.
    assert status.projection_rate == 10
    assert status.time_to_exhaustion == 24 * MINUTE  # 1/6 x 24 h / 10


def test_no_data_slices_count_as_bad_under_bad() -> None:
    status = hourly_day(NoData.BAD)
    assert (status.good, status.bad, status.total, status.no_data_slices) == (3, 8, 11, 6)
    assert status.sli == Fraction(3, 11)
    assert status.budget_remaining == Fraction(-7, 3)  # 1 - 8 / 2.4
    assert status.exhausted
    assert status.time_to_exhaustion == timedelta(0)


def test_no_data_slices_do_not_count_under_ignore() -> None:
    status = hourly_day(NoData.IGNORE)
    assert (status.good, status.bad, status.total, status.no_data_slices) == (3, 2, 5, 6)
    assert status.sli == Fraction(3, 5)
    assert status.budget_total == Fraction(12, 5)  # still the whole day's slices
    assert status.budget_remaining == Fraction(1, 6)


def test_a_berlin_october_of_hourly_slices_has_745_of_them_and_the_doubled_hour_twice() -> None:
    """99.5 % of 745 slices: a budget of 3.725 slices. On 25 October 02:00-03:00 happens twice
    (00:00Z and 01:00Z); both hours were bad. At local midnight after it, 601 slices started."""
    spec = make_spec(
        objective=Fraction(995, 1000),
        method=Method.TIMESLICES,
        kind=WindowKind.CALENDAR,
        unit="month",
        zone=BERLIN,
        size=HOUR,
        no_data=NoData.GOOD,
    )
    now = datetime(2026, 10, 26, tzinfo=BERLIN)
    points = [judged(utc(2026, 10, 25, 0), False), judged(utc(2026, 10, 25, 1), False)]
    status = evaluate(spec, points, now)
    assert status.window_end - utc(2026, 9, 30, 22) == 745 * HOUR
    assert status.budget_total == Fraction(149, 40)
    assert (status.good, status.bad, status.total) == (599, 2, 601)
    assert status.no_data_slices == 599
    assert status.budget_remaining == Fraction(69, 149)  # 1 - 2 / 3.725
    assert status.projection_rate == 0  # the last hour was a no-data slice, counted good
    assert status.time_to_exhaustion is None


def test_a_calendar_day_of_seven_minute_slices_ends_with_a_short_one() -> None:
    """1440 / 7 = 205 slices and 5 minutes: 206 slices, so a 95 % budget is 10.3 slices."""
    spec = make_spec(
        objective=Fraction(95, 100),
        method=Method.TIMESLICES,
        kind=WindowKind.CALENDAR,
        unit="day",
        size=7 * MINUTE,
        no_data=NoData.BAD,
    )
    day = utc(2026, 10, 5)
    status = evaluate(spec, [judged(day + 205 * 7 * MINUTE, True)], day + DAY - SECOND)
    assert status.budget_total == Fraction(103, 10)
    assert (status.good, status.bad, status.no_data_slices) == (1, 205, 205)


def test_rolling_timeslices_sit_on_the_epoch_grid() -> None:
    """A 1 h window of 5 minute slices at 12:07: the slices 11:10 to 12:05 started in it (12).

    75 %: a budget of 3 slices; one bad, so 2/3 left. The last hour is the same slices, burning
    at (1/2) / (1/4) = 2, so the rest lasts 2/3 x 1 h / 2 = 20 minutes.
    """
    spec = make_spec(
        objective=Fraction(3, 4),
        method=Method.TIMESLICES,
        length=HOUR,
        size=5 * MINUTE,
        no_data=NoData.IGNORE,
    )
    now = utc(2026, 10, 5, 12, 7)
    points = [
        judged(utc(2026, 10, 5, 11, 5), False),  # started before the window
        judged(utc(2026, 10, 5, 11, 10), False),
        judged(utc(2026, 10, 5, 12, 5), True),
        judged(utc(2026, 10, 5, 12, 10), False),  # not started
    ]
    status = evaluate(spec, points, now)
    assert (status.good, status.bad, status.no_data_slices) == (1, 1, 10)
    assert status.budget_total == 3
    assert status.budget_remaining == Fraction(2, 3)
    assert status.projection_rate == 2
    assert status.time_to_exhaustion == 20 * MINUTE


def test_an_all_time_window_of_slices_starts_at_the_first_measured_slice() -> None:
    """50 %, slices of a minute, judged 00:00 good, 00:01 bad, 00:03 good; at 00:05 five slices
    have started (2 without data, ignored). Budget 2.5 slices, 1 spent."""
    spec = make_spec(
        objective=Fraction(1, 2),
        method=Method.TIMESLICES,
        kind=WindowKind.ALL_TIME,
        size=MINUTE,
        no_data=NoData.IGNORE,
        alerts=[AlertRule("slow", Fraction(1), 3 * DAY, HOUR)],
    )
    day = utc(2026, 10, 5)
    points = [judged(day, True), judged(day + MINUTE, False), judged(day + 3 * MINUTE, True)]
    status = evaluate(spec, points, day + 5 * MINUTE)
    assert status.window_start is None
    assert (status.good, status.bad, status.total, status.no_data_slices) == (2, 1, 3, 2)
    assert status.budget_total == Fraction(5, 2)
    assert status.budget_remaining == Fraction(3, 5)
    (burn,) = status.burn_rates
    assert burn.long_rate == Fraction(2, 3)  # (1/3) / (1/2), only since the first slice
    assert status.time_to_exhaustion is None  # an all-time window has no length


def test_an_all_time_window_with_no_data_bad_counts_the_gaps_since_the_first_slice() -> None:
    spec = make_spec(
        objective=Fraction(99, 100),
        method=Method.TIMESLICES,
        kind=WindowKind.ALL_TIME,
        size=MINUTE,
        no_data=NoData.BAD,
        alerts=[AlertRule("page", Fraction(6), HOUR, 5 * MINUTE)],
    )
    day = utc(2026, 10, 5)
    status = evaluate(spec, [judged(day, True), judged(day + 3 * MINUTE, True)], day + 5 * MINUTE)
    assert (status.good, status.bad, status.no_data_slices) == (2, 3, 3)
    assert status.budget_total == Fraction(1, 20)
    assert status.budget_remaining == -59
    assert status.exhausted
    assert status.time_to_exhaustion == timedelta(0)
    assert status.burn_rates[0].short_rate == 60  # (3/5) / (1/100)
    # Before the first measured slice nothing exists, not even in the burn-rate windows.
    empty = evaluate(spec, [], day)
    assert (empty.total, empty.budget_total, empty.budget_remaining) == (0, 0, 1)
    assert (empty.burn_rates[0].long_rate, empty.burn_rates[0].long_above) == (None, False)


# --------------------------------------------------------------------------- 100 %
INTEGRITY = AlertRule("integrity", Fraction(1), HOUR, 5 * MINUTE)


def test_an_objective_of_100_percent_has_no_budget_and_any_bad_event_exhausts_it() -> None:
    spec = make_spec(objective=Fraction(1), kind=WindowKind.ALL_TIME, alerts=[INTEGRITY])
    clean = [Point(NOW - 2 * DAY, 5000, 5000), Point(NOW - MINUTE, 10, 10)]
    status = evaluate(spec, clean, NOW)
    assert (status.sli, status.budget_total, status.budget_remaining) == (1, 0, 1)
    assert not status.exhausted
    assert not status.burn_rates[0].long_above

    one_lost = evaluate(spec, [*clean, Point(NOW - 10 * MINUTE, 99, 100)], NOW)
    assert one_lost.bad == 1
    assert one_lost.budget_remaining is None
    assert one_lost.exhausted
    assert one_lost.time_to_exhaustion == timedelta(0)
    burn = one_lost.burn_rates[0]
    assert (burn.long_rate, burn.short_rate) == (None, None)
    assert (burn.long_above, burn.short_above) == (True, False)

    recent = evaluate(spec, [*clean, Point(NOW - 2 * MINUTE, 99, 100)], NOW)
    assert recent.burn_rates[0].firing


# --------------------------------------------------------------------------- validation
def test_a_naive_now_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError, match="no time zone"):
        evaluate(make_spec(length=DAY), [], datetime(2026, 10, 5, 12))
    with pytest.raises(NaiveDatetimeError):
        window_bounds(make_spec(length=DAY), datetime(2026, 10, 5, 12))


def test_a_naive_point_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError, match="point start"):
        Point(datetime(2026, 10, 5, 12), 1, 1)


@pytest.mark.parametrize(
    ("good", "total", "message"),
    [(11, 10, "more good"), (-1, 10, "negative"), (0, -1, "negative")],
)
def test_impossible_counts_are_refused(good: int, total: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Point(NOW, good, total)


def test_counts_must_be_whole_numbers() -> None:
    with pytest.raises(TypeError, match="int"):
        Point(NOW, 1.0, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("objective", [Fraction(0), Fraction(-1, 2), Fraction(1001, 1000)])
def test_an_objective_outside_zero_to_one_is_refused(objective: Fraction) -> None:
    with pytest.raises(ValueError, match="objective"):
        make_spec(objective=objective, length=DAY)


def test_a_float_objective_is_refused() -> None:
    with pytest.raises(TypeError, match="exact"):
        make_spec(objective=0.999, length=DAY)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": WindowKind.CALENDAR}, "calendar window needs a unit"),
        ({"kind": WindowKind.CALENDAR, "unit": "year"}, "calendar window needs a unit"),
        ({"kind": WindowKind.ROLLING}, "rolling window needs a length"),
        ({"kind": WindowKind.ALL_TIME, "unit": "day"}, "only a calendar window"),
        ({"kind": WindowKind.ALL_TIME, "length": DAY}, "only a rolling window"),
        ({"kind": WindowKind.ROLLING, "length": -DAY}, "positive"),
        ({"length": DAY, "method": Method.TIMESLICES}, "needs a slice"),
        ({"length": DAY, "size": MINUTE}, "only the timeslices"),
        ({"length": DAY, "method": Method.TIMESLICES, "size": SECOND / 2}, "whole number of sec"),
        ({"length": DAY, "method": Method.TIMESLICES, "size": 7 * MINUTE}, "whole number of 0:07"),
    ],
)
def test_bad_spec_combinations_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_spec(**changes)  # type: ignore[arg-type]


def test_an_alert_rule_needs_a_short_window_no_longer_than_its_long_one() -> None:
    with pytest.raises(ValueError, match="short window"):
        AlertRule("page", Fraction(6), 30 * MINUTE, 6 * HOUR)
    with pytest.raises(ValueError, match="positive"):
        AlertRule("page", Fraction(0), HOUR, MINUTE)


def test_timeslice_points_must_sit_on_the_grid_once_each_and_judge_one_slice() -> None:
    spec = make_spec(method=Method.TIMESLICES, length=HOUR, size=5 * MINUTE)
    now = utc(2026, 10, 5, 12)
    with pytest.raises(ValueError, match="not on the slice grid"):
        evaluate(spec, [Point(now - 7 * MINUTE, 1, 1)], now)
    with pytest.raises(ValueError, match="two points"):
        evaluate(spec, [Point(now - 5 * MINUTE, 1, 1), Point(now - 5 * MINUTE, 0, 0)], now)
    with pytest.raises(ValueError, match="total must be 0 or 1"):
        evaluate(spec, [Point(now - 5 * MINUTE, 2, 2)], now)
    # Points the evaluation never looks at are not checked.
    assert evaluate(spec, [Point(now - 3 * HOUR - MINUTE, 2, 2)], now).total == 0


# --------------------------------------------------------------------------- SRE workbook
T = utc(2026, 10, 5, 12)  # where every burst starts


def traffic(until: int, burst: range, errors: int, since: int = -3 * 24 * 60) -> list[Point]:
    """1000 requests in every minute from T + ``since`` to T + ``until`` minutes; ``errors`` of
    them fail in the minutes of ``burst`` (offsets from T)."""
    return [
        Point(T + offset * MINUTE, 1000 - (errors if offset in burst else 0), 1000)
        for offset in range(since, until)
    ]


def replay(
    spec: SloSpec, points: list[Point], minutes: Iterable[int]
) -> tuple[list[tuple[int, int, AlertState, AlertState]], dict[int, tuple[AlertState, ...]]]:
    """Evaluate at T + each minute in turn, carrying the records like a restarted service would.

    Returns the transitions as (minute, rule, before, after) and each minute's states.
    """
    records: dict[int, AlertRecord] = {}
    changes: list[tuple[int, int, AlertState, AlertState]] = []
    states: dict[int, tuple[AlertState, ...]] = {}
    for minute in minutes:
        status = evaluate(spec, points, T + minute * MINUTE)
        records, transitions = next_alert_states(status, dict(records))
        for change in transitions:
            assert change.at == status.now
            changes.append((minute, change.rule_index, change.before, change.after))
        states[minute] = tuple(records[index].state for index in sorted(records))
    return changes, states


def test_a_2_percent_error_burst_warns_fires_and_resolves_on_the_workbook_minutes() -> None:
    """99.9 %, 1000 requests a minute, 2 % errors from T to E = T + 90 min.

    The workbook's burn rate is error ratio / (1 - SLO) = 0.02 / 0.001 = 20 once a window is
    full of the burst. k minutes into it, a window of w minutes burns at 20 k / w:

    - 14.4 / 1 h / 5 m: 5 m is above when 20 k / 5 > 14.4, k > 3.6: WARNING at T+4;
      1 h when 20 k / 60 > 14.4, k > 43.2: FIRING at T+44.
      j minutes after the end, 5 m burns at 20 (5 - j) / 5 > 14.4 only for j < 1.4: RESOLVED at
      E+2 = T+92, while 1 h (20 (60 - j) / 60 > 14.4 for j < 16.8) is still above: it stays
      RESOLVED, not WARNING.
    - 6 / 6 h / 30 m: 30 m above when 20 k / 30 > 6, k > 9: WARNING at T+10; 6 h tops out at
      20 x 90 / 360 = 5, never above. After the end 20 (30 - j) / 30 > 6 for j < 21: OK at
      E+21 = T+111 (it never fired).
    - 1 / 3 d / 6 h: 6 h above when 20 k / 360 > 1, k > 18: WARNING at T+19; 3 d tops out at
      20 x 90 / 4320, never above; 6 h stays above until E+342, past the end of this replay.
    """
    spec = make_spec(length=28 * DAY, alerts=WORKBOOK)
    points = traffic(until=121, burst=range(0, 90), errors=20)
    changes, states = replay(spec, points, range(-5, 121))
    assert changes == [
        (4, 0, OK, WARNING),
        (10, 1, OK, WARNING),
        (19, 2, OK, WARNING),
        (44, 0, WARNING, FIRING),
        (92, 0, FIRING, RESOLVED),
        (111, 1, WARNING, OK),
    ]
    assert [states[minute][0] for minute in (0, 3, 4, 43, 44, 91, 92, 120)] == [
        OK,
        OK,
        WARNING,
        WARNING,
        FIRING,
        FIRING,
        RESOLVED,
        RESOLVED,
    ]
    cooling = evaluate(spec, points, T + 100 * MINUTE).burn_rates[0]
    assert cooling.long_above  # yet RESOLVED, not WARNING:
    assert not cooling.short_above  # only the short window rising again re-raises it


def test_a_total_outage_fires_on_the_first_minute_straight_from_ok() -> None:
    """100 % errors: 1 h burns at 1000 k / 60 > 14.4 once k > 0.864, so k = 1 (and 5 m at
    1000 k / 5): FIRING at T+1 with no WARNING. The outage lasts 30 minutes; 5 m burns at
    1000 (5 - j) / 5 > 14.4 for j < 4.928, so it resolves at E+5 = T+35."""
    spec = make_spec(length=28 * DAY, alerts=[PAGE_FAST])
    points = traffic(until=60, burst=range(0, 30), errors=1000, since=-60)
    changes, _ = replay(spec, points, range(-3, 60))
    assert changes == [(1, 0, OK, FIRING), (35, 0, FIRING, RESOLVED)]


def test_a_slow_burn_fires_the_6_hour_page_on_the_workbook_minutes() -> None:
    """99.9 %, 1000 requests a minute, 0.8 % errors (burn rate 8) from T to E = T + 400 min.

    - 14.4 / 1 h / 5 m: 8 < 14.4, never above.
    - 6 / 6 h / 30 m: 30 m above when 8 k / 30 > 6, k > 22.5: WARNING at T+23; 6 h when
      8 k / 360 > 6, k > 270 (at exactly 270 the rate is 6, not above): FIRING at T+271.
      After the end 30 m burns at 8 (30 - j) / 30 > 6 for j < 7.5: RESOLVED at E+8 = T+408.
    - 1 / 3 d / 6 h: 6 h above when 8 k / 360 > 1, k > 45: WARNING at T+46; 3 d tops out at
      8 x 400 / 4320 < 1. After the end 6 h burns at 8 (360 - j) / 360 > 1 for j < 315: it
      never fired, so OK at E+315 = T+715.
    """
    spec = make_spec(length=28 * DAY, alerts=WORKBOOK)
    points = traffic(until=720, burst=range(0, 400), errors=8)
    changes, states = replay(spec, points, range(-2, 720))
    assert changes == [
        (23, 1, OK, WARNING),
        (46, 2, OK, WARNING),
        (271, 1, WARNING, FIRING),
        (408, 1, FIRING, RESOLVED),
        (715, 2, WARNING, OK),
    ]
    assert states[719] == (OK, RESOLVED, OK)


def test_a_slower_burn_fires_the_3_day_ticket_on_the_workbook_minutes() -> None:
    """99.9 %, 1000 requests a minute, 0.2 % errors (burn rate 2) from T to E = T + 2400 min.

    - The pages never reach 6.
    - 1 / 3 d / 6 h: 6 h above when 2 k / 360 > 1, k > 180: WARNING at T+181; 3 d when
      2 k / 4320 > 1, k > 2160: FIRING at T+2161. After the end 6 h burns at
      2 (360 - j) / 360 > 1 for j < 180: RESOLVED at E+180 = T+2580, while 3 d stays above
      (2 x 2400 / 4320 > 1) for another day: still RESOLVED.
    """
    spec = make_spec(length=28 * DAY, alerts=WORKBOOK)
    points = traffic(until=2700, burst=range(0, 2400), errors=2)
    changes, states = replay(spec, points, range(-2, 2700))
    assert changes == [
        (181, 2, OK, WARNING),
        (2161, 2, WARNING, FIRING),
        (2580, 2, FIRING, RESOLVED),
    ]
    assert states[2699] == (OK, OK, RESOLVED)
    assert evaluate(spec, points, T + 2699 * MINUTE).burn_rates[2].long_above


# --------------------------------------------------------------------------- state machine
RULE = AlertRule("page", Fraction(72, 5), HOUR, 5 * MINUTE)
BEFORE = utc(2026, 10, 1)


def status_with(*above: tuple[bool, bool], now: datetime = NOW) -> SloStatus:
    """A status whose rules' windows are above as given (long, short)."""
    spec = make_spec(length=DAY, alerts=[RULE] * len(above))
    status = evaluate(spec, [], now)
    burns = tuple(
        BurnRate(RULE, Fraction(long), Fraction(short), long, short, 0, 0, 0, 0)
        for long, short in above
    )
    return dataclasses.replace(status, burn_rates=burns)


def record(state: AlertState, fired: bool = False) -> dict[int, AlertRecord]:
    return {0: AlertRecord("page", 0, state, BEFORE, BEFORE if fired else None)}


@pytest.mark.parametrize(
    ("previous", "fired", "long", "short", "expected"),
    [
        (None, False, False, False, OK),
        (None, False, True, False, WARNING),
        (None, False, False, True, WARNING),
        (None, False, True, True, FIRING),
        (OK, False, False, False, OK),
        (OK, False, True, False, WARNING),
        (OK, False, True, True, FIRING),
        (WARNING, False, False, False, OK),
        (WARNING, False, True, False, WARNING),
        (WARNING, False, False, True, WARNING),
        (WARNING, True, False, False, RESOLVED),
        (WARNING, True, True, True, FIRING),
        (FIRING, True, True, True, FIRING),
        (FIRING, True, True, False, RESOLVED),
        (FIRING, True, False, True, RESOLVED),
        (FIRING, True, False, False, RESOLVED),
        (RESOLVED, True, False, False, RESOLVED),
        (RESOLVED, True, True, False, RESOLVED),
        (RESOLVED, True, False, True, WARNING),
        (RESOLVED, True, True, True, FIRING),
        (RESOLVED, False, False, False, RESOLVED),  # a record saved without last_fired
    ],
)
def test_the_alert_state_machine(
    previous: AlertState | None, fired: bool, long: bool, short: bool, expected: AlertState
) -> None:
    prior = {} if previous is None else record(previous, fired)
    records, transitions = next_alert_states(status_with((long, short)), prior)
    after = records[0]
    assert after.state is expected
    before = OK if previous is None else previous
    if expected is before:
        assert transitions == []
        assert after.since == (NOW if previous is None else BEFORE)
    else:
        assert transitions == [
            Transition(0, "page", before, expected, NOW, Fraction(long), Fraction(short))
        ]
        assert after.since == NOW
    assert after.last_fired == (
        NOW if expected is FIRING and before is not FIRING else (BEFORE if fired else None)
    )


@pytest.mark.parametrize(
    ("before", "after", "notify"),
    [
        (OK, WARNING, False),
        (OK, FIRING, True),
        (WARNING, FIRING, True),
        (RESOLVED, FIRING, True),
        (FIRING, RESOLVED, True),
        (WARNING, RESOLVED, False),
        (WARNING, OK, False),
        (RESOLVED, WARNING, False),
    ],
)
def test_only_firing_and_resolving_a_firing_alert_notify(
    before: AlertState, after: AlertState, notify: bool
) -> None:
    assert Transition(0, "page", before, after, NOW, None, None).notify is notify


def test_rules_are_keyed_by_index_so_two_pages_keep_their_own_state() -> None:
    previous = {
        0: AlertRecord("page", 0, FIRING, BEFORE, BEFORE),
        1: AlertRecord("page", 1, OK, BEFORE),
        2: AlertRecord("old rule", 2, FIRING, BEFORE, BEFORE),
    }
    records, transitions = next_alert_states(status_with((True, True), (True, True)), previous)
    assert sorted(records) == [0, 1]  # the rule that is gone is dropped
    assert records[0] is previous[0]  # unchanged, since and all
    assert records[1] == AlertRecord("page", 1, FIRING, NOW, NOW)
    assert [(t.rule_index, t.before, t.after) for t in transitions] == [(1, OK, FIRING)]


def test_a_record_filed_under_the_wrong_index_is_refused() -> None:
    with pytest.raises(ValueError, match="index 0"):
        next_alert_states(status_with((False, False)), {0: AlertRecord("page", 1, OK, BEFORE)})


def test_an_alert_record_needs_an_aware_since() -> None:
    with pytest.raises(NaiveDatetimeError):
        AlertRecord("page", 0, OK, datetime(2026, 10, 5))


# --------------------------------------------------------------------------- the twin
BASES = [
    utc(2026, 3, 8, 7),  # New York springs forward
    utc(2026, 3, 29, 1),  # Europe springs forward
    utc(2026, 4, 4, 15),  # Lord Howe falls back half an hour
    utc(2026, 10, 3, 15, 30),  # Lord Howe springs forward
    utc(2026, 10, 25, 1),  # Europe falls back
    utc(2026, 11, 1, 6),  # New York falls back
    utc(2026, 12, 31, 23),  # a year (and quarter) ends somewhere
    utc(2027, 6, 30, 18, 30),  # Kolkata's midnight, end of a quarter
]
NOWS = st.builds(
    lambda base, minutes, second: base + timedelta(minutes=minutes, seconds=second),
    st.sampled_from(BASES),
    st.integers(-6000, 6000),
    st.sampled_from([0, 0, 0, 1, 30, 59]),
)
OBJECTIVES = st.one_of(
    st.sampled_from([Fraction(1), Fraction(999, 1000), Fraction(99, 100), Fraction(1, 2)]),
    st.fractions(min_value=Fraction(1, 100), max_value=1, max_denominator=1000),
)
SLICES_FOR = {
    "day": [MINUTE, 5 * MINUTE, 7 * MINUTE, HOUR, 90 * MINUTE],
    "week": [15 * MINUTE, HOUR],
    "month": [HOUR, 2 * HOUR],
    "quarter": [HOUR, 3 * HOUR],
}


@st.composite
def rules(draw: st.DrawFn) -> AlertRule:
    long = draw(st.integers(1, 720))
    short = draw(st.integers(1, long))
    rate = draw(st.sampled_from([Fraction(1), Fraction(2), Fraction(6), Fraction(72, 5)]))
    return AlertRule("r", rate, long * MINUTE, short * MINUTE)


@st.composite
def specs(draw: st.DrawFn) -> SloSpec:
    method = draw(st.sampled_from(list(Method)))
    kind = draw(st.sampled_from(list(WindowKind)))
    unit = draw(st.sampled_from(CALENDAR_UNITS)) if kind is WindowKind.CALENDAR else None
    size: timedelta | None = None
    length: timedelta | None = None
    if method is Method.TIMESLICES:
        pool = SLICES_FOR[unit] if unit is not None else [MINUTE, 5 * MINUTE, 7 * MINUTE, HOUR]
        size = draw(st.sampled_from(pool))
        if kind is WindowKind.ROLLING:
            length = size * draw(st.integers(1, 300))
    elif kind is WindowKind.ROLLING:
        length = draw(st.integers(1, 3 * 24 * 60)) * MINUTE
    return make_spec(
        objective=draw(OBJECTIVES),
        method=method,
        kind=kind,
        unit=unit,
        length=length,
        zone=ZoneInfo(draw(st.sampled_from(ZONES))),
        size=size,
        no_data=draw(st.sampled_from(list(NoData))),
        alerts=draw(st.lists(rules(), max_size=3)),
    )


@st.composite
def scenes(draw: st.DrawFn) -> tuple[SloSpec, list[Point], datetime]:
    """A spec, a ``now`` and sparse points near the edges that matter (and anywhere)."""
    spec = draw(specs())
    now = draw(NOWS)
    start, _ = window_bounds(spec, now)
    edges = [now, *(now - rule.long_window for rule in spec.alerts)]
    edges += [now - rule.short_window for rule in spec.alerts]
    earliest = min([*edges, start or now - DAY])
    if start is not None:
        edges.append(start)
    points: list[Point] = []
    if spec.method is Method.OCCURRENCES:
        for _ in range(draw(st.integers(0, 40))):
            if draw(st.booleans()):
                edge = draw(st.sampled_from(edges))
                edge -= timedelta(seconds=edge.second)
                at = edge + draw(st.integers(-3, 3)) * MINUTE
            else:
                span = (now - earliest) // MINUTE
                at = now + draw(st.integers(-span - 5, 5)) * MINUTE
            total = draw(st.integers(0, 50))
            points.append(Point(at, draw(st.integers(0, total)), total))
        return spec, points, now
    assert spec.slice is not None
    size = spec.slice
    anchor = start if spec.window_kind is WindowKind.CALENDAR and start is not None else EPOCH
    marks = [(edge - anchor) // size for edge in edges]
    lowest = (earliest - anchor) // size
    if spec.window_kind is WindowKind.ALL_TIME:
        lowest = marks[0] - 400
    indices: set[int] = set()
    for _ in range(draw(st.integers(0, 40))):
        if draw(st.booleans()):
            indices.add(draw(st.sampled_from(marks)) + draw(st.integers(-3, 3)))
        else:
            indices.add(draw(st.integers(lowest - 3, marks[0] + 2)))
    for index in indices:
        good = draw(st.sampled_from([True, False, None]))
        points.append(judged(anchor + index * size, good))
    return spec, points, now


def twin_rate(spec: SloSpec, bad: int, total: int) -> Fraction | None:
    if total == 0 or spec.objective == 1:
        return None
    return Fraction(bad, total) / (1 - spec.objective)


def twin(spec: SloSpec, points: list[Point], now: datetime) -> dict[str, object]:
    """The same numbers, counted one point or one slice at a time."""
    start, end = window_bounds(spec, now)
    size = spec.slice
    anchor = start if spec.window_kind is WindowKind.CALENDAR and start else EPOCH
    first = min((point.start for point in points if point.start < now), default=None)

    def slice_starts(lower: datetime, upper: datetime) -> list[datetime]:
        assert size is not None
        found = []
        candidate = anchor + (lower - anchor) // size * size
        while candidate < upper:
            if candidate >= lower:
                found.append(candidate)
            candidate += size
        return found

    def count(lower: datetime | None) -> tuple[int, int, int]:
        good = bad = missing = 0
        if spec.method is Method.OCCURRENCES:
            for point in points:
                if (lower is None or lower <= point.start) and point.start < now:
                    good += point.good
                    bad += point.total - point.good
            return good, bad, 0
        if spec.window_kind is WindowKind.ALL_TIME:
            if first is None:
                return 0, 0, 0
            lower = first if lower is None else max(lower, first)
        assert lower is not None
        by_start = {point.start: point for point in points}
        for slice_start in slice_starts(lower, now):
            judgement = by_start.get(slice_start)
            if judgement is None or judgement.total == 0:
                missing += 1
            elif judgement.good:
                good += 1
            else:
                bad += 1
        if spec.no_data is NoData.GOOD:
            good += missing
        elif spec.no_data is NoData.BAD:
            bad += missing
        return good, bad, missing

    good, bad, missing = count(start)
    if spec.method is Method.OCCURRENCES:
        n = good + bad
    elif spec.window_kind is WindowKind.CALENDAR:
        assert start is not None
        n = len(slice_starts(start, end))
    elif spec.window_kind is WindowKind.ROLLING:
        assert spec.rolling_length is not None
        assert size is not None
        n = spec.rolling_length // size
    else:
        n = 0 if first is None else len(slice_starts(first, now))
    budget = (1 - spec.objective) * n
    remaining: Fraction | None = 1 - bad / budget if budget else None
    if budget == 0 and bad == 0:
        remaining = Fraction(1)
    rates = []
    for rule in spec.alerts:
        for window in (rule.long_window, rule.short_window):
            w_good, w_bad, _ = count(now - window)
            rate = twin_rate(spec, w_bad, w_good + w_bad)
            above = w_bad > 0 if spec.objective == 1 else rate is not None and rate > rule.burn_rate
            rates.append((rate, above))
    return {
        "counts": (good, bad, good + bad, missing),
        "sli": Fraction(good, good + bad) if good + bad else None,
        "budget_total": budget,
        "remaining": remaining,
        "rates": rates,
    }


@settings(max_examples=scaled(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenes())
def test_the_engine_agrees_with_counting_one_by_one(
    scene: tuple[SloSpec, list[Point], datetime],
) -> None:
    spec, points, now = scene
    status = evaluate(spec, points, now)
    expected = twin(spec, points, now)
    counts = (status.good, status.bad, status.total, status.no_data_slices)
    assert counts == expected["counts"]
    assert status.sli == expected["sli"]
    assert status.budget_total == expected["budget_total"]
    assert status.budget_remaining == expected["remaining"]
    assert status.exhausted == (status.budget_remaining is None or status.budget_remaining <= 0)
    rates = [
        pair
        for burn in status.burn_rates
        for pair in ((burn.long_rate, burn.long_above), (burn.short_rate, burn.short_above))
    ]
    assert rates == expected["rates"]
