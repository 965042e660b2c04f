"""Policy values in the words an agreement uses: durations, targets, percents, hours.

Shared by the rendered agreement and the linter's messages, so both say a value the same way.
Every function is exact (no float) and deterministic.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from slakeeper.policy import models as pm

WEEKDAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_UNITS = (
    ("day", timedelta(days=1)),
    ("hour", timedelta(hours=1)),
    ("minute", timedelta(minutes=1)),
    ("second", timedelta(seconds=1)),
    ("millisecond", timedelta(milliseconds=1)),
)


def plural(count: int | Decimal, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def spell_duration(duration: timedelta) -> str:
    """``2h`` -> ``2 hours``; ``48h`` -> ``48 hours``; ``4h30m`` -> ``4 hours 30 minutes``.

    Whole hours up to three days stay in hours (notice periods read that way); longer spans use
    days first.
    """
    hour = timedelta(hours=1)
    if duration % hour == timedelta(0) and duration <= timedelta(days=3):
        return plural(duration // hour, "hour")
    parts = []
    rest = duration
    for word, size in _UNITS:
        count, rest = divmod(rest, size)
        if count:
            parts.append(plural(count, word))
    return " ".join(parts) or "0 seconds"


def spell_target(target: timedelta | Literal["best-effort"] | pm.BusinessDays) -> str:
    """A support target: ``2 hours``, ``1 business day``, ``best effort``."""
    if isinstance(target, timedelta):
        return spell_duration(target)
    if isinstance(target, pm.BusinessDays):
        return plural(target.business_days, "business day")
    return "best effort"


def percent(value: Decimal) -> str:
    """A policy percent as written: ``99.9``, ``10``, ``0.1``."""
    return format(value, "f")


def ratio_percent(ratio: Fraction) -> str:
    """An exact ratio as a percent: 999/1000 -> ``99.9``."""
    value = ratio * 100
    if value.denominator == 1:
        return str(value.numerator)
    return format(Decimal(value.numerator) / Decimal(value.denominator), "f")


def grouped_seconds(value: Fraction) -> str:
    """Exact seconds with thousands separators: ``2,592``, ``2,678.4``."""
    whole, rest = divmod(value, 1)
    text = f"{int(whole):,}"
    if rest:
        decimals = format(Decimal(rest.numerator) / Decimal(rest.denominator), "f")
        text += decimals[1:]
    return text


def humanize_id(identifier: str) -> str:
    """``net-new-feature`` -> ``Net new feature``."""
    words = identifier.replace("-", " ").replace("_", " ")
    return words[:1].upper() + words[1:]


def list_words(items: list[str], conjunction: str = "and") -> str:
    """``a``; ``a and b``; ``a, b and c``."""
    if len(items) <= 2:
        return f" {conjunction} ".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def calendar_name(calendar: pm.Calendar) -> str:
    return calendar.name or humanize_id(calendar.id)


def spell_calendar(calendar: pm.Calendar) -> str:
    """``Monday to Friday 09:00–18:00, America/New_York time; closed on public holidays (US)``."""
    if calendar.always_open:
        return "24 hours a day, 7 days a week, holidays included"
    spans = "; ".join(
        f"{_days(entry.days)} {', '.join(_time_range(hours) for hours in entry.hours)}"
        for entry in calendar.schedule
    )
    text = f"{spans}, {calendar.timezone} time"
    closed = []
    if calendar.holidays.countries:
        countries = [
            holiday.country + (f"-{holiday.subdivision}" if holiday.subdivision else "")
            for holiday in calendar.holidays.countries
        ]
        closed.append(f"public holidays ({', '.join(countries)})")
    if calendar.holidays.dates:
        closed.append(", ".join(day.isoformat() for day in sorted(calendar.holidays.dates)))
    if closed:
        text += f"; closed on {' and on '.join(closed)}"
    return text


def _days(days: tuple[int, ...]) -> str:
    if len(days) == 7 and list(days) == list(range(7)):
        return "every day"
    if len(days) > 2 and list(days) == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAY_WORDS[days[0]]} to {WEEKDAY_WORDS[days[-1]]}"
    return list_words([WEEKDAY_WORDS[day] for day in days])


def _time_range(value: tuple[int, int]) -> str:
    start, end = value
    if (start, end) == (0, 1440):
        return "all day"
    overnight = end > 1440
    end_of_day = end - 1440 if overnight else end
    text = f"{start // 60:02d}:{start % 60:02d}–{end_of_day // 60:02d}:{end_of_day % 60:02d}"
    return f"{text} (next day)" if overnight else text
