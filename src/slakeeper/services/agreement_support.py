"""Agreement sections about support: severities, targets, responsibilities, scope of work, PIRs."""

from __future__ import annotations

from datetime import timedelta

from slakeeper.policy import models as pm
from slakeeper.services.agreement_blocks import (
    Block,
    Bullets,
    Context,
    Paragraph,
    Subheading,
    Table,
    Terms,
)
from slakeeper.services.agreement_words import (
    calendar_name,
    humanize_id,
    list_words,
    plural,
    spell_calendar,
    spell_duration,
    spell_target,
)

RESPONSE_DEFAULT = "How quickly we acknowledge an issue and begin addressing it."
RESOLUTION_DEFAULT = "How long it takes to fix or stabilise the issue."


# --------------------------------------------------------------------------- 3 severities
def severities(context: Context) -> tuple[Block, ...]:
    ladder = context.policy.severities
    if not ladder:
        return (Paragraph("The agreement defines no severity levels."),)
    rows = tuple(
        (severity.name, severity.description, ", ".join(severity.aliases) or "—")
        for severity in ladder
    )
    blocks: list[Block] = [
        Paragraph("The severity of an issue decides which targets apply (section 4)."),
        Table(("Severity", "Definition", "Also called"), rows),
    ]
    for severity in ladder:
        if severity.required_fields:
            blocks.append(
                Paragraph(
                    f"A {severity.name} report must include: {', '.join(severity.required_fields)}."
                )
            )
    return tuple(blocks)


# --------------------------------------------------------------------------- 4 targets
def support_targets(context: Context) -> tuple[Block, ...]:
    policy, plan = context.policy, context.plan
    targets = context.targets
    if not targets:
        return (Paragraph(f"The {plan.name} plan has no response or resolution targets."),)
    support = policy.support
    blocks: list[Block] = [
        Terms(
            (
                ("Response", support.response_definition or RESPONSE_DEFAULT),
                ("Resolution", support.resolution_definition or RESOLUTION_DEFAULT),
            )
        ),
        Paragraph(
            "Response and resolution are separate commitments: meeting a response target "
            "means the issue is acknowledged and being worked on, not that it is fixed. "
            "Where no resolution target is listed, resolution is best effort."
        ),
    ]
    rows = []
    for severity in policy.severities:
        mine = [t for t in targets if policy.severity(t.severity).id == severity.id]
        if mine:
            rows.append(
                (severity.name, _cell(policy, mine, "response"), _cell(policy, mine, "resolution"))
            )
    blocks.append(Table(("Severity", "Response", "Resolution"), tuple(rows)))
    used = [target.calendar for target in targets]
    if plan.support_hours is not None:
        hours = policy.calendar(plan.support_hours)
        blocks.append(Paragraph(f"Support hours on the {plan.name} plan: {calendar_name(hours)}."))
        used.insert(0, plan.support_hours)
    calendars = [policy.calendar(item) for item in dict.fromkeys(used)]
    blocks += [
        Subheading("Support hours"),
        Terms(tuple((calendar_name(item), spell_calendar(item)) for item in calendars)),
    ]
    blocks += [Subheading("How the clock runs"), Bullets(_clock_rules(policy, targets, calendars))]
    return tuple(blocks)


def _cell(policy: pm.Policy, targets: list[pm.SupportTarget], clock: str) -> str:
    for target in targets:
        value = getattr(target, clock)
        if value is not None:
            if value == "best-effort":
                return "best effort"
            return f"{spell_target(value)} ({calendar_name(policy.calendar(target.calendar))})"
    return "no target"


def _clock_rules(
    policy: pm.Policy, targets: list[pm.SupportTarget], calendars: list[pm.Calendar]
) -> tuple[str, ...]:
    rules = []
    if any(not calendar.always_open for calendar in calendars):
        rules.append(
            "A target counts only time inside its hours: a request opened outside them starts "
            "its clock at the next opening."
        )
    values = [target.response for target in targets] + [target.resolution for target in targets]
    if any(isinstance(value, pm.BusinessDays) for value in values):
        rules.append("A target in business days is due at the close of that business day.")
    if policy.support.pause_when:
        states = list_words([humanize_id(item).lower() for item in policy.support.pause_when], "or")
        rules.append(f"The clock pauses while a request is {states}.")
    if policy.support.channels:
        rules.append("Report an issue through the channels in section 11.")
    if not rules:
        rules.append("Targets run around the clock from the moment an issue is reported.")
    return tuple(rules)


# --------------------------------------------------------------------------- 5 responsibilities
def responsibilities(context: Context) -> tuple[Block, ...]:
    items = context.policy.customer_responsibilities
    if not items:
        return (Paragraph("The agreement places no responsibilities on the client."),)
    return (
        Paragraph("Support works when both sides know their role. The client will:"),
        Bullets(tuple(items)),
    )


# --------------------------------------------------------------------------- 6 enhancements
def enhancements(context: Context) -> tuple[Block, ...]:
    support = context.policy.support
    types = support.request_types
    blocks: list[Block] = []
    if types.covered:
        blocks += [
            Subheading("Covered support: on the targets of section 4"),
            Bullets(tuple(humanize_id(item) for item in types.covered)),
        ]
    if types.enhancement:
        blocks += [
            Subheading("Enhancements: no target clock, quoted separately"),
            Bullets(tuple(humanize_id(item) for item in types.enhancement)),
        ]
    change = support.change_order
    if change is not None:
        blocks.append(Subheading("Change orders"))
        if change.threshold is not None and change.threshold > timedelta(0):
            blocks.append(
                Paragraph(
                    f"A request estimated at more than {spell_duration(change.threshold)} of "
                    "work is a change order."
                )
            )
        blocks.append(Paragraph(change.description))
        if change.quoting:
            blocks.append(Paragraph(change.quoting))
    if not blocks:
        blocks.append(
            Paragraph("The agreement does not separate covered support from enhancement work.")
        )
    return tuple(blocks)


# --------------------------------------------------------------------------- 12 post-incident
def post_incident_reports(context: Context) -> tuple[Block, ...]:
    policy = context.policy
    rules = policy.post_incident_reports
    if rules is None:
        return (Paragraph("The agreement does not promise post-incident reports."),)
    names = [policy.severity(item).name for item in rules.severities]
    calendar = policy.calendar(rules.calendar)
    blocks: list[Block] = [
        Paragraph(
            f"A written post-incident report follows every {list_words(names, 'or')} incident, "
            f"within {plural(rules.due_business_days, 'business day')} after it is resolved."
        ),
        Paragraph(
            f"Business days follow the calendar “{calendar_name(calendar)}”: "
            f"{spell_calendar(calendar)}."
        ),
    ]
    if rules.published_on:
        blocks.append(Paragraph(f"Reports are published on {rules.published_on}."))
    return tuple(blocks)
