"""The events of a generated month, written by a seeded :class:`MonthBuilder`.

Each kind of event is one method: an outage with its incident, a force-majeure (or upstream)
outage and its exclusion, a regional outage, short blips, maintenance announced in time (with
an overrun) or too late, an incident that names customers, support requests and a data-loss
event. Events are placed on distinct days, so outages never touch each other: each one is a run
of its own, and the facts can state each as it was generated.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta

from slakeeper.policy.models import Policy
from slakeeper.services.demo_script import (
    DataLossSpec,
    DemoCustomer,
    ExclusionSpec,
    IncidentSpec,
    MaintenanceSpec,
    Outage,
    Step,
    TicketEventSpec,
    TicketSpec,
)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
#: Values for the fields a policy may require on an incident (seed 000 requires these).
FIELD_VALUES = {
    "requestId": "req_8f3a2c71d9",
    "endpoint": "POST /v1/route",
    "provider": "upstream-llm",
    "model": "general-large",
    "timestamp": "see the timeline",
    "business_impact": "Requests failed for the affected customers during the outage.",
}
SUBJECTS = (
    "Requests failing with 503", "Dashboard slow to load", "Webhook deliveries delayed",
    "Question about the invoice", "Data missing from yesterday's export", "SSO login loop",
    "API key rotation", "Rate limits too low for a batch job", "Report numbers look off",
    "Need help configuring alerts", "Timeouts from eu-west", "Change the workflow's prompt",
)  # fmt: skip


class MonthBuilder:
    """Collects one month's events for ``policy``; ``days`` are handed out once each."""

    def __init__(self, policy: Policy, start: datetime, end: datetime, rng: random.Random):
        self.policy = policy
        self.start = start
        self.end = end
        self.rng = rng
        last = (end - start).days
        self.days = [start + timedelta(days=d) for d in range(1, last - 3)]
        rng.shuffle(self.days)
        self.outages: list[Outage] = []
        self.incidents: list[IncidentSpec] = []
        self.maintenance: list[MaintenanceSpec] = []
        self.tickets: list[TicketSpec] = []
        self.data_loss: list[DataLossSpec] = []
        self.regions = [r.id for r in policy.regions]
        measured = {c for plan in policy.plans for c in plan.uptime.measured_on}
        self.unmeasured = [c.id for c in policy.components if c.id not in measured]

    # ----------------------------------------------------------------- helpers
    def day(self) -> datetime:
        if not self.days:
            raise ValueError("the month has no free day left for another event")
        return self.days.pop()

    def at(self, day: datetime, first_hour: int = 1, last_hour: int = 20) -> datetime:
        return day + timedelta(hours=self.rng.randint(first_hour, last_hour),
                               minutes=self.rng.randrange(60))  # fmt: skip

    def severity(self, rank: int) -> str:
        ladder = self.policy.severities
        if not ladder:
            raise ValueError("the policy has no severities to declare incidents with")
        return ladder[min(rank, len(ladder) - 1)].id

    def _fields(self, severity: str) -> dict[str, str]:
        required = self.policy.severity(severity).required_fields
        return {name: FIELD_VALUES.get(name, "see the timeline") for name in required}

    def _postmortem(self, severity: str, resolved: datetime, late: bool) -> datetime | None:
        rules = self.policy.post_incident_reports
        if rules is None or severity not in {self.policy.severity(s).id for s in rules.severities}:
            return None
        attached = resolved + (timedelta(days=9) if late else timedelta(days=1, hours=3))
        # Nothing happens later than a day after the month: a report that late stays pending.
        return attached if attached <= self.end + timedelta(days=1) else None

    def _name(self, component: str) -> str:
        return self.policy.component(component).name

    def categories(self) -> set[str]:
        return {e.category.value for e in self.policy.exclusions}

    def _incident(
        self,
        title: str,
        severity: str,
        steps: list[Step],
        *,
        down: tuple[tuple[str, datetime, datetime], ...] = (),
        customers: tuple[str, ...] = (),
        exclusions: tuple[ExclusionSpec, ...] = (),
        late_postmortem: bool = False,
    ) -> IncidentSpec:
        postmortem_at = self._postmortem(severity, steps[-1].at, late_postmortem)
        incident = IncidentSpec(
            id=f"INC-{len(self.incidents) + 101}", title=title, severity=severity,
            steps=tuple(steps), down=down, customers=customers, fields=self._fields(severity),
            exclusions=exclusions, postmortem_at=postmortem_at,
            postmortem=None if postmortem_at is None else _postmortem_text(title),
        )  # fmt: skip
        self.incidents.append(incident)
        return incident

    # ----------------------------------------------------------------- outages
    def major_outage(
        self, component: str, minutes: int, *, late_postmortem: bool = False
    ) -> IncidentSpec:
        """Requests to ``component`` fail everywhere; an incident declares a major outage a few
        minutes later and holds it until the fix (then monitoring, then resolved)."""
        start = self.at(self.day(), 1, max(1, 21 - minutes // 60))
        end = start + minutes * MINUTE
        self.outages.append(Outage(component, start, end, error_percent=self.rng.randint(40, 100),
                                   reason="measured: 5xx from every region"))  # fmt: skip
        declared = start + self.rng.randint(3, 7) * MINUTE
        name = self._name(component)
        steps = [
            Step(declared, "investigating", f"{name} is returning errors; we are investigating.",
                 {component: "major-outage"}),
            Step(declared + (end - declared) / 2, "identified",
                 "A bad configuration push is the cause; rolling it back."),
            Step(end, "monitoring", "The rollback is complete; we are monitoring.",
                 {component: "operational"}),
            Step(end + 30 * MINUTE, "resolved", f"{name} is operating normally."),
        ]  # fmt: skip
        return self._incident(f"{name} unavailable", self.severity(0), steps,
                              down=((component, declared, end),),
                              late_postmortem=late_postmortem)  # fmt: skip

    def excluded_outage(self, component: str, minutes: int) -> None:
        """An outage outside the provider's control: force majeure (or an upstream provider's
        outage when the policy lists no force majeure) excluded for its first half."""
        categories = self.categories()
        category = "force-majeure"
        if category not in categories and "third-party" in categories:
            category = "third-party"
        start = self.at(self.day(), 1, max(1, 21 - minutes // 60))
        end = start + minutes * MINUTE
        self.outages.append(Outage(component, start, end, error_percent=100,
                                   reason="measured: 5xx from every region"))  # fmt: skip
        declared = start + 2 * MINUTE
        title = ("Cloud provider outage" if category == "force-majeure"
                 else "Upstream provider outage")  # fmt: skip
        steps = [
            Step(declared, "investigating", f"{title}: {self._name(component)} is unreachable.",
                 {component: "major-outage"}),
            Step(end, "monitoring", "The provider has recovered; traffic is flowing again.",
                 {component: "operational"}),
            Step(end + 20 * MINUTE, "resolved", "Resolved."),
        ]  # fmt: skip
        reason = ("Regional cloud-provider outage outside our control" if category ==
                  "force-majeure" else "Upstream provider outage")  # fmt: skip
        exclusion = ExclusionSpec(category, start, start + (end - start) / 2, reason,
                                  components=(component,))  # fmt: skip
        self._incident(title, self.severity(0), steps, down=((component, declared, end),),
                       exclusions=(exclusion,))  # fmt: skip

    def regional_outage(self, component: str) -> None:
        """Errors from one region, then an overlapping spell in a second: only the overlap is
        down where one reachable region suffices (``any-region``)."""
        if len(self.regions) < 2:
            self.degraded(component)
            return
        first, second = self.rng.sample(self.regions, 2)
        start = self.at(self.day())
        first_end = start + self.rng.randint(30, 50) * MINUTE
        overlap = self.rng.randint(10, 20) * MINUTE
        second_start = first_end - overlap
        self.outages.append(Outage(component, start, first_end, (first,), 60,
                                   f"measured: 5xx from {first}"))  # fmt: skip
        self.outages.append(Outage(component, second_start, second_start + 35 * MINUTE,
                                   (second,), 60, f"measured: 5xx from {second}"))  # fmt: skip
        steps = [
            Step(start + 4 * MINUTE, "investigating", f"Elevated errors from {first}.",
                 {component: "partial-outage"}),
            Step(second_start + 40 * MINUTE, "resolved", "Both regions are healthy again.",
                 {component: "operational"}),
        ]  # fmt: skip
        self._incident(f"{self._name(component)} errors in {first} and {second}",
                       self.severity(1), steps)  # fmt: skip

    def degraded(self, component: str) -> None:
        start = self.at(self.day())
        steps = [
            Step(start, "investigating", "Responses are slower than usual.",
                 {component: "degraded-performance"}),
            Step(start + 50 * MINUTE, "resolved", "Latency is back to normal.",
                 {component: "operational"}),
        ]  # fmt: skip
        self._incident(f"{self._name(component)} slow", self.severity(2), steps)

    def blips(self, components: list[str], count: int) -> None:
        """Short failures (1 to 3 minutes) everywhere, with no incident."""
        for index in range(count):
            component = components[index % len(components)]
            start = self.at(self.day(), 0, 22)
            self.outages.append(Outage(component, start, start + self.rng.randint(1, 3) * MINUTE,
                                       error_percent=self.rng.randint(20, 70),
                                       reason="measured: a short burst of 5xx"))  # fmt: skip

    # ----------------------------------------------------------------- maintenance
    def maintenance_window(self, components: tuple[str, ...], *, in_time: bool) -> None:
        """A window announced with enough notice that overruns, or one announced too late."""
        notice = self.policy.maintenance.min_notice
        start = self.day() + timedelta(hours=2)
        if in_time:
            end = start + HOUR
            announced = start - notice - timedelta(days=3)
            completed = end + self.rng.randint(10, 25) * MINUTE
            title = "Database upgrade"
        else:
            end = start + self.rng.randint(30, 45) * MINUTE
            announced = start - notice / 3
            completed = end
            title = "Emergency certificate rotation"
        window_id = f"MW-{len(self.maintenance) + 1}"
        self.maintenance.append(
            MaintenanceSpec(window_id, title, components, start, end, announced, completed)
        )

    # ----------------------------------------------------------------- customers
    def customer_incident(
        self, customers: tuple[DemoCustomer, ...], component: str, *, caused: bool
    ) -> None:
        """A failure only the named customers saw (their shard), declared as a major outage
        for them; ``caused``: the first customer's own doing for two thirds of it."""
        start = self.at(self.day())
        end = start + self.rng.randint(25, 45) * MINUTE
        names = ", ".join(c.name for c in customers)
        steps = [
            Step(start, "investigating", f"Requests from {names} are failing.",
                 {component: "major-outage"}),
            Step(end, "monitoring", "Requests are succeeding again.", {component: "operational"}),
            Step(end + 15 * MINUTE, "resolved", "Resolved."),
        ]  # fmt: skip
        exclusions: tuple[ExclusionSpec, ...] = ()
        if caused and "customer-caused" in self.categories():
            exclusions = (ExclusionSpec("customer-caused", start, start + (end - start) * 2 / 3,
                                        "Credentials rotated without grace",
                                        (component,), customers[0].id),)  # fmt: skip
        self._incident(f"{self._name(component)} errors for {names}", self.severity(1), steps,
                       down=((component, start, end),),
                       customers=tuple(c.id for c in customers), exclusions=exclusions)  # fmt: skip

    def caused_by(self, customer: DemoCustomer, incident: IncidentSpec) -> IncidentSpec:
        """``incident`` with a customer-caused exclusion for ``customer`` over part of it."""
        if "customer-caused" not in self.categories() or not incident.down:
            return incident
        component, start, end = incident.down[0]
        lo = start + (end - start) * self.rng.randint(0, 5) / 10
        exclusion = ExclusionSpec("customer-caused", lo, end,
                                  f"{customer.name}'s IP allow-list blocked the failover region",
                                  (component,), customer.id)  # fmt: skip
        updated = replace(incident, exclusions=(*incident.exclusions, exclusion))
        self.incidents[self.incidents.index(incident)] = updated
        return updated

    def lose_data(self, customer: DemoCustomer, at: datetime) -> None:
        self.data_loss.append(
            DataLossSpec(f"DL-{len(self.data_loss) + 1}", customer.id, at,
                         "Acknowledged events dropped when the fallback buffer was truncated")
        )  # fmt: skip

    def tickets_for(self, customer: DemoCustomer, count: int) -> None:
        for _ in range(count):
            self.tickets.append(self._ticket(customer))

    def _ticket(self, customer: DemoCustomer) -> TicketSpec:
        rng = self.rng
        types = self.policy.support.request_types
        kind = rng.choice(types.covered) if types.covered else rng.choice(("question", "incident"))
        if types.enhancement and rng.random() < 0.12:
            kind = rng.choice(types.enhancement)
        effort = timedelta(hours=rng.randint(2, 7)) if "tuning" in kind else None
        first = max(self.start, customer.contract_start or self.start)
        last_day = max((self.end - first).days - 7, 1)
        opened = first + timedelta(days=rng.randrange(last_day), hours=rng.randint(6, 20),
                                   minutes=rng.randrange(60))  # fmt: skip
        rank = rng.choice((0, 1, 1, 2, 2, 2, 3, 3))
        severity = self.severity(rank)
        events = []
        at = opened + rng.choice((8, 25, 45, 90, 200, 480, 1300)) * MINUTE
        events.append(TicketEventSpec("responded", at))
        if rank > 0 and rng.random() < 0.1:
            at += rng.randint(20, 90) * MINUTE
            events.append(TicketEventSpec("severity-changed", at, severity=self.severity(rank - 1)))
        if rng.random() < 0.35:
            at += rng.randint(30, 120) * MINUTE
            events.append(TicketEventSpec("status-changed", at, status="waiting-on-customer"))
            at += rng.randint(180, 2400) * MINUTE
            events.append(TicketEventSpec("customer-replied", at))
        at += rng.randint(60, 3000) * MINUTE
        events.append(TicketEventSpec("resolved", at))
        if rng.random() < 0.1:
            at += rng.randint(600, 1800) * MINUTE
            events.append(TicketEventSpec("reopened", at))
            at += rng.randint(60, 600) * MINUTE
            events.append(TicketEventSpec("resolved", at))
        return TicketSpec(
            id=f"REQ-{len(self.tickets) + 1001}", customer=customer.id, severity=severity,
            request_type=kind, subject=rng.choice(SUBJECTS), opened_at=opened,
            events=tuple(events), effort=effort,
        )  # fmt: skip


def _postmortem_text(title: str) -> str:
    return (
        f"# Post-incident report: {title}\n\n"
        "## What happened\nA change reached production without the canary stage and failed "
        "requests until it was rolled back.\n\n"
        "## What we are changing\n- Every configuration push goes through the canary stage.\n"
        "- An alert on the 5xx burn rate pages within five minutes.\n"
    )
