"""Deliver messages addressed to one subscriber (``payload["to"]``): email or webhook."""

from __future__ import annotations

import json
import smtplib
from email.message import EmailMessage
from email.policy import SMTP

import httpx

from slakeeper.adapters.notify.webhook import sign
from slakeeper.services.records import OutboxMessage


class SubscriberNotifier:
    """Sends ``payload["to"]``-addressed messages; ``{base}`` in bodies becomes ``base_url``."""

    def __init__(
        self,
        base_url: str,
        *,
        smtp_host: str | None,
        smtp_port: int,
        sender: str,
        webhook_secret: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port
        self.sender = sender
        self.webhook_secret = webhook_secret
        self.timeout_seconds = timeout_seconds

    def send(self, message: OutboxMessage) -> None:
        payload = json.loads(message.payload)
        to = payload["to"]
        if to["kind"] == "email":
            self._email(message, payload, to["target"])
        else:
            self._webhook(message, payload, to["target"])

    def _email(self, message: OutboxMessage, payload: dict[str, object], address: str) -> None:
        if self.smtp_host is None:
            raise ConnectionError("no SMTP server configured (SLAKEEPER_SMTP_HOST)")
        # Long lines allowed, so a List-Unsubscribe URL is never folded into encoded words.
        email = EmailMessage(policy=SMTP.clone(max_line_length=998))
        email["From"] = self.sender
        email["To"] = address
        email["Subject"] = str(payload["subject"])
        email["Message-ID"] = f"<{message.dedupe_key.replace(':', '.')}@slakeeper>"
        links = payload.get("links")
        if isinstance(links, dict) and "unsubscribe" in links:
            email["List-Unsubscribe"] = f"<{self.base_url}{links['unsubscribe']}>"
        email.set_content(str(payload["body"]).replace("{base}", self.base_url))
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_seconds) as smtp:
            smtp.send_message(email)

    def _webhook(self, message: OutboxMessage, payload: dict[str, object], url: str) -> None:
        document = {key: value for key, value in payload.items() if key != "to"}
        body = json.dumps({"topic": message.topic, **document}, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "slakeeper"}
        if self.webhook_secret is not None:
            timestamp = int(message.created_at.timestamp())
            headers["webhook-id"] = message.dedupe_key
            headers["webhook-timestamp"] = str(timestamp)
            headers["webhook-signature"] = sign(
                self.webhook_secret, message.dedupe_key, timestamp, body
            )
        with httpx.Client(timeout=self.timeout_seconds) as client:
            client.post(url, content=body, headers=headers).raise_for_status()
