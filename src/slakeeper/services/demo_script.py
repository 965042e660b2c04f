"""A generated month, as a script: what happens to one organisation, and the facts it makes.

A :class:`MonthScript` is everything that happens to one organisation in one month, known by
construction: its customers, when requests failed (per component and region), maintenance
windows and when they were announced, incidents with their timelines and exclusions, support
requests with their events, and data-loss events. ``demo_load`` plays it into a store through
the services, as an operator and a monitored service would have.

:func:`facts_files` writes, from the script alone and never from a store, the facts
``slakeeper evaluate`` reads for the same month: what failed is known, so the downtime is
written down directly. That is what makes ``evaluate`` an independent check of a close.

The facts format has no per-customer downtime, so the customers an incident names (it counts
only for them) are evaluated from a facts file of their own: one file per distinct set of such
incidents, plus one for everybody else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from slakeeper.policy.models import Policy
from slakeeper.services.records import iso

#: How long after an incident resolves its exclusions are recorded, and after a data loss the
#: loss is.
EXCLUDED_AFTER = timedelta(hours=1)
RECORDED_AFTER = timedelta(minutes=30)


@dataclass(frozen=True)
class DemoCustomer:
    id: str
    name: str
    plan: str
    currency: str
    timezone: str
    monthly_fee: Decimal | None = None
    annual_fee: Decimal | None = None
    contract_start: datetime | None = None
    contract_end: datetime | None = None


@dataclass(frozen=True)
class Outage:
    """Requests to ``component`` failed in ``[start, end)`` from ``regions`` (empty: every
    region), ``error_percent`` of them with a 5xx. ``start`` and ``end`` are whole minutes."""

    component: str
    start: datetime
    end: datetime
    regions: tuple[str, ...] = ()
    error_percent: int = 80
    reason: str = "requests failed"


@dataclass(frozen=True)
class Step:
    """One update of an incident's timeline (the first one declares it)."""

    at: datetime
    status: str
    message: str
    components: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExclusionSpec:
    category: str
    start: datetime
    end: datetime
    reason: str
    components: tuple[str, ...] = ()
    customer: str | None = None


@dataclass(frozen=True)
class IncidentSpec:
    """An incident; ``down`` is what it declares as a major outage, per component."""

    id: str
    title: str
    severity: str
    steps: tuple[Step, ...]
    down: tuple[tuple[str, datetime, datetime], ...] = ()
    customers: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    exclusions: tuple[ExclusionSpec, ...] = ()
    postmortem_at: datetime | None = None
    postmortem: str | None = None

    @property
    def resolved_at(self) -> datetime:
        return self.steps[-1].at


@dataclass(frozen=True)
class MaintenanceSpec:
    id: str
    title: str
    components: tuple[str, ...]
    start: datetime
    end: datetime
    announced_at: datetime
    completed_at: datetime

    @property
    def down_until(self) -> datetime:
        """The announced window is down time; so is any overrun past it."""
        return max(self.end, self.completed_at)


@dataclass(frozen=True)
class TicketEventSpec:
    kind: str
    at: datetime
    status: str | None = None
    severity: str | None = None


@dataclass(frozen=True)
class TicketSpec:
    id: str
    customer: str
    severity: str
    request_type: str
    subject: str
    opened_at: datetime
    events: tuple[TicketEventSpec, ...] = ()
    effort: timedelta | None = None


@dataclass(frozen=True)
class DataLossSpec:
    id: str
    customer: str
    at: datetime
    description: str


@dataclass(frozen=True)
class MonthScript:
    """One organisation's month. ``start`` and ``end`` bound the month in UTC; ``created_at``
    is when the organisation, its policy and customers were set up (before the month)."""

    slug: str
    name: str
    policy_source: str
    policy: Policy
    period: str
    start: datetime
    end: datetime
    created_at: datetime
    seed: int
    customers: tuple[DemoCustomer, ...]
    outages: tuple[Outage, ...] = ()
    maintenance: tuple[MaintenanceSpec, ...] = ()
    incidents: tuple[IncidentSpec, ...] = ()
    tickets: tuple[TicketSpec, ...] = ()
    data_loss: tuple[DataLossSpec, ...] = ()
    #: A healthy bucket per component and region every this many minutes (1: every minute).
    healthy_every_minutes: int = 10

    @property
    def last_instant(self) -> datetime:
        """The latest instant anything in the script happens at (at most a day after the month:
        a period can be closed from then on)."""
        instants = [self.end]
        instants += [m.completed_at for m in self.maintenance]
        instants += [i.resolved_at + EXCLUDED_AFTER for i in self.incidents]
        instants += [i.postmortem_at for i in self.incidents if i.postmortem_at is not None]
        instants += [e.at for t in self.tickets for e in t.events]
        instants += [loss.at + RECORDED_AFTER for loss in self.data_loss]
        return max(instants)


@dataclass(frozen=True)
class FactsFile:
    """A facts document for ``customers``; ``name`` says which incidents it adds (``all``:
    only what counts for every customer)."""

    name: str
    customers: tuple[str, ...]
    document: dict[str, Any]


# --------------------------------------------------------------------------- the facts
def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _customer(customer: DemoCustomer) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": customer.id,
        "plan": customer.plan,
        "monthly_fee": _text(customer.monthly_fee),
        "annual_fee": _text(customer.annual_fee),
        "currency": customer.currency,
        "timezone": customer.timezone,
        "start": iso(customer.contract_start),
        "end": iso(customer.contract_end),
    }
    return {key: value for key, value in found.items() if value is not None}


def min_run(policy: Policy, component: str) -> timedelta:
    """The down rule's ``min_run`` of the plans measuring ``component`` (they must agree: one
    facts file holds one downtime per component)."""
    runs = {p.uptime.down_rule.min_run for p in policy.plans if component in p.uptime.measured_on}
    if len(runs) > 1:
        raise ValueError(f"the plans measuring {component} disagree on down_rule.min_run")
    return runs.pop() if runs else timedelta(0)


def _outage_facts(script: MonthScript) -> list[dict[str, Any]]:
    """Measured downtime: each outage that lasts at least the down rule's ``min_run`` (the
    generator keeps outages apart, so each is a run of its own), per region it hit."""
    found: list[dict[str, Any]] = []
    for outage in script.outages:
        if outage.end - outage.start < min_run(script.policy, outage.component):
            continue
        span = {"component": outage.component, "start": iso(outage.start), "end": iso(outage.end)}
        if not outage.regions:
            found.append({**span, "reason": outage.reason})
        for region in outage.regions:
            found.append({**span, "region": region, "reason": outage.reason})
    return found


def _maintenance_facts(script: MonthScript) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    windows, down = [], []
    for window in script.maintenance:
        windows.append(
            {
                "components": list(window.components),
                "start": iso(window.start),
                "end": iso(window.end),
                "announced_at": iso(window.announced_at),
                "reason": f"maintenance {window.id}: {window.title}",
            }
        )
        for component in window.components:
            down.append(
                {
                    "component": component,
                    "start": iso(window.start),
                    "end": iso(window.down_until),
                    "reason": f"maintenance {window.id}",
                }
            )
    return windows, down


def _incident_down(incident: IncidentSpec) -> list[dict[str, Any]]:
    return [
        {"component": component, "start": iso(start), "end": iso(end),
         "reason": f"incident {incident.id}"}
        for component, start, end in incident.down
    ]  # fmt: skip


def _exclusion(spec: ExclusionSpec) -> dict[str, Any]:
    found: dict[str, Any] = {
        "category": spec.category,
        "start": iso(spec.start),
        "end": iso(spec.end),
        "reason": spec.reason,
    }
    if spec.components:
        found["components"] = list(spec.components)
    if spec.customer is not None:
        found["customer"] = spec.customer
    return found


def facts_files(script: MonthScript) -> list[FactsFile]:
    """The facts of the month, for every customer: one file for the customers no incident
    names, and one per distinct set of incidents naming customers (for those customers)."""
    windows, maintenance_down = _maintenance_facts(script)
    shared = [i for i in script.incidents if not i.customers]
    base_down = [*_outage_facts(script), *maintenance_down]
    base_down += [fact for incident in shared for fact in _incident_down(incident)]
    base_exclusions = [e for incident in shared for e in incident.exclusions]
    groups: dict[tuple[str, ...], list[DemoCustomer]] = {}
    for customer in script.customers:
        naming = tuple(i.id for i in script.incidents if customer.id in i.customers)
        groups.setdefault(naming, []).append(customer)
    files = []
    by_id = {i.id: i for i in script.incidents}
    for naming, members in sorted(groups.items()):
        ids = {c.id for c in members}
        own = [by_id[incident_id] for incident_id in naming]
        exclusions = [*base_exclusions, *(e for i in own for e in i.exclusions)]
        document = {
            "customers": [_customer(c) for c in members],
            "downtime": [*base_down, *(fact for i in own for fact in _incident_down(i))],
            "maintenance": windows,
            "exclusions": [
                _exclusion(e) for e in exclusions if e.customer is None or e.customer in ids
            ],
            "data_loss": [
                {"customer": loss.customer, "at": iso(loss.at), "reason": loss.description}
                for loss in script.data_loss
                if loss.customer in ids
            ],
        }
        files.append(FactsFile("+".join(naming) or "all", tuple(sorted(ids)), document))
    return files


def facts_text(document: dict[str, Any]) -> str:
    """A facts document as the text ``slakeeper evaluate --facts`` reads (JSON is YAML)."""
    return json.dumps(document, indent=1) + "\n"
