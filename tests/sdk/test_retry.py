"""The retry policy against a real receiver: what is retried (with the same key), what is not."""

from __future__ import annotations

import logging
import random
import time
from datetime import UTC, datetime

import pytest

from sdk.receiver import Action, Receiver, fast_reporter, wait_for
from slakeeper.sdk import IngestFailed
from slakeeper.sdk.reporter import backoff_delay


def _single_key(rx: Receiver) -> str:
    keys = {delivery.key for delivery in rx.deliveries()}
    assert len(keys) == 1, keys
    return keys.pop()


@pytest.mark.parametrize("status", [503, 500, 502, 408])
def test_a_retryable_status_is_retried_with_the_same_key(status: int) -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        rx.then(Action("status", status))
        for _ in range(4):
            reporter.record(200, 2.0)
        assert reporter.flush(5) is True
        assert [d.answered for d in rx.deliveries()] == [status, 200]
        _single_key(rx)
        assert rx.total_events() == 4
        stats = reporter.stats
        assert stats["failed_attempts"] == 1
        assert stats["events_sent"] == 4
        assert f"HTTP {status}" in stats["last_error"]


def test_batches_go_oldest_first_even_after_a_failure() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        rx.stop()
        for minute in range(3):
            reporter.record(200, at=datetime(2026, 11, 22, 18, minute, tzinfo=UTC))
            assert reporter.flush(0) is False  # a zero timeout only cuts the batch
        rx.start()
        rx.then(Action("status", 503))
        assert reporter.flush(5) is True
        assert [(d.minutes, d.answered) for d in rx.deliveries()] == [
            (("2026-11-22T18:00:00Z",), 503),
            (("2026-11-22T18:00:00Z",), 200),
            (("2026-11-22T18:01:00Z",), 200),
            (("2026-11-22T18:02:00Z",), 200),
        ]


def test_the_background_thread_retries_a_503() -> None:
    with Receiver() as rx, fast_reporter(rx.url) as reporter:
        rx.then(Action("status", 503), Action("status", 503))
        reporter.record(200)
        assert wait_for(lambda: rx.total_events() == 1)
        assert [d.answered for d in rx.deliveries()] == [503, 503, 200]
        _single_key(rx)


def test_retry_after_is_the_least_wait() -> None:
    with Receiver() as rx, fast_reporter(rx.url) as reporter:
        rx.then(Action("status", 429, retry_after="1"))
        reporter.record(200)
        assert wait_for(lambda: rx.total_events() == 1, timeout=5)
        first, second = rx.deliveries()
        assert first.answered == 429
        assert first.key == second.key
        assert second.at - first.at >= 1.0


def test_an_explicit_flush_also_honours_retry_after() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        rx.then(Action("status", 429, retry_after="1"))
        reporter.record(200)
        started = time.monotonic()
        assert reporter.flush(5) is True
        assert time.monotonic() - started >= 1.0
        first, second = rx.deliveries()
        assert second.at - first.at >= 1.0
        # a Retry-After beyond the flush's deadline: no attempt, no wait
        rx.then(Action("status", 429, retry_after="30"))
        reporter.record(200)
        assert reporter.flush(5) is False
        started = time.monotonic()
        assert reporter.flush(2) is False
        assert time.monotonic() - started < 0.5
        assert len(rx.deliveries()) == 3


def test_a_retry_after_date_leaves_the_wait_to_the_backoff() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        rx.then(Action("status", 503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"))
        reporter.record(200)
        started = time.monotonic()
        assert reporter.flush(5) is True
        assert time.monotonic() - started < 0.5
        assert len(rx.deliveries()) == 2


def test_a_client_error_drops_the_batch_without_retry(caplog: pytest.LogCaptureFixture) -> None:
    with (
        Receiver() as rx,
        fast_reporter(rx.url) as reporter,
        caplog.at_level(logging.WARNING, logger="slakeeper.sdk"),
    ):
        rx.then(Action("status", 400), Action("status", 401))
        for _ in range(3):
            reporter.record(200)
        assert wait_for(lambda: reporter.stats["dropped_batches"] == 1)
        time.sleep(0.3)  # dozens of backoff periods: a retry would have come
        assert len(rx.deliveries()) == 1
        stats = reporter.stats
        assert stats["dropped_batches"] == 1
        assert stats["dropped_events"] == 3
        assert stats["batches_pending"] == 0
        assert "HTTP 400" in stats["last_error"]
        reporter.record(200)
        assert reporter.flush(5) is False  # refused too (401): not delivered
        assert len(rx.deliveries()) == 2
        assert rx.total_events() == 0
        refused = [r for r in caplog.records if r.message.startswith("slakeeper.batch_refused")]
        assert len(refused) == 1  # logged once (and then at most once a minute)
        # the server takes batches again: nothing is left to send, later ones arrive
        reporter.record(200)
        assert reporter.flush(5) is True
        assert rx.total_events() == 1


def test_a_refused_connection_is_retried_until_the_server_returns() -> None:
    with Receiver() as rx, fast_reporter(rx.url) as reporter:
        rx.stop()
        for _ in range(5):
            reporter.record(503, 10.0)
        assert wait_for(lambda: reporter.stats["failed_attempts"] >= 3)
        assert "ConnectError" in reporter.stats["last_error"]
        assert reporter.flush(0.2) is False
        rx.start()  # the same port
        assert wait_for(lambda: rx.total_events() == 5)
        # the answer reaches the reporter a moment after the receiver stored the batch
        assert wait_for(lambda: reporter.stats["batches_pending"] == 0)
        assert reporter.stats["dropped_events"] == 0


def test_a_timeout_is_retried_and_the_server_dedups_the_late_copy() -> None:
    with Receiver() as rx, fast_reporter(rx.url, timeout=0.2, start=False) as reporter:
        rx.then(Action("slow", delay=0.6))
        for _ in range(6):
            reporter.record(200, 1.0)
        assert reporter.flush(5) is True
        assert "Timeout" in reporter.stats["last_error"]
        assert reporter.stats["failed_attempts"] >= 1
        assert wait_for(lambda: len(rx.deliveries()) >= 2)  # the slow copy lands late
        _single_key(rx)
        assert rx.total_events() == 6


@pytest.mark.parametrize("failure", ["store_then_status", "store_then_reset"])
def test_a_batch_stored_but_not_acknowledged_is_resent_and_counted_once(failure: str) -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        rx.then(Action(failure, 503))
        for _ in range(9):
            reporter.record(200, 1.0)
        assert reporter.flush(5) is True
        assert rx.delivery_counts().most_common(1)[0][1] == 2  # the same key twice
        assert rx.total_events() == 9
        assert reporter.stats["events_sent"] == 9


def test_backoff_is_full_jitter_under_a_capped_exponential() -> None:
    rng = random.Random(1234)
    base, cap = 0.5, 60.0
    for attempt in range(12):
        ceiling = min(cap, base * 2**attempt)
        delays = [backoff_delay(attempt, base=base, cap=cap, rng=rng) for _ in range(300)]
        assert all(0.0 <= delay <= ceiling for delay in delays)
        assert min(delays) < 0.1 * ceiling  # full jitter: down to zero ...
        assert max(delays) > 0.9 * ceiling  # ... and up to the ceiling
    assert backoff_delay(10_000, base=base, cap=cap, rng=rng) <= cap
    same = [backoff_delay(3, base=base, cap=cap, rng=random.Random(9)) for _ in range(2)]
    assert same[0] == same[1]


def test_throw_mode_raises_on_flush_and_never_on_record() -> None:
    with Receiver() as rx, fast_reporter(rx.url, on_ingest_failure="throw") as reporter:
        rx.stop()
        reporter.record(200)
        with pytest.raises(IngestFailed, match="not delivered") as raised:
            reporter.flush(0.3)
        assert raised.value.pending_batches == 1
        assert "ConnectError" in (raised.value.last_error or "")
        reporter.record(200, "not a latency")  # type: ignore[arg-type]
        reporter.record(outcome="unheard-of")
        assert reporter.stats["invalid"] == 2
        rx.start()
        assert reporter.flush(5) is True
        assert rx.total_events() == 1
        rx.stop()
        reporter.record(200)
        started = time.monotonic()
        assert reporter.close(0.3) is False  # close never raises
        assert time.monotonic() - started < 1.0
        rx.start()  # for the context manager's second close()


def test_log_mode_returns_false_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    with (
        Receiver() as rx,
        fast_reporter(rx.url, start=False) as reporter,
        caplog.at_level(logging.WARNING, logger="slakeeper.sdk"),
    ):
        rx.stop()
        reporter.record(200)
        assert reporter.flush(0.3) is False
        failed = [r for r in caplog.records if r.message.startswith("slakeeper.flush_failed")]
        assert len(failed) == 1
        assert "ConnectError" in failed[0].message
        rx.start()
        assert reporter.flush(5) is True
