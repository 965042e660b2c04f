"""The public status page's data: one :class:`StatusPage` per organisation and instant.

Built from the organisation's active policy (its components and groups), its incidents and its
maintenance windows, at ``now``. An incident sets a component's impact from an update's time
until the next update that changes it or the incident resolves (a reopened incident carries its
latest impacts again); maintenance sets ``under-maintenance`` from its start until it completes.
A component's down time is the union of its ``major-outage`` spans, and each day's uptime is
computed exactly with :func:`compute_uptime` over the part of the day that has data (days before
the organisation's first record have none; today is measured until ``now``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from slakeeper.domain.intervals import IntervalSet, union_all
from slakeeper.domain.uptime import Accounting, UptimeResult, compute_uptime
from slakeeper.services import policy_versions
from slakeeper.services.errors import NotFound
from slakeeper.services.incidents import (
    IMPACTS,
    WORKING,
    IncidentView,
    component_statuses,
    incident_view,
)
from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import IncidentUpdate, MaintenanceWindow, Organisation
from slakeeper.services.support_clocks import support_clocks

DAYS = 90
NO_DATA = "no-data"
OPERATIONAL = "operational"
MAJOR = "major-outage"
_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Span:
    """``component`` was in ``impact`` during ``spans`` because of ``source`` (an incident or a
    maintenance window id)."""

    component: str
    impact: str
    spans: IntervalSet
    source: str
    title: str


@dataclass(frozen=True)
class DayBar:
    day: date
    state: str  # an IMPACTS value, or NO_DATA
    uptime: UptimeResult | None  # None: no data that day
    incidents: tuple[str, ...]  # titles of the incidents that touched the component that day


@dataclass(frozen=True)
class ComponentStatus:
    id: str
    name: str
    group: str | None
    status: str  # an IMPACTS value
    days: tuple[DayBar, ...]
    uptime: UptimeResult  # over the 90 days' data


@dataclass(frozen=True)
class IncidentEntry:
    view: IncidentView
    impact: str  # the worst IMPACTS value the incident ever set, "operational" if none
    components: dict[str, str]  # the latest impact per component

    @property
    def active(self) -> bool:
        return self.view.status in WORKING

    @property
    def updated_at(self) -> datetime:
        return self.view.updates[-1].at if self.view.updates else self.view.incident.started_at


@dataclass(frozen=True)
class MaintenanceEntry:
    window: MaintenanceWindow
    state: str  # scheduled, in-progress, completed


@dataclass(frozen=True)
class StatusPage:
    org: Organisation
    name: str
    now: datetime
    status: str  # the worst current component state or active incident impact
    components: tuple[ComponentStatus, ...]
    groups: tuple[tuple[str | None, tuple[ComponentStatus, ...]], ...]
    incidents: tuple[IncidentEntry, ...]  # newest first
    maintenance: tuple[MaintenanceEntry, ...]  # every window, by start

    @property
    def active_incidents(self) -> tuple[IncidentEntry, ...]:
        return tuple(entry for entry in self.incidents if entry.active)

    @property
    def current_maintenance(self) -> tuple[MaintenanceEntry, ...]:
        """Upcoming and in-progress windows."""
        return tuple(m for m in self.maintenance if m.state != "completed")

    @property
    def history(self) -> tuple[tuple[str, tuple[IncidentEntry, ...]], ...]:
        """Incidents by month (``YYYY-MM``), newest month first."""
        months: dict[str, list[IncidentEntry]] = {}
        for entry in self.incidents:
            months.setdefault(entry.view.incident.started_at.strftime("%Y-%m"), []).append(entry)
        return tuple((month, tuple(items)) for month, items in months.items())

    @property
    def updated_at(self) -> datetime:
        instants = [self.org.created_at, *(e.updated_at for e in self.incidents)]
        instants += [m.window.created_at for m in self.maintenance]
        return max(instants)


def worst(states: Sequence[str]) -> str:
    return max(states, key=IMPACTS.index, default=OPERATIONAL)


def impact_spans(
    incident_id: str, title: str, updates: Sequence[IncidentUpdate], now: datetime
) -> list[Span]:
    """The spans during which an incident held each component in each impact."""
    current: dict[str, str] = {}
    found: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    ordered = sorted(updates, key=lambda u: u.seq)
    for index, update in enumerate(ordered):
        current.update(update.components)
        end = ordered[index + 1].at if index + 1 < len(ordered) else now
        if update.status not in WORKING or end <= update.at:
            continue
        for component, impact in current.items():
            if impact != OPERATIONAL:
                found.setdefault((component, impact), []).append((update.at, end))
    return [
        Span(component, impact, IntervalSet.of(*spans), incident_id, title)
        for (component, impact), spans in found.items()
    ]


def maintenance_state(window: MaintenanceWindow, now: datetime) -> str:
    if window.completed_at is not None:
        return "completed"
    return "scheduled" if now < window.starts_at else "in-progress"


def maintenance_span(window: MaintenanceWindow, now: datetime) -> IntervalSet:
    end = window.completed_at or now
    return IntervalSet.single(window.starts_at, end) if window.starts_at < end else IntervalSet()


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def days_bars(
    spans: Sequence[Span], data_from: datetime, now: datetime, days: int = DAYS
) -> tuple[tuple[DayBar, ...], UptimeResult]:
    """One bar per day for the ``days`` days ending today (UTC), and the uptime over them."""
    today = now.astimezone(UTC).date()
    first_day = data_from.astimezone(UTC).date()
    down = union_all(s.spans for s in spans if s.impact == MAJOR)
    bars: list[DayBar] = []
    measured_all: list[IntervalSet] = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        start, end = day_start(day), min(day_start(day) + _DAY, now)
        if day < first_day or end <= start:
            bars.append(DayBar(day, NO_DATA, None, ()))
            continue
        measured = IntervalSet.single(start, end)
        measured_all.append(measured)
        uptime = compute_uptime(
            measured, down, IntervalSet(), accounting=Accounting.COUNT_AS_UP, target=None
        )
        touching = [s for s in spans if s.spans & measured]
        titles = tuple(dict.fromkeys(s.title for s in touching if not s.source.startswith("mw:")))
        bars.append(DayBar(day, worst([s.impact for s in touching]), uptime, titles))
    total = compute_uptime(
        union_all(measured_all), down, IntervalSet(), accounting=Accounting.COUNT_AS_UP,
        target=None,
    )  # fmt: skip
    return tuple(bars), total


def build(uow: UnitOfWork, slug: str, now: datetime) -> StatusPage:
    """The status page of the organisation ``slug`` (raises :class:`NotFound`)."""
    org = uow.organisations.by_slug(slug)
    if org is None:
        raise NotFound(f"organisation '{slug}' does not exist")
    found = policy_versions.active(uow, org.id)
    policy = found[1].policy if found is not None else None
    entries: list[IncidentEntry] = []
    spans: list[Span] = []
    starts = [org.created_at]
    if policy is not None:
        engine = support_clocks(policy)
        for incident in uow.incidents.list(org.id, None, 10_000):
            view = incident_view(uow, incident, now, policy, engine)
            latest: dict[str, str] = {}
            for update in view.updates:
                latest.update(update.components)
            ever = [impact for u in view.updates for impact in u.components.values()]
            entries.append(IncidentEntry(view, worst(ever), latest))
            spans += impact_spans(incident.id, incident.title, view.updates, now)
            starts.append(incident.started_at)
    windows = sorted(uow.maintenance.list(org.id), key=lambda w: (w.starts_at, w.id))
    maintenance = [MaintenanceEntry(w, maintenance_state(w, now)) for w in windows]
    for window in windows:
        span = maintenance_span(window, now)
        if span:
            starts.append(window.starts_at)
            spans += [Span(c, "under-maintenance", span, f"mw:{window.id}", window.title)
                      for c in window.components]  # fmt: skip
    data_from = min(starts)
    statuses = component_statuses(uow, org.id, now, policy) if policy is not None else {}
    components: list[ComponentStatus] = []
    for component in policy.components if policy is not None else ():
        mine = [s for s in spans if s.component == component.id]
        current = statuses.get(component.id, OPERATIONAL)
        bars, uptime = days_bars(mine, data_from, now)
        components.append(
            ComponentStatus(component.id, component.name, component.group, current, bars, uptime)
        )
    groups: dict[str | None, list[ComponentStatus]] = {}
    for row in components:
        groups.setdefault(row.group, []).append(row)
    entries.sort(key=lambda e: (e.view.incident.started_at, e.view.incident.id), reverse=True)
    status = worst([c.status for c in components] + [e.impact for e in entries if e.active])
    return StatusPage(
        org=org,
        name=policy.metadata.provider if policy is not None else org.name,
        now=now,
        status=status,
        components=tuple(components),
        groups=tuple((name, tuple(rows)) for name, rows in groups.items()),
        incidents=tuple(entries),
        maintenance=tuple(maintenance),
    )
