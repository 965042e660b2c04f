"""Uptime of a measured span, computed exactly (DOMAIN 4).

    uptime = (measured - counted) / measured                           count-as-up
    uptime = (measured - excluded - counted) / (measured - excluded)   remove-from-period

``excluded`` is downtime inside an exclusion window (excluded time is downtime that does not
count); ``counted`` is the rest of the downtime. Durations are exact ``timedelta`` values,
ratios are ``Fraction``: a band edge never flips on rounding, and a figure is rounded only when
it is displayed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from slakeeper.domain.intervals import IntervalSet, seconds
from slakeeper.domain.money import round_half_up


class Accounting(StrEnum):
    """What excluded downtime does to the ratio (policy ``exclusions.accounting``)."""

    COUNT_AS_UP = "count-as-up"
    """Excluded minutes are uptime (the default, most public SLAs)."""
    REMOVE_FROM_PERIOD = "remove-from-period"
    """Excluded minutes leave both the numerator and the denominator."""


@dataclass(frozen=True, slots=True)
class UptimeResult:
    """The uptime of one measured span and what it was made of.

    ``allowed_downtime_seconds`` is ``(1 - target) x base`` as an exact number of seconds (it
    need not be a whole number of microseconds); ``base`` is the measured time, less the
    excluded time under ``remove-from-period``. ``met`` is ``uptime >= target``: "below 99.9 %"
    means strictly less. Without a target, ``allowed_downtime_seconds`` and ``met`` are ``None``.
    """

    measured: timedelta
    downtime: timedelta
    excluded: timedelta
    counted_downtime: timedelta
    allowed_downtime_seconds: Fraction | None
    uptime: Fraction
    target: Fraction | None
    met: bool | None
    accounting: Accounting = Accounting.COUNT_AS_UP
    counted_intervals: IntervalSet = field(default_factory=IntervalSet)
    excluded_intervals: IntervalSet = field(default_factory=IntervalSet)

    @property
    def measured_seconds(self) -> Fraction:
        return seconds(self.measured)

    @property
    def downtime_seconds(self) -> Fraction:
        return seconds(self.downtime)

    @property
    def excluded_seconds(self) -> Fraction:
        return seconds(self.excluded)

    @property
    def counted_downtime_seconds(self) -> Fraction:
        return seconds(self.counted_downtime)

    @property
    def base_seconds(self) -> Fraction:
        """The denominator of the ratio."""
        if self.accounting is Accounting.REMOVE_FROM_PERIOD:
            return self.measured_seconds - self.excluded_seconds
        return self.measured_seconds

    @property
    def allowed_downtime(self) -> timedelta | None:
        """The allowed downtime to the nearest microsecond (for display; use the seconds)."""
        if self.allowed_downtime_seconds is None:
            return None
        micro = math.floor(self.allowed_downtime_seconds * 1_000_000 + Fraction(1, 2))
        return timedelta(microseconds=micro)

    @property
    def excess_downtime_seconds(self) -> Fraction | None:
        """Counted downtime beyond the allowed downtime (0 when within), ``None`` without target."""
        if self.allowed_downtime_seconds is None:
            return None
        return max(Fraction(0), self.counted_downtime_seconds - self.allowed_downtime_seconds)

    def percent(self, decimals: int) -> Decimal:
        """The uptime in percent, rounded half-up to ``decimals`` places (display only)."""
        return round_half_up(self.uptime * 100, decimals)


def compute_uptime(
    measured: IntervalSet,
    downtime: IntervalSet,
    excluded: IntervalSet,
    *,
    accounting: Accounting,
    target: Fraction | None,
) -> UptimeResult:
    """The uptime over ``measured`` given ``downtime`` and the exclusion windows ``excluded``.

    Downtime and windows are clipped to ``measured``. The excluded time is the downtime inside
    the windows; the rest of the downtime is counted. ``target`` is a ratio such as
    ``Fraction(999, 1000)``.

    An empty ``measured`` span (or, under ``remove-from-period``, one entirely excluded) has
    nothing to fall short on: its uptime is 1 (100 %) and a target is met.
    """
    if target is not None and not 0 <= target <= 1:
        raise ValueError(f"an uptime target is a ratio from 0 to 1, not {target}")
    down = downtime & measured
    excluded_down = down & excluded
    counted = down - excluded
    base = seconds(measured.total())
    if accounting is Accounting.REMOVE_FROM_PERIOD:
        base -= seconds(excluded_down.total())
    counted_seconds = seconds(counted.total())
    uptime = (base - counted_seconds) / base if base else Fraction(1)
    return UptimeResult(
        measured=measured.total(),
        downtime=down.total(),
        excluded=excluded_down.total(),
        counted_downtime=counted.total(),
        allowed_downtime_seconds=None if target is None else (1 - target) * base,
        uptime=uptime,
        target=target,
        met=None if target is None else uptime >= target,
        accounting=accounting,
        counted_intervals=counted,
        excluded_intervals=excluded_down,
    )
