"""The fail-open reporter: pre-aggregates requests per minute and ships them in the background.

``record()`` only updates in-memory counters under a lock held for the dict update; it never
does I/O and never raises. A daemon thread cuts the counters into batches (one Idempotency-Key
each, kept across retries), keeps them in a bounded buffer and posts them oldest first, retrying
connection errors, timeouts, 408, 409, 429 and 5xx with full-jitter exponential backoff. When the
buffer is full the oldest batch is dropped and counted: the application never waits for, nor
fails because of, the ingest server.
"""

from __future__ import annotations

import atexit
import gzip
import json
import logging
import math
import os
import random
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Literal

import httpx

from slakeeper.sdk.sketch import MAX_INDEXABLE, MIN_INDEXABLE, MULTIPLIER

__all__ = ["IngestFailed", "Reporter", "backoff_delay"]

logger = logging.getLogger("slakeeper.sdk")

INGEST_PATH: Final = "/api/v1/ingest"
#: Bodies larger than this are sent gzipped.
GZIP_ABOVE: Final = 1024
#: A ``Retry-After`` longer than this is taken as this.
MAX_RETRY_AFTER: Final = 3600.0
#: Rate limit of the SDK's warnings (seconds between two warnings of one kind).
WARN_EVERY: Final = 60.0

OUTCOMES: Final[dict[str, int]] = {
    "success": 200,
    "ok": 200,
    "error": 500,
    "server_error": 500,
    "client_error": 400,
    "throttled": 429,
}

_log = math.log
_LN2 = math.log(2)
_ceil = math.ceil
_time = time.time
_monotonic = time.monotonic


class IngestFailed(Exception):
    """An explicit ``flush()`` could not deliver everything (``on_ingest_failure="throw"``)."""

    def __init__(self, message: str, *, pending_batches: int, last_error: str | None) -> None:
        super().__init__(message)
        self.pending_batches = pending_batches
        self.last_error = last_error


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Full-jitter exponential backoff: uniform in ``[0, min(cap, base * 2**attempt)]``."""
    ceiling = cap if attempt >= 64 else min(cap, base * 2**attempt)
    return (rng or random).uniform(0.0, ceiling)


class _Bucket:
    """Counters of one (minute, component, region, customer)."""

    __slots__ = ("bins", "statuses", "zero")

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.bins: dict[int, int] = {}
        self.zero = 0


_BucketKey = tuple[int, str, str | None, str | None]


class _Batch:
    """A batch cut from the counters: its body is built once, so retries send the same bytes."""

    __slots__ = ("attempted", "body", "bucket_events", "events", "gzipped", "key")

    def __init__(self, buckets: dict[_BucketKey, _Bucket]) -> None:
        self.key = uuid.uuid4().hex
        self.attempted = False  # sent at least once: the server may hold it already
        minutes: dict[int, str] = {}
        documents: list[dict[str, Any]] = []
        self.bucket_events: list[int] = []
        for (minute, component, region, customer), bucket in sorted(
            buckets.items(), key=lambda item: (item[0][0], item[0][1], *_nullable(item[0]))
        ):
            stamp = minutes.get(minute)
            if stamp is None:
                stamp = minutes[minute] = _format_minute(minute)
            document: dict[str, Any] = {
                "minute": stamp,
                "component": component,
                "region": region,
                "customer": customer,
                "statuses": {str(code): n for code, n in sorted(bucket.statuses.items())},
            }
            if bucket.bins or bucket.zero:
                document["latency"] = {
                    "bins": {str(k): n for k, n in sorted(bucket.bins.items())},
                    "zero": bucket.zero,
                }
            documents.append(document)
            self.bucket_events.append(sum(bucket.statuses.values()))
        self.events = sum(self.bucket_events)
        raw = json.dumps({"buckets": documents}, separators=(",", ":")).encode()
        self.gzipped = len(raw) > GZIP_ABOVE
        self.body = gzip.compress(raw, mtime=0) if self.gzipped else raw


def _nullable(key: _BucketKey) -> tuple[str, str]:
    """Region and customer of a bucket key, sortable."""
    return key[2] or "", key[3] or ""


def _format_minute(minute: int) -> str:
    """RFC 3339 in UTC with ``Z`` (``isoformat`` pads every year to four digits)."""
    moment = datetime.fromtimestamp(minute * 60, UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


def _minute_of(moment: object) -> int:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError("a time must be an aware datetime")
    return int(moment.timestamp() // 60)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:  # the HTTP-date form: backoff alone decides
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_RETRY_AFTER)


# The outcome of one attempt.
_SENT: Final = 0
_RETRY: Final = 1
_DROP: Final = 2


class Reporter:
    """Counts requests per minute and reports them to a slakeeper server, failing open.

    See ``docs/sdk.md`` for every option.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        component: str,
        region: str | None = None,
        flush_interval: float = 10.0,
        max_bucket_keys: int = 5000,
        max_buffered_batches: int = 1000,
        on_ingest_failure: Literal["log", "throw"] = "log",
        timeout: float = 5.0,
        flush_timeout: float = 10.0,
        exit_timeout: float = 2.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], datetime] | None = None,
        start: bool = True,
    ) -> None:
        if not isinstance(component, str) or not component:
            raise ValueError("component must be a non-empty string")
        if on_ingest_failure not in ("log", "throw"):
            raise ValueError('on_ingest_failure must be "log" or "throw"')
        if max_bucket_keys < 1 or max_buffered_batches < 1:
            raise ValueError("max_bucket_keys and max_buffered_batches must be at least 1")
        if flush_interval <= 0 or timeout <= 0 or backoff_base < 0 or backoff_cap < 0:
            raise ValueError("intervals and timeouts must be positive")
        self._url = base_url.rstrip("/") + INGEST_PATH
        self._api_key = api_key
        self._component = component
        self._region = region
        self._flush_interval = float(flush_interval)
        self._max_keys = int(max_bucket_keys)
        self._max_batches = int(max_buffered_batches)
        self._throw = on_ingest_failure == "throw"
        self._timeout = float(timeout)
        self._flush_timeout = float(flush_timeout)
        self._exit_timeout = float(exit_timeout)
        self._backoff_base = float(backoff_base)
        self._backoff_cap = float(backoff_cap)
        self._transport = transport
        self._clock = clock
        self._random = random.Random()

        # The counters, under _lock (held only for dict updates).
        self._lock = threading.Lock()
        self._buckets: dict[_BucketKey, _Bucket] = {}
        self._recorded = 0
        self._invalid = 0
        self._minute_cache = (0.0, 0.0, 0)

        # The batches and the sending side's stats, under _buffer_lock.
        self._buffer_lock = threading.Lock()
        self._buffer: deque[_Batch] = deque()
        self._inflight = 0
        self._batches_sent = 0
        self._events_sent = 0
        self._dropped_batches = 0
        self._dropped_events = 0
        self._rejected_events = 0
        self._failed_attempts = 0
        self._last_error: str | None = None
        self._unreported_drops = [0, 0]  # batches, events dropped since the last warning

        # One sender at a time (the thread or an explicit flush).
        self._send_lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._failures = 0  # consecutive failed attempts: the backoff exponent
        self._next_attempt = 0.0  # monotonic: the background's next try after a failure
        self._not_before = 0.0  # monotonic: Retry-After, honoured by explicit flushes too

        self._warned: dict[str, float] = {}
        self._warn_lock = threading.Lock()

        self._wake = threading.Event()
        self._stopping = False
        self._closed = False
        self._thread: threading.Thread | None = None
        atexit.register(self._at_exit)
        if hasattr(os, "register_at_fork"):  # a pre-forking server's workers start afresh
            after_fork = weakref.WeakMethod(self._after_fork)
            os.register_at_fork(after_in_child=lambda: _call_if_alive(after_fork))
        if start:
            self.start()

    # -- recording ---------------------------------------------------------------------------

    def record(
        self,
        status: int | str | None = None,
        latency_ms: float | None = None,
        *,
        outcome: str | None = None,
        component: str | None = None,
        region: str | None = None,
        customer: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Count one request. Never blocks on I/O, never raises; bad input counts as invalid."""
        try:
            if type(status) is int and 100 <= status <= 599:
                code = status
            else:
                code = _status_of(status, outcome)
            if latency_ms is None:
                kind = 0
                bin_key = 0
            else:
                if type(latency_ms) is not float:
                    latency_ms = _as_number(latency_ms)
                if latency_ms >= MIN_INDEXABLE:
                    if latency_ms > MAX_INDEXABLE:
                        raise ValueError(f"latency out of range: {latency_ms!r}")
                    kind = 1
                    # math.log(x, 2) is log(x) / log(2), computed as here: the same bits
                    bin_key = _ceil(_log(latency_ms) / _LN2 * MULTIPLIER)
                elif latency_ms == latency_ms:  # not NaN: zero, tiny or negative
                    kind = 2
                    bin_key = 0
                else:
                    raise ValueError("latency is NaN")
            if at is not None:
                minute = _minute_of(at)
            elif self._clock is None:
                now = _time()
                cached = self._minute_cache  # (start, end, minute): one atomic read
                if cached[0] <= now < cached[1]:
                    minute = cached[2]
                else:
                    minute = int(now // 60)
                    self._minute_cache = (minute * 60, minute * 60 + 60, minute)
            else:
                minute = _minute_of(self._clock())
            if component is None:
                component = self._component
            elif type(component) is not str or not component:
                raise ValueError(f"invalid component: {component!r}")
            if region is None:
                region = self._region
            elif type(region) is not str:
                raise ValueError(f"invalid region: {region!r}")
            if customer is not None and type(customer) is not str:
                raise ValueError(f"invalid customer: {customer!r}")
            bucket_key = (minute, component, region, customer)
            full = False
            lock = self._lock
            lock.acquire()  # cheaper than `with` on the hot path
            try:
                buckets = self._buckets
                bucket = buckets.get(bucket_key)
                if bucket is None:
                    bucket = buckets[bucket_key] = _Bucket()
                    full = len(buckets) >= self._max_keys
                statuses = bucket.statuses
                statuses[code] = statuses.get(code, 0) + 1
                if kind == 1:
                    bins = bucket.bins
                    bins[bin_key] = bins.get(bin_key, 0) + 1
                elif kind == 2:
                    bucket.zero += 1
                self._recorded += 1
            finally:
                lock.release()
            if full:
                self._wake.set()
        except Exception as error:
            self._count_invalid(error)

    def _count_invalid(self, error: Exception) -> None:
        try:
            with self._lock:
                self._invalid += 1
            if self._may_warn("invalid"):
                logger.warning("slakeeper.invalid_record: a record() call was ignored: %s", error)
        except Exception:  # pragma: no cover - never let accounting raise into the caller
            pass

    # -- the background thread ---------------------------------------------------------------

    def start(self) -> None:
        """Start the background thread (``start=True`` does it in the constructor)."""
        if self._thread is not None or self._closed:
            return
        self._thread = threading.Thread(target=self._run, name="slakeeper-reporter", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_flush = _monotonic() + self._flush_interval
        while not self._stopping:
            wake_at = next_flush
            if self._buffer:
                wake_at = min(wake_at, max(self._next_attempt, self._not_before))
            self._wake.wait(max(0.0, wake_at - _monotonic()))
            self._wake.clear()
            if self._stopping:
                break
            try:
                now = _monotonic()
                if now >= next_flush or len(self._buckets) >= self._max_keys:
                    self._cut()
                    next_flush = now + self._flush_interval
                if self._buffer and now >= max(self._next_attempt, self._not_before):
                    self._drain(None)
            except Exception:  # pragma: no cover - the thread must outlive any bug
                logger.exception("slakeeper.reporter_error")
        if self._closed:  # close() gave up waiting for this thread: close what it used
            self._close_client(_monotonic() + self._timeout)

    # -- batches -----------------------------------------------------------------------------

    def _cut(self) -> None:
        """Move the counters into a new batch at the end of the buffer."""
        with self._lock:
            buckets = self._buckets
            if not buckets:
                return
            self._buckets = {}
        self._enqueue(_Batch(buckets))

    def _enqueue(self, batch: _Batch) -> None:
        with self._buffer_lock:
            while len(self._buffer) >= self._max_batches:
                self._drop_oldest_locked()
            self._buffer.append(batch)
        self._warn_overflow()

    def _requeue(self, batch: _Batch) -> None:
        """Put a batch that failed back at the front (or drop it: it is the oldest)."""
        with self._buffer_lock:
            self._inflight = 0
            self._buffer.appendleft(batch)
            while len(self._buffer) > self._max_batches:
                self._drop_oldest_locked()
        self._warn_overflow()

    def _drop_oldest_locked(self) -> None:
        """Drop the oldest batch never sent; the one at the front may have reached the server
        on a try that timed out, so dropping it could count as lost what was delivered."""
        index = 1 if len(self._buffer) > 1 and self._buffer[0].attempted else 0
        batch = self._buffer[index]
        del self._buffer[index]
        self._drop_locked(batch)

    def _drop_locked(self, batch: _Batch, *, overflow: bool = True) -> None:
        self._dropped_batches += 1
        self._dropped_events += batch.events
        if overflow:
            self._unreported_drops[0] += 1
            self._unreported_drops[1] += batch.events

    def _warn_overflow(self) -> None:
        if not self._unreported_drops[0] or not self._may_warn("overflow"):
            return
        with self._buffer_lock:
            batches, events = self._unreported_drops
            self._unreported_drops = [0, 0]
            last_error = self._last_error
        logger.warning(
            "slakeeper.buffer_overflow: dropped the %d oldest batch(es) (%d events) because the "
            "buffer of %d batches is full; last error: %s",
            batches,
            events,
            self._max_batches,
            last_error,
        )

    def _may_warn(self, kind: str) -> bool:
        """Whether a warning of this kind may be logged now (at most one a minute)."""
        now = _monotonic()
        with self._warn_lock:
            last = self._warned.get(kind)
            if last is not None and now - last < WARN_EVERY:
                return False
            self._warned[kind] = now
            return True

    # -- sending -----------------------------------------------------------------------------

    def _drain(self, deadline: float | None) -> bool:
        """Send the buffer oldest first; ``deadline`` (monotonic) set means an explicit flush.

        The background thread (no deadline) stops at the first retryable failure and schedules
        the next try; an explicit flush retries until its deadline.
        """
        explicit = deadline is not None
        wait = 0.1 if deadline is None else max(0.0, deadline - _monotonic())
        if not self._send_lock.acquire(timeout=wait):
            return False
        try:
            delivered = True
            while True:
                if not explicit:
                    if self._stopping:
                        return False
                    if len(self._buckets) >= self._max_keys:
                        self._cut()
                if not self._buffer:
                    return delivered
                now = _monotonic()
                if explicit and self._not_before > now:
                    assert deadline is not None
                    if self._not_before >= deadline:
                        return False
                    time.sleep(self._not_before - now)
                    now = _monotonic()
                request_timeout = self._timeout
                if deadline is not None:
                    request_timeout = min(request_timeout, deadline - now)
                    if request_timeout <= 0:
                        return False
                with self._buffer_lock:
                    if not self._buffer:
                        return delivered
                    batch = self._buffer.popleft()
                    self._inflight = 1
                outcome, retry_after = self._attempt(batch, request_timeout)
                if outcome == _SENT:
                    continue
                if outcome == _DROP:
                    delivered = False
                    continue
                self._requeue(batch)
                delay = backoff_delay(
                    self._failures - 1,
                    base=self._backoff_base,
                    cap=self._backoff_cap,
                    rng=self._random,
                )
                now = _monotonic()
                if retry_after is not None:
                    delay = max(delay, retry_after)
                    self._not_before = now + retry_after
                self._next_attempt = now + delay
                if deadline is None or now + delay >= deadline:
                    return False
                time.sleep(delay)
        finally:
            self._send_lock.release()

    def _attempt(self, batch: _Batch, request_timeout: float) -> tuple[int, float | None]:
        """One POST of a batch, with its accounting; the outcome and any Retry-After."""
        batch.attempted = True
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Idempotency-Key": batch.key,
            "Content-Type": "application/json",
        }
        if batch.gzipped:
            headers["Content-Encoding"] = "gzip"
        try:
            if self._client is None:
                self._client = httpx.Client(transport=self._transport, timeout=self._timeout)
            response = self._client.post(
                self._url, content=batch.body, headers=headers, timeout=request_timeout
            )
        except Exception as error:  # connection refused or reset, timeouts, ...
            self._failed(f"{type(error).__name__}: {error}")
            return _RETRY, None
        status = response.status_code
        if 200 <= status < 300:
            self._sent(batch, response)
            return _SENT, None
        if status in (408, 409, 429) or status >= 500:  # 409: the first try still runs
            self._failed(f"HTTP {status}: {response.text[:200]}")
            return _RETRY, _retry_after(response)
        self._dropped(batch, f"HTTP {status}: {response.text[:200]}")
        return _DROP, None

    def _sent(self, batch: _Batch, response: httpx.Response) -> None:
        rejected = 0
        try:
            answer = response.json()
            seen: set[int] = set()
            for item in answer.get("rejected") or ():
                index = item.get("index")
                if (
                    item.get("kind") == "buckets"
                    and type(index) is int
                    and 0 <= index < len(batch.bucket_events)
                    and index not in seen
                ):
                    seen.add(index)
                    rejected += batch.bucket_events[index]
                logger.debug("slakeeper.rejected: batch %s: %s", batch.key, item)
        except Exception as error:  # delivered all the same; the answer is only informative
            logger.debug("slakeeper.unreadable_answer: batch %s: %s", batch.key, error)
        with self._buffer_lock:
            self._inflight = 0
            self._batches_sent += 1
            self._events_sent += batch.events - rejected
            self._rejected_events += rejected
        self._failures = 0
        self._next_attempt = self._not_before = 0.0

    def _failed(self, error: str) -> None:
        with self._buffer_lock:
            self._failed_attempts += 1
            self._last_error = error
        self._failures += 1
        logger.debug("slakeeper.attempt_failed: %s", error)

    def _dropped(self, batch: _Batch, error: str) -> None:
        with self._buffer_lock:
            self._inflight = 0
            self._drop_locked(batch, overflow=False)
            self._last_error = error
        self._failures = 0
        self._next_attempt = 0.0
        if self._may_warn("refused"):
            logger.warning(
                "slakeeper.batch_refused: the server refused a batch of %d events (not retried): "
                "%s",
                batch.events,
                error,
            )

    # -- flushing and closing ----------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Cut the counters and send everything now, for at most ``timeout`` seconds.

        ``None`` means the reporter's ``flush_timeout``. True when everything was delivered;
        otherwise logs and returns False, or raises IngestFailed with ``on_ingest_failure="throw"``.
        """
        delivered = self._flush(timeout)
        if not delivered:
            stats = self.stats
            message = (
                f"slakeeper.flush_failed: {stats['batches_pending']} batch(es) not delivered; "
                f"last error: {stats['last_error']}"
            )
            if self._throw:
                raise IngestFailed(
                    message,
                    pending_batches=stats["batches_pending"],
                    last_error=stats["last_error"],
                )
            logger.warning(message)
        return delivered

    def _flush(self, timeout: float | None) -> bool:
        try:
            limit = self._flush_timeout if timeout is None else max(0.0, timeout)
            deadline = _monotonic() + limit
            self._cut()
            delivered = self._drain(deadline)
            if self._closed:  # a flush after close(): leave no connection open
                self._close_client(deadline)
            return delivered
        except Exception as error:  # pragma: no cover - flushing must not crash the caller
            logger.exception("slakeeper.flush_error")
            self._last_error = f"{type(error).__name__}: {error}"
            return False

    def close(self, timeout: float = 5.0) -> bool:
        """Stop the thread and flush, within ``timeout`` seconds; never raises.

        True when everything was delivered. ``record()`` still counts afterwards, and a later
        ``flush()`` sends it.
        """
        deadline = _monotonic() + max(0.0, timeout)
        try:
            atexit.unregister(self._at_exit)
            self._closed = True
            self._stopping = True
            self._wake.set()
            if self._thread is not None and self._thread is not threading.current_thread():
                self._thread.join(max(0.0, deadline - _monotonic()))
            delivered = self._flush(max(0.0, deadline - _monotonic()))
            if not delivered:
                logger.warning(
                    "slakeeper.close_undelivered: %d batch(es) not delivered; last error: %s",
                    self.stats["batches_pending"],
                    self._last_error,
                )
            return delivered
        except Exception:  # pragma: no cover
            logger.exception("slakeeper.close_error")
            return False

    def _close_client(self, deadline: float) -> None:
        if self._send_lock.acquire(timeout=max(0.0, deadline - _monotonic())):
            try:
                if self._client is not None:
                    self._client.close()
                    self._client = None
            finally:
                self._send_lock.release()

    def _after_fork(self) -> None:
        """In a forked child: forget the parent's counts and batches (the parent sends them),
        renew the locks and the connection pool, and restart the thread if it was running."""
        self._lock = threading.Lock()
        self._buffer_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._warn_lock = threading.Lock()
        self._wake = threading.Event()
        self._buckets = {}
        self._buffer = deque()
        self._inflight = self._recorded = self._invalid = 0
        self._batches_sent = self._events_sent = self._failed_attempts = 0
        self._dropped_batches = self._dropped_events = self._rejected_events = 0
        self._unreported_drops = [0, 0]
        self._last_error = None
        self._client = None  # the parent's connections are not this process's to use
        self._failures = 0
        self._next_attempt = self._not_before = 0.0
        was_running = self._thread is not None and not self._closed
        self._thread = None
        if was_running:
            self._stopping = False
            self.start()

    def _at_exit(self) -> None:
        self.close(self._exit_timeout)

    def __enter__(self) -> Reporter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- introspection -----------------------------------------------------------------------

    @property
    def stats(self) -> dict[str, Any]:
        """A snapshot of the counters (see ``docs/sdk.md``)."""
        with self._lock:
            recorded, invalid = self._recorded, self._invalid
        with self._buffer_lock:
            return {
                "recorded": recorded,
                "invalid": invalid,
                "batches_sent": self._batches_sent,
                "events_sent": self._events_sent,
                "batches_pending": len(self._buffer) + self._inflight,
                "dropped_batches": self._dropped_batches,
                "dropped_events": self._dropped_events,
                "rejected_events": self._rejected_events,
                "failed_attempts": self._failed_attempts,
                "last_error": self._last_error,
            }


def _call_if_alive(method: weakref.WeakMethod[Callable[[], None]]) -> None:
    bound = method()
    if bound is not None:
        bound()


def _status_of(status: object, outcome: object) -> int:
    """The status code of a record() call that did not pass a plain int in range."""
    if status is None:
        if outcome is None:
            raise ValueError("record() needs a status or an outcome")
        code = OUTCOMES.get(outcome.lower()) if isinstance(outcome, str) else None
        if code is None:
            raise ValueError(f"unknown outcome: {outcome!r}")
        return code
    if isinstance(status, bool):
        raise ValueError(f"invalid status: {status!r}")
    if not isinstance(status, int) and not (
        isinstance(status, str) and status.isascii() and status.isdigit()
    ):
        raise ValueError(f"invalid status: {status!r}")
    code = int(status)
    if not 100 <= code <= 599:
        raise ValueError(f"status out of range: {code}")
    return code


def _as_number(latency: object) -> float:
    """A latency that is not a float: ints and other real numbers, not bools or strings."""
    if isinstance(latency, bool | str | bytes):
        raise ValueError(f"invalid latency: {latency!r}")
    if isinstance(latency, int):
        return float(latency) if latency <= MAX_INDEXABLE else math.inf
    return float(latency)  # type: ignore[arg-type]  # Decimal, Fraction, numpy floats, ...
