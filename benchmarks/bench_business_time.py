"""Benchmark slakeeper's business-time engine against ``businesstimedelta``.

Run: ``.venv/bin/python benchmarks/bench_business_time.py [--inputs N] [--repeats R]``.

Both libraries get the same inputs: Mon-Fri 09:00-18:00 America/New_York with US holidays
(the ``holidays`` package), whole-minute starts through 2026-2027 (about half inside open hours),
durations from 15 min to 40 h, no pauses (``businesstimedelta`` has none). ``businesstimedelta``
is first run once over every input under a per-call time limit; inputs where it raises or runs
over the limit are left out of *both* timings and reported. Figures are the median over the
repeats of (batch time / batch size). "warm" means the engine's per-calendar block cache and the
zone/holiday caches are filled (the steady state of a long-running process); "cold" is one pass
with every cache emptied first.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import signal
import statistics
import sys
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from types import FrameType
from typing import Any

import businesstimedelta
import holidays
import pytz

from slakeeper.domain import calendars
from slakeeper.domain.calendars import Calendar, OpenSpan, due, elapsed, warning_at
from slakeeper.domain.intervals import IntervalSet

ZONE = "America/New_York"
PYTZ_ZONE = pytz.timezone(ZONE)
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
MINUTES_IN_RANGE = 2 * 365 * 24 * 60
LIMIT_SECONDS = 0.25  # per businesstimedelta call in the qualifying pass


def our_calendar() -> Calendar:
    return Calendar(
        "business hours",
        ZONE,
        tuple(OpenSpan(day, time(9), 18 * 60) for day in range(5)),
        holiday_countries=(("US", None),),
    )


def their_rules() -> Any:
    workday = businesstimedelta.WorkDayRule(
        start_time=time(9), end_time=time(18), working_days=[0, 1, 2, 3, 4], tz=PYTZ_ZONE
    )
    closed = businesstimedelta.HolidayRule(holidays.country_holidays("US"), tz=PYTZ_ZONE)
    return businesstimedelta.Rules([workday, closed])


def make_inputs(count: int, seed: int) -> list[tuple[datetime, timedelta, datetime]]:
    """(start, duration, end): about half the starts inside business hours."""
    rng = random.Random(seed)
    calendar = our_calendar()
    inputs = []
    while len(inputs) < count:
        start = FIRST + timedelta(minutes=rng.randrange(MINUTES_IN_RANGE))
        inside = calendars.is_open(calendar, start)
        if inside != (len(inputs) % 2 == 0):
            continue
        duration = timedelta(minutes=rng.randrange(15, 40 * 60 + 1))
        end = start + timedelta(minutes=rng.randrange(0, 7 * 24 * 60))
        inputs.append((start, duration, end))
    return inputs


class _TooSlow(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _TooSlow


def qualify(
    calls: Sequence[Callable[[], object]],
) -> tuple[list[int], list[object], dict[str, int]]:
    """Run each call once under a time limit: the indexes that finished, results, failures."""
    good: list[int] = []
    results: list[object] = []
    failures = {"timeout": 0, "error": 0}
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for index, call in enumerate(calls):
            signal.setitimer(signal.ITIMER_REAL, LIMIT_SECONDS)
            try:
                result = call()
            except _TooSlow:
                failures["timeout"] += 1
                continue
            except Exception:
                failures["error"] += 1
                continue
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            good.append(index)
            results.append(result)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return good, results, failures


def per_call_us(calls: Sequence[Callable[[], object]], repeats: int) -> float:
    """Median over ``repeats`` of the batch time divided by the batch size, in µs."""
    samples = []
    for _ in range(repeats):
        begin = clock.perf_counter_ns()
        for call in calls:
            call()
        samples.append((clock.perf_counter_ns() - begin) / len(calls) / 1000)
    return statistics.median(samples)


def clear_caches() -> None:
    for name in ("_offset_segments", "_country_holidays", "_zone"):
        getattr(calendars, name).cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20260301)
    args = parser.parse_args()

    inputs = make_inputs(args.inputs, args.seed)
    rules = their_rules()

    def their_due(start: datetime, duration: timedelta) -> datetime:
        return start + businesstimedelta.BusinessTimeDelta(rules, timedelta=duration)

    def their_elapsed(start: datetime, end: datetime) -> timedelta:
        if end <= start:
            return timedelta(0)
        return rules.difference(start, end).timedelta  # type: ignore[no-any-return]

    # -- qualifying pass for businesstimedelta -----------------------------------------------
    their_due_calls = [lambda s=s, d=d: their_due(s, d) for s, d, _ in inputs]
    their_elapsed_calls = [lambda s=s, e=e: their_elapsed(s, e) for s, _, e in inputs]
    due_ok, their_due_results, due_failures = qualify(their_due_calls)
    elapsed_ok, their_elapsed_results, elapsed_failures = qualify(their_elapsed_calls)

    # -- agreement ---------------------------------------------------------------------------
    calendar = our_calendar()
    due_disagree = [
        (inputs[i], theirs)
        for i, theirs in zip(due_ok, their_due_results, strict=True)
        if due(calendar, inputs[i][0], inputs[i][1]) != theirs
    ]
    elapsed_disagree = [
        (inputs[i], theirs)
        for i, theirs in zip(elapsed_ok, their_elapsed_results, strict=True)
        if elapsed(calendar, inputs[i][0], inputs[i][2]) != theirs
    ]

    # -- timings -----------------------------------------------------------------------------
    clear_caches()
    cold = our_calendar()
    begin = clock.perf_counter_ns()
    for s, d, _ in inputs:
        due(cold, s, d)
    cold_due = (clock.perf_counter_ns() - begin) / len(inputs) / 1000
    first = our_calendar()
    clear_caches()
    begin = clock.perf_counter_ns()
    due(first, *inputs[0][:2])
    first_call = (clock.perf_counter_ns() - begin) / 1000

    ours_due = [lambda s=s, d=d: due(calendar, s, d) for s, d, _ in inputs]
    ours_elapsed = [lambda s=s, e=e: elapsed(calendar, s, e) for s, _, e in inputs]
    rows: list[tuple[str, int, float, float | None]] = []
    for label, ours, theirs, ok in (
        ("due() 15 min-40 h", ours_due, their_due_calls, due_ok),
        ("elapsed() 0-7 days", ours_elapsed, their_elapsed_calls, elapsed_ok),
    ):
        ours_us = per_call_us([ours[i] for i in ok], args.repeats)
        theirs_us = per_call_us([theirs[i] for i in ok], args.repeats)
        rows.append((label, len(ok), ours_us, theirs_us))

    long_inputs = inputs[:200]
    long_ours = [lambda s=s: due(calendar, s, timedelta(hours=400)) for s, _, _ in long_inputs]
    long_theirs = [lambda s=s: their_due(s, timedelta(hours=400)) for s, _, _ in long_inputs]
    long_ok, _, _ = qualify(long_theirs)
    rows.append(
        (
            "due() 400 h",
            len(long_ok),
            per_call_us([long_ours[i] for i in long_ok], args.repeats),
            per_call_us([long_theirs[i] for i in long_ok], args.repeats),
        )
    )

    rng = random.Random(args.seed + 1)
    paused = []
    for s, d, _ in inputs:
        pauses = IntervalSet.of(
            *(
                (p, p + timedelta(minutes=rng.randrange(10, 600)))
                for p in sorted(s + timedelta(minutes=rng.randrange(0, 3000)) for _ in range(3))
            )
        )
        paused.append((s, d, pauses))
    rows.append(
        (
            "due() with 3 pauses",
            len(paused),
            per_call_us([lambda a=a: due(calendar, *a) for a in paused], args.repeats),
            None,
        )
    )
    rows.append(
        (
            "warning_at() 3/4",
            len(inputs),
            per_call_us(
                [lambda s=s, d=d: warning_at(calendar, s, d, Fraction(3, 4)) for s, d, _ in inputs],
                args.repeats,
            ),
            None,
        )
    )

    # -- report ------------------------------------------------------------------------------
    print(
        f"machine: {platform.processor() or platform.machine()} ({platform.platform()}), "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"businesstimedelta {getattr(businesstimedelta, '__version__', '1.0.1')}"
    )
    print(
        f"inputs: {len(inputs)} (Mon-Fri 09:00-18:00 {ZONE}, US holidays, "
        f"starts 2026-2027, half in hours), {args.repeats} repeats, median µs per call"
    )
    print()
    print(f"{'operation':<22}{'inputs':>8}{'ours µs':>11}{'btd µs':>11}{'btd/ours':>10}")
    for label, n, ours_us, theirs_us in rows:
        theirs_text = f"{theirs_us:11.1f}" if theirs_us is not None else f"{'-':>11}"
        ratio = f"{theirs_us / ours_us:9.1f}x" if theirs_us is not None else f"{'-':>10}"
        print(f"{label:<22}{n:>8}{ours_us:11.1f}{theirs_text}{ratio}")
    print()
    print(
        f"ours cold (every cache emptied, one pass over the due() inputs): {cold_due:.1f} µs/call;"
        f" the very first call: {first_call:.0f} µs"
    )
    print(
        f"businesstimedelta left out (> {LIMIT_SECONDS * 1000:.0f} ms or raised): "
        f"due {due_failures}, elapsed {elapsed_failures}"
    )
    print(
        f"disagreements: due {len(due_disagree)}/{len(due_ok)}, "
        f"elapsed {len(elapsed_disagree)}/{len(elapsed_ok)}"
    )
    for (start, duration, end), theirs in (due_disagree + elapsed_disagree)[:5]:
        local = start.astimezone(PYTZ_ZONE)
        print(
            f"  start {local.isoformat()} duration {duration} end "
            f"{end.astimezone(PYTZ_ZONE).isoformat()}: ours "
            f"{due(calendar, start, duration).astimezone(PYTZ_ZONE).isoformat()} / "
            f"{elapsed(calendar, start, end)}, businesstimedelta {theirs}"
        )


if __name__ == "__main__":
    main()
