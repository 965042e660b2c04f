"""Service level objectives: error budgets, burn rates and burn-rate alerts (DOMAIN 7).

Everything here is a pure function of an :class:`SloSpec`, already-counted :class:`Point` values
and an aware ``now``; the service layer turns stored minute buckets into points and persists the
alert records. All arithmetic is exact (``int``, ``Fraction``, ``timedelta``); there is no float.

Windows (:func:`window_bounds`)
    ``calendar``: the day, ISO week (Monday start), month or quarter that contains ``now`` in the
    spec's zone, from local midnight to the next local midnight (DST-exact: October 2026 in
    Europe/Berlin is 745 hours). When local midnight does not exist (a DST gap at 00:00) the
    window starts at the first instant of the local day. ``rolling``: ``(now - length, now)``.
    ``all-time``: ``(None, now)``. Only data up to ``now`` is counted: a point or slice counts
    when its **start** lies in ``[window start, now)``; a minute that began before ``now`` counts
    whole, a point that starts at or after ``now`` is ignored.

Methods
    ``occurrences``: points are minute buckets of ``good`` out of ``total`` events; ``bad =
    total - good``. A point with ``total == 0`` is no data, and the no-data rule does not apply
    (no events can be invented). Points need not be aligned; two points for the same minute add.

    ``timeslices``: points are judged slices (``total == 1`` with ``good`` 0 or 1, or
    ``total == 0`` for "measured, no data"). Slices sit on a grid: aligned to the window start for
    calendar windows (the grid extends backwards for burn-rate windows that reach into the
    previous window), to multiples of the slice since the Unix epoch otherwise. The engine
    enumerates the grid itself: a slice **counts once it has started** (its start is before
    ``now``), and a started slice without a judged point is a no-data slice, which counts as good
    (``no_data: good``), bad (``bad``) or not at all (``ignore``). ``no_data_slices`` reports how
    many there were, whatever the rule. Every point the evaluation looks at must start on the
    grid, and a slice may have only one point (``ValueError`` otherwise). The last slice of a
    calendar window whose length the slice does not divide is shorter (clipped at the window end).
    An all-time window has no start: its slices begin with the earliest point given (the first
    measured slice), and burn-rate windows are clipped to that start too.

Budget (:func:`evaluate`)
    ``budget_total = (1 - objective) x N`` with N = the eligible events so far (occurrences), or
    for timeslices N = the number of slices in the **whole** window (the budget of a calendar
    month is known on the 1st: 745 hourly slices in Berlin's October), the slices elapsed so far
    for an all-time window. ``budget_consumed = bad``; ``budget_remaining = 1 - bad /
    budget_total`` (negative when overspent). With no budget (objective 100 %, or no events
    yet) the remaining share is 1 while nothing is bad and ``None`` (undefined) otherwise;
    ``exhausted`` is ``remaining <= 0`` or "no budget and something bad".

Burn rates
    For each alert rule, over the trailing windows ``[now - w, now)`` (the same start-in-range rule
    as the SLO window; with a whole-minute ``now`` that is exactly the last ``w`` of complete
    minute buckets): ``rate = (bad_w / total_w) / (1 - objective)``; ``None`` when ``total_w ==
    0``. Trailing windows are not clipped to the SLO window (burn rate is about recent traffic).
    A window is *above* when its rate is strictly greater than the rule's burn rate; with an
    objective of 100 % every rate is ``None`` and a window is above when it holds any bad event.

Time to exhaustion
    ``remaining x L / rate``, where ``rate`` is the burn rate over the shortest long window of the
    alert rules (1 hour without rules) and ``L`` the full length of the SLO window (burn rate 1
    spends exactly one window's budget in one window length). ``None`` when the rate is ``None``
    or 0, the remaining share is undefined, or the window is all-time; ``timedelta(0)`` once the
    budget is exhausted. Rounded down to whole microseconds.

Alert states (:func:`next_alert_states`)
    One record per alert rule, keyed by the rule's index (two rules may share a name)::

        both windows above                 -> FIRING             (from any state)
        FIRING,   not both above           -> RESOLVED           (even if one window is above)
        RESOLVED, short window above only  -> WARNING            (a new burn starts)
        RESOLVED, long window above only   -> RESOLVED           (the lagging tail of the burn
                                                                  that just resolved)
        OK or WARNING, one window above    -> WARNING            (burning but not confirmed,
                                                                  or cooling down)
        OK, WARNING or RESOLVED, none above-> RESOLVED if the rule has ever fired, else OK

    So a firing alert never steps down to WARNING, and an alert that has fired never returns to
    OK (RESOLVED is "quiet, has fired before"). A record's ``since`` changes only on a
    transition; ``last_fired`` remembers the last move into FIRING. Only moves into FIRING and
    from FIRING into RESOLVED are worth a notification (:attr:`Transition.notify`); a WARNING
    that calms down into RESOLVED is not (nobody was paged for it).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import accumulate
from typing import Protocol
from zoneinfo import ZoneInfo

from slakeeper.domain.intervals import require_aware, seconds

__all__ = [
    "CALENDAR_UNITS",
    "DEFAULT_PROJECTION_WINDOW",
    "AlertRecord",
    "AlertRule",
    "AlertState",
    "BurnRate",
    "Method",
    "NoData",
    "Point",
    "SloSpec",
    "SloStatus",
    "Transition",
    "WindowKind",
    "evaluate",
    "next_alert_states",
    "window_bounds",
]

#: The calendar units a calendar window can be cut in.
CALENDAR_UNITS = ("day", "week", "month", "quarter")
#: The window of the burn rate used for the time to exhaustion when a spec has no alert rules.
DEFAULT_PROJECTION_WINDOW = timedelta(hours=1)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ZERO = timedelta(0)
_SECOND = timedelta(seconds=1)
_MICROSECOND = timedelta(microseconds=1)


class WindowKind(StrEnum):
    CALENDAR = "calendar"
    ROLLING = "rolling"
    ALL_TIME = "all-time"


class Method(StrEnum):
    OCCURRENCES = "occurrences"
    TIMESLICES = "timeslices"


class NoData(StrEnum):
    """What a started timeslice without data counts as."""

    GOOD = "good"
    BAD = "bad"
    IGNORE = "ignore"


class AlertState(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FIRING = "firing"
    RESOLVED = "resolved"


def _exact(value: object, what: str) -> Fraction:
    """``value`` as a Fraction; only exact numbers (int, Fraction, finite Decimal) are taken."""
    if isinstance(value, bool) or not isinstance(value, int | Fraction | Decimal):
        raise TypeError(f"{what} must be an exact number (int, Fraction or Decimal), not {value!r}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value}")
    return Fraction(value)


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {value!r}")
    if value < 0:
        raise ValueError(f"{what} must not be negative, not {value}")
    return value


def _positive_duration(value: object, what: str) -> timedelta:
    if not isinstance(value, timedelta):
        raise TypeError(f"{what} must be a timedelta, not {value!r}")
    if value <= _ZERO:
        raise ValueError(f"{what} must be positive, not {value}")
    return value


@dataclass(frozen=True, slots=True)
class AlertRule:
    """Alert when the burn rate is above ``burn_rate`` over both windows (SRE workbook)."""

    name: str
    burn_rate: Fraction
    long_window: timedelta
    short_window: timedelta

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"an alert rule needs a name, not {self.name!r}")
        rate = _exact(self.burn_rate, f"burn rate of alert {self.name!r}")
        if rate <= 0:
            raise ValueError(f"burn rate of alert {self.name!r} must be positive, not {rate}")
        long = _positive_duration(self.long_window, f"long window of alert {self.name!r}")
        short = _positive_duration(self.short_window, f"short window of alert {self.name!r}")
        if short > long:
            raise ValueError(
                f"alert {self.name!r}: the short window ({short}) is longer than the long "
                f"window ({long})"
            )
        object.__setattr__(self, "burn_rate", rate)


@dataclass(frozen=True, slots=True)
class SloSpec:
    """One SLO: its objective, budgeting method, window, no-data rule and alert rules.

    ``calendar_unit`` is set exactly for calendar windows, ``rolling_length`` exactly for rolling
    windows and ``slice`` exactly for the timeslices method (a whole number of seconds; a rolling
    window must be a whole number of slices).
    """

    objective: Fraction
    method: Method
    window_kind: WindowKind
    calendar_unit: str | None
    rolling_length: timedelta | None
    timezone: ZoneInfo
    slice: timedelta | None
    no_data: NoData
    alerts: tuple[AlertRule, ...]

    def __post_init__(self) -> None:
        objective = _exact(self.objective, "objective")
        if not 0 < objective <= 1:
            raise ValueError(
                f"objective must be above 0 and at most 1 (e.g. Fraction(995, 1000) for "
                f"99.5 %), not {objective}"
            )
        method = Method(self.method)
        kind = WindowKind(self.window_kind)
        no_data = NoData(self.no_data)
        if not isinstance(self.timezone, ZoneInfo):
            raise TypeError(f"timezone must be a ZoneInfo, not {self.timezone!r}")
        if kind is WindowKind.CALENDAR:
            if self.calendar_unit not in CALENDAR_UNITS:
                raise ValueError(
                    f"a calendar window needs a unit (day, week, month or quarter), "
                    f"not {self.calendar_unit!r}"
                )
        elif self.calendar_unit is not None:
            raise ValueError(f"only a calendar window has a unit; this one is {kind.value}")
        if kind is WindowKind.ROLLING:
            if self.rolling_length is None:
                raise ValueError("a rolling window needs a length, e.g. timedelta(days=28)")
            _positive_duration(self.rolling_length, "rolling window length")
        elif self.rolling_length is not None:
            raise ValueError(f"only a rolling window has a length; this one is {kind.value}")
        if method is Method.TIMESLICES:
            if self.slice is None:
                raise ValueError("the timeslices method needs a slice length, e.g. 1 minute")
            size = _positive_duration(self.slice, "slice length")
            if size % _SECOND:
                raise ValueError(f"a slice must be a whole number of seconds, not {size}")
            if self.rolling_length is not None and self.rolling_length % size:
                raise ValueError(
                    f"a rolling window of {self.rolling_length} is not a whole number of "
                    f"{size} slices"
                )
        elif self.slice is not None:
            raise ValueError("only the timeslices method has a slice length")
        alerts = tuple(self.alerts)
        for rule in alerts:
            if not isinstance(rule, AlertRule):
                raise TypeError(f"alerts must be AlertRule values, not {rule!r}")
        object.__setattr__(self, "objective", objective)
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "window_kind", kind)
        object.__setattr__(self, "no_data", no_data)
        object.__setattr__(self, "alerts", alerts)

    @property
    def error_share(self) -> Fraction:
        """``1 - objective``: the share of events (or slices) that may be bad."""
        return 1 - self.objective


@dataclass(frozen=True, slots=True)
class Point:
    """``good`` out of ``total`` over ``[start, start + step)`` (a minute, or one slice)."""

    start: datetime
    good: int
    total: int

    def __post_init__(self) -> None:
        start = require_aware(self.start, "point start")
        good = _count(self.good, "good count")
        total = _count(self.total, "total count")
        if good > total:
            raise ValueError(
                f"point at {start.isoformat()} has more good ({good}) than total ({total})"
            )
        object.__setattr__(self, "start", start)


@dataclass(frozen=True, slots=True)
class BurnRate:
    """One alert rule's burn rates over its long and short trailing windows."""

    rule: AlertRule
    long_rate: Fraction | None
    short_rate: Fraction | None
    long_above: bool
    short_above: bool
    long_bad: int
    long_total: int
    short_bad: int
    short_total: int

    @property
    def firing(self) -> bool:
        """Both windows are above the rule's burn rate."""
        return self.long_above and self.short_above


@dataclass(frozen=True, slots=True)
class SloStatus:
    """An SLO evaluated at ``now`` (see the module docstring for every definition)."""

    window_start: datetime | None
    window_end: datetime
    now: datetime
    good: int
    bad: int
    total: int
    no_data_slices: int
    sli: Fraction | None
    budget_total: Fraction
    budget_consumed: Fraction
    budget_remaining: Fraction | None
    exhausted: bool
    burn_rates: tuple[BurnRate, ...]
    projection_rate: Fraction | None
    """The burn rate the time to exhaustion projects with (shortest long window, or 1 h)."""
    time_to_exhaustion: timedelta | None


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """The persisted state of one alert rule; ``last_fired`` is its last move into FIRING."""

    name: str
    rule_index: int
    state: AlertState
    since: datetime
    last_fired: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "state", AlertState(self.state))
        object.__setattr__(self, "since", require_aware(self.since, "alert record since"))
        if self.last_fired is not None:
            object.__setattr__(
                self, "last_fired", require_aware(self.last_fired, "alert record last_fired")
            )


@dataclass(frozen=True, slots=True)
class Transition:
    """A change of one rule's state at ``at``, with the burn rates that caused it."""

    rule_index: int
    name: str
    before: AlertState
    after: AlertState
    at: datetime
    long_rate: Fraction | None
    short_rate: Fraction | None

    @property
    def notify(self) -> bool:
        """Worth a notification: the alert started firing, or a firing alert resolved.

        A WARNING that calms down into RESOLVED (on a rule that fired before) is not: nobody was
        paged for it, and its earlier resolution was already announced.
        """
        return self.after is AlertState.FIRING or (
            self.after is AlertState.RESOLVED and self.before is AlertState.FIRING
        )


# --------------------------------------------------------------------------- windows
def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of local ``day`` in UTC (the DST transition if midnight is skipped)."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _calendar_days(unit: str, today: date) -> tuple[date, date]:
    """The first local day of the unit containing ``today`` and the first day after it."""
    if unit == "day":
        return today, today + timedelta(days=1)
    if unit == "week":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=7)
    if unit == "month":
        first = today.replace(day=1)
        return first, _add_months(first, 1)
    if unit == "quarter":
        first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        return first, _add_months(first, 3)
    raise ValueError(f"unknown calendar unit {unit!r}: use day, week, month or quarter")


def window_bounds(spec: SloSpec, now: datetime) -> tuple[datetime | None, datetime]:
    """The SLO window containing ``now``: ``(start, end)`` in UTC; ``start`` is ``None`` for an
    all-time window. A calendar window ends at the end of its unit, the others at ``now``."""
    now = require_aware(now, "now")
    if spec.window_kind is WindowKind.ALL_TIME:
        return None, now
    if spec.window_kind is WindowKind.ROLLING:
        assert spec.rolling_length is not None
        return now - spec.rolling_length, now
    assert spec.calendar_unit is not None
    first, following = _calendar_days(spec.calendar_unit, now.astimezone(spec.timezone).date())
    return _local_midnight(first, spec.timezone), _local_midnight(following, spec.timezone)


# --------------------------------------------------------------------------- counting
@dataclass(frozen=True, slots=True)
class _Tally:
    good: int
    bad: int
    no_data: int = 0

    @property
    def total(self) -> int:
        return self.good + self.bad


class _Counter(Protocol):
    def count(self, lower: datetime | None) -> _Tally:
        """Good, bad and no-data over the points (or slices) starting in ``[lower, now)``."""
        ...


class _Occurrences:
    """Minute buckets before ``now``, sorted, with prefix sums for range queries."""

    def __init__(self, points: Iterable[Point], now: datetime) -> None:
        ordered = sorted((p for p in points if p.start < now), key=lambda p: p.start)
        self._starts = [p.start for p in ordered]
        self._good = [0, *accumulate(p.good for p in ordered)]
        self._total = [0, *accumulate(p.total for p in ordered)]

    def count(self, lower: datetime | None) -> _Tally:
        first = 0 if lower is None else bisect.bisect_left(self._starts, lower)
        good = self._good[-1] - self._good[first]
        return _Tally(good, self._total[-1] - self._total[first] - good)


def _ceil_div(span: timedelta, size: timedelta) -> int:
    return -(-span // size)


class _Slices:
    """The slice grid before ``now`` and the judged points on it.

    ``lowest`` is the earliest instant any count will ask about: points before it are ignored,
    the others must sit on the grid. ``floor`` (all-time windows) is the first measured slice;
    nothing before it exists.
    """

    def __init__(
        self,
        points: Iterable[Point],
        now: datetime,
        size: timedelta,
        anchor: datetime,
        no_data: NoData,
        lowest: datetime | None,
    ) -> None:
        self._now = now
        self._size = size
        self._anchor = anchor
        self._no_data = no_data
        self._all_time = lowest is None
        judged: dict[int, bool | None] = {}
        for point in points:
            if point.start >= now or (lowest is not None and point.start < lowest):
                continue
            if point.total > 1:
                raise ValueError(
                    f"a timeslice point judges one slice: total must be 0 or 1, not "
                    f"{point.total} (at {point.start.isoformat()})"
                )
            offset = point.start - anchor
            if offset % size:
                raise ValueError(
                    f"timeslice point at {point.start.isoformat()} is not on the slice grid "
                    f"({size} slices aligned to {anchor.isoformat()})"
                )
            index = offset // size
            if index in judged:
                raise ValueError(f"two points for the slice at {point.start.isoformat()}")
            judged[index] = None if point.total == 0 else point.good == 1
        self.floor: datetime | None = (
            anchor + min(judged) * size if judged and self._all_time else None
        )
        ordered = sorted((index, value) for index, value in judged.items() if value is not None)
        self._indices = [index for index, _ in ordered]
        self._good = [0, *accumulate(int(value) for _, value in ordered)]
        self._bad = [0, *accumulate(int(not value) for _, value in ordered)]

    def started(self, lower: datetime) -> int:
        """The number of grid slices that start in ``[lower, now)``."""
        first = _ceil_div(lower - self._anchor, self._size)
        last = _ceil_div(self._now - self._anchor, self._size)
        return max(0, last - first)

    def count(self, lower: datetime | None) -> _Tally:
        if self._all_time:
            if self.floor is None:
                return _Tally(0, 0)  # nothing measured yet: no slice exists
            lower = self.floor if lower is None else max(lower, self.floor)
        assert lower is not None
        first = _ceil_div(lower - self._anchor, self._size)
        left = bisect.bisect_left(self._indices, first)
        good = self._good[-1] - self._good[left]
        bad = self._bad[-1] - self._bad[left]
        missing = self.started(lower) - good - bad
        if self._no_data is NoData.GOOD:
            return _Tally(good + missing, bad, missing)
        if self._no_data is NoData.BAD:
            return _Tally(good, bad + missing, missing)
        return _Tally(good, bad, missing)


# --------------------------------------------------------------------------- evaluation
def _rate(tally: _Tally, spec: SloSpec) -> Fraction | None:
    if tally.total == 0 or spec.objective == 1:
        return None
    return Fraction(tally.bad, tally.total) / spec.error_share


def _above(tally: _Tally, rate: Fraction | None, spec: SloSpec, threshold: Fraction) -> bool:
    if spec.objective == 1:
        return tally.bad > 0
    return rate is not None and rate > threshold


def _burn_rate(rule: AlertRule, counter: _Counter, spec: SloSpec, now: datetime) -> BurnRate:
    long = counter.count(now - rule.long_window)
    short = counter.count(now - rule.short_window)
    long_rate = _rate(long, spec)
    short_rate = _rate(short, spec)
    return BurnRate(
        rule=rule,
        long_rate=long_rate,
        short_rate=short_rate,
        long_above=_above(long, long_rate, spec, rule.burn_rate),
        short_above=_above(short, short_rate, spec, rule.burn_rate),
        long_bad=long.bad,
        long_total=long.total,
        short_bad=short.bad,
        short_total=short.total,
    )


def evaluate(spec: SloSpec, points: Iterable[Point], now: datetime) -> SloStatus:
    """The SLO's status at ``now`` from ``points`` (in any order, possibly outside the window)."""
    now = require_aware(now, "now")
    start, end = window_bounds(spec, now)
    given = list(points)
    for point in given:
        if not isinstance(point, Point):
            raise TypeError(f"points must be Point values, not {point!r}")
    projection_window = min((rule.long_window for rule in spec.alerts), default=None)
    if projection_window is None:
        projection_window = DEFAULT_PROJECTION_WINDOW

    counter: _Counter
    if spec.method is Method.OCCURRENCES:
        counter = _Occurrences(given, now)
        window = counter.count(start)
        slices_in_window = window.total
    else:
        assert spec.slice is not None
        size = spec.slice
        if start is None:
            counter = slices = _Slices(given, now, size, _EPOCH, spec.no_data, None)
        else:
            reach = max([rule.long_window for rule in spec.alerts] + [projection_window])
            lowest = min(start, now - reach)
            anchor = start if spec.window_kind is WindowKind.CALENDAR else _EPOCH
            counter = slices = _Slices(given, now, size, anchor, spec.no_data, lowest)
        window = slices.count(start)
        if spec.window_kind is WindowKind.ALL_TIME:
            slices_in_window = 0 if slices.floor is None else slices.started(slices.floor)
        else:
            assert start is not None
            slices_in_window = _ceil_div(end - start, size)

    budget_total = spec.error_share * slices_in_window
    bad = window.bad
    if budget_total == 0:
        remaining: Fraction | None = Fraction(1) if bad == 0 else None
        exhausted = bad > 0
    else:
        remaining = 1 - bad / budget_total
        exhausted = remaining <= 0

    projection_rate = _rate(counter.count(now - projection_window), spec)
    if spec.window_kind is WindowKind.ALL_TIME:
        window_length: timedelta | None = None
    elif spec.window_kind is WindowKind.ROLLING:
        window_length = spec.rolling_length
    else:
        assert start is not None
        window_length = end - start
    time_to_exhaustion: timedelta | None = None
    if exhausted:
        time_to_exhaustion = _ZERO
    elif (
        remaining is not None
        and projection_rate is not None
        and projection_rate != 0
        and window_length is not None
    ):
        micro = remaining * seconds(window_length) * 1_000_000 / projection_rate
        time_to_exhaustion = math.floor(micro) * _MICROSECOND

    return SloStatus(
        window_start=start,
        window_end=end,
        now=now,
        good=window.good,
        bad=bad,
        total=window.total,
        no_data_slices=window.no_data,
        sli=Fraction(window.good, window.total) if window.total else None,
        budget_total=budget_total,
        budget_consumed=Fraction(bad),
        budget_remaining=remaining,
        exhausted=exhausted,
        burn_rates=tuple(_burn_rate(rule, counter, spec, now) for rule in spec.alerts),
        projection_rate=projection_rate,
        time_to_exhaustion=time_to_exhaustion,
    )


# --------------------------------------------------------------------------- alert states
def _next_state(before: AlertState, burn: BurnRate, has_fired: bool) -> AlertState:
    if burn.long_above and burn.short_above:
        return AlertState.FIRING
    if before is AlertState.FIRING:
        return AlertState.RESOLVED
    if before is AlertState.RESOLVED:
        return AlertState.WARNING if burn.short_above else AlertState.RESOLVED
    if burn.long_above or burn.short_above:
        return AlertState.WARNING
    return AlertState.RESOLVED if has_fired else AlertState.OK


def next_alert_states(
    status: SloStatus, previous: Mapping[int, AlertRecord]
) -> tuple[dict[int, AlertRecord], list[Transition]]:
    """Every alert rule's next record from ``status`` and the persisted ``previous`` records.

    A rule without a previous record starts as OK. Records of rules the status no longer has are
    dropped; a record's name follows its rule. Transitions are the real changes only, at
    ``status.now``.
    """
    records: dict[int, AlertRecord] = {}
    transitions: list[Transition] = []
    for index, burn in enumerate(status.burn_rates):
        old = previous.get(index)
        if old is not None and old.rule_index != index:
            raise ValueError(
                f"the alert record under index {index} is for rule {old.rule_index} ({old.name!r})"
            )
        before = AlertState.OK if old is None else old.state
        last_fired = None if old is None else old.last_fired
        has_fired = last_fired is not None or before in (AlertState.FIRING, AlertState.RESOLVED)
        after = _next_state(before, burn, has_fired)
        name = burn.rule.name
        if old is not None and after is before:
            records[index] = old if old.name == name else replace(old, name=name)
            continue
        if after is AlertState.FIRING:
            last_fired = status.now
        records[index] = AlertRecord(name, index, after, status.now, last_fired)
        if after is not before:
            transitions.append(
                Transition(
                    rule_index=index,
                    name=name,
                    before=before,
                    after=after,
                    at=status.now,
                    long_rate=burn.long_rate,
                    short_rate=burn.short_rate,
                )
            )
    return records, transitions
