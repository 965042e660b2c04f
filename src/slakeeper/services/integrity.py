"""The integrity check: the ingest ledger reconciles exactly with the stored aggregates.

Every accepted batch records what it added (requests by class, latencies, customer errors,
probe results, samples, checks, reconciliations). Summed over the ledger, those counts must
equal the sums over the aggregates, to the unit: a difference means data was lost or counted
twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from slakeeper.services.ingest import COUNT_NAMES, add_request_counts
from slakeeper.services.ports import UnitOfWork

_ALL_TIME = (datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))


@dataclass(frozen=True)
class IntegrityLine:
    name: str
    ledger: int
    stored: int

    @property
    def difference(self) -> int:
        return self.stored - self.ledger


@dataclass(frozen=True)
class IntegrityReport:
    batches: int
    lines: tuple[IntegrityLine, ...]

    @property
    def ok(self) -> bool:
        return all(line.difference == 0 for line in self.lines)

    def as_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "batches": self.batches,
            "lines": [
                {"name": x.name, "ledger": x.ledger, "stored": x.stored,
                 "difference": x.difference}
                for x in self.lines
            ],
        }  # fmt: skip


def check(uow: UnitOfWork, org_id: str) -> IntegrityReport:
    ledger = dict.fromkeys(COUNT_NAMES, 0)
    batches = uow.measurements.batches(org_id)
    for batch in batches:
        for name in COUNT_NAMES:
            ledger[name] += batch.counts.get(name, 0)
    stored = dict.fromkeys(COUNT_NAMES, 0)
    store = uow.measurements
    add_request_counts(stored, store.requests(org_id, *_ALL_TIME))
    stored["customer_errors"] = sum(r.errors for r in store.customer_errors(org_id, *_ALL_TIME))
    probes = store.probes(org_id, *_ALL_TIME)
    stored["probes"] = sum(p.total for p in probes)
    stored["probe_failures"] = sum(p.failed for p in probes)
    stored["samples"] = sum(s.total for s in store.samples(org_id, *_ALL_TIME))
    stored["checks"] = len(store.checks(org_id))
    stored["reconciliations"] = len(store.reconciliations(org_id))
    lines = tuple(IntegrityLine(name, ledger[name], stored[name]) for name in COUNT_NAMES)
    return IntegrityReport(len(batches), lines)
