"""Each customer's SLA for a period, from what the server knows.

Downtime is what the measurements show by each plan's down rule (``services.measured``), what
incidents declared as ``major-outage`` on a component (DOMAIN.md section 2: for when no
measurement covers it) and maintenance windows (the announced window, excluded when
its notice met the policy's rule; an overrun past the announced end is downtime). Exclusion
records on incidents apply with the incident as their reason. An incident that names customers
counts only for them. The numbers come from the same code as ``slakeeper evaluate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slakeeper.domain.periods import parse_period
from slakeeper.policy.overrides import apply_overrides, overrides_from_mapping
from slakeeper.services import policy_versions
from slakeeper.services.errors import Invalid, NotFound
from slakeeper.services.evaluate import Evaluation, as_json, evaluate_customer
from slakeeper.services.facts import (
    CustomerFact,
    DataLossFact,
    DowntimeFact,
    ExclusionFact,
    Facts,
    MaintenanceFact,
)
from slakeeper.services.measured import ComponentMeasurement, downtime_facts, measure_plan
from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import (
    Customer,
    Incident,
    IncidentUpdate,
    PolicyVersion,
    Principal,
    ProbeBucket,
    RequestBucket,
)
from slakeeper.services.status_page import impact_spans


@dataclass
class SlaReport:
    evaluation: Evaluation
    measurements: dict[str, list[ComponentMeasurement]] = field(default_factory=dict)


def period_report(
    uow: UnitOfWork,
    principal: Principal,
    period_label: str,
    now: datetime,
    customer_id: str | None = None,
) -> Evaluation:
    return sla_report(uow, principal, period_label, now, customer_id).evaluation


def customer_sla(
    uow: UnitOfWork, principal: Principal, customer_id: str, period_label: str, now: datetime
) -> dict[str, object]:
    """One customer's SLA for the period so far: the document ``slakeeper evaluate`` prints,
    for this customer, plus ``measurement``: per component, measured downtime and no-data."""
    report = sla_report(uow, principal, period_label, now, customer_id)
    document = as_json(report.evaluation)
    document["measurement"] = {m.component: m.as_json() for m in report.measurements[customer_id]}
    return document


def sla_report(
    uow: UnitOfWork,
    principal: Principal,
    period_label: str,
    now: datetime,
    customer_id: str | None = None,
    version: PolicyVersion | None = None,
) -> SlaReport:
    """Each customer's SLA for the period as of ``now``, under the active policy (or the stored
    ``version`` given, as period close and ``ledger verify`` do)."""
    if customer_id is not None and principal.customer_id not in (None, customer_id):
        raise NotFound(f"no customer {customer_id}")
    customers = [
        c
        for c in uow.customers.list(principal.org_id, None, 10_000_000)
        if principal.customer_id in (None, c.id) and customer_id in (None, c.id)
    ]
    if customer_id is not None and not customers:
        raise NotFound(f"no customer {customer_id}")
    if version is None:
        found = policy_versions.active(uow, principal.org_id)
        if found is None:
            raise Invalid("this organisation has no active policy: upload one first")
        version, loaded = found
    else:
        loaded = policy_versions.parse(version)
    losses = uow.closes.data_loss(principal.org_id)
    utc = parse_period(period_label, "UTC")
    start, end = utc.start - timedelta(days=1), min(utc.end + timedelta(days=1), now)
    measured: dict[str, list[ComponentMeasurement]] = {}
    measurements: dict[str, list[ComponentMeasurement]] = {}
    rows: tuple[Sequence[RequestBucket], Sequence[ProbeBucket]] | None = None
    incidents = list(uow.incidents.list(principal.org_id, None, 10_000_000))
    updates = {i.id: uow.incidents.updates(principal.org_id, i.id) for i in incidents}
    maintenance = [
        MaintenanceFact(
            components=list(w.components),
            start=w.starts_at,
            end=w.ends_at,
            announced_at=w.announced_at,
            reason=f"maintenance {w.id}: {w.title}",
        )
        for w in uow.maintenance.list(principal.org_id)
    ]
    overruns = [
        DowntimeFact(
            component=component,
            start=w.ends_at,
            end=w.completed_at or now,
            reason=f"maintenance {w.id} overran",
        )
        for w in uow.maintenance.list(principal.org_id)
        if (w.completed_at or now) > w.ends_at and w.starts_at <= now
        for component in w.components
    ]
    windows = [
        DowntimeFact(
            component=component,
            start=w.starts_at,
            end=min(w.ends_at, now),
            reason=f"maintenance {w.id}",
        )
        for w in uow.maintenance.list(principal.org_id)
        if w.starts_at < now
        for component in w.components
    ]
    results = []
    for customer in customers:
        mine = [i for i in incidents if not i.customers or customer.id in i.customers]
        policy = loaded.policy
        if customer.overrides:
            overrides = overrides_from_mapping(
                customer.overrides, policy, customer.plan, customer.name, "overrides"
            )
            policy = apply_overrides(policy, customer.plan, overrides)
        plan = policy.plan(customer.plan)
        rule_key = plan.uptime.model_dump_json()
        if rule_key not in measured:
            if rows is None:  # read once, whatever the number of plans
                rows = (
                    uow.measurements.requests(principal.org_id, start, end),
                    uow.measurements.probes(principal.org_id, start, end),
                )
            measured[rule_key] = measure_plan(policy, plan, start, end, *rows)
        measurements[customer.id] = measured[rule_key]
        facts = Facts(
            customers=[_fact(customer)],
            downtime=[
                *downtime_facts(measured[rule_key]),
                *_downtime(mine, updates, now),
                *windows,
                *overruns,
            ],
            maintenance=maintenance,
            exclusions=[e for i in mine for e in _exclusions(i)],
            data_loss=[
                DataLossFact(customer=loss.customer_id, at=loss.at, reason=loss.description)
                for loss in losses
                if loss.customer_id == customer.id
            ],
        )
        results.append(evaluate_customer(policy, facts, facts.customers[0], period_label))
    del version
    evaluation = Evaluation(
        period_label, loaded.policy.metadata.name, loaded.sha256, tuple(results)
    )
    return SlaReport(evaluation, measurements)


def _fact(customer: Customer) -> CustomerFact:
    return CustomerFact(
        id=customer.id, plan=customer.plan, monthly_fee=customer.monthly_fee,
        annual_fee=customer.annual_fee, currency=customer.currency, timezone=customer.timezone,
        start=customer.contract_start, end=customer.contract_end,
    )  # fmt: skip


def _downtime(
    incidents: list[Incident], updates: Mapping[str, Sequence[IncidentUpdate]], now: datetime
) -> list[DowntimeFact]:
    facts: list[DowntimeFact] = []
    for incident in incidents:
        for span in impact_spans(incident.id, incident.title, updates[incident.id], now):
            if span.impact != "major-outage":
                continue
            facts += [
                DowntimeFact(
                    component=span.component,
                    start=i.start,
                    end=i.end,
                    reason=f"incident {incident.id}",
                )
                for i in span.spans
            ]
    return facts


def _exclusions(incident: Incident) -> list[ExclusionFact]:
    return [
        ExclusionFact.model_validate(
            {
                "category": record["category"],
                "components": record["components"] or None,
                "customer": record["customer"],
                "start": record["start"],
                "end": record["end"],
                "reason": record["reason"],
            }
        )
        for record in incident.exclusions
    ]
