"""RFC 9457 problem details: every error the API answers is ``application/problem+json``.

Each kind of problem has a stable ``type`` URI (``tag:slakeeper,2026:problem/NAME``) that
clients can switch on; ``title`` is the same for every instance of a type, ``detail`` explains
this one, and validation problems list every field in ``errors``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from slakeeper.policy.errors import PolicyError
from slakeeper.problems import MEDIA_TYPE, TYPES, problem, type_uri
from slakeeper.services.errors import (
    ConflictError,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    ServiceError,
)

log = logging.getLogger("slakeeper.api")

__all__ = [
    "ERROR_RESPONSES",
    "MEDIA_TYPE",
    "TYPES",
    "allowed_methods",
    "install",
    "problem",
    "type_uri",
]


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at the request's path (RFC 9110: all of them)."""
    document = request.app.openapi()
    paths = document.get("paths", {})
    if request.url.path in paths:  # a literal path names its own resource
        return sorted(method.upper() for method in paths[request.url.path])
    methods: set[str] = set()
    for template, operations in paths.items():
        pattern = "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, request.url.path):
            methods |= {method.upper() for method in operations}
    return sorted(methods)


#: The error answers every authenticated route may give, for the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
    }
    for status, description in (
        (400, "Bad request (e.g. a cursor or If-Match this API did not give out)"),
        (401, "No key, or an unknown or revoked key"),
        (403, "The key lacks the scope, or is bound to a customer"),
        (404, "Not found in this organisation"),
        (409, "Conflict: a unique id is taken, a version moved on, or an idempotent replay"),
        (412, "If-Match names a version that is not the current one"),
        (413, "The request body is too large"),
        (415, "Unsupported media type"),
        (422, "The request is not valid: every problem is listed"),
        (429, "Too many requests for this key (see Retry-After)"),
        (503, "The database cannot be reached: nothing was authenticated"),
    )
}


def install(
    app: FastAPI,
    store_errors: tuple[type[Exception], ...],
    classify: Callable[[Exception], str],
) -> None:
    """Register the handlers that turn every error into a problem."""

    @app.exception_handler(PolicyError)
    async def _policy(request: Request, exc: PolicyError) -> JSONResponse:
        errors = [p.as_dict() for p in exc.problems]
        first = exc.problems[0]
        where = f"line {first.line}: " if first.line else ""
        return problem(
            "invalid-policy",
            f"{len(errors)} problem(s); first: {where}{first.key} {first.message}".strip(),
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> JSONResponse:
        if isinstance(exc, NotFound):
            return problem("not-found", exc.message, instance=request.url.path)
        if isinstance(exc, Forbidden):
            return problem("forbidden", exc.message, instance=request.url.path)
        if isinstance(exc, ConflictError):
            return problem("conflict", exc.message, instance=request.url.path)
        if isinstance(exc, PreconditionFailed):
            return problem("precondition-failed", exc.message, instance=request.url.path)
        if isinstance(exc, Invalid):
            return problem("validation", exc.message, instance=request.url.path, errors=exc.errors)
        return problem("http", exc.message, instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(part) for part in error["loc"] if part != "body"),
                "message": error["msg"],
            }
            for error in exc.errors()
        ]
        return problem(
            "validation",
            f"{len(errors)} field(s) are not valid",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        names = {401: "unauthorized", 403: "forbidden", 404: "not-found", 405: "method-not-allowed",
                 415: "unsupported-media-type", 429: "rate-limited"}  # fmt: skip
        name = names.get(exc.status_code, "http")
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(
            name,
            str(exc.detail),
            status=exc.status_code,
            instance=request.url.path,
            headers=headers or None,
        )

    for kind in store_errors:

        @app.exception_handler(kind)
        async def _store(request: Request, exc: Exception) -> JSONResponse:
            failure = classify(exc)
            if failure == "conflict":
                return problem(
                    "conflict",
                    "the change raced another one and was not made: retry it",
                    instance=request.url.path,
                )
            if failure == "invalid":
                return problem(
                    "validation",
                    "the store cannot hold a value of this request",
                    instance=request.url.path,
                    errors=[],
                )
            log.warning("store unavailable: %s", type(exc).__name__)
            return problem(
                "unavailable",
                "the database cannot be reached; nothing was authenticated or changed",
                instance=request.url.path,
                headers={"Retry-After": "5"},
            )

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem("internal", "an unexpected error happened", instance=request.url.path)
