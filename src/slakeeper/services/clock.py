"""Business-time questions about a policy's calendars (``slakeeper calendar due|elapsed``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from slakeeper.domain import calendars as dc
from slakeeper.domain.intervals import Interval, IntervalSet, require_aware
from slakeeper.policy import compile as pc
from slakeeper.policy.errors import did_you_mean, one_of
from slakeeper.policy.models import Policy


def policy_calendar(policy: Policy, name: str) -> dc.Calendar:
    """The named calendar of ``policy`` (``24x7`` always exists) as a domain value."""
    try:
        return pc.calendar(policy.calendar(name))
    except KeyError:
        if name == "24x7":
            return dc.Calendar(name="24x7", timezone="UTC", always_open=True)
        known = [calendar.id for calendar in policy.calendars]
        raise LookupError(
            f"unknown calendar '{name}'{did_you_mean(name, known)} (defined: {one_of(known)})"
        ) from None


def pauses_of(spans: list[tuple[datetime, datetime]]) -> IntervalSet:
    return IntervalSet(Interval(require_aware(s), require_aware(e)) for s, e in spans)


def due(
    policy: Policy,
    calendar_name: str,
    start: datetime,
    duration: timedelta,
    pauses: list[tuple[datetime, datetime]],
) -> datetime:
    return dc.due(policy_calendar(policy, calendar_name), start, duration, pauses_of(pauses))


def elapsed(
    policy: Policy,
    calendar_name: str,
    start: datetime,
    end: datetime,
    pauses: list[tuple[datetime, datetime]],
) -> timedelta:
    return dc.elapsed(policy_calendar(policy, calendar_name), start, end, pauses_of(pauses))
