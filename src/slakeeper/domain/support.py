"""Support requests on the clock: replay a ticket's events into its response and resolution clocks.

A ticket is a sequence of :class:`TicketEvent` values. :func:`replay` judges its clocks at
``now`` in business time (:mod:`slakeeper.domain.calendars`); it is pure: the same events and
``now`` always give the same :class:`TicketClocks`.

The rules, exactly:

- **Events.** Each event validates itself when built: ``at`` must be timezone-aware (it is kept
  in UTC), ``kind`` one of :class:`EventKind` (a string is accepted and checked), ``opened`` and
  ``severity-changed`` carry a ``severity``, ``status-changed`` carries a ``status``, and no other
  kind carries a severity. Anything else is a :class:`ValueError` with a plain message.
- **Order.** Events are sorted by time, stably (events at the same instant keep their given
  order). The first must be ``opened``; an event before it, a second ``opened``, or an
  ``opened`` after ``now`` is a :class:`ValueError`. Events after ``now`` are ignored: the
  result is the ticket as it stood at ``now``.
- **Status.** The status starts as the ``opened`` event's status, else ``"open"``.
  ``status-changed`` sets it; ``customer-replied`` sets it back to ``"open"`` when it was a paused
  status; ``resolved`` sets ``"resolved"`` and ``reopened`` sets ``"open"``. Any event that
  carries a status sets it last (so ``responded`` with ``status="waiting-on-customer"`` both
  responds and pauses). The ticket is *paused* while its status is in ``paused_statuses``; the
  paused intervals are shared by every clock of the ticket.
- **Response clock.** Runs from ``opened`` to the first ``responded``. A ticket resolved without
  any response stops its response clock at the resolution (a resolution answers the request).
- **Resolution clock.** Cycle 1 runs from ``opened`` to ``resolved``; ``reopened`` starts a new
  cycle from that instant. A ``resolved`` while already resolved and a ``reopened`` while not
  resolved change nothing but the status (help-desk exports repeat them).
- **Targets.** ``targets(severity)`` gives ``(response, resolution)``
  :class:`~slakeeper.domain.support_clock.ClockTarget` values. A clock is judged with the
  targets of the severity in force when it stopped (or at ``now`` while it runs): a
  ``severity-changed`` re-derives the target while keeping the elapsed time, since the due
  instant is recomputed from the cycle's start with the new target and the same pauses. A
  business-day target is converted to business time from the cycle's start
  (:func:`~slakeeper.domain.support_clock.business_days_target`). A target with neither a
  duration nor business days (best effort, enhancements) gives ``no-target``.
- **Measures.** ``elapsed`` is the open, unpaused business time from the start to the stop (or
  ``now``); ``paused`` is the open business time spent paused over the same span. ``due_at`` is
  the instant ``elapsed`` reaches the target; ``warning_at`` the instant it reaches
  ``warning_fraction`` of it (both inside open hours). While a clock is paused at ``now`` its
  due instant is computed as if it resumed at ``now``.
- **State at now.** A stopped clock is ``met`` when ``stopped_at <= due_at``, else ``breached``.
  A running clock is ``breached`` when ``now >= due_at``, else ``paused`` while the ticket is
  paused, else ``running``. ``at_risk`` is true for a running or paused clock once
  ``elapsed >= warning_fraction x target``. ``breached_at`` is ``due_at`` for a breached clock.

All arithmetic is exact (``timedelta`` microseconds and ``Fraction``); there is no float.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from slakeeper.domain.intervals import Interval, IntervalSet, require_aware
from slakeeper.domain.support_clock import (
    ClockResult,
    ClockState,
    ClockTarget,
    business_days_target,
    measure,
)

__all__ = [
    "ClockResult",
    "ClockState",
    "ClockTarget",
    "EventKind",
    "TicketClocks",
    "TicketEvent",
    "business_days_target",
    "replay",
]

OPEN_STATUS = "open"
RESOLVED_STATUS = "resolved"


class EventKind(StrEnum):
    OPENED = "opened"
    RESPONDED = "responded"
    CUSTOMER_REPLIED = "customer-replied"
    STATUS_CHANGED = "status-changed"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    SEVERITY_CHANGED = "severity-changed"


_KINDS = ", ".join(f"'{kind.value}'" for kind in EventKind)
_CARRY_SEVERITY = (EventKind.OPENED, EventKind.SEVERITY_CHANGED)


@dataclass(frozen=True)
class TicketEvent:
    """Something that happened to a ticket at an instant (see the module docstring)."""

    at: datetime
    kind: EventKind
    status: str | None = None
    severity: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.at, datetime):
            raise ValueError(f"an event's time must be a datetime, not {self.at!r}")
        try:
            kind = EventKind(self.kind)
        except ValueError:
            raise ValueError(f"unknown event kind {self.kind!r} (known: {_KINDS})") from None
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "at", require_aware(self.at, f"{kind.value} event time"))
        for name, value in (("status", self.status), ("severity", self.severity)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"a {kind.value} event's {name} must be non-empty text")
        if kind in _CARRY_SEVERITY and self.severity is None:
            raise ValueError(f"a {kind.value} event must carry the ticket's severity")
        if kind not in _CARRY_SEVERITY and self.severity is not None:
            raise ValueError(
                f"a {kind.value} event cannot carry a severity: use a severity-changed event"
            )
        if kind is EventKind.STATUS_CHANGED and self.status is None:
            raise ValueError("a status-changed event must carry the new status")


@dataclass(frozen=True)
class TicketClocks:
    """A ticket's clocks at ``now``: one response clock, one resolution clock per cycle."""

    response: ClockResult
    resolution: tuple[ClockResult, ...]
    severity: str
    status: str

    @property
    def clocks(self) -> tuple[ClockResult, ...]:
        return (self.response, *self.resolution)


@dataclass
class _Cycle:
    started_at: datetime
    stopped_at: datetime | None = None
    severity: str | None = None  # in force when it stopped


def replay(
    events: Sequence[TicketEvent],
    *,
    now: datetime,
    targets: Callable[[str], tuple[ClockTarget, ClockTarget]],
    paused_statuses: Collection[str],
    warning_fraction: Fraction,
) -> TicketClocks:
    """The ticket's clocks at ``now`` (rules in the module docstring)."""
    now = require_aware(now, "now")
    ordered = _ordered(events, now)
    opened = ordered[0]
    paused_set = frozenset(paused_statuses)
    status = opened.status or OPEN_STATUS
    severity = opened.severity
    assert severity is not None  # checked by TicketEvent
    pause_from = opened.at if status in paused_set else None
    pauses: list[Interval] = []
    response = _Cycle(opened.at)
    cycles = [_Cycle(opened.at)]
    for event in ordered[1:]:
        if event.at > now:
            break
        was_paused = status in paused_set
        current = cycles[-1]
        match event.kind:
            case EventKind.RESPONDED:
                _stop(response, event.at, severity)
            case EventKind.CUSTOMER_REPLIED:
                if was_paused:
                    status = OPEN_STATUS
            case EventKind.RESOLVED:
                _stop(response, event.at, severity)
                _stop(current, event.at, severity)
                status = RESOLVED_STATUS
            case EventKind.REOPENED:
                if current.stopped_at is not None:
                    cycles.append(_Cycle(event.at))
                status = OPEN_STATUS
            case EventKind.SEVERITY_CHANGED:
                assert event.severity is not None
                severity = event.severity
            case _:  # STATUS_CHANGED: its status is applied below
                pass
        if event.status is not None:
            status = event.status
        paused_after = status in paused_set
        if paused_after and not was_paused:
            pause_from = event.at
        elif was_paused and not paused_after and pause_from is not None:
            pauses.append(Interval(pause_from, event.at))
            pause_from = None
    if pause_from is not None and pause_from < now:
        pauses.append(Interval(pause_from, now))
    paused_now = status in paused_set
    pause_set = IntervalSet(pauses)
    lookup = _TargetLookup(targets)

    def judge(name: str, number: int, cycle: _Cycle, index: int) -> ClockResult:
        return measure(
            clock=name,
            cycle=number,
            target=lookup(cycle.severity or severity)[index],
            started_at=cycle.started_at,
            stopped_at=cycle.stopped_at,
            now=now,
            pauses=pause_set,
            paused_now=paused_now,
            warning_fraction=warning_fraction,
        )

    return TicketClocks(
        response=judge("response", 1, response, 0),
        resolution=tuple(
            judge("resolution", number, cycle, 1) for number, cycle in enumerate(cycles, 1)
        ),
        severity=severity,
        status=status,
    )


def _stop(cycle: _Cycle, at: datetime, severity: str) -> None:
    if cycle.stopped_at is None:
        cycle.stopped_at = at
        cycle.severity = severity


def _ordered(events: Sequence[TicketEvent], now: datetime) -> list[TicketEvent]:
    for event in events:
        if not isinstance(event, TicketEvent):
            raise ValueError(f"expected TicketEvent values, got {event!r}")
    if not events:
        raise ValueError("a ticket needs at least its opened event")
    ordered = sorted(events, key=lambda event: event.at)
    first = ordered[0]
    if first.kind is not EventKind.OPENED:
        openings = [event for event in ordered if event.kind is EventKind.OPENED]
        if not openings:
            raise ValueError("the ticket has no opened event: its first event must be 'opened'")
        raise ValueError(
            f"a {first.kind.value} event at {first.at.isoformat()} comes before the ticket was "
            f"opened at {openings[0].at.isoformat()}"
        )
    for event in ordered[1:]:
        if event.kind is EventKind.OPENED:
            raise ValueError(
                f"the ticket is opened twice ({first.at.isoformat()} and {event.at.isoformat()}): "
                "use a reopened event for a new resolution cycle"
            )
    if first.at > now:
        raise ValueError(
            f"the ticket was opened at {first.at.isoformat()}, after now ({now.isoformat()})"
        )
    return ordered


class _TargetLookup:
    """``targets`` called once per severity; a missing severity becomes a ValueError."""

    def __init__(self, targets: Callable[[str], tuple[ClockTarget, ClockTarget]]) -> None:
        self._targets = targets
        self._found: dict[str, tuple[ClockTarget, ClockTarget]] = {}

    def __call__(self, severity: str) -> tuple[ClockTarget, ClockTarget]:
        found = self._found.get(severity)
        if found is None:
            try:
                found = self._targets(severity)
            except LookupError as error:
                raise ValueError(f"no support targets for severity {severity!r}: {error}") from None
            self._found[severity] = found
        return found
