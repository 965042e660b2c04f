"""Ingest through the API on both stores: exactly once, partial success, every encoding."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from typing import Any

from api_helpers import API_PREFIX, Api, assert_problem

from slakeeper.services import integrity
from slakeeper.services.records import Scope

INGEST = f"{API_PREFIX}/ingest"


def _minute(api: Api, minutes_ago: int = 1) -> str:
    now = api.container.clock.now().replace(second=0, microsecond=0)
    return (now - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def send(api: Api, key: str, body: Any, ingest_key: str, **headers: str) -> Any:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    extra = {"Content-Type": "application/json", "Idempotency-Key": key, **headers}
    return api.client.post(INGEST, content=content, headers={**api.headers(ingest_key), **extra})


def stored_requests(api: Api) -> dict[tuple[str, str], dict[int, int]]:
    now = api.container.clock.now()
    with api.container.uow() as uow:
        rows = uow.measurements.requests(api.org.id, now - timedelta(days=2), now)
    return {(r.component, r.region): r.statuses for r in rows}


def test_a_batch_is_counted_once_and_a_retry_gets_the_same_answer(api: Api) -> None:
    api.upload_policy()
    key = api.key([Scope.INGEST])
    ts = _minute(api)
    events = [
        {"ts": ts, "component": "ingest-api", "region": "us-east", "status": 200, "latency_ms": 12},
        {"ts": ts, "component": "ingest-api", "region": "us-east", "status": 503, "latency_ms": 900,
         "customer": "acme-alpha"},
        {"ts": ts, "component": "nope", "region": "us-east", "status": 200},
        {"ts": ts, "component": "ingest-api", "region": "us-east", "status": 700},
        {"ts": "2026-01-01T00:00:00", "component": "ingest-api", "region": "us-east",
         "status": 200},
        {"ts": ts, "component": "ingest-api", "region": "mars", "outcome": "success"},
    ]  # fmt: skip
    first = send(api, "batch-1", {"events": events}, key)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert answer["accepted"] == 2
    assert [(r["index"], r["reason"][:17]) for r in answer["rejected"]] == [
        (2, "unknown component"), (3, "bad status 700: a"), (4, "`ts` '2026-01-01T"),
        (5, "unknown region 'm"),
    ]  # fmt: skip
    again = send(api, "batch-1", {"events": events}, key)
    assert again.status_code == 200
    assert again.json() == {**answer, "replayed": True}
    assert stored_requests(api) == {("ingest-api", "us-east"): {200: 1, 503: 1}}
    changed = send(api, "batch-1", {"events": events[:1]}, key)
    assert_problem(changed, 422)
    with api.container.uow() as uow:
        report = integrity.check(uow, api.org.id)
        errors = uow.measurements.customer_errors(
            api.org.id, api.container.clock.now() - timedelta(hours=1), api.container.clock.now()
        )
    assert report.ok, report.as_json()
    assert report.batches == 1
    assert [(e.customer, e.errors) for e in errors] == [("acme-alpha", 1)]


def test_gzip_ndjson_and_buckets_merge_into_the_same_minute(api: Api) -> None:
    api.upload_policy()
    key = api.key([Scope.INGEST])
    ts = _minute(api, 3)
    lines = [
        {"type": "event", "ts": ts, "component": "dashboard", "region": "eu-west",
         "status": 200, "latency_ms": 100},
        {"type": "bucket", "minute": ts, "component": "dashboard", "region": "eu-west",
         "statuses": {"200": 5, "500": 2}, "latency": {"bins": {"500": 3}, "zero": 1}},
        {"type": "nonsense"},
    ]  # fmt: skip
    body = gzip.compress("\n".join(json.dumps(line) for line in lines).encode())
    answer = send(
        api,
        "nd-1",
        body,
        key,
        **{"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 2
    assert answer.json()["rejected"][0]["index"] == 2
    assert stored_requests(api) == {("dashboard", "eu-west"): {200: 6, 500: 2}}
    with api.container.uow() as uow:
        (bucket,) = uow.measurements.requests(
            api.org.id, api.container.clock.now() - timedelta(hours=1), api.container.clock.now()
        )
    assert bucket.latency.count == 5


def test_bad_batches_are_refused_whole_and_change_nothing(api: Api) -> None:
    api.upload_policy()
    key = api.key([Scope.INGEST])
    assert_problem(send(api, "bad-1", b"{not json", key), 422)
    assert_problem(send(api, "bad-2", b"garbage", key, **{"Content-Encoding": "gzip"}), 422)
    assert_problem(send(api, "bad-3", {"events": [], "extra": []}, key), 422)
    no_key = api.client.post(INGEST, json={"events": []}, headers=api.headers(key))
    assert_problem(no_key, 422)
    assert_problem(send(api, "bad-4", {"events": []}, api.key("write")), 403)
    with api.container.uow() as uow:
        assert uow.measurements.batches(api.org.id) == []


def test_probe_results_need_the_probe_scope_and_land_per_region(api: Api) -> None:
    api.upload_policy()
    probe = api.key([Scope.PROBE])
    ts = _minute(api)
    body = {"results": [
        {"ts": ts, "component": "ingest-api", "region": "us-east", "ok": True},
        {"ts": ts, "component": "ingest-api", "region": "us-east", "ok": False},
        {"ts": ts, "component": "ingest-api", "ok": False},
    ]}  # fmt: skip
    headers = {**api.headers(probe), "Idempotency-Key": "p-1"}
    answer = api.client.post(f"{API_PREFIX}/probes/results", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["accepted"] == 2
    assert "region" in answer.json()["rejected"][0]["reason"]
    ingest_key = api.key([Scope.INGEST])
    refused = api.client.post(
        f"{API_PREFIX}/probes/results", json=body, headers={**api.headers(ingest_key),
                                                             "Idempotency-Key": "p-2"}
    )  # fmt: skip
    assert_problem(refused, 403)
    now = api.container.clock.now()
    with api.container.uow() as uow:
        (bucket,) = uow.measurements.probes(api.org.id, now - timedelta(hours=1), now)
        report = integrity.check(uow, api.org.id)
    assert (bucket.region, bucket.total, bucket.failed) == ("us-east", 2, 1)
    assert report.ok


def test_the_customers_sla_counts_measured_downtime_by_the_region_rule(api: Api) -> None:
    """trulayer pro: a minute is down in a region when any request failed (5xx), and the
    component is down only when every region that reported is down (any-region)."""
    api.upload_policy()
    api.customer("acme-alpha")
    api.customer("acme-beta")
    key = api.key([Scope.INGEST])
    both, one = _minute(api, 30), _minute(api, 20)
    events = [
        {"ts": both, "component": "ingest-api", "region": "us-east", "status": 503},
        {"ts": both, "component": "ingest-api", "region": "eu-west", "status": 500},
        {"ts": both, "component": "ingest-api", "region": "eu-west", "status": 200},
        {"ts": one, "component": "ingest-api", "region": "us-east", "status": 502},
        {"ts": one, "component": "ingest-api", "region": "eu-west", "status": 200},
        {"ts": one, "component": "dashboard", "region": "eu-west", "status": 404},
    ]  # fmt: skip
    assert send(api, "sla-1", {"events": events}, key).json()["accepted"] == 6
    period = both[:7]
    reader = api.key("read", customer="acme-alpha")
    answer = api.client.get(
        f"{API_PREFIX}/customers/acme-alpha/sla", params={"period": period},
        headers=api.headers(reader),
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    document = answer.json()
    (sla,) = document["customers"]
    assert (document["period"], sla["id"]) == (period, "acme-alpha")
    assert sla["downtime_seconds"] == "60"
    assert document["measurement"]["ingest-api"]["down_seconds"] == "60"
    assert document["measurement"]["dashboard"]["measured"] is True
    assert document["measurement"]["dashboard"]["down_seconds"] == "0"
    other = api.key("read", customer="acme-beta")
    assert_problem(
        api.client.get(f"{API_PREFIX}/customers/acme-alpha/sla", headers=api.headers(other)), 404
    )
