"""Errors of the use cases; the API maps each to a problem+json type, the CLI to one line.

ServiceError
├── NotFound            the thing does not exist (in this organisation)
├── Forbidden           the caller's key may not do this
├── ConflictError       a unique id is taken, or a version moved on (retry with the new one)
├── PreconditionFailed  If-Match named a version that is not the current one
└── Invalid             the request is well-formed but not acceptable (with a field list)
"""

from __future__ import annotations


class ServiceError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    pass


class Forbidden(ServiceError):
    pass


class ConflictError(ServiceError):
    pass


class PreconditionFailed(ServiceError):
    pass


class Invalid(ServiceError):
    def __init__(self, message: str, errors: list[dict[str, object]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []
