"""Benchmark the SDK's ``Reporter.record()`` against a bare dict counter increment.

Run: ``.venv/bin/python benchmarks/sdk.py [--calls N] [--repeats R]``.

Each figure is nanoseconds per call over ``N`` calls (default 200,000), the best of ``R``
repeats (default 5), with ``time.perf_counter_ns``. The baseline, measured in the same run and
the same loop shape, is ``d[k] = d.get(k, 0) + 1``. ``record()`` is measured on a reporter with
``start=False`` (no thread, no network) and on one whose background thread runs against a port
nothing listens on (cutting batches, failing to connect and dropping the oldest batches all
along; its warnings are silenced, the counts printed). A last section times every call one by
one (the timer adds its own cost) to show the tail.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import socket
import statistics
import threading
import time
from collections.abc import Callable

from slakeeper.sdk import Reporter

API_KEY = "slk_benchmark"


def closed_port() -> int:
    """A local port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def best_of(repeats: int, run: Callable[[], int]) -> int:
    return min(run() for _ in range(repeats))


def dict_baseline(latencies: list[float]) -> Callable[[], int]:
    def run() -> int:
        counts: dict[tuple[int, str], int] = {}
        key = (200, "api")
        clock = time.perf_counter_ns
        started = clock()
        for _latency in latencies:
            counts[key] = counts.get(key, 0) + 1
        return clock() - started

    return run


def record_loop(
    reporter: Reporter, latencies: list[float], customer: str | None = None
) -> Callable[[], int]:
    record = reporter.record

    def run() -> int:
        clock = time.perf_counter_ns
        if customer is not None:
            started = clock()
            for latency in latencies:
                record(200, latency, customer=customer)
        else:
            started = clock()
            for latency in latencies:
                record(200, latency)
        return clock() - started

    return run


def record_no_latency(reporter: Reporter, latencies: list[float]) -> Callable[[], int]:
    record = reporter.record

    def run() -> int:
        clock = time.perf_counter_ns
        started = clock()
        for _latency in latencies:
            record(200)
        return clock() - started

    return run


def threaded(reporter: Reporter, latencies: list[float], threads: int) -> Callable[[], int]:
    share = len(latencies) // threads

    def run() -> int:
        barrier = threading.Barrier(threads + 1)

        def work() -> None:
            record = reporter.record
            mine = latencies[:share]
            barrier.wait()
            for latency in mine:
                record(200, latency)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        barrier.wait()
        started = time.perf_counter_ns()
        for worker in workers:
            worker.join()
        return time.perf_counter_ns() - started

    return run


def tail(reporter: Reporter, latencies: list[float]) -> list[int]:
    record = reporter.record
    clock = time.perf_counter_ns
    durations = []
    for latency in latencies:
        started = clock()
        record(200, latency)
        durations.append(clock() - started)
    durations.sort()
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    calls, repeats = args.calls, args.repeats
    rng = random.Random(42)
    latencies = [rng.lognormvariate(3.5, 1.0) for _ in range(calls)]
    nowhere = f"http://127.0.0.1:{closed_port()}"
    logging.getLogger("slakeeper.sdk").setLevel(logging.ERROR)  # drops are expected; counted below

    print(f"machine: {platform.platform()} ({platform.machine()}), {os.cpu_count()} CPUs")
    print(f"python: {platform.python_implementation()} {platform.python_version()}")
    print(f"{calls:,} calls per run, best of {repeats}, ns per call\n")

    idle = Reporter(nowhere, API_KEY, component="api", start=False, max_buffered_batches=10)
    running = Reporter(
        nowhere,
        API_KEY,
        component="api",
        flush_interval=0.1,
        backoff_base=0.01,
        backoff_cap=0.1,
        max_buffered_batches=10,
    )
    try:
        baseline = best_of(repeats, dict_baseline(latencies)) / calls
        rows = [
            ("record(200, latency), no thread", record_loop(idle, latencies)),
            ("record(200), no latency, no thread", record_no_latency(idle, latencies)),
            (
                "record(200, latency, customer=...), no thread",
                record_loop(idle, latencies, customer="acme"),
            ),
            ("record(200, latency), thread vs closed port", record_loop(running, latencies)),
            ("record(200, latency), 4 threads at once", threaded(idle, latencies, 4)),
        ]
        width = max(len(name) for name, _ in rows) + 2
        print(f"{'dict counter increment (baseline)':<{width}} {baseline:8.1f}")
        for name, run in rows:
            per_call = best_of(repeats, run) / calls
            print(f"{name:<{width}} {per_call:8.1f}   {per_call / baseline:5.1f}x baseline")

        print("\nper-call timing (includes the timer), ns:")
        for name, reporter in (("no thread", idle), ("thread vs closed port", running)):
            durations = tail(reporter, latencies)
            p50 = statistics.median(durations)
            p99 = durations[int(0.99 * len(durations))]
            p999 = durations[int(0.999 * len(durations))]
            print(
                f"  {name:<22} p50 {p50:7.0f}  p99 {p99:7.0f}  p99.9 {p999:8.0f}  "
                f"max {durations[-1]:10,d}"
            )
        stats = running.stats
        print(
            f"\nthread vs closed port: {stats['failed_attempts']} failed attempts, "
            f"{stats['dropped_batches']} batches dropped ({stats['dropped_events']:,} events), "
            f"{stats['batches_pending']} pending; recorded {stats['recorded']:,}"
        )
    finally:
        idle.close(0)
        running.close(0)


if __name__ == "__main__":
    main()
