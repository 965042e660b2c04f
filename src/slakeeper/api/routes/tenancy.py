"""The caller's organisation and its API keys."""

from __future__ import annotations

import re

from fastapi import APIRouter

from slakeeper.api.deps import Admin, ContainerDep, Reader
from slakeeper.api.schemas import KeyCreate, KeyCreated, KeyPublic, OrganisationPublic
from slakeeper.services import tenancy
from slakeeper.services.errors import NotFound

router = APIRouter(tags=["organisation"])
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@router.get("/organisation", response_model=OrganisationPublic)
def get_organisation(principal: Reader, container: ContainerDep) -> OrganisationPublic:
    """The organisation the key belongs to."""
    with container.uow() as uow:
        org = uow.organisations.get(principal.org_id)
    if org is None:
        raise NotFound("organisation does not exist")
    return OrganisationPublic(
        id=org.id,
        slug=org.slug,
        name=org.name,
        active_policy_version=org.active_policy_version,
        created_at=org.created_at,
    )


@router.get("/keys", response_model=list[KeyPublic])
def list_keys(principal: Admin, container: ContainerDep) -> list[KeyPublic]:
    """Every key of the organisation (never the secrets)."""
    with container.uow() as uow:
        keys = uow.keys.list(principal.org_id)
    return [KeyPublic.model_validate(tenancy.key_json(key)) for key in keys]


@router.post("/keys", response_model=KeyCreated, status_code=201)
def create_key(body: KeyCreate, principal: Admin, container: ContainerDep) -> KeyCreated:
    """Create a key. The secret is in this answer and nowhere else, ever."""
    with container.uow() as uow:
        issued = tenancy.create_key(
            uow,
            principal,
            name=body.name,
            scopes=body.scopes,
            customer_id=body.customer,
            now=container.clock.now(),
        )
        uow.commit()
    return KeyCreated.model_validate({**tenancy.key_json(issued.key), "key": issued.secret})


@router.post("/keys/{key_id}/revoke", response_model=KeyPublic)
def revoke_key(key_id: str, principal: Admin, container: ContainerDep) -> KeyPublic:
    """Revoke a key: it stops working at once."""
    if not _UUID.match(key_id):
        raise NotFound(f"key '{key_id}' does not exist")
    with container.uow() as uow:
        key = tenancy.revoke_key(uow, principal, key_id, container.clock.now())
        uow.commit()
    return KeyPublic.model_validate(tenancy.key_json(key))
