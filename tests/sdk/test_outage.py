"""An outage of the ingest server, with the application recording all along."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from sdk.receiver import Action, Receiver, fast_reporter

RECORD_SECONDS = 2.6
DOWN_AT, UP_AT = 0.6, 1.8
MAX_BATCHES = 5


def test_an_outage_costs_the_caller_nothing_and_loses_only_what_it_counts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Receiver() as rx, caplog.at_level(logging.WARNING, logger="slakeeper.sdk"):
        # A timeout long enough that no stored batch times out on a loaded machine: a batch
        # stored but not acknowledged, then dropped from a full buffer, would count as dropped.
        reporter = fast_reporter(
            rx.url, max_buffered_batches=MAX_BATCHES, backoff_cap=0.05, timeout=10.0
        )
        # Before the outage: a batch is stored but answered 503, so its key comes back.
        rx.then(Action("store_then_status", 503))
        durations: list[int] = []
        recorded: Counter[str] = Counter()
        buffer_sizes: list[int] = []
        pending_sizes: list[int] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                buffer_sizes.append(len(reporter._buffer))
                pending_sizes.append(reporter.stats["batches_pending"])
                time.sleep(0.002)

        def outage() -> None:
            time.sleep(DOWN_AT)
            rx.stop()
            time.sleep(UP_AT - DOWN_AT)
            rx.start()  # on the same port

        helpers = [threading.Thread(target=sample), threading.Thread(target=outage)]
        try:
            for helper in helpers:
                helper.start()
            started = time.monotonic()
            number = 0
            clock = time.perf_counter_ns
            while time.monotonic() - started < RECORD_SECONDS:
                for _ in range(100):
                    number += 1
                    status = 503 if number % 10 == 0 else 200
                    customer = f"customer-{number % 17}"
                    latency = float(number % 300) + 0.5
                    before = clock()
                    reporter.record(status, latency, customer=customer)
                    durations.append(clock() - before)
                    recorded[str(status)] += 1
                time.sleep(0.001)
        finally:
            done.set()
            for helper in helpers:
                helper.join()
        assert rx.running
        assert reporter.flush(10) is True
        stats = reporter.stats
        reporter.close(5)

    # Every record() stayed fast.
    durations.sort()
    p99_ms = durations[int(0.99 * len(durations))] / 1e6
    max_ms = durations[-1] / 1e6
    assert p99_ms < 5, f"p99 {p99_ms:.3f} ms"  # about 0.002 ms on a quiet machine
    # Generous: on a loaded 2-core machine the OS may preempt the process mid-call for tens of
    # milliseconds; a call that waited on the network would take up to the 10 s timeout.
    assert max_ms < 200, f"max {max_ms:.3f} ms"

    # Memory stayed bounded: the buffer never held more than its limit (plus one on the wire).
    assert max(buffer_sizes) <= MAX_BATCHES
    assert max(pending_sizes) <= MAX_BATCHES + 1
    assert max(buffer_sizes) == MAX_BATCHES  # the outage filled it

    # Drops were counted, and warned about once (at most once a minute).
    assert stats["recorded"] == len(durations) == sum(recorded.values())
    assert stats["invalid"] == 0
    assert stats["dropped_batches"] > 0
    assert stats["dropped_events"] > 0
    assert stats["failed_attempts"] > 0
    overflows = [r for r in caplog.records if r.message.startswith("slakeeper.buffer_overflow")]
    assert len(overflows) == 1
    assert overflows[0].levelno == logging.WARNING

    # Nothing that was not dropped was lost, nothing was counted twice.
    assert rx.errors() == []
    assert rx.total_events() == stats["recorded"] - stats["dropped_events"]
    assert rx.total_events() == stats["events_sent"]
    assert stats["batches_pending"] == 0
    received = rx.statuses()
    assert all(received[status] <= count for status, count in recorded.items())
    assert max(rx.delivery_counts().values()) >= 2  # a key was retried and deduplicated


def test_the_oldest_batch_is_dropped_first(caplog: pytest.LogCaptureFixture) -> None:
    minutes = [datetime(2026, 11, 22, 18, m, tzinfo=UTC) for m in range(4)]
    with (
        Receiver() as rx,
        fast_reporter(rx.url, start=False, max_buffered_batches=2) as reporter,
        caplog.at_level(logging.WARNING, logger="slakeeper.sdk"),
    ):
        rx.stop()
        for number, minute in enumerate(minutes):
            for _ in range(number + 1):
                reporter.record(200, at=minute)
            assert reporter.flush(0) is False  # a zero timeout only cuts the batch
        stats = reporter.stats
        assert stats["batches_pending"] == 2
        assert stats["dropped_batches"] == 2
        assert stats["dropped_events"] == 1 + 2
        rx.start()
        assert reporter.flush(5) is True
        assert sorted(key[0] for key in rx.state.statuses) == [
            "2026-11-22T18:02:00Z",
            "2026-11-22T18:03:00Z",
        ]
        assert rx.total_events() == 3 + 4
    overflows = [r for r in caplog.records if r.message.startswith("slakeeper.buffer_overflow")]
    assert len(overflows) == 1
    assert "dropped the 1 oldest batch(es) (1 events)" in overflows[0].message
