"""The ASGI middleware under Starlette and FastAPI, the WSGI one under wsgiref."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIEnvironment
from wsgiref.util import setup_testing_defaults

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from sdk.receiver import Receiver, fast_reporter
from slakeeper.sdk import Reporter, SlakeeperASGIMiddleware, SlakeeperWSGIMiddleware, sketch


def header_customer(scope: Any) -> str | None:
    """The customer from the ``X-Customer`` header; raises for ``explode``."""
    for name, value in scope["headers"]:
        if name == b"x-customer":
            if value == b"explode":
                raise RuntimeError("a broken hook")
            return str(value.decode())
    return None


def by_customer(rx: Receiver) -> dict[str | None, Counter[str]]:
    """Statuses per customer over every received bucket."""
    result: dict[str | None, Counter[str]] = {}
    for (_minute, _component, _region, customer), counts in rx.state.statuses.items():
        result.setdefault(customer, Counter()).update(counts)
    return result


def slowest_ms(rx: Receiver) -> float:
    return max(sketch.value(key) for bins in rx.state.bins.values() for key in bins)


# -- ASGI -------------------------------------------------------------------------------------


async def ok(request: Request) -> Response:
    return PlainTextResponse("ok")


async def slow(request: Request) -> Response:
    await asyncio.sleep(0.05)
    return PlainTextResponse("slow")


async def teapot(request: Request) -> Response:
    return PlainTextResponse("short and stout", status_code=418)


async def boom(request: Request) -> Response:
    raise RuntimeError("boom")


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            await asyncio.sleep(0.03)
            yield b"chunk"

    return StreamingResponse(chunks())


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


def starlette_app(reporter: Reporter) -> Starlette:
    routes = [
        Route("/ok", ok),
        Route("/slow", slow),
        Route("/teapot", teapot),
        Route("/boom", boom),
        Route("/stream", stream),
        WebSocketRoute("/ws", echo),
    ]
    middleware = [Middleware(SlakeeperASGIMiddleware, reporter=reporter, customer=header_customer)]
    return Starlette(routes=routes, middleware=middleware)


def test_asgi_records_status_latency_and_customer() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        with TestClient(starlette_app(reporter), raise_server_exceptions=False) as client:
            assert client.get("/ok", headers={"X-Customer": "acme"}).status_code == 200
            assert client.get("/ok", headers={"X-Customer": "explode"}).status_code == 200
            assert client.get("/teapot", headers={"X-Customer": "acme"}).status_code == 418
            assert client.get("/nowhere", headers={"X-Customer": "globex"}).status_code == 404
            assert client.get("/boom", headers={"X-Customer": "acme"}).status_code == 500
            with client.websocket_connect("/ws") as websocket:  # not http: passes through
                websocket.send_text("hello")
                assert websocket.receive_text() == "hello"
        assert reporter.flush(5)
        assert by_customer(rx) == {
            "acme": Counter({"200": 1, "418": 1, "500": 1}),
            None: Counter({"200": 1}),  # the hook raised: no customer, request unharmed
            "globex": Counter({"404": 1}),
        }
        assert reporter.stats["invalid"] == 0
        assert rx.errors() == []


def test_asgi_latency_runs_to_the_end_of_the_body() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        with TestClient(starlette_app(reporter)) as client:
            assert client.get("/slow").text == "slow"
        assert reporter.flush(5)
        assert 0.99 * 50 <= slowest_ms(rx) < 2000
        rx.state.bins.clear()
        with TestClient(starlette_app(reporter)) as client:
            assert client.get("/stream").text == "chunk" * 3
        assert reporter.flush(5)
        assert 0.99 * 90 <= slowest_ms(rx) < 2000


def test_asgi_an_escaping_exception_is_a_500_and_is_re_raised() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        with (
            TestClient(starlette_app(reporter)) as client,
            pytest.raises(RuntimeError, match="boom"),
        ):
            client.get("/boom")
        assert reporter.flush(5)
        assert rx.statuses() == Counter({"500": 1})


def test_asgi_under_fastapi_with_a_component() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        app = FastAPI()

        @app.get("/items/{item}")
        def item(item: int) -> dict[str, int]:
            if item == 0:
                raise HTTPException(status_code=403)
            return {"item": item}

        app.add_middleware(
            SlakeeperASGIMiddleware,
            reporter=reporter,
            customer=header_customer,
            component="catalog",
        )
        with TestClient(app) as client:
            assert client.get("/items/1", headers={"X-Customer": "acme"}).status_code == 200
            assert client.get("/items/0", headers={"X-Customer": "acme"}).status_code == 403
            assert client.get("/items/x", headers={"X-Customer": "acme"}).status_code == 422
        assert reporter.flush(5)
        (bucket_key,) = rx.state.statuses
        assert bucket_key[1:] == ("catalog", None, "acme")
        assert rx.statuses() == Counter({"200": 1, "403": 1, "422": 1})


def test_asgi_an_app_that_never_answers_is_a_500() -> None:
    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None

    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        middleware = SlakeeperASGIMiddleware(silent, reporter)
        scope = {"type": "http", "method": "GET", "path": "/", "headers": []}

        async def send(message: Any) -> None:
            raise AssertionError("nothing is sent")

        async def receive() -> Any:
            return {"type": "http.request", "body": b""}

        asyncio.run(middleware(scope, receive, send))
        assert reporter.flush(5)
        assert rx.statuses() == Counter({"500": 1})


# -- WSGI -------------------------------------------------------------------------------------


class _Closing:
    """A response iterable with a close() that takes a while."""

    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield b"closing"

    def close(self) -> None:
        time.sleep(0.04)
        self.closed = True


CLOSING = _Closing()


def wsgi_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/ok":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    if path == "/created":
        start_response("201 Created", [("Content-Type", "text/plain")])
        return [b"created"]
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/generator":

        def chunks() -> Iterator[bytes]:  # start_response only once iterated
            start_response("202 Accepted", [("Content-Type", "text/plain")])
            for _ in range(3):
                time.sleep(0.02)
                yield b"chunk"

        return chunks()
    if path == "/generator-boom":

        def broken() -> Iterator[bytes]:
            start_response("200 OK", [("Content-Type", "text/plain")])
            yield b"partial"
            raise RuntimeError("boom in the body")

        return broken()
    if path == "/closing":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return CLOSING
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


def environ_customer(environ: WSGIEnvironment) -> str | None:
    customer = environ.get("HTTP_X_CUSTOMER")
    if customer == "explode":
        raise RuntimeError("a broken hook")
    return customer


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(WSGIServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def serve_wsgi(app: Any) -> tuple[WSGIServer, threading.Thread]:
    server = make_server(
        "127.0.0.1", 0, app, server_class=_QuietServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    return server, thread


def test_wsgi_under_a_real_server(capsys: pytest.CaptureFixture[str]) -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        app = SlakeeperWSGIMiddleware(wsgi_app, reporter, customer=environ_customer)
        server, thread = serve_wsgi(app)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            with httpx.Client(base_url=base) as client:
                acme = {"X-Customer": "acme"}
                assert client.get("/ok", headers=acme).status_code == 200
                assert client.get("/created", headers=acme).status_code == 201
                assert client.get("/ok", headers={"X-Customer": "explode"}).status_code == 200
                assert client.get("/missing", headers=acme).status_code == 404
                assert client.get("/boom", headers=acme).status_code == 500
                generated = client.get("/generator", headers={"X-Customer": "globex"})
                assert generated.status_code == 202
                assert generated.text == "chunk" * 3
                # the body breaks off mid-way: the client sees a cut 200, the app raised
                broken = client.get("/generator-boom", headers={"X-Customer": "globex"})
                assert broken.text == "partial"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
        capsys.readouterr()  # wsgiref prints the tracebacks
        assert reporter.flush(5)
        assert by_customer(rx) == {
            "acme": Counter({"200": 1, "201": 1, "404": 1, "500": 1}),
            None: Counter({"200": 1}),
            "globex": Counter({"202": 1, "500": 1}),
        }
        globex = next(bins for key, bins in rx.state.bins.items() if key[3] == "globex")
        assert max(sketch.value(key) for key in globex) >= 0.99 * 60
        assert rx.errors() == []


def test_wsgi_latency_runs_to_the_close_of_the_iterable() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        app = SlakeeperWSGIMiddleware(wsgi_app, reporter, component="web")
        environ: dict[str, Any] = {"PATH_INFO": "/closing"}
        setup_testing_defaults(environ)
        statuses: list[str] = []
        result = app(environ, _collect(statuses))
        assert b"".join(result) == b"closing"
        assert reporter.stats["recorded"] == 0  # not before close()
        result.close()  # type: ignore[attr-defined]
        assert CLOSING.closed
        assert statuses == ["200 OK"]
        assert reporter.flush(5)
        ((_minute, component, _region, customer),) = rx.state.statuses
        assert (component, customer) == ("web", None)
        assert slowest_ms(rx) >= 0.99 * 40


def test_wsgi_exceptions_are_500s_and_re_raised() -> None:
    with Receiver() as rx, fast_reporter(rx.url, start=False) as reporter:
        app = SlakeeperWSGIMiddleware(wsgi_app, reporter)
        environ: dict[str, Any] = {"PATH_INFO": "/boom"}
        setup_testing_defaults(environ)
        with pytest.raises(RuntimeError, match=r"^boom$"):
            app(environ, _collect([]))
        environ["PATH_INFO"] = "/generator-boom"
        result = app(environ, _collect([]))
        with pytest.raises(RuntimeError, match="boom in the body"):
            list(result)
        result.close()  # type: ignore[attr-defined]  # recorded once, not twice
        assert reporter.flush(5)
        assert rx.statuses() == Counter({"500": 2})


def _collect(statuses: list[str]) -> Callable[..., Callable[[bytes], object]]:
    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        statuses.append(status)
        return lambda data: None

    return start_response
