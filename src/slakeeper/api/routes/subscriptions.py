"""Subscriptions to a status page (public, no key) and their list for admins."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import Field, StringConstraints
from starlette.concurrency import run_in_threadpool

from slakeeper.api.deps import Admin, ContainerDep
from slakeeper.api.schemas import Slug, Strict
from slakeeper.services import subscriptions
from slakeeper.services.errors import Invalid

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


@public.post("/status/{org}/subscribe", response_class=HTMLResponse)
async def subscribe_form(org: OrgSlug, request: Request, container: ContainerDep) -> HTMLResponse:
    """The status page's form (works without JavaScript): subscribe an email address."""
    fields = parse_qs((await request.body())[:10_000].decode("utf-8", "replace"))
    email = (fields.get("email") or [""])[0].strip()
    components = [c for c in fields.get("component", []) if c]

    def store() -> None:
        with container.uow() as uow:
            subscriptions.subscribe(
                uow, org_slug=org, kind="email", target=email, components=components,
                now=container.clock.now(),
            )  # fmt: skip
            uow.commit()

    try:
        await run_in_threadpool(store)
    except Invalid as exc:
        return _page(org, "Not subscribed", f"{exc.message}. Go back and check the address.", 422)
    return _page(org, "Check your inbox", f"We sent a link to {email} to confirm.", 202)


def _page(org: str, title: str, text: str, status: int) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        '</title><meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,"></head><body><main>'
        f"<h1>{escape(title)}</h1><p>{escape(text)}</p>"
        f'<p><a href="/status/{escape(org)}">Back to the status page</a></p></main></body></html>',
        status_code=status,
    )


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
