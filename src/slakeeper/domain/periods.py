"""Billing periods: calendar months in the contract's time zone, held as UTC instants.

A period's length is exact: a month in a zone with daylight saving time is an hour shorter or
longer than its number of days (``America/New_York``, November 2026: 30 days and 1 hour).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slakeeper.domain.intervals import Interval, IntervalSet, require_aware, seconds

_SECONDS_PER_DAY = 86_400
_MONTH_LABEL = re.compile(r"(\d{4})-(\d{2})")


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; an unknown name is a ``ValueError`` that says so."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as 'UTC' or 'America/New_York'"
        ) from None


@dataclass(frozen=True, slots=True)
class Period:
    """A billing period ``[start, end)``; ``timezone`` is the contract zone it was cut in."""

    label: str
    start: datetime
    end: datetime
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        start = require_aware(self.start, "period start")
        end = require_aware(self.end, "period end")
        if end <= start:
            raise ValueError(
                f"period {self.label!r} ends ({end.isoformat()}) at or before its start "
                f"({start.isoformat()})"
            )
        zone(self.timezone)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def interval(self) -> Interval:
        return Interval(self.start, self.end)

    @property
    def days(self) -> Fraction:
        """The exact length in days (30, or 30 + 1/24 for a month with a fall-back day)."""
        return seconds(self.length) / _SECONDS_PER_DAY

    @property
    def local_start(self) -> datetime:
        """The start in the period's own time zone (e.g. to know which year it falls in)."""
        return self.start.astimezone(zone(self.timezone))

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(zone(self.timezone))


def month_period(year: int, month: int, timezone: str = "UTC") -> Period:
    """The calendar month from local midnight on the 1st to local midnight on the next 1st."""
    if not 1 <= month <= 12:
        raise ValueError(f"month must be 1 to 12, not {month}")
    tz = zone(timezone)
    next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    start = datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(next_year, next_month, 1, tzinfo=tz).astimezone(UTC)
    return Period(f"{year:04d}-{month:02d}", start, end, timezone)


def parse_period(text: str, timezone: str = "UTC") -> Period:
    """The month named by ``text`` in the form ``YYYY-MM`` (e.g. ``2026-10``)."""
    match = _MONTH_LABEL.fullmatch(text)
    if match is None or not 1 <= int(match.group(2)) <= 12 or not 1 <= int(match.group(1)) < 9999:
        raise ValueError(f"period {text!r} is not a month in the form YYYY-MM, e.g. 2026-10")
    return month_period(int(match.group(1)), int(match.group(2)), timezone)


def contract_span(
    period: Period, contract_start: datetime | None, contract_end: datetime | None
) -> IntervalSet:
    """The part of ``period`` the contract covers (empty when they do not meet).

    A contract that starts or ends inside the period is measured only over its contracted
    time; ``None`` means the contract is open on that side.
    """
    start = period.start
    end = period.end
    if contract_start is not None:
        start = max(start, require_aware(contract_start, "contract start"))
    if contract_end is not None:
        end = min(end, require_aware(contract_end, "contract end"))
    if start >= end:
        return IntervalSet()
    return IntervalSet.single(start, end)
