"""One support clock measured in business time: targets, business days, met / breached / at risk.

:func:`measure` judges a single clock (a ticket's response clock or one resolution cycle) from
its start, its stop (or "now") and the ticket's paused intervals; :mod:`slakeeper.domain.support`
replays a ticket's events into these inputs. The rules are written out in that module's
docstring.

Business-day targets (:func:`business_days_target`): a target of N business days is due at the
*close* of the Nth business day after the local day (in the calendar's zone) the clock starts on;
N = 1 reads "next business day". A business day is a local date that is not a holiday and on
which at least one opening starts (every date, for a 24x7 calendar). Its close is the latest end
of the openings that start that day (local midnight after it, for 24x7). The target is then that
close expressed as open business time from the start, so pauses push it back like any other
target. On a DST change the close is the last instant the wall clock crosses the closing time:
the later of the two on a fall-back night, the transition itself when the closing time falls in
the skipped hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from zoneinfo import ZoneInfo

from slakeeper.domain.calendars import Calendar, due, elapsed, warning_at
from slakeeper.domain.intervals import IntervalSet, require_aware

__all__ = [
    "ClockResult",
    "ClockState",
    "ClockTarget",
    "business_days_target",
    "measure",
]

_ZERO = timedelta(0)
_SECOND = timedelta(seconds=1)
# business_days_target gives up after this many local days without a business day.
_MAX_SEARCH_DAYS = 11 * 366


@dataclass(frozen=True)
class ClockTarget:
    """A clock's target: a business-time ``duration``, or ``business_days``, in ``calendar``.

    Both ``None`` is *best effort*: the clock is measured but carries no target
    (:attr:`ClockState.NO_TARGET`); enhancements run no clock in the same way.
    """

    duration: timedelta | None
    business_days: int | None
    calendar: Calendar

    def __post_init__(self) -> None:
        if self.duration is not None and self.business_days is not None:
            raise ValueError("a clock target is a duration or a number of business days, not both")
        if self.duration is not None and self.duration < _ZERO:
            raise ValueError(f"a clock target must not be negative, got {self.duration}")
        if self.business_days is not None and (
            isinstance(self.business_days, bool)
            or not isinstance(self.business_days, int)
            or self.business_days < 1
        ):
            raise ValueError(
                f"business_days must be a whole number >= 1, not {self.business_days!r}"
            )
        if not isinstance(self.calendar, Calendar):
            raise TypeError(f"calendar must be a domain Calendar, not {self.calendar!r}")

    @classmethod
    def best_effort(cls, calendar: Calendar) -> ClockTarget:
        """No target: the clock is measured in ``calendar`` and never met or breached."""
        return cls(None, None, calendar)

    @property
    def has_target(self) -> bool:
        return self.duration is not None or self.business_days is not None

    def business_time(self, start: datetime) -> timedelta | None:
        """The target as open business time from ``start`` (``None`` for best effort)."""
        if self.business_days is not None:
            return business_days_target(self.calendar, start, self.business_days)
        return self.duration


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    NO_TARGET = "no-target"


@dataclass(frozen=True)
class ClockResult:
    """A clock at ``now``. Durations are business time in ``calendar``; instants are UTC."""

    clock: str  # "response" or "resolution"
    cycle: int  # 1 for the response clock and the first resolution; +1 per reopening
    started_at: datetime
    target: timedelta | None  # business time; business days converted from started_at
    calendar: str
    due_at: datetime | None
    warning_at: datetime | None
    stopped_at: datetime | None
    elapsed: timedelta  # open, unpaused time from the start to the stop (or now)
    paused: timedelta  # open time spent paused over the same span
    state: ClockState
    at_risk: bool
    breached_at: datetime | None

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    @property
    def decided(self) -> bool:
        """Met or breached: nothing that happens later can change the verdict."""
        return self.state in (ClockState.MET, ClockState.BREACHED)


def measure(
    *,
    clock: str,
    cycle: int,
    target: ClockTarget,
    started_at: datetime,
    stopped_at: datetime | None,
    now: datetime,
    pauses: IntervalSet,
    paused_now: bool,
    warning_fraction: Fraction,
) -> ClockResult:
    """Judge one clock at ``now``.

    ``pauses`` are the ticket's paused intervals (they are clipped to the clock's span);
    ``paused_now`` says whether the ticket is paused at ``now`` (it only matters while the clock
    runs). The clock ends at ``stopped_at``, or at ``now`` while it runs.
    """
    calendar = target.calendar
    end = stopped_at if stopped_at is not None else now
    own_pauses = pauses.clip(started_at, end) if end > started_at else IntervalSet()
    open_time = elapsed(calendar, started_at, end)
    worked = elapsed(calendar, started_at, end, own_pauses)
    business_target = target.business_time(started_at)
    if business_target is None:
        return ClockResult(
            clock=clock,
            cycle=cycle,
            started_at=started_at,
            target=None,
            calendar=calendar.name,
            due_at=None,
            warning_at=None,
            stopped_at=stopped_at,
            elapsed=worked,
            paused=open_time - worked,
            state=ClockState.NO_TARGET,
            at_risk=False,
            breached_at=None,
        )
    due_at = due(calendar, started_at, business_target, own_pauses)
    warn_at = warning_at(calendar, started_at, business_target, warning_fraction, own_pauses)
    if stopped_at is not None:
        state = ClockState.MET if stopped_at <= due_at else ClockState.BREACHED
    elif now >= due_at:
        state = ClockState.BREACHED
    elif paused_now:
        state = ClockState.PAUSED
    else:
        state = ClockState.RUNNING
    running = state in (ClockState.RUNNING, ClockState.PAUSED)
    at_risk = running and Fraction(worked // timedelta(microseconds=1)) >= warning_fraction * (
        business_target // timedelta(microseconds=1)
    )
    return ClockResult(
        clock=clock,
        cycle=cycle,
        started_at=started_at,
        target=business_target,
        calendar=calendar.name,
        due_at=due_at,
        warning_at=warn_at,
        stopped_at=stopped_at,
        elapsed=worked,
        paused=open_time - worked,
        state=state,
        at_risk=at_risk,
        breached_at=due_at if state is ClockState.BREACHED else None,
    )


def business_days_target(calendar: Calendar, start: datetime, n: int) -> timedelta:
    """Open business time from ``start`` to the close of the Nth business day after its day.

    See the module docstring for what a business day and its close are. Raises
    :class:`ValueError` for ``n < 1`` or a calendar with no business day in ten years.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"the number of business days must be a whole number >= 1, not {n!r}")
    start = require_aware(start, "start")
    zone = ZoneInfo(calendar.timezone)
    day = start.astimezone(zone).date()
    found = 0
    for _ in range(_MAX_SEARCH_DAYS):
        day += timedelta(days=1)
        if _is_business_day(calendar, day):
            found += 1
            if found == n:
                return elapsed(calendar, start, _close_of(calendar, day, zone))
    raise ValueError(
        f"calendar {calendar.name!r} has no business day in the {_MAX_SEARCH_DAYS} days after "
        f"{start.isoformat()}"
    )


def _is_business_day(calendar: Calendar, day: date) -> bool:
    if calendar.always_open:
        return True
    weekday = day.weekday()
    return any(span.weekday == weekday for span in calendar.spans) and not calendar.is_holiday(day)


def _close_of(calendar: Calendar, day: date, zone: ZoneInfo) -> datetime:
    """The instant business day ``day`` closes (see the module docstring)."""
    midnight = datetime(day.year, day.month, day.day)  # noqa: DTZ001 - a wall-clock time
    if calendar.always_open:
        end_minutes = 24 * 60
    else:
        weekday = day.weekday()
        end_minutes = max(span.end_minutes for span in calendar.spans if span.weekday == weekday)
    return _last_crossing(midnight + timedelta(minutes=end_minutes), zone)


def _last_crossing(wall: datetime, zone: ZoneInfo) -> datetime:
    """The last instant at which the wall clock of ``zone`` reaches ``wall`` (naive)."""
    earlier_offset = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    later_offset = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if later_offset >= earlier_offset:  # an ordinary time, or the repeated hour of a fall back
        return later_offset
    # ``wall`` was skipped (spring forward): the clock jumps past it at the transition, which
    # lies between the two readings. Bisect on whole seconds (tzdata transitions are whole).
    low, high = later_offset, earlier_offset
    while high - low > _SECOND:
        middle = low + (high - low) // 2 // _SECOND * _SECOND
        if middle <= low:
            break
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high
