"""Delivering the outbox: each message at least once, retried with backoff, never lost.

A message is written in the same transaction as the change that causes it (see
:func:`scan_notifications`). :func:`deliver_due` sends the messages whose time has come
through a :class:`~slakeeper.services.ports.Notifier`; a failure is recorded with the next
attempt time (30 s, 2 min, 10 min, then hourly), so a crash or an unreachable receiver delays a
message but never drops it; after ``MAX_ATTEMPTS`` failures it is a dead letter, kept and shown
by ``GET /api/v1/outbox?state=dead``. Receivers deduplicate by the message's ``dedupe_key``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from slakeeper.domain.support import ClockState, TicketClocks
from slakeeper.services import audit, slos, tickets
from slakeeper.services.ports import Notifier, UnitOfWork, UnitOfWorkFactory
from slakeeper.services.records import OutboxMessage

BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1))
#: After this many failed attempts a message is a dead letter: kept, visible, never retried.
MAX_ATTEMPTS = 12


def next_attempt(attempts: int, now: datetime) -> datetime:
    """When to try again after ``attempts`` failed tries."""
    return now + BACKOFF[min(attempts, len(BACKOFF) - 1)]


@dataclass(frozen=True)
class RunReport:
    written: int
    delivered: int
    failed: int
    alerts_moved: int = 0


def run_once(
    uow: UnitOfWorkFactory,
    notifier: Notifier | None,
    now: datetime,
    subscribers: Notifier | None = None,
) -> RunReport:
    """One worker pass: evaluate every SLO's burn-rate alerts, find newly at-risk and breached
    clocks in every organisation, then deliver what is due. Safe to run on several workers at
    once and after any restart."""
    alerts_moved = slos.run_alerts(uow, now)
    written = 0
    with uow() as work:
        organisations = work.organisations.all()
    for org in organisations:
        with uow() as work:
            written += len(scan_notifications(work, org.id, now))
            work.commit()
    delivered = failed = 0
    if notifier is not None or subscribers is not None:
        delivered, failed = deliver_due(uow, notifier, now, subscribers=subscribers)
    return RunReport(written, delivered, failed, alerts_moved)


def deliver_due(
    uow: UnitOfWorkFactory,
    notifier: Notifier | None,
    now: datetime,
    limit: int = 100,
    *,
    subscribers: Notifier | None = None,
) -> tuple[int, int]:
    """Send what is due: messages addressed to a subscriber through ``subscribers``, the others
    (operator notifications) through ``notifier``; a message whose sender is missing waits."""
    delivered = failed = 0
    with uow() as work:
        due = list(work.outbox.due(now, limit))
        for message in due:
            sender = subscribers if '"to": {' in message.payload else notifier
            if sender is None:
                continue
            try:
                sender.send(message)
            except Exception as exc:  # any failure of the receiver: try again later
                failed += 1
                reason = f"{type(exc).__name__}: {exc}"[:500]
                dead = message.attempts + 1 >= MAX_ATTEMPTS
                work.outbox.failed(
                    message.org_id,
                    message.dedupe_key,
                    reason,
                    next_attempt(message.attempts, now),
                    now if dead else None,
                )
            else:
                delivered += 1
                work.outbox.delivered(message.org_id, message.dedupe_key, now)
        work.commit()
    return delivered, failed


def scan_notifications(uow: UnitOfWork, org_id: str, now: datetime) -> list[OutboxMessage]:
    """Outbox messages (and audit entries) for every clock newly at risk or breached."""
    written: list[OutboxMessage] = []
    for ticket_view in tickets.all_views(uow, org_id, now):
        if ticket_view.clocks.status == tickets.CLOSED and not _has_breach(ticket_view.clocks):
            continue
        for clock in ticket_view.clocks.clocks:
            for topic, applies in (
                ("ticket.at-risk", clock.at_risk),
                ("ticket.breached", clock.state is ClockState.BREACHED),
            ):
                if not applies:
                    continue
                key = f"{ticket_view.ticket.id}:{clock.clock}:{clock.cycle}:{topic}"
                message = OutboxMessage(
                    org_id=org_id,
                    dedupe_key=key,
                    topic=topic,
                    payload=json.dumps(
                        {
                            "topic": topic,
                            "ticket": ticket_view.ticket.id,
                            "customer": ticket_view.ticket.customer_id,
                            "severity": ticket_view.clocks.severity,
                            "clock": tickets.clock_json(clock),
                        },
                        sort_keys=True,
                    ),
                    created_at=now,
                    attempts=0,
                    next_attempt_at=now,
                )
                if uow.outbox.add(message):
                    written.append(message)
                    audit.append(
                        uow, org_id=org_id, actor="worker", action=topic, entity_type="ticket",
                        entity_id=ticket_view.ticket.id, before=None,
                        after=json.loads(message.payload), at=now,
                    )  # fmt: skip
    return written


def _has_breach(clocks: TicketClocks) -> bool:
    return any(clock.state is ClockState.BREACHED for clock in clocks.clocks)
