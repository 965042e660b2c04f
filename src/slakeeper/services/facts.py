"""The facts file of ``slakeeper evaluate``: what happened, checked against the policy.

All instants are RFC 3339 with an offset; a naive instant is an error. Unknown components,
regions, plans, customers or categories are errors that name the line.
"""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from slakeeper.policy.errors import PolicyError, Problem, did_you_mean, one_of
from slakeeper.policy.loader import validate_document
from slakeeper.policy.models import ExclusionCategory, Policy
from slakeeper.policy.overrides import CustomerOverrides, load_overrides_file
from slakeeper.policy.types import Identifier, Money, TimeZoneName

Path = tuple[str | int, ...]


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Span(_Fact):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> _Span:
        if self.end <= self.start:
            raise ValueError(
                f"end ({self.end.isoformat()}) must be after start ({self.start.isoformat()})"
            )
        return self


class CustomerFact(_Fact):
    id: Identifier
    plan: Identifier
    monthly_fee: Money | None = None
    annual_fee: Money | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    timezone: TimeZoneName | None = None
    start: AwareDatetime | None = None
    end: AwareDatetime | None = None
    overrides: str | None = None  # a CustomerOverrides file, relative to the facts file

    @model_validator(mode="after")
    def _contract(self) -> CustomerFact:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("the contract ends before it starts")
        return self


class DowntimeFact(_Span):
    component: Identifier
    region: Identifier | None = None
    reason: str | None = None


class MaintenanceFact(_Span):
    components: list[Identifier] = Field(min_length=1)
    announced_at: AwareDatetime
    reason: str | None = None


class ExclusionFact(_Span):
    category: ExclusionCategory
    components: list[Identifier] | None = None
    customer: Identifier | None = None
    reason: str | None = None

    @model_validator(mode="after")
    def _customer_caused_names_customer(self) -> ExclusionFact:
        if self.category is ExclusionCategory.CUSTOMER_CAUSED and self.customer is None:
            raise ValueError("a customer-caused exclusion must name its customer")
        return self


class DataLossFact(_Fact):
    customer: Identifier
    at: AwareDatetime
    reason: str | None = None


class Facts(_Fact):
    customers: list[CustomerFact] = Field(min_length=1)
    downtime: list[DowntimeFact] = Field(default_factory=list)
    maintenance: list[MaintenanceFact] = Field(default_factory=list)
    exclusions: list[ExclusionFact] = Field(default_factory=list)
    data_loss: list[DataLossFact] = Field(default_factory=list)


def load_facts(path: str | FilePath, policy: Policy) -> Facts:
    """Read and validate a facts file against ``policy``; raise :class:`PolicyError`."""
    file = FilePath(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([Problem(str(path), None, None, "", f"cannot read: {exc}")]) from None
    return validate_document(
        text, str(path), Facts, checks=lambda facts: check_facts(facts, policy)
    )


def load_customer_overrides(
    facts: Facts, facts_path: str | FilePath, policy: Policy
) -> dict[str, CustomerOverrides]:
    """Each customer's contract overrides (files named relative to the facts file)."""
    base = FilePath(facts_path).parent
    found: dict[str, CustomerOverrides] = {}
    for customer in facts.customers:
        if customer.overrides is not None:
            path = base / customer.overrides
            found[customer.id] = load_overrides_file(path, policy, customer.plan).overrides
    return found


def check_facts(facts: Facts, policy: Policy) -> list[tuple[Path, str]]:
    """References from the facts to the policy (and to the facts' own customers)."""
    findings: list[tuple[Path, str]] = []
    components = {component.id for component in policy.components}
    regions = {region.id for region in policy.regions}
    plans = {plan.id for plan in policy.plans}
    customers = {customer.id for customer in facts.customers}

    def known(path: Path, value: str, choices: set[str], what: str) -> None:
        if value not in choices:
            hint = did_you_mean(value, choices)
            findings.append((path, f"unknown {what} '{value}'{hint} (known: {one_of(choices)})"))

    seen: set[str] = set()
    for index, customer in enumerate(facts.customers):
        if customer.id in seen:
            findings.append(
                (("customers", index, "id"), f"customer '{customer.id}' is listed twice")
            )
        seen.add(customer.id)
        known(("customers", index, "plan"), customer.plan, plans, "plan")
        if customer.plan in plans:
            plan = policy.plan(customer.plan)
            basis = plan.credits.fee_basis.value if plan.credits else "monthly"
            if basis == "monthly" and customer.monthly_fee is None:
                findings.append(
                    (("customers", index), "monthly_fee is required (the plan bills monthly)")
                )
            if basis != "monthly" and customer.annual_fee is None:
                findings.append(
                    (("customers", index), f"annual_fee is required (the plan's fee is {basis})")
                )
    for index, down in enumerate(facts.downtime):
        known(("downtime", index, "component"), down.component, components, "component")
        if down.region is not None:
            known(("downtime", index, "region"), down.region, regions, "region")
    for index, window in enumerate(facts.maintenance):
        for position, component in enumerate(window.components):
            known(
                ("maintenance", index, "components", position), component, components, "component"
            )
    for index, exclusion in enumerate(facts.exclusions):
        for position, component in enumerate(exclusion.components or ()):
            known(("exclusions", index, "components", position), component, components, "component")
        if exclusion.customer is not None:
            known(("exclusions", index, "customer"), exclusion.customer, customers, "customer")
    for index, loss in enumerate(facts.data_loss):
        known(("data_loss", index, "customer"), loss.customer, customers, "customer")
    return findings
