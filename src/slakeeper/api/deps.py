"""Request dependencies: the container, the caller (fail-closed auth), scopes, rate limits."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from slakeeper.bootstrap import Container
from slakeeper.services import tenancy
from slakeeper.services.records import Principal, Scope


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


class RateLimiter:
    """A token bucket per API key: ``per_minute`` requests a minute, bursts up to that."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.refill_per_second = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """None when allowed; otherwise the seconds to wait before the next request."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.refill_per_second)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.refill_per_second


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def authenticated(request: Request, container: ContainerDep) -> Principal:
    """The calling key's principal. No key, an unknown or revoked key: 401. No database: 503
    (raised by the store and answered by the problem handler: never an anonymous pass)."""
    token = _bearer(request)
    if token is None:
        raise HTTPException(
            401,
            "send an API key: Authorization: Bearer slk_...",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with container.uow() as uow:
        principal = tenancy.authenticate(uow, token, container.clock.now())
        uow.commit()
    if principal is None:
        raise HTTPException(
            401, "the API key is unknown or revoked", headers={"WWW-Authenticate": "Bearer"}
        )
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.take(principal.key_id or principal.actor)
    if wait is not None:
        raise HTTPException(
            429,
            "this key sent too many requests; retry later",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    request.state.principal = principal
    return principal


def require(scope: Scope, *, org_wide: bool = False) -> Callable[..., Principal]:
    """A dependency admitting keys granted ``scope`` (and, with ``org_wide``, not bound to one
    customer)."""

    def dependency(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if not principal.allows(scope):
            raise HTTPException(403, f"this key lacks the '{scope.value}' scope")
        if org_wide and principal.customer_id is not None:
            raise HTTPException(403, "a customer-scoped key cannot see organisation-wide data")
        return principal

    dependency.__name__ = f"require_{scope.value}"
    return dependency


Reader = Annotated[Principal, Depends(require(Scope.READ))]
OrgReader = Annotated[Principal, Depends(require(Scope.READ, org_wide=True))]
Writer = Annotated[Principal, Depends(require(Scope.WRITE))]
Admin = Annotated[Principal, Depends(require(Scope.ADMIN))]
