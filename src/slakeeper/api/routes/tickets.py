"""Support requests: open, add events, read their clocks, import past ones; the SLA review."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from pydantic import AwareDatetime, Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from slakeeper.api.deps import ContainerDep, OrgReader, Reader, Writer
from slakeeper.api.routes.common import Cursor, Limit, RecordId, after, known
from slakeeper.api.schemas import Slug, Strict, Text, encode_cursor
from slakeeper.policy.types import Duration
from slakeeper.services import tickets
from slakeeper.services.errors import Invalid
from slakeeper.services.support_review import review_json

router = APIRouter(tags=["support"])

TicketId = Annotated[str, PathParam(max_length=64, description="The request's id.")]
MAX_CSV_BYTES = 20_000_000


class TicketCreate(Strict):
    id: RecordId
    customer: Slug
    severity: Text = Field(description="Severity id, name or alias of the active policy.")
    type: Slug = Field("incident", description="Request type (covered or enhancement).")
    subject: Text = "support request"
    opened_at: AwareDatetime | None = Field(None, description="Default: now.")
    effort: Duration | None = Field(
        None,
        description="Estimated effort (e.g. `6h`): past the policy's threshold the "
        "request is a change order.",
    )


class TicketEventCreate(Strict):
    kind: Annotated[
        str,
        StringConstraints(
            pattern=r"^(responded|customer-replied|status-changed|resolved|reopened|severity-changed)$"
        ),
    ]
    at: AwareDatetime | None = Field(None, description="Default: now.")
    status: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")] | None = None
    severity: Text | None = None


@router.post("/tickets", status_code=201)
def open_ticket(body: TicketCreate, principal: Writer, container: ContainerDep) -> dict[str, Any]:
    """Open a support request; its response and resolution clocks start."""
    now = container.clock.now()
    with container.uow() as uow:
        view = tickets.open_ticket(
            uow, principal, ticket_id=body.id, customer_id=body.customer,
            severity=body.severity, request_type=body.type, subject=body.subject,
            opened_at=body.opened_at or now, now=now, effort=body.effort,
        )  # fmt: skip
        uow.commit()
    return tickets.ticket_json(view, with_events=True)


@router.post("/tickets/{ticket_id}/events", status_code=201)
def add_event(
    ticket_id: TicketId, body: TicketEventCreate, principal: Writer, container: ContainerDep
) -> dict[str, Any]:
    """Record what happened: a response, a reply, a status change, a resolution..."""
    now = container.clock.now()
    with container.uow() as uow:
        view = tickets.add_event(
            uow, principal, known(ticket_id, "request"), kind=body.kind, at=body.at or now,
            status=body.status, severity=body.severity, now=now,
        )  # fmt: skip
        uow.commit()
    return tickets.ticket_json(view, with_events=True)


@router.post("/tickets/{ticket_id}/recompute")
def recompute(ticket_id: TicketId, principal: Writer, container: ContainerDep) -> dict[str, Any]:
    """Judge a resolved request again under the active policy."""
    now = container.clock.now()
    with container.uow() as uow:
        view = tickets.recompute(uow, principal, known(ticket_id, "request"), now)
        uow.commit()
    return tickets.ticket_json(view)


@router.get("/tickets/{ticket_id}")
def get_ticket(ticket_id: TicketId, principal: Reader, container: ContainerDep) -> dict[str, Any]:
    """A request with its events and its clocks as they stand now."""
    with container.uow() as uow:
        view = tickets.view(uow, principal, known(ticket_id, "request"), container.clock.now())
    return tickets.ticket_json(view, with_events=True)


@router.get("/tickets")
def list_tickets(
    principal: Reader, container: ContainerDep, limit: Limit = 50, cursor: Cursor = None
) -> dict[str, Any]:
    """Requests by id with their clocks (a customer key sees its own)."""
    with container.uow() as uow:
        page = tickets.listing(uow, principal, after(cursor), limit, container.clock.now())
    return {
        "items": [tickets.ticket_json(view) for view in page.items],
        "next_cursor": encode_cursor(page.next_cursor),
    }


@router.post(
    "/tickets/import",
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def import_tickets(
    request: Request,
    principal: Writer,
    container: ContainerDep,
    dry_run: Annotated[bool, Query(description="Only report what cannot be read.")] = False,
) -> dict[str, Any]:
    """Import past requests from CSV (columns in docs/support.md). If any row cannot be read,
    nothing is stored and the 422 problem lists every such row; ``dry_run`` only checks."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("text/csv", "text/plain"):
        raise HTTPException(415, f"send the requests as text/csv, not '{media or 'none'}'")
    raw = await request.body()
    if len(raw) > MAX_CSV_BYTES:
        raise HTTPException(413, "an import is at most 20 MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(400, "the CSV must be UTF-8 text") from None

    def store() -> dict[str, Any]:
        now = container.clock.now()
        with container.uow() as uow:
            result = tickets.import_csv(uow, principal, text, dry_run=dry_run, now=now)
            if result.problems:
                raise Invalid(
                    f"{len(result.problems)} row problem(s): nothing was stored",
                    [
                        {"row": p.row_number, "field": p.column, "message": p.message}
                        for p in result.problems
                    ],
                )
            if not dry_run:
                uow.commit()
        return {
            "dry_run": dry_run,
            "stored": 0 if dry_run else len(result.rows),
            "rows": len(result.rows),
        }

    return await run_in_threadpool(store)


@router.get("/reports/support-review")
def support_review(
    principal: OrgReader,
    container: ContainerDep,
    start: Annotated[AwareDatetime, Query(alias="from", description="Period start.")],
    end: Annotated[AwareDatetime, Query(alias="to", description="Period end (exclusive).")],
) -> dict[str, Any]:
    """The SLA review: requests by type and severity, attainment, median and p90 against the
    targets, the share of enhancements, time paused, and plain findings."""
    if end <= start:
        raise HTTPException(400, "'to' must be after 'from'")
    with container.uow() as uow:
        result = tickets.support_review(uow, principal, start, end, container.clock.now())
    return review_json(result)
