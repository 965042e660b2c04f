"""Request and response bodies at the HTTP edge (separate from the domain's types)."""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from slakeeper.policy.types import TimeZoneName
from slakeeper.services.records import Scope

T = TypeVar("T")

SLUG_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
#: Free text: 1-200 characters, no NUL (which PostgreSQL cannot store).
Text = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]
#: The largest number a store's INTEGER column holds on every store (PostgreSQL: 32 bits).
MAX_INT = 2**31 - 1


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error of this API is answered."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganisationPublic(BaseModel):
    id: str
    slug: str
    name: str
    active_policy_version: int | None
    created_at: datetime


class KeyCreate(Strict):
    name: Text
    scopes: list[Scope] = Field(min_length=1)
    customer: Slug | None = Field(None, description="Bind a read key to one customer.")


class KeyPublic(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    customer: str | None
    created_at: str
    revoked_at: str | None
    last_used_at: str | None


class KeyCreated(KeyPublic):
    key: str = Field(description="The secret: shown this once, never again.")


class PolicyVersionPublic(BaseModel):
    version: int
    name: str
    sha256: str
    author_key_id: str | None
    created_at: str
    active: bool


class PolicyVersionSource(PolicyVersionPublic):
    source: str


class PolicyDiff(BaseModel):
    old: int
    new: int
    diff: str


Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class CustomerCreate(Strict):
    id: Slug
    name: Text
    plan: Slug
    monthly_fee: Money | None = None
    annual_fee: Money | None = None
    currency: Currency = "USD"
    billing_period: Annotated[str, StringConstraints(pattern=r"^monthly$")] = "monthly"
    timezone: TimeZoneName = "UTC"
    contract_start: AwareDatetime | None = None
    contract_end: AwareDatetime | None = None
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Per-customer overrides of plan terms (custom SLA)."
    )


class CustomerUpdate(Strict):
    name: Text | None = None
    plan: Slug | None = None
    monthly_fee: Money | None = None
    annual_fee: Money | None = None
    currency: Currency | None = None
    timezone: TimeZoneName | None = None
    contract_start: AwareDatetime | None = None
    contract_end: AwareDatetime | None = None
    overrides: dict[str, Any] | None = None


class CustomerPublic(BaseModel):
    id: str
    name: str
    plan: str
    monthly_fee: str | None
    annual_fee: str | None
    currency: str
    billing_period: str
    timezone: str
    contract_start: str | None
    contract_end: str | None
    overrides: dict[str, Any]
    version: int


class ComponentPublic(BaseModel):
    id: str
    name: str
    group: str | None
    fail_mode: str | None
    beta: bool
    third_party: str | None
    status: str


class AuditEntryPublic(BaseModel):
    seq: int
    at: str
    actor: str
    action: str
    entity_type: str
    entity_id: str
    before: Any
    after: Any
    prev_hash: str
    hash: str


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(value: str | None) -> str | None:
    if value is None:
        return None
    return base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        value = base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True)
        if not value or b"\x00" in value:
            raise ValueError("not a cursor")
        return value.decode("utf-8")
    except (ValueError, UnicodeError):
        raise ValueError("the cursor is not one this API gave out") from None
