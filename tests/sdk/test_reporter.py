"""Reporter: aggregation into the wire format, bad input, threads, background flushing, exit."""

from __future__ import annotations

import atexit
import json
import logging
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from http import HTTPStatus
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from sdk.receiver import API_KEY, MINUTE, Receiver, fast_reporter, wait_for
from slakeeper.sdk import Reporter, sketch

T0 = datetime(2026, 11, 22, 18, 57, 12, tzinfo=UTC)
STATS_KEYS = {
    "recorded", "invalid", "batches_sent", "events_sent", "batches_pending", "dropped_batches",
    "dropped_events", "rejected_events", "failed_attempts", "last_error",
}  # fmt: skip


def test_records_arrive_aggregated_per_minute_and_key() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False, region="eu-west") as reporter:
        for _ in range(1200):
            reporter.record(200, 12.5, customer="acme", at=T0)
        for _ in range(3):
            reporter.record(503, 800.0, customer="acme", at=T0 + timedelta(seconds=40))
        reporter.record(429, customer="acme", at=T0)  # no latency
        reporter.record(200, 0.0, customer="acme", at=T0)  # the zero bucket
        reporter.record(200, -3.0, customer="acme", at=T0)  # negative: the zero bucket
        reporter.record(204, 1.0, at=T0 + timedelta(minutes=1))  # next minute, no customer
        reporter.record(200, 5.0, component="db", region="us-east", at=T0)
        assert reporter.flush(5) is True

        assert rx.errors() == []
        acme = ("2026-11-22T18:57:00Z", "api", "eu-west", "acme")
        assert rx.state.statuses == {
            acme: Counter({"200": 1202, "503": 3, "429": 1}),
            ("2026-11-22T18:58:00Z", "api", "eu-west", None): Counter({"204": 1}),
            ("2026-11-22T18:57:00Z", "db", "us-east", None): Counter({"200": 1}),
        }
        assert rx.state.bins[acme] == Counter({sketch.key(12.5): 1200, sketch.key(800.0): 3})
        assert rx.state.zero[acme] == 2
        stats = reporter.stats
        assert stats["recorded"] == stats["events_sent"] == 1208
        assert stats["batches_sent"] == 1
        assert stats["invalid"] == stats["dropped_events"] == stats["batches_pending"] == 0


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("success", "200"),
        ("ok", "200"),
        ("error", "500"),
        ("server_error", "500"),
        ("client_error", "400"),
        ("throttled", "429"),
        ("THROTTLED", "429"),
    ],
)
def test_outcomes_map_to_statuses(outcome: str, status: str) -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        reporter.record(outcome=outcome, latency_ms=3.0)
        reporter.record(outcome="unheard-of")
        assert reporter.flush(5)
        assert rx.statuses() == Counter({status: 1})
        assert reporter.stats["invalid"] == 1


def test_an_explicit_status_wins_over_the_outcome() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        reporter.record(404, outcome="success")
        reporter.record(HTTPStatus.CREATED)
        reporter.record("302")
        assert reporter.flush(5)
        assert rx.statuses() == Counter({"404": 1, "201": 1, "302": 1})


BAD_CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {}),  # neither status nor outcome
    ((99,), {}),
    ((600,), {}),
    ((True,), {}),
    ((200.0,), {}),
    (("OK",), {}),
    ((None,), {"outcome": 200}),
    ((200, "12"), {}),
    ((200, math.nan), {}),
    ((200, math.inf), {}),
    ((200, 10**400), {}),
    ((200, True), {}),
    ((200,), {"at": datetime(2026, 11, 22, 18, 57)}),  # naive
    ((200,), {"at": "2026-11-22T18:57:00Z"}),
    ((200,), {"component": ""}),
    ((200,), {"component": 3}),
    ((200,), {"region": 3}),
    ((200,), {"customer": 3}),
]


@pytest.mark.parametrize(("args", "kwargs"), BAD_CALLS)
def test_bad_input_is_counted_never_raised(
    args: tuple[Any, ...], kwargs: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        with caplog.at_level(logging.WARNING, logger="slakeeper.sdk"):
            reporter.record(*args, **kwargs)
            reporter.record(*args, **kwargs)
        assert reporter.stats["invalid"] == 2
        assert reporter.stats["recorded"] == 0
        invalid_warnings = [r for r in caplog.records if "slakeeper.invalid_record" in r.message]
        assert len(invalid_warnings) == 1  # rate-limited
        assert reporter.flush(5)
        assert rx.deliveries() == []


def test_latencies_of_other_number_types_are_taken() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        reporter.record(200, 12)
        reporter.record(200, Decimal("12.5"))  # type: ignore[arg-type]
        assert reporter.flush(5)
        (bins,) = rx.state.bins.values()
        assert bins == Counter({sketch.key(12): 1, sketch.key(12.5): 1})


anything = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.booleans(),
    st.datetimes(timezones=st.one_of(st.none(), st.just(UTC))),
    st.builds(object),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=300)
@given(
    status=anything,
    latency=anything,
    outcome=anything,
    component=anything,
    region=anything,
    customer=anything,
    at=anything,
)
def test_record_never_raises(
    status: Any, latency: Any, outcome: Any, component: Any, region: Any, customer: Any, at: Any
) -> None:
    reporter = Reporter("http://127.0.0.1:9", API_KEY, component="api", start=False)
    try:
        reporter.record(
            status,
            latency,
            outcome=outcome,
            component=component,
            region=region,
            customer=customer,
            at=at,
        )
        stats = reporter.stats
        assert stats["recorded"] + stats["invalid"] == 1
    finally:
        reporter.close(0)


def test_the_clock_decides_the_minute() -> None:
    moments = iter([T0, T0 + timedelta(minutes=5), datetime(2026, 11, 22, 18, 0)])
    with Receiver() as rx, fast_reporter(rx.url, start=False, clock=lambda: next(moments)) as rep:
        rep.record(200)
        rep.record(200)
        rep.record(200)  # the clock answered a naive datetime: invalid
        tokyo = timezone(timedelta(hours=9))
        rep.record(201, at=datetime(2026, 11, 23, 3, 57, 59, tzinfo=tokyo))  # 18:57 UTC
        assert rep.flush(5)
        assert set(rx.state.statuses) == {
            ("2026-11-22T18:57:00Z", "api", None, None),
            ("2026-11-22T19:02:00Z", "api", None, None),
        }
        assert rx.statuses() == Counter({"200": 2, "201": 1})
        assert rep.stats["invalid"] == 1


offsets = st.sampled_from([UTC, timezone(timedelta(hours=9)), timezone(-timedelta(hours=5.5))])


@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=offsets
    )
)
def test_the_minute_is_the_utc_start_of_the_minute_in_rfc_3339(moment: datetime) -> None:
    reporter = Reporter("http://127.0.0.1:9", API_KEY, component="api", start=False)
    try:
        reporter.record(200, at=moment)
        assert reporter.flush(0) is False  # cut only
        body = reporter._buffer[0].body
        (bucket,) = json.loads(body)["buckets"]
        start = moment.astimezone(UTC).replace(second=0, microsecond=0, tzinfo=None)
        assert bucket["minute"] == start.isoformat() + "Z"
        assert MINUTE.match(bucket["minute"])
    finally:
        reporter.close(0)


def test_the_default_clock_is_utc_now() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        before = datetime.now(UTC)
        reporter.record(200)
        after = datetime.now(UTC)
        assert reporter.flush(5)
        ((minute, *_),) = rx.state.statuses
        allowed = {f"{t:%Y-%m-%dT%H:%M}:00Z" for t in (before, after)}
        assert minute in allowed


def test_bodies_over_a_kibibyte_are_gzipped() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        reporter.record(200, 1.0)
        assert reporter.flush(5)
        for number in range(200):
            reporter.record(200, float(number), customer=f"customer-{number}")
        assert reporter.flush(5)
        small, large = rx.deliveries()
        assert not small.gzipped
        assert large.gzipped
        assert rx.total_events() == 201
        assert rx.errors() == []


def test_the_background_thread_flushes_on_its_interval() -> None:
    with Receiver() as rx, fast_reporter(rx.url) as reporter:
        reporter.record(200, 3.0)
        assert wait_for(lambda: rx.total_events() == 1, timeout=5)
        reporter.record(500, 3.0)
        assert wait_for(lambda: rx.total_events() == 2, timeout=5)
        assert len(rx.deliveries()) == 2
        # the answer reaches the reporter a moment after the receiver stored the batch
        assert wait_for(lambda: reporter.stats["batches_sent"] == 2, timeout=5)


def test_many_distinct_keys_flush_early() -> None:
    with Receiver() as rx, fast_reporter(rx.url, flush_interval=3600, max_bucket_keys=10) as rep:
        for number in range(9):
            rep.record(200, customer=f"c{number}")
        time.sleep(0.3)
        assert rx.deliveries() == []  # below the limit, the hour-long interval holds
        rep.record(200, customer="c9")
        assert wait_for(lambda: rx.total_events() == 10, timeout=5)


def test_concurrent_records_lose_nothing() -> None:
    threads, per_thread = 8, 20_000
    with Receiver() as rx, fast_reporter(rx.url, flush_interval=0.01) as reporter:
        barrier = threading.Barrier(threads)

        def work(number: int) -> None:
            barrier.wait()
            for i in range(per_thread):
                reporter.record(200 + (i % 3), float(i % 50), customer=f"c{number % 3}")

        workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show
        try:
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        finally:
            sys.setswitchinterval(interval)
        assert reporter.flush(10)
        assert reporter.stats["recorded"] == threads * per_thread
        assert rx.total_events() == threads * per_thread
        assert sum(sum(b.values()) + rx.state.zero[k] for k, b in rx.state.bins.items()) == (
            threads * per_thread
        )
        assert len(rx.deliveries()) > 1  # cuts really raced the writers
        assert rx.errors() == []


def test_rejected_buckets_are_counted(caplog: pytest.LogCaptureFixture) -> None:
    with (
        Receiver(reject_customers=frozenset({"bad"})) as rx,
        fast_reporter(rx.url, start=False) as reporter,
        caplog.at_level(logging.DEBUG, logger="slakeeper.sdk"),
    ):
        for _ in range(3):
            reporter.record(200, customer="bad")
        for _ in range(5):
            reporter.record(200, customer="good")
        assert reporter.flush(5) is True
        stats = reporter.stats
        assert stats["rejected_events"] == 3
        assert stats["events_sent"] == 5
        assert rx.total_events() == 5
        assert any("slakeeper.rejected" in r.message for r in caplog.records)


def test_a_flush_with_nothing_to_send_succeeds_at_once() -> None:
    reporter = Reporter("http://127.0.0.1:9", API_KEY, component="api", start=False)
    try:
        assert reporter.flush(0) is True
        assert reporter.flush() is True
    finally:
        reporter.close(0)


def test_stats_is_a_snapshot_with_every_counter() -> None:
    reporter = Reporter("http://127.0.0.1:9", API_KEY, component="api", start=False)
    try:
        stats = reporter.stats
        assert set(stats) == STATS_KEYS
        reporter.record(200)
        assert stats["recorded"] == 0
        assert reporter.stats["recorded"] == 1
    finally:
        reporter.close(0)


def test_close_stops_the_thread_and_unregisters_from_atexit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered: list[Any] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(atexit, "unregister", registered.remove)
    with Receiver() as rx:
        reporter = fast_reporter(rx.url)
        assert registered == [reporter._at_exit]
        thread = reporter._thread
        assert thread is not None
        assert thread.is_alive()
        reporter.record(200)
        assert reporter.close(5) is True
        assert registered == []
        assert not thread.is_alive()
        assert rx.total_events() == 1
        reporter.record(200)  # after close: still counted, sent by a later flush
        assert reporter.flush(5)
        assert rx.total_events() == 2


def test_records_are_sent_at_interpreter_exit() -> None:
    script = textwrap.dedent(
        """
        import sys
        from slakeeper.sdk import Reporter
        reporter = Reporter(sys.argv[1], sys.argv[2], component="api", flush_interval=3600)
        for _ in range(7):
            reporter.record(200, 1.0)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with Receiver() as rx:
        subprocess.run(
            [sys.executable, "-c", script, rx.url, API_KEY], check=True, env=env, timeout=30
        )
        assert rx.total_events() == 7


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() here")
def test_a_forked_child_reports_its_own_requests_only() -> None:
    script = textwrap.dedent(
        """
        import os, sys, time
        from slakeeper.sdk import Reporter
        reporter = Reporter(sys.argv[1], sys.argv[2], component="api", flush_interval=0.05)
        reporter.record(200)  # the parent's: sent by the parent, not again by the child
        pid = os.fork()
        if pid == 0:
            reporter.record(201)
            reporter.record(201)
            deadline = time.monotonic() + 10  # no flush(): the child's own thread sends
            while reporter.stats["events_sent"] < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
            os._exit(0 if reporter.stats["events_sent"] == 2 else 3)
        _, status = os.waitpid(pid, 0)
        assert reporter.close(5)
        sys.exit(os.waitstatus_to_exitcode(status))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with Receiver() as rx:
        subprocess.run(
            [sys.executable, "-c", script, rx.url, API_KEY], check=True, env=env, timeout=30
        )
        assert rx.statuses() == Counter({"200": 1, "201": 2})


def test_the_sdk_imports_nothing_but_httpx_and_the_stdlib() -> None:
    script = textwrap.dedent(
        """
        import sys
        import slakeeper.sdk
        banned = ("pydantic", "ddsketch", "sqlalchemy", "fastapi", "starlette", "yaml")
        print(sorted(
            name for name in sys.modules
            if name.split(".")[0] in banned
            or (name.startswith("slakeeper.") and not name.startswith("slakeeper.sdk"))
        ))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run(
        [sys.executable, "-c", script], check=True, env=env, capture_output=True, text=True
    )
    assert result.stdout.strip() == "[]"
