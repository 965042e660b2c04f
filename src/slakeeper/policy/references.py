"""Checks that need the whole document: ids unique, references known, credit bands sound."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction

from slakeeper.domain.credits import Band as DomainBand
from slakeeper.domain.credits import check_bands
from slakeeper.policy.errors import did_you_mean, one_of
from slakeeper.policy.models import Band, Plan, Policy, TiersSchedule

Path = tuple[str | int, ...]
Finding = tuple[Path, str]


def check_references(policy: Policy) -> list[Finding]:
    """Every cross-reference problem in ``policy``, as (key path, message) pairs."""
    findings: list[Finding] = []
    findings += _unique("regions", (region.id for region in policy.regions))
    findings += _unique("components", (component.id for component in policy.components))
    findings += _unique("calendars", (calendar.id for calendar in policy.calendars))
    findings += _unique("plans", (plan.id for plan in policy.plans))
    findings += _unique("slos", (slo.id for slo in policy.slos))
    findings += _unique("severities", (severity.id for severity in policy.severities))
    findings += _severity_names(policy)

    components = {component.id for component in policy.components}
    regions = {region.id for region in policy.regions}
    calendars = {calendar.id for calendar in policy.calendars}
    plans = {plan.id for plan in policy.plans}
    severity_ids = {severity.id for severity in policy.severities}

    def known(path: Path, value: str, choices: set[str], what: str) -> None:
        if value not in choices:
            findings.append(
                (
                    path,
                    f"unknown {what} '{value}'{did_you_mean(value, choices)} "
                    f"(defined: {one_of(choices)})",
                )
            )

    def severity(path: Path, value: str) -> None:
        try:
            policy.severity(value)
        except KeyError:
            known(path, value, severity_ids, "severity")

    for index, plan in enumerate(policy.plans):
        base: Path = ("plans", index)
        for position, component in enumerate(plan.uptime.measured_on):
            known((*base, "uptime", "measured_on", position), component, components, "component")
        for position, region in enumerate(plan.uptime.regions):
            known((*base, "uptime", "regions", position), region, regions, "region")
        if plan.support_hours is not None:
            known((*base, "support_hours"), plan.support_hours, calendars, "calendar")
        findings += _plan_credits(plan, base)
        findings += _beta_measured(policy, plan, base)

    for index, slo in enumerate(policy.slos):
        if slo.sli.component is not None:
            known(("slos", index, "sli", "component"), slo.sli.component, components, "component")

    for index, target in enumerate(policy.support.targets):
        base = ("support", "targets", index)
        severity((*base, "severity"), target.severity)
        known((*base, "calendar"), target.calendar, calendars, "calendar")
        for position, plan_id in enumerate(target.plans):
            known((*base, "plans", position), plan_id, plans, "plan")
    findings += _overlapping_targets(policy)

    overlap = set(policy.support.request_types.covered) & set(
        policy.support.request_types.enhancement
    )
    for request_type in sorted(overlap):
        findings.append(
            (
                ("support", "request_types", "enhancement"),
                f"'{request_type}' is listed as both covered and enhancement",
            )
        )

    for position, calendar_id in enumerate(policy.maintenance.preferred_windows):
        known(("maintenance", "preferred_windows", position), calendar_id, calendars, "calendar")
    if policy.post_incident_reports is not None:
        rules = policy.post_incident_reports
        known(("post_incident_reports", "calendar"), rules.calendar, calendars, "calendar")
        for position, severity_id in enumerate(rules.severities):
            severity(("post_incident_reports", "severities", position), severity_id)
    return findings


def _unique(section: str, ids: Iterable[str]) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    for index, item in enumerate(ids):
        if item in seen:
            yield (
                (section, index, "id"),
                f"id '{item}' is already used by {section}[{seen[item]}]: ids must be unique",
            )
        else:
            seen[item] = index


def _severity_names(policy: Policy) -> Iterator[Finding]:
    owner: dict[str, str] = {}
    for index, severity in enumerate(policy.severities):
        for name in {severity.id.lower(), severity.name.lower(), *map(str.lower, severity.aliases)}:
            other = owner.setdefault(name, severity.id)
            if other != severity.id:
                yield (
                    ("severities", index, "aliases"),
                    f"'{name}' names both severity '{other}' and '{severity.id}'",
                )


def _fraction(value: object) -> Fraction | None:
    return None if value is None else Fraction(str(value)) / 100


def domain_band(band: Band) -> DomainBand:
    """The domain value of a policy band (bounds as uptime ratios, e.g. 99.9 % -> 999/1000)."""
    from decimal import Decimal

    return DomainBand(
        percent=Decimal(band.percent),
        lower=_fraction(band.lower),
        lower_inclusive=band.uptime_at_least is not None,
        upper=_fraction(band.upper),
        upper_inclusive=band.uptime_at_or_below is not None,
    )


def _plan_credits(plan: Plan, base: Path) -> Iterator[Finding]:
    credits = plan.credits
    if credits is None:
        return
    if plan.uptime.best_effort and credits.schedule.type != "none":
        yield (
            (*base, "credits", "schedule", "type"),
            "a best-effort plan has no uptime target to credit against: use type: none",
        )
    if isinstance(credits.schedule, TiersSchedule):
        bands = tuple(domain_band(band) for band in credits.schedule.bands)
        for problem in check_bands(bands):
            yield ((*base, "credits", "schedule", "bands"), problem)
        if credits.cap_percent is not None:
            for position, band in enumerate(credits.schedule.bands):
                if band.percent > credits.cap_percent:
                    yield (
                        (*base, "credits", "schedule", "bands", position, "percent"),
                        f"{band.percent} % is above the plan's cap of {credits.cap_percent} %",
                    )


def _beta_measured(policy: Policy, plan: Plan, base: Path) -> Iterator[Finding]:
    for position, component_id in enumerate(plan.uptime.measured_on):
        try:
            component = policy.component(component_id)
        except KeyError:
            continue
        if component.beta:
            yield (
                (*base, "uptime", "measured_on", position),
                f"component '{component_id}' is beta: beta components are not measured",
            )


def _overlapping_targets(policy: Policy) -> Iterator[Finding]:
    every_plan = [plan.id for plan in policy.plans]
    claimed: dict[tuple[str, str, str], int] = {}
    for index, target in enumerate(policy.support.targets):
        try:
            severity_id = policy.severity(target.severity).id
        except KeyError:
            continue
        for plan_id in target.plans or every_plan:
            for clock in ("response", "resolution"):
                if getattr(target, clock) is None:
                    continue
                key = (severity_id, plan_id, clock)
                if key in claimed:
                    yield (
                        ("support", "targets", index),
                        f"a second {clock} target for severity '{severity_id}' on plan "
                        f"'{plan_id}' (the first is support.targets[{claimed[key]}])",
                    )
                else:
                    claimed[key] = index
