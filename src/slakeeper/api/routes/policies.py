"""Policy versions: upload (validated, immutable), list, read, activate, diff."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from slakeeper.api.deps import ContainerDep, Reader, Writer
from slakeeper.api.routes.common import Cursor, Limit, after_int
from slakeeper.api.schemas import (
    MAX_INT,
    Page,
    PolicyDiff,
    PolicyVersionPublic,
    PolicyVersionSource,
    encode_cursor,
)
from slakeeper.services import policy_versions
from slakeeper.services.errors import NotFound
from slakeeper.services.records import PolicyVersion

router = APIRouter(prefix="/policies", tags=["policies"])

VersionPath = Annotated[int, Path(ge=1, le=MAX_INT, description="A policy version number.")]

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/plain")
MAX_POLICY_BYTES = 1_000_000


def _public(version: PolicyVersion, active: int | None) -> PolicyVersionPublic:
    return PolicyVersionPublic.model_validate(policy_versions.version_json(version, active))


def _active_number(container: ContainerDep, org_id: str) -> int | None:
    with container.uow() as uow:
        org = uow.organisations.get(org_id)
    return org.active_policy_version if org else None


@router.post(
    "",
    response_model=PolicyVersionPublic,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    },
)
async def upload_policy(
    request: Request,
    principal: Writer,
    container: ContainerDep,
    activate: Annotated[bool, Query(description="Make it the active version.")] = True,
) -> PolicyVersionPublic:
    """Upload a policy (YAML body). A valid one becomes the next immutable version; an invalid
    one is a 422 problem listing every error with its line."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in YAML_TYPES:
        raise HTTPException(415, f"send the policy as application/yaml, not '{media or 'none'}'")
    raw = await request.body()
    if len(raw) > MAX_POLICY_BYTES:
        raise HTTPException(413, "a policy is at most 1 MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, "the policy must be UTF-8 text") from None

    def store() -> PolicyVersionPublic:
        with container.uow() as uow:
            version = policy_versions.upload(
                uow, principal, text, activate=activate, now=container.clock.now()
            )
            uow.commit()
        return _public(version, version.version if activate else None)

    return await run_in_threadpool(store)


@router.get("", response_model=Page[PolicyVersionPublic])
def list_policies(
    principal: Reader, container: ContainerDep, limit: Limit = 50, cursor: Cursor = None
) -> Page[PolicyVersionPublic]:
    """Every version, oldest first."""
    with container.uow() as uow:
        page = policy_versions.listing(uow, principal, after_int(cursor), limit)
        org = uow.organisations.get(principal.org_id)
    active = org.active_policy_version if org else None
    return Page[PolicyVersionPublic](
        items=[_public(item, active) for item in page.items],
        next_cursor=encode_cursor(page.next_cursor),
    )


@router.get("/active", response_model=PolicyVersionSource)
def active_policy(principal: Reader, container: ContainerDep) -> PolicyVersionSource:
    """The active version, with its YAML."""
    with container.uow() as uow:
        found = policy_versions.active(uow, principal.org_id)
    if found is None:
        raise NotFound("no policy is active: upload one")
    version = found[0]
    return PolicyVersionSource.model_validate(
        {**policy_versions.version_json(version, version.version), "source": version.source}
    )


@router.get("/{version}", response_model=PolicyVersionSource)
def get_policy(
    version: VersionPath, principal: Reader, container: ContainerDep
) -> PolicyVersionSource:
    """One version, with its YAML."""
    with container.uow() as uow:
        found = policy_versions.get(uow, principal, version)
    active = _active_number(container, principal.org_id)
    return PolicyVersionSource.model_validate(
        {**policy_versions.version_json(found, active), "source": found.source}
    )


@router.post("/{version}/activate", response_model=PolicyVersionPublic)
def activate_policy(
    version: VersionPath, principal: Writer, container: ContainerDep
) -> PolicyVersionPublic:
    """Make an earlier or later version the active one."""
    with container.uow() as uow:
        found = policy_versions.activate(uow, principal, version, container.clock.now())
        uow.commit()
    return _public(found, version)


@router.get("/{version}/diff", response_model=PolicyDiff)
def diff_policy(
    version: VersionPath,
    principal: Reader,
    container: ContainerDep,
    against: Annotated[int, Query(ge=1, le=MAX_INT, description="The version to compare with.")],
) -> PolicyDiff:
    """A unified diff from version ``against`` to ``version``."""
    with container.uow() as uow:
        text = policy_versions.diff(uow, principal, against, version)
    return PolicyDiff(old=against, new=version, diff=text)
