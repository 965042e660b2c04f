"""Agreement sections on operations: reporting, maintenance, exclusions, status, review."""

from __future__ import annotations

from slakeeper.policy import models as pm
from slakeeper.services.agreement_blocks import (
    Block,
    Bullets,
    Context,
    Paragraph,
    Subheading,
    Terms,
)
from slakeeper.services.agreement_words import (
    calendar_name,
    list_words,
    spell_calendar,
    spell_duration,
)

CATEGORY_NAMES = {
    pm.ExclusionCategory.SCHEDULED_MAINTENANCE: "Scheduled maintenance",
    pm.ExclusionCategory.FORCE_MAJEURE: "Force majeure",
    pm.ExclusionCategory.CUSTOMER_CAUSED: "Caused by the customer",
    pm.ExclusionCategory.THIRD_PARTY: "Third parties",
    pm.ExclusionCategory.BETA: "Beta and preview features",
}
CATEGORY_DEFAULTS = {
    pm.ExclusionCategory.SCHEDULED_MAINTENANCE: "Maintenance announced as section 8 describes.",
    pm.ExclusionCategory.FORCE_MAJEURE: "Events beyond the provider's reasonable control.",
    pm.ExclusionCategory.CUSTOMER_CAUSED: "Outages the customer causes.",
    pm.ExclusionCategory.THIRD_PARTY: "Failures of third parties the provider does not control.",
    pm.ExclusionCategory.BETA: "Beta and preview components, which are not measured.",
}


# --------------------------------------------------------------------------- 7 reporting
def reporting(context: Context) -> tuple[Block, ...]:
    rules = context.policy.reporting
    blocks: list[Block] = [Paragraph(f"Service levels are reported {rules.cadence.value}.")]
    lists = (
        ("Metrics tracked", rules.metrics),
        ("Reports you receive", rules.reports),
        ("When we contact you proactively", rules.proactive_outreach),
        ("Data you can export", rules.exports),
    )
    for title, items in lists:
        if items:
            blocks += [Subheading(title), Bullets(tuple(items))]
    if not rules.metrics:
        blocks.append(Paragraph("The agreement names no monitored metrics."))
    return tuple(blocks)


# --------------------------------------------------------------------------- 8 maintenance
def maintenance(context: Context) -> tuple[Block, ...]:
    policy, plan = context.policy, context.plan
    rules = policy.maintenance
    blocks: list[Block] = []
    if pm.ExclusionCategory.SCHEDULED_MAINTENANCE in plan.exclusions.honoured:
        blocks.append(
            Paragraph(
                "Scheduled maintenance is excluded from downtime only when it is announced at "
                f"least {spell_duration(rules.min_notice)} before it starts, and only for the "
                "announced window: time past the announced end counts as downtime, and "
                "maintenance announced later than that is not excluded."
            )
        )
    else:
        blocks.append(
            Paragraph(
                "This plan does not exclude maintenance: downtime during maintenance counts "
                "like any other downtime."
            )
        )
    if rules.announced_on:
        blocks.append(Paragraph(f"Maintenance is announced on {rules.announced_on}."))
    if rules.preferred_windows:
        windows = [policy.calendar(item) for item in rules.preferred_windows]
        blocks += [
            Subheading("Preferred maintenance windows"),
            Terms(tuple((calendar_name(item), spell_calendar(item)) for item in windows)),
        ]
    if rules.approval_required:
        blocks.append(
            Paragraph("Planned maintenance needs the client's approval before it starts.")
        )
    if rules.testing:
        blocks.append(Paragraph(rules.testing))
    return tuple(blocks)


# --------------------------------------------------------------------------- 9 exclusions
def exclusions(context: Context) -> tuple[Block, ...]:
    policy, plan = context.policy, context.plan
    honoured = plan.exclusions.honoured
    blocks: list[Block] = []
    if not honoured:
        blocks.append(Paragraph("This plan honours no exclusions: all measured downtime counts."))
    else:
        blocks.append(Paragraph("Downtime in these categories does not count:"))
        terms = []
        for category in honoured:
            definitions = [item for item in policy.exclusions if item.category is category]
            text = " ".join(item.description for item in definitions) or CATEGORY_DEFAULTS[category]
            if any(item.customer_scoped for item in definitions):
                text += " Applies only to the customer who caused it."
            terms.append((CATEGORY_NAMES[category], text))
        blocks.append(Terms(tuple(terms)))
        if plan.exclusions.accounting is pm.Accounting.COUNT_AS_UP:
            blocks.append(Paragraph("Excluded time counts as up time."))
        else:
            blocks.append(
                Paragraph("Excluded time is removed from the month before uptime is computed.")
            )
    beta = [component.name for component in policy.components if component.beta]
    if beta:
        blocks.append(Paragraph(f"Beta components are not measured: {list_words(beta)}."))
    return tuple(blocks)


# --------------------------------------------------------------------------- 11 communication
def communication(context: Context) -> tuple[Block, ...]:
    policy = context.policy
    blocks: list[Block] = []
    status_page = policy.reporting.status_page
    if status_page:
        components = [component.name for component in policy.components]
        blocks.append(
            Paragraph(f"Status page: {status_page} (live status of {list_words(components)}).")
        )
    if policy.maintenance.announced_on:
        blocks.append(Paragraph(f"Maintenance announcements: {policy.maintenance.announced_on}."))
    if policy.support.channels:
        blocks += [Subheading("How to report an incident"), Bullets(tuple(policy.support.channels))]
    reports = policy.post_incident_reports
    if reports is not None and reports.published_on:
        blocks.append(Paragraph(f"Post-incident reports are published on {reports.published_on}."))
    if not blocks:
        blocks.append(
            Paragraph("The agreement names no status page and no channel for incident reports.")
        )
    return tuple(blocks)


# --------------------------------------------------------------------------- 13 review
def review(context: Context) -> tuple[Block, ...]:
    rules = context.policy.review
    if rules is None:
        return (Paragraph("The agreement names no schedule for reviewing it."),)
    blocks: list[Block] = [
        Paragraph(
            f"This agreement is reviewed {rules.cadence.value} against real support behaviour, "
            "so it keeps matching the load it describes."
        )
    ]
    if rules.questions:
        blocks += [Subheading("The review looks at"), Bullets(tuple(rules.questions))]
    return tuple(blocks)
