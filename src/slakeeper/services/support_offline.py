"""The SLA review from a CSV of requests and a policy file, without a server."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from slakeeper.domain.intervals import seconds
from slakeeper.domain.support import ClockState
from slakeeper.policy.models import Policy
from slakeeper.services.explain import human_seconds
from slakeeper.services.support_clocks import support_clocks
from slakeeper.services.support_review import Review, ReviewTicket, review
from slakeeper.services.ticket_import import ImportResult, parse_csv


@dataclass(frozen=True)
class Breach:
    ticket: str
    customer: str
    plan: str
    severity: str
    clock: str
    cycle: int
    due_at: datetime
    stopped_at: datetime | None
    over: str  # how far past due, in business time, as text


@dataclass(frozen=True)
class OfflineReview:
    imported: ImportResult
    review: Review | None
    breaches: tuple[Breach, ...]


def review_csv(
    text: str, policy: Policy, *, start: datetime, end: datetime, now: datetime | None
) -> OfflineReview:
    """Read the requests (every unreadable row reported), replay their clocks at ``now`` (by
    default the latest instant in the file: when the export was taken) and review those opened
    in ``[start, end)``; list every breached clock and by how much. Requests opened after
    ``now`` did not exist yet and are left out."""
    imported = parse_csv(text, policy)
    if imported.problems:
        return OfflineReview(imported, None, ())
    if now is None:
        instants = [event.at for row in imported.rows for event in row.events]
        now = max(instants) if instants else start
    engine = support_clocks(policy)
    tickets: list[ReviewTicket] = []
    breaches: list[Breach] = []
    for row in imported.rows:
        if row.events[0].at > now:
            continue
        clocks = engine.replay(row, now=now)
        plan = row.plan or ""
        tickets.append(
            ReviewTicket(
                id=row.id,
                customer=row.customer,
                plan=plan,
                severity=clocks.severity,
                request_type=row.request_type,
                enhancement=engine.is_enhancement(row.request_type),
                clocks=clocks,
            )
        )
        opened = clocks.response.started_at
        if not start <= opened < end:
            continue
        for clock in clocks.clocks:
            if clock.state is ClockState.BREACHED and clock.due_at is not None:
                over = clock.elapsed - clock.target if clock.target is not None else clock.elapsed
                breaches.append(
                    Breach(
                        ticket=row.id,
                        customer=row.customer,
                        plan=plan,
                        severity=clocks.severity,
                        clock=clock.clock,
                        cycle=clock.cycle,
                        due_at=clock.due_at,
                        stopped_at=clock.stopped_at,
                        over=human_seconds(seconds(over)),
                    )
                )
    result = review(
        tickets,
        period_start=start,
        period_end=end,
        severity_order=[severity.id for severity in policy.severities],
    )
    return OfflineReview(imported, result, tuple(breaches))
