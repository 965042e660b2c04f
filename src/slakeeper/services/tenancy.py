"""Organisations and API keys: created once and shown once, stored hashed, scoped, revocable."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from slakeeper.services import audit
from slakeeper.services.errors import ConflictError, Invalid, NotFound
from slakeeper.services.ports import Conflict, UnitOfWork
from slakeeper.services.records import ApiKey, Organisation, Principal, Scope, iso

KEY_PREFIX = "slk_"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
#: ``last_used_at`` is written at most this often per key, so reads stay reads.
TOUCH_EVERY = timedelta(minutes=1)


def hash_key(secret: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is a safe one-way store for them."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    secret: str  # shown once, never stored


def key_json(key: ApiKey) -> dict[str, object]:
    """A key as the audit log and the API show it: never the secret or its hash."""
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": sorted(scope.value for scope in key.scopes),
        "customer": key.customer_id,
        "created_at": iso(key.created_at),
        "revoked_at": iso(key.revoked_at),
        "last_used_at": iso(key.last_used_at),
    }


def _new_key(
    org_id: str,
    name: str,
    scopes: Iterable[Scope],
    customer_id: str | None,
    created_by: str | None,
    now: datetime,
) -> IssuedKey:
    token = secrets.token_urlsafe(32)
    secret = f"{KEY_PREFIX}{token}"
    key = ApiKey(
        id=str(uuid.uuid4()),
        org_id=org_id,
        name=name,
        prefix=secret[: len(KEY_PREFIX) + 6],
        key_hash=hash_key(secret),
        scopes=frozenset(scopes),
        customer_id=customer_id,
        created_at=now,
        created_by=created_by,
    )
    return IssuedKey(key, secret)


def create_organisation(
    uow: UnitOfWork, *, slug: str, name: str, actor: str, now: datetime
) -> tuple[Organisation, IssuedKey]:
    """A new organisation and its first admin key."""
    if not _SLUG.match(slug):
        raise Invalid(
            f"'{slug}' is not a valid organisation slug: 2-63 lowercase letters, digits and '-'"
        )
    if uow.organisations.by_slug(slug) is not None:
        raise ConflictError(f"organisation '{slug}' exists already")
    org = Organisation(
        id=str(uuid.uuid4()),
        slug=slug,
        name=name,
        active_policy_version=None,
        audit_head_seq=0,
        audit_head_hash="",
        created_at=now,
    )
    try:
        uow.organisations.add(org)
    except Conflict:
        raise ConflictError(f"organisation '{slug}' exists already") from None
    issued = _new_key(org.id, "first admin key", [Scope.ADMIN], None, None, now)
    uow.keys.add(issued.key)
    audit.append(
        uow,
        org_id=org.id,
        actor=actor,
        action="organisation.created",
        entity_type="organisation",
        entity_id=org.id,
        before=None,
        after={"slug": slug, "name": name},
        at=now,
    )
    audit.append(
        uow,
        org_id=org.id,
        actor=actor,
        action="key.created",
        entity_type="api_key",
        entity_id=issued.key.id,
        before=None,
        after=key_json(issued.key),
        at=now,
    )
    return org, issued


def create_key(
    uow: UnitOfWork,
    principal: Principal,
    *,
    name: str,
    scopes: Sequence[Scope],
    customer_id: str | None,
    now: datetime,
) -> IssuedKey:
    if not scopes:
        raise Invalid("a key needs at least one scope", [{"field": "scopes", "message": "empty"}])
    if customer_id is not None:
        if set(scopes) != {Scope.READ}:
            raise Invalid(
                "a customer-scoped key can only read: give scopes ['read'] with a customer",
                [{"field": "scopes", "message": "only 'read' with a customer"}],
            )
        if uow.customers.get(principal.org_id, customer_id) is None:
            raise NotFound(f"customer '{customer_id}' does not exist")
    issued = _new_key(principal.org_id, name, scopes, customer_id, principal.key_id, now)
    uow.keys.add(issued.key)
    audit.record(
        uow, principal, "key.created", "api_key", issued.key.id, None, key_json(issued.key), now
    )
    return issued


def revoke_key(uow: UnitOfWork, principal: Principal, key_id: str, now: datetime) -> ApiKey:
    key = uow.keys.get(principal.org_id, key_id)
    if key is None:
        raise NotFound(f"key '{key_id}' does not exist")
    if key.revoked_at is None:
        uow.keys.revoke(principal.org_id, key_id, now)
        revoked = uow.keys.get(principal.org_id, key_id)
        assert revoked is not None
        audit.record(
            uow, principal, "key.revoked", "api_key", key_id, key_json(key), key_json(revoked), now
        )
        return revoked
    return key


def authenticate(uow: UnitOfWork, secret: str, now: datetime) -> Principal | None:
    """The principal of a key, or None for an unknown or revoked key."""
    if not secret.startswith(KEY_PREFIX):
        return None
    key = uow.keys.by_hash(hash_key(secret))
    if key is None or key.revoked_at is not None:
        return None
    if key.last_used_at is None or now - key.last_used_at >= TOUCH_EVERY:
        uow.keys.touch(key.id, now)
    return Principal(
        org_id=key.org_id,
        actor=f"key:{key.id}",
        scopes=key.granted,
        key_id=key.id,
        customer_id=key.customer_id,
    )


def cli_principal(org: Organisation) -> Principal:
    """The operator at the command line: acts as the organisation's admin."""
    return Principal(org_id=org.id, actor="cli", scopes=frozenset(Scope), key_id=None)
