"""Delivering the outbox: each message at least once, retried with backoff, never lost.

A message is written in the same transaction as the change that causes it (see
``tickets.scan_notifications``). :func:`deliver_due` sends the messages whose time has come
through a :class:`~slakeeper.services.ports.Notifier`; a failure is recorded with the next
attempt time (30 s, 2 min, 10 min, then hourly), so a crash or an unreachable receiver delays a
message but never drops it. Receivers deduplicate by the message's ``dedupe_key``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from slakeeper.services import tickets
from slakeeper.services.ports import Notifier, UnitOfWorkFactory

BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1))


def next_attempt(attempts: int, now: datetime) -> datetime:
    """When to try again after ``attempts`` failed tries."""
    return now + BACKOFF[min(attempts, len(BACKOFF) - 1)]


@dataclass(frozen=True)
class RunReport:
    written: int
    delivered: int
    failed: int


def run_once(uow: UnitOfWorkFactory, notifier: Notifier | None, now: datetime) -> RunReport:
    """One worker pass: find newly at-risk and breached clocks in every organisation, then
    deliver what is due. Safe to run on several workers at once and after any restart."""
    written = 0
    with uow() as work:
        organisations = work.organisations.all()
    for org in organisations:
        with uow() as work:
            written += len(tickets.scan_notifications(work, org.id, now))
            work.commit()
    delivered = failed = 0
    if notifier is not None:
        delivered, failed = deliver_due(uow, notifier, now)
    return RunReport(written, delivered, failed)


def deliver_due(
    uow: UnitOfWorkFactory, notifier: Notifier, now: datetime, limit: int = 100
) -> tuple[int, int]:
    delivered = failed = 0
    with uow() as work:
        due = list(work.outbox.due(now, limit))
        for message in due:
            try:
                notifier.send(message)
            except Exception as exc:  # any failure of the receiver: try again later
                failed += 1
                reason = f"{type(exc).__name__}: {exc}"[:500]
                work.outbox.failed(
                    message.org_id,
                    message.dedupe_key,
                    reason,
                    next_attempt(message.attempts, now),
                )
            else:
                delivered += 1
                work.outbox.delivered(message.org_id, message.dedupe_key, now)
        work.commit()
    return delivered, failed
