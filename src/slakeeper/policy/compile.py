"""Turn validated policy models into the domain's values (calendars, credit terms, rules)."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from fractions import Fraction

from slakeeper.domain import calendars as dc
from slakeeper.domain import claims as dcl
from slakeeper.domain import credits as dk
from slakeeper.domain.downtime import ComponentRule, RegionRule
from slakeeper.domain.exclusions import ExclusionCategory
from slakeeper.domain.uptime import Accounting
from slakeeper.policy import models as pm
from slakeeper.policy.references import domain_band


def calendar(model: pm.Calendar) -> dc.Calendar:
    """The domain calendar of a policy calendar."""
    if model.always_open:
        return dc.Calendar(name=model.id, timezone=model.timezone, always_open=True)
    spans = tuple(
        dc.OpenSpan(
            weekday=day,
            start=time(start // 60, start % 60),
            end_minutes=end,
        )
        for entry in model.schedule
        for day in entry.days
        for start, end in entry.hours
    )
    return dc.Calendar(
        name=model.id,
        timezone=model.timezone,
        spans=spans,
        holiday_dates=frozenset(model.holidays.dates),
        holiday_countries=tuple(
            (country.country, country.subdivision) for country in model.holidays.countries
        ),
    )


def target_ratio(plan: pm.Plan) -> Fraction | None:
    """The plan's uptime target as an exact ratio (99.9 -> 999/1000); None for best effort."""
    target = plan.uptime.target
    if target == "best-effort":
        return None
    return Fraction(str(target)) / 100


def region_rule(plan: pm.Plan) -> RegionRule:
    return plan.uptime.region_rule


def component_rule(plan: pm.Plan) -> ComponentRule:
    return plan.uptime.component_rule


def accounting(plan: pm.Plan) -> Accounting:
    return plan.exclusions.accounting


def honoured(plan: pm.Plan) -> frozenset[ExclusionCategory]:
    return frozenset(plan.exclusions.honoured)


def credit_terms(plan: pm.Plan) -> dk.CreditTerms:
    """The plan's credit terms; a plan without credits (or best effort) owes none."""
    credits = plan.credits
    if credits is None:
        return dk.CreditTerms(schedule=dk.NoCredit())
    schedule: dk.CreditSchedule
    match credits.schedule:
        case pm.TiersSchedule(bands=bands):
            schedule = dk.TieredSchedule(tuple(domain_band(band) for band in bands))
        case pm.TimePerExcessSchedule() as rule:
            schedule = dk.TimePerExcessSchedule(
                days_per_hour=Fraction(str(rule.days_per_hour)),
                rounding=rule.partial_hours,
                cap_days=None if rule.cap_days is None else Fraction(str(rule.cap_days)),
            )
        case _:
            schedule = dk.NoCredit()
    data_loss = None
    if credits.data_loss is not None:
        data_loss = dk.DataLossSchedule(
            percent=Decimal(credits.data_loss.percent),
            termination_right=credits.data_loss.termination_right,
        )
    return dk.CreditTerms(
        schedule=schedule,
        data_loss=data_loss,
        cap_percent=credits.cap_percent,
        minimum_amount=credits.minimum_amount,
        proration=credits.fee_basis,
    )


def claim_window(plan: pm.Plan) -> dcl.ClaimWindow | None:
    if plan.credits is None or plan.credits.schedule.type == "none":
        return None
    claim = plan.credits.claim
    if not claim.required:
        return None
    return dcl.ClaimWindow(days=claim.window_days, after=claim.after)


def allowed_downtime(target: Fraction, period_length: timedelta) -> Fraction:
    """Allowed downtime in exact seconds for a period of ``period_length`` at ``target``."""
    micro = period_length // timedelta(microseconds=1)
    return (1 - target) * Fraction(micro, 1_000_000)
