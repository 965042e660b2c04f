"""The sections of a rendered agreement, in the order seed 004 recommends.

Each function reads the (possibly overridden) policy and one plan and returns a section of
plain blocks. Figures come from the code that enforces them: the target and allowed downtime
from :mod:`slakeeper.policy.compile`, credit bands from the domain's own band description.
Where the policy is silent, the section says so rather than inventing a promise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from slakeeper.policy import compile as pc
from slakeeper.policy import models as pm
from slakeeper.policy.overrides import CustomerOverrides
from slakeeper.services import agreement_money as money
from slakeeper.services.agreement_blocks import (
    Block,
    Bullets,
    Context,
    Paragraph,
    Section,
    Subheading,
    Table,
    Terms,
)
from slakeeper.services.agreement_operations import (
    communication,
    exclusions,
    maintenance,
    reporting,
    review,
)
from slakeeper.services.agreement_support import (
    enhancements,
    post_incident_reports,
    responsibilities,
    severities,
    support_targets,
)
from slakeeper.services.agreement_words import (
    grouped_seconds,
    list_words,
    percent,
    spell_duration,
)
from slakeeper.services.explain import human_seconds

MONTH_DAYS = (28, 30, 31)


def lead(context: Context) -> tuple[str, ...]:
    meta = context.policy.metadata
    plan = context.plan
    text = [
        f"This agreement sets out what {meta.provider} commits to on the {plan.name} plan: "
        "the service levels, how they are measured, what you can expect from support, and "
        "what happens when a commitment is missed."
    ]
    overrides = context.overrides
    if overrides is not None:
        agreed = f" in {overrides.contract}" if overrides.contract else ""
        changed = _changed_terms(overrides)
        terms = f"its {list_words(changed)} as agreed{agreed}" if changed else "as it stands"
        text.append(f"It is the agreement of {overrides.customer}: the {plan.name} plan, {terms}.")
    if meta.binding:
        text.append(meta.binding)
    return tuple(text)


def _changed_terms(overrides: CustomerOverrides) -> list[str]:
    terms = []
    if overrides.uptime_target is not None:
        terms.append("uptime target")
    if overrides.credits is not None:
        terms.append("service credits")
    if overrides.support_hours is not None:
        terms.append("support hours")
    if overrides.support_targets:
        terms.append("support targets")
    return terms


def sections(context: Context) -> tuple[Section, ...]:
    return (
        Section("scope", "Scope", scope(context)),
        Section("service-levels", "Service levels", service_levels(context)),
        Section("severities", "Severity definitions", severities(context)),
        Section("targets", "Response and resolution targets", support_targets(context)),
        Section("responsibilities", "Client responsibilities", responsibilities(context)),
        Section("enhancements", "Support and enhancements", enhancements(context)),
        Section("reporting", "Monitoring and reporting", reporting(context)),
        Section("maintenance", "Maintenance", maintenance(context)),
        Section("exclusions", "Exclusions", exclusions(context)),
        Section("credits", "Service credits", money.credits(context.policy, context.plan)),
        Section("communication", "Status page and incident communication", communication(context)),
        Section("post-incident", "Post-incident reports", post_incident_reports(context)),
        Section("review", "Review of this agreement", review(context)),
    )


SECTION_TITLES = (
    "Scope",
    "Service levels",
    "Severity definitions",
    "Response and resolution targets",
    "Client responsibilities",
    "Support and enhancements",
    "Monitoring and reporting",
    "Maintenance",
    "Exclusions",
    "Service credits",
    "Status page and incident communication",
    "Post-incident reports",
    "Review of this agreement",
)


# --------------------------------------------------------------------------- 1 scope
def scope(context: Context) -> tuple[Block, ...]:
    policy, plan = context.policy, context.plan
    blocks: list[Block] = []
    if plan.description:
        blocks.append(Paragraph(plan.description))
    blocks.append(Subheading("Covered"))
    if policy.scope.covered:
        blocks.append(Bullets(tuple(policy.scope.covered)))
    else:
        blocks.append(Paragraph("The agreement names no covered service beyond section 2."))
    if policy.scope.not_covered:
        blocks += [Subheading("Not covered"), Bullets(tuple(policy.scope.not_covered))]
    if plan.features:
        blocks += [Subheading(f"Included in the {plan.name} plan"), Bullets(tuple(plan.features))]
    return tuple(blocks)


# --------------------------------------------------------------------------- 2 service levels
def service_levels(context: Context) -> tuple[Block, ...]:
    policy, plan = context.policy, context.plan
    uptime = plan.uptime
    zone = policy.metadata.timezone
    target = pc.target_ratio(plan)
    blocks: list[Block] = []
    promised = uptime.target
    if promised == "best-effort" or target is None:
        blocks.append(
            Paragraph(
                "This plan has no uptime commitment (best effort). Uptime is still measured "
                "as described below and reported; no service credit is owed for it."
            )
        )
    else:
        blocks.append(
            Paragraph(f"Uptime target: {percent(promised)} % in each calendar month ({zone} time).")
        )
    if uptime.definition:
        blocks.append(Paragraph(uptime.definition))
    blocks += _measured(policy, uptime)
    blocks += _where(policy, uptime)
    blocks += [Subheading("What counts as down"), Bullets(_down_rule(uptime))]
    blocks += [Subheading("How uptime is computed"), Bullets(_computation(plan, zone))]
    if promised != "best-effort" and target is not None:
        rows = []
        for days in MONTH_DAYS:
            allowed = pc.allowed_downtime(target, timedelta(days=days))
            rows.append((f"{days} days", human_seconds(allowed), f"{grouped_seconds(allowed)} s"))
        blocks += [
            Subheading("Allowed downtime"),
            Paragraph(
                f"At {percent(promised)} %, the downtime a month can hold before the "
                "target is missed:"
            ),
            Table(("Month", "Allowed downtime", "Exactly"), tuple(rows)),
        ]
    return tuple(blocks)


def _measured(policy: pm.Policy, uptime: pm.Uptime) -> list[Block]:
    components = [policy.component(item) for item in uptime.measured_on]
    names = [component.name for component in components]
    if len(components) == 1:
        rule = f"The service measured is {names[0]}."
    elif uptime.component_rule is pm.ComponentRule.ANY_OF:
        rule = f"The service is down when {list_words(names, 'or')} is down."
    else:
        rule = f"The service is down only when {list_words(names)} are all down."
    terms = []
    for component in components:
        text = [component.description or ""]
        if component.fail_behaviour:
            text.append(f"When it fails: {_sentence(component.fail_behaviour)}")
        if component.third_party:
            text.append(f"Run by {component.third_party}.")
        terms.append((component.name, " ".join(part for part in text if part) or "—"))
    return [Subheading("What is measured"), Paragraph(rule), Terms(tuple(terms))]


def _where(policy: pm.Policy, uptime: pm.Uptime) -> list[Block]:
    ids = uptime.regions or [region.id for region in policy.regions]
    names = [next(r.name or r.id for r in policy.regions if r.id == item) for item in ids]
    if len(names) == 1:
        text = f"Measured from {names[0]}."
    elif uptime.region_rule is pm.RegionRule.ANY_REGION:
        text = (
            f"Measured from {list_words(names)}. A component counts as down only when it is "
            "down from every region that reports: reachable from one region is up."
        )
    else:
        text = (
            f"Measured from {list_words(names)}. A component counts as down when it is down "
            "from any one of them."
        )
    return [Subheading("From where"), Paragraph(text)]


def _down_rule(uptime: pm.Uptime) -> tuple[str, ...]:
    rule = uptime.down_rule
    statuses = list_words([f"{status}" for status in rule.error_statuses], "or")
    if rule.error_rate_above == 0:
        failing = f"any request fails with status {statuses}"
    else:
        failing = (
            f"more than {percent(rule.error_rate_above)} % of its requests fail with {statuses}"
        )
    items = [
        f"Time is measured in slices of {spell_duration(rule.slice)}.",
        f"A slice of request data is down when {failing}; other responses are not errors.",
    ]
    if rule.min_requests > 1:
        items.append(f"A slice with fewer than {rule.min_requests} requests counts as up.")
    probes = (
        "any probe from a region fails"
        if rule.probe_failures is pm.ProbeRule.ANY
        else "a majority of the probes from a region fail"
    )
    items.append(f"A slice of health checks is down when {probes}.")
    if rule.min_run > timedelta(0):
        items.append(
            f"Only runs of down slices lasting at least {spell_duration(rule.min_run)} count."
        )
    no_data = {
        pm.NoDataRule.UP: "A slice with no data counts as up.",
        pm.NoDataRule.DOWN: "A slice with no data counts as down.",
        pm.NoDataRule.UNKNOWN: "A slice with no data counts as neither up nor down.",
    }
    items.append(no_data[uptime.no_data] + " Reports show how much of the month had no data.")
    return tuple(items)


def _computation(plan: pm.Plan, zone: str) -> tuple[str, ...]:
    uptime = plan.uptime
    if plan.exclusions.accounting is pm.Accounting.COUNT_AS_UP:
        formula = (
            "Monthly uptime = (length of the month − counted downtime) ÷ length of the month; "
            "excluded time (section 9) counts as up."
        )
    else:
        formula = (
            "Monthly uptime = (length of the month − excluded time − counted downtime) ÷ "
            "(length of the month − excluded time); excluded time (section 9) leaves the month."
        )
    items = [
        formula,
        f"A month is a calendar month in {zone} time, with its exact length in seconds.",
    ]
    if _has_dst(zone):
        items.append(
            f"In {zone}, a month with a daylight-saving change is one hour shorter or longer, "
            "and its allowed downtime changes with it."
        )
    exact = "Uptime is computed exactly"
    if uptime.target != "best-effort":
        exact += (
            ", never rounded before it is compared with the target: below "
            f"{percent(uptime.target)} % means strictly below"
        )
    items.append(exact + ".")
    return tuple(items)


def _has_dst(zone: str) -> bool:
    info = ZoneInfo(zone)
    offsets = {
        datetime(2026, month, 1, tzinfo=UTC).astimezone(info).utcoffset() for month in (1, 7)
    }
    return len(offsets) > 1


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
