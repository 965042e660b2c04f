"""Period close over HTTP: closes, reports (JSON, HTML, PDF), credits through their lifecycle,
the ledger export, and data-loss events."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi import Path as PathParam
from pydantic import AwareDatetime, Field
from starlette.concurrency import run_in_threadpool

from slakeeper.api.deps import Admin, ContainerDep, OrgReader, Reader, Writer, authenticated
from slakeeper.api.routes.common import RecordId
from slakeeper.api.schemas import Slug, Strict, Text
from slakeeper.services import close, ledger
from slakeeper.services.errors import NotFound
from slakeeper.services.records import Principal, Scope

router = APIRouter(tags=["close"])

Period = Annotated[str, PathParam(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
PeriodQuery = Annotated[
    str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
]
CreditId = Annotated[str, PathParam(max_length=120, description="The credit's id.")]
CustomerId = Annotated[str, PathParam(max_length=64, description="The customer's id.")]


def _claimer(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
    """The customer's own read key, or an operator's write key (claiming for the customer)."""
    if principal.customer_id is not None and principal.allows(Scope.READ):
        return principal
    if principal.customer_id is None and principal.allows(Scope.WRITE):
        return principal
    raise HTTPException(403, "claim with the customer's own key or a key with the write scope")


Claimer = Annotated[Principal, Depends(_claimer)]


class CloseRequest(Strict):
    period: Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]
    reason: Text | None = Field(None, description="Needed to close a closed period again.")


class ClaimRequest(Strict):
    window_start: AwareDatetime = Field(description="Start of the affected time window.")
    window_end: AwareDatetime = Field(description="End of the affected time window.")
    note: Annotated[str, Field(max_length=2000)] = ""


class DecisionRequest(Strict):
    approve: bool
    reason: Text


class ApplyRequest(Strict):
    invoice: Text = Field(description="The invoice the credit is applied to.")


class DataLossRequest(Strict):
    id: RecordId
    customer: Slug
    at: AwareDatetime
    description: Annotated[str, Field(min_length=1, max_length=2000)]


@router.post("/closes", status_code=201)
def close_period(body: CloseRequest, principal: Admin, container: ContainerDep) -> dict[str, Any]:
    """Close the period for every customer (a closed one only again, with a reason, as a new
    revision): reports and credits recorded, each credit's first move in the ledger."""
    with container.uow() as uow:
        org = uow.organisations.get(principal.org_id)
        assert org is not None
        result = close.close_period(
            uow, org, body.period, container.clock.now(), actor=principal.actor,
            reason=body.reason,
        )  # fmt: skip
        uow.commit()
    return result.as_json()


@router.get("/closes")
def list_closes(principal: OrgReader, container: ContainerDep) -> list[dict[str, Any]]:
    """Every close and re-close, oldest first."""
    with container.uow() as uow:
        found = uow.closes.closes(principal.org_id)
    return [
        {"period": c.period, "revision": c.revision, "closed_at": c.closed_at.isoformat(),
         "policy_version": c.policy_version, "policy_sha256": c.policy_sha256,
         "customers": c.customers, "actor": c.actor, "reason": c.reason}
        for c in found
    ]  # fmt: skip


@router.get(
    "/reports/{customer_id}/{period}",
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
async def get_report(
    customer_id: CustomerId,
    period: Period,
    principal: Reader,
    container: ContainerDep,
    format: Annotated[Literal["json", "html", "pdf"], Query(description="The format.")] = "json",
    revision: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> Response:
    """A customer's report of a closed period (a customer key: its own only)."""
    if principal.customer_id not in (None, customer_id):
        raise NotFound(f"no report of {customer_id} for {period}")
    with container.uow() as uow:
        stored = uow.closes.report(principal.org_id, period, customer_id, revision)
    if stored is None:
        raise NotFound(
            f"no report of {customer_id} for {period}: the period is not closed "
            f"(GET /api/v1/customers/{customer_id}/sla shows it so far)"
        )
    if format == "json":
        return Response(stored.document, media_type="application/json")
    from slakeeper.services.report_render import render_report

    document = json.loads(stored.document)
    data = await run_in_threadpool(render_report, document, format)
    media = "application/pdf" if format == "pdf" else "text/html; charset=utf-8"
    headers = {"ETag": f'"{stored.sha256}"'}
    if format == "pdf":
        headers["Content-Disposition"] = (
            f'attachment; filename="sla-{customer_id}-{period}-r{stored.revision}.pdf"'
        )
    return Response(data, media_type=media, headers=headers)


@router.get("/credits")
def list_credits(
    principal: Reader,
    container: ContainerDep,
    period: PeriodQuery = None,
) -> list[dict[str, Any]]:
    """Credits (a customer key: its own), voided ones included."""
    with container.uow() as uow:
        found = uow.closes.credits(principal.org_id, period, principal.customer_id)
    return [close.credit_json(c) for c in found]


@router.post("/credits/{credit_id}/claim")
def claim_credit(
    credit_id: CreditId, body: ClaimRequest, principal: Claimer, container: ContainerDep
) -> dict[str, Any]:
    """Claim an eligible credit inside the claim window, citing the affected time window."""
    with container.uow() as uow:
        credit = close.claim(
            uow, principal, credit_id, start=body.window_start, end=body.window_end,
            note=body.note, now=container.clock.now(),
        )  # fmt: skip
        uow.commit()
    return close.credit_json(credit)


@router.post("/credits/{credit_id}/decision")
def decide_credit(
    credit_id: CreditId, body: DecisionRequest, principal: Writer, container: ContainerDep
) -> dict[str, Any]:
    """Approve or reject a claimed credit, with the reason."""
    with container.uow() as uow:
        credit = close.decide(
            uow, principal, credit_id, approve=body.approve, reason=body.reason,
            now=container.clock.now(),
        )  # fmt: skip
        uow.commit()
    return close.credit_json(credit)


@router.post("/credits/{credit_id}/apply")
def apply_credit(
    credit_id: CreditId, body: ApplyRequest, principal: Writer, container: ContainerDep
) -> dict[str, Any]:
    """Apply an approved credit to a named invoice."""
    with container.uow() as uow:
        credit = close.apply(uow, principal, credit_id, invoice=body.invoice,
                             now=container.clock.now())  # fmt: skip
        uow.commit()
    return close.credit_json(credit)


@router.get("/ledger/export", responses={200: {"content": {"text/csv": {}}}})
def export_ledger(
    principal: Reader,
    container: ContainerDep,
    format: Annotated[Literal["csv", "json"], Query(description="The format.")] = "json",
    customer: Annotated[str | None, Query(max_length=64)] = None,
    period: PeriodQuery = None,
) -> Response:
    """Every credit transition with its hash chain (a customer key: its own customer)."""
    if principal.customer_id is not None:
        if customer not in (None, principal.customer_id):
            raise NotFound(f"no customer {customer}")
        customer = principal.customer_id
    with container.uow() as uow:
        rows = ledger.rows(uow.closes.ledger(principal.org_id), customer, period)
    if format == "csv":
        return Response(ledger.to_csv(rows), media_type="text/csv; charset=utf-8")
    return Response(json.dumps(rows), media_type="application/json")


@router.post("/data-loss", status_code=201)
def record_data_loss(
    body: DataLossRequest, principal: Writer, container: ContainerDep
) -> dict[str, Any]:
    """Record a confirmed loss of a customer's data (its own credit at close)."""
    with container.uow() as uow:
        event = close.record_data_loss(
            uow, principal, event_id=body.id, customer_id=body.customer, at=body.at,
            description=body.description, now=container.clock.now(),
        )  # fmt: skip
        uow.commit()
    return {"id": event.id, "customer": event.customer_id, "at": event.at.isoformat(),
            "description": event.description}  # fmt: skip
