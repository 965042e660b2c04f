from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import scaled
from slakeeper.domain.exclusions import ExclusionCategory, Maintenance, applicable_exclusions
from slakeeper.domain.intervals import Interval, IntervalSet
from slakeeper.domain.periods import month_period
from slakeeper.domain.uptime import Accounting, compute_uptime

NINES_3 = Fraction(999, 1000)
NOTHING = IntervalSet()
SEPTEMBER = month_period(2026, 9, "UTC")  # 30 days
OCTOBER = month_period(2026, 10, "UTC")  # 31 days
FEBRUARY = month_period(2026, 2, "UTC")  # 28 days
SEPTEMBER_SET = IntervalSet((SEPTEMBER.interval,))
OCTOBER_SET = IntervalSet((OCTOBER.interval,))


def span(start: datetime, length: timedelta) -> IntervalSet:
    return IntervalSet.of((start, start + length))


def whole(period_start: datetime, days: int) -> IntervalSet:
    return span(period_start, timedelta(days=days))


def test_three_nines_allow_43_min_12_s_in_a_30_day_month() -> None:
    result = compute_uptime(
        whole(SEPTEMBER.start, 30),
        NOTHING,
        NOTHING,
        accounting=Accounting.COUNT_AS_UP,
        target=NINES_3,
    )
    assert result.allowed_downtime_seconds == 2592
    assert result.allowed_downtime == timedelta(minutes=43, seconds=12)


def test_three_nines_allow_44_min_38_4_s_in_a_31_day_month() -> None:
    result = compute_uptime(
        whole(OCTOBER.start, 31),
        NOTHING,
        NOTHING,
        accounting=Accounting.COUNT_AS_UP,
        target=NINES_3,
    )
    assert result.allowed_downtime_seconds == Fraction("2678.4")
    assert result.allowed_downtime == timedelta(minutes=44, seconds=38, milliseconds=400)


def test_three_nines_allow_40_min_19_2_s_in_a_28_day_month() -> None:
    result = compute_uptime(
        whole(FEBRUARY.start, 28),
        NOTHING,
        NOTHING,
        accounting=Accounting.COUNT_AS_UP,
        target=NINES_3,
    )
    assert result.allowed_downtime_seconds == Fraction("2419.2")
    assert result.allowed_downtime == timedelta(minutes=40, seconds=19, milliseconds=200)


def test_sixty_down_minutes_in_a_30_day_month_is_99_861111_percent() -> None:
    result = compute_uptime(
        SEPTEMBER_SET,
        span(SEPTEMBER.start + timedelta(days=3), timedelta(minutes=60)),
        NOTHING,
        accounting=Accounting.COUNT_AS_UP,
        target=NINES_3,
    )
    assert result.uptime == Fraction(43200 - 60, 43200)
    assert result.percent(6) == Decimal("99.861111")
    assert result.met is False


def october_with_maintenance(notice: timedelta) -> tuple[IntervalSet, IntervalSet]:
    """480 down minutes in October, of which 60 fall in a maintenance window."""
    start = datetime(2026, 10, 10, 2, tzinfo=UTC)
    downtime = span(start, timedelta(minutes=480))
    window = Interval(start, start + timedelta(minutes=60))
    announced = Maintenance(frozenset({"ingest"}), window, window.start - notice, "upgrade")
    decision = applicable_exclusions(
        [],
        [announced],
        customer="acme",
        components=["ingest"],
        honoured={ExclusionCategory.SCHEDULED_MAINTENANCE},
        min_notice=timedelta(hours=48),
    )
    return downtime, decision.window("ingest")


def test_maintenance_announced_72h_ahead_leaves_420_counted_minutes_in_31_days() -> None:
    downtime, windows = october_with_maintenance(timedelta(hours=72))
    result = compute_uptime(
        OCTOBER_SET, downtime, windows, accounting=Accounting.COUNT_AS_UP, target=NINES_3
    )
    assert result.downtime == timedelta(minutes=480)
    assert result.excluded == timedelta(minutes=60)
    assert result.counted_downtime == timedelta(minutes=420)
    assert result.uptime == Fraction(44640 - 420, 44640)
    assert result.percent(6) == Decimal("99.059140")


def test_maintenance_announced_24h_ahead_leaves_all_480_minutes_counted() -> None:
    downtime, windows = october_with_maintenance(timedelta(hours=24))
    result = compute_uptime(
        OCTOBER_SET, downtime, windows, accounting=Accounting.COUNT_AS_UP, target=NINES_3
    )
    assert result.excluded == timedelta(0)
    assert result.counted_downtime == timedelta(minutes=480)
    assert result.percent(6) == Decimal("98.924731")


def test_exactly_432_down_minutes_in_30_days_is_exactly_99_percent() -> None:
    result = compute_uptime(
        SEPTEMBER_SET,
        span(SEPTEMBER.start, timedelta(minutes=432)),
        NOTHING,
        accounting=Accounting.COUNT_AS_UP,
        target=Fraction(99, 100),
    )
    assert result.uptime == Fraction(99, 100)
    assert result.met is True  # "below 99.0 %" is strictly less


def test_remove_from_period_takes_excluded_minutes_out_of_both_sides() -> None:
    downtime = span(SEPTEMBER.start, timedelta(minutes=60))
    windows = span(SEPTEMBER.start, timedelta(minutes=30))
    result = compute_uptime(
        SEPTEMBER_SET,
        downtime,
        windows,
        accounting=Accounting.REMOVE_FROM_PERIOD,
        target=NINES_3,
    )
    assert result.uptime == Fraction(43200 - 30 - 30, 43200 - 30)
    assert result.allowed_downtime_seconds == Fraction(1, 1000) * (43200 - 30) * 60
    assert result.base_seconds == (43200 - 30) * 60


def test_count_as_up_keeps_excluded_minutes_as_uptime() -> None:
    downtime = span(SEPTEMBER.start, timedelta(minutes=60))
    windows = span(SEPTEMBER.start, timedelta(minutes=30))
    result = compute_uptime(
        SEPTEMBER_SET, downtime, windows, accounting=Accounting.COUNT_AS_UP, target=NINES_3
    )
    assert result.uptime == Fraction(43200 - 30, 43200)


def test_downtime_and_windows_outside_the_measured_span_are_ignored() -> None:
    downtime = span(SEPTEMBER.start - timedelta(hours=1), timedelta(hours=2))
    windows = span(SEPTEMBER.start - timedelta(hours=1), timedelta(hours=1, minutes=30))
    result = compute_uptime(
        SEPTEMBER_SET, downtime, windows, accounting=Accounting.COUNT_AS_UP, target=None
    )
    assert result.downtime == timedelta(hours=1)
    assert result.excluded == timedelta(minutes=30)
    assert result.counted_downtime == timedelta(minutes=30)
    assert result.met is None
    assert result.allowed_downtime_seconds is None


def test_an_empty_measured_span_is_100_percent_and_meets_its_target() -> None:
    result = compute_uptime(
        NOTHING, NOTHING, NOTHING, accounting=Accounting.COUNT_AS_UP, target=NINES_3
    )
    assert result.uptime == 1
    assert result.met is True
    assert result.percent(2) == Decimal("100.00")


def test_excess_downtime_is_what_is_counted_beyond_the_allowed() -> None:
    result = compute_uptime(
        SEPTEMBER_SET,
        span(SEPTEMBER.start, timedelta(hours=1)),
        NOTHING,
        accounting=Accounting.COUNT_AS_UP,
        target=NINES_3,
    )
    assert result.excess_downtime_seconds == 3600 - 2592


def test_the_displayed_percent_rounds_half_up() -> None:
    result = compute_uptime(
        span(SEPTEMBER.start, timedelta(seconds=8)),
        span(SEPTEMBER.start, timedelta(seconds=1)),
        NOTHING,
        accounting=Accounting.COUNT_AS_UP,
        target=None,
    )
    assert result.uptime == Fraction(7, 8)  # 87.5 %
    assert result.percent(0) == Decimal("88")


def test_a_target_above_one_is_refused() -> None:
    with pytest.raises(ValueError, match="ratio"):
        compute_uptime(
            NOTHING, NOTHING, NOTHING, accounting=Accounting.COUNT_AS_UP, target=Fraction(999)
        )


# -- property: exact uptime against counting seconds one by one ---------------------------
BASE = datetime(2028, 2, 29, 23, tzinfo=UTC)
HORIZON = 3 * 3600
spans = st.lists(st.tuples(st.integers(0, HORIZON), st.integers(0, 1800)), max_size=5)


def to_set(raw: list[tuple[int, int]]) -> IntervalSet:
    return IntervalSet.of(
        *((BASE + timedelta(seconds=s), BASE + timedelta(seconds=s + n)) for s, n in raw)
    )


def to_seconds(raw: list[tuple[int, int]]) -> set[int]:
    return {second for s, n in raw for second in range(s, s + n)}


@settings(max_examples=scaled(200), deadline=None)
@given(
    measured=spans,
    downtime=spans,
    excluded=spans,
    accounting=st.sampled_from(list(Accounting)),
    target=st.none() | st.integers(0, 1000).map(lambda n: Fraction(n, 1000)),
)
def test_uptime_agrees_with_counting_seconds(
    measured: list[tuple[int, int]],
    downtime: list[tuple[int, int]],
    excluded: list[tuple[int, int]],
    accounting: Accounting,
    target: Fraction | None,
) -> None:
    result = compute_uptime(
        to_set(measured), to_set(downtime), to_set(excluded), accounting=accounting, target=target
    )
    measured_s = to_seconds(measured)
    down_s = to_seconds(downtime) & measured_s
    excluded_s = down_s & to_seconds(excluded)
    counted_s = down_s - excluded_s
    base = len(measured_s)
    if accounting is Accounting.REMOVE_FROM_PERIOD:
        base -= len(excluded_s)
    uptime = Fraction(base - len(counted_s), base) if base else Fraction(1)

    assert result.measured == timedelta(seconds=len(measured_s))
    assert result.downtime == timedelta(seconds=len(down_s))
    assert result.excluded == timedelta(seconds=len(excluded_s))
    assert result.counted_downtime == timedelta(seconds=len(counted_s))
    assert result.uptime == uptime
    if target is None:
        assert result.met is None
        assert result.allowed_downtime_seconds is None
    else:
        assert result.met == (uptime >= target)
        assert result.allowed_downtime_seconds == (1 - target) * base
