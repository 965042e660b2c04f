"""ASGI middleware: ``Idempotency-Key`` on POST, and request metrics.

Idempotency: the first POST with a key is recorded as in flight before it runs; its answer is
stored when it finishes. A replay gets the stored answer (``Idempotent-Replayed: true``); the
same key with a different request is 422; a replay while the first still runs is 409. Keys are
scoped to the credential that sent them, so two clients never share a key space. A 5xx answer
is not stored, so the client may retry.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import timedelta
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slakeeper.bootstrap import Container

Headers = list[tuple[bytes, bytes]]
#: An in-flight key older than this belongs to a request whose process died: it is reclaimed.
ABANDONED_AFTER = timedelta(minutes=5)


def _problem_message(status: int, name: str, title: str, detail: str) -> tuple[int, bytes]:
    body = {
        "type": f"tag:slakeeper,2026:problem/{name}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    return status, json.dumps(body).encode("utf-8")


async def _send_simple(
    send: Send, status: int, body: bytes, content_type: bytes, extra: Headers | None = None
) -> None:
    headers: Headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
    ]
    headers.extend(extra or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


#: Routes whose own ledger records the key in the same transaction as the data (ingest).
LEDGERED_PATHS = frozenset({"/api/v1/ingest", "/api/v1/probes/results"})


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, container: Container) -> None:
        self.app = app
        self.container = container

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] in LEDGERED_PATHS:
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        key_bytes = headers.get(b"idempotency-key")
        if not key_bytes:
            await self.app(scope, receive, send)
            return
        key = key_bytes.decode("latin-1")[:200]
        body = await _read_body(receive)
        credential = headers.get(b"authorization", b"")
        key_scope = hashlib.sha256(credential).hexdigest()
        fingerprint = hashlib.sha256(
            b"\n".join([scope["path"].encode(), scope.get("query_string", b""), body])
        ).hexdigest()

        state, stored = await run_in_threadpool(self._claim, key_scope, key, fingerprint)
        if state == "mismatch":
            status, payload = _problem_message(
                422,
                "idempotency-key-reused",
                "Idempotency-Key reused with a different request",
                "this Idempotency-Key was used for a different request; use a new key",
            )
            await _send_simple(send, status, payload, b"application/problem+json")
            return
        if state == "in-flight":
            status, payload = _problem_message(
                409,
                "in-flight",
                "The first request with this Idempotency-Key is still running",
                "retry once the first request has finished",
            )
            await _send_simple(send, status, payload, b"application/problem+json")
            return
        if state == "done" and stored is not None:
            await _send_simple(
                send,
                stored[0],
                stored[2].encode("utf-8"),
                stored[1].encode("latin-1"),
                [(b"idempotent-replayed", b"true")],
            )
            return

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, _replay(body), capture)
        finally:
            status = int(captured["status"])
            content_type = dict(captured["headers"]).get(b"content-type", b"application/json")
            await run_in_threadpool(
                self._finish, key_scope, key, status, content_type, captured["body"]
            )

    def _claim(
        self, key_scope: str, key: str, fingerprint: str
    ) -> tuple[str, tuple[int, str, str] | None]:
        now = self.container.clock.now()
        with self.container.uow() as uow:
            existing = uow.idempotency.get(key_scope, key)
            if existing is None:
                if uow.idempotency.claim(key_scope, key, fingerprint, now):
                    uow.commit()
                    return "claimed", None
                existing = uow.idempotency.get(key_scope, key)
                if existing is None:
                    return "in-flight", None
            if existing.request_sha256 != fingerprint:
                return "mismatch", None
            if existing.state != "done":
                started = existing.created_at
                if started is not None and now - started > ABANDONED_AFTER:
                    # The first request died with its process: let this one run instead.
                    uow.idempotency.release(key_scope, key)
                    if uow.idempotency.claim(key_scope, key, fingerprint, now):
                        uow.commit()
                        return "claimed", None
                return "in-flight", None
            assert existing.status_code is not None
            return "done", (existing.status_code, existing.content_type or "", existing.body or "")

    def _finish(
        self, key_scope: str, key: str, status: int, content_type: bytes, body: bytes
    ) -> None:
        with self.container.uow() as uow:
            if status >= 500:
                uow.idempotency.release(key_scope, key)
            else:
                uow.idempotency.finish(
                    key_scope, key, status, content_type.decode("latin-1"), body.decode("utf-8")
                )
            uow.commit()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Callable[[], Awaitable[MutableMapping[str, Any]]]:
    sent = False

    async def receive() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class Metrics:
    """Prometheus metrics of one app (its own registry, so tests can run many apps)."""

    def __init__(self, container: Container) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "slakeeper_http_requests_total",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "slakeeper_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            registry=self.registry,
        )
        pool = container.engine.pool
        self.pool_size = Gauge(
            "slakeeper_db_pool_connections", "Connections in the database pool.",
            ["state"], registry=self.registry,
        )  # fmt: skip
        self.pool_size.labels("checked_out").set_function(
            lambda: float(getattr(pool, "checkedout", lambda: 0)())
        )
        self.pool_size.labels("idle").set_function(
            lambda: float(getattr(pool, "checkedin", lambda: 0)())
        )


def _template(scope: Scope) -> str:
    """The route's path with its parameters named (``/api/v1/customers/{customer_id}``), so
    labels stay few; ``unmatched`` when no route answered."""
    if scope.get("route") is None:
        return "unmatched"
    params = {str(value): name for name, value in scope.get("path_params", {}).items()}
    segments = scope["path"].split("/")
    return "/".join(f"{{{params[s]}}}" if s in params else s for s in segments)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def observe(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            template = _template(scope)
            method = scope["method"]
            self.metrics.requests.labels(template, method, str(status["code"])).inc()
            self.metrics.latency.labels(template, method).observe(time.perf_counter() - started)
