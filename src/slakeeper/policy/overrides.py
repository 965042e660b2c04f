"""Customer overrides: one customer's contract terms on top of a plan, for the rendered agreement.

A small YAML document (``kind: CustomerOverrides``) names the customer and the terms their
contract changes: the uptime target, the credit schedule, cap, minimum and claim, the support
hours, and response or resolution targets per severity. :func:`apply_overrides` returns the
policy as it stands for that customer (the plan changed, every other plan as it was), so the
agreement is rendered, and can be checked, from exactly the terms that apply.

Example::

    apiVersion: slakeeper/v1
    kind: CustomerOverrides
    customer: Acme Corp
    plan: enterprise
    contract: Order form 2026-014
    uptime_target: 99.95
    credits:
      cap_percent: 30
      claim: {window_days: 45, after: period-end}
    support_targets:
      - {severity: urgent, response: 30m, resolution: 4h, calendar: 24x7}
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from slakeeper.domain.credits import check_bands
from slakeeper.policy import models as pm
from slakeeper.policy.errors import PolicyError, Problem, did_you_mean, one_of
from slakeeper.policy.loader import validate_document
from slakeeper.policy.references import check_references, domain_band
from slakeeper.policy.source import Path, dotted
from slakeeper.policy.types import Identifier, Money, Percent


class CreditOverrides(pm.Model):
    schedule: pm.Schedule | None = Field(
        None, description="Replaces the plan's credit schedule (same form as in a policy)."
    )
    cap_percent: Percent | None = Field(None, description="Replaces the cap, in percent.")
    minimum_amount: Money | None = Field(None, description="Replaces the minimum amount.")
    claim: pm.Claim | None = Field(None, description="Replaces the claim terms.")
    exclusive_remedy: bool | None = Field(None, description="Replaces the exclusive remedy.")


class ContractTarget(pm.Model):
    severity: str = Field(description="Severity id, name or alias.")
    response: pm.Target | None = Field(None, description="Time to first response.")
    resolution: pm.Target | None = Field(None, description="Time to resolution.")
    calendar: Identifier = Field(description="Calendar the clock runs in.")

    @model_validator(mode="after")
    def _has_a_target(self) -> ContractTarget:
        if self.response is None and self.resolution is None:
            raise ValueError("a support target needs a response or a resolution (or both)")
        return self

    def clocks(self) -> set[str]:
        return {clock for clock in ("response", "resolution") if getattr(self, clock) is not None}


class CustomerOverrides(pm.Model):
    api_version: Literal["slakeeper/v1"] = Field(
        alias="apiVersion", description="Always `slakeeper/v1`."
    )
    kind: Literal["CustomerOverrides"] = Field(description="Always `CustomerOverrides`.")
    customer: str = Field(
        min_length=1, description="The customer's name, as the agreement shows it."
    )
    plan: Identifier | None = Field(None, description="The plan these terms change.")
    contract: str | None = Field(None, description="The contract that agrees them.")
    uptime_target: Percent | None = Field(None, description="Replaces the uptime target.")
    credits: CreditOverrides | None = Field(None, description="Replaces credit terms.")
    support_hours: Identifier | None = Field(None, description="Replaces the support hours.")
    support_targets: list[ContractTarget] = Field(
        default_factory=list,
        description="Replace the plan's response or resolution target of a severity.",
    )


@dataclass(frozen=True)
class LoadedOverrides:
    overrides: CustomerOverrides
    sha256: str
    source: str


def load_overrides_file(path: str | FilePath, policy: pm.Policy, plan_id: str) -> LoadedOverrides:
    file = FilePath(path)
    try:
        text = file.read_bytes().decode("utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PolicyError([Problem(str(path), None, None, "", f"cannot read: {reason}")]) from None
    except UnicodeDecodeError:
        message = "the file is not UTF-8: save it as UTF-8"
        raise PolicyError([Problem(str(path), None, None, "", message)]) from None
    return load_overrides_text(text, str(path), policy, plan_id)


def load_overrides_text(
    text: str, filename: str, policy: pm.Policy, plan_id: str
) -> LoadedOverrides:
    """Validate ``text`` as overrides of ``plan_id`` in ``policy``; every problem at once."""
    overrides = validate_document(
        text,
        filename,
        CustomerOverrides,
        checks=lambda value: check_overrides(value, policy, plan_id),
    )
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedOverrides(overrides, sha256, filename)


def check_overrides(
    overrides: CustomerOverrides, policy: pm.Policy, plan_id: str
) -> list[tuple[Path, str]]:
    """Problems of ``overrides`` against the policy, as (key path, message) pairs."""
    plans = [plan.id for plan in policy.plans]
    if plan_id not in plans:
        hint = did_you_mean(plan_id, plans)
        return [((), f"unknown plan '{plan_id}'{hint} (defined: {one_of(plans)})")]
    if overrides.plan is not None and overrides.plan != plan_id:
        return [(("plan",), f"these overrides are for plan '{overrides.plan}', not '{plan_id}'")]
    findings: list[tuple[Path, str]] = []
    calendars = [calendar.id for calendar in policy.calendars]

    def calendar(path: Path, value: str) -> None:
        if value not in calendars:
            hint = did_you_mean(value, calendars)
            findings.append(
                (path, f"unknown calendar '{value}'{hint} (defined: {one_of(calendars)})")
            )

    if overrides.support_hours is not None:
        calendar(("support_hours",), overrides.support_hours)
    for index, target in enumerate(overrides.support_targets):
        calendar(("support_targets", index, "calendar"), target.calendar)
        try:
            policy.severity(target.severity)
        except KeyError:
            known = [severity.id for severity in policy.severities]
            hint = did_you_mean(target.severity, known)
            findings.append(
                (
                    ("support_targets", index, "severity"),
                    f"unknown severity '{target.severity}'{hint} (defined: {one_of(known)})",
                )
            )
    credits = overrides.credits
    if credits is not None:
        if policy.plan(plan_id).credits is None and credits.schedule is None:
            findings.append(
                (("credits",), f"plan '{plan_id}' has no credits: give credits.schedule too")
            )
        if isinstance(credits.schedule, pm.TiersSchedule):
            bands = tuple(domain_band(band) for band in credits.schedule.bands)
            findings += [(("credits", "schedule", "bands"), text) for text in check_bands(bands)]
    if findings:
        return findings
    effective = apply_overrides(policy, plan_id, overrides)
    return [
        ((), f"with these overrides the policy is inconsistent: {dotted(path)}: {message}")
        for path, message in check_references(effective)
    ]


def apply_overrides(policy: pm.Policy, plan_id: str, overrides: CustomerOverrides) -> pm.Policy:
    """``policy`` as it stands for the customer: ``plan_id`` changed as ``overrides`` say."""
    plan = policy.plan(plan_id)
    update: dict[str, object] = {}
    if overrides.uptime_target is not None:
        update["uptime"] = plan.uptime.model_copy(update={"target": overrides.uptime_target})
    if overrides.credits is not None:
        update["credits"] = _credits(plan.credits, overrides.credits)
    if overrides.support_hours is not None:
        update["support_hours"] = overrides.support_hours
    changed = plan.model_copy(update=update)
    targets = _targets(policy, plan_id, overrides.support_targets)
    return policy.model_copy(
        update={
            "plans": [changed if item.id == plan_id else item for item in policy.plans],
            "support": policy.support.model_copy(update={"targets": targets}),
        }
    )


def _credits(base: pm.Credits | None, change: CreditOverrides) -> pm.Credits:
    fields = {
        name: getattr(change, name)
        for name in ("schedule", "cap_percent", "minimum_amount", "claim", "exclusive_remedy")
        if getattr(change, name) is not None
    }
    if base is None:
        return pm.Credits.model_validate(fields)
    return base.model_copy(update=fields)


def _targets(
    policy: pm.Policy, plan_id: str, changes: list[ContractTarget]
) -> list[pm.SupportTarget]:
    """The support targets with ``plan_id``'s replaced per severity and clock."""
    replaced: dict[str, set[str]] = {}
    for change in changes:
        replaced.setdefault(policy.severity(change.severity).id, set()).update(change.clocks())
    every_plan = [plan.id for plan in policy.plans]
    out: list[pm.SupportTarget] = []
    for target in policy.support.targets:
        clocks = {clock for clock in ("response", "resolution") if getattr(target, clock)}
        gone = replaced.get(policy.severity(target.severity).id, set()) & clocks
        if (target.plans and plan_id not in target.plans) or not gone:
            out.append(target)
            continue
        others = [item for item in (target.plans or every_plan) if item != plan_id]
        if others:
            out.append(target.model_copy(update={"plans": others}))
        if clocks - gone:
            kept = {clock: None for clock in gone}
            out.append(target.model_copy(update={"plans": [plan_id], **kept}))
    out += [
        pm.SupportTarget(
            severity=change.severity,
            plans=[plan_id],
            response=change.response,
            resolution=change.resolution,
            calendar=change.calendar,
        )
        for change in changes
    ]
    return out


def overrides_from_mapping(
    data: dict[str, object], policy: pm.Policy, plan_id: str, customer: str, where: str
) -> CustomerOverrides:
    """Overrides given as a mapping (e.g. a customer's ``overrides`` in the API), validated like
    a file: ``apiVersion``, ``kind``, ``customer`` and ``plan`` may be left out."""
    document = {
        "apiVersion": "slakeeper/v1",
        "kind": "CustomerOverrides",
        "customer": customer,
        "plan": plan_id,
        **data,
    }
    try:
        overrides = CustomerOverrides.model_validate(document)
    except ValidationError as exc:
        raise PolicyError(
            [
                Problem(where, None, None, dotted(tuple(error["loc"])), error["msg"])
                for error in exc.errors(include_url=False)
            ]
        ) from None
    findings = check_overrides(overrides, policy, plan_id)
    if findings:
        raise PolicyError(
            [Problem(where, None, None, dotted(path), message) for path, message in findings]
        )
    return overrides
