"""Deliver outbox messages as JSON POSTs to a webhook (httpx)."""

from __future__ import annotations

import json

import httpx

from slakeeper.services.records import OutboxMessage


class WebhookNotifier:
    """POSTs each message to ``url``; any non-2xx answer or network error is a failure."""

    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        self.url = url
        self.client = httpx.Client(timeout=timeout_seconds)

    def send(self, message: OutboxMessage) -> None:
        body = {
            "topic": message.topic,
            "dedupe_key": message.dedupe_key,
            "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
            "payload": json.loads(message.payload),
        }
        response = self.client.post(
            self.url,
            json=body,
            headers={"Idempotency-Key": message.dedupe_key, "User-Agent": "slakeeper"},
        )
        response.raise_for_status()

    def close(self) -> None:
        self.client.close()


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
