"""Offline evaluation: a policy, a facts file and a period in; each customer's SLA result out.

This is the stable contract behind ``slakeeper evaluate``; the JSON shape built by
:func:`as_json` is documented in ``docs/user-guide.md`` and other tools rely on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from slakeeper.domain.claims import claim_deadline
from slakeeper.domain.credits import CreditResult, FeeBasis, compute_credit
from slakeeper.domain.downtime import component_downtime, service_downtime
from slakeeper.domain.exclusions import (
    Exclusion,
    ExclusionDecision,
    Maintenance,
    applicable_exclusions,
    service_excluded_windows,
)
from slakeeper.domain.intervals import Interval, IntervalSet
from slakeeper.domain.money import round_half_up
from slakeeper.domain.periods import Period, contract_span, parse_period
from slakeeper.domain.uptime import UptimeResult, compute_uptime
from slakeeper.policy import compile as pc
from slakeeper.policy.loader import LoadedPolicy
from slakeeper.policy.models import Plan, Policy
from slakeeper.policy.overrides import CustomerOverrides, apply_overrides
from slakeeper.services.facts import CustomerFact, Facts

MIN_DECIMALS = 6


@dataclass(frozen=True)
class IgnoredExclusion:
    category: str
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class CustomerEvaluation:
    customer: CustomerFact
    plan: Plan
    period: Period
    measured: IntervalSet
    uptime: UptimeResult
    credit: CreditResult
    claim_deadline: datetime | None
    applied: tuple[Exclusion, ...]
    ignored: tuple[IgnoredExclusion, ...]
    decimals: int
    currency: str
    overrides: CustomerOverrides | None = None


@dataclass(frozen=True)
class Evaluation:
    period_label: str
    policy_name: str
    policy_sha256: str
    customers: tuple[CustomerEvaluation, ...]


def evaluate(
    loaded: LoadedPolicy,
    facts: Facts,
    period_label: str,
    customer_id: str | None = None,
    overrides: Mapping[str, CustomerOverrides] | None = None,
) -> Evaluation:
    """Evaluate every customer of ``facts`` (or only ``customer_id``) for ``period_label``;
    a customer with contract ``overrides`` is judged by the plan as they change it."""
    policy = loaded.policy
    customers = [c for c in facts.customers if customer_id is None or c.id == customer_id]
    if not customers:
        known = ", ".join(c.id for c in facts.customers)
        raise LookupError(f"customer '{customer_id}' is not in the facts (known: {known})")
    contracts = overrides or {}
    results = tuple(
        evaluate_customer(
            apply_overrides(policy, customer.plan, contracts[customer.id])
            if customer.id in contracts
            else policy,
            facts,
            customer,
            period_label,
            contracts.get(customer.id),
        )
        for customer in customers
    )
    return Evaluation(period_label, policy.metadata.name, loaded.sha256, results)


def evaluate_customer(
    policy: Policy,
    facts: Facts,
    customer: CustomerFact,
    period_label: str,
    overrides: CustomerOverrides | None = None,
) -> CustomerEvaluation:
    plan = policy.plan(customer.plan)
    timezone = customer.timezone or policy.metadata.timezone
    period = parse_period(period_label, timezone)
    measured = contract_span(period, customer.start, customer.end)
    components = [
        component for component in plan.uptime.measured_on if not policy.component(component).beta
    ]
    regions = plan.uptime.regions or [region.id for region in policy.regions]
    per_component = _component_downtime(facts, components, regions, plan, period)
    downtime = service_downtime(per_component, components, pc.component_rule(plan))

    decision = applicable_exclusions(
        _exclusions(facts, period),
        _maintenance(facts, period),
        customer=customer.id,
        components=components,
        honoured=pc.honoured(plan),
        min_notice=policy.maintenance.min_notice,
    )
    excluded = service_excluded_windows(
        decision, per_component, components, pc.component_rule(plan)
    )
    uptime = compute_uptime(
        measured,
        downtime,
        excluded,
        accounting=pc.accounting(plan),
        target=pc.target_ratio(plan),
    )
    currency = customer.currency or policy.metadata.currency
    data_loss_events = sum(
        1 for loss in facts.data_loss if loss.customer == customer.id and measured.contains(loss.at)
    )
    credit = compute_credit(
        pc.credit_terms(plan),
        uptime=uptime,
        period=period,
        fee=FeeBasis(monthly_fee=customer.monthly_fee, annual_fee=customer.annual_fee),
        currency=currency,
        data_loss_events=data_loss_events,
    )
    window = pc.claim_window(plan)
    deadline = None
    if window is not None:
        deadline = claim_deadline(
            window,
            period=period,
            incident_ends=[interval.end for interval in uptime.counted_intervals],
        )
    return CustomerEvaluation(
        customer=customer,
        plan=plan,
        period=period,
        measured=measured,
        uptime=uptime,
        credit=credit,
        claim_deadline=deadline,
        applied=decision.applied,
        ignored=_ignored(decision),
        decimals=max(MIN_DECIMALS, plan.uptime.decimals),
        currency=currency,
        overrides=overrides,
    )


def _component_downtime(
    facts: Facts, components: Sequence[str], regions: Sequence[str], plan: Plan, period: Period
) -> dict[str, IntervalSet]:
    per_region: dict[str, dict[str, list[Interval]]] = defaultdict(lambda: defaultdict(list))
    everywhere: dict[str, list[Interval]] = defaultdict(list)
    for down in facts.downtime:
        if down.component not in components:
            continue
        interval = Interval(down.start, down.end)
        if down.region is None:
            everywhere[down.component].append(interval)
        elif down.region in regions:
            per_region[down.component][down.region].append(interval)
    rule = pc.region_rule(plan)
    return {
        component: component_downtime(
            {
                region: IntervalSet(intervals).clip(period.start, period.end)
                for region, intervals in per_region[component].items()
            },
            IntervalSet(everywhere[component]).clip(period.start, period.end),
            regions,
            rule,
        )
        for component in components
    }


def _exclusions(facts: Facts, period: Period) -> list[Exclusion]:
    return [
        Exclusion(
            category=fact.category,
            intervals=IntervalSet.single(fact.start, fact.end).clip(period.start, period.end),
            components=frozenset(fact.components) if fact.components else None,
            customer=fact.customer,
            reason=fact.reason or fact.category.value,
        )
        for fact in facts.exclusions
        if fact.start < period.end and fact.end > period.start
    ]


def _maintenance(facts: Facts, period: Period) -> list[Maintenance]:
    return [
        Maintenance(
            components=frozenset(fact.components),
            window=Interval(fact.start, fact.end),
            announced_at=fact.announced_at,
            reason=fact.reason or "scheduled maintenance",
        )
        for fact in facts.maintenance
        if fact.start < period.end and fact.end > period.start
    ]


def _ignored(decision: ExclusionDecision) -> tuple[IgnoredExclusion, ...]:
    out = []
    for record, reason in decision.ignored:
        if isinstance(record, Maintenance):
            out.append(
                IgnoredExclusion(
                    "scheduled-maintenance", record.window.start, record.window.end, reason
                )
            )
        else:
            start = record.intervals.start or datetime.min.replace(tzinfo=UTC)
            end = record.intervals.end or start
            out.append(IgnoredExclusion(record.category.value, start, end, reason))
    return tuple(out)


# --------------------------------------------------------------------------- rendering
def decimal_seconds(value: Fraction) -> str:
    """Exact seconds as a decimal string: whole when whole, else up to 6 places (µs)."""
    if value.denominator == 1:
        return str(value.numerator)
    text = format(round_half_up(value, 6), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def instant(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def as_json(evaluation: Evaluation) -> dict[str, object]:
    """The JSON document of ``slakeeper evaluate --format json``."""
    return {
        "period": evaluation.period_label,
        "policy": {"name": evaluation.policy_name, "sha256": evaluation.policy_sha256},
        "customers": [_customer_json(result) for result in evaluation.customers],
    }


def _customer_json(result: CustomerEvaluation) -> dict[str, object]:
    uptime = result.uptime
    credit = result.credit
    target = pc.target_ratio(result.plan)
    allowed = uptime.allowed_downtime_seconds
    return {
        "id": result.customer.id,
        "plan": result.plan.id,
        "period_start": instant(result.measured.start or result.period.start),
        "period_end": instant(result.measured.end or result.period.start),
        "measured_seconds": decimal_seconds(uptime.measured_seconds),
        "downtime_seconds": decimal_seconds(uptime.downtime_seconds),
        "excluded_seconds": decimal_seconds(uptime.excluded_seconds),
        "counted_downtime_seconds": decimal_seconds(uptime.counted_downtime_seconds),
        "allowed_downtime_seconds": None if allowed is None else decimal_seconds(allowed),
        "uptime_percent": format(uptime.percent(result.decimals), "f"),
        "target_percent": None if target is None else _percent(target),
        "met": uptime.met,
        "credit": {
            "percent": format(credit.percent, "f"),
            "days": None if credit.days is None else decimal_seconds(credit.days),
            "amount": format(credit.amount, "f"),
            "currency": credit.currency,
            "capped": credit.capped,
            "reason": credit.reason,
        },
        "termination_right": credit.termination_right,
        "overrides": None
        if result.overrides is None
        else {"customer": result.overrides.customer, "contract": result.overrides.contract},
        "claim_deadline": instant(result.claim_deadline),
        "exclusions": [
            {
                "category": exclusion.category.value,
                "start": instant(exclusion.intervals.start),
                "end": instant(exclusion.intervals.end),
                "reason": exclusion.reason,
            }
            for exclusion in result.applied
        ],
        "ignored_exclusions": [
            {
                "category": ignored.category,
                "start": instant(ignored.start),
                "end": instant(ignored.end),
                "reason": ignored.reason,
            }
            for ignored in result.ignored
        ],
    }


def _percent(ratio: Fraction) -> str:
    value = ratio * 100
    if value.denominator == 1:
        return str(value.numerator)
    return format(Decimal(value.numerator) / Decimal(value.denominator), "f")
