"""Live SLOs and burn-rate alerts from ingested data, through the API (opsmantik's five SLIs)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from api_helpers import API_PREFIX, Api, assert_problem

from conftest import EXAMPLES
from slakeeper.services import slos
from slakeeper.services.records import Scope

NOW = datetime(2026, 11, 18, 12, 3, 30, tzinfo=UTC)


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def z(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


def ingest(api: Api, key: str, batch: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = api.client.post(
        f"{API_PREFIX}/ingest", json=body, headers={**api.headers(key), "Idempotency-Key": batch}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["rejected"] == [], answer.text
    return answer.json()  # type: ignore[no-any-return]


def get(api: Api, path: str, **params: str) -> Any:
    answer = api.client.get(f"{API_PREFIX}{path}", params=params, headers=api.headers())
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_every_kind_of_sli_is_evaluated_from_the_aggregates(api: Api) -> None:
    api.container.clock = FixedClock(NOW)  # type: ignore[assignment]
    api.upload_policy(EXAMPLES / "opsmantik.yaml")
    key = api.key([Scope.INGEST])
    minute = NOW.replace(second=0) - timedelta(minutes=1)
    # 1000 requests: 10 are 5xx (bad), 5 are 429 and 20 are 404 (not errors by the SLI).
    statuses = {"200": 965, "404": 20, "429": 5, "503": 10}
    # Latency: 96 fast requests (100 ms) and 4 slow ones (900 ms): p95 is fast. The 5-minute
    # slice 12:00-12:05 is the one slice that starts inside the rolling 5-minute window.
    fast, slow = "231", "341"  # DDSketch keys of 100 ms and 900 ms at 1 % accuracy
    ingest(api, key, "b-1", {
        "buckets": [{"minute": z(minute), "component": "api-sync", "statuses": statuses,
                     "latency": {"bins": {fast: 96, slow: 4}, "zero": 0}}],
        "samples": [{"ts": z(minute), "component": "dashboard", "value": v}
                    for v in (1, 2.5, 4.999, 5, 30)],
        "checks": [{"ts": z(minute), "component": "api-sync", "expected": 7, "recorded": 7},
                   {"ts": z(minute), "component": "api-sync", "expected": 7, "recorded": 6}],
        "reconciliations": [{"period": "2026-10", "invoice_total": "100.00",
                             "ledger_total": "100.00", "ts": z(minute)}],
    })  # fmt: skip
    found = {s["id"]: s for s in get(api, "/slos")}
    availability = found["api-availability"]
    assert (availability["good"], availability["bad"], availability["total"]) == (990, 10, 1000)
    assert availability["sli_percent"] == "99"
    # Budget: 0.5 % of 1000 = 5 errors; 10 were spent: remaining 1 - 10/5 = -100 %.
    assert availability["budget"] == {
        "total": "5", "consumed": "10", "remaining_percent": "-100", "exhausted": True
    }  # fmt: skip
    page = availability["alerts"][0]
    assert (page["long_rate"], page["short_rate"], page["condition"]) == ("2", "2", False)
    latency = found["ingest-latency"]
    assert (latency["good"], latency["total"]) == (1, 1)
    freshness = found["dashboard-freshness"]
    assert (freshness["good"], freshness["total"]) == (3, 5)  # under 5 s: 1, 2.5, 4.999
    integrity = found["billable-capture"]
    assert (integrity["good"], integrity["bad"]) == (1, 1)
    assert integrity["budget"]["exhausted"] is True
    accuracy = found["billing-accuracy"]
    assert (accuracy["good"], accuracy["bad"]) == (1, 0)
    one = get(api, "/slos/api-availability")
    assert one == availability
    assert_problem(api.client.get(f"{API_PREFIX}/slos/nope", headers=api.headers()), 404)
    series = get(
        api,
        "/slos/api-availability/series",
        **{"from": z(minute - timedelta(minutes=2)), "to": z(NOW.replace(second=0)), "step": "1m"},
    )
    assert [(p["good"], p["total"]) for p in series["points"]] == [(0, 0), (0, 0), (990, 1000)]


def test_a_burn_fires_the_page_alert_once_and_resolves_into_the_outbox(api: Api) -> None:
    clock = FixedClock(NOW)
    api.container.clock = clock  # type: ignore[assignment]
    api.upload_policy(EXAMPLES / "opsmantik.yaml")
    key = api.key([Scope.INGEST])
    start = NOW.replace(second=0) - timedelta(minutes=30)
    buckets = []
    for n in range(30):  # 1000 requests a minute; the last 10 minutes are 10 % errors
        errors = 100 if n >= 20 else 0
        buckets.append(
            {
                "minute": z(start + timedelta(minutes=n)),
                "component": "api-sync",
                "statuses": {"200": 1000 - errors, **({"500": errors} if errors else {})},
            }
        )
    ingest(api, key, "burn", {"buckets": buckets})
    uow = api.container.uow
    assert slos.run_alerts(uow, NOW) >= 1
    states = {(a["slo"], a["rule_index"]): a["state"] for a in get(api, "/alerts")}
    # Burn rate 10 % / 0.5 % = 20 over 5 min and 1000/30000 / 0.005 = 6.67 over 1 h: the
    # 14.4 page waits (one window above: warning); 6 over 6 h (6.67) and 30 min (6.67) fires.
    assert states[("api-availability", 0)] == "warning"
    assert states[("api-availability", 1)] == "firing"
    assert slos.run_alerts(uow, NOW) == 0  # nothing moved: no second notification
    clock.at = NOW + timedelta(hours=2)  # the burn is over: 30 min window holds no errors
    ingest(api, key, "calm", {"buckets": [
        {"minute": z(clock.at.replace(second=0) - timedelta(minutes=m)), "component": "api-sync",
         "statuses": {"200": 1000}} for m in range(1, 40)]})  # fmt: skip
    slos.run_alerts(uow, clock.at)
    states = {(a["slo"], a["rule_index"]): a["state"] for a in get(api, "/alerts")}
    assert states[("api-availability", 1)] == "resolved"
    with uow() as work:
        topics = [(m.topic, json.loads(m.payload)["alert"]) for m in work.outbox.list(api.org.id)]
    # The ticket rule (1 over 3 d and 6 h) fired too, and its 6 h window still holds the burn.
    assert sorted(topics) == [
        ("slo.alert.firing", "page"), ("slo.alert.firing", "ticket"),
        ("slo.alert.resolved", "page"),
    ]  # fmt: skip
    assert states[("api-availability", 2)] == "firing"


def test_the_latency_slos_p95_matches_the_raw_latencies_within_the_sketch_bound(api: Api) -> None:
    """2,000 raw latencies spread over 5 minutes, sent as events: the SLO's window p95, read
    from the merged minute sketches, is within 1 % of the p95 of the raw values."""
    api.container.clock = FixedClock(NOW)  # type: ignore[assignment]
    api.upload_policy(EXAMPLES / "opsmantik.yaml")
    key = api.key([Scope.INGEST])
    rng = random.Random(42)
    raw = [rng.lognormvariate(4.5, 0.8) for _ in range(2000)]
    window_start = NOW - timedelta(minutes=5)  # the SLO's rolling 5-minute window
    events = [
        {"ts": z(window_start + timedelta(seconds=10 + i * 280 / len(raw))),
         "component": "api-sync", "status": 200, "latency_ms": value}
        for i, value in enumerate(raw)
    ]  # fmt: skip
    ingest(api, key, "latencies", {"events": events})
    latency = get(api, "/slos/ingest-latency")["latency"]
    exact = sorted(raw)[int(0.95 * (len(raw) - 1))]
    assert latency["percentile"] == "95"
    assert latency["threshold_ms"] == "500"
    assert abs(float(latency["window_value_ms"]) - exact) <= 0.01 * exact + 0.001
