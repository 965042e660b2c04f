"""Deliver outbox messages as plain-text email over SMTP (the standard library's smtplib)."""

from __future__ import annotations

import json
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage

from slakeeper.services.ports import Notifier
from slakeeper.services.records import OutboxMessage


class EmailNotifier:
    """Sends each message to ``recipients`` through the SMTP server at ``host:port``."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        timeout_seconds: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = list(recipients)
        self.timeout_seconds = timeout_seconds

    def send(self, message: OutboxMessage) -> None:
        payload = json.loads(message.payload)
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = ", ".join(self.recipients)
        email["Subject"] = _subject(message.topic, payload)
        email["Message-ID"] = f"<{message.dedupe_key.replace(':', '.')}@slakeeper>"
        email.set_content(_body(message.topic, payload))
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
            smtp.send_message(email)


def _subject(topic: str, payload: dict[str, object]) -> str:
    clock = payload.get("clock")
    name = clock.get("clock", "") if isinstance(clock, dict) else ""
    what = "breached" if topic.endswith("breached") else "at risk"
    return f"[slakeeper] request {payload.get('ticket')}: {name} target {what}"


def _body(topic: str, payload: dict[str, object]) -> str:
    clock = payload.get("clock") if isinstance(payload.get("clock"), dict) else {}
    assert isinstance(clock, dict)
    lines = [
        f"Request {payload.get('ticket')} of {payload.get('customer')} "
        f"(severity {payload.get('severity')}): the {clock.get('clock')} target is "
        + ("breached." if topic.endswith("breached") else "at risk."),
        "",
        f"Due:      {clock.get('due_at')}",
        f"Elapsed:  {clock.get('elapsed_seconds')} s of business time "
        f"(target {clock.get('target_seconds')} s, calendar {clock.get('calendar')})",
        f"State:    {clock.get('state')}",
    ]
    return "\n".join(lines) + "\n"


class FanOutNotifier:
    """Sends to every notifier; any failure fails the message (it is retried: receivers
    deduplicate by the message's key)."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = list(notifiers)

    def send(self, message: OutboxMessage) -> None:
        for notifier in self.notifiers:
            notifier.send(message)
