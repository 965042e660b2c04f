"""Generated months: the demo's organisations, and many customers for the proof of the close.

Both generators are seeded and deterministic: the same policy, period and seed give the same
month. Every outage, window, incident and request is placed by construction, so the facts file
of the month (``demo_script.facts_files``) is written from the script, not read back from a
store.

- :func:`demo_month`: one organisation on a policy (the slug is the policy's name) with two to
  four customers on its plans (fees, time zones, a contract that starts mid-month) and a
  realistic month: an outage with its incident and post-incident report, a force-majeure (or
  upstream) outage partly excluded, a regional outage, short blips, maintenance announced in time
  that overran and maintenance announced too late, an incident for one customer partly of its
  own doing, support requests with responses, pauses, reopenings and resolutions, and, where a
  plan credits it, a data-loss event for one customer.
- :func:`population`: N customers on one policy (plans, fees and time zones varied, contracts
  starting and ending mid-month), component-wide outages, incidents naming a few customers (they
  count only for them), a few customer-caused exclusions, and support requests.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from slakeeper.policy.loader import load_policy_text
from slakeeper.policy.models import Plan, Policy
from slakeeper.services.demo_events import MINUTE, MonthBuilder
from slakeeper.services.demo_script import DemoCustomer, MonthScript

#: Zones of the demo's customers, and the wider set of the population (half-hour and
#: quarter-hour offsets, both sides of the date line, DST in both hemispheres).
ZONES = ("Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
         "Australia/Sydney", "Europe/London", "Asia/Kolkata", "America/Sao_Paulo")  # fmt: skip
WIDE_ZONES = (*ZONES, "UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Australia/Lord_Howe",
              "America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham")  # fmt: skip
COMPANIES = (
    "ACME Corp", "Globex", "Initech", "Umbrella Health", "Hooli", "Stark Logistics",
    "Wayne Analytics", "Cyberdyne Labs", "Soylent Foods", "Tyrell Robotics", "Wonka Retail",
    "Vandelay Imports", "Pied Piper", "Massive Dynamic", "Aperture Science", "Nakatomi Trading",
    "Monarch Travel", "Dunder Paper", "Sterling Cooper", "Prestige Worldwide",
)  # fmt: skip
FIRST = ("Blue", "Red", "North", "Silver", "Bright", "Quiet", "Rapid", "Golden", "Iron", "Clear",
         "Swift", "Cedar", "Harbor", "Summit", "Prairie", "Coral")  # fmt: skip
SECOND = ("Harbor", "Peak", "Labs", "Systems", "Works", "Cloud", "Data", "Bank", "Health",
          "Retail", "Media", "Logistics", "Energy", "Games", "Foods", "Motors")  # fmt: skip
SUFFIXES = ("Inc", "Ltd", "GmbH", "SAS", "BV", "KK", "Pty")
PAID_FEES = ("650.00", "900.00", "1250.00", "1800.00", "2400.00", "4800.00", "1249.99")
FREE_FEES = ("0", "29.00", "49.00", "99.00")


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """The month ``YYYY-MM`` in UTC."""
    year, month = (int(part) for part in period.split("-"))
    start = datetime(year, month, 1, tzinfo=UTC)
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, following


def previous_month(now: datetime) -> str:
    """The last calendar month, or the one before during the first day of a month (so that it
    has ended in every customer's time zone)."""
    first = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if now - first < timedelta(days=1):
        first = (first - timedelta(days=1)).replace(day=1)
    last = (first - timedelta(days=1)).replace(day=1)
    return f"{last.year}-{last.month:02d}"


def paid(plan: Plan) -> bool:
    return plan.credits is not None and plan.credits.schedule.type != "none"


def _fees(rng: random.Random, plan: Plan) -> tuple[Decimal | None, Decimal | None]:
    """(monthly, annual): annual when the plan's credits are a share of an annual fee."""
    fees = [Decimal(fee) for fee in (PAID_FEES if paid(plan) else FREE_FEES)]
    credits = plan.credits
    if credits is not None and credits.minimum_amount is not None:
        # Fees whose smallest credit clears the minimum, so that a credit can be owed.
        bands = getattr(credits.schedule, "bands", [])
        lowest = min((band.percent for band in bands), default=Decimal(100))
        fees = [f for f in fees if f * lowest / 100 >= credits.minimum_amount] or [max(fees)]
    fee = rng.choice(fees)
    if plan.credits is not None and plan.credits.fee_basis.value != "monthly":
        return None, fee * 12
    return fee, None


def _local_day(period: str, timezone: str, day: int, hour: int = 0) -> datetime:
    year, month = (int(part) for part in period.split("-"))
    return datetime(year, month, day, hour, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def _measured(policy: Policy, plan: Plan) -> list[str]:
    return [c for c in plan.uptime.measured_on if not policy.component(c).beta]


def _allowed_minutes(plan: Plan) -> int:
    """Allowed downtime of a 31-day month under the plan's target (45 for best effort)."""
    target = plan.uptime.target
    if target == "best-effort":
        return 45
    return int((100 - Decimal(target)) / 100 * 31 * 24 * 60)


def demo_month(policy_source: str, period: str, *, seed: int = 2026) -> MonthScript:
    """One organisation's month on the policy in ``policy_source`` (see the module)."""
    policy = load_policy_text(policy_source).policy
    slug = policy.metadata.name
    rng = random.Random(f"{seed}:{slug}")
    start, end = month_bounds(period)
    paying = [p for p in policy.plans if paid(p)]
    free = [p for p in policy.plans if not paid(p)]
    count = rng.randint(2, 4)
    plans = [*paying[:1], *free[:1], *paying[1:2]]
    plans += [rng.choice(policy.plans) for _ in range(count)]
    customers = []
    for index, name in enumerate(rng.sample(COMPANIES, count)):
        plan = plans[index]
        zone = policy.metadata.timezone if index == 0 else rng.choice(ZONES)
        monthly, annual = _fees(rng, plan)
        starts = _local_day(period, zone, 9) if index == 2 else None
        customers.append(
            DemoCustomer(_slug(name), name, plan.id, policy.metadata.currency, zone,
                         monthly, annual, contract_start=starts)
        )  # fmt: skip
    primary = paying[0] if paying else policy.plans[0]
    measured = _measured(policy, primary)
    month = MonthBuilder(policy, start, end, rng)
    major = _allowed_minutes(primary) * 11 // 10 + rng.randint(40, 90)
    first = month.major_outage(measured[0], major)
    month.excluded_outage(measured[-1], rng.randint(60, 120))
    month.regional_outage(measured[0])
    month.blips([*measured, *month.unmeasured[:1]], 3)
    month.maintenance_window((measured[0],), in_time=True)
    month.maintenance_window((measured[0],), in_time=False)
    month.customer_incident((customers[0],), measured[-1], caused=True)
    for customer in customers:
        month.tickets_for(customer, rng.randint(1, 3))
    losing = [c for c in customers if _credits_data_loss(policy.plan(c.plan))]
    if losing:
        month.lose_data(losing[min(1, len(losing) - 1)], first.steps[0].at + 15 * MINUTE)
    return _script(policy_source, policy, period, seed, tuple(customers), month)


def _credits_data_loss(plan: Plan) -> bool:
    return plan.credits is not None and plan.credits.data_loss is not None


def population(
    policy_source: str,
    period: str,
    *,
    customers: int,
    seed: int = 1,
    healthy_every_minutes: int = 10,
) -> MonthScript:
    """``customers`` customers on one policy, and a month of events (see the module); healthy
    traffic is reported every ``healthy_every_minutes`` (1: every minute, as a busy service's
    SDK does)."""
    policy = load_policy_text(policy_source).policy
    rng = random.Random(f"{seed}:{policy.metadata.name}:{customers}")
    start, end = month_bounds(period)
    weights = [3 if paid(p) else 1 for p in policy.plans]
    people: list[DemoCustomer] = []
    for index in range(customers):
        first, second = rng.choice(FIRST), rng.choice(SECOND)
        name = f"{first} {second} {rng.choice(SUFFIXES)}"
        plan = rng.choices(policy.plans, weights)[0]
        zone = rng.choice(WIDE_ZONES)
        monthly, annual = _fees(rng, plan)
        starts = ends = None
        roll = rng.random()
        if roll < 0.08:
            starts = _local_day(period, zone, rng.randint(2, 25), rng.randint(0, 23))
        elif roll < 0.11:
            ends = _local_day(period, zone, rng.randint(5, 27), rng.randint(0, 23))
        people.append(
            DemoCustomer(f"{_slug(first)}-{_slug(second)}-{index:05d}", name, plan.id,
                         policy.metadata.currency, zone, monthly, annual, starts, ends)
        )  # fmt: skip
    primary = next((p for p in policy.plans if paid(p)), policy.plans[0])
    measured = _measured(policy, primary)
    month = MonthBuilder(policy, start, end, rng)
    first_incident = month.major_outage(measured[0], rng.randint(50, 100))
    month.major_outage(measured[-1], rng.randint(30, 60), late_postmortem=True)
    month.excluded_outage(measured[0], rng.randint(60, 120))
    month.regional_outage(measured[-1])
    month.blips(measured, 5)
    month.maintenance_window((measured[0],), in_time=True)
    month.maintenance_window(tuple(measured), in_time=False)
    for round_ in range(3):
        named = rng.sample(people, rng.randint(1, 3))
        month.customer_incident(tuple(named), rng.choice(measured), caused=round_ == 0)
    for customer in rng.sample(people, min(5, customers)):
        first_incident = month.caused_by(customer, first_incident)
    for customer in rng.sample(people, customers // 10):
        month.tickets_for(customer, 1)
    losing = [c for c in people if _credits_data_loss(policy.plan(c.plan))]
    for customer in rng.sample(losing, min(2, len(losing))):
        month.lose_data(customer, first_incident.steps[0].at)
    script = _script(policy_source, policy, period, seed, tuple(people), month)
    return replace(script, healthy_every_minutes=healthy_every_minutes)


def _script(
    source: str,
    policy: Policy,
    period: str,
    seed: int,
    customers: tuple[DemoCustomer, ...],
    month: MonthBuilder,
) -> MonthScript:
    return MonthScript(
        slug=policy.metadata.name, name=policy.metadata.provider, policy_source=source,
        policy=policy, period=period, start=month.start, end=month.end,
        created_at=month.start - timedelta(days=14, hours=-9), seed=seed, customers=customers,
        outages=tuple(month.outages), maintenance=tuple(month.maintenance),
        incidents=tuple(month.incidents), tickets=tuple(month.tickets),
        data_loss=tuple(month.data_loss),
    )  # fmt: skip
