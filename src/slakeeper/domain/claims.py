"""Claim windows: by when a customer must claim a credit (DOMAIN 5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from slakeeper.domain.intervals import require_aware
from slakeeper.domain.periods import Period, zone


class ClaimAfter(StrEnum):
    PERIOD_END = "period-end"
    INCIDENT = "incident"


@dataclass(frozen=True, slots=True)
class ClaimWindow:
    """A claim must be submitted within ``days`` days after the period end or the incident."""

    days: int
    after: ClaimAfter

    def __post_init__(self) -> None:
        if self.days < 0:
            raise ValueError(f"a claim window must not be negative, not {self.days} days")


def claim_deadline(
    window: ClaimWindow, *, period: Period, incident_ends: Sequence[datetime]
) -> datetime | None:
    """The instant by which a claim must be submitted (a claim at this instant is late).

    ``period-end``: ``window.days`` calendar days after the period's end. ``incident``: that
    many days after the end of the latest counted downtime interval of the period (pass the
    ends of ``UptimeResult.counted_intervals``); ``None`` when there was none. Days are calendar
    days in the period's time zone, so a deadline stays at local midnight across DST changes.
    """
    if window.after is ClaimAfter.PERIOD_END:
        start = period.end
    else:
        if not incident_ends:
            return None
        start = max(require_aware(end, "incident end") for end in incident_ends)
    local = start.astimezone(zone(period.timezone))
    return (local + timedelta(days=window.days)).astimezone(UTC)
