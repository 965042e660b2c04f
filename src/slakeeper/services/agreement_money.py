"""The service credits section of an agreement: the table or the rule, limits, claims."""

from __future__ import annotations

from slakeeper.policy import models as pm
from slakeeper.policy.references import domain_band
from slakeeper.services.agreement_blocks import Block, Bullets, Paragraph, Subheading, Table
from slakeeper.services.agreement_words import percent, plural

FEE_WORDS = {
    pm.FeeBasis.MONTHLY: "monthly fee",
    pm.FeeBasis.ANNUAL_TWELFTH: "monthly fee (one twelfth of the annual fee)",
    pm.FeeBasis.ANNUAL_BY_DAYS: (
        "fee for the month (the annual fee × the days in the month ÷ the days in the year)"
    ),
}
CLAIM_AFTER = {
    pm.ClaimAfter.PERIOD_END: "after the end of the month",
    pm.ClaimAfter.INCIDENT: "after the incident",
}
ROUNDING = {
    pm.PartialHours.DOWN: "each full hour",
    pm.PartialHours.UP: "each hour or part of an hour",
    pm.PartialHours.EXACT: "each hour (pro rata for part of an hour)",
}


def credits(policy: pm.Policy, plan: pm.Plan) -> tuple[Block, ...]:
    terms = plan.credits
    schedule = None if terms is None else terms.schedule
    if terms is None or (isinstance(schedule, pm.NoneSchedule) and terms.data_loss is None):
        text = "This plan has no service credits."
        if plan.uptime.best_effort:
            text += " Uptime is measured and reported, but no credit is owed when it is low."
        return (Paragraph(text),)
    fee = FEE_WORDS[terms.fee_basis]
    blocks: list[Block] = []
    target = plan.uptime.target
    if isinstance(schedule, pm.TiersSchedule) and target != "best-effort":
        rows = tuple(
            (domain_band(band).describe(), f"{percent(band.percent)} %") for band in schedule.bands
        )
        blocks += [
            Paragraph(
                f"When monthly uptime is below the {percent(target)} % target, you are owed a "
                f"credit of a share of the {fee} for that month, by band:"
            ),
            Table(("Monthly uptime", "Credit"), rows),
            Paragraph("A month in which the target is met earns no credit, whatever its band."),
        ]
    elif isinstance(schedule, pm.TimePerExcessSchedule):
        cap = "" if schedule.cap_days is None else f", capped at {plural(schedule.cap_days, 'day')}"
        blocks.append(
            Paragraph(
                f"For {ROUNDING[schedule.partial_hours]} of downtime beyond the allowed downtime "
                f"(section 2), you are owed {plural(schedule.days_per_hour, 'day')} of service "
                f"credit{cap} in a month. A day of credit is worth the {fee} ÷ the number of days "
                "in the month."
            )
        )
    else:
        blocks.append(Paragraph("This plan has no uptime credits."))
    if terms.data_loss is not None:
        loss = terms.data_loss
        right = " and the right to terminate the agreement" if loss.termination_right else ""
        text = (
            "A confirmed loss of acknowledged data in a month earns a credit of "
            f"{percent(loss.percent)} % of the {fee}{right}."
        )
        if loss.description:
            text += f" {loss.description}"
        blocks.append(Paragraph(text))
    blocks += [Subheading("Limits"), Bullets(_limits(terms, fee, policy.metadata.currency))]
    blocks += [Subheading("Claiming a credit"), Bullets(_claims(terms))]
    if terms.exclusive_remedy:
        blocks.append(
            Paragraph(
                "Service credits are your sole and exclusive remedy for a failure to meet the "
                "service levels."
            )
        )
    return tuple(blocks)


def _limits(terms: pm.Credits, fee: str, currency: str) -> tuple[str, ...]:
    items = []
    if terms.cap_percent is not None:
        items.append(
            f"Credits for one month are capped at {percent(terms.cap_percent)} % of the {fee}."
        )
    if terms.minimum_amount is not None:
        items.append(f"A credit below {terms.minimum_amount} {currency} is not issued.")
    items.append(f"Credits are in {currency}, rounded half up to the smallest unit, once.")
    return tuple(items)


def _claims(terms: pm.Credits) -> tuple[str, ...]:
    claim = terms.claim
    items = []
    if claim.required:
        items.append(
            f"Claim a credit within {plural(claim.window_days, 'day')} {CLAIM_AFTER[claim.after]}."
        )
        if claim.how:
            items.append(claim.how)
    else:
        items.append("Credits are applied without a claim.")
    items.append(f"Credits are applied to your {terms.applied_to}.")
    return tuple(items)
