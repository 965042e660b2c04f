"""A policy's support terms compiled for the clock engine: targets per severity and plan."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from slakeeper.domain.calendars import Calendar
from slakeeper.domain.support import ClockTarget, TicketClocks, TicketEvent, replay
from slakeeper.policy import models as pm
from slakeeper.services.clock import policy_calendar
from slakeeper.services.ticket_import import ImportedTicket


@dataclass
class SupportClocks:
    """What :func:`~slakeeper.domain.support.replay` needs from a policy, compiled once.

    Build it once per policy (:func:`support_clocks`): the domain calendars cache their open
    hours, so one instance replays many tickets quickly.
    """

    policy: pm.Policy
    paused_statuses: frozenset[str]
    warning_fraction: Fraction
    _calendars: dict[str, Calendar] = field(default_factory=dict)

    def calendar(self, calendar_id: str) -> Calendar:
        found = self._calendars.get(calendar_id)
        if found is None:
            found = self._calendars[calendar_id] = policy_calendar(self.policy, calendar_id)
        return found

    def is_enhancement(self, request_type: str) -> bool:
        return request_type in self.policy.support.request_types.enhancement

    def targets(
        self, plan: str | None, *, enhancement: bool = False
    ) -> Callable[[str], tuple[ClockTarget, ClockTarget]]:
        """``severity -> (response, resolution)`` for ``plan``; best effort for enhancements.

        The first target of ``support.targets`` whose severity matches (by id, name or alias)
        and whose plans include ``plan`` (or list none) applies; without one, both clocks are
        best effort in the plan's support-hours calendar (24x7 when it names none).
        """
        policy = self.policy
        hours = policy.plan(plan).support_hours if plan in {p.id for p in policy.plans} else None
        fallback = self.calendar(hours or "24x7")

        def lookup(severity: str) -> tuple[ClockTarget, ClockTarget]:
            wanted = policy.severity(severity).id  # KeyError: replay reports it
            if enhancement:
                return ClockTarget.best_effort(fallback), ClockTarget.best_effort(fallback)
            for target in policy.support.targets:
                if policy.severity(target.severity).id != wanted:
                    continue
                if target.plans and plan not in target.plans:
                    continue
                calendar = self.calendar(target.calendar)
                return _target(target.response, calendar), _target(target.resolution, calendar)
            return ClockTarget.best_effort(fallback), ClockTarget.best_effort(fallback)

        return lookup

    def replay(
        self, ticket: ImportedTicket, *, now: datetime, plan: str | None = None
    ) -> TicketClocks:
        """The ticket's clocks at ``now`` under its plan (``plan`` overrides the CSV's)."""
        return self.replay_events(
            ticket.events, ticket.request_type, now=now, plan=plan or ticket.plan
        )

    def replay_events(
        self,
        events: list[TicketEvent],
        request_type: str,
        *,
        now: datetime,
        plan: str | None,
    ) -> TicketClocks:
        """The clocks of a request of ``request_type`` on ``plan`` with these ``events``."""
        return replay(
            events,
            now=now,
            targets=self.targets(plan, enhancement=self.is_enhancement(request_type)),
            paused_statuses=self.paused_statuses,
            warning_fraction=self.warning_fraction,
        )


def support_clocks(policy: pm.Policy) -> SupportClocks:
    support = policy.support
    return SupportClocks(
        policy=policy,
        paused_statuses=frozenset(support.pause_when),
        warning_fraction=Fraction(str(support.warning_at_percent)) / 100,
    )


def _target(value: timedelta | str | pm.BusinessDays | None, calendar: Calendar) -> ClockTarget:
    if isinstance(value, timedelta):
        return ClockTarget(value, None, calendar)
    if isinstance(value, pm.BusinessDays):
        return ClockTarget(None, value.business_days, calendar)
    return ClockTarget.best_effort(calendar)
