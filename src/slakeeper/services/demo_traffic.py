"""The measurements of a generated month: one ingest batch per day, in the ingest API's shape.

Every component gets a few healthy minute buckets an hour (per region), so the status page and
the SLOs have traffic. During an outage or a maintenance window of a component, every region
reports every minute: the failing regions with an error rate above every plan's threshold, the
others healthy, so that a region rule over "the regions that reported" judges each minute the
way the facts file states it. Healthy minutes stay under every plan's error threshold (a few
4xx and 429, which are never errors by default). Latencies go into a
:class:`~slakeeper.domain.sketch.LatencySketch` per bucket; failing minutes are slow.

The active policy's SLOs get what they measure: freshness samples, daily integrity checks and a
billing reconciliation for the month.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from slakeeper.domain.sketch import LatencySketch
from slakeeper.policy.models import NoDataRule, Policy, SliKind
from slakeeper.services.demo_script import MonthScript
from slakeeper.services.records import iso

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
#: Statuses of failing requests and of requests that are fine (or the client's fault).
FAILING = (503, 502, 500, 504)
FINE = (200, 201, 204, 304, 400, 404, 409, 429)


@dataclass(frozen=True)
class Batch:
    """One ingest batch: its idempotency key, when it is sent, and its JSON body."""

    key: str
    now: datetime
    body: bytes
    items: int


def matches(pattern: str, status: int) -> bool:
    """``5xx``, ``50x`` or ``503`` against a status."""
    text = str(status)
    pattern = pattern.lower()
    return len(pattern) == 3 and all(p in ("x", c) for p, c in zip(pattern, text, strict=True))


@dataclass(frozen=True)
class _Rules:
    """What the plans measuring one component require of its traffic."""

    every_minutes: int  # healthy buckets every this many minutes
    min_requests: int
    max_threshold: Decimal  # a failing minute is above every plan's threshold
    min_threshold: Decimal  # a healthy minute stays at or under every plan's threshold
    failing: tuple[int, ...]
    fine: tuple[int, ...]


def _rules(policy: Policy, component: str, every_minutes: int) -> _Rules:
    uptimes = [p.uptime for p in policy.plans if component in p.uptime.measured_on]
    for uptime in uptimes:
        if uptime.down_rule.slice != MINUTE:
            raise ValueError(f"the demo generator makes 1-minute slices ({component})")
    patterns = [str(s) for u in uptimes for s in u.down_rule.error_statuses]
    each = [[str(s) for s in u.down_rule.error_statuses] for u in uptimes]
    failing = tuple(s for s in FAILING if all(any(matches(p, s) for p in e) for e in each))
    fine = tuple(s for s in FINE if not any(matches(p, s) for p in patterns))
    if not failing or not fine:
        raise ValueError(f"no status is an error for every plan measuring {component}")
    no_data_down = any(u.no_data is NoDataRule.DOWN for u in uptimes)
    thresholds = [u.down_rule.error_rate_above for u in uptimes] or [Decimal(0)]
    if max(thresholds) >= 100:
        raise ValueError(f"a plan measuring {component} can never see it down (threshold 100 %)")
    return _Rules(
        every_minutes=1 if no_data_down else (every_minutes if uptimes else max(every_minutes, 30)),
        min_requests=max([u.down_rule.min_requests for u in uptimes] or [1]),
        max_threshold=max(thresholds),
        min_threshold=min(thresholds),
        failing=failing,
        fine=fine,
    )


def _sketch(rng: random.Random, requests: int, median_ms: float) -> dict[str, object]:
    sketch = LatencySketch()
    draws = 6
    for index in range(draws):
        count = requests // draws + (1 if index < requests % draws else 0)
        if count:
            sketch.add(rng.lognormvariate(math.log(median_ms), 0.45), count)
    return sketch.to_json()


class _Day:
    """The buckets of one UTC day."""

    def __init__(self, script: MonthScript, day: datetime) -> None:
        self.script = script
        self.day = day
        self.rng = random.Random(f"{script.seed}:{script.slug}:{day.date().isoformat()}")
        self.regions = [r.id for r in script.policy.regions]

    def failing(self, component: str) -> dict[datetime, dict[str, int]]:
        """Each minute of the day in which ``component`` fails somewhere: the failing regions
        and the share of their requests that fail (every request during maintenance)."""
        found: dict[datetime, dict[str, int]] = {}
        end = self.day + DAY
        spans = [(o.start, o.end, o.regions or self.regions, o.error_percent)
                 for o in self.script.outages if o.component == component]  # fmt: skip
        spans += [(m.start, m.completed_at, self.regions, 100)
                  for m in self.script.maintenance if component in m.components]  # fmt: skip
        for start, stop, regions, percent in spans:
            minute = max(start, self.day)
            while minute < min(stop, end):
                cell = found.setdefault(minute, {})
                for region in regions:
                    cell[region] = max(cell.get(region, 0), percent)
                minute += MINUTE
        return found

    def buckets(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for position, component in enumerate(c.id for c in self.script.policy.components):
            rules = _rules(self.script.policy, component, self.script.healthy_every_minutes)
            failing = self.failing(component)
            median_ms = 60.0 + 35 * (position % 5)
            for index, region in enumerate(self.regions):
                offset = (position * 7 + index * 3) % rules.every_minutes
                minutes = {self.day + MINUTE * m
                           for m in range(offset, 24 * 60, rules.every_minutes)}  # fmt: skip
                for minute in sorted(minutes | set(failing)):
                    percent = failing.get(minute, {}).get(region, 0)
                    out.append(self._bucket(component, region, minute, rules, percent, median_ms))
        return out

    def _bucket(
        self,
        component: str,
        region: str,
        minute: datetime,
        rules: _Rules,
        error_percent: int,
        median_ms: float,
    ) -> dict[str, Any]:
        rng = self.rng
        hour = minute.hour + minute.minute / 60
        diurnal = 1 + 0.6 * math.sin((hour - 9) / 24 * 2 * math.pi)
        requests = max(rules.min_requests, 100, int(rng.uniform(300, 1400) * diurnal))
        statuses: dict[int, int] = {}
        if error_percent:
            # Above every plan's threshold, whatever the outage's own share.
            share = min(Decimal(100), max(Decimal(error_percent), rules.max_threshold + 1))
            statuses[rng.choice(rules.failing)] = math.ceil(requests * share / 100)
            median_ms = median_ms * 12
        else:
            allowed = math.floor(rules.min_threshold * requests / 100)
            if allowed and rng.random() < 0.3:
                statuses[rng.choice(rules.failing)] = rng.randint(1, allowed)
            for status in rng.sample(rules.fine[1:], 2):
                statuses[status] = statuses.get(status, 0) + rng.randint(0, requests // 50)
        statuses[rules.fine[0]] = requests - sum(statuses.values())
        return {
            "minute": iso(minute),
            "component": component,
            "region": region,
            "statuses": {str(s): n for s, n in sorted(statuses.items()) if n > 0},
            "latency": _sketch(rng, requests, median_ms),
        }

    def samples(self) -> list[dict[str, Any]]:
        """Freshness samples every 15 minutes; lagging while the component fails."""
        out = []
        for slo in self.script.policy.slos:
            component = slo.sli.component
            if slo.sli.kind is not SliKind.FRESHNESS or component is None:
                continue
            failing = self.failing(component)
            for step in range(0, 24 * 60, 15):
                at = self.day + MINUTE * step
                lag = self.rng.uniform(8, 40) if at in failing else self.rng.uniform(0.4, 3.5)
                out.append({"ts": iso(at), "component": component, "value": round(lag, 3)})
        return out

    def checks(self) -> list[dict[str, Any]]:
        """A daily integrity check; the day of a data loss, fewer rows recorded than expected."""
        lost = {loss.at.date() for loss in self.script.data_loss}
        out = []
        for slo in self.script.policy.slos:
            if slo.sli.kind is SliKind.INTEGRITY and slo.sli.component is not None:
                expected = self.rng.randint(80_000, 160_000)
                missing = self.rng.randint(40, 400) if self.day.date() in lost else 0
                out.append({"ts": iso(self.day + timedelta(hours=23, minutes=50)),
                            "component": slo.sli.component, "name": "billable capture",
                            "expected": expected, "recorded": expected - missing})  # fmt: skip
        return out


def batches(script: MonthScript) -> Iterator[Batch]:
    """One batch per UTC day of the month, each sent five minutes after its day ends."""
    day = script.start
    while day < script.end:
        work = _Day(script, day)
        body: dict[str, list[dict[str, Any]]] = {"buckets": work.buckets()}
        samples, checks = work.samples(), work.checks()
        if samples:
            body["samples"] = samples
        if checks:
            body["checks"] = checks
        if day + DAY >= script.end and any(
            s.sli.kind is SliKind.ACCURACY for s in script.policy.slos
        ):
            total = Decimal(work.rng.randint(1_500_000, 9_000_000)) / 100
            body["reconciliations"] = [{"ts": iso(day + timedelta(hours=23, minutes=55)),
                                        "period": script.period, "invoice_total": str(total),
                                        "ledger_total": str(total)}]  # fmt: skip
        items = sum(len(v) for v in body.values())
        yield Batch(
            key=f"demo-{script.slug}-{day.date().isoformat()}",
            now=day + DAY + timedelta(minutes=5),
            body=json.dumps(body, separators=(",", ":")).encode(),
            items=items,
        )
        day += DAY
