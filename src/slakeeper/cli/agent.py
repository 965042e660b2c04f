"""``slakeeper agent``: a probe agent for one region.

Every ``--interval`` seconds it checks each target (``component=URL``) with an HTTP GET: the
probe passes when the answer is 2xx or 3xx within ``--timeout``, and fails on any other status,
a timeout or a connection error. Results go to ``POST /api/v1/probes/results`` with a key of the
``probe`` scope, one Idempotency-Key per batch kept across retries; while the server cannot be
reached, batches wait (at most ``MAX_PENDING``, the oldest dropped and counted) and are sent
once it is back, so a short outage of the server loses no probe result.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import typer

from slakeeper.cli.common import CliError

MAX_PENDING = 1000


@dataclass(frozen=True)
class Target:
    component: str
    url: str


def parse_target(text: str) -> Target:
    component, separator, url = text.partition("=")
    if not separator or not component or not url.startswith(("http://", "https://")):
        raise CliError(f"--check {text!r}: write COMPONENT=http(s)://URL")
    return Target(component, url)


@dataclass
class Agent:
    server: httpx.Client
    targets: list[Target]
    region: str
    timeout: float
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    pending: deque[tuple[str, dict[str, object]]] = field(default_factory=deque)
    dropped: int = 0
    sent: int = 0

    def probe(self) -> list[dict[str, object]]:
        results = []
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            for target in self.targets:
                at = self.clock()
                try:
                    status: int | None = client.get(target.url).status_code
                except httpx.HTTPError:
                    status = None
                results.append(
                    {
                        "ts": at.isoformat().replace("+00:00", "Z"),
                        "component": target.component,
                        "region": self.region,
                        "ok": status is not None and 200 <= status < 400,
                    }
                )
        return results

    def round(self) -> None:
        """Probe every target once, then send everything that waits."""
        self.pending.append((uuid.uuid4().hex, {"results": self.probe()}))
        while len(self.pending) > MAX_PENDING:
            self.pending.popleft()
            self.dropped += 1
        self.flush()

    def flush(self) -> None:
        while self.pending:
            key, body = self.pending[0]
            try:
                answer = self.server.post(
                    "/api/v1/probes/results", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.HTTPError as exc:
                typer.echo(f"server unreachable ({type(exc).__name__}); will retry", err=True)
                return
            if answer.status_code >= 500 or answer.status_code in (408, 429):
                typer.echo(f"server answered {answer.status_code}; will retry", err=True)
                return
            self.pending.popleft()
            if answer.status_code != 200:
                raise CliError(f"the server refused the results: {answer.status_code} "
                               f"{answer.text[:300]}")  # fmt: skip
            self.sent += 1
            for rejected in answer.json().get("rejected", []):
                typer.echo(f"rejected: {rejected.get('reason')}", err=True)


def agent_command(
    server: str = typer.Option(..., "--server", help="The slakeeper server's base URL."),
    region: str = typer.Option(..., "--region", help="The region this agent probes from."),
    check: list[str] = typer.Option(
        ..., "--check", help="COMPONENT=URL to probe (repeat for several)."
    ),
    key_env: str = typer.Option(
        "SLAKEEPER_PROBE_KEY", "--key-env", help="Environment variable holding the probe key."
    ),
    interval: float = typer.Option(30.0, "--interval", help="Seconds between rounds."),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds a probe may take."),
    rounds: int = typer.Option(0, "--rounds", help="Stop after this many rounds (0: never)."),
) -> None:
    """Probe components from one region and push the results (key from $SLAKEEPER_PROBE_KEY)."""
    secret = os.environ.get(key_env)
    if not secret:
        raise CliError(f"set {key_env} to a key with the probe scope")
    targets = [parse_target(text) for text in check]
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=server.rstrip("/"), headers=headers, timeout=30) as client:
        agent = Agent(client, targets, region, timeout)
        done = 0
        while True:
            agent.round()
            done += 1
            typer.echo(
                f"round {done}: {len(targets)} probes, {agent.sent} batches sent, "
                f"{len(agent.pending)} waiting, {agent.dropped} dropped"
            )
            if rounds and done >= rounds:
                if agent.pending:
                    raise CliError(f"{len(agent.pending)} batches could not be sent")
                return
            time.sleep(interval)
