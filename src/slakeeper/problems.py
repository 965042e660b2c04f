"""RFC 9457 problem details shared by every HTTP surface (the API and the web pages).

Each kind of problem has a stable ``type`` URI (``tag:slakeeper,2026:problem/NAME``); ``title``
is the same for every instance of a type, ``detail`` explains this one.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

MEDIA_TYPE = "application/problem+json"
TYPES: dict[str, tuple[int, str]] = {
    "unauthorized": (401, "Authentication required"),
    "forbidden": (403, "Not allowed for this key"),
    "not-found": (404, "Not found"),
    "method-not-allowed": (405, "Method not allowed"),
    "conflict": (409, "Conflict"),
    "in-flight": (409, "The first request with this Idempotency-Key is still running"),
    "precondition-failed": (412, "Precondition failed"),
    "unsupported-media-type": (415, "Unsupported media type"),
    "validation": (422, "The request is not valid"),
    "invalid-policy": (422, "The policy is not valid"),
    "idempotency-key-reused": (422, "Idempotency-Key reused with a different request"),
    "rate-limited": (429, "Too many requests"),
    "internal": (500, "Internal error"),
    "unavailable": (503, "The store is unavailable"),
    "http": (400, "Bad request"),
}


def type_uri(name: str) -> str:
    return f"tag:slakeeper,2026:problem/{name}"


def problem(
    name: str,
    detail: str,
    *,
    status: int | None = None,
    instance: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    default_status, title = TYPES[name]
    body: dict[str, Any] = {
        "type": type_uri(name),
        "title": title,
        "status": status or default_status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(
        body, status_code=status or default_status, media_type=MEDIA_TYPE, headers=headers
    )
