"""The render model of an agreement: sections of simple blocks, the same for every format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from slakeeper.policy import models as pm
from slakeeper.policy.overrides import CustomerOverrides


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class Subheading:
    text: str
    kind: ClassVar[str] = "subheading"


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    kind: ClassVar[str] = "bullets"


@dataclass(frozen=True)
class Terms:
    """Term and definition pairs (``Sev-1``: what it means)."""

    items: tuple[tuple[str, str], ...]
    kind: ClassVar[str] = "terms"


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kind: ClassVar[str] = "table"


Block = Paragraph | Subheading | Bullets | Terms | Table


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Agreement:
    title: str
    plan_name: str
    provider: str
    customer: str | None
    effective: str | None
    lead: tuple[str, ...]
    sections: tuple[Section, ...]
    policy_name: str
    policy_sha256: str
    overrides_sha256: str | None

    @property
    def byline(self) -> str:
        effective = f" · Effective {self.effective}" if self.effective else ""
        return f"Provider: {self.provider}{effective}"

    @property
    def subtitle(self) -> str:
        plan = f"{self.plan_name} plan"
        return f"{plan} · {self.customer}" if self.customer else plan


@dataclass(frozen=True)
class Context:
    policy: pm.Policy
    plan: pm.Plan
    overrides: CustomerOverrides | None = None

    @property
    def targets(self) -> list[pm.SupportTarget]:
        plan_id = self.plan.id
        return [t for t in self.policy.support.targets if not t.plans or plan_id in t.plans]
