"""Components of the active policy, and the audit log."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query

from slakeeper.api.deps import Admin, ContainerDep, OrgReader, Reader
from slakeeper.api.routes.common import Cursor, Limit, after_int
from slakeeper.api.schemas import AuditEntryPublic, ComponentPublic, Page, encode_cursor
from slakeeper.services import components
from slakeeper.services.records import iso

router = APIRouter(tags=["components", "audit"])


@router.get("/components", response_model=list[ComponentPublic])
def list_components(principal: Reader, container: ContainerDep) -> list[ComponentPublic]:
    """Components as the active policy declares them, with their current status."""
    with container.uow() as uow:
        found = components.listing(uow, principal, container.clock.now())
    return [ComponentPublic.model_validate(item) for item in found]


@router.get("/audit", response_model=Page[AuditEntryPublic])
def list_audit(
    principal: OrgReader, container: ContainerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[AuditEntryPublic]:
    """The audit log, oldest first: actor, time, before and after of every change."""
    with container.uow() as uow:
        entries = list(uow.audit.list(principal.org_id, after_int(cursor), limit + 1))
    more = len(entries) > limit
    entries = entries[:limit]
    return Page[AuditEntryPublic](
        items=[
            AuditEntryPublic(
                seq=entry.seq,
                at=iso(entry.at) or "",
                actor=entry.actor,
                action=entry.action,
                entity_type=entry.entity_type,
                entity_id=entry.entity_id,
                before=json.loads(entry.before) if entry.before else None,
                after=json.loads(entry.after) if entry.after else None,
                prev_hash=entry.prev_hash,
                hash=entry.hash,
            )
            for entry in entries
        ],
        next_cursor=encode_cursor(str(entries[-1].seq)) if more and entries else None,
    )


@router.get("/outbox", tags=["notifications"])
def list_outbox(
    principal: Admin,
    container: ContainerDep,
    state: Annotated[
        str | None,
        Query(pattern="^(pending|delivered|dead)$", description="pending, delivered or dead."),
    ] = None,
) -> dict[str, Any]:
    """Notifications and their delivery: attempts, last error, and the dead letters (given up
    after repeated failures)."""
    with container.uow() as uow:
        messages = uow.outbox.list(principal.org_id)
    return {
        "items": [
            {
                "dedupe_key": m.dedupe_key,
                "topic": m.topic,
                "state": m.state,
                "attempts": m.attempts,
                "created_at": iso(m.created_at),
                "next_attempt_at": None if m.state != "pending" else iso(m.next_attempt_at),
                "delivered_at": iso(m.delivered_at),
                "dead_at": iso(m.dead_at),
                "last_error": m.last_error,
                "payload": json.loads(m.payload),
            }
            for m in messages
            if state is None or m.state == state
        ]
    }
