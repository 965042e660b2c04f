from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from slakeeper.domain.intervals import IntervalSet, NaiveDatetimeError
from slakeeper.domain.periods import Period, contract_span, month_period, parse_period


def test_a_utc_month_runs_from_midnight_on_the_first_to_midnight_on_the_next_first() -> None:
    period = month_period(2026, 10, "UTC")
    assert period.label == "2026-10"
    assert period.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 1, tzinfo=UTC)
    assert period.length == timedelta(days=31)
    assert period.days == 31
    assert period.interval.duration == timedelta(days=31)


def test_a_month_starts_at_local_midnight_converted_to_utc() -> None:
    period = month_period(2026, 10, "America/New_York")
    assert period.start == datetime(2026, 10, 1, 4, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert period.local_start.hour == 0


def test_a_new_york_november_with_the_fall_back_day_is_30_days_and_an_hour() -> None:
    period = month_period(2026, 11, "America/New_York")
    assert period.length == timedelta(days=30, hours=1)
    assert period.days == 30 + Fraction(1, 24)


def test_a_new_york_march_with_the_spring_forward_day_is_31_days_less_an_hour() -> None:
    period = month_period(2026, 3, "America/New_York")
    assert period.length == timedelta(days=31) - timedelta(hours=1)
    assert period.days == 31 - Fraction(1, 24)


def test_february_of_a_leap_year_is_29_days() -> None:
    assert month_period(2028, 2, "UTC").days == 29
    assert month_period(2026, 2, "UTC").days == 28


def test_december_ends_on_the_first_of_january_of_the_next_year() -> None:
    period = month_period(2026, 12, "Europe/Paris")
    assert period.end == datetime(2026, 12, 31, 23, tzinfo=UTC)
    assert period.days == 31


def test_a_period_label_parses_in_the_contract_time_zone() -> None:
    assert parse_period("2026-10", "America/New_York") == month_period(2026, 10, "America/New_York")


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "Oct 2026", "2026-10-01", ""])
def test_a_period_that_is_not_yyyy_mm_is_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        parse_period(text, "UTC")


def test_an_unknown_time_zone_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        month_period(2026, 10, "Mars/Olympus")


def test_a_month_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="month"):
        month_period(2026, 13, "UTC")


def test_a_period_with_naive_bounds_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        Period("x", datetime(2026, 10, 1), datetime(2026, 11, 1, tzinfo=UTC))


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="before its start"):
        Period("x", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))


def test_a_contract_starting_mid_month_is_measured_only_from_its_start() -> None:
    period = month_period(2026, 10, "UTC")
    span = contract_span(period, datetime(2026, 10, 16, tzinfo=UTC), None)
    assert span.total() == timedelta(days=16)
    assert span.start == datetime(2026, 10, 16, tzinfo=UTC)


def test_a_contract_ending_mid_month_is_measured_only_until_its_end() -> None:
    period = month_period(2026, 10, "UTC")
    span = contract_span(period, None, datetime(2026, 10, 11, tzinfo=UTC))
    assert span.total() == timedelta(days=10)


def test_an_open_contract_covers_the_whole_period() -> None:
    period = month_period(2026, 10, "UTC")
    assert contract_span(period, None, None) == IntervalSet((period.interval,))


def test_a_contract_outside_the_period_covers_none_of_it() -> None:
    period = month_period(2026, 10, "UTC")
    assert contract_span(period, datetime(2026, 11, 1, tzinfo=UTC), None) == IntervalSet()


def test_a_naive_contract_start_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        contract_span(month_period(2026, 10, "UTC"), datetime(2026, 10, 16), None)
