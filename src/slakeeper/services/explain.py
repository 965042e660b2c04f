"""``slakeeper policy explain``: a readable summary of a policy, plan by plan."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from slakeeper.domain.money import round_half_up
from slakeeper.policy import compile as pc
from slakeeper.policy import models as pm
from slakeeper.policy.loader import LoadedPolicy
from slakeeper.policy.types import format_duration

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def human_seconds(value: Fraction) -> str:
    """2592 s -> ``43 min 12 s``; 2678.4 s -> ``44 min 38.4 s``; exact, no float."""
    whole_minutes, rest = divmod(value, 60)
    hours, minutes = divmod(int(whole_minutes), 60)
    parts = []
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    if rest or not parts:
        text = format(round_half_up(rest, 3), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        parts.append(f"{text} s")
    return " ".join(parts)


def explain(loaded: LoadedPolicy) -> str:
    policy = loaded.policy
    meta = policy.metadata
    lines = [
        f"{meta.title} ({meta.name}) by {meta.provider}",
        f"  policy sha256 {loaded.sha256[:16]}…  currency {meta.currency}  "
        f"periods: calendar months in {meta.timezone}",
    ]
    if meta.binding:
        lines.append(f"  {meta.binding}")
    for plan in policy.plans:
        lines.append("")
        lines.extend(_plan(policy, plan))
    lines.append("")
    lines.extend(_exclusions(policy))
    lines.extend(_operations(policy))
    return "\n".join(lines)


def _plan(policy: pm.Policy, plan: pm.Plan) -> list[str]:
    uptime = plan.uptime
    lines = [f"Plan {plan.name} [{plan.id}]"]
    measured = f" {uptime.component_rule.value} ".join(uptime.measured_on)
    regions = ", ".join(uptime.regions or [region.id for region in policy.regions])
    target = pc.target_ratio(plan)
    if target is None:
        lines.append(f"  Uptime: best effort (measured on {measured}; no commitment)")
    else:
        lines.append(
            f"  Uptime target: {_pct(target)} % monthly, measured on {measured}, "
            f"{uptime.region_rule.value} over {regions}"
        )
        allowed = ", ".join(
            f"{days} days: {human_seconds(pc.allowed_downtime(target, timedelta(days=days)))}"
            for days in (28, 30, 31)
        )
        lines.append(f"  Allowed downtime: {allowed}")
        rule = uptime.down_rule
        lines.append(
            f"  Down: a {format_duration(rule.slice)} slice with error rate above "
            f"{rule.error_rate_above} % ({', '.join(rule.error_statuses)}; at least "
            f"{rule.min_requests} requests); no data counts as {uptime.no_data.value}"
        )
    if plan.exclusions.honoured:
        honoured = ", ".join(category.value for category in plan.exclusions.honoured)
        lines.append(f"  Exclusions: {honoured} ({plan.exclusions.accounting.value})")
    lines.extend(_credits(plan, policy.metadata.currency))
    lines.extend(_support(policy, plan))
    return lines


def _credits(plan: pm.Plan, currency: str) -> list[str]:
    credits = plan.credits
    if credits is None or isinstance(credits.schedule, pm.NoneSchedule):
        lines = ["  Credits: none"]
    elif isinstance(credits.schedule, pm.TiersSchedule):
        lines = ["  Credits (percent of the fee):"]
        for band in credits.schedule.bands:
            lines.append(f"    {_band(band):<28} {band.percent} %")
    else:
        rule = credits.schedule
        cap = f", capped at {rule.cap_days} days" if rule.cap_days is not None else ""
        lines = [
            f"  Credits: {rule.days_per_hour} day(s) of service per hour of excess downtime "
            f"(partial hours rounded {rule.partial_hours.value}){cap}"
        ]
    if credits is None:
        return lines
    if credits.data_loss is not None:
        right = " and a termination right" if credits.data_loss.termination_right else ""
        lines.append(f"  Data loss: {credits.data_loss.percent} % of the fee{right}")
    terms = []
    if credits.cap_percent is not None:
        terms.append(f"cap {credits.cap_percent} % per period")
    if credits.minimum_amount is not None:
        terms.append(f"minimum {credits.minimum_amount} {currency}")
    if credits.fee_basis is not pm.FeeBasis.MONTHLY:
        terms.append(f"fee basis {credits.fee_basis.value}")
    if not isinstance(credits.schedule, pm.NoneSchedule):
        claim = credits.claim
        if claim.required:
            terms.append(f"claim within {claim.window_days} days after the {claim.after.value}")
        else:
            terms.append("applied without a claim")
        if credits.exclusive_remedy:
            terms.append("exclusive remedy")
        terms.append(f"applied to {credits.applied_to}")
    if terms:
        lines.append(f"  Credit terms: {'; '.join(terms)}")
    return lines


def _band(band: pm.Band) -> str:
    text = "uptime"
    if band.uptime_at_least is not None:
        text = f"{band.uptime_at_least} % <= {text}"
    if band.uptime_above is not None:
        text = f"{band.uptime_above} % < {text}"
    if band.uptime_below is not None:
        text += f" < {band.uptime_below} %"
    if band.uptime_at_or_below is not None:
        text += f" <= {band.uptime_at_or_below} %"
    return text


def _support(policy: pm.Policy, plan: pm.Plan) -> list[str]:
    targets = [t for t in policy.support.targets if not t.plans or plan.id in t.plans]
    if not targets:
        return []
    lines = ["  Support targets:"]
    for target in targets:
        severity = policy.severity(target.severity)
        calendar = policy.calendar(target.calendar)
        clocks = []
        if target.response is not None:
            clocks.append(f"response {_target(target.response)}")
        if target.resolution is not None:
            clocks.append(f"resolution {_target(target.resolution)}")
        lines.append(f"    {severity.name:<10} {', '.join(clocks):<40} {_calendar(calendar)}")
    return lines


def _target(value: object) -> str:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, pm.BusinessDays):
        days = value.business_days
        return "next business day" if days == 1 else f"{days} business days"
    return str(value)


def _calendar(calendar: pm.Calendar) -> str:
    name = calendar.name or calendar.id
    if calendar.always_open:
        return f"[{name}: 24x7]"
    hours = "; ".join(
        f"{_days(entry.days)} {', '.join(_range(r) for r in entry.hours)}"
        for entry in calendar.schedule
    )
    holidays = ""
    if calendar.holidays.countries or calendar.holidays.dates:
        countries = [
            c.country + (f"-{c.subdivision}" if c.subdivision else "")
            for c in calendar.holidays.countries
        ]
        dates = [d.isoformat() for d in calendar.holidays.dates]
        holidays = f", closed on {', '.join(countries + dates)} holidays"
    return f"[{name}: {hours} {calendar.timezone}{holidays}]"


def _days(days: tuple[int, ...]) -> str:
    if len(days) > 2 and list(days) == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAY_NAMES[days[0]]}-{WEEKDAY_NAMES[days[-1]]}"
    return ",".join(WEEKDAY_NAMES[day] for day in days)


def _range(value: tuple[int, int]) -> str:
    start, end = value
    end_of_day = end if end <= 1440 else end - 1440
    return f"{start // 60:02d}:{start % 60:02d}-{end_of_day // 60:02d}:{end_of_day % 60:02d}"


def _exclusions(policy: pm.Policy) -> list[str]:
    if not policy.exclusions:
        return []
    lines = ["Exclusions"]
    for definition in policy.exclusions:
        scope = " (that customer only)" if definition.customer_scoped else ""
        lines.append(f"  {definition.category.value}{scope}: {definition.description}")
    return lines


def _operations(policy: pm.Policy) -> list[str]:
    notice = policy.maintenance.min_notice
    hours, rest = divmod(notice, timedelta(hours=1))
    spelled = f"{hours} hours" if not rest else format_duration(notice)
    lines = [
        f"Maintenance: excluded when announced at least {spelled} ahead; overruns are downtime"
    ]
    rules = policy.post_incident_reports
    if rules is not None:
        names = ", ".join(policy.severity(s).name for s in rules.severities)
        lines.append(
            f"Post-incident reports: {names}, due {rules.due_business_days} business days "
            f"after resolution ({rules.calendar})"
        )
    return lines


def _pct(ratio: Fraction) -> str:
    value = ratio * 100
    return format(Decimal(value.numerator) / Decimal(value.denominator), "f")
