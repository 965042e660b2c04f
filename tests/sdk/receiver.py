"""A real HTTP ingest receiver for the SDK tests (stdlib ``ThreadingHTTPServer`` on 127.0.0.1).

It checks every request against the wire format, decodes gzip, stores each batch once per
``Idempotency-Key`` (like the real server) and sums statuses and latency bins per bucket key.
It can be stopped (connections refused) and restarted on the same port, and scripted to answer
503, 429 with ``Retry-After``, 400, to store a batch and then fail (503 or a reset connection),
or to answer slowly.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slakeeper.sdk import Reporter

API_KEY = "slk_test_key"
MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$")
BucketKey = tuple[str, str, str | None, str | None]


@dataclass
class Action:
    """What the receiver does with one request: ``kind`` is ok, status, store_then_status,
    store_then_reset or slow."""

    kind: str = "ok"
    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class Delivery:
    """One request that reached the receiver."""

    at: float
    key: str
    answered: int | None  # None: the connection was reset
    gzipped: bool
    size: int
    minutes: tuple[str, ...] = ()  # of the buckets, in body order


@dataclass
class State:
    statuses: dict[BucketKey, Counter[str]] = field(default_factory=dict)
    bins: dict[BucketKey, Counter[int]] = field(default_factory=dict)
    zero: Counter[BucketKey] = field(default_factory=Counter)
    stored: dict[str, int] = field(default_factory=dict)  # key -> accepted
    deliveries: list[Delivery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets and timeouts are on purpose here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.receiver._connections.add(self.connection)

    def finish(self) -> None:
        self.server.receiver._connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.server.receiver._handle(self)


class Receiver:
    """Use as a context manager; ``url`` is the base URL to give the Reporter."""

    def __init__(self, *, reject_customers: frozenset[str] = frozenset()) -> None:
        self.lock = threading.Lock()
        self.state = State()
        self.script: deque[Action] = deque()
        self.default = Action()
        self.reject_customers = reject_customers
        self.port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._busy = 0  # requests being handled
        self._down = False

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Receiver:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Listen (again) on the same port as before, or a free one the first time."""
        server = _Server(("127.0.0.1", self.port), _Handler)
        self._down = False
        server.receiver = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and cut every open connection: connections are refused until start().

        A request being handled is finished first, and one arriving meanwhile on a kept-alive
        connection is cut unread: no batch is stored without its answer being sent.
        """
        server, self._server = self._server, None
        if server is None:
            return
        with self.lock:
            self._down = True
        deadline = time.monotonic() + 2
        while self._busy and time.monotonic() < deadline:
            time.sleep(0.002)
        server.shutdown()
        server.server_close()
        for connection in list(self._connections):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)

    # -- scripting ---------------------------------------------------------------------------

    def then(self, *actions: Action) -> None:
        """Answer the next requests with these actions, then with ``default``."""
        with self.lock:
            self.script.extend(actions)

    # -- what was received -------------------------------------------------------------------

    def total_events(self) -> int:
        with self.lock:
            return sum(sum(c.values()) for c in self.state.statuses.values())

    def statuses(self) -> Counter[str]:
        """Counts per status over every bucket."""
        total: Counter[str] = Counter()
        with self.lock:
            for counts in self.state.statuses.values():
                total.update(counts)
        return total

    def deliveries(self) -> list[Delivery]:
        with self.lock:
            return list(self.state.deliveries)

    def delivery_counts(self) -> Counter[str]:
        """How many times each Idempotency-Key arrived."""
        return Counter(d.key for d in self.deliveries())

    def errors(self) -> list[str]:
        with self.lock:
            return list(self.state.errors)

    # -- the handler -------------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        with self.lock:
            if self._down:
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            self._busy += 1
        try:
            self._handle_request(handler)
        finally:
            with self.lock:
                self._busy -= 1

    def _handle_request(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        raw = handler.rfile.read(length)
        with self.lock:
            action = self.script.popleft() if self.script else self.default
        if action.kind == "slow":
            time.sleep(action.delay)
        key = handler.headers.get("Idempotency-Key", "")
        gzipped = handler.headers.get("Content-Encoding") == "gzip"
        problems = self._check_headers(handler, key)
        try:
            body = json.loads(gzip.decompress(raw) if gzipped else raw)
        except (OSError, ValueError) as error:
            problems.append(f"unreadable body: {error}")
            body = None
        minutes = _minutes(body)
        if action.kind == "status":
            self._delivered(key, action.status, gzipped, len(raw), minutes)
            self._answer(handler, action.status, {"title": "scripted"}, action.retry_after)
            return
        if problems:
            with self.lock:
                self.state.errors.extend(problems)
            self._delivered(key, 400, gzipped, len(raw), minutes)
            self._answer(handler, 400, {"errors": problems})
            return
        answered = {"store_then_status": action.status, "store_then_reset": None}
        self._delivered(key, answered.get(action.kind, 200), gzipped, len(raw), minutes)
        answer = self._store(key, body)
        if action.kind == "store_then_status":
            self._answer(handler, action.status, {"title": "scripted"}, action.retry_after)
            return
        if action.kind == "store_then_reset":
            handler.close_connection = True
            linger = struct.pack("ii", 1, 0)  # close with RST
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
            handler.connection.close()
            return
        self._answer(handler, 200, answer)

    def _check_headers(self, handler: _Handler, key: str) -> list[str]:
        problems = []
        if handler.path != "/api/v1/ingest":
            problems.append(f"path {handler.path}")
        if handler.headers.get("Authorization") != f"Bearer {API_KEY}":
            problems.append(f"authorization {handler.headers.get('Authorization')}")
        if handler.headers.get("Content-Type") != "application/json":
            problems.append(f"content type {handler.headers.get('Content-Type')}")
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            problems.append(f"idempotency key {key!r}")
        return problems

    def _store(self, key: str, body: Any) -> dict[str, Any]:
        """Store a batch once per key; a known key is a replay."""
        with self.lock:
            if key in self.state.stored:
                return {"batch": key, "accepted": self.state.stored[key], "rejected": [],
                        "replayed": True}  # fmt: skip
            rejected = []
            accepted = 0
            for index, bucket in enumerate(body["buckets"]):
                problems = _check_bucket(bucket)
                if problems:
                    self.state.errors.extend(problems)
                    rejected.append({"kind": "buckets", "index": index, "reason": problems[0]})
                    continue
                if bucket.get("customer") in self.reject_customers:
                    rejected.append({"kind": "buckets", "index": index, "reason": "customer"})
                    continue
                bucket_key = (
                    bucket["minute"],
                    bucket["component"],
                    bucket.get("region"),
                    bucket.get("customer"),
                )
                self.state.statuses.setdefault(bucket_key, Counter()).update(bucket["statuses"])
                latency = bucket.get("latency")
                if latency is not None:
                    bins = {int(k): n for k, n in latency["bins"].items()}
                    self.state.bins.setdefault(bucket_key, Counter()).update(bins)
                    self.state.zero[bucket_key] += latency["zero"]
                accepted += 1
            self.state.stored[key] = accepted
            return {"batch": key, "accepted": accepted, "rejected": rejected, "replayed": False}

    def _delivered(
        self, key: str, answered: int | None, gzipped: bool, size: int, minutes: tuple[str, ...]
    ) -> None:
        delivery = Delivery(time.monotonic(), key, answered, gzipped, size, minutes)
        with self.lock:
            self.state.deliveries.append(delivery)

    @staticmethod
    def _answer(
        handler: _Handler, status: int, document: Any, retry_after: str | None = None
    ) -> None:
        payload = json.dumps(document).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        if retry_after is not None:
            handler.send_header("Retry-After", retry_after)
        handler.end_headers()
        handler.wfile.write(payload)


def _minutes(body: Any) -> tuple[str, ...]:
    try:
        return tuple(str(bucket["minute"]) for bucket in body["buckets"])
    except (KeyError, TypeError):
        return ()


def _check_bucket(bucket: Any) -> list[str]:
    """Every way a bucket can break the wire format."""
    problems = []
    if not isinstance(bucket, dict):
        return [f"bucket is not an object: {bucket!r}"]
    unknown = set(bucket) - {"minute", "component", "region", "customer", "statuses", "latency"}
    if unknown:
        problems.append(f"unknown fields {unknown}")
    if not isinstance(bucket.get("minute"), str) or not MINUTE.match(bucket["minute"]):
        problems.append(f"minute {bucket.get('minute')!r}")
    if not isinstance(bucket.get("component"), str) or not bucket["component"]:
        problems.append(f"component {bucket.get('component')!r}")
    for name in ("region", "customer"):
        if bucket.get(name) is not None and not isinstance(bucket[name], str):
            problems.append(f"{name} {bucket[name]!r}")
    statuses = bucket.get("statuses")
    total = 0
    if not isinstance(statuses, dict) or not statuses:
        problems.append(f"statuses {statuses!r}")
    else:
        for code, count in statuses.items():
            if not (code.isdigit() and 100 <= int(code) <= 599):
                problems.append(f"status code {code!r}")
            if type(count) is not int or count <= 0:
                problems.append(f"status count {count!r}")
            else:
                total += count
    latency = bucket.get("latency")
    if latency is not None:
        bins = latency.get("bins") if isinstance(latency, dict) else None
        zero = latency.get("zero") if isinstance(latency, dict) else None
        if not isinstance(bins, dict) or type(zero) is not int or zero < 0:
            problems.append(f"latency {latency!r}")
        else:
            if any(type(n) is not int or n <= 0 for n in bins.values()):
                problems.append(f"latency counts {bins!r}")
            if any(not re.fullmatch(r"-?\d+", k) for k in bins):
                problems.append(f"latency keys {list(bins)!r}")
            if not problems and sum(bins.values()) + zero > total:
                problems.append("more latencies than requests")
            if not bins and not zero:
                problems.append("an empty latency should be omitted")
    return problems


def fast_reporter(url: str, **options: Any) -> Reporter:
    """A Reporter with the test suite's short intervals (any option can be overridden)."""
    settings: dict[str, Any] = {
        "component": "api",
        "flush_interval": 0.05,
        "backoff_base": 0.01,
        "backoff_cap": 0.1,
        "timeout": 2.0,
        "exit_timeout": 1.0,
    }
    settings.update(options)
    return Reporter(url, API_KEY, **settings)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll until ``predicate()`` is true; False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()
