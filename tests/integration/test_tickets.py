"""Support requests through the API, the SLA review, and at-risk/breach notifications, on both
stores; the webhook receiver is a real HTTP server on loopback."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from api_helpers import API_PREFIX, Api, assert_problem

from conftest import EXAMPLES, ROOT
from slakeeper.adapters.notify.webhook import MemoryNotifier, WebhookNotifier
from slakeeper.bootstrap import build_notifier
from slakeeper.services import notifications

SAAS = EXAMPLES / "generic-saas.yaml"
SAMPLE = ROOT / "examples" / "tickets" / "generic-saas-2026.csv"
FRIDAY_1730_NEW_YORK = "2026-03-06T22:30:00Z"


def open_ticket(api: Api, ticket_id: str, customer: str, severity: str = "urgent",
                opened_at: str = FRIDAY_1730_NEW_YORK) -> dict[str, Any]:  # fmt: skip
    answer = api.client.post(
        f"{API_PREFIX}/tickets",
        json={"id": ticket_id, "customer": customer, "severity": severity,
              "opened_at": opened_at},
        headers=api.headers(),
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def event(api: Api, ticket_id: str, **body: str) -> dict[str, Any]:
    answer = api.client.post(
        f"{API_PREFIX}/tickets/{ticket_id}/events", json=body, headers=api.headers()
    )
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_seed_003_urgent_targets_on_a_friday_evening_in_new_york(api: Api) -> None:
    api.upload_policy(SAAS)
    for plan in ("launch", "business", "enterprise"):
        api.customer(f"on-{plan}", plan=plan, monthly_fee=None, annual_fee="1200")
    due = {plan: open_ticket(api, f"T-{plan}", f"on-{plan}")["response"]["due_at"]
           for plan in ("launch", "business", "enterprise")}  # fmt: skip
    # Launch: 4 h of business hours (09-18): 30 min on Friday, 3 h 30 on Monday (now EDT).
    assert due["launch"] == "2026-03-09T16:30:00Z"
    # Business: 1 h of extended hours (06-22) on Friday. Enterprise: 1 h around the clock.
    assert due["business"] == "2026-03-06T23:30:00Z"
    assert due["enterprise"] == "2026-03-06T23:30:00Z"
    answered = {
        plan: event(api, f"T-{plan}", kind="responded", at="2026-03-09T14:00:00Z") for plan in due
    }
    assert answered["launch"]["response"]["state"] == "met"
    assert answered["business"]["response"]["state"] == "breached"
    assert answered["enterprise"]["response"]["state"] == "breached"
    history = api.client.get(f"{API_PREFIX}/tickets/T-launch", headers=api.headers()).json()
    assert [e["kind"] for e in history["events"]] == ["opened", "responded"]


def test_bad_requests_and_events_are_refused_with_the_field(api: Api) -> None:
    api.upload_policy(SAAS)
    api.customer("c1", plan="launch", monthly_fee=None, annual_fee="1200")
    answer = api.client.post(
        f"{API_PREFIX}/tickets",
        json={"id": "T-1", "customer": "c1", "severity": "urgnet"},
        headers=api.headers(),
    )
    body = assert_problem(answer, 422, "validation")
    assert "did you mean 'urgent'" in body["errors"][0]["message"]
    open_ticket(api, "T-1", "c1")
    early = api.client.post(
        f"{API_PREFIX}/tickets/T-1/events",
        json={"kind": "responded", "at": "2026-03-01T00:00:00Z"},
        headers=api.headers(),
    )
    assert_problem(early, 422, "validation")
    missing = api.client.get(f"{API_PREFIX}/tickets/T-404", headers=api.headers())
    assert_problem(missing, 404, "not-found")


def sample_customers(api: Api) -> None:
    api.upload_policy(SAAS)
    plans = {"acme-corp": "enterprise", "initech": "launch", "globex": "business",
             "hooli": "launch", "stark-labs": "enterprise", "umbrella": "developer"}  # fmt: skip
    for customer, plan in plans.items():
        api.customer(customer, plan=plan, monthly_fee=None, annual_fee="1200")


def post_csv(api: Api, text: str, dry_run: bool) -> Any:
    return api.client.post(
        f"{API_PREFIX}/tickets/import",
        params={"dry_run": str(dry_run).lower()},
        content=text.encode(),
        headers={**api.headers(), "Content-Type": "text/csv"},
    )


def test_the_sample_csv_imports_and_reviews(api: Api) -> None:
    sample_customers(api)
    text = SAMPLE.read_text(encoding="utf-8")
    dry = post_csv(api, text, dry_run=True)
    assert dry.json() == {"dry_run": True, "stored": 0, "rows": 41}
    assert api.client.get(f"{API_PREFIX}/tickets", headers=api.headers()).json()["items"] == []
    stored = post_csv(api, text, dry_run=False)
    assert stored.json()["stored"] == 41
    review = api.client.get(
        f"{API_PREFIX}/reports/support-review",
        params={"from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"},
        headers=api.headers(),
    ).json()
    assert review["requests"] == 41
    assert review["findings"], review
    assert any(row["breached"] for row in review["targets"])


def test_an_import_with_a_bad_row_stores_nothing_and_names_the_row(api: Api) -> None:
    sample_customers(api)
    text = "id,customer,severity,opened_at\nT-1,acme-corp,urgent,2026-01-05T09:12:00\n"
    dry = assert_problem(post_csv(api, text, dry_run=True), 422, "validation")
    assert dry["errors"][0]["row"] == 2
    assert dry["errors"][0]["field"] == "opened_at"
    assert_problem(post_csv(api, text, dry_run=False), 422)
    assert api.client.get(f"{API_PREFIX}/tickets", headers=api.headers()).json()["items"] == []


class Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 - shared with the test on purpose
    fail_first = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if Receiver.fail_first > 0:
            Receiver.fail_first -= 1
            self.send_response(503)
        else:
            Receiver.received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        del args


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    Receiver.fail_first = 1
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_a_breach_is_notified_once_audited_and_retried_until_delivered(
    api: Api, receiver: str
) -> None:
    api.upload_policy(SAAS)
    api.customer("big", plan="enterprise", monthly_fee=None, annual_fee="1200")
    now = api.container.clock.now()
    open_ticket(api, "T-late", "big", opened_at=(now - timedelta(hours=2)).isoformat())
    fake = MemoryNotifier()
    first = notifications.run_once(api.container.uow, fake, now)
    assert (first.written, first.delivered) == (1, 1)
    assert json.loads(fake.sent[0].payload)["clock"]["state"] == "breached"
    again = notifications.run_once(api.container.uow, fake, now + timedelta(minutes=5))
    assert again.written == 0, "a breach is notified once, also after a restart"
    audit = api.client.get(
        f"{API_PREFIX}/audit", params={"limit": "200"}, headers=api.headers()
    ).json()["items"]
    assert [e["entity_id"] for e in audit if e["action"] == "ticket.breached"] == ["T-late"]

    # A second breach, delivered to a real webhook that fails once: retried after backoff.
    open_ticket(api, "T-later", "big", opened_at=(now - timedelta(hours=3)).isoformat())
    webhook = WebhookNotifier(receiver)
    try:
        run = notifications.run_once(api.container.uow, webhook, now)
        assert (run.written, run.delivered, run.failed) == (1, 0, 1)
        assert notifications.deliver_due(api.container.uow, webhook, now) == (0, 0)
        later = now + timedelta(minutes=5)
        assert notifications.deliver_due(api.container.uow, webhook, later) == (1, 0)
    finally:
        webhook.close()
    with api.container.uow() as uow:
        outbox = {m.dedupe_key: m for m in uow.outbox.list(api.org.id)}
    retried = next(m for key, m in outbox.items() if key.startswith("T-later"))
    assert (retried.attempts, retried.delivered_at is not None) == (2, True)
    (delivered,) = Receiver.received
    assert delivered["topic"] == "ticket.breached"
    assert delivered["payload"]["ticket"] == "T-later"


def test_a_breach_is_emailed_through_a_real_smtp_server(api: Api) -> None:
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
    try:
        settings = api.container.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": port,
                    "notify_email": "oncall@example.test, sla@example.test"}
        )  # fmt: skip
        notifier = build_notifier(settings)
        assert notifier is not None
        api.upload_policy(SAAS)
        api.customer("big", plan="enterprise", monthly_fee=None, annual_fee="1200")
        now = api.container.clock.now()
        open_ticket(api, "T-mail", "big", opened_at=(now - timedelta(hours=2)).isoformat())
        run = notifications.run_once(api.container.uow, notifier, now)
        assert (run.written, run.delivered, run.failed) == (1, 1, 0)
    finally:
        controller.stop()
    (mail,) = received
    assert mail["Subject"] == "[slakeeper] request T-mail: response target breached"
    assert mail["To"] == "oncall@example.test, sla@example.test"
    assert "the response target is breached" in mail.get_payload()


def test_enhancements_and_tuning_past_the_threshold_are_change_orders(api: Api) -> None:
    api.upload_policy(EXAMPLES / "ai-agency.yaml")
    api.customer("shop", plan="priority")

    def opened(ticket_id: str, request_type: str, effort: str | None) -> dict[str, Any]:
        body = {"id": ticket_id, "customer": "shop", "severity": "medium",
                "type": request_type, "opened_at": "2026-11-16T15:00:00Z"}  # fmt: skip
        if effort is not None:
            body["effort"] = effort
        answer = api.client.post(f"{API_PREFIX}/tickets", json=body, headers=api.headers())
        assert answer.status_code == 201, answer.text
        return answer.json()  # type: ignore[no-any-return]

    small = opened("T-small", "minor-tuning", "2h")
    large = opened("T-large", "minor-tuning", "6h")
    feature = opened("T-feature", "net-new-feature", None)
    assert (small["change_order"], large["change_order"]) == (False, True)
    assert large["effort_seconds"] == 6 * 3600
    assert (feature["enhancement"], feature["change_order"]) == (True, True)
    assert feature["response"]["state"] == "no-target"
    assert small["response"]["state"] != "no-target"
    wrong = api.client.post(
        f"{API_PREFIX}/tickets",
        json={"id": "T-x", "customer": "shop", "severity": "medium", "type": "minor-tunning"},
        headers=api.headers(),
    )
    assert "did you mean 'minor-tuning'" in assert_problem(wrong, 422)["errors"][0]["message"]


class SignedReceiver(BaseHTTPRequestHandler):
    """Verifies the Standard Webhooks signature; answers 500 three times, then 204."""

    secret = "whsec_" + base64.b64encode(b"a test secret of some length").decode()
    received: list[dict[str, Any]] = []  # noqa: RUF012 - shared with the test on purpose
    failures_left = 3

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        signed = f"{self.headers['webhook-id']}.{self.headers['webhook-timestamp']}.".encode()
        expected = base64.b64encode(hmac.new(key, signed + body, hashlib.sha256).digest())
        signature = self.headers["webhook-signature"].removeprefix("v1,").encode()
        if not hmac.compare_digest(expected, signature):
            self.send_response(401)
        elif SignedReceiver.failures_left > 0:
            SignedReceiver.failures_left -= 1
            self.send_response(500)
        else:
            SignedReceiver.received.append(json.loads(body))
            self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        del args


def test_a_signed_webhook_that_fails_three_times_gets_the_message_once(api: Api) -> None:
    SignedReceiver.received = []
    SignedReceiver.failures_left = 3
    server = HTTPServer(("127.0.0.1", 0), SignedReceiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api.upload_policy(SAAS)
    api.customer("big", plan="enterprise", monthly_fee=None, annual_fee="1200")
    now = api.container.clock.now()
    open_ticket(api, "T-signed", "big", opened_at=(now - timedelta(hours=2)).isoformat())
    webhook = WebhookNotifier(
        f"http://127.0.0.1:{server.server_port}/hook", secret=SignedReceiver.secret
    )
    try:
        moments = [now + timedelta(hours=hour) for hour in range(6)]
        reports = [notifications.run_once(api.container.uow, webhook, moment) for moment in moments]
    finally:
        webhook.close()
        server.shutdown()
        server.server_close()
    assert [(r.delivered, r.failed) for r in reports[:4]] == [(0, 1), (0, 1), (0, 1), (1, 0)]
    assert sum(r.delivered for r in reports) == 1
    (message,) = SignedReceiver.received
    assert message["payload"]["ticket"] == "T-signed"
    outbox = api.client.get(f"{API_PREFIX}/outbox", headers=api.headers()).json()["items"]
    assert [(m["state"], m["attempts"]) for m in outbox] == [("delivered", 4)]


def test_a_message_that_never_gets_through_becomes_a_visible_dead_letter(api: Api) -> None:
    api.upload_policy(SAAS)
    api.customer("big", plan="enterprise", monthly_fee=None, annual_fee="1200")
    now = api.container.clock.now()
    open_ticket(api, "T-dead", "big", opened_at=(now - timedelta(hours=2)).isoformat())
    down = MemoryNotifier()
    down.fail = 1000
    for hour in range(notifications.MAX_ATTEMPTS + 3):
        notifications.run_once(api.container.uow, down, now + timedelta(hours=hour))
    dead = api.client.get(
        f"{API_PREFIX}/outbox", params={"state": "dead"}, headers=api.headers()
    ).json()["items"]
    assert [(m["attempts"], m["last_error"]) for m in dead] == [
        (notifications.MAX_ATTEMPTS, "ConnectionError: receiver unreachable")
    ]
    assert down.sent == []
