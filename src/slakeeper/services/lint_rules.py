"""The rules of ``slakeeper policy lint``, one function per code (see ``docs/lint.md``).

Each rule reads a validated policy and yields ``(code, key path, message)``; the engine in
:mod:`slakeeper.services.lint` adds the severity and the line, and applies silences.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Literal

from slakeeper.domain.exclusions import ExclusionCategory
from slakeeper.policy import models as pm
from slakeeper.policy.source import Path, SourceMap
from slakeeper.services.agreement_words import list_words, percent, spell_duration, spell_target

Hit = tuple[str, Path, str]

MIN_MAINTENANCE_NOTICE = timedelta(hours=24)
MIN_DEFINITION_WORDS = 3
_NUMBERED_ID = re.compile(r"^(.*?)(\d+)$")
_AFTER = {pm.ClaimAfter.PERIOD_END: "the end of the period", pm.ClaimAfter.INCIDENT: "the incident"}


@dataclass(frozen=True)
class Document:
    """A validated policy and where its keys are written."""

    policy: pm.Policy
    source: SourceMap

    def written(self, path: Path) -> bool:
        """Whether ``path`` is written in the file (not left to a model default)."""
        return path in self.source.values


def run(policy: pm.Policy, source: SourceMap) -> Iterator[Hit]:
    """Every rule's findings, rule by rule in code order."""
    document = Document(policy, source)
    for rule in RULE_FUNCTIONS:
        yield from rule(document)


def _promised(policy: pm.Policy) -> Iterator[tuple[int, pm.Plan, Decimal]]:
    """Plans with a numeric uptime target, with their index and target."""
    for index, plan in enumerate(policy.plans):
        target = plan.uptime.target
        if target != "best-effort":
            yield index, plan, target


def _paid(plan: pm.Plan) -> bool:
    return plan.credits is not None and not isinstance(plan.credits.schedule, pm.NoneSchedule)


# --------------------------------------------------------------------------- seed 004
def undefined_service(document: Document) -> Iterator[Hit]:
    """SLA001: a plan promises uptime while ``scope.covered`` names no service."""
    policy = document.policy
    if policy.scope.covered:
        return
    for index, plan, target in _promised(policy):
        yield (
            "SLA001",
            ("plans", index, "uptime", "target"),
            f"plan '{plan.id}' promises {percent(target)} % uptime but scope.covered does not "
            "say which service is covered",
        )


def undescribed_measurement(document: Document) -> Iterator[Hit]:
    """SLA002: uptime promised on components nothing describes in words."""
    policy = document.policy
    for index, plan, target in _promised(policy):
        components = [policy.component(item) for item in plan.uptime.measured_on]
        if plan.uptime.definition or any(item.description for item in components):
            continue
        names = list_words([f"'{item.name}'" for item in components])
        yield (
            "SLA002",
            ("plans", index, "uptime", "definition"),
            f"plan '{plan.id}' promises {percent(target)} % uptime of {names} but neither "
            "uptime.definition nor a component description says what is measured",
        )


def support_not_separated(document: Document) -> Iterator[Hit]:
    """SLA003: support targets, but no enhancement types and no change-order rule."""
    policy = document.policy
    support = policy.support
    if not support.targets or support.request_types.enhancement or support.change_order:
        return
    yield (
        "SLA003",
        ("support", "request_types", "enhancement"),
        "support targets are promised but nothing separates support from enhancement work: "
        "list support.request_types.enhancement or give support.change_order",
    )


def vague_severities(document: Document) -> Iterator[Hit]:
    """SLA004: a severity whose description is empty, its own name, or under three words."""
    policy = document.policy
    for index, severity in enumerate(policy.severities):
        text = severity.description.strip().rstrip(".").strip()
        names = {name.lower() for name in (severity.id, severity.name, *severity.aliases)}
        if len(text.split()) >= MIN_DEFINITION_WORDS and text.lower() not in names:
            continue
        yield (
            "SLA004",
            ("severities", index, "description"),
            f"severity '{severity.id}' is not defined in plain language "
            f"('{severity.description.strip()}'): say what impact puts an issue in it",
        )


def uncontrolled_resolution(document: Document) -> Iterator[Hit]:
    """SLA005: a resolution target while the policy names third parties it does not control."""
    policy = document.policy
    third_parties = [
        "exclusions: third-party"
        for definition in policy.exclusions
        if definition.category is ExclusionCategory.THIRD_PARTY
    ][:1]
    third_parties += [
        f"{component.name} is run by {component.third_party}"
        for component in policy.components
        if component.third_party
    ]
    if not third_parties:
        return
    for index, target in enumerate(policy.support.targets):
        if target.resolution is None or target.resolution == "best-effort":
            continue
        yield (
            "SLA005",
            ("support", "targets", index, "resolution"),
            f"resolution within {spell_target(target.resolution)} for '{target.severity}' "
            f"depends on third parties the policy says it does not control "
            f"({'; '.join(third_parties)}): commit to response, or state resolution as best "
            "effort",
        )


def no_client_responsibilities(document: Document) -> Iterator[Hit]:
    """SLA006: ``customer_responsibilities`` is empty."""
    policy = document.policy
    if policy.customer_responsibilities:
        return
    yield (
        "SLA006",
        ("customer_responsibilities",),
        "the policy states no client responsibilities (contact, escalation channel, access, "
        "client-owned systems)",
    )


def reporting_undefined(document: Document) -> Iterator[Hit]:
    """SLA007: no metrics tracked, or no report and no status page for the customer."""
    policy = document.policy
    reporting = policy.reporting
    if not reporting.metrics:
        yield (
            "SLA007",
            ("reporting", "metrics"),
            "no monitored metrics are named: say which metrics are tracked and reported",
        )
    if not reporting.reports and reporting.status_page is None:
        yield (
            "SLA007",
            ("reporting", "reports"),
            "the customer receives no report and no status page is named",
        )


# --------------------------------------------------------------------------- consistency
def slo_looser_than_sla(document: Document) -> Iterator[Hit]:
    """SLA010: an availability SLO objective below the SLA target on the same component."""
    policy = document.policy
    for index, slo in enumerate(policy.slos):
        component = slo.sli.component
        if slo.sli.kind is not pm.SliKind.AVAILABILITY or component is None:
            continue
        promises = [
            (target, plan)
            for _, plan, target in _promised(policy)
            if component in plan.uptime.measured_on
        ]
        if not promises:
            continue
        strictest = max(target for target, _ in promises)
        if slo.objective >= strictest:
            continue
        plans = list_words([f"'{plan.id}'" for target, plan in promises if target == strictest])
        yield (
            "SLA010",
            ("slos", index, "objective"),
            f"internal SLO '{slo.id}' aims for {percent(slo.objective)} % availability of "
            f"'{component}', looser than the {percent(strictest)} % the SLA promises (plan "
            f"{plans}): the SLA is breached before the SLO's error budget is spent",
        )


TargetValue = timedelta | Literal["best-effort"] | pm.BusinessDays


@dataclass(frozen=True)
class _Clock:
    index: int
    value: TargetValue
    calendar: str


def resolution_before_response(document: Document) -> Iterator[Hit]:
    """SLA011: for one severity and plan, a resolution target shorter than the response."""
    policy = document.policy
    reported: set[tuple[int, int]] = set()
    for plan in policy.plans:
        clocks: dict[tuple[str, str], _Clock] = {}
        for index, target in enumerate(policy.support.targets):
            if target.plans and plan.id not in target.plans:
                continue
            severity_id = policy.severity(target.severity).id
            if target.response is not None:
                clocks[severity_id, "response"] = _Clock(index, target.response, target.calendar)
            if target.resolution is not None:
                clocks[severity_id, "resolution"] = _Clock(
                    index, target.resolution, target.calendar
                )
        for (severity_id, clock), fix in clocks.items():
            answer = clocks.get((severity_id, "response"))
            if clock != "resolution" or answer is None or (answer.index, fix.index) in reported:
                continue
            if not _shorter(policy, fix, answer):
                continue
            reported.add((answer.index, fix.index))
            yield (
                "SLA011",
                ("support", "targets", fix.index, "resolution"),
                f"severity '{severity_id}' on plan '{plan.id}': resolution in "
                f"{spell_target(fix.value)} is shorter than the response target of "
                f"{spell_target(answer.value)} (support.targets[{answer.index}].response)",
            )


def _shorter(policy: pm.Policy, fix: _Clock, answer: _Clock) -> bool:
    """Whether the resolution is due before the response whenever both clocks start together.

    Durations compare when both run in the same calendar, or when the resolution runs around
    the clock (open time never passes faster than wall time); business days compare in the
    same calendar. Other pairs are not comparable without a start instant and are skipped.
    """
    same = fix.calendar == answer.calendar
    if isinstance(fix.value, timedelta) and isinstance(answer.value, timedelta):
        around_the_clock = policy.calendar(fix.calendar).always_open
        return (same or around_the_clock) and fix.value < answer.value
    if isinstance(fix.value, pm.BusinessDays) and isinstance(answer.value, pm.BusinessDays):
        return same and fix.value.business_days < answer.value.business_days
    return False


def unstated_claim_window(document: Document) -> Iterator[Hit]:
    """SLA012: credits that must be claimed, with no claim window written in the policy."""
    for index, plan in enumerate(document.policy.plans):
        if not _paid(plan) or plan.credits is None or not plan.credits.claim.required:
            continue
        claim: Path = ("plans", index, "credits", "claim")
        if document.written((*claim, "window_days")):
            continue
        default = plan.credits.claim
        yield (
            "SLA012",
            claim,
            f"plan '{plan.id}' grants credits but writes no claim window: the default of "
            f"{default.window_days} days after {_AFTER[default.after]} applies unseen; "
            "state claim.window_days",
        )


def short_maintenance_notice(document: Document) -> Iterator[Hit]:
    """SLA013: maintenance is excluded with less than 24 hours of notice."""
    policy = document.policy
    notice = policy.maintenance.min_notice
    if notice >= MIN_MAINTENANCE_NOTICE:
        return
    yield (
        "SLA013",
        ("maintenance", "min_notice"),
        f"maintenance announced {spell_duration(notice)} ahead is excluded from downtime: "
        "give customers at least 24 hours (the seeds give 48)",
    )


def credits_without_exclusions(document: Document) -> Iterator[Hit]:
    """SLA014: a plan pays credits and honours no exclusion."""
    policy = document.policy
    for index, plan in enumerate(policy.plans):
        if not _paid(plan) or plan.exclusions.honoured:
            continue
        yield (
            "SLA014",
            ("plans", index, "exclusions", "honoured"),
            f"plan '{plan.id}' pays credits but honours no exclusion: outages the customer "
            "causes, force majeure and announced maintenance all earn credit",
        )


def best_effort_with_credits(document: Document) -> Iterator[Hit]:
    """SLA015: a best-effort plan whose credits block still promises credit terms."""
    policy = document.policy
    for index, plan in enumerate(policy.plans):
        credits = plan.credits
        if not plan.uptime.best_effort or credits is None:
            continue
        terms = {
            "schedule": not isinstance(credits.schedule, pm.NoneSchedule),
            "data_loss": credits.data_loss is not None,
            "cap_percent": credits.cap_percent is not None,
            "minimum_amount": credits.minimum_amount is not None,
            "exclusive_remedy": credits.exclusive_remedy,
        }
        for term, listed in terms.items():
            if listed:
                yield (
                    "SLA015",
                    ("plans", index, "credits", term),
                    f"best-effort plan '{plan.id}' promises no uptime but still lists "
                    f"credits.{term}: drop it, or give the plan an uptime target",
                )


def skipped_severities(document: Document) -> Iterator[Hit]:
    """SLA016: numbered severity ids (``p0``, ``p2``) with a number missing in between."""
    policy = document.policy
    ladders: dict[str, list[tuple[int, int]]] = {}
    for index, severity in enumerate(policy.severities):
        match = _NUMBERED_ID.match(severity.id)
        if match:
            ladders.setdefault(match.group(1), []).append((int(match.group(2)), index))
    for prefix, rungs in sorted(ladders.items()):
        numbers = sorted(number for number, _ in rungs)
        first = 0 if numbers[0] == 0 else 1
        missing = [n for n in range(first, numbers[-1] + 1) if n not in numbers]
        if not missing:
            continue
        after = min(index for number, index in rungs if number > missing[0])
        skipped = list_words([f"'{prefix}{number}'" for number in missing])
        yield (
            "SLA016",
            ("severities", after, "id"),
            f"the severity ladder skips {skipped}: number severities without gaps so "
            "customers do not look for a level that does not exist",
        )


RULE_FUNCTIONS: tuple[Callable[[Document], Iterator[Hit]], ...] = (
    undefined_service,
    undescribed_measurement,
    support_not_separated,
    vague_severities,
    uncontrolled_resolution,
    no_client_responsibilities,
    reporting_undefined,
    slo_looser_than_sla,
    resolution_before_response,
    unstated_claim_window,
    short_maintenance_notice,
    credits_without_exclusions,
    best_effort_with_credits,
    skipped_severities,
)
