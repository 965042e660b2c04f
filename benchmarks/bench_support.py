"""Benchmark the support clocks: a year of requests imported, replayed and reviewed.

Run: ``.venv/bin/python benchmarks/bench_support.py [--requests N] [--policy FILE] [--baseline N]``.

A seeded generator writes a year (2026) of requests as CSV in memory for the policy's plans,
severities and request types: openings at any minute of the year, first responses and
resolutions some minutes to days later, a third of them waiting on the customer once, a few
reopened (the CSV has no reopen column, so reopens are added to the events after the import),
a few still open at the year's end. It then times, once each, ``parse_csv`` (the dry run),
replaying every ticket at the year's end, and ``review``.

The baseline, measured in the same run, is the obvious slow twin: replay a subsample minute by
minute (an ``is open`` check from the wall clock for every minute, the way the unit tests' oracle
does) for elapsed, paused and due of every clock. Its time is extrapolated to the whole set and
shown beside ours as a ratio; on the subsample the two must agree on every elapsed and paused
figure, or the benchmark fails.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import sys
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from slakeeper.domain.calendars import Calendar
from slakeeper.domain.support import EventKind, TicketClocks, TicketEvent
from slakeeper.policy.loader import load_policy_file
from slakeeper.services.support_clocks import SupportClocks, support_clocks
from slakeeper.services.support_review import ReviewTicket, review
from slakeeper.services.ticket_import import ImportedTicket, parse_csv

ROOT = Path(__file__).resolve().parent.parent
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = datetime(2027, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HEADER = [
    "id", "customer", "plan", "severity", "type", "opened_at", "first_response_at",
    "resolved_at", "paused_from", "paused_to",
]  # fmt: skip


def generate(policy_path: Path, count: int, seed: int) -> str:
    """A year of requests as CSV text."""
    policy = load_policy_file(policy_path).policy
    rng = random.Random(seed)
    plans = [plan.id for plan in policy.plans]
    severities = [severity.id for severity in policy.severities]
    types = policy.support.request_types.covered + policy.support.request_types.enhancement
    types = types or ["incident", "defect", "question", "tuning"]
    customers = [(f"customer-{n:03d}", plans[n % len(plans)]) for n in range(120)]
    zone = ZoneInfo(policy.metadata.timezone)
    weights = [5 if kind in policy.support.request_types.enhancement else 20 for kind in types]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    year_minutes = (YEAR_END - YEAR_START) // MINUTE
    for number in range(count):
        customer, plan = rng.choice(customers)
        opened = YEAR_START + rng.randrange(year_minutes - 20 * 24 * 60) * MINUTE
        local = opened.astimezone(zone)
        if local.weekday() >= 5 and rng.random() < 0.7:  # few requests arrive at weekends
            local = (local + timedelta(days=7 - local.weekday())).replace(fold=0)
        if local.weekday() < 5 and rng.random() < 0.8:  # most arrive in office hours
            local = local.replace(hour=rng.randrange(8, 19), minute=rng.randrange(60))
        opened = local.astimezone(UTC)
        if number % 500 == 0:  # a few still open at the end of the year
            opened = YEAR_END - rng.randrange(1, 3 * 24 * 60) * MINUTE
        responded = first_answer(opened.astimezone(zone), rng)
        resolved = responded + int(rng.expovariate(1 / (24 * 60))) * MINUTE
        pause_from = pause_to = ""
        if rng.random() < 0.33:
            start = responded + rng.randrange(0, 120) * MINUTE
            end = start + int(rng.expovariate(1 / (18 * 60))) * MINUTE + MINUTE
            pause_from = instant(start)
            pause_to = instant(end)
            resolved = max(resolved, end + rng.randrange(10, 600) * MINUTE)
        still_open = resolved >= YEAR_END or number % 500 == 0
        writer.writerow(
            [
                f"R-{number:05d}",
                customer,
                plan,
                rng.choices(severities, weights=range(1, len(severities) + 1))[0],
                rng.choices(types, weights=weights)[0],
                instant(opened),
                instant(responded) if responded < YEAR_END else "",
                "" if still_open else instant(resolved),
                pause_from if pause_from and pause_from < instant(resolved) else "",
                pause_to if pause_from and pause_from < instant(resolved) else "",
            ]
        )
    return out.getvalue()


def first_answer(opened: datetime, rng: random.Random) -> datetime:
    """In office hours (Mon-Fri 9-17) within the hour or two; otherwise the next morning."""
    if opened.weekday() < 5 and 9 <= opened.hour < 17:
        return (opened + int(rng.expovariate(1 / 90)) * MINUTE).astimezone(UTC)
    day = opened.date() + timedelta(days=0 if opened.hour < 9 else 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    morning = datetime.combine(day, time(9), tzinfo=opened.tzinfo)
    return (morning + rng.randrange(0, 120) * MINUTE).astimezone(UTC)


def instant(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def with_reopens(tickets: list[ImportedTicket], rng: random.Random) -> list[list[TicketEvent]]:
    """Each ticket's events, with one in 25 resolved tickets reopened and resolved again."""
    histories = []
    for ticket in tickets:
        events = list(ticket.events)
        resolved = [e.at for e in events if e.kind is EventKind.RESOLVED]
        if resolved and rng.random() < 0.04:
            again = resolved[0] + rng.randrange(60, 3 * 24 * 60) * MINUTE
            if again + 4 * 60 * MINUTE < YEAR_END:
                events.append(TicketEvent(again, EventKind.REOPENED))
                events.append(TicketEvent(again + 4 * 60 * MINUTE, EventKind.RESOLVED))
        histories.append(events)
    return histories


def replay_all(
    engine: SupportClocks, tickets: list[ImportedTicket], histories: list[list[TicketEvent]]
) -> list[TicketClocks]:
    return [
        engine.replay(
            ImportedTicket(t.id, t.customer, t.severity, t.request_type, events, t.plan),
            now=YEAR_END,
        )
        for t, events in zip(tickets, histories, strict=True)
    ]


# -- the minute-by-minute baseline -------------------------------------------------------------
def naive_is_open(calendar: Calendar, instant_: datetime) -> bool:
    if calendar.always_open:
        return True
    local = instant_.astimezone(ZoneInfo(calendar.timezone)).replace(tzinfo=None)
    for back in (0, 1):
        day = local.date() - timedelta(days=back)
        for span in calendar.spans:
            if day.weekday() != span.weekday or calendar.is_holiday(day):
                continue
            opens = datetime.combine(day, span.start)
            closes = datetime.combine(day, time(0)) + timedelta(minutes=span.end_minutes)
            if opens <= local < closes:
                return True
    return False


def naive_clocks(
    engine: SupportClocks, ticket: ImportedTicket, events: list[TicketEvent]
) -> list[tuple[timedelta, timedelta, datetime | None]]:
    """(elapsed, paused, due) of every clock, stepping one minute at a time."""
    paused_statuses = engine.paused_statuses
    targets = engine.targets(ticket.plan, enhancement=engine.is_enhancement(ticket.request_type))
    response_target, resolution_target = targets(ticket.severity)
    ordered = sorted(events, key=lambda e: e.at)
    status_at = status_timeline(ordered, paused_statuses)
    spans = clock_spans(ordered)
    out = []
    for index, (start, stop) in enumerate(spans):
        target = response_target if index == 0 else resolution_target
        end = stop or YEAR_END
        worked = paused = timedelta(0)
        t = start
        while t < end:
            if naive_is_open(target.calendar, t):
                if status_at(t):
                    paused += MINUTE
                else:
                    worked += MINUTE
            t += MINUTE
        due = None
        goal = naive_target(target.calendar, start, target.duration, target.business_days)
        if goal is not None:  # the minute the goal is reached (targets are over a minute)
            counted, t = timedelta(0), start
            while due is None:
                if naive_is_open(target.calendar, t) and not (t < end and status_at(t)):
                    counted += MINUTE
                    if counted == goal:
                        due = t + MINUTE
                t += MINUTE
        out.append((worked, paused, due))
    return out


def naive_target(
    calendar: Calendar, start: datetime, duration: timedelta | None, business_days: int | None
) -> timedelta | None:
    if business_days is None:
        return duration
    zone = ZoneInfo(calendar.timezone)
    first_day = start.astimezone(zone).date()
    seen: set[date] = set()
    counted, t = timedelta(0), start
    while True:  # count open minutes until past the close of the Nth business day
        local = t.astimezone(zone)
        day = local.date()
        if naive_is_open(calendar, t):
            owner = (
                day
                if any(
                    s.weekday == day.weekday()
                    and datetime.combine(day, s.start) <= local.replace(tzinfo=None)
                    for s in calendar.spans
                )
                else day - timedelta(days=1)
            )
            if owner > first_day:
                seen.add(owner)
            if len(seen) > business_days:
                return counted
            counted += MINUTE
        t += MINUTE


def status_timeline(
    events: list[TicketEvent], paused_statuses: frozenset[str]
) -> Callable[[datetime], bool]:
    changes: list[tuple[datetime, bool]] = []
    status = "open"
    for event in events:
        if event.kind is EventKind.CUSTOMER_REPLIED and status in paused_statuses:
            status = "open"
        elif event.kind is EventKind.RESOLVED:
            status = "resolved"
        elif event.kind is EventKind.REOPENED:
            status = "open"
        if event.status is not None:
            status = event.status
        changes.append((event.at, status in paused_statuses))

    def paused(at: datetime) -> bool:
        state = False
        for when, value in changes:
            if when > at:
                break
            state = value
        return state

    return paused


def clock_spans(events: list[TicketEvent]) -> list[tuple[datetime, datetime | None]]:
    opened = events[0].at
    response: datetime | None = None
    cycles: list[list[datetime | None]] = [[opened, None]]
    for event in events[1:]:
        if event.at > YEAR_END:
            break
        if event.kind in (EventKind.RESPONDED, EventKind.RESOLVED) and response is None:
            response = event.at
        if event.kind is EventKind.RESOLVED and cycles[-1][1] is None:
            cycles[-1][1] = event.at
        if event.kind is EventKind.REOPENED and cycles[-1][1] is not None:
            cycles.append([event.at, None])
    spans: list[tuple[datetime, datetime | None]] = [(opened, response)]
    for start, stop in cycles:
        assert start is not None
        spans.append((start, stop))
    return spans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--baseline", type=int, default=200, help="subsample for the baseline")
    parser.add_argument("--policy", type=Path, default=ROOT / "examples/policies/ai-agency.yaml")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    policy = load_policy_file(args.policy).policy
    text = generate(args.policy, args.requests, args.seed)

    started = clock.perf_counter()
    imported = parse_csv(text, policy)
    parse_seconds = clock.perf_counter() - started
    if imported.problems:
        sys.exit(f"the generated CSV has problems: {imported.problems[:3]}")
    histories = with_reopens(imported.rows, random.Random(args.seed))

    engine = support_clocks(policy)
    started = clock.perf_counter()
    results = replay_all(engine, imported.rows, histories)
    replay_seconds = clock.perf_counter() - started

    started = clock.perf_counter()
    tickets = [
        ReviewTicket(
            row.id, row.customer, row.plan or "-", row.severity, row.request_type,
            engine.is_enhancement(row.request_type), clocks,
        )
        for row, clocks in zip(imported.rows, results, strict=True)
    ]  # fmt: skip
    reviewed = review(
        tickets,
        period_start=YEAR_START,
        period_end=YEAR_END,
        severity_order=[s.id for s in policy.severities],
    )
    review_seconds = clock.perf_counter() - started

    sample = random.Random(args.seed + 1).sample(range(len(imported.rows)), args.baseline)
    started = clock.perf_counter()
    naive = [naive_clocks(engine, imported.rows[i], histories[i]) for i in sample]
    naive_seconds = clock.perf_counter() - started
    ours_sample = replay_all(
        engine, [imported.rows[i] for i in sample], [histories[i] for i in sample]
    )
    for expected, got in zip(naive, ours_sample, strict=True):
        actual = [(c.elapsed, c.paused, c.due_at) for c in got.clocks]
        if [e[:2] for e in expected] != [a[:2] for a in actual]:
            sys.exit(f"the baseline disagrees: {expected} != {actual}")
        for (_, _, want), (_, _, have) in zip(expected, actual, strict=True):
            if want is not None and have is not None and want != have:
                sys.exit(f"the baseline's due disagrees: {want} != {have}")
    extrapolated = naive_seconds * len(imported.rows) / args.baseline

    clocks_total = sum(len(r.clocks) for r in results)
    print(
        f"machine: {platform.processor() or platform.machine()} ({platform.platform()}), "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print(
        f"policy {policy.metadata.name}: {len(imported.rows)} requests in 2026, "
        f"{clocks_total} clocks, {len(reviewed.rows)} target rows, "
        f"{len(reviewed.findings)} findings"
    )
    print()
    print(f"{'step':<34}{'seconds':>10}{'µs/request':>13}")
    for label, seconds in (
        ("parse_csv (dry run)", parse_seconds),
        ("replay at year end", replay_seconds),
        ("review", review_seconds),
        ("total", parse_seconds + replay_seconds + review_seconds),
    ):
        print(f"{label:<34}{seconds:>10.3f}{seconds / len(imported.rows) * 1e6:>13.1f}")
    print()
    print(
        f"baseline: minute-by-minute replay of {args.baseline} requests took "
        f"{naive_seconds:.2f} s (agrees with ours on every elapsed, paused and due); "
        f"extrapolated to {len(imported.rows)}: {extrapolated:.0f} s, "
        f"{extrapolated / replay_seconds:.0f}x our replay"
    )
    for finding in reviewed.findings[:6]:
        print(f"finding: {finding.message}")
    if len(reviewed.findings) > 6:
        print(f"... and {len(reviewed.findings) - 6} more findings")


if __name__ == "__main__":
    main()
