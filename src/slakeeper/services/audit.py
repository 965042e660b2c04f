"""The append-only, hash-chained audit log.

Each entry's hash is the SHA-256 of the previous entry's hash and the entry's canonical JSON;
the organisation row keeps the head (last sequence number and hash), updated in the same
transaction. Editing, removing or reordering any entry, the last one included, breaks the chain
and :func:`verify` says where.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import AuditEntry, Principal


def canonical(value: Any) -> str | None:
    """Stable JSON for a before/after snapshot (sorted keys, no spaces)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = prev_hash + "\n" + json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "org_id": entry.org_id,
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "before": entry.before,
        "after": entry.after,
    }


def append(
    uow: UnitOfWork,
    *,
    org_id: str,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
    at: datetime,
) -> AuditEntry:
    """Append an entry inside the caller's transaction (the organisation row is locked)."""
    org = uow.organisations.lock(org_id)
    draft = AuditEntry(
        org_id=org_id,
        seq=org.audit_head_seq + 1,
        at=at,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=canonical(before),
        after=canonical(after),
        prev_hash=org.audit_head_hash,
        hash="",
    )
    entry = AuditEntry(**{**draft.__dict__, "hash": entry_hash(draft.prev_hash, _fields(draft))})
    uow.audit.add(entry)
    uow.organisations.set_audit_head(org_id, entry.seq, entry.hash)
    return entry


def record(
    uow: UnitOfWork,
    principal: Principal,
    action: str,
    entity_type: str,
    entity_id: str,
    before: Any,
    after: Any,
    at: datetime,
) -> AuditEntry:
    return append(
        uow,
        org_id=principal.org_id,
        actor=principal.actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        at=at,
    )


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str


def verify(entries: Sequence[AuditEntry], head_seq: int, head_hash: str) -> list[ChainProblem]:
    """Every break in the chain: a gap, an edited entry, a broken link, a moved head."""
    problems: list[ChainProblem] = []
    previous_hash = ""
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            problems.append(
                ChainProblem(entry.seq, f"entry {expected_seq} is missing (next is {entry.seq})")
            )
        if entry.prev_hash != previous_hash:
            problems.append(ChainProblem(entry.seq, "does not link to the entry before it"))
        if entry_hash(entry.prev_hash, _fields(entry)) != entry.hash:
            problems.append(ChainProblem(entry.seq, "was edited after it was written"))
        previous_hash = entry.hash
        expected_seq = entry.seq + 1
    last_seq = entries[-1].seq if entries else 0
    if last_seq != head_seq or previous_hash != head_hash:
        problems.append(
            ChainProblem(
                head_seq,
                f"the log ends at entry {last_seq} but the head says {head_seq}: "
                "entries were removed or the head was moved",
            )
        )
    return problems
