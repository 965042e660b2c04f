"""Small value types of the policy language: durations, percentages, times of day, weekdays."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from slakeeper.policy.errors import did_you_mean

_DURATION_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "s": timedelta(seconds=1),
    "ms": timedelta(milliseconds=1),
}
_DURATION_PART = re.compile(r"(\d+)(ms|w|d|h|m|s)")
DURATION_PATTERN = r"^(\d+(ms|w|d|h|m|s))+$"


def parse_duration(value: Any) -> timedelta:
    """``"4h30m"`` -> 4.5 hours. Units: w, d, h, m, s, ms; each at most once, largest first."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"a duration is text such as '90s', '45m', '4h30m' or '2d', not {value!r}")
    text = value.strip()
    parts = _DURATION_PART.findall(text)
    if not text or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(
            f"'{value}' is not a duration: write a number and a unit "
            "(w, d, h, m, s, ms), e.g. '90s', '45m', '4h30m', '2d'"
        )
    units = [unit for _, unit in parts]
    order = list(_DURATION_UNITS)
    if len(set(units)) != len(units) or units != sorted(units, key=order.index):
        raise ValueError(f"'{value}' repeats a unit or lists them out of order (largest first)")
    try:
        return sum((int(number) * _DURATION_UNITS[unit] for number, unit in parts), timedelta(0))
    except OverflowError:
        raise ValueError(
            f"'{value}' is longer than any duration can be (999,999,999 days)"
        ) from None


def format_duration(duration: timedelta) -> str:
    """The shortest policy spelling of ``duration`` (4 h 30 min -> ``4h30m``)."""
    micro = duration // timedelta(microseconds=1)
    if micro == 0:
        return "0s"
    out = ""
    for unit, size in _DURATION_UNITS.items():
        size_micro = size // timedelta(microseconds=1)
        count, micro = divmod(micro, size_micro)
        if count:
            out += f"{count}{unit}"
    return out


def _positive(duration: timedelta) -> timedelta:
    if duration <= timedelta(0):
        raise ValueError("the duration must be longer than zero")
    return duration


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["4h30m"]}),
]
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]


def _percent(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str) and value.strip().endswith("%"):
        return value.strip()[:-1].strip()
    return value


Percent = Annotated[
    Decimal,
    BeforeValidator(_percent),
    Field(ge=0, le=100),
    PlainSerializer(lambda value: str(value), return_type=str),
    WithJsonSchema({"type": ["number", "string"], "minimum": 0, "maximum": 100}),
]
Money = Annotated[
    Decimal,
    Field(ge=0),
    PlainSerializer(lambda value: str(value), return_type=str),
    WithJsonSchema({"type": ["number", "string"], "minimum": 0}),
]


def _timezone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a time zone is an IANA name such as 'America/New_York', not {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(value, available_timezones())
        raise ValueError(
            f"'{value}' is not an IANA time zone (e.g. 'UTC', 'America/New_York'){hint}"
        ) from None
    return value


TimeZoneName = Annotated[
    str,
    AfterValidator(_timezone),
    WithJsonSchema({"type": "string", "examples": ["UTC", "America/New_York"]}),
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
TIME_RANGE_PATTERN = r"^\d{2}:\d{2}-\d{2}:\d{2}$"


def _minutes(text: str, original: str) -> int:
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(f"'{original}' is not a time range such as '09:00-18:00'")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"'{text.strip()}' in '{original}' is not a time of day (00:00 to 24:00)")
    return hours * 60 + minutes


def parse_time_range(value: Any) -> tuple[int, int]:
    """``"09:00-18:00"`` -> (540, 1080); an end at or before the start runs overnight."""
    if isinstance(value, tuple):
        return value
    if not isinstance(value, str) or value.count("-") != 1:
        raise ValueError(f"{value!r} is not a time range such as '09:00-18:00' or '22:00-06:00'")
    start_text, end_text = value.split("-")
    start, end = _minutes(start_text, value), _minutes(end_text, value)
    if start == 1440:
        raise ValueError(f"'{value}' starts at 24:00: start at 00:00 instead")
    if end == start:
        raise ValueError(f"'{value}' is empty: the start and the end are the same time")
    if end < start:
        end += 1440  # overnight: ends on the next day
    return start, end


def _format_time_range(value: tuple[int, int]) -> str:
    start, end = value
    end_of_day = end if end <= 1440 else end - 1440
    return f"{start // 60:02d}:{start % 60:02d}-{end_of_day // 60:02d}:{end_of_day % 60:02d}"


TimeRange = Annotated[
    tuple[int, int],
    BeforeValidator(parse_time_range),
    PlainSerializer(_format_time_range, return_type=str),
    WithJsonSchema({"type": "string", "pattern": TIME_RANGE_PATTERN, "examples": ["09:00-18:00"]}),
]


def parse_weekdays(value: Any) -> tuple[int, ...]:
    """``[mon, tue]``, ``"mon-fri"`` or ``"every-day"`` -> weekday numbers (Monday is 0)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("every-day", "daily"):
            return tuple(range(7))
        if "-" in text:
            first, _, last = text.partition("-")
            return tuple(range(_weekday(first), _weekday(last) + 1))
        return (_weekday(text),)
    if isinstance(value, list):
        days = tuple(_weekday(item) for item in value)
        if len(set(days)) != len(days):
            raise ValueError("a day is listed twice")
        return days
    if isinstance(value, tuple):
        return value
    raise ValueError(f"days are a list such as [mon, tue] or a range 'mon-fri', not {value!r}")


def _weekday(value: Any) -> int:
    text = str(value).strip().lower()[:3]
    if text not in WEEKDAYS:
        raise ValueError(f"'{value}' is not a day: use one of {', '.join(WEEKDAYS)}")
    return WEEKDAYS.index(text)


Weekdays = Annotated[
    tuple[int, ...],
    BeforeValidator(parse_weekdays),
    PlainSerializer(lambda days: [WEEKDAYS[day] for day in days], return_type=list[str]),
    WithJsonSchema(
        {
            "oneOf": [
                {"type": "array", "items": {"enum": list(WEEKDAYS)}},
                {"type": "string", "examples": ["mon-fri", "every-day"]},
            ]
        }
    ),
]

ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"
Identifier = Annotated[
    str,
    Field(pattern=ID_PATTERN, max_length=64),
]


def _status(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.strip().lower()
    return value


HttpStatus = Annotated[
    str,
    BeforeValidator(_status),
    Field(pattern=r"^[1-5]([0-9]{2}|[0-9]x|xx)$"),
    WithJsonSchema({"type": ["string", "integer"], "examples": ["5xx", 429]}),
]
