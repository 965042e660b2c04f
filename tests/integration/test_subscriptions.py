"""Status-page subscriptions end to end: double opt-in email through a real SMTP server,
per-component filtering, unsubscribe links, webhook subscribers."""

from __future__ import annotations

import json
import re
import socket
from typing import Any
from urllib.parse import urlsplit

from api_helpers import API_PREFIX, Api, assert_problem

from slakeeper.adapters.notify.subscribers import SubscriberNotifier
from slakeeper.services import notifications


def smtp_sink() -> tuple[Any, list[Any]]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    received: list[Any] = []

    class Collect(MessageHandler):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    return controller, received


def body(message: Any) -> str:
    return str(message.get_payload(decode=True).decode("utf-8"))


def link(text: str, name: str) -> str:
    found = re.search(rf"(http://example\.test/status/\S*{name}\S*)", text)
    assert found, text
    parts = urlsplit(found.group(1))
    return f"{parts.path}?{parts.query}"


def test_email_subscribers_confirm_hear_of_their_components_and_can_leave(api: Api) -> None:
    api.upload_policy()
    controller, received = smtp_sink()
    port = controller.port
    notifier = SubscriberNotifier("http://example.test", smtp_host="127.0.0.1", smtp_port=port,
                                  sender="status@example.test")  # fmt: skip
    uow, clock = api.container.uow, api.container.clock
    try:
        for address, components in (("ops@example.test", ["ingest-api"]),
                                    ("ui@example.test", ["dashboard"])):  # fmt: skip
            answer = api.client.post(
                "/status/acme/subscriptions",
                json={"kind": "email", "target": address, "components": components},
            )
            assert answer.json()["state"] == "pending", answer.text
        notifications.run_once(uow, None, clock.now(), subscribers=notifier)
        assert {m["To"] for m in received} == {"ops@example.test", "ui@example.test"}
        # Nothing is sent to an unconfirmed address.
        api.client.post(f"{API_PREFIX}/incidents", headers=api.headers(), json={
            "id": "INC-1", "title": "Ingest down", "severity": "sev-2",
            "components": {"ingest-api": "major-outage"}})  # fmt: skip
        notifications.run_once(uow, None, clock.now(), subscribers=notifier)
        assert len(received) == 2
        for message in list(received):
            confirmed = api.client.get(link(body(message), "confirm"))
            assert confirmed.json() == {"state": "active"}, confirmed.text
        api.client.post(f"{API_PREFIX}/incidents/INC-1/updates", headers=api.headers(), json={
            "status": "identified", "message": "A bad deploy"})  # fmt: skip
        notifications.run_once(uow, None, clock.now(), subscribers=notifier)
        (update,) = received[2:]
        assert update["To"] == "ops@example.test"  # the dashboard subscriber is not told
        assert "A bad deploy" in body(update)
        assert update["List-Unsubscribe"].startswith("<http://example.test/status/acme/")
        left = api.client.get(link(body(update), "unsubscribe"))
        assert left.json() == {"state": "unsubscribed"}
        api.client.post(f"{API_PREFIX}/incidents/INC-1/updates", headers=api.headers(), json={
            "status": "resolved", "message": "Rolled back"})  # fmt: skip
        notifications.run_once(uow, None, clock.now(), subscribers=notifier)
        assert len(received) == 3
    finally:
        controller.stop()
    states = api.client.get(f"{API_PREFIX}/subscribers", headers=api.headers()).json()["items"]
    assert sorted(s["state"] for s in states) == ["active", "unsubscribed"]
    assert all("token" not in json.dumps(s) for s in states)


def test_forged_links_and_bad_addresses_are_refused(api: Api) -> None:
    api.upload_policy()
    bad = api.client.post("/status/acme/subscriptions", json={"kind": "email", "target": "nope"})
    assert_problem(bad, 422, "validation")
    unknown = api.client.post(
        "/status/nobody/subscriptions", json={"kind": "email", "target": "a@b.test"}
    )
    assert_problem(unknown, 404, "not-found")
    forged = api.client.get(
        "/status/acme/subscriptions/unsubscribe", params={"id": "x", "sig": "y"}
    )
    assert_problem(forged, 404, "not-found")
    confirm = api.client.get("/status/acme/subscriptions/confirm", params={"token": "guess"})
    assert_problem(confirm, 404, "not-found")
