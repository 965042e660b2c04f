"""Components of the active policy, and the audit log."""

from __future__ import annotations

import json

from fastapi import APIRouter

from slakeeper.api.deps import ContainerDep, OrgReader, Reader
from slakeeper.api.routes.common import Cursor, Limit, after_int
from slakeeper.api.schemas import AuditEntryPublic, ComponentPublic, Page, encode_cursor
from slakeeper.services import components
from slakeeper.services.records import iso

router = APIRouter(tags=["components", "audit"])


@router.get("/components", response_model=list[ComponentPublic])
def list_components(principal: Reader, container: ContainerDep) -> list[ComponentPublic]:
    """Components as the active policy declares them, with their current status."""
    with container.uow() as uow:
        found = components.listing(uow, principal)
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
