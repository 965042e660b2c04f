"""Liveness, readiness and metrics (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from slakeeper.api.deps import ContainerDep
from slakeeper.api.problems import problem
from slakeeper.bootstrap import UNAVAILABLE_ERRORS

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(container: ContainerDep) -> dict[str, str] | Response:
    """The database is reachable and migrated."""
    try:
        container.ping()
        migrated = container.is_migrated()
    except UNAVAILABLE_ERRORS:
        return problem("unavailable", "the database cannot be reached")
    if not migrated:
        return problem("unavailable", "the database is not migrated: run `slakeeper db upgrade`")
    return {"status": "ready"}


@router.get("/metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """Prometheus exposition: requests by route and status, latencies, database pool."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
