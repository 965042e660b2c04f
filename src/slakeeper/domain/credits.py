"""Service credits owed for a period (DOMAIN 5).

The policy layer maps its models onto these values. A credit is worked out on exact fractions
and turned into money once, at the end (:func:`slakeeper.domain.money.quantize_money`):

- :class:`TieredSchedule`: the percent of the fee of the band the uptime falls in;
- :class:`TimePerExcessSchedule`: days of service per hour of excess downtime, worth
  ``period fee x days / period days``;
- :class:`DataLossSchedule`: a confirmed loss of acknowledged data; it combines with the uptime
  credit by taking the larger percent, and grants a termination right;
- :class:`NoCredit`: best effort, uptime is reported but no credit is owed.

A met target owes no uptime credit whatever the bands say.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from slakeeper.domain.money import exact, quantize_money, round_half_up
from slakeeper.domain.periods import Period
from slakeeper.domain.uptime import UptimeResult

_DISPLAY_DECIMALS = 6
_SECONDS_PER_HOUR = 3600


# -- schedules -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Band:
    """Uptime ratios from ``lower`` to ``upper`` (``None``: unbounded) earn ``percent``."""

    percent: Decimal
    lower: Fraction | None
    lower_inclusive: bool
    upper: Fraction | None
    upper_inclusive: bool

    def __post_init__(self) -> None:
        if exact(self.percent) < 0:
            raise ValueError(f"a band's credit percent must not be negative, not {self.percent}")
        if self.lower is not None and self.upper is not None:
            empty_point = self.lower == self.upper and not (
                self.lower_inclusive and self.upper_inclusive
            )
            if self.lower > self.upper or empty_point:
                raise ValueError(f"band {self.describe()} contains no uptime")

    def contains(self, uptime: Fraction) -> bool:
        if self.lower is not None and (
            uptime < self.lower or (uptime == self.lower and not self.lower_inclusive)
        ):
            return False
        return not (
            self.upper is not None
            and (uptime > self.upper or (uptime == self.upper and not self.upper_inclusive))
        )

    def describe(self) -> str:
        """``< 99.99 %``, ``≥ 99.9 % and < 99.99 %``, ``any uptime``."""
        parts = []
        if self.lower is not None:
            parts.append(f"{'≥' if self.lower_inclusive else '>'} {_ratio_percent(self.lower)} %")
        if self.upper is not None:
            parts.append(f"{'≤' if self.upper_inclusive else '<'} {_ratio_percent(self.upper)} %")
        return " and ".join(parts) or "any uptime"


@dataclass(frozen=True, slots=True)
class TieredSchedule:
    """The credit percent of the band the uptime falls in (none: 0 %).

    If bands overlap (see :func:`check_bands`), the lowest band containing the uptime wins, as
    in "the lowest band the uptime falls in" (DOMAIN 5): cumulative tiers written as upper
    bounds only ("< 99.99 % -> 10 %, < 99.9 % -> 25 %") then still pay the right tier.
    """

    bands: tuple[Band, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "bands", tuple(self.bands))

    def band_for(self, uptime: Fraction) -> Band | None:
        matching = [band for band in self.bands if band.contains(uptime)]
        if not matching:
            return None
        return min(matching, key=lambda band: (_upper_key(band), _lower_key(band)))


class PartialHourRounding(StrEnum):
    UP = "up"
    DOWN = "down"
    EXACT = "exact"


@dataclass(frozen=True, slots=True)
class TimePerExcessSchedule:
    """``days_per_hour`` days of service per hour of excess downtime, capped at ``cap_days``."""

    days_per_hour: Fraction
    rounding: PartialHourRounding
    cap_days: Fraction | None = None

    def __post_init__(self) -> None:
        if self.days_per_hour <= 0:
            raise ValueError(f"days per hour must be positive, not {self.days_per_hour}")
        if self.cap_days is not None and self.cap_days < 0:
            raise ValueError(f"the cap in days must not be negative, not {self.cap_days}")

    def hours(self, excess_seconds: Fraction) -> Fraction:
        """The excess in hours, partial hours rounded as the policy says."""
        hours = Fraction(excess_seconds) / _SECONDS_PER_HOUR
        if self.rounding is PartialHourRounding.UP:
            return Fraction(math.ceil(hours))
        if self.rounding is PartialHourRounding.DOWN:
            return Fraction(math.floor(hours))
        return hours


@dataclass(frozen=True, slots=True)
class DataLossSchedule:
    """A confirmed loss of acknowledged data earns ``percent`` and maybe a termination right."""

    percent: Decimal = Decimal(100)
    termination_right: bool = True

    def __post_init__(self) -> None:
        if exact(self.percent) < 0:
            raise ValueError(f"a data loss credit must not be negative, not {self.percent}")


@dataclass(frozen=True, slots=True)
class NoCredit:
    """Best effort: uptime is measured and reported, no credit is owed."""


CreditSchedule = TieredSchedule | TimePerExcessSchedule | NoCredit


def check_bands(bands: Sequence[Band]) -> list[str]:
    """Overlapping bands, and gaps between the lowest and the highest bound, as sentences."""
    problems: list[str] = []
    for index, first in enumerate(bands):
        for second in bands[index + 1 :]:
            if _overlap(first, second):
                problems.append(
                    f"bands {first.describe()} ({first.percent} %) and "
                    f"{second.describe()} ({second.percent} %) overlap"
                )
    ordered = sorted(bands, key=_lower_key)
    if not ordered:
        return problems
    reach, reach_inclusive = ordered[0].upper, ordered[0].upper_inclusive
    for band in ordered[1:]:
        if reach is None:
            break
        if band.lower is not None and (
            band.lower > reach
            or (band.lower == reach and not (reach_inclusive or band.lower_inclusive))
        ):
            problems.append(_gap(reach, reach_inclusive, band.lower, band.lower_inclusive))
        if band.upper is None:
            reach = None
        elif band.upper > reach:
            reach, reach_inclusive = band.upper, band.upper_inclusive
        elif band.upper == reach:
            reach_inclusive = reach_inclusive or band.upper_inclusive
    return problems


# -- fees and terms --------------------------------------------------------------------------
class FeeProration(StrEnum):
    """How the fee of a period is found."""

    MONTHLY = "monthly"
    """The monthly fee, as is."""
    ANNUAL_TWELFTH = "annual-twelfth"
    """A twelfth of the annual fee."""
    ANNUAL_BY_DAYS = "annual-by-days"
    """The annual fee x period days / days in the year the period starts in (365 or 366)."""


@dataclass(frozen=True, slots=True)
class FeeBasis:
    """What the customer pays, in the contract currency."""

    monthly_fee: Decimal | None = None
    annual_fee: Decimal | None = None

    def __post_init__(self) -> None:
        for name, fee in (("monthly", self.monthly_fee), ("annual", self.annual_fee)):
            if fee is not None and exact(fee) < 0:
                raise ValueError(f"the {name} fee must not be negative, not {fee}")

    def period_fee(self, period: Period, proration: FeeProration) -> Fraction:
        """The exact fee of ``period`` (not rounded: it is an input to the credit)."""
        if proration is FeeProration.MONTHLY:
            if self.monthly_fee is None:
                raise ValueError("monthly proration needs a monthly fee")
            return exact(self.monthly_fee)
        if self.annual_fee is None:
            raise ValueError(f"{proration.value} proration needs an annual fee")
        if proration is FeeProration.ANNUAL_TWELFTH:
            return exact(self.annual_fee) / 12
        days_in_year = 366 if calendar.isleap(period.local_start.year) else 365
        return exact(self.annual_fee) * period.days / days_in_year


@dataclass(frozen=True, slots=True)
class CreditTerms:
    """A plan's credit terms: schedule, data loss, cap, minimum and fee basis."""

    schedule: CreditSchedule
    data_loss: DataLossSchedule | None = None
    cap_percent: Decimal | None = None
    minimum_amount: Decimal | None = None
    proration: FeeProration = FeeProration.MONTHLY


@dataclass(frozen=True, slots=True)
class CreditResult:
    """The credit owed for one period.

    ``percent`` is the share of the period fee (for time-based schedules the effective percent
    ``days / period days x 100``, exact in ``percent_exact``, shown with at most 6 decimals);
    ``amount`` is the money owed, rounded half-up once. Under a minimum, ``percent`` and
    ``days`` still say what the schedule gave and ``amount`` is 0.
    """

    percent: Decimal
    percent_exact: Fraction
    days: Fraction | None
    amount: Decimal
    currency: str
    capped: bool
    reason: str
    termination_right: bool
    period_fee: Fraction

    @property
    def issued(self) -> bool:
        return self.amount > 0


def compute_credit(
    terms: CreditTerms,
    *,
    uptime: UptimeResult,
    period: Period,
    fee: FeeBasis,
    currency: str,
    data_loss_events: int,
    display_decimals: int = _DISPLAY_DECIMALS,
) -> CreditResult:
    """The credit owed under ``terms`` for ``period``, given its uptime and data loss events.

    The uptime credit comes from the schedule (none when best effort or the target is met); a
    data loss credit, when the terms have one and ``data_loss_events`` > 0, replaces it if its
    percent is larger. The percent is then capped at ``cap_percent``, the amount rounded once,
    and an amount above 0 but under ``minimum_amount`` is not issued.
    """
    if data_loss_events < 0:
        raise ValueError(f"data loss events must not be negative, not {data_loss_events}")
    period_fee = fee.period_fee(period, terms.proration)
    credit = _uptime_credit(terms.schedule, uptime, period, display_decimals)
    reasons = [credit.reason]
    termination_right = False
    if terms.data_loss is not None and data_loss_events > 0:
        termination_right = terms.data_loss.termination_right
        events = f"{data_loss_events} event{'s' if data_loss_events != 1 else ''}"
        reasons.append(
            f"confirmed loss of acknowledged data ({events}) → {terms.data_loss.percent} %"
        )
        if exact(terms.data_loss.percent) > credit.percent:
            if credit.percent:
                reasons.append("the larger credit applies")
            credit = _Credit(exact(terms.data_loss.percent), terms.data_loss.percent, None, False)
    if terms.cap_percent is not None and credit.percent > exact(terms.cap_percent):
        cap = exact(terms.cap_percent)
        days = None if credit.days is None else cap * period.days / 100
        credit = _Credit(cap, terms.cap_percent, days, True)
        reasons.append(f"capped at {terms.cap_percent} % of the fee")
    amount = quantize_money(period_fee * credit.percent / 100, currency)
    if terms.minimum_amount is not None and 0 < amount < terms.minimum_amount:
        minimum = quantize_money(terms.minimum_amount, currency)
        reasons.append(
            f"{amount} {currency} is below the {minimum} {currency} minimum: no credit issued"
        )
        amount = quantize_money(0, currency)
    return CreditResult(
        percent=credit.shown_percent,
        percent_exact=credit.percent,
        days=credit.days,
        amount=amount,
        currency=currency,
        capped=credit.capped,
        reason="; ".join(reasons),
        termination_right=termination_right,
        period_fee=period_fee,
    )


@dataclass(frozen=True, slots=True)
class _Credit:
    percent: Fraction
    shown_percent: Decimal
    days: Fraction | None
    capped: bool
    reason: str = ""


def _uptime_credit(
    schedule: CreditSchedule, uptime: UptimeResult, period: Period, decimals: int
) -> _Credit:
    """The credit from uptime alone."""
    shown = f"uptime {uptime.percent(decimals)} %"
    if isinstance(schedule, NoCredit):
        return _Credit(Fraction(0), Decimal(0), None, False, "best effort plan: no credit")
    if uptime.met and uptime.target is not None:
        reason = f"{shown} meets the {_ratio_percent(uptime.target)} % target: no credit"
        return _Credit(Fraction(0), Decimal(0), None, False, reason)
    if isinstance(schedule, TieredSchedule):
        band = schedule.band_for(uptime.uptime)
        if band is None:
            reason = f"{shown} is in no credit band: no credit"
            return _Credit(Fraction(0), Decimal(0), None, False, reason)
        reason = f"{shown} is in band {band.describe()} → {band.percent} %"
        return _Credit(exact(band.percent), band.percent, None, False, reason)
    excess = uptime.excess_downtime_seconds
    if excess is None:
        raise ValueError("a credit per hour of excess downtime needs an uptime target")
    raw_hours = excess / _SECONDS_PER_HOUR
    hours = schedule.hours(excess)
    days = hours * schedule.days_per_hour
    reason = f"{_number(raw_hours)} h excess downtime"
    if hours != raw_hours:
        reason += f", rounded {schedule.rounding.value} to {_number(hours)} h,"
    reason += f" × {_number(schedule.days_per_hour)} day/h = {_days(days)}"
    capped = schedule.cap_days is not None and days > schedule.cap_days
    if capped and schedule.cap_days is not None:
        days = schedule.cap_days
        reason += f", capped at {_days(days)}"
    percent = days * 100 / period.days
    return _Credit(percent, Decimal(_number(percent)), days, capped, reason)


# -- formatting ------------------------------------------------------------------------------
def _upper_key(band: Band) -> tuple[int, Fraction, int]:
    if band.upper is None:
        return (1, Fraction(0), 0)
    return (0, band.upper, 1 if band.upper_inclusive else 0)


def _lower_key(band: Band) -> tuple[int, Fraction, int]:
    if band.lower is None:
        return (0, Fraction(0), 0)
    return (1, band.lower, 0 if band.lower_inclusive else 1)


def _overlap(first: Band, second: Band) -> bool:
    lowers = [band for band in (first, second) if band.lower is not None]
    uppers = [band for band in (first, second) if band.upper is not None]
    if not lowers or not uppers:
        return True
    low = max(band.lower for band in lowers if band.lower is not None)
    high = min(band.upper for band in uppers if band.upper is not None)
    if low != high:
        return low < high
    low_in = all(band.lower_inclusive for band in lowers if band.lower == low)
    high_in = all(band.upper_inclusive for band in uppers if band.upper == high)
    return low_in and high_in


def _gap(low: Fraction, low_covered: bool, high: Fraction, high_covered: bool) -> str:
    if low == high:
        return f"no band covers uptime of exactly {_ratio_percent(low)} %"
    above = f"{'>' if low_covered else '≥'} {_ratio_percent(low)} %"
    below = f"{'<' if high_covered else '≤'} {_ratio_percent(high)} %"
    return f"no band covers uptime {above} and {below}"


def _number(value: Fraction) -> str:
    """Exact when the decimal form is short, else 6 decimals: ``3``, ``2.5``, ``0.000278``."""
    denominator = value.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    places = max(twos, fives)
    if denominator == 1 and places <= _DISPLAY_DECIMALS:
        return str(round_half_up(value, places))
    return str(round_half_up(value, _DISPLAY_DECIMALS))


def _ratio_percent(ratio: Fraction) -> str:
    return _number(ratio * 100)


def _days(days: Fraction) -> str:
    return f"{_number(days)} day{'' if days == 1 else 's'}"
