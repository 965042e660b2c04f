"""Benchmark period close for 1,000 and 10,000 customers, beside ``slakeeper evaluate``.

Run: ``.venv/bin/python benchmarks/close.py [--customers 1000 10000] [--every 1 10]
[--postgres URL] [--profile] [--experiment-fast-clip]``.

For each customer count a month is generated with ``services.demo_month.population`` on the
trulayer example policy (``--policy``): varied plans, fees, time zones and mid-month contracts,
outages with incidents, maintenance, incidents naming a few customers, customer-caused
exclusions and support requests, with healthy traffic reported every ``--every`` minutes per
component and region (1: every minute, as a busy service's SDK reports; 10: the demo's density).
It is loaded into a fresh SQLite file (and, with ``--postgres URL``, a fresh database created on
that server and dropped afterwards); none of that is timed.

Timed: ``services.close.close_period`` and its commit (what ``slakeeper close`` does, without
the process start, about 1.2 s). The baseline, measured in the same run on the same customers:
``services.evaluate.evaluate`` (the code of ``slakeeper evaluate``) over the month's facts
files, already parsed; parsing them is printed too. The ratio is close / evaluate.

``--profile`` prints the top functions of a cProfile of the first close.
``--experiment-fast-clip`` replaces ``IntervalSet.clip`` for this process with a version that
finds the first and last interval by bisection and rebuilds only the two it cuts: an
experiment to size a suggested change, not the shipped code.
"""

from __future__ import annotations

import argparse
import bisect
import cProfile
import os
import platform
import pstats
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from slakeeper.bootstrap import Container, build
from slakeeper.config import Settings
from slakeeper.domain.intervals import Interval, IntervalSet
from slakeeper.policy.loader import load_policy_text
from slakeeper.services import close, demo_load
from slakeeper.services.demo_month import population
from slakeeper.services.demo_script import MonthScript, facts_files
from slakeeper.services.evaluate import evaluate
from slakeeper.services.facts import Facts, check_facts
from slakeeper.services.records import Organisation

ROOT = Path(__file__).resolve().parent.parent
PERIOD = "2026-10"
CLOSED_AT = datetime(2026, 11, 3, 9, 30, tzinfo=UTC)


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    processor = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                 if line.startswith("model name")]  # fmt: skip
        processor = names[0] if names else processor
    return (
        f"{platform.machine()} {platform.system()} {platform.release()}, {os.cpu_count()} CPUs "
        f"({processor or 'unknown processor'}), {memory:.1f} GiB, "
        f"Python {platform.python_version()}; {datetime.now(UTC):%Y-%m-%d}"
    )


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="slakeeper-bench-") as directory:
        yield f"sqlite:///{directory}/close.db"


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A new database on the server of ``server_url``, dropped afterwards."""
    name = f"slk_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def loaded(url: str, script: MonthScript) -> tuple[Container, Organisation, float]:
    container = build(Settings(database_url=url))
    container.upgrade()
    started = time.perf_counter()
    month = demo_load.load(container.uow, script)
    return container, month.org, time.perf_counter() - started


def time_close(container: Container, org: Organisation, profile: bool) -> float:
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    with container.uow() as uow:
        if profiler is not None:
            profiler.enable()
        close.close_period(uow, org, PERIOD, CLOSED_AT, actor="bench")
        uow.commit()
        if profiler is not None:
            profiler.disable()
    seconds = time.perf_counter() - started
    if profiler is not None:
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(22)
        stats.sort_stats("tottime").print_stats(12)
    return seconds


def time_evaluate(script: MonthScript) -> tuple[float, float, int]:
    """(parse seconds, evaluate seconds, customers) over the month's facts files."""
    loaded_policy = load_policy_text(script.policy_source)
    started = time.perf_counter()
    parsed = []
    for found in facts_files(script):
        facts = Facts.model_validate(found.document)
        assert not check_facts(facts, loaded_policy.policy)
        parsed.append(facts)
    parse = time.perf_counter() - started
    started = time.perf_counter()
    customers = sum(len(evaluate(loaded_policy, facts, PERIOD).customers) for facts in parsed)
    return parse, time.perf_counter() - started, customers


def fast_clip(self: IntervalSet, start: datetime, end: datetime) -> IntervalSet:
    """``clip`` by bisection: the intervals wholly inside are kept as they are."""
    intervals = self.intervals
    first = bisect.bisect_right(intervals, start, key=lambda i: i.end)
    last = bisect.bisect_left(intervals, end, key=lambda i: i.start)
    kept = list(intervals[first:last])
    if kept and kept[0].start < start:
        kept[0] = Interval(start, kept[0].end)
    if kept and kept[-1].end > end:
        kept[-1] = Interval(kept[-1].start, end)
    return IntervalSet._trusted(tuple(i for i in kept if i.start < i.end))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--every", type=int, nargs="+", default=[1],
                        help="healthy buckets every N minutes (1: every minute)")  # fmt: skip
    parser.add_argument("--policy", default="trulayer")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server to use too")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--experiment-fast-clip", action="store_true")
    arguments = parser.parse_args()
    if arguments.experiment_fast_clip:
        IntervalSet.clip = fast_clip  # type: ignore[method-assign]
    source = (ROOT / "examples" / "policies" / f"{arguments.policy}.yaml").read_text("utf-8")
    print(f"machine: {machine()}")
    print(f"policy {arguments.policy}, period {PERIOD}"
          + ("; EXPERIMENT: IntervalSet.clip by bisection" if arguments.experiment_fast_clip
             else ""))  # fmt: skip
    stores = [("sqlite", None)] + ([("postgresql", arguments.postgres)] if arguments.postgres
                                   else [])  # fmt: skip
    header = (f"{'store':<11}{'every':>6}{'customers':>10}{'load s':>9}{'close s':>9}"
              f"{'ms/cust':>9}{'parse s':>9}{'eval s':>8}{'ratio':>8}")  # fmt: skip
    rows = []
    profiled = not arguments.profile
    for every in arguments.every:
        for count in arguments.customers:
            script = population(source, PERIOD, customers=count, seed=7,
                                healthy_every_minutes=every)  # fmt: skip
            parse, evaluated, customers = time_evaluate(script)
            assert customers == count
            for store, server in stores:
                database = sqlite_database() if server is None else postgres_database(server)
                with database as url:
                    container, org, load = loaded(url, script)
                    try:
                        took = time_close(container, org, profile=not profiled)
                        profiled = True
                    finally:
                        container.close()
                row = (f"{store:<11}{every:>6}{count:>10,}{load:>9.1f}{took:>9.1f}"
                       f"{took / count * 1000:>9.1f}{parse:>9.2f}{evaluated:>8.2f}"
                       f"{took / evaluated:>7.0f}x")  # fmt: skip
                rows.append(row)
                print(row, flush=True)
    print()
    print(header)
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
