"""Status-page subscriptions: email (double opt-in) or webhook, per component.

An email subscription is pending until its confirmation link is opened; the token in that link
is stored only as a hash. Every message to a subscriber carries an unsubscribe link, signed
with the stored hash so nobody else can forge it. Messages go through the outbox, addressed in
their payload (``to``); links are relative to the public URL, which the sender adds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import uuid
from datetime import datetime
from typing import Any

from slakeeper.policy.errors import did_you_mean, one_of
from slakeeper.services import policy_versions
from slakeeper.services.errors import Invalid, NotFound
from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import OutboxMessage, Subscriber, iso

KINDS = ("email", "webhook")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def unsubscribe_signature(subscriber: Subscriber) -> str:
    return hmac.new(
        subscriber.token_hash.encode(), subscriber.id.encode(), hashlib.sha256
    ).hexdigest()


def _links(org_slug: str, subscriber: Subscriber) -> dict[str, str]:
    return {
        "status_page": f"/status/{org_slug}",
        "unsubscribe": f"/status/{org_slug}/subscriptions/unsubscribe"
        f"?id={subscriber.id}&sig={unsubscribe_signature(subscriber)}",
    }


def subscribe(
    uow: UnitOfWork,
    *,
    org_slug: str,
    kind: str,
    target: str,
    components: list[str],
    now: datetime,
) -> Subscriber:
    """A new subscriber; an email one gets a confirmation message through the outbox."""
    org = uow.organisations.by_slug(org_slug)
    if org is None:
        raise NotFound(f"status page '{org_slug}' does not exist")
    if kind not in KINDS:
        raise Invalid("unknown kind", [{"field": "kind", "message": f"use {one_of(KINDS)}"}])
    if kind == "email" and not _EMAIL.match(target):
        raise Invalid("not an email address", [{"field": "target", "message": "not an address"}])
    if kind == "webhook" and not re.match(r"^https?://[^\s]+$", target):
        raise Invalid("not a URL", [{"field": "target", "message": "use an http(s) URL"}])
    found = policy_versions.active(uow, org.id)
    known = [c.id for c in found[1].policy.components] if found else []
    for component in components:
        if component not in known:
            raise Invalid(
                "unknown component",
                [{"field": "components", "message": f"unknown component '{component}'"
                  f"{did_you_mean(component, known)}"}],
            )  # fmt: skip
    token = secrets.token_urlsafe(24)
    subscriber = Subscriber(
        org_id=org.id, id=str(uuid.uuid4()), kind=kind, target=target,
        components=tuple(components), token_hash=_hash(token),
        confirmed_at=None if kind == "email" else now, unsubscribed_at=None, created_at=now,
    )  # fmt: skip
    uow.subscribers.add(subscriber)
    if kind == "email":
        confirm = f"/status/{org_slug}/subscriptions/confirm?token={token}"
        _queue(
            uow, subscriber, "subscription.confirm", now,
            subject=f"Confirm your subscription to the {org.name} status page",
            body=f"Open this link to confirm: {{base}}{confirm}\n\n"
            "If you did not ask for this, ignore this message.",
            links={"confirm": confirm}, key=f"confirm:{subscriber.id}",
        )  # fmt: skip
    return subscriber


def confirm(uow: UnitOfWork, token: str, now: datetime) -> Subscriber:
    subscriber = uow.subscribers.by_token(_hash(token))
    if subscriber is None or subscriber.unsubscribed_at is not None:
        raise NotFound("this confirmation link is not valid")
    if subscriber.confirmed_at is None:
        uow.subscribers.confirm(subscriber.org_id, subscriber.id, now)
    return subscriber


def unsubscribe(
    uow: UnitOfWork, org_slug: str, subscriber_id: str, sig: str, now: datetime
) -> None:
    org = uow.organisations.by_slug(org_slug)
    found = None
    if org is not None:
        found = next((s for s in uow.subscribers.list(org.id) if s.id == subscriber_id), None)
    if found is None or not hmac.compare_digest(unsubscribe_signature(found), sig):
        raise NotFound("this unsubscribe link is not valid")
    if found.unsubscribed_at is None:
        uow.subscribers.unsubscribe(found.org_id, found.id, now)


def notify_incident(
    uow: UnitOfWork,
    *,
    org_id: str,
    incident: dict[str, Any],
    components: list[str],
    now: datetime,
) -> int:
    """Queue one message per active subscriber whose components the update touches."""
    org = uow.organisations.get(org_id)
    if org is None:
        return 0
    update = incident["updates"][-1]
    queued = 0
    for subscriber in uow.subscribers.list(org_id):
        if not subscriber.active:
            continue
        if (
            subscriber.components
            and components
            and not set(subscriber.components) & set(components)
        ):
            continue
        _queue(
            uow, subscriber, "incident.update", now,
            subject=f"[{org.name}] {incident['title']}: {update['status']}",
            body=f"{update['message']}\n\nStatus: {update['status']} "
            f"(severity {incident['severity']})\nMore: {{base}}/status/{org.slug}\n"
            f"Unsubscribe: {{base}}{_links(org.slug, subscriber)['unsubscribe']}",
            links=_links(org.slug, subscriber), key=f"incident:{incident['id']}:"
            f"{update['seq']}:{subscriber.id}", extra={"incident": incident["id"],
            "update": update},
        )  # fmt: skip
        queued += 1
    return queued


def _queue(
    uow: UnitOfWork,
    subscriber: Subscriber,
    topic: str,
    now: datetime,
    *,
    subject: str,
    body: str,
    links: dict[str, str],
    key: str,
    extra: dict[str, Any] | None = None,
) -> None:
    payload = {
        "to": {"kind": subscriber.kind, "target": subscriber.target},
        "subject": subject,
        "body": body,
        "links": links,
        **(extra or {}),
    }
    uow.outbox.add(
        OutboxMessage(
            org_id=subscriber.org_id,
            dedupe_key=key,
            topic=topic,
            payload=json.dumps(payload, sort_keys=True, default=str),
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
    )


def subscriber_json(subscriber: Subscriber) -> dict[str, Any]:
    return {
        "id": subscriber.id,
        "kind": subscriber.kind,
        "target": subscriber.target,
        "components": list(subscriber.components),
        "state": "active"
        if subscriber.active
        else ("unsubscribed" if subscriber.unsubscribed_at else "pending"),
        "created_at": iso(subscriber.created_at),
        "confirmed_at": iso(subscriber.confirmed_at),
    }
