"""Ingest: batches of measurements, aggregated per minute and recorded once (DOMAIN.md 2, 7).

A batch arrives under an idempotency key. It is decoded, each item is checked against the
active policy, the accepted items are summed per component, region and minute, and then, in
ONE transaction, the batch is written to the ingest ledger (key, content hash, what it added)
together with the aggregates. The answer goes out only after that commit, so an acknowledged
batch is durable, and a retry of the same key finds the ledger row and gets the same answer
without adding anything: nothing is counted twice. The same key with other content is refused.

Nothing is stored per event: per component, region and minute, the counts by status and a
latency sketch; per customer, only the minutes in which that customer saw errors (5xx).
"""

from __future__ import annotations

import hashlib
import math
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from slakeeper.domain.sketch import MIN_INDEXABLE, LatencySketch
from slakeeper.policy.models import Policy, SliKind
from slakeeper.services import policy_versions
from slakeeper.services.errors import Invalid
from slakeeper.services.ports import Conflict, MeasurementRepository, UnitOfWorkFactory
from slakeeper.services.records import (
    CustomerErrors,
    IngestBatch,
    IntegrityCheck,
    Principal,
    ProbeBucket,
    Reconciliation,
    RequestBucket,
    SampleBucket,
)

#: How late an item may arrive: older than this is refused (its period may be closed).
RETENTION = timedelta(days=40)
#: How far ahead of the server's clock an item may be stamped (clock skew).
FUTURE_SKEW = timedelta(minutes=5)
#: The largest batch accepted, after gzip is undone.
MAX_BODY = 32 * 1024 * 1024
MAX_ITEMS = 100_000

KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:~-]{1,200}$")
_IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TS = re.compile(
    r"(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2})(?::\d{2}(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})"
)
OUTCOMES = {
    "success": 200, "ok": 200, "error": 500, "server_error": 500,
    "client_error": 400, "throttled": 429,
}  # fmt: skip
KINDS = ("events", "buckets", "samples", "checks", "reconciliations")
NDJSON_TYPES = {
    "event": "events", "bucket": "buckets", "sample": "samples", "check": "checks",
    "reconciliation": "reconciliations", "result": "results",
}  # fmt: skip
COUNT_NAMES = (
    "requests", "errors_5xx", "errors_4xx", "throttled_429", "latencies", "customer_errors",
    "probes", "probe_failures", "samples", "checks", "reconciliations",
)  # fmt: skip


#: The key mapping of ``domain.sketch`` (DDSketch's logarithmic mapping), inlined for speed;
#: ``tests/unit/test_measured.py`` checks it gives the same keys.
_MULTIPLIER = 1 / math.log1p(2 * 0.01 / (1 - 0.01)) * math.log(2)
_SECONDS = frozenset("0123456789")


def _plain_utc(ts: str) -> bool:
    """``ts`` is ``YYYY-MM-DDTHH:MM:SS[.fff]Z``, with the part after the minute checked here
    (the minute itself is checked once, when first seen)."""
    n = len(ts)
    if n < 20 or ts[-1] != "Z" or ts[16] != ":" or ts[17] not in _SECONDS or ts[18] not in _SECONDS:
        return False
    return n == 20 or (ts[19] == "." and n > 21 and ts[20:-1].isdigit())


class Reject(Exception):
    """One item cannot be accepted; the reason goes into the answer."""


@dataclass(frozen=True)
class Target:
    """What the active policy lets in: components, regions and freshness thresholds."""

    components: frozenset[str]
    regions: frozenset[str]
    default_region: str | None
    thresholds: Mapping[str, tuple[int, ...]]  # component -> freshness thresholds in ms


def target(policy: Policy) -> Target:
    regions = [r.id for r in policy.regions]
    thresholds: dict[str, set[int]] = {}
    for slo in policy.slos:
        sli = slo.sli
        if sli.kind is SliKind.FRESHNESS and sli.component and sli.threshold is not None:
            milliseconds = sli.threshold // timedelta(milliseconds=1)
            thresholds.setdefault(sli.component, set()).add(milliseconds)
    return Target(
        components=frozenset(c.id for c in policy.components),
        regions=frozenset(regions),
        default_region=regions[0] if len(regions) == 1 else None,
        thresholds={k: tuple(sorted(v)) for k, v in thresholds.items()},
    )


@dataclass
class _Bucket:
    statuses: dict[int, int] = field(default_factory=dict)
    sketch: LatencySketch = field(default_factory=LatencySketch)


@dataclass
class Aggregate:
    """A batch summed per minute, with the index and reason of every rejected item."""

    requests: dict[tuple[str, str, datetime], _Bucket] = field(default_factory=dict)
    customer_errors: dict[tuple[str, str, datetime], int] = field(default_factory=dict)
    probes: dict[tuple[str, str, datetime], list[int]] = field(default_factory=dict)
    samples: dict[tuple[str, datetime], list[Any]] = field(default_factory=dict)
    checks: list[IntegrityCheck] = field(default_factory=list)
    reconciliations: list[Reconciliation] = field(default_factory=list)
    accepted: int = 0
    rejected: list[dict[str, object]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_NAMES, 0))


# --------------------------------------------------------------------------- decoding
def decode(body: bytes, content_type: str | None, content_encoding: str | None) -> bytes:
    """The body with gzip undone; refuses other encodings and bodies past ``MAX_BODY``."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        raw = body
    elif encoding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(body, MAX_BODY + 1)
        except zlib.error as exc:
            raise Invalid(f"the body is not valid gzip: {exc}") from None
        if len(raw) > MAX_BODY or inflater.unconsumed_tail:
            raise Invalid(f"the batch is larger than {MAX_BODY // (1024 * 1024)} MiB unzipped")
        if not inflater.eof:
            raise Invalid("the gzip body is truncated")
    else:
        raise Invalid(f"Content-Encoding {encoding!r} is not accepted: use gzip or none")
    if len(raw) > MAX_BODY:
        raise Invalid(f"the batch is larger than {MAX_BODY // (1024 * 1024)} MiB")
    return raw


def items(raw: bytes, content_type: str | None, allowed: tuple[str, ...]) -> Iterator[Any]:
    """``(kind, index, item)`` for a JSON object of arrays or NDJSON with a ``type`` per line."""
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media in ("application/x-ndjson", "application/ndjson", "application/jsonl"):
        yield from _ndjson(raw, allowed)
        return
    if media != "application/json":
        raise Invalid(f"Content-Type {media!r} is not accepted: application/json or x-ndjson")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise Invalid(f"the body must be a JSON object with {', '.join(allowed)}")
    unknown = sorted(set(document) - set(allowed))
    if unknown:
        raise Invalid(f"unknown field(s) {', '.join(unknown)}: a batch has {', '.join(allowed)}")
    count = 0
    for kind in allowed:
        entries = document.get(kind, [])
        if not isinstance(entries, list):
            raise Invalid(f"`{kind}` must be an array")
        count += len(entries)
        if count > MAX_ITEMS:
            raise Invalid(f"a batch holds at most {MAX_ITEMS} items")
        for index, entry in enumerate(entries):
            yield kind, index, entry


def _ndjson(raw: bytes, allowed: tuple[str, ...]) -> Iterator[Any]:
    lines = raw.splitlines()
    if len(lines) > MAX_ITEMS:
        raise Invalid(f"a batch holds at most {MAX_ITEMS} items")
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            yield "line", index, None
            continue
        kind = NDJSON_TYPES.get(str(entry.get("type"))) if isinstance(entry, dict) else None
        if kind not in allowed:
            yield "line", index, entry
            continue
        rest = dict(entry)
        del rest["type"]
        yield kind, index, rest


# --------------------------------------------------------------------------- item checks
class _Minutes:
    """Turns RFC 3339 instants into UTC minute starts, remembering what it has seen."""

    def __init__(self, now: datetime) -> None:
        self.seen: dict[tuple[str, str], datetime] = {}
        self.earliest = now - RETENTION
        self.latest = now + FUTURE_SKEW

    def __call__(self, value: object, name: str = "ts") -> datetime:
        if not isinstance(value, str):
            raise Reject(f"`{name}` must be an RFC 3339 instant with an offset")
        match = _TS.fullmatch(value)
        if match is None:
            raise Reject(f"`{name}` {value[:40]!r} is not RFC 3339 with an offset (e.g. ...Z)")
        key: tuple[str, str] = (match.group(1), match.group(2))
        minute = self.seen.get(key)
        if minute is None:
            zone = "+00:00" if key[1] in "Zz" else key[1]
            try:
                parsed = datetime.fromisoformat(f"{key[0][:10]}T{key[0][11:]}:00{zone}")
            except ValueError:
                raise Reject(f"`{name}` {value[:40]!r} is not a valid instant") from None
            minute = parsed.astimezone(UTC)
            self.seen[key] = minute
        if minute < self.earliest.replace(second=0, microsecond=0):
            raise Reject(f"`{name}` is older than the {RETENTION.days}-day retention window")
        if minute > self.latest:
            raise Reject(f"`{name}` is in the future (more than 5 minutes ahead of the server)")
        return minute


def _component(item: Mapping[str, Any], allowed: Target) -> str:
    component: str = item.get("component", "")
    if component not in allowed.components:
        if not isinstance(component, str) or not component:
            raise Reject("`component` is required")
        raise Reject(f"unknown component {component!r}")
    return component


def _region(item: Mapping[str, Any], allowed: Target) -> str:
    region = item.get("region")
    if region is None:
        if allowed.default_region is None:
            raise Reject("`region` is required: the policy measures several regions")
        return allowed.default_region
    if region not in allowed.regions:
        raise Reject(f"unknown region {region!r}")
    return str(region)


def _customer(item: Mapping[str, Any]) -> str | None:
    customer = item.get("customer")
    if customer is None:
        return None
    if not isinstance(customer, str) or not _IDENTIFIER.match(customer):
        raise Reject("`customer` must be a customer id (lower case, digits, . _ -)")
    return customer


def _count(value: object, name: str) -> int:
    if type(value) is not int or value < 0:
        raise Reject(f"`{name}` must be a whole number >= 0")
    return value


def _status(value: object) -> int:
    if type(value) is not int or not 100 <= value <= 599:
        raise Reject(f"bad status {value!r}: an HTTP status is a whole number from 100 to 599")
    return value


def _extra(item: Mapping[str, Any], known: frozenset[str]) -> None:
    unknown = set(item) - known
    if unknown:
        raise Reject(f"unknown field(s): {', '.join(sorted(unknown))}")


_EVENT_FIELDS = frozenset(
    {"ts", "component", "region", "customer", "status", "outcome", "latency_ms", "endpoint"}
)
_BUCKET_FIELDS = frozenset({"minute", "component", "region", "customer", "statuses", "latency"})
_SAMPLE_FIELDS = frozenset({"ts", "component", "value", "metric"})
_CHECK_FIELDS = frozenset({"ts", "component", "name", "expected", "recorded"})
_RECONCILIATION_FIELDS = frozenset({"ts", "period", "invoice_total", "ledger_total", "currency"})
_RESULT_FIELDS = frozenset({"ts", "component", "region", "ok", "status", "latency_ms", "probe"})
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Aggregator:
    """Sums one batch's items; each ``add_*`` raises Reject for an item it cannot accept."""

    def __init__(self, allowed: Target, now: datetime, batch_key: str) -> None:
        self.allowed = allowed
        self.minute = _Minutes(now)
        self.key = batch_key
        self.result = Aggregate()
        self.quick: dict[str, datetime] = {}  # "YYYY-MM-DDTHH:MM" of ...Z instants -> minute
        self.customers: set[str] = set()  # customer ids already checked
        self.handlers: dict[str, Callable[[int, Mapping[str, Any]], None]] = {
            "events": self.event,
            "buckets": self.bucket,
            "samples": self.sample,
            "checks": self.check,
            "reconciliations": self.reconciliation,
            "results": self.probe,
        }

    def add(self, kind: str, index: int, item: object) -> None:
        result = self.result
        try:
            handler = self.handlers.get(kind)
            if handler is None:
                raise Reject("each line needs a `type`: " + ", ".join(sorted(NDJSON_TYPES)))
            if not isinstance(item, dict):
                raise Reject("an item must be a JSON object")
            handler(index, item)
        except Reject as exc:
            result.rejected.append({"kind": kind, "index": index, "reason": str(exc)})
            return
        result.accepted += 1

    def _request(self, key: tuple[str, str, datetime]) -> _Bucket:
        bucket = self.result.requests.get(key)
        if bucket is None:
            bucket = self.result.requests[key] = _Bucket()
        return bucket

    def event(self, index: int, item: Mapping[str, Any]) -> None:
        # The hot path: one call per event, so lookups are inlined and checks cached.
        if len(item) > 8 or not _EVENT_FIELDS.issuperset(item):
            _extra(item, _EVENT_FIELDS)
        ts = item.get("ts")
        minute = self.quick.get(ts[:16]) if type(ts) is str and _plain_utc(ts) else None
        if minute is None:
            minute = self.minute(ts)
            if type(ts) is str and _plain_utc(ts):
                self.quick[ts[:16]] = minute
        allowed = self.allowed
        component = item.get("component")
        if component not in allowed.components:
            component = _component(item, allowed)
        region = item.get("region")
        if region is None or region not in allowed.regions:
            region = _region(item, allowed)
        customer = item.get("customer")
        if customer is not None and customer not in self.customers:
            checked = _customer(item)
            if checked is not None:
                self.customers.add(checked)
        status = item.get("status")
        if type(status) is not int or not 100 <= status <= 599:
            status = self._status_or_outcome(item)
        latency = item.get("latency_ms")
        bin_key: int | None = None
        if latency is not None:
            if type(latency) not in (int, float) or not (latency >= 0 and math.isfinite(latency)):
                raise Reject("`latency_ms` must be a number >= 0")
            if latency >= MIN_INDEXABLE:
                bin_key = math.ceil(math.log(latency, 2) * _MULTIPLIER)
        key = (component, region, minute)
        bucket = self.result.requests.get(key)
        if bucket is None:
            bucket = self.result.requests[key] = _Bucket()
        statuses = bucket.statuses
        statuses[status] = statuses.get(status, 0) + 1
        if latency is not None:
            if bin_key is None:
                bucket.sketch.zero += 1
            else:
                bins = bucket.sketch.bins
                bins[bin_key] = bins.get(bin_key, 0) + 1
        if customer is not None and status >= 500:
            errors = self.result.customer_errors
            mine = (customer, component, minute)
            errors[mine] = errors.get(mine, 0) + 1

    @staticmethod
    def _status_or_outcome(item: Mapping[str, Any]) -> int:
        status = item.get("status")
        if status is not None:
            return _status(status)
        outcome = item.get("outcome")
        if outcome is None:
            raise Reject("an event needs `status` or `outcome`")
        found = OUTCOMES.get(outcome) if isinstance(outcome, str) else None
        if found is None:
            raise Reject(f"bad outcome {outcome!r}: one of {', '.join(sorted(OUTCOMES))}")
        return found

    def bucket(self, index: int, item: Mapping[str, Any]) -> None:
        _extra(item, _BUCKET_FIELDS)
        minute = self.minute(item.get("minute"), "minute")
        component = _component(item, self.allowed)
        region = _region(item, self.allowed)
        customer = _customer(item)
        raw = item.get("statuses")
        if not isinstance(raw, dict) or not raw:
            raise Reject("`statuses` must map HTTP statuses to counts")
        statuses: dict[int, int] = {}
        for text, count in raw.items():
            status = _status(int(text) if isinstance(text, str) and text.isdigit() else text)
            if type(count) is not int or count <= 0:
                raise Reject(f"status {text}: the count must be a whole number > 0")
            statuses[status] = count
        sketch = LatencySketch()
        if item.get("latency") is not None:
            try:
                sketch = LatencySketch.from_json(item["latency"])
            except ValueError as exc:
                raise Reject(str(exc)) from None
            if sketch.count > sum(statuses.values()):
                raise Reject("more latencies than requests in the bucket")
        bucket = self._request((component, region, minute))
        for status, count in statuses.items():
            bucket.statuses[status] = bucket.statuses.get(status, 0) + count
        bucket.sketch.merge(sketch)
        errors = sum(c for s, c in statuses.items() if s >= 500)
        if customer is not None and errors:
            key = (customer, component, minute)
            self.result.customer_errors[key] = self.result.customer_errors.get(key, 0) + errors

    def sample(self, index: int, item: Mapping[str, Any]) -> None:
        _extra(item, _SAMPLE_FIELDS)
        minute = self.minute(item.get("ts"))
        component = _component(item, self.allowed)
        value = item.get("value")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise Reject("`value` (seconds) must be a number >= 0")
        if not (value >= 0 and math.isfinite(value)):
            raise Reject("`value` (seconds) must be a number >= 0")
        milliseconds = Decimal(str(value)) * 1000
        entry = self.result.samples.setdefault((component, minute), [0, {}])
        entry[0] += 1
        for threshold in self.allowed.thresholds.get(component, ()):
            if milliseconds < threshold:
                entry[1][threshold] = entry[1].get(threshold, 0) + 1

    def check(self, index: int, item: Mapping[str, Any]) -> None:
        _extra(item, _CHECK_FIELDS)
        minute = self.minute(item.get("ts"))
        name = item.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > 200):
            raise Reject("`name` must be text of at most 200 characters")
        self.result.checks.append(
            IntegrityCheck(
                batch_key=self.key,
                index=len(self.result.checks),
                at=minute,
                component=_component(item, self.allowed),
                name=name,
                expected=_count(item.get("expected"), "expected"),
                recorded=_count(item.get("recorded"), "recorded"),
            )
        )

    def reconciliation(self, index: int, item: Mapping[str, Any]) -> None:
        _extra(item, _RECONCILIATION_FIELDS)
        period = item.get("period")
        if not isinstance(period, str) or not _PERIOD.match(period):
            raise Reject("`period` must be a month, e.g. 2026-10")
        at = self.minute(item["ts"]) if "ts" in item else self.minute.latest - FUTURE_SKEW
        self.result.reconciliations.append(
            Reconciliation(
                batch_key=self.key,
                index=len(self.result.reconciliations),
                at=at,
                period=period,
                invoice_total=_money(item.get("invoice_total"), "invoice_total"),
                ledger_total=_money(item.get("ledger_total"), "ledger_total"),
            )
        )

    def probe(self, index: int, item: Mapping[str, Any]) -> None:
        _extra(item, _RESULT_FIELDS)
        minute = self.minute(item.get("ts"))
        component = _component(item, self.allowed)
        if item.get("region") is None:
            raise Reject("a probe result names its `region`")
        region = _region(item, self.allowed)
        ok = item.get("ok")
        if type(ok) is not bool:
            raise Reject("`ok` must be true or false")
        entry = self.result.probes.setdefault((component, region, minute), [0, 0])
        entry[0] += 1
        entry[1] += 0 if ok else 1


def _money(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Reject(f'`{name}` must be a decimal amount, e.g. "1234.50"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise Reject(f"`{name}` {value!r} is not a decimal amount") from None
    if not amount.is_finite():
        raise Reject(f"`{name}` must be finite")
    return amount


# --------------------------------------------------------------------------- the use case
def ingest(
    uow: UnitOfWorkFactory,
    principal: Principal,
    *,
    key: str | None,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    now: datetime,
    kind: str = "ingest",
) -> dict[str, object]:
    """Accept one batch exactly once; returns the acknowledgement (replayed on a retry)."""
    if key is None or not KEY_PATTERN.match(key):
        raise Invalid(
            "every batch carries an Idempotency-Key header (1 to 200 of A-Z a-z 0-9 . _ : ~ -)"
        )
    raw = decode(body, content_type, content_encoding)
    digest = hashlib.sha256(raw).hexdigest()
    with uow() as work:
        known = work.measurements.batch(principal.org_id, key)
        if known is None:
            allowed = target(policy_versions.active_policy(work, principal.org_id))
    if known is not None:
        return _replay(known, digest)
    allowed_kinds = ("results",) if kind == "probes" else KINDS
    aggregator = Aggregator(allowed, now, key)
    for item_kind, index, item in items(raw, content_type, allowed_kinds):
        aggregator.add(item_kind, index, item)
    result = aggregator.result
    answer: dict[str, object] = {
        "batch": key,
        "accepted": result.accepted,
        "rejected": result.rejected,
        "replayed": False,
    }
    request_rows = _request_rows(result)
    counts = _counts(result, request_rows)
    batch = IngestBatch(principal.org_id, key, digest, kind, now, counts, answer)
    for attempt in range(5):
        try:
            with uow() as work:
                work.measurements.add_batch(batch)
                _write(work.measurements, principal.org_id, result, request_rows)
                work.commit()
            return answer
        except Conflict:
            with uow() as work:
                known = work.measurements.batch(principal.org_id, key)
            if known is not None:  # the same key won a race: its answer stands
                return _replay(known, digest)
            if attempt == 4:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _replay(known: IngestBatch, digest: str) -> dict[str, object]:
    if known.sha256 != digest:
        raise Invalid(
            "this Idempotency-Key was used for a batch with different content; "
            "a new batch needs a new key"
        )
    return {**known.answer, "replayed": True}


def _request_rows(result: Aggregate) -> list[RequestBucket]:
    return [
        RequestBucket(component, region, minute, bucket.statuses, bucket.sketch)
        for (component, region, minute), bucket in result.requests.items()
    ]


def add_request_counts(counts: dict[str, int], rows: Iterable[RequestBucket]) -> None:
    """Add what request buckets hold to ``counts``: requests, 5xx, 4xx, 429, latencies (the
    ledger's counts of a batch, and the integrity check's of the store)."""
    for row in rows:
        for status, count in row.statuses.items():
            counts["requests"] += count
            if status >= 500:
                counts["errors_5xx"] += count
            elif status >= 400:
                counts["errors_4xx"] += count
            if status == 429:
                counts["throttled_429"] += count
        counts["latencies"] += row.latency.count


def _counts(result: Aggregate, rows: list[RequestBucket]) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_NAMES, 0)
    add_request_counts(counts, rows)
    counts["customer_errors"] = sum(result.customer_errors.values())
    counts["probes"] = sum(total for total, _ in result.probes.values())
    counts["probe_failures"] = sum(failed for _, failed in result.probes.values())
    counts["samples"] = sum(entry[0] for entry in result.samples.values())
    counts["checks"] = len(result.checks)
    counts["reconciliations"] = len(result.reconciliations)
    return counts


def _write(
    store: MeasurementRepository, org_id: str, result: Aggregate, rows: list[RequestBucket]
) -> None:
    store.merge_requests(org_id, rows)
    store.merge_customer_errors(
        org_id,
        [CustomerErrors(cu, co, m, n) for (cu, co, m), n in result.customer_errors.items()],
    )
    store.merge_probes(
        org_id, [ProbeBucket(c, r, m, t, f) for (c, r, m), (t, f) in result.probes.items()]
    )
    store.merge_samples(
        org_id, [SampleBucket(c, m, t, dict(u)) for (c, m), (t, u) in result.samples.items()]
    )
    store.add_checks(org_id, result.checks)
    store.add_reconciliations(org_id, result.reconciliations)
