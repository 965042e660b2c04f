"""Policies on the server: every accepted upload is a new immutable version; one is active."""

from __future__ import annotations

import difflib
from datetime import datetime

from slakeeper.policy.errors import PolicyError
from slakeeper.policy.loader import LoadedPolicy, load_policy_text
from slakeeper.policy.models import Policy
from slakeeper.services import audit
from slakeeper.services.errors import Invalid, NotFound
from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import Page, PolicyVersion, Principal, iso


def version_json(version: PolicyVersion, active: int | None) -> dict[str, object]:
    return {
        "version": version.version,
        "name": version.name,
        "sha256": version.sha256,
        "author_key_id": version.author_key_id,
        "created_at": iso(version.created_at),
        "active": version.version == active,
    }


def upload(
    uow: UnitOfWork,
    principal: Principal,
    text: str,
    *,
    filename: str = "policy.yaml",
    activate: bool = True,
    now: datetime,
) -> PolicyVersion:
    """Validate ``text`` and store it as the next version (raises :class:`PolicyError`)."""
    loaded = load_policy_text(text, filename)
    org = uow.organisations.lock(principal.org_id)
    version = PolicyVersion(
        org_id=principal.org_id,
        version=uow.policies.latest_number(principal.org_id) + 1,
        name=loaded.policy.metadata.name,
        sha256=loaded.sha256,
        source=text,
        author_key_id=principal.key_id,
        created_at=now,
    )
    uow.policies.add(version)
    audit.record(
        uow,
        principal,
        "policy.uploaded",
        "policy_version",
        str(version.version),
        None,
        version_json(version, None),
        now,
    )
    if activate:
        _activate(uow, principal, version.version, org.active_policy_version, now)
    return version


def activate(uow: UnitOfWork, principal: Principal, number: int, now: datetime) -> PolicyVersion:
    version = get(uow, principal, number)
    org = uow.organisations.lock(principal.org_id)
    if org.active_policy_version != number:
        _activate(uow, principal, number, org.active_policy_version, now)
    return version


def _activate(
    uow: UnitOfWork, principal: Principal, number: int, previous: int | None, now: datetime
) -> None:
    uow.organisations.set_active_policy(principal.org_id, number)
    audit.record(
        uow,
        principal,
        "policy.activated",
        "organisation",
        principal.org_id,
        {"active_policy_version": previous},
        {"active_policy_version": number},
        now,
    )


def get(uow: UnitOfWork, principal: Principal, number: int) -> PolicyVersion:
    version = uow.policies.get(principal.org_id, number)
    if version is None:
        raise NotFound(f"policy version {number} does not exist")
    return version


def listing(
    uow: UnitOfWork, principal: Principal, after: int | None, limit: int
) -> Page[PolicyVersion]:
    items = list(uow.policies.list(principal.org_id, after, limit + 1))
    more = len(items) > limit
    items = items[:limit]
    return Page(items, str(items[-1].version) if more and items else None)


def active(uow: UnitOfWork, org_id: str) -> tuple[PolicyVersion, LoadedPolicy] | None:
    """The active version and its parsed policy, or None when none was uploaded."""
    org = uow.organisations.get(org_id)
    if org is None or org.active_policy_version is None:
        return None
    version = uow.policies.get(org_id, org.active_policy_version)
    if version is None:
        return None
    return version, parse(version)


_PARSED: dict[tuple[str, int], LoadedPolicy] = {}


def parse(version: PolicyVersion) -> LoadedPolicy:
    """The parsed policy of a stored version, kept for the next call (versions are immutable,
    so a parse is valid for as long as the text's hash is the same)."""
    key = (version.sha256, version.version)
    found = _PARSED.get(key)
    if found is not None:
        return found
    try:
        loaded = load_policy_text(version.source, f"policy version {version.version}")
    except PolicyError as exc:  # a stored version was valid when stored; the code changed
        raise Invalid(
            f"stored policy version {version.version} no longer validates: {exc}"
        ) from exc
    if len(_PARSED) >= 64:
        _PARSED.pop(next(iter(_PARSED)))
    _PARSED[key] = loaded
    return loaded


def active_policy(uow: UnitOfWork, org_id: str) -> Policy:
    found = active(uow, org_id)
    if found is None:
        raise Invalid("this organisation has no active policy: upload one first")
    return found[1].policy


def diff(uow: UnitOfWork, principal: Principal, old: int, new: int) -> str:
    """A unified diff of two versions' YAML."""
    before = get(uow, principal, old)
    after = get(uow, principal, new)
    lines = difflib.unified_diff(
        before.source.splitlines(keepends=True),
        after.source.splitlines(keepends=True),
        fromfile=f"version {old} ({before.sha256[:12]})",
        tofile=f"version {new} ({after.sha256[:12]})",
    )
    return "".join(lines)
