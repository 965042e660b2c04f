"""Half-open instant intervals and normalised interval sets.

Every span slakeeper reasons about (downtime, exclusions, maintenance, pauses, open business
hours) is an :class:`IntervalSet`: a sorted tuple of disjoint, non-adjacent, non-empty
``[start, end)`` intervals of timezone-aware datetimes. Durations are :class:`datetime.timedelta`
values, which are exact integers of microseconds; :func:`seconds` turns one into an exact
``Fraction`` of seconds.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

ZERO = timedelta(0)
_MICROSECOND = timedelta(microseconds=1)


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone reached the domain."""


def require_aware(instant: datetime, what: str = "instant") -> datetime:
    """Return ``instant`` in UTC; raise :class:`NaiveDatetimeError` when it has no offset."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise NaiveDatetimeError(f"{what} {instant.isoformat()} has no time zone offset")
    return instant.astimezone(UTC)


def seconds(duration: timedelta) -> Fraction:
    """The exact number of seconds in ``duration``."""
    return Fraction(duration // _MICROSECOND, 1_000_000)


def from_seconds(value: Fraction | int) -> timedelta:
    """The timedelta of ``value`` seconds; it must be a whole number of microseconds."""
    micro = Fraction(value) * 1_000_000
    if micro.denominator != 1:
        raise ValueError(f"{value} s is not a whole number of microseconds")
    return timedelta(microseconds=int(micro))


@dataclass(frozen=True, order=True, slots=True)
class Interval:
    """``[start, end)``: contains ``start``, not ``end``. Both ends are aware, in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_aware(self.start, "interval start"))
        object.__setattr__(self, "end", require_aware(self.end, "interval end"))
        if self.end < self.start:
            raise ValueError(
                f"interval ends ({self.end.isoformat()}) before it starts "
                f"({self.start.isoformat()})"
            )

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def empty(self) -> bool:
        return self.end == self.start

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


class IntervalSet:
    """An immutable, normalised set of half-open intervals."""

    __slots__ = ("_intervals",)

    def __init__(self, intervals: Iterable[Interval] = ()) -> None:
        self._intervals: tuple[Interval, ...] = _normalise(intervals)

    @classmethod
    def of(cls, *spans: tuple[datetime, datetime]) -> IntervalSet:
        return cls(Interval(start, end) for start, end in spans)

    @classmethod
    def single(cls, start: datetime, end: datetime) -> IntervalSet:
        return cls((Interval(start, end),))

    @classmethod
    def _trusted(cls, intervals: tuple[Interval, ...]) -> IntervalSet:
        result = cls.__new__(cls)
        result._intervals = intervals
        return result

    # -- reading -------------------------------------------------------------------------
    @property
    def intervals(self) -> tuple[Interval, ...]:
        return self._intervals

    def __iter__(self) -> Iterator[Interval]:
        return iter(self._intervals)

    def __len__(self) -> int:
        return len(self._intervals)

    def __bool__(self) -> bool:
        return bool(self._intervals)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IntervalSet) and self._intervals == other._intervals

    def __hash__(self) -> int:
        return hash(self._intervals)

    def __repr__(self) -> str:
        spans = ", ".join(f"[{i.start.isoformat()}, {i.end.isoformat()})" for i in self)
        return f"IntervalSet({spans})"

    def total(self) -> timedelta:
        """The summed length of the set."""
        return sum((interval.duration for interval in self._intervals), ZERO)

    def contains(self, instant: datetime) -> bool:
        return any(interval.contains(instant) for interval in self._intervals)

    @property
    def start(self) -> datetime | None:
        return self._intervals[0].start if self._intervals else None

    @property
    def end(self) -> datetime | None:
        return self._intervals[-1].end if self._intervals else None

    # -- algebra -------------------------------------------------------------------------
    def union(self, *others: IntervalSet) -> IntervalSet:
        merged = list(self._intervals)
        for other in others:
            merged.extend(other._intervals)
        return IntervalSet(merged)

    __or__ = union

    def intersection(self, other: IntervalSet) -> IntervalSet:
        result: list[Interval] = []
        left, right = self._intervals, other._intervals
        i = j = 0
        while i < len(left) and j < len(right):
            a, b = left[i], right[j]
            start = a.start if a.start >= b.start else b.start
            end = a.end if a.end <= b.end else b.end
            if start < end:
                if start == a.start and end == a.end:
                    result.append(a)  # whole: no new interval (they are immutable)
                elif start == b.start and end == b.end:
                    result.append(b)
                else:
                    result.append(Interval(start, end))
            if left[i].end <= right[j].end:
                i += 1
            else:
                j += 1
        return IntervalSet._trusted(tuple(result))

    __and__ = intersection

    def difference(self, other: IntervalSet) -> IntervalSet:
        result: list[Interval] = []
        cuts = other._intervals
        j = 0
        for interval in self._intervals:
            cursor = interval.start
            while j < len(cuts) and cuts[j].end <= cursor:
                j += 1
            k = j
            while k < len(cuts) and cuts[k].start < interval.end:
                if cuts[k].start > cursor:
                    result.append(Interval(cursor, cuts[k].start))
                cursor = max(cursor, cuts[k].end)
                k += 1
            if cursor < interval.end:
                result.append(Interval(cursor, interval.end))
        return IntervalSet._trusted(tuple(result))

    __sub__ = difference

    def clip(self, start: datetime, end: datetime) -> IntervalSet:
        """The part of the set inside ``[start, end)`` (found by bisection: the intervals inside
        are kept as they are, only the two at the edges are cut)."""
        require_aware(start, "start")
        require_aware(end, "end")
        intervals = self._intervals
        if end <= start or not intervals:
            return IntervalSet()
        first = bisect.bisect_right(intervals, start, key=lambda i: i.end)
        last = bisect.bisect_left(intervals, end, key=lambda i: i.start)
        inside = list(intervals[first:last])
        if inside and inside[0].start < start:
            inside[0] = Interval(start, inside[0].end)
        if inside and inside[-1].end > end:
            inside[-1] = Interval(inside[-1].start, end)
        return IntervalSet._trusted(tuple(inside))


def intersect_all(sets: Iterable[IntervalSet]) -> IntervalSet:
    """The intersection of one or more sets (an empty iterable is an error)."""
    iterator = iter(sets)
    try:
        result = next(iterator)
    except StopIteration:
        raise ValueError("intersect_all needs at least one set") from None
    for other in iterator:
        result = result & other
    return result


def union_all(sets: Iterable[IntervalSet]) -> IntervalSet:
    merged: list[Interval] = []
    for other in sets:
        merged.extend(other.intervals)
    return IntervalSet(merged)


def _normalise(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    ordered = sorted(interval for interval in intervals if not interval.empty)
    merged: list[Interval] = []
    for interval in ordered:
        if merged and interval.start <= merged[-1].end:
            if interval.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, interval.end)
        else:
            merged.append(interval)
    return tuple(merged)
