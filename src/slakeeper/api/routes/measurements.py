"""Measurements in: request outcomes, minute buckets, samples, checks and reconciliations
(``POST /ingest``, scope ``ingest``) and health-probe results (``POST /probes/results``,
scope ``probe``). Each batch is acknowledged only after it is committed, once per key."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import Path as PathParam
from pydantic import AwareDatetime
from starlette.concurrency import run_in_threadpool

from slakeeper.api.deps import ContainerDep, OrgReader, Reader, require
from slakeeper.policy.types import Duration
from slakeeper.services import ingest, sla_report, slos
from slakeeper.services.records import Principal, Scope

router = APIRouter(tags=["measurements"])

Ingester = Annotated[Principal, Depends(require(Scope.INGEST))]
Prober = Annotated[Principal, Depends(require(Scope.PROBE))]

_BODY = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "pattern": ingest.KEY_PATTERN.pattern},
            "description": "One key per batch, kept across retries of that batch.",
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/x-ndjson": {"schema": {"type": "string"}},
        },
    },
}


async def _accept(request: Request, principal: Principal, container: Any, kind: str) -> Any:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > ingest.MAX_BODY:
        raise HTTPException(413, f"a batch is at most {ingest.MAX_BODY // (1024 * 1024)} MiB")
    body = await request.body()
    if len(body) > ingest.MAX_BODY:
        raise HTTPException(413, f"a batch is at most {ingest.MAX_BODY // (1024 * 1024)} MiB")

    def store() -> dict[str, object]:
        return ingest.ingest(
            container.uow,
            principal,
            key=request.headers.get("idempotency-key"),
            body=body,
            content_type=request.headers.get("content-type"),
            content_encoding=request.headers.get("content-encoding"),
            now=container.clock.now(),
            kind=kind,
        )

    return await run_in_threadpool(store)


@router.post("/ingest", openapi_extra=_BODY)
async def ingest_batch(
    request: Request, principal: Ingester, container: ContainerDep
) -> dict[str, Any]:
    """Accept a batch of `events`, `buckets`, `samples`, `checks` and `reconciliations`
    (JSON, or NDJSON with a `type` per line; gzip accepted). The answer counts what was
    accepted and lists each rejected item with its index and reason; a retry with the same
    Idempotency-Key gets the same answer with `replayed: true` and adds nothing."""
    answer: dict[str, Any] = await _accept(request, principal, container, "ingest")
    return answer


@router.post("/probes/results", openapi_extra=_BODY)
async def probe_results(
    request: Request, principal: Prober, container: ContainerDep
) -> dict[str, Any]:
    """Accept a batch of health-probe `results` (`ts`, `component`, `region`, `ok`)."""
    answer: dict[str, Any] = await _accept(request, principal, container, "probes")
    return answer


@router.get("/customers/{customer_id}/sla", tags=["customers"])
def customer_sla(
    customer_id: Annotated[str, PathParam(max_length=64, description="The customer's id.")],
    principal: Reader,
    container: ContainerDep,
    period: Annotated[
        str | None,
        Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM; default: the current month."),
    ] = None,
) -> dict[str, Any]:
    """The customer's SLA for the period so far, from measurements (by the plan's down rule),
    declared incidents, maintenance and exclusions: the object `slakeeper evaluate` prints for
    one customer, plus `measurement` (measured downtime and no-data time per component)."""
    now = container.clock.now()
    label = period or f"{now.year:04d}-{now.month:02d}"
    with container.uow() as uow:
        try:
            return sla_report.customer_sla(uow, principal, customer_id, label, now)
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None


SloId = Annotated[str, PathParam(max_length=64, description="The SLO's id in the policy.")]


@router.get("/slos", tags=["slos"])
def list_slos(principal: OrgReader, container: ContainerDep) -> list[dict[str, Any]]:
    """Every SLO of the active policy, live: SLI, error budget (total, consumed, remaining),
    burn rate per alert window with the alert's state, and time to exhaustion."""
    with container.uow() as uow:
        results, _ = slos.live(uow, principal.org_id, container.clock.now())
    return [slos.slo_json(result) for result in results]


@router.get("/slos/{slo_id}", tags=["slos"])
def get_slo(slo_id: SloId, principal: OrgReader, container: ContainerDep) -> dict[str, Any]:
    """One SLO, live (as in the list)."""
    with container.uow() as uow:
        (result,), _ = slos.live(uow, principal.org_id, container.clock.now(), only=slo_id)
    return slos.slo_json(result)


@router.get("/slos/{slo_id}/series", tags=["slos"])
def slo_series(
    slo_id: SloId,
    principal: OrgReader,
    container: ContainerDep,
    start: Annotated[AwareDatetime, Query(alias="from", description="Start (RFC 3339).")],
    end: Annotated[AwareDatetime | None, Query(alias="to", description="End; default now.")] = None,
    step: Annotated[Duration, Query(description="Step, whole minutes (e.g. `5m`, `1h`).")] = (
        timedelta(hours=1)
    ),
) -> dict[str, Any]:
    """Good, bad and total per step over `[from, to)` for charts."""
    with container.uow() as uow:
        return slos.series(uow, principal.org_id, slo_id, start, end or container.clock.now(), step)


@router.get("/alerts", tags=["slos"])
def list_alerts(principal: OrgReader, container: ContainerDep) -> list[dict[str, Any]]:
    """The burn-rate alert states kept by the evaluator (ok, warning, firing, resolved)."""
    with container.uow() as uow:
        return slos.alerts_json(uow, principal.org_id)
