"""Business-time calendars: weekly opening hours in an IANA zone, holidays, 24x7.

An instant ``t`` is *open* in a calendar when the calendar is ``always_open``, or when, with
``L`` the wall-clock time of ``t`` in the calendar's zone (a naive datetime), some
:class:`OpenSpan` ``s`` and local date ``D`` satisfy ``D.weekday() == s.weekday``, ``D`` is not a
holiday and ``combine(D, s.start) <= L < combine(D, 00:00) + s.end_minutes``. An overnight span
belongs to the day it starts on (a holiday on that day closes all of it), and across DST the wall
clock decides: on a fall-back day a 01:00-01:30 opening is open twice, on a spring-forward day an
opening inside the skipped hour is never open.

The engine never steps minute by minute. It cuts the UTC time line into fixed blocks of
``_BLOCK_DAYS`` days; for each block it lists the wall-clock windows of the local days that can
reach it, maps them to UTC through the zone's offset segments (found by sampling the zone and
bisecting to the second), and keeps the block's sorted open intervals with running totals. A
block is built once per calendar and cached, so ``elapsed`` and ``due`` are a few bisections per
block crossed. Internally instants are integers of microseconds since 1970-01-01T00:00Z and wall
times the same count for the naive wall clock, so all arithmetic is exact and happens in UTC.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from slakeeper.domain.intervals import Interval, IntervalSet, require_aware

__all__ = [
    "Calendar",
    "OpenSpan",
    "due",
    "elapsed",
    "is_open",
    "open_intervals",
    "warning_at",
]

_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_SECOND_US = 1_000_000
_MINUTE_US = 60 * _SECOND_US
_DAY_US = 86_400 * _SECOND_US
_MAX_END_MINUTES = 2 * 24 * 60

_BLOCK_DAYS = 32
_BLOCK_US = _BLOCK_DAYS * _DAY_US
# Offsets are sampled this often and transitions found by bisection between samples: two
# transitions closer together than this (none exist in tzdata's modern data) would be missed.
_SAMPLE_US = 6 * 3600 * _SECOND_US
# ``due`` gives up when this many days in a row have no open time at all.
_NEVER_OPEN_DAYS = 11 * 365
# Blocks whose local days and instants stay well inside date.min..date.max.
_MIN_BLOCK = -((_EPOCH_ORDINAL - 1) // _BLOCK_DAYS) + 2
_MAX_BLOCK = (date.max.toordinal() - _EPOCH_ORDINAL) // _BLOCK_DAYS - 3


# -- public data -------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenSpan:
    """One opening in a weekly schedule.

    ``weekday`` (0 = Monday .. 6 = Sunday) is the day the opening starts on, ``start`` its local
    wall-clock start, ``end_minutes`` where it ends in minutes after local midnight of that day:
    1440 is 24:00, more than 1440 runs into the next day (at most 2880).
    """

    weekday: int
    start: time
    end_minutes: int

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int):
            raise TypeError(f"weekday must be an int 0..6, not {self.weekday!r}")
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), not {self.weekday}")
        if not isinstance(self.start, time):
            raise TypeError(f"start must be a datetime.time, not {self.start!r}")
        if self.start.tzinfo is not None:
            raise ValueError("start is a local wall-clock time and must not carry a tzinfo")
        if isinstance(self.end_minutes, bool) or not isinstance(self.end_minutes, int):
            raise TypeError(f"end_minutes must be an int, not {self.end_minutes!r}")
        if not self.start_us < self.end_minutes * _MINUTE_US:
            raise ValueError(
                f"opening ends ({self.end_minutes} min after midnight) "
                f"at or before it starts ({self.start.isoformat()})"
            )
        if self.end_minutes > _MAX_END_MINUTES:
            raise ValueError(
                f"end_minutes is at most {_MAX_END_MINUTES} (24:00 the next day), "
                f"not {self.end_minutes}"
            )

    @property
    def start_us(self) -> int:
        """Microseconds from local midnight to the start."""
        s = self.start
        return ((s.hour * 60 + s.minute) * 60 + s.second) * _SECOND_US + s.microsecond

    @property
    def end_us(self) -> int:
        """Microseconds from local midnight of the start day to the end."""
        return self.end_minutes * _MINUTE_US


@dataclass(frozen=True)
class Calendar:
    """A weekly schedule in an IANA zone with holidays, or 24x7 (``always_open``)."""

    name: str
    timezone: str
    spans: tuple[OpenSpan, ...] = ()
    always_open: bool = False
    holiday_dates: frozenset[date] = frozenset()
    holiday_countries: tuple[tuple[str, str | None], ...] = ()

    def __post_init__(self) -> None:
        _zone(self.timezone)  # raises ValueError for an unknown key
        object.__setattr__(self, "spans", tuple(self.spans))
        object.__setattr__(self, "holiday_dates", frozenset(self.holiday_dates))
        object.__setattr__(
            self, "holiday_countries", tuple((c, s) for c, s in self.holiday_countries)
        )
        for span in self.spans:
            if not isinstance(span, OpenSpan):
                raise TypeError(f"spans must be OpenSpan values, not {span!r}")
        for day in self.holiday_dates:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise TypeError(f"holiday_dates must be dates, not {day!r}")
        for country, subdiv in self.holiday_countries:
            _check_country(country, subdiv)

    def is_holiday(self, day: date) -> bool:
        """Whether ``day`` (a local date) is closed as a holiday."""
        if day in self.holiday_dates:
            return True
        return any(
            day in _country_holidays(country, subdiv, day.year)
            for country, subdiv in self.holiday_countries
        )

    @property
    def never_opens(self) -> bool:
        """True when the schedule has no opening at all (and the calendar is not 24x7)."""
        return not self.always_open and not self.spans

    @cached_property
    def _engine(self) -> _Engine:
        return _Engine(self)


# -- public operations -------------------------------------------------------------------------
def open_intervals(calendar: Calendar, start: datetime, end: datetime) -> IntervalSet:
    """The open time of ``calendar`` within ``[start, end)``, in UTC."""
    x0 = _to_us(start, "start")
    x1 = _to_us(end, "end")
    if x1 <= x0:
        return IntervalSet()
    engine = calendar._engine
    merged: list[list[int]] = []
    for k in range(_block_of(x0), _block_of(x1 - 1) + 1):
        block = engine.block(k)
        first = bisect_right(block.ends, x0)
        for i in range(first, len(block.starts)):
            s, e = max(block.starts[i], x0), min(block.ends[i], x1)
            if s >= x1:
                break
            if merged and merged[-1][1] >= s:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
    return IntervalSet(Interval(_from_us(s), _from_us(e)) for s, e in merged)


def is_open(calendar: Calendar, instant: datetime) -> bool:
    """Whether ``instant`` is open in ``calendar``."""
    x = _to_us(instant, "instant")
    block = calendar._engine.block(_block_of(x))
    i = bisect_right(block.starts, x) - 1
    return i >= 0 and x < block.ends[i]


def elapsed(
    calendar: Calendar, start: datetime, end: datetime, pauses: IntervalSet = IntervalSet()
) -> timedelta:
    """The open, unpaused time in ``[start, end)``; zero when ``end <= start``."""
    x0 = _to_us(start, "start")
    x1 = _to_us(end, "end")
    if x1 <= x0:
        return timedelta(0)
    engine = calendar._engine
    total = engine.open_between(x0, x1)
    for p0, p1 in _pauses_after(pauses, x0):
        if p0 >= x1:
            break
        total -= engine.open_between(max(p0, x0), min(p1, x1))
    return timedelta(microseconds=total)


def due(
    calendar: Calendar,
    start: datetime,
    duration: timedelta,
    pauses: IntervalSet = IntervalSet(),
) -> datetime:
    """The earliest instant ``t >= start`` with ``elapsed(calendar, start, t, pauses) == duration``.

    A zero ``duration`` gives the first open, unpaused instant at or after ``start``. Raises
    :class:`ValueError` for a negative duration or a calendar that never opens (no opening at all,
    or more than ten years in a row without open time).
    """
    x = _to_us(start, "start")
    if duration < timedelta(0):
        raise ValueError(f"duration must not be negative, got {duration}")
    return _from_us(_due_us(calendar, x, duration // _US, pauses))


def warning_at(
    calendar: Calendar,
    start: datetime,
    target: timedelta,
    fraction: Fraction,
    pauses: IntervalSet = IntervalSet(),
) -> datetime:
    """When ``fraction`` of ``target`` has elapsed: ``due(start, target * fraction)``, exactly.

    The product is computed on integer microseconds; one that is not a whole number of
    microseconds is rounded up, so the warning never fires before the fraction is reached.
    """
    x = _to_us(start, "start")
    if target < timedelta(0):
        raise ValueError(f"target must not be negative, got {target}")
    share = Fraction(fraction)
    if share < 0:
        raise ValueError(f"fraction must not be negative, got {fraction}")
    scaled = (target // _US) * share
    micro = -((-scaled.numerator) // scaled.denominator)  # ceiling
    return _from_us(_due_us(calendar, x, micro, pauses))


# -- holidays ----------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _country_holidays(country: str, subdiv: str | None, year: int) -> frozenset[date]:
    """The holiday dates of one country (and subdivision) in one year."""
    try:
        table = holidays.country_holidays(country, subdiv=subdiv, years=year)
    except NotImplementedError as error:
        raise ValueError(f"unknown holiday country/subdivision {country!r}/{subdiv!r}") from error
    return frozenset(table.keys())


@lru_cache(maxsize=256)
def _check_country(country: str, subdiv: str | None) -> None:
    try:
        holidays.country_holidays(country, subdiv=subdiv)
    except NotImplementedError as error:
        raise ValueError(
            f"unknown holiday country/subdivision {country!r}/{subdiv!r}: {error}"
        ) from error


# -- time zones --------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _zone(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {key!r}") from error


def _offset_at(zone: ZoneInfo, x: int) -> int:
    """The zone's UTC offset (µs) at the UTC instant ``x``."""
    offset = _from_us(x).astimezone(zone).utcoffset()
    assert offset is not None
    return offset // _US


@lru_cache(maxsize=4096)
def _offset_segments(key: str, k: int) -> tuple[tuple[int, int, int], ...]:
    """``(start, end, offset)`` pieces of constant UTC offset covering block ``k``."""
    zone = _zone(key)
    lo = k * _BLOCK_US
    hi = lo + _BLOCK_US
    segments: list[tuple[int, int, int]] = []
    seg_start, current = lo, _offset_at(zone, lo)
    probe = lo
    while probe < hi:
        nxt = min(probe + _SAMPLE_US, hi)
        offset = _offset_at(zone, nxt) if nxt < hi else _offset_at(zone, hi - _SECOND_US)
        while offset != current:
            # Bisect on whole seconds (tzdata transitions are whole seconds) for the first
            # instant after ``probe`` whose offset differs from ``current``.
            a, b = probe // _SECOND_US, nxt // _SECOND_US
            if nxt == hi:
                b = (hi - _SECOND_US) // _SECOND_US
            while b - a > 1:
                mid = (a + b) // 2
                if _offset_at(zone, mid * _SECOND_US) == current:
                    a = mid
                else:
                    b = mid
            change = b * _SECOND_US
            segments.append((seg_start, change, current))
            seg_start, current, probe = change, _offset_at(zone, change), change
        probe = nxt
    segments.append((seg_start, hi, current))
    return tuple(segments)


# -- the engine --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Block:
    """Sorted, disjoint open intervals of one UTC block with running totals."""

    starts: list[int]
    ends: list[int]
    cum_end: list[int]  # open time from the block start to ends[i]
    total: int

    def before(self, x: int) -> int:
        """Open time in the block before ``x``."""
        i = bisect_right(self.starts, x) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.cum_end[i] - (end - x if end > x else 0)


class _Engine:
    """The compiled form of a calendar: per-weekday windows and a cache of built blocks."""

    __slots__ = ("_blocks", "_calendar", "_holidays", "always_open", "key", "windows")

    def __init__(self, calendar: Calendar) -> None:
        self._calendar = calendar
        self.key = calendar.timezone
        self.always_open = calendar.always_open
        per_day: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for span in calendar.spans:
            per_day[span.weekday].append((span.start_us, span.end_us))
        self.windows: tuple[tuple[tuple[int, int], ...], ...] = tuple(
            tuple(_merge(sorted(spans))) for spans in per_day
        )
        self._blocks: dict[int, _Block] = {}
        self._holidays: dict[int, frozenset[int]] = {}

    def holiday_ordinals(self, year: int) -> frozenset[int]:
        found = self._holidays.get(year)
        if found is None:
            cal = self._calendar
            days = {d for d in cal.holiday_dates if d.year == year}
            for country, subdiv in cal.holiday_countries:
                days |= _country_holidays(country, subdiv, year)
            found = frozenset(d.toordinal() for d in days)
            self._holidays[year] = found
        return found

    def block(self, k: int) -> _Block:
        found = self._blocks.get(k)
        if found is None:
            if not _MIN_BLOCK <= k <= _MAX_BLOCK:
                raise ValueError("instant outside the supported date range (years 1 to 9999)")
            found = self._build(k)
            if len(self._blocks) >= 4096:
                self._blocks.clear()
            self._blocks[k] = found
        return found

    def _build(self, k: int) -> _Block:
        lo = k * _BLOCK_US
        hi = lo + _BLOCK_US
        if self.always_open:
            return _Block([lo], [hi], [_BLOCK_US], _BLOCK_US)
        # Wall-clock windows of every local day whose openings can reach [lo, hi): offsets are
        # under a day and an opening ends at most two days after its day's midnight.
        walls: list[list[int]] = []
        first_day = k * _BLOCK_DAYS - 3
        year = -1
        closed: frozenset[int] = frozenset()
        for day in range(first_day, first_day + _BLOCK_DAYS + 5):
            ordinal = day + _EPOCH_ORDINAL
            spans = self.windows[(ordinal + 6) % 7]  # date.weekday() of the ordinal
            if not spans:
                continue
            local = date.fromordinal(ordinal)
            if local.year != year:
                year = local.year
                closed = self.holiday_ordinals(year)
            if ordinal in closed:
                continue
            midnight = day * _DAY_US
            for s, e in spans:
                a, b = midnight + s, midnight + e
                if walls and walls[-1][1] >= a:
                    if b > walls[-1][1]:
                        walls[-1][1] = b
                else:
                    walls.append([a, b])
        # Wall windows to UTC: within a piece of constant offset o, wall time w is instant w - o.
        segments = _offset_segments(self.key, k)
        pieces: list[tuple[int, int]] = []
        for s0, s1, o in segments:
            for a, b in walls:
                x0 = a - o
                x1 = b - o
                if x0 < s0:
                    x0 = s0
                if x1 > s1:
                    x1 = s1
                if x0 < x1:
                    pieces.append((x0, x1))
        if len(segments) > 1:
            pieces.sort()
        starts: list[int] = []
        ends: list[int] = []
        for x0, x1 in pieces:
            if ends and ends[-1] >= x0:
                if x1 > ends[-1]:
                    ends[-1] = x1
            else:
                starts.append(x0)
                ends.append(x1)
        cum_end: list[int] = []
        running = 0
        for x0, x1 in zip(starts, ends, strict=True):
            running += x1 - x0
            cum_end.append(running)
        return _Block(starts, ends, cum_end, running)

    def open_between(self, x0: int, x1: int) -> int:
        """Open time in ``[x0, x1)`` (``x0 <= x1``)."""
        if x1 <= x0:
            return 0
        k0, k1 = _block_of(x0), _block_of(x1 - 1)
        if k0 == k1:
            block = self.block(k0)
            return block.before(x1) - block.before(x0)
        first = self.block(k0)
        total = first.total - first.before(x0)
        for k in range(k0 + 1, k1):
            total += self.block(k).total
        return total + self.block(k1).before(x1)

    def advance(self, x: int, remaining: int, limit: int | None) -> tuple[int | None, int]:
        """Walk forward from ``x`` until ``remaining`` open time has passed.

        Returns ``(t, 0)`` with ``t`` the earliest instant where that much open time has elapsed
        since ``x`` (for ``remaining == 0``: the first open instant at or after ``x``), provided
        ``t <= limit`` (``t < limit`` for zero); otherwise ``(None, left)`` with ``left`` what
        remains after the open time in ``[x, limit)``.
        """
        k = _block_of(x)
        pos = x
        empty_days = 0
        while True:
            block = self.block(k)
            hi = (k + 1) * _BLOCK_US
            capped = limit is not None and limit <= hi
            if remaining == 0:
                i = bisect_right(block.ends, pos)
                if i < len(block.starts):
                    t = max(block.starts[i], pos)
                    if limit is None or t < limit:
                        return t, 0
                    return None, 0
                if capped:
                    return None, 0
            else:
                base = block.before(pos)
                available = block.before(limit) if capped and limit is not None else block.total
                target = base + remaining
                if target <= available:
                    i = bisect_left(block.cum_end, target)
                    return block.ends[i] - (block.cum_end[i] - target), 0
                if capped:
                    return None, target - available
                remaining = target - block.total
            if block.total == 0:
                empty_days += _BLOCK_DAYS
                if empty_days > _NEVER_OPEN_DAYS:
                    raise ValueError(
                        f"calendar {self._calendar.name!r} never opens: no open time in the "
                        f"{empty_days} days before {_from_us(hi).isoformat()}"
                    )
            else:
                empty_days = 0
            k += 1
            pos = hi


# -- helpers -----------------------------------------------------------------------------------
def _due_us(calendar: Calendar, x: int, remaining: int, pauses: IntervalSet) -> int:
    if calendar.never_opens:
        raise ValueError(f"calendar {calendar.name!r} never opens: it has no opening hours")
    engine = calendar._engine
    for p0, p1 in _pauses_after(pauses, x):
        if p0 > x:
            t, remaining = engine.advance(x, remaining, p0)
            if t is not None:
                return t
        x = max(x, p1)
    t, _ = engine.advance(x, remaining, None)
    assert t is not None
    return t


def _pauses_after(pauses: IntervalSet, x: int) -> list[tuple[int, int]]:
    """The pauses that end after ``x``, as microsecond pairs, in order."""
    items = pauses.intervals
    if not items:
        return []
    cut = _from_us(x)
    first = bisect_right(items, cut, key=lambda interval: interval.end)
    return [(_to_us(p.start, "pause start"), _to_us(p.end, "pause end")) for p in items[first:]]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and merged[-1][1] >= s:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _block_of(x: int) -> int:
    return x // _BLOCK_US


def _to_us(instant: datetime, what: str) -> int:
    return (require_aware(instant, what) - _EPOCH) // _US


def _from_us(x: int) -> datetime:
    try:
        return _EPOCH + timedelta(microseconds=x)
    except OverflowError as error:
        raise ValueError("instant outside the supported date range (years 1 to 9999)") from error
