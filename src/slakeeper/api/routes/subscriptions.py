"""Subscriptions to a status page (public, no key) and their list for admins."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field, StringConstraints

from slakeeper.api.deps import Admin, ContainerDep
from slakeeper.api.schemas import Slug, Strict
from slakeeper.services import subscriptions

public = APIRouter(tags=["status page"])
admin = APIRouter(tags=["status page"])

OrgSlug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


class SubscriptionCreate(Strict):
    kind: Literal["email", "webhook"]
    target: Annotated[str, StringConstraints(min_length=3, max_length=500, pattern=r"^[^\x00\s]+$")]
    components: list[Slug] = Field(default_factory=list, description="None listed: all.")


@public.post("/status/{org}/subscriptions", status_code=202)
def subscribe(org: OrgSlug, body: SubscriptionCreate, container: ContainerDep) -> dict[str, Any]:
    """Subscribe to incident updates. An email address gets a confirmation link first (double
    opt-in); every message carries an unsubscribe link."""
    with container.uow() as uow:
        subscriber = subscriptions.subscribe(
            uow, org_slug=org, kind=body.kind, target=body.target,
            components=body.components, now=container.clock.now(),
        )  # fmt: skip
        uow.commit()
    state = subscriptions.subscriber_json(subscriber)["state"]
    return {"state": state, "detail": "check your inbox to confirm" if state == "pending" else ""}


@public.get("/status/{org}/subscriptions/confirm")
def confirm(
    org: OrgSlug, container: ContainerDep, token: Annotated[str, Query(max_length=100)]
) -> dict[str, str]:
    """Confirm an email subscription (the link in the confirmation message)."""
    del org
    with container.uow() as uow:
        subscriptions.confirm(uow, token, container.clock.now())
        uow.commit()
    return {"state": "active"}


@public.get("/status/{org}/subscriptions/unsubscribe")
def unsubscribe(
    org: OrgSlug,
    container: ContainerDep,
    id: Annotated[str, Query(max_length=64)],
    sig: Annotated[str, Query(max_length=128)],
) -> dict[str, str]:
    """Unsubscribe (the link in every message)."""
    with container.uow() as uow:
        subscriptions.unsubscribe(uow, org, id, sig, container.clock.now())
        uow.commit()
    return {"state": "unsubscribed"}


@admin.get("/subscribers")
def list_subscribers(principal: Admin, container: ContainerDep) -> dict[str, Any]:
    """The status page's subscribers (no tokens)."""
    with container.uow() as uow:
        found = uow.subscribers.list(principal.org_id)
    return {"items": [subscriptions.subscriber_json(s) for s in found]}
