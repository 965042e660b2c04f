"""Support clocks: seed 003's table on generic-saas, seed 004's business days, and an oracle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES, scaled
from slakeeper.domain.calendars import Calendar, OpenSpan, elapsed
from slakeeper.domain.support import (
    ClockState,
    ClockTarget,
    EventKind,
    TicketClocks,
    TicketEvent,
    business_days_target,
    replay,
)
from slakeeper.policy.loader import load_policy_file
from slakeeper.services.support_clocks import SupportClocks, support_clocks
from strategies import calendars

NEW_YORK = ZoneInfo("America/New_York")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
WAITING = "waiting-on-customer"
THREE_QUARTERS = Fraction(3, 4)

GENERIC = support_clocks(load_policy_file(EXAMPLES / "generic-saas.yaml").policy)
AGENCY = support_clocks(load_policy_file(EXAMPLES / "ai-agency.yaml").policy)
US_BUSINESS_HOURS = Calendar(
    "us-business-hours",
    "America/New_York",
    tuple(OpenSpan(day, time(9), 18 * 60) for day in range(5)),
    holiday_countries=(("US", None),),
)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK, fold=fold)


def opened(at: datetime, severity: str = "urgent") -> TicketEvent:
    return TicketEvent(at, EventKind.OPENED, severity=severity)


def event(at: datetime, kind: EventKind, **fields: str) -> TicketEvent:
    return TicketEvent(at, kind, **fields)


def on_plan(
    plan: str, events: list[TicketEvent], now: datetime, clocks: SupportClocks = GENERIC
) -> TicketClocks:
    return replay(
        events,
        now=now,
        targets=clocks.targets(plan),
        paused_statuses={WAITING},
        warning_fraction=THREE_QUARTERS,
    )


def fixed(
    response: timedelta | None,
    resolution: timedelta | None = None,
    calendar: Calendar = US_BUSINESS_HOURS,
) -> Callable[[str], tuple[ClockTarget, ClockTarget]]:
    def targets(severity: str) -> tuple[ClockTarget, ClockTarget]:
        return ClockTarget(response, None, calendar), ClockTarget(resolution, None, calendar)

    return targets


def run(
    events: list[TicketEvent],
    now: datetime,
    targets: Callable[[str], tuple[ClockTarget, ClockTarget]],
) -> TicketClocks:
    return replay(
        events,
        now=now,
        targets=targets,
        paused_statuses={WAITING},
        warning_fraction=THREE_QUARTERS,
    )


# -- seed 003: urgent is 4 h on Launch, 1 h on Business, 1 h on Enterprise -------------------------
FRIDAY_1730 = ny(2026, 1, 9, 17, 30)


def test_launch_urgent_opened_friday_1730_is_due_monday_1230_in_business_hours() -> None:
    clocks = on_plan("launch", [opened(FRIDAY_1730)], now=ny(2026, 1, 10, 12))
    response = clocks.response
    assert response.target == 4 * HOUR
    assert response.calendar == "business-hours"
    assert response.due_at == ny(2026, 1, 12, 12, 30)
    assert response.elapsed == 30 * MINUTE
    assert response.state is ClockState.RUNNING
    assert response.due_at is not None
    assert response.due_at.tzinfo is UTC


def test_business_urgent_opened_friday_1730_is_due_1830_in_extended_hours() -> None:
    response = on_plan("business", [opened(FRIDAY_1730)], now=FRIDAY_1730).response
    assert (response.target, response.calendar) == (HOUR, "extended-hours")
    assert response.due_at == ny(2026, 1, 9, 18, 30)


def test_business_urgent_opened_friday_2130_runs_into_monday_morning() -> None:
    start = ny(2026, 1, 9, 21, 30)
    response = on_plan("business", [opened(start)], now=start).response
    assert response.due_at == ny(2026, 1, 12, 6, 30)


def test_enterprise_urgent_opened_friday_1730_is_due_1830_round_the_clock() -> None:
    responded = event(ny(2026, 1, 9, 18, 40), EventKind.RESPONDED)
    response = on_plan("enterprise", [opened(FRIDAY_1730), responded], now=ny(2026, 2, 1)).response
    assert (response.target, response.calendar) == (HOUR, "24x7")
    assert response.due_at == ny(2026, 1, 9, 18, 30)
    assert response.state is ClockState.BREACHED
    assert response.breached_at == response.due_at
    assert response.elapsed == 70 * MINUTE


def test_developer_is_best_effort_so_its_clocks_have_no_target() -> None:
    clocks = on_plan("developer", [opened(FRIDAY_1730)], now=ny(2026, 3, 1))
    for clock in clocks.clocks:
        assert clock.state is ClockState.NO_TARGET
        assert (clock.target, clock.due_at, clock.warning_at, clock.breached_at) == (None,) * 4
        assert not clock.at_risk
    assert clocks.response.elapsed == 9 * 35 * HOUR + 30 * MINUTE  # still measured


def test_an_hour_round_the_clock_on_the_spring_forward_night_is_one_real_hour() -> None:
    start = ny(2026, 3, 8, 1, 30)  # EST; 02:00 becomes 03:00 EDT
    response = on_plan("enterprise", [opened(start)], now=start).response
    assert response.due_at == ny(2026, 3, 8, 3, 30)
    assert response.due_at - start == HOUR


def test_three_hours_on_the_fall_back_night_end_when_the_wall_clock_says_two() -> None:
    start = ny(2026, 11, 1, 0, 45)  # EDT; 02:00 EDT becomes 01:00 EST
    responded = event(ny(2026, 11, 1, 2, 50), EventKind.RESPONDED)
    response = on_plan("enterprise", [opened(start, "normal"), responded], now=ny(2026, 12, 1))
    assert response.response.due_at == ny(2026, 11, 1, 2, 45)
    assert response.response.elapsed == 3 * HOUR + 5 * MINUTE
    assert response.response.state is ClockState.BREACHED


def test_next_business_day_from_friday_1730_across_spring_forward_closes_monday() -> None:
    start = ny(2026, 3, 6, 17, 30)
    response = on_plan("launch", [opened(start, "normal")], now=start).response
    assert response.target == 9 * HOUR + 30 * MINUTE
    assert response.due_at == ny(2026, 3, 9, 18)


def test_the_day_before_a_us_holiday_skips_the_holiday() -> None:
    start = ny(2026, 7, 2, 15)  # Thursday; Friday 3 July is Independence Day (observed)
    response = run([opened(start)], start, fixed(4 * HOUR)).response
    assert response.due_at == ny(2026, 7, 6, 10)
    assert business_days_target(US_BUSINESS_HOURS, start, 1) == 12 * HOUR
    assert business_days_target(US_BUSINESS_HOURS, ny(2026, 11, 25, 16), 1) == 11 * HOUR


def test_a_weekend_spent_waiting_on_the_customer_does_not_count() -> None:
    start = ny(2026, 4, 3, 16)  # Friday, Enterprise normal: 3 h round the clock
    events = [
        opened(start, "normal"),
        event(ny(2026, 4, 3, 16, 20), EventKind.RESPONDED, status=WAITING),
        event(ny(2026, 4, 3, 17), EventKind.STATUS_CHANGED, status=WAITING),
        event(ny(2026, 4, 6, 9), EventKind.CUSTOMER_REPLIED),
    ]
    clocks = on_plan("enterprise", events, now=ny(2026, 4, 6, 10, 30))
    assert clocks.response.state is ClockState.MET
    assert clocks.response.paused == timedelta(0)
    resolution = clocks.resolution[0]
    assert resolution.target is None  # generic-saas promises responses only
    assert resolution.elapsed == 20 * MINUTE + 90 * MINUTE
    assert resolution.paused == ny(2026, 4, 6, 9) - ny(2026, 4, 3, 16, 20)
    assert clocks.status == "open"


def test_a_paused_clock_is_due_as_if_it_resumed_now() -> None:
    start = ny(2026, 4, 3, 16)
    events = [
        opened(start),
        event(ny(2026, 4, 3, 16, 30), EventKind.STATUS_CHANGED, status=WAITING),
    ]
    targets = fixed(None, 2 * HOUR)
    friday = run(events, ny(2026, 4, 3, 17), targets).resolution[0]
    monday = run(events, ny(2026, 4, 6, 10), targets).resolution[0]
    assert friday.state is monday.state is ClockState.PAUSED
    assert friday.due_at == ny(2026, 4, 6, 9, 30)  # 1.5 h left at 17:00: 1 h Friday, 30 min Monday
    assert monday.due_at == ny(2026, 4, 6, 11, 30)
    assert monday.elapsed == 30 * MINUTE
    assert monday.paused == 90 * MINUTE + HOUR  # open hours only: Friday 16:30-18, Monday 9-10


def test_customer_reply_while_not_paused_keeps_the_status() -> None:
    start = ny(2026, 4, 1, 10)
    events = [
        opened(start),
        event(ny(2026, 4, 1, 11), EventKind.STATUS_CHANGED, status="in-progress"),
        event(ny(2026, 4, 1, 12), EventKind.CUSTOMER_REPLIED),
    ]
    assert run(events, ny(2026, 4, 1, 13), fixed(HOUR)).status == "in-progress"


def test_reopening_starts_a_new_resolution_cycle_and_keeps_the_first() -> None:
    start = ny(2026, 5, 4, 9)  # Monday
    events = [
        opened(start),
        event(ny(2026, 5, 4, 9, 30), EventKind.RESPONDED),
        event(ny(2026, 5, 4, 12), EventKind.RESOLVED),
        event(ny(2026, 5, 5, 10), EventKind.REOPENED),
        event(ny(2026, 5, 5, 12), EventKind.RESOLVED),
        event(ny(2026, 5, 6, 9), EventKind.REOPENED),
    ]
    clocks = run(events, ny(2026, 5, 6, 10, 30), fixed(HOUR, 4 * HOUR))
    first, second, third = clocks.resolution
    assert [c.cycle for c in clocks.resolution] == [1, 2, 3]
    assert (first.started_at, first.stopped_at, first.state) == (
        start,
        ny(2026, 5, 4, 12),
        ClockState.MET,
    )
    assert (second.started_at, second.elapsed, second.state) == (
        ny(2026, 5, 5, 10),
        2 * HOUR,
        ClockState.MET,
    )
    assert (third.stopped_at, third.elapsed, third.state) == (None, 90 * MINUTE, ClockState.RUNNING)
    assert clocks.response.stopped_at == ny(2026, 5, 4, 9, 30)
    assert clocks.status == "open"


def test_repeated_resolutions_and_a_reopen_while_open_change_nothing() -> None:
    start = ny(2026, 5, 4, 9)
    events = [
        opened(start),
        event(ny(2026, 5, 4, 10), EventKind.REOPENED),
        event(ny(2026, 5, 4, 11), EventKind.RESOLVED),
        event(ny(2026, 5, 4, 12), EventKind.RESOLVED),
    ]
    clocks = run(events, ny(2026, 5, 5), fixed(HOUR, 4 * HOUR))
    assert len(clocks.resolution) == 1
    assert clocks.resolution[0].stopped_at == ny(2026, 5, 4, 11)


def test_resolving_without_a_response_stops_the_response_clock() -> None:
    start = ny(2026, 5, 4, 9)
    events = [opened(start), event(ny(2026, 5, 4, 9, 45), EventKind.RESOLVED)]
    response = run(events, ny(2026, 5, 8), fixed(HOUR)).response
    assert (response.stopped_at, response.state) == (ny(2026, 5, 4, 9, 45), ClockState.MET)


def test_raising_the_severity_keeps_the_elapsed_time_and_recomputes_due_from_the_start() -> None:
    start = ny(2026, 1, 5, 9)  # Monday, Enterprise: normal 3 h, urgent 1 h
    raised = event(ny(2026, 1, 5, 9, 50), EventKind.SEVERITY_CHANGED, severity="Sev-1")
    before = on_plan("enterprise", [opened(start, "normal")], now=ny(2026, 1, 5, 9, 50))
    after = on_plan("enterprise", [opened(start, "normal"), raised], now=ny(2026, 1, 5, 9, 50))
    assert before.response.due_at == ny(2026, 1, 5, 12)
    assert after.response.due_at == ny(2026, 1, 5, 10)
    assert after.response.elapsed == before.response.elapsed == 50 * MINUTE
    assert after.response.at_risk
    assert not before.response.at_risk
    assert after.severity == "Sev-1"


def test_raising_the_severity_past_the_new_target_breaches_at_the_new_due() -> None:
    start = ny(2026, 1, 5, 9)
    raised = event(ny(2026, 1, 5, 10, 10), EventKind.SEVERITY_CHANGED, severity="urgent")
    response = on_plan("enterprise", [opened(start, "normal"), raised], ny(2026, 1, 5, 10, 10))
    assert response.response.state is ClockState.BREACHED
    assert response.response.breached_at == ny(2026, 1, 5, 10)


def test_a_stopped_clock_keeps_the_severity_it_stopped_under() -> None:
    start = ny(2026, 1, 5, 9)
    events = [
        opened(start, "normal"),
        event(ny(2026, 1, 5, 10, 30), EventKind.RESPONDED),
        event(ny(2026, 1, 5, 11), EventKind.SEVERITY_CHANGED, severity="urgent"),
    ]
    clocks = on_plan("enterprise", events, now=ny(2026, 1, 6))
    assert (clocks.response.target, clocks.response.state) == (3 * HOUR, ClockState.MET)


def test_at_risk_from_75_percent_of_the_target_with_the_warning_inside_open_hours() -> None:
    start = ny(2026, 1, 9, 16)  # Launch urgent, 4 h of business hours; Friday closes at 18:00
    just_before = on_plan("launch", [opened(start)], now=ny(2026, 1, 12, 9, 59)).response
    at_three_hours = on_plan("launch", [opened(start)], now=ny(2026, 1, 12, 10)).response
    assert just_before.warning_at == at_three_hours.warning_at == ny(2026, 1, 12, 10)
    assert not just_before.at_risk
    assert at_three_hours.at_risk
    assert at_three_hours.state is ClockState.RUNNING
    breached = on_plan("launch", [opened(start)], now=ny(2026, 1, 12, 11)).response
    assert breached.state is ClockState.BREACHED
    assert not breached.at_risk


def test_a_response_exactly_at_due_is_met_but_a_silent_clock_at_due_is_breached() -> None:
    start = ny(2026, 1, 5, 9)
    due_at = ny(2026, 1, 5, 10)
    responded = event(due_at, EventKind.RESPONDED)
    assert run([opened(start), responded], due_at, fixed(HOUR)).response.state is ClockState.MET
    assert run([opened(start)], due_at, fixed(HOUR)).response.state is ClockState.BREACHED


def test_events_after_now_are_not_seen() -> None:
    start = ny(2026, 1, 5, 9)
    events = [opened(start), event(ny(2026, 1, 5, 11), EventKind.RESPONDED)]
    response = run(events, ny(2026, 1, 5, 9, 30), fixed(HOUR)).response
    assert (response.stopped_at, response.elapsed, response.state) == (
        None,
        30 * MINUTE,
        ClockState.RUNNING,
    )


def test_events_at_the_same_instant_keep_their_order() -> None:
    start = ny(2026, 1, 5, 9)
    later = ny(2026, 1, 5, 10)
    pause_then_reply = [
        opened(start),
        event(later, EventKind.STATUS_CHANGED, status=WAITING),
        event(later, EventKind.CUSTOMER_REPLIED),
    ]
    reply_then_pause = [pause_then_reply[0], pause_then_reply[2], pause_then_reply[1]]
    assert run(pause_then_reply, ny(2026, 1, 5, 11), fixed(HOUR)).status == "open"
    assert run(reply_then_pause, ny(2026, 1, 5, 11), fixed(HOUR)).status == WAITING


# -- seed 004 on ai-agency: business days ------------------------------------------------------
def test_agency_standard_critical_resolution_is_two_business_days_after_a_holiday() -> None:
    start = ny(2026, 7, 2, 10)  # Thursday before Independence Day (observed Friday)
    clocks = on_plan("standard", [opened(start, "critical")], ny(2026, 7, 2, 10), AGENCY)
    resolution = clocks.resolution[0]
    assert resolution.target == 7 * HOUR + 8 * HOUR + 8 * HOUR
    assert resolution.due_at == ny(2026, 7, 7, 17)
    assert clocks.response.target == 4 * HOUR


def test_agency_next_business_day_from_friday_evening_is_saturday_noon_on_priority() -> None:
    start = ny(2026, 1, 9, 18)  # extended hours: Mon-Fri 07-21, Saturday 09-13
    response = on_plan("priority", [opened(start, "medium")], start, AGENCY).response
    assert response.target == 3 * HOUR + 4 * HOUR
    assert response.due_at == ny(2026, 1, 10, 13)


def test_waiting_on_the_customer_pushes_a_business_day_target_back() -> None:
    start = ny(2026, 3, 2, 10)  # Monday; standard critical resolution: 2 business days
    waiting = event(ny(2026, 3, 2, 11), EventKind.STATUS_CHANGED, status=WAITING)
    replied = event(ny(2026, 3, 3, 15), EventKind.CUSTOMER_REPLIED)
    clocks = on_plan("standard", [opened(start, "critical"), waiting, replied], start, AGENCY)
    plain = clocks.resolution[0]
    assert plain.due_at == ny(2026, 3, 4, 17)
    later = on_plan(
        "standard", [opened(start, "critical"), waiting, replied], ny(2026, 3, 3, 16), AGENCY
    )
    resolution = later.resolution[0]
    assert resolution.target == plain.target == 7 * HOUR + 16 * HOUR
    assert resolution.paused == 6 * HOUR + 6 * HOUR  # Monday 11-17, Tuesday 9-15
    assert resolution.due_at == ny(2026, 3, 6, 13)  # 12 business hours later than planned


def test_agency_enhancements_run_no_clock() -> None:
    start = ny(2026, 1, 5, 9)
    clocks = replay(
        [opened(start, "critical")],
        now=ny(2026, 2, 1),
        targets=AGENCY.targets("critical", enhancement=True),
        paused_statuses=AGENCY.paused_statuses,
        warning_fraction=AGENCY.warning_fraction,
    )
    assert {clock.state for clock in clocks.clocks} == {ClockState.NO_TARGET}


def test_business_days_on_a_24x7_calendar_end_at_local_midnight() -> None:
    always = Calendar("24x7", "America/New_York", always_open=True)
    assert business_days_target(always, ny(2026, 1, 5, 10), 1) == 38 * HOUR
    assert business_days_target(always, ny(2026, 3, 7, 10), 1) == 37 * HOUR  # spring forward


def test_a_business_day_closing_inside_the_skipped_hour_closes_at_the_transition() -> None:
    late = Calendar("late", "America/New_York", (OpenSpan(5, time(20), 26 * 60 + 30),))
    start = ny(2026, 2, 28, 21)  # Saturday; next Saturday's opening runs to 02:30 Sunday 8 March
    assert business_days_target(late, start, 1) == 5 * HOUR + 30 * MINUTE + 6 * HOUR
    night = Calendar("night", "America/New_York", (OpenSpan(6, time(0), 2 * 60 + 30),))
    # 8 March 2026: 00:00-02:30 loses 02:00-02:30, so the day closes at 03:00 EDT.
    assert business_days_target(night, ny(2026, 3, 1, 1), 1) == 90 * MINUTE + 2 * HOUR
    fold = Calendar("fold", "America/New_York", (OpenSpan(6, time(0), 90),))
    # 1 November 2026: 00:00-01:30 is open until 01:30 EDT and again 01:00-01:30 EST (2 h in
    # all); the day closes at the second 01:30.
    assert business_days_target(fold, ny(2026, 10, 25, 0, 30), 1) == HOUR + 2 * HOUR


def test_business_days_need_a_positive_count_and_a_calendar_that_opens() -> None:
    with pytest.raises(ValueError, match=">= 1"):
        business_days_target(US_BUSINESS_HOURS, ny(2026, 1, 5), 0)
    never = Calendar("never", "UTC")
    with pytest.raises(ValueError, match="no business day"):
        business_days_target(never, ny(2026, 1, 5), 1)
    with pytest.raises(ValueError, match="not both"):
        ClockTarget(HOUR, 1, US_BUSINESS_HOURS)


# -- errors ------------------------------------------------------------------------------------
def test_the_first_event_must_be_the_opening() -> None:
    start = ny(2026, 1, 5, 9)
    responded = event(ny(2026, 1, 5, 8), EventKind.RESPONDED)
    with pytest.raises(ValueError, match="comes before the ticket was opened"):
        run([opened(start), responded], start, fixed(HOUR))
    with pytest.raises(ValueError, match="no opened event"):
        run([responded], start, fixed(HOUR))
    with pytest.raises(ValueError, match="at least its opened event"):
        run([], start, fixed(HOUR))
    with pytest.raises(ValueError, match="opened twice"):
        run([opened(start), opened(ny(2026, 1, 6))], ny(2026, 1, 7), fixed(HOUR))
    with pytest.raises(ValueError, match="after now"):
        run([opened(start)], ny(2026, 1, 4), fixed(HOUR))


def test_events_refuse_naive_times_unknown_kinds_and_missing_fields() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        TicketEvent(datetime(2026, 1, 5, 9), EventKind.OPENED, severity="urgent")
    with pytest.raises(ValueError, match="unknown event kind 'closed'"):
        TicketEvent(ny(2026, 1, 5), "closed")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="must carry the ticket's severity"):
        TicketEvent(ny(2026, 1, 5), EventKind.OPENED)
    with pytest.raises(ValueError, match="must carry the new status"):
        TicketEvent(ny(2026, 1, 5), EventKind.STATUS_CHANGED)
    with pytest.raises(ValueError, match="cannot carry a severity"):
        TicketEvent(ny(2026, 1, 5), EventKind.RESPONDED, severity="urgent")
    assert TicketEvent(ny(2026, 1, 5), "responded").kind is EventKind.RESPONDED  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no time zone"):
        run([opened(ny(2026, 1, 5))], datetime(2026, 1, 6), fixed(HOUR))


def test_an_unknown_severity_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no support targets for severity 'P9'"):
        on_plan("enterprise", [opened(ny(2026, 1, 5), "P9")], now=ny(2026, 1, 6))


# -- the oracle --------------------------------------------------------------------------------
def oracle_is_open(calendar: Calendar, instant: datetime) -> bool:
    """The calendar definition, literally (as in test_calendars)."""
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


@dataclass
class OracleClock:
    start: int  # minutes from the opening
    stop: int | None


@dataclass
class Oracle:
    """Minute-by-minute replay: the status at each minute and the clocks' spans."""

    paused: list[bool]  # per minute from the opening to now
    response: OracleClock
    cycles: list[OracleClock]
    paused_now: bool


def oracle_replay(events: list[tuple[int, str, str | None]], now: int) -> Oracle:
    """``events`` as (minute, kind, status), sorted, the first an opening at minute 0."""
    status = "open"
    response = OracleClock(0, None)
    cycles = [OracleClock(0, None)]
    paused = []
    index = 1
    for minute in range(now + 1):
        while index < len(events) and events[index][0] == minute:
            _, kind, new_status = events[index]
            was_paused = status == WAITING
            if kind == "responded" and response.stop is None:
                response.stop = minute
            elif kind == "customer-replied" and was_paused:
                status = "open"
            elif kind == "resolved":
                if response.stop is None:
                    response.stop = minute
                if cycles[-1].stop is None:
                    cycles[-1].stop = minute
                status = "resolved"
            elif kind == "reopened":
                if cycles[-1].stop is not None:
                    cycles.append(OracleClock(minute, None))
                status = "open"
            if new_status is not None:
                status = new_status
            index += 1
        if minute < now:
            paused.append(status == WAITING)
    return Oracle(paused, response, cycles, status == WAITING)


ANCHORS = [
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 4, 5, tzinfo=UTC),
    datetime(2028, 2, 29, tzinfo=UTC),
]
KINDS = ["responded", "customer-replied", "status-changed", "resolved", "reopened"]


@dataclass
class Scenario:
    calendar: Calendar
    opened_at: datetime
    events: list[tuple[int, str, str | None]]
    now: int
    response_minutes: int | None
    resolution_minutes: int | None

    def ticket(self) -> list[TicketEvent]:
        out = [opened(self.opened_at, "s")]
        for minute, kind, status in self.events[1:]:
            out.append(TicketEvent(self.at(minute), EventKind(kind), status=status))
        return out

    def at(self, minute: int) -> datetime:
        return self.opened_at + minute * MINUTE

    def targets(self) -> Callable[[str], tuple[ClockTarget, ClockTarget]]:
        def minutes(value: int | None) -> timedelta | None:
            return None if value is None else value * MINUTE

        return fixed(
            minutes(self.response_minutes), minutes(self.resolution_minutes), self.calendar
        )

    def replay(self, now: int) -> TicketClocks:
        return run(self.ticket(), self.at(now), self.targets())


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    anchor = draw(st.sampled_from(ANCHORS))
    calendar = draw(
        calendars(anchor.date(), min_spans=1, max_spans=5, holiday_days=3, always_open_one_in=8)
    )
    opened_at = anchor + draw(st.integers(-1440, 1440)) * MINUTE
    events: list[tuple[int, str, str | None]] = [(0, "opened", None)]
    minute = 0
    for _ in range(draw(st.integers(0, 8))):
        minute += draw(st.integers(0, 600))
        kind = draw(st.sampled_from(KINDS))
        status = draw(st.sampled_from([None, WAITING, "in-progress"]))
        if kind == "status-changed" and status is None:
            status = WAITING
        events.append((minute, kind, status))
    now = minute + draw(st.integers(0, 1440))
    response = draw(st.one_of(st.none(), st.integers(1, 240)))
    resolution = draw(st.one_of(st.none(), st.integers(1, 600)))
    return Scenario(calendar, opened_at, events, now, response, resolution)


PROPERTY_SETTINGS = settings(
    max_examples=scaled(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
DUE_WINDOW = 3 * 24 * 60  # minutes past now the oracle looks for a due instant


def oracle_due(
    scenario: Scenario, flags: list[bool], oracle: Oracle, clock: OracleClock, target: int
) -> int | None:
    """Minute at which ``target`` open, unpaused minutes have passed since the clock started."""
    end = clock.stop if clock.stop is not None else scenario.now
    counted = 0
    for minute in range(clock.start, scenario.now + DUE_WINDOW):
        paused = minute < end and oracle.paused[minute]
        if flags[minute] and not paused:
            counted += 1
            if counted == target:
                return minute + 1
    return None


@PROPERTY_SETTINGS
@given(scenarios())
def test_replay_matches_a_minute_by_minute_oracle(scenario: Scenario) -> None:
    oracle = oracle_replay(scenario.events, scenario.now)
    flags = [
        oracle_is_open(scenario.calendar, scenario.at(m)) for m in range(scenario.now + DUE_WINDOW)
    ]
    result = scenario.replay(scenario.now)
    pairs = [(result.response, oracle.response, scenario.response_minutes)]
    pairs += [
        (r, o, scenario.resolution_minutes)
        for r, o in zip(result.resolution, oracle.cycles, strict=True)
    ]
    assert len(result.resolution) == len(oracle.cycles)
    for got, expected, target in pairs:
        end = expected.stop if expected.stop is not None else scenario.now
        span = range(expected.start, end)
        assert got.started_at == scenario.at(expected.start)
        assert got.stopped_at == (None if expected.stop is None else scenario.at(expected.stop))
        assert got.elapsed == sum(flags[m] and not oracle.paused[m] for m in span) * MINUTE
        assert got.paused == sum(flags[m] and oracle.paused[m] for m in span) * MINUTE
        if target is None:
            assert got.state is ClockState.NO_TARGET
            continue
        due_minute = oracle_due(scenario, flags, oracle, expected, target)
        if due_minute is None:  # beyond the window: not breached yet
            assert got.state is not ClockState.BREACHED
            continue
        assert got.due_at == scenario.at(due_minute)
        if expected.stop is not None:
            want = ClockState.MET if expected.stop <= due_minute else ClockState.BREACHED
        elif scenario.now >= due_minute:
            want = ClockState.BREACHED
        else:
            want = ClockState.PAUSED if oracle.paused_now else ClockState.RUNNING
        assert got.state is want
        running = want in (ClockState.RUNNING, ClockState.PAUSED)
        assert got.at_risk == (running and got.elapsed * 4 >= target * MINUTE * 3)


@PROPERTY_SETTINGS
@given(scenarios(), st.floats(0, 1))
def test_due_is_stable_as_the_history_grows(scenario: Scenario, share: float) -> None:
    cut = round(share * scenario.now)
    oracle = oracle_replay(scenario.events, scenario.now)
    early = scenario.replay(cut)
    late = scenario.replay(scenario.now)
    for before, after in zip(early.clocks, late.clocks, strict=False):
        if before.stopped_at is not None:  # a stopped clock is final
            assert before == after
            continue
        if after.target is None or after.due_at is None or before.due_at is None:
            continue
        end = after.stopped_at or scenario.at(scenario.now)
        if after.due_at >= end:  # due minus paused business time is the target
            open_time = elapsed(scenario.calendar, after.started_at, after.due_at)
            assert open_time - after.paused == after.target
        # Nothing paused between the cut and the due instant (or the stop): the due instant
        # seen at the cut was already the final one.
        due_minute = (after.due_at - scenario.opened_at) // MINUTE
        last = min(due_minute, (end - scenario.opened_at) // MINUTE)
        if not any(oracle.paused[cut:last]):
            assert before.due_at == after.due_at
