"""Incidents (declare, update, post-incident report) and maintenance windows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from pydantic import AwareDatetime, Field, StringConstraints

from slakeeper.api.deps import ContainerDep, Reader, Writer
from slakeeper.api.routes.common import RecordId, known
from slakeeper.api.schemas import Slug, Strict, Text
from slakeeper.services import incidents
from slakeeper.services.evaluate import as_json
from slakeeper.services.policy_versions import active, active_policy
from slakeeper.services.sla_report import period_report

router = APIRouter(tags=["incidents"])

IncidentId = Annotated[str, PathParam(max_length=64, description="The incident's id.")]
WindowId = Annotated[str, PathParam(max_length=64, description="The window's id.")]
Message = Annotated[str, StringConstraints(max_length=10_000, pattern=r"^[^\x00]*$")]
Impacts = dict[Slug, Slug]
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")]


class IncidentCreate(Strict):
    id: RecordId
    title: Text
    severity: Text = Field(description="Severity id, name or alias (e.g. Sev-1, P0).")
    components: Impacts = Field(
        default_factory=dict, description="Component -> impact (e.g. major-outage)."
    )
    customers: list[Slug] = Field(default_factory=list, description="Affected; none: all.")
    fields: dict[FieldName, Text] = Field(
        default_factory=dict, description="The fields the policy requires for the severity."
    )
    started_at: AwareDatetime | None = None
    message: Message = "We are investigating."
    notify: bool = True


class IncidentUpdateCreate(Strict):
    status: Slug
    message: Message
    components: Impacts = Field(default_factory=dict)
    notify: bool = True
    at: AwareDatetime | None = None


class Postmortem(Strict):
    markdown: Annotated[str, StringConstraints(min_length=1, max_length=200_000)]


class MaintenanceCreate(Strict):
    id: RecordId
    title: Text
    components: list[Slug] = Field(min_length=1)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    announced_at: AwareDatetime | None = Field(None, description="Default: now.")


class MaintenanceComplete(Strict):
    at: AwareDatetime | None = None


@router.post("/incidents", status_code=201)
def declare(body: IncidentCreate, principal: Writer, container: ContainerDep) -> dict[str, Any]:
    """Declare an incident; its response and resolution clocks start."""
    now = container.clock.now()
    with container.uow() as uow:
        found = incidents.declare(
            uow, principal, incident_id=body.id, title=body.title, severity=body.severity,
            components=dict(body.components), customers=body.customers, fields=dict(body.fields),
            started_at=body.started_at or now, message=body.message, notify=body.notify, now=now,
        )  # fmt: skip
        uow.commit()
    return incidents.incident_json(found)


@router.get("/incidents")
def list_incidents(principal: Reader, container: ContainerDep) -> dict[str, Any]:
    """Every incident with its clocks and post-incident report state."""
    with container.uow() as uow:
        found = incidents.listing(uow, principal, container.clock.now())
    return {"items": [incidents.incident_json(item) for item in found]}


@router.get("/incidents/{incident_id}")
def get_incident(
    incident_id: IncidentId, principal: Reader, container: ContainerDep
) -> dict[str, Any]:
    """One incident: timeline, clocks, post-incident report."""
    with container.uow() as uow:
        found = incidents.view(
            uow, principal, known(incident_id, "incident"), container.clock.now()
        )
    return incidents.incident_json(found)


@router.post("/incidents/{incident_id}/updates", status_code=201)
def update_incident(
    incident_id: IncidentId, body: IncidentUpdateCreate, principal: Writer, container: ContainerDep
) -> dict[str, Any]:
    """Add an update: status, message, the component statuses it sets."""
    now = container.clock.now()
    with container.uow() as uow:
        found = incidents.add_update(
            uow, principal, known(incident_id, "incident"), status=body.status,
            message=body.message, components=dict(body.components), notify=body.notify,
            at=body.at or now, now=now,
        )  # fmt: skip
        uow.commit()
    return incidents.incident_json(found)


@router.put("/incidents/{incident_id}/postmortem")
def attach_postmortem(
    incident_id: IncidentId, body: Postmortem, principal: Writer, container: ContainerDep
) -> dict[str, Any]:
    """Attach the post-incident report (markdown)."""
    now = container.clock.now()
    with container.uow() as uow:
        found = incidents.attach_postmortem(
            uow, principal, known(incident_id, "incident"), body.markdown, now
        )
        uow.commit()
    return incidents.incident_json(found)


@router.post("/maintenance", status_code=201)
def schedule(body: MaintenanceCreate, principal: Writer, container: ContainerDep) -> dict[str, Any]:
    """Schedule a window; the answer says at once whether its notice meets the policy's rule
    (``excluded``)."""
    now = container.clock.now()
    with container.uow() as uow:
        window = incidents.schedule_maintenance(
            uow, principal, window_id=body.id, title=body.title, components=body.components,
            starts_at=body.starts_at, ends_at=body.ends_at,
            announced_at=body.announced_at or now, now=now,
        )  # fmt: skip
        policy = active_policy(uow, principal.org_id)
        uow.commit()
    return incidents.maintenance_json(window, policy, now)


@router.get("/maintenance")
def list_maintenance(principal: Reader, container: ContainerDep) -> dict[str, Any]:
    """Windows with their state (scheduled, in progress, completed) and overruns."""
    now = container.clock.now()
    with container.uow() as uow:
        found = active(uow, principal.org_id)
        windows = uow.maintenance.list(principal.org_id)
    if found is None:
        return {"items": []}
    policy = found[1].policy
    return {"items": [incidents.maintenance_json(w, policy, now) for w in windows]}


@router.post("/maintenance/{window_id}/complete")
def complete(
    window_id: WindowId, body: MaintenanceComplete, principal: Writer, container: ContainerDep
) -> dict[str, Any]:
    """Mark a window completed; a completion after its end is an overrun (downtime)."""
    now = container.clock.now()
    with container.uow() as uow:
        window = incidents.complete_maintenance(
            uow, principal, known(window_id, "maintenance"), body.at or now, now
        )
        policy = active_policy(uow, principal.org_id)
        uow.commit()
    return incidents.maintenance_json(window, policy, now)


class ExclusionCreate(Strict):
    category: Slug = Field(description="force-majeure, third-party, customer-caused or beta.")
    components: list[Slug] = Field(default_factory=list, description="None listed: all.")
    customer: Slug | None = None
    start: AwareDatetime
    end: AwareDatetime
    reason: Message = ""


@router.post("/incidents/{incident_id}/exclusions", status_code=201)
def add_exclusion(
    incident_id: IncidentId, body: ExclusionCreate, principal: Writer, container: ContainerDep
) -> dict[str, Any]:
    """Exclude part of the incident's downtime from the SLA (the incident is the reason)."""
    now = container.clock.now()
    with container.uow() as uow:
        found = incidents.add_exclusion(
            uow, principal, known(incident_id, "incident"), category=body.category,
            components=body.components, customer=body.customer, start=body.start,
            end=body.end, reason=body.reason, now=now,
        )  # fmt: skip
        uow.commit()
    return incidents.incident_json(found)


@router.get("/reports/sla")
def sla_report(
    principal: Reader,
    container: ContainerDep,
    period: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")],
) -> dict[str, Any]:
    """Each customer's SLA for the period from declared incidents, maintenance and exclusions:
    uptime, counted and excluded downtime, the credit owed (the shape of `slakeeper evaluate`).
    A customer-scoped key sees its own customer."""
    with container.uow() as uow:
        try:
            result = period_report(uow, principal, period, container.clock.now())
        except ValueError as exc:
            raise HTTPException(400, str(exc)) from None
    return as_json(result)
