"""Deliver outbox messages as JSON POSTs: signed webhooks (Standard Webhooks) and Slack.

A signed webhook carries the Standard Webhooks headers: ``webhook-id`` (the message's dedupe
key, so a receiver can drop a redelivery), ``webhook-timestamp`` (Unix seconds) and
``webhook-signature`` (``v1,`` + base64 of HMAC-SHA256 over ``id.timestamp.body`` with the
secret, which is given as ``whsec_`` + base64 of the key bytes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable

import httpx

from slakeeper.services.records import OutboxMessage


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of a body (Standard Webhooks, scheme ``v1``)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def _document(message: OutboxMessage) -> dict[str, object]:
    return {
        "topic": message.topic,
        "dedupe_key": message.dedupe_key,
        "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
        "payload": json.loads(message.payload),
    }


class WebhookNotifier:
    """POSTs each message to ``url``, signed when a ``secret`` is given; a non-2xx answer or a
    network error is a failure (the message is retried)."""

    def __init__(
        self,
        url: str,
        secret: str | None = None,
        timeout_seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.secret = secret
        self.clock = clock
        self.client = httpx.Client(timeout=timeout_seconds)

    def send(self, message: OutboxMessage) -> None:
        body = json.dumps(_document(message), sort_keys=True).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "slakeeper"}
        if self.secret is not None:
            timestamp = int(self.clock())
            headers["webhook-id"] = message.dedupe_key
            headers["webhook-timestamp"] = str(timestamp)
            headers["webhook-signature"] = sign(self.secret, message.dedupe_key, timestamp, body)
        response = self.client.post(self.url, content=body, headers=headers)
        response.raise_for_status()

    def close(self) -> None:
        self.client.close()


class SlackNotifier:
    """Posts a one-line summary to a Slack-compatible incoming webhook."""

    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        self.url = url
        self.client = httpx.Client(timeout=timeout_seconds)

    def send(self, message: OutboxMessage) -> None:
        payload = json.loads(message.payload)
        clock = payload.get("clock") or {}
        what = "breached" if message.topic.endswith("breached") else "at risk"
        text = (
            f":rotating_light: request {payload.get('ticket')} ({payload.get('customer')}, "
            f"{payload.get('severity')}): {clock.get('clock')} target {what}, "
            f"due {clock.get('due_at')}"
        )
        self.client.post(self.url, json={"text": text}).raise_for_status()


class MemoryNotifier:
    """The fake: keeps what was sent; ``fail`` makes the next sends raise."""

    def __init__(self) -> None:
        self.sent: list[OutboxMessage] = []
        self.fail = 0

    def send(self, message: OutboxMessage) -> None:
        if self.fail > 0:
            self.fail -= 1
            raise ConnectionError("receiver unreachable")
        self.sent.append(message)
