"""ASGI and WSGI middleware recording each request's final status and latency into a Reporter.

They never break a request: a customer hook that raises counts as no customer, and an exception
escaping the application is recorded as a 500 and re-raised unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import TracebackType
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from slakeeper.sdk.reporter import Reporter

__all__ = ["SlakeeperASGIMiddleware", "SlakeeperWSGIMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_clock = time.perf_counter  # monotonic, with the best resolution the platform has


def _customer_of(hook: Callable[[Any], str | None] | None, request: object) -> str | None:
    if hook is None:
        return None
    try:
        customer = hook(request)
    except Exception:
        return None
    return customer if isinstance(customer, str) else None


def _record(
    reporter: Reporter,
    status: Any,
    started: float,
    component: str | None,
    customer: str | None,
) -> None:
    try:
        latency_ms = (_clock() - started) * 1000.0
        reporter.record(status, latency_ms, component=component, customer=customer)
    except Exception:  # pragma: no cover - Reporter.record never raises; a stand-in might
        pass


class SlakeeperASGIMiddleware:
    """Records every HTTP request of an ASGI application (Starlette, FastAPI, ...).

    The status is the one of ``http.response.start``; the latency runs from the call to the
    last body message. ``customer(scope)`` names the request's customer (or None).
    """

    def __init__(
        self,
        app: ASGIApp,
        reporter: Reporter,
        *,
        customer: Callable[[Scope], str | None] | None = None,
        component: str | None = None,
    ) -> None:
        self.app = app
        self.reporter = reporter
        self.customer = customer
        self.component = component

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        started = _clock()
        customer = _customer_of(self.customer, scope)
        status: object = None
        recorded = False

        async def watching_send(message: Message) -> None:
            nonlocal status, recorded
            kind = message.get("type")
            if kind == "http.response.start":
                status = message.get("status")
            await send(message)
            if not recorded and (
                (kind == "http.response.body" and not message.get("more_body", False))
                or kind == "http.response.pathsend"
            ):
                recorded = True
                _record(self.reporter, status, started, self.component, customer)

        try:
            await self.app(scope, receive, watching_send)
        except Exception:
            if not recorded:
                recorded = True
                _record(self.reporter, 500, started, self.component, customer)
            raise
        if not recorded:  # returned without finishing the response: the server answers 500
            _record(self.reporter, status or 500, started, self.component, customer)


class SlakeeperWSGIMiddleware:
    """Records every request of a WSGI application (Django, Flask, ...).

    The status is the last one passed to ``start_response``; the latency runs from the call to
    the ``close()`` of the response iterable. ``customer(environ)`` names the customer.
    """

    def __init__(
        self,
        app: WSGIApplication,
        reporter: Reporter,
        *,
        customer: Callable[[WSGIEnvironment], str | None] | None = None,
        component: str | None = None,
    ) -> None:
        self.app = app
        self.reporter = reporter
        self.customer = customer
        self.component = component

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = _clock()
        customer = _customer_of(self.customer, environ)
        response = _Response(self, started, customer)

        def watching_start_response(
            status: str,
            headers: list[tuple[str, str]],
            exc_info: tuple[type[BaseException], BaseException, TracebackType]
            | tuple[None, None, None]
            | None = None,
        ) -> Callable[[bytes], object]:
            response.status = status
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        try:
            response.body = self.app(environ, watching_start_response)
        except Exception:
            response.finish(500)
            raise
        return response


class _Response:
    """The application's response iterable, watched until its ``close()``."""

    def __init__(self, middleware: SlakeeperWSGIMiddleware, started: float, customer: str | None):
        self.middleware = middleware
        self.started = started
        self.customer = customer
        self.status: str | None = None
        self.body: Iterable[bytes] = ()
        self.finished = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self.body
        except Exception:
            self.finish(500)
            raise

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        except Exception:
            self.finish(500)
            raise
        finally:
            self.finish(None)

    def finish(self, status: int | None) -> None:
        if self.finished:
            return
        self.finished = True
        if status is None:
            try:
                status = int((self.status or "500").split(None, 1)[0])
            except ValueError:
                status = 500
        middleware = self.middleware
        _record(middleware.reporter, status, self.started, middleware.component, self.customer)
