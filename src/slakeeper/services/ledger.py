"""The credit ledger: every transition of every credit, append-only and hash-chained.

Each entry's hash covers its fields and the previous entry's hash; the organisation's head
(last sequence number and hash) is stored apart, so an edited, removed, reordered or truncated
entry is found by :func:`verify_chain`. The export is what a customer or an auditor re-computes
from (seed 001: "export the raw billing ledger at any time").
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import Credit, LedgerEntry, iso

KINDS = ("eligible", "claimed", "approved", "rejected", "applied", "voided")
EXPORT_FIELDS = (
    "seq", "at", "customer", "period", "credit", "kind", "amount", "currency", "actor",
    "details", "prev_hash", "hash",
)  # fmt: skip


def entry_hash(entry: LedgerEntry) -> str:
    body = {
        "seq": entry.seq,
        "at": iso(entry.at),
        "customer": entry.customer_id,
        "period": entry.period,
        "credit": entry.credit_id,
        "kind": entry.kind,
        "amount": format(entry.amount, "f"),
        "currency": entry.currency,
        "details": entry.details,
        "actor": entry.actor,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(
    uow: UnitOfWork,
    credit: Credit,
    kind: str,
    *,
    actor: str,
    at: datetime,
    details: dict[str, Any] | None = None,
    amount: Decimal | None = None,
) -> LedgerEntry:
    """Append one transition of ``credit`` inside the caller's transaction."""
    assert kind in KINDS, kind
    seq, head = uow.closes.ledger_head(credit.org_id)
    entry = LedgerEntry(
        org_id=credit.org_id,
        seq=seq + 1,
        at=at,
        customer_id=credit.customer_id,
        period=credit.period,
        credit_id=credit.id,
        kind=kind,
        amount=credit.amount if amount is None else amount,
        currency=credit.currency,
        details=json.dumps(details or {}, sort_keys=True, separators=(",", ":")),
        actor=actor,
        prev_hash=head,
        hash="",
    )
    sealed = LedgerEntry(**{**entry.__dict__, "hash": entry_hash(entry)})
    uow.closes.append_ledger(sealed)
    return sealed


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    message: str


def verify_chain(entries: Sequence[LedgerEntry], head: tuple[int, str]) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    previous = ""
    for expected, entry in enumerate(entries, start=1):
        if entry.seq != expected:
            problems.append(ChainProblem(entry.seq, f"expected entry {expected} here"))
        if entry.prev_hash != previous:
            problems.append(ChainProblem(entry.seq, "does not follow the entry before it"))
        if entry_hash(entry) != entry.hash:
            problems.append(ChainProblem(entry.seq, "was changed after it was written"))
        previous = entry.hash
    last_seq = entries[-1].seq if entries else 0
    if (last_seq, previous) != head:
        problems.append(
            ChainProblem(last_seq, f"the ledger ends at {last_seq} but its head is {head[0]}")
        )
    return problems


def rows(
    entries: Iterable[LedgerEntry], customer: str | None = None, period: str | None = None
) -> list[dict[str, str]]:
    return [
        {
            "seq": str(e.seq),
            "at": iso(e.at) or "",
            "customer": e.customer_id,
            "period": e.period,
            "credit": e.credit_id,
            "kind": e.kind,
            "amount": format(e.amount, "f"),
            "currency": e.currency,
            "actor": e.actor,
            "details": e.details,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in entries
        if customer in (None, e.customer_id) and period in (None, e.period)
    ]


def to_csv(found: Sequence[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(found)
    return out.getvalue()
