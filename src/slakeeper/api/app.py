"""The FastAPI application: ``create_app(container)``; nothing is built at import time."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from slakeeper import __version__
from slakeeper.api import problems
from slakeeper.api.deps import RateLimiter
from slakeeper.api.middleware import IdempotencyMiddleware, Metrics, MetricsMiddleware
from slakeeper.api.routes import (
    catalogue,
    close,
    customers,
    health,
    incidents,
    measurements,
    policies,
    subscriptions,
    tenancy,
    tickets,
)
from slakeeper.api.schemas import ProblemDetails
from slakeeper.bootstrap import STORE_ERRORS, Container, store_failure
from slakeeper.web import dashboard, status

API_PREFIX = "/api/v1"


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="slakeeper",
        version=__version__,
        description="Run a service level agreement end to end from one policy file.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.container = container
    app.state.rate_limiter = RateLimiter(container.settings.rate_limit_per_minute)
    app.state.metrics = Metrics(container)
    problems.install(app, STORE_ERRORS, store_failure)
    app.include_router(health.router)
    app.include_router(status.router, responses=problems.ERROR_RESPONSES)
    app.include_router(dashboard.router)  # HTML pages behind a sign-in, not in the API document
    routers = (
        tenancy.router,
        policies.router,
        customers.router,
        catalogue.router,
        tickets.router,
        incidents.router,
        subscriptions.admin,
        measurements.router,
        close.router,
    )
    for router in routers:
        app.include_router(router, prefix=API_PREFIX, responses=problems.ERROR_RESPONSES)
    app.include_router(subscriptions.public, responses=problems.ERROR_RESPONSES)
    _publish_problem_schema(app)
    app.add_middleware(IdempotencyMiddleware, container=container)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app


def _publish_problem_schema(app: FastAPI) -> None:
    """Add ``ProblemDetails`` to the document's schemas, which the error answers refer to."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas["ProblemDetails"] = ProblemDetails.model_json_schema()
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
