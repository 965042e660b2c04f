"""A small FastAPI service instrumented with the slakeeper SDK middleware.

``create_app(reporter)`` serves ``GET /api/sync`` (the component ``api-sync`` of the opsmantik
example policy). The caller names its customer in the ``X-Customer`` header, which the
middleware's hook reads. ``POST /chaos`` with ``{"outage": true}`` makes ``/api/sync`` answer 503
until it is turned off again: the injected outage of the demo.
"""

from __future__ import annotations

import random
import time
from typing import Any

from fastapi import FastAPI, Response

from slakeeper.sdk import Reporter, SlakeeperASGIMiddleware


def customer_of(scope: dict[str, Any]) -> str | None:
    """The request's customer, from its ``X-Customer`` header."""
    for name, value in scope.get("headers", []):
        if name == b"x-customer":
            return str(value.decode("latin-1"))
    return None


def create_app(reporter: Reporter, *, seed: int = 7) -> FastAPI:
    app = FastAPI(title="demo api-sync")
    state = {"outage": False}
    rng = random.Random(seed)

    @app.get("/api/sync")
    def sync(response: Response) -> dict[str, str]:
        time.sleep(rng.uniform(0.0005, 0.003))
        if state["outage"]:
            response.status_code = 503
            return {"error": "upstream unavailable"}
        roll = rng.random()
        if roll < 0.01:
            response.status_code = 429  # throttled: not an error by the SLI
        elif roll < 0.03:
            response.status_code = 404  # client error: not an error either
        return {"ok": "synced"}

    @app.post("/chaos")
    def chaos(body: dict[str, bool]) -> dict[str, bool]:
        state["outage"] = bool(body.get("outage"))
        return state

    # The component is named once; the hook tells which customer a request belongs to.
    app.add_middleware(SlakeeperASGIMiddleware, reporter=reporter, customer=customer_of)
    return app
