"""Period close: each customer's report and credit, recorded for good (DOMAIN.md section 5).

Closing a period evaluates every customer with the same code as ``slakeeper evaluate`` under the
active policy version, and writes, in one transaction, a close revision, one report per
customer (its JSON and hash) and the credits owed, each credit's first transition in the
hash-chained ledger. A closed period is never edited: closing it again (after a late exclusion
or a corrected measurement) adds a revision; a credit whose amount changed is voided and
replaced, both moves in the ledger with the difference.

Credits then move through their lifecycle: **eligible** -> **claimed** (inside the claim
window, citing the affected time window, by the customer's own key or by an operator for them)
-> **approved** or **rejected** (with a reason, after verification against the data) ->
**applied** to a named invoice. When the policy needs no claim, the credit is approved at close.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from slakeeper.domain.intervals import require_aware
from slakeeper.domain.periods import parse_period
from slakeeper.domain.slo import Point
from slakeeper.services import ledger, policy_versions, report_document, slos
from slakeeper.services.errors import ConflictError, Forbidden, Invalid, NotFound
from slakeeper.services.evaluate import CustomerEvaluation
from slakeeper.services.incidents import listing as incident_listing
from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import (
    Credit,
    Customer,
    DataLossEvent,
    Organisation,
    PeriodClose,
    PeriodReport,
    PolicyVersion,
    Principal,
    iso,
)
from slakeeper.services.sla_report import sla_report
from slakeeper.services.tickets import all_views

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CloseResult:
    close: PeriodClose
    credits: list[Credit]
    changed: list[dict[str, str]]  # per customer whose credit differs from the last revision

    def as_json(self) -> dict[str, object]:
        return {
            "period": self.close.period,
            "revision": self.close.revision,
            "closed_at": iso(self.close.closed_at),
            "policy_version": self.close.policy_version,
            "customers": self.close.customers,
            "credits": [credit_json(c) for c in self.credits],
            "changed": self.changed,
        }


def _document_bytes(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _ended(period_label: str, customers: Sequence[Customer], policy_tz: str, now: datetime) -> None:
    for customer in customers:
        period = parse_period(period_label, customer.timezone or policy_tz)
        if period.end > now:
            raise Invalid(
                f"period {period_label} has not ended for customer {customer.id} "
                f"(it ends {iso(period.end)})"
            )


def close_period(
    uow: UnitOfWork,
    org: Organisation,
    period_label: str,
    now: datetime,
    *,
    actor: str,
    reason: str | None = None,
    progress: Progress | None = None,
) -> CloseResult:
    """Close (or re-close, as a new revision) ``period_label`` for every customer."""
    require_aware(now)
    try:
        parse_period(period_label)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    principal = Principal(org_id=org.id, actor=actor, scopes=frozenset(), key_id=None)
    found = policy_versions.active(uow, org.id)
    if found is None:
        raise Invalid("this organisation has no active policy: upload one first")
    version, loaded = found
    customers = list(uow.customers.list(org.id, None, 1_000_000))
    _ended(period_label, customers, loaded.policy.metadata.timezone, now)
    earlier = uow.closes.closes(org.id, period_label)
    revision = (earlier[-1].revision + 1) if earlier else 1
    if revision > 1 and not reason:
        raise Invalid("closing a closed period again needs a reason (it adds a revision)")
    report = sla_report(uow, principal, period_label, now, version=version)
    context = _context(uow, org, version, period_label, revision, now, "closed")
    incidents = incident_listing(uow, principal, now)
    tickets: dict[str, list[Any]] = {}
    for view in all_views(uow, org.id, now):
        tickets.setdefault(view.ticket.customer_id, []).append(view)
    by_id = {c.id: c for c in customers}
    previous = {c.customer_id: c for c in uow.closes.credits(org.id, period_label)
                if c.state != "voided"}  # fmt: skip
    credits: list[Credit] = []
    changed: list[dict[str, str]] = []
    total = len(report.evaluation.customers)
    for index, result in enumerate(report.evaluation.customers, start=1):
        customer = by_id[result.customer.id]
        credit, move = _settle(uow, org, customer, result, previous.get(customer.id),
                               period_label, revision, now, actor)  # fmt: skip
        if credit is not None:
            credits.append(credit)
        if move is not None:
            changed.append(move)
        document = report_document.build(
            context, customer, result, report.measurements[customer.id],
            _mine(incidents, customer.id, result),
            _tickets_of(tickets.get(customer.id, []), customer.id, result),
            credit.state if credit is not None else "none",
        )  # fmt: skip
        text = _document_bytes(document)
        uow.closes.add_report(
            PeriodReport(org.id, period_label, customer.id, revision, text,
                         hashlib.sha256(text.encode()).hexdigest(), now)
        )  # fmt: skip
        if progress is not None:
            progress(index, total)
    close = PeriodClose(
        org_id=org.id, period=period_label, revision=revision, closed_at=now,
        policy_version=version.version, policy_sha256=version.sha256, customers=total,
        actor=actor, reason=reason,
    )  # fmt: skip
    uow.closes.add_close(close)
    return CloseResult(close, credits, changed)


def _mine(incidents: Sequence[Any], customer_id: str, result: CustomerEvaluation) -> list[Any]:
    start, end = result.period.start, result.period.end
    return [
        v for v in incidents
        if (not v.incident.customers or customer_id in v.incident.customers)
        and v.incident.started_at < end and (v.resolved_at is None or v.resolved_at >= start)
    ]  # fmt: skip


def _tickets_of(tickets: Sequence[Any], customer_id: str, result: CustomerEvaluation) -> list[Any]:
    start, end = result.period.start, result.period.end
    return [
        v for v in tickets
        if v.ticket.customer_id == customer_id and v.clocks.response.started_at is not None
        and start <= v.clocks.response.started_at < end
    ]  # fmt: skip


def _context(
    uow: UnitOfWork,
    org: Organisation,
    version: PolicyVersion,
    period_label: str,
    revision: int,
    now: datetime,
    status: str,
) -> report_document.ReportContext:
    loaded = policy_versions.parse(version)
    period = parse_period(period_label, loaded.policy.metadata.timezone)
    at = min(now, period.end)
    live, _ = slos.live(uow, org.id, at)
    days = []
    day_end = period.start
    while day_end < period.end:
        local = day_end.astimezone(period.start.tzinfo)
        following = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0)
        day_end = min(following.astimezone(period.start.tzinfo), period.end)
        days.append(min(day_end, at))
        if day_end >= at:
            break
    burn: dict[str, list[dict[str, str | None]]] = {}
    data = slos.Aggregates(uow, org.id, period.start - timedelta(days=3), at + timedelta(minutes=1))
    for item in live:
        points: list[Point] = slos.points(item.slo, item.spec, data, at)
        burn[item.slo.id] = report_document.burn_down(item, days, points)
    return report_document.ReportContext(
        organisation=org, version=version, loaded=loaded, period_label=period_label,
        revision=revision, generated_at=now, status=status, slos=live, burn_down=burn,
    )  # fmt: skip


def _settle(
    uow: UnitOfWork,
    org: Organisation,
    customer: Customer,
    result: CustomerEvaluation,
    previous: Credit | None,
    period_label: str,
    revision: int,
    now: datetime,
    actor: str,
) -> tuple[Credit | None, dict[str, str] | None]:
    amount = result.credit.amount
    if previous is not None and previous.amount == amount:
        return previous, None
    move = None
    if previous is not None:
        move = {
            "customer": customer.id,
            "before": format(previous.amount, "f"),
            "after": format(amount, "f"),
            "difference": format(amount - previous.amount, "f"),
        }
        voided = replace(previous, state="voided", updated_at=now)
        uow.closes.put_credit(voided)
        ledger.append(uow, voided, "voided", actor=actor, at=now,
                      details={"revision": revision, "replaced_by_revision": revision,
                               "state_before": previous.state})  # fmt: skip
    if amount <= 0:
        return None, move
    claim = result.plan.credits.claim if result.plan.credits is not None else None
    required = claim.required if claim is not None else False
    credit = Credit(
        org_id=org.id, id=f"CR-{period_label}-{customer.id}-r{revision}",
        customer_id=customer.id, period=period_label, revision=revision, amount=amount,
        currency=result.currency, percent=result.credit.percent,
        state="eligible", claim_required=required, claim_deadline=result.claim_deadline,
        created_at=now, updated_at=now,
    )  # fmt: skip
    uow.closes.add_credit(credit)
    details: dict[str, Any] = {"revision": revision, "reason": result.credit.reason,
                               "percent": format(result.credit.percent, "f")}  # fmt: skip
    if move is not None:
        details["difference"] = move["difference"]
        details["replaces"] = previous.id if previous is not None else None
    ledger.append(uow, credit, "eligible", actor=actor, at=now, details=details)
    if not required:
        decision = {"approved": True, "by": actor, "at": iso(now),
                    "reason": "the policy applies credits without a claim"}  # fmt: skip
        credit = replace(credit, state="approved", decision=decision)
        uow.closes.put_credit(credit)
        ledger.append(uow, credit, "approved", actor=actor, at=now,
                      details={"reason": "no claim required by the policy"})  # fmt: skip
    return credit, move


# --------------------------------------------------------------------------- lifecycle
def credit_json(credit: Credit) -> dict[str, object]:
    return {
        "id": credit.id,
        "customer": credit.customer_id,
        "period": credit.period,
        "revision": credit.revision,
        "amount": format(credit.amount, "f"),
        "currency": credit.currency,
        "percent": format(credit.percent, "f"),
        "state": credit.state,
        "claim_required": credit.claim_required,
        "claim_deadline": iso(credit.claim_deadline),
        "claim": credit.claim,
        "decision": credit.decision,
        "invoice": credit.invoice,
        "updated_at": iso(credit.updated_at),
    }


def _credit(uow: UnitOfWork, principal: Principal, credit_id: str) -> Credit:
    credit = uow.closes.credit(principal.org_id, credit_id)
    if credit is None or principal.customer_id not in (None, credit.customer_id):
        raise NotFound(f"no credit {credit_id}")
    return credit


def _move(current: Credit, allowed: tuple[str, ...], action: str) -> None:
    if current.state not in allowed:
        raise ConflictError(
            f"credit {current.id} is {current.state}: it cannot be {action} "
            f"(only when {' or '.join(allowed)})"
        )


def claim(
    uow: UnitOfWork,
    principal: Principal,
    credit_id: str,
    *,
    start: datetime,
    end: datetime,
    note: str,
    now: datetime,
) -> Credit:
    """Claim an eligible credit, citing the affected time window, inside the claim window."""
    current = _credit(uow, principal, credit_id)
    _move(current, ("eligible",), "claimed")
    if end <= start:
        raise Invalid("the affected window must end after it starts")
    if current.claim_deadline is not None and now > current.claim_deadline:
        raise Forbidden(
            f"the claim window closed at {iso(current.claim_deadline)}: the credit is forfeited"
        )
    by = "customer" if principal.customer_id is not None else "operator"
    updated = replace(
        current, state="claimed", updated_at=now,
        claim={"by": by, "actor": principal.actor, "at": iso(now), "window_start": iso(start),
               "window_end": iso(end), "note": note},
    )  # fmt: skip
    uow.closes.put_credit(updated)
    ledger.append(uow, updated, "claimed", actor=principal.actor, at=now,
                  details={"by": by, "window_start": iso(start), "window_end": iso(end),
                           "note": note})  # fmt: skip
    return updated


def decide(
    uow: UnitOfWork,
    principal: Principal,
    credit_id: str,
    *,
    approve: bool,
    reason: str,
    now: datetime,
) -> Credit:
    """Approve or reject a claimed credit after checking it against the data."""
    current = _credit(uow, principal, credit_id)
    _move(current, ("claimed",), "approved" if approve else "rejected")
    if not reason.strip():
        raise Invalid("a decision needs a reason")
    kind = "approved" if approve else "rejected"
    updated = replace(current, state=kind, updated_at=now,
                      decision={"approved": approve, "by": principal.actor, "at": iso(now),
                                "reason": reason})  # fmt: skip
    uow.closes.put_credit(updated)
    ledger.append(uow, updated, kind, actor=principal.actor, at=now, details={"reason": reason})
    return updated


def apply(
    uow: UnitOfWork, principal: Principal, credit_id: str, *, invoice: str, now: datetime
) -> Credit:
    """Apply an approved credit to a named invoice."""
    current = _credit(uow, principal, credit_id)
    _move(current, ("approved",), "applied")
    if not invoice.strip():
        raise Invalid("name the invoice the credit is applied to")
    updated = replace(current, state="applied", invoice=invoice, updated_at=now)
    uow.closes.put_credit(updated)
    ledger.append(uow, updated, "applied", actor=principal.actor, at=now,
                  details={"invoice": invoice})  # fmt: skip
    return updated


def record_data_loss(
    uow: UnitOfWork,
    principal: Principal,
    *,
    event_id: str,
    customer_id: str,
    at: datetime,
    description: str,
    now: datetime,
) -> DataLossEvent:
    if uow.customers.get(principal.org_id, customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    event = DataLossEvent(principal.org_id, event_id, customer_id, require_aware(at),
                          description, now)  # fmt: skip
    uow.closes.add_data_loss(event)
    return event


# --------------------------------------------------------------------------- verify
@dataclass(frozen=True)
class Difference:
    period: str
    customer: str
    recorded: Decimal
    recomputed: Decimal
    currency: str


def recompute_differences(uow: UnitOfWork, org: Organisation) -> list[Difference]:
    """Re-compute every closed period's credits from the stored measurements and the policy
    version each close used (as of its close), and list each one that differs to the cent."""
    principal = Principal(org_id=org.id, actor="verify", scopes=frozenset(), key_id=None)
    latest: dict[str, PeriodClose] = {}
    for close in uow.closes.closes(org.id):
        latest[close.period] = close
    differences: list[Difference] = []
    for period, close in sorted(latest.items()):
        version = uow.policies.get(org.id, close.policy_version)
        if version is None:
            raise Invalid(f"policy version {close.policy_version} of {period} is missing")
        report = sla_report(uow, principal, period, close.closed_at, version=version)
        recorded = {c.customer_id: c for c in uow.closes.credits(org.id, period)
                    if c.state != "voided"}  # fmt: skip
        for result in report.evaluation.customers:
            found = recorded.get(result.customer.id)
            amount = found.amount if found is not None else Decimal(0)
            if amount.quantize(Decimal("0.01")) != result.credit.amount.quantize(Decimal("0.01")):
                differences.append(
                    Difference(period, result.customer.id, amount, result.credit.amount,
                               result.currency)
                )  # fmt: skip
    return differences
