"""The authorisation matrix: every API route x every kind of caller, on SQLite and PostgreSQL.

``MATRIX`` lists each route under ``/api/v1`` with the scope it needs, whether a key bound to one
customer may call it, what another organisation's admin key gets, and how to build a valid
request. Each route is called by:

* nobody: no ``Authorization``, a non-Bearer scheme, an unknown key, a revoked key: 401;
* every key whose scopes do not grant the route's scope: 403;
* another organisation's admin key: that tenant's own (empty) data or a 404, never ours;
* a read key bound to another customer: 404 for that customer's data, 403 where a customer
  key may not go, and never a word about the other customer;
* the right key (the least scope that is enough; for customer routes also the customer's own
  key): 2xx.

Every refused call leaves the organisation exactly as it was (its audit head does not move),
and every error is ``application/problem+json`` with a ``tag:slakeeper,2026:problem/`` type.
A route the app serves that is not in the table fails ``test_every_route_is_in_the_matrix``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from api_helpers import API_PREFIX, TRULAYER, Api, assert_problem
from fastapi import FastAPI

from slakeeper.api.app import create_app
from slakeeper.bootstrap import build
from slakeeper.config import Settings
from slakeeper.services.records import IMPLIED, Credit, Scope

ALPHA = "acme-alpha"  # the customer the requests are about
BETA = "acme-beta"  # the other customer: its key must not see ALPHA
TICKET = "T-ALPHA"  # a support request of ALPHA
INCIDENT = "INC-ALPHA"  # a resolved incident that affected ALPHA only
WINDOW = "MW-1"  # a maintenance window in progress
POLICY_TEXT = TRULAYER.read_text(encoding="utf-8")
_TODAY = datetime.now(UTC)
#: The month before this one: a period that has ended, so it can be closed.
LAST_MONTH = f"{_TODAY.year - (_TODAY.month == 1)}-{(_TODAY.month - 2) % 12 + 1:02d}"
CLAIM = {"window_start": "2026-10-10T09:00:00Z", "window_end": "2026-10-10T10:00:00Z"}
#: The active policy: the example with one SLO, so the SLO routes have something to show.
WORLD_POLICY = (
    POLICY_TEXT
    + """
slos:
  - id: ingest-availability
    name: Ingest availability
    sli: {kind: availability, component: ingest-api}
    objective: 99.9
    window: {type: calendar, unit: month}
"""
)


@dataclass
class World:
    """Organisation ``acme`` (policy versions 1 active and 2 inactive, customers ALPHA and
    BETA), a key for every scope, customer keys, a revoked key, and another organisation."""

    api: Api
    other_admin: str = ""
    scope_keys: dict[Scope, str] = field(default_factory=dict)
    customer_keys: dict[str, str] = field(default_factory=dict)
    revoked: str = ""
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self.counter)}"

    def fresh_key_id(self) -> str:
        """A new read key's id (for a route that changes a key)."""
        response = self.api.client.post(
            f"{API_PREFIX}/keys",
            json={"name": self.unique("target"), "scopes": ["read"]},
            headers=self.api.headers(),
        )
        assert response.status_code == 201, response.text
        key_id: str = response.json()["id"]
        return key_id

    def fresh_credit(self, state: str) -> str:
        """A new credit of ALPHA in ``state`` (for the routes that move a credit)."""
        credit_id = self.unique("CR-ALPHA")
        now = self.api.container.clock.now()
        with self.api.container.uow() as uow:
            uow.closes.add_credit(Credit(
                org_id=self.api.org.id, id=credit_id, customer_id=ALPHA, period=LAST_MONTH,
                revision=1, amount=Decimal("12.50"), currency="USD", percent=Decimal(10),
                state=state, claim_required=True, claim_deadline=now + timedelta(days=30),
                created_at=now, updated_at=now,
            ))  # fmt: skip
            uow.commit()
        return credit_id

    def audit_head(self) -> int:
        with self.api.container.uow() as uow:
            org = uow.organisations.get(self.api.org.id)
        assert org is not None
        return org.audit_head_seq

    def private_words(self) -> list[str]:
        """What only this organisation's answers may contain."""
        with self.api.container.uow() as uow:
            key_ids = [key.id for key in uow.keys.list(self.api.org.id)]
            versions = uow.policies.list(self.api.org.id, None, 100)
        return [self.api.org.id, ALPHA, BETA, *key_ids, *(v.sha256 for v in versions)]


@dataclass(frozen=True)
class Call:
    """One concrete request."""

    path: str
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def upload(world: World) -> Call:
    # A comment makes each upload's hash its own, so another tenant's copy cannot match ours.
    text = f"{POLICY_TEXT}\n# upload {world.unique('policy')}\n"
    return Call(
        f"{API_PREFIX}/policies",
        content=text.encode(),
        headers={"Content-Type": "application/yaml"},
        params={"activate": "false"},
    )


def new_customer(world: World) -> Call:
    body = {"id": world.unique("acme-new"), "name": "New", "plan": "pro", "monthly_fee": "10"}
    return Call(f"{API_PREFIX}/customers", json=body)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # the template, as the app and its OpenAPI document name it
    scope: Scope  # the least scope that may call it
    customer_visible: bool  # a read key bound to one customer may call it
    ok: int  # the status with the right key
    other_tenant: int  # the status with another organisation's admin key
    build: Callable[[World], Call]  # a valid request

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


V = API_PREFIX
READ, WRITE, ADMIN = Scope.READ, Scope.WRITE, Scope.ADMIN
INGEST, PROBE = Scope.INGEST, Scope.PROBE


def _measurement(world: World, path: str, kind: str, item: dict[str, Any]) -> Call:
    """A one-item batch under a fresh Idempotency-Key, stamped a minute ago."""
    minute = world.api.container.clock.now() - timedelta(minutes=1)
    item = {"ts": minute.isoformat(), "component": "ingest-api", "region": "us-east", **item}
    return Call(path, json={kind: [item]}, headers={"Idempotency-Key": world.unique("batch")})


# fmt: off
MATRIX: list[Route] = [
    # method, path,                      scope, customer?, ok, other tenant, valid request
    # Another tenant reads its own organisation, not ours.
    Route("GET", f"{V}/organisation",            READ,  True,  200, 200,
          lambda w: Call(f"{V}/organisation")),
    Route("GET", f"{V}/keys",                    ADMIN, False, 200, 200,
          lambda w: Call(f"{V}/keys")),
    # Another tenant's admin creates a key in its own organisation.
    Route("POST", f"{V}/keys",                   ADMIN, False, 201, 201,
          lambda w: Call(f"{V}/keys", json={"name": w.unique("key"), "scopes": ["read"]})),
    Route("POST", f"{V}/keys/{{key_id}}/revoke", ADMIN, False, 200, 404,
          lambda w: Call(f"{V}/keys/{w.fresh_key_id()}/revoke")),
    # Another tenant's upload becomes its own version 1.
    Route("POST", f"{V}/policies",               WRITE, False, 201, 201, upload),
    Route("GET", f"{V}/policies",                READ,  True,  200, 200,
          lambda w: Call(f"{V}/policies")),
    # The other tenant has no active policy of its own.
    Route("GET", f"{V}/policies/active",         READ,  True,  200, 404,
          lambda w: Call(f"{V}/policies/active")),
    Route("GET", f"{V}/policies/{{version}}",    READ,  True,  200, 404,
          lambda w: Call(f"{V}/policies/1")),
    Route("POST", f"{V}/policies/{{version}}/activate", WRITE, False, 200, 404,
          lambda w: Call(f"{V}/policies/2/activate")),
    Route("GET", f"{V}/policies/{{version}}/diff", READ, True, 200, 404,
          lambda w: Call(f"{V}/policies/2/diff", params={"against": "1"})),
    # The customer would land in the other tenant, which has no policy to check it against.
    Route("POST", f"{V}/customers",              WRITE, False, 201, 422, new_customer),
    Route("GET", f"{V}/customers",               READ,  True,  200, 200,
          lambda w: Call(f"{V}/customers")),
    Route("GET", f"{V}/customers/{{customer_id}}", READ, True, 200, 404,
          lambda w: Call(f"{V}/customers/{ALPHA}")),
    Route("PATCH", f"{V}/customers/{{customer_id}}", WRITE, False, 200, 404,
          lambda w: Call(f"{V}/customers/{ALPHA}", json={"name": w.unique("Alpha")})),
    Route("GET", f"{V}/components",              READ,  True,  200, 200,
          lambda w: Call(f"{V}/components")),
    Route("GET", f"{V}/audit",                   READ,  False, 200, 200,
          lambda w: Call(f"{V}/audit")),
    # The other tenant has no customer ALPHA to open a request for.
    Route("POST", f"{V}/tickets",                WRITE, False, 201, 404,
          lambda w: Call(f"{V}/tickets", json={"id": w.unique("T"), "customer": ALPHA,
                                               "severity": "sev-2"})),
    Route("GET", f"{V}/tickets",                 READ,  True,  200, 200,
          lambda w: Call(f"{V}/tickets")),
    Route("GET", f"{V}/tickets/{{ticket_id}}",   READ,  True,  200, 404,
          lambda w: Call(f"{V}/tickets/{TICKET}")),
    Route("POST", f"{V}/tickets/{{ticket_id}}/events", WRITE, False, 201, 404,
          lambda w: Call(f"{V}/tickets/{TICKET}/events",
                         json={"kind": "status-changed", "status": "open"})),
    Route("POST", f"{V}/tickets/{{ticket_id}}/recompute", WRITE, False, 200, 404,
          lambda w: Call(f"{V}/tickets/{TICKET}/recompute")),
    # The other tenant has no policy to read the rows against.
    Route("POST", f"{V}/tickets/import",         WRITE, False, 200, 422,
          lambda w: Call(f"{V}/tickets/import", headers={"Content-Type": "text/csv"},
                         content=f"id,customer,severity,opened_at\n{w.unique('I')},{ALPHA},"
                                 "sev-2,2026-11-02T10:00:00Z\n".encode())),
    # The other tenant has no policy with the severity and components.
    Route("POST", f"{V}/incidents",              WRITE, False, 201, 422,
          lambda w: Call(f"{V}/incidents", json={"id": w.unique("INC"), "title": "Down",
                                                 "severity": "sev-2"})),
    Route("GET", f"{V}/incidents",               READ,  True,  200, 200,
          lambda w: Call(f"{V}/incidents")),
    Route("GET", f"{V}/incidents/{{incident_id}}", READ, True, 200, 404,
          lambda w: Call(f"{V}/incidents/{INCIDENT}")),
    Route("POST", f"{V}/incidents/{{incident_id}}/updates", WRITE, False, 201, 404,
          lambda w: Call(f"{V}/incidents/{INCIDENT}/updates",
                         json={"status": "postmortem", "message": w.unique("note")})),
    Route("PUT", f"{V}/incidents/{{incident_id}}/postmortem", WRITE, False, 200, 404,
          lambda w: Call(f"{V}/incidents/{INCIDENT}/postmortem",
                         json={"markdown": "# What happened"})),
    Route("POST", f"{V}/incidents/{{incident_id}}/exclusions", WRITE, False, 201, 404,
          lambda w: Call(f"{V}/incidents/{INCIDENT}/exclusions", json={
              "category": "force-majeure", "start": "2026-11-01T00:00:00Z",
              "end": "2026-11-01T01:00:00Z"})),
    # The other tenant has no active policy to judge by.
    Route("GET", f"{V}/reports/sla",              READ,  True,  200, 422,
          lambda w: Call(f"{V}/reports/sla", params={"period": "2026-11"})),
    Route("POST", f"{V}/maintenance",            WRITE, False, 201, 422,
          lambda w: Call(f"{V}/maintenance", json={
              "id": w.unique("MW"), "title": "Upgrade", "components": ["dashboard"],
              "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z"})),
    Route("GET", f"{V}/maintenance",             READ,  True,  200, 200,
          lambda w: Call(f"{V}/maintenance")),
    Route("POST", f"{V}/maintenance/{{window_id}}/complete", WRITE, False, 200, 404,
          lambda w: Call(f"{V}/maintenance/{WINDOW}/complete", json={})),
    Route("GET", f"{V}/subscribers",             ADMIN, False, 200, 200,
          lambda w: Call(f"{V}/subscribers")),
    Route("GET", f"{V}/outbox",                  ADMIN, False, 200, 200,
          lambda w: Call(f"{V}/outbox")),
    # Another tenant's admin key has neither the ingest nor the probe scope.
    Route("POST", f"{V}/ingest",                 INGEST, False, 200, 403,
          lambda w: _measurement(w, f"{V}/ingest", "events", {"status": 200})),
    Route("POST", f"{V}/probes/results",         PROBE, False, 200, 403,
          lambda w: _measurement(w, f"{V}/probes/results", "results", {"ok": True})),
    Route("GET", f"{V}/customers/{{customer_id}}/sla", READ, True, 200, 404,
          lambda w: Call(f"{V}/customers/{ALPHA}/sla")),
    # The other tenant has no policy, so no SLOs and no alerts.
    Route("GET", f"{V}/slos",                    READ,  False, 200, 200,
          lambda w: Call(f"{V}/slos")),
    Route("GET", f"{V}/slos/{{slo_id}}",         READ,  False, 200, 404,
          lambda w: Call(f"{V}/slos/ingest-availability")),
    Route("GET", f"{V}/slos/{{slo_id}}/series",  READ,  False, 200, 404,
          lambda w: Call(f"{V}/slos/ingest-availability/series",
                         params={"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z"})),
    Route("GET", f"{V}/alerts",                  READ,  False, 200, 200,
          lambda w: Call(f"{V}/alerts")),
    # The other tenant has no policy to close by.
    Route("POST", f"{V}/closes",                 ADMIN, False, 201, 422,
          lambda w: Call(f"{V}/closes", json={"period": LAST_MONTH,
                                              "reason": w.unique("again")})),
    Route("GET", f"{V}/closes",                  READ,  False, 200, 200,
          lambda w: Call(f"{V}/closes")),
    Route("GET", f"{V}/reports/{{customer_id}}/{{period}}", READ, True, 200, 404,
          lambda w: Call(f"{V}/reports/{ALPHA}/{LAST_MONTH}")),
    Route("GET", f"{V}/credits",                 READ,  True,  200, 200,
          lambda w: Call(f"{V}/credits")),
    # A claim: the customer's own key, or a writer for the customer.
    Route("POST", f"{V}/credits/{{credit_id}}/claim", WRITE, True, 200, 404,
          lambda w: Call(f"{V}/credits/{w.fresh_credit('eligible')}/claim", json=CLAIM)),
    Route("POST", f"{V}/credits/{{credit_id}}/decision", WRITE, False, 200, 404,
          lambda w: Call(f"{V}/credits/{w.fresh_credit('claimed')}/decision",
                         json={"approve": True, "reason": "verified"})),
    Route("POST", f"{V}/credits/{{credit_id}}/apply", WRITE, False, 200, 404,
          lambda w: Call(f"{V}/credits/{w.fresh_credit('approved')}/apply",
                         json={"invoice": "INV-1"})),
    Route("GET", f"{V}/ledger/export",           READ,  True,  200, 200,
          lambda w: Call(f"{V}/ledger/export")),
    # The other tenant has no customer ALPHA.
    Route("POST", f"{V}/data-loss",              WRITE, False, 201, 404,
          lambda w: Call(f"{V}/data-loss", json={"id": w.unique("DL"), "customer": ALPHA,
                                                 "at": "2026-10-05T00:00:00Z",
                                                 "description": "lost a day of events"})),
    Route("GET", f"{V}/reports/support-review",  READ,  False, 200, 422,
          lambda w: Call(f"{V}/reports/support-review",
                         params={"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"})),
]
# fmt: on

#: Routes outside the API that answer anyone, on purpose.
PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    # The status page's subscription endpoints answer anyone, on purpose (double opt-in).
    # The public status page, its Statuspage v2 JSON, feed and badges.
    ("GET", "/status/{org}"),
    ("GET", "/status/{org}/api/v2/summary.json"),
    ("GET", "/status/{org}/api/v2/status.json"),
    ("GET", "/status/{org}/api/v2/components.json"),
    ("GET", "/status/{org}/api/v2/incidents.json"),
    ("GET", "/status/{org}/api/v2/scheduled-maintenances.json"),
    ("GET", "/status/{org}/history.atom"),
    ("GET", "/status/{org}/badge/{component}.svg"),
    ("GET", "/status/{org}/badge/{component}/uptime.svg"),
    ("POST", "/status/{org}/subscriptions"),
    ("POST", "/status/{org}/subscribe"),
    ("GET", "/status/{org}/subscriptions/confirm"),
    ("GET", "/status/{org}/subscriptions/unsubscribe"),
    # The operator dashboard: HTML pages that sign in with an operator account and a session
    # cookie, not an API key (tests/integration/test_dashboard.py), and its stylesheet.
    ("GET", "/"),
    ("GET", "/customers/{customer_id}"),
    ("GET", "/components/{component_id}"),
    ("GET", "/slos/{slo_id}"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("GET", "/dashboard.css"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", f"{API_PREFIX}/openapi.json"),
}


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route the app serves, from its routing table and from
    its OpenAPI document (so a route hidden from either is still found). HEAD is implied."""
    try:  # FastAPI >= 0.13x keeps included routers as entries that expand lazily.
        from fastapi.routing import iter_route_contexts

        routes: Iterable[Any] = iter_route_contexts(app.routes)
    except ImportError:
        routes = app.routes
    found = {
        (method, route.path)
        for route in routes
        for method in (getattr(route, "methods", None) or ())
        if method != "HEAD"
    }
    for path, operations in app.openapi()["paths"].items():
        found |= {(method.upper(), path) for method in operations if method != "parameters"}
    return found


@pytest.fixture
def world(api: Api) -> World:
    api.upload_policy(WORLD_POLICY)
    api.upload_policy(activate=False)
    api.customer(ALPHA)
    api.customer(BETA)
    opened = api.client.post(
        f"{API_PREFIX}/tickets",
        json={"id": TICKET, "customer": ALPHA, "severity": "sev-2"},
        headers=api.headers(),
    )
    assert opened.status_code == 201, opened.text
    declared = api.client.post(
        f"{API_PREFIX}/incidents",
        json={"id": INCIDENT, "title": "Dashboard down", "severity": "sev-2",
              "customers": [ALPHA], "components": {"dashboard": "major-outage"}},
        headers=api.headers(),
    )  # fmt: skip
    assert declared.status_code == 201, declared.text
    resolved = api.client.post(
        f"{API_PREFIX}/incidents/{INCIDENT}/updates",
        json={"status": "resolved", "message": "Fixed", "components": {"dashboard": "operational"}},
        headers=api.headers(),
    )
    assert resolved.status_code == 201, resolved.text
    now = api.container.clock.now()
    window = api.client.post(
        f"{API_PREFIX}/maintenance",
        json={"id": WINDOW, "title": "Upgrade", "components": ["dashboard"],
              "starts_at": (now - timedelta(hours=1)).isoformat(),
              "ends_at": (now + timedelta(hours=1)).isoformat(),
              "announced_at": (now - timedelta(days=3)).isoformat()},
        headers=api.headers(),
    )  # fmt: skip
    assert window.status_code == 201, window.text
    _org, other_admin = api.other_organisation("globex")
    revoked_id_and_key = api.client.post(
        f"{API_PREFIX}/keys", json={"name": "revoked", "scopes": ["admin"]}, headers=api.headers()
    ).json()
    revoked = api.client.post(
        f"{API_PREFIX}/keys/{revoked_id_and_key['id']}/revoke", headers=api.headers()
    )
    assert revoked.status_code == 200, revoked.text
    closed = api.client.post(
        f"{API_PREFIX}/closes", json={"period": LAST_MONTH}, headers=api.headers()
    )
    assert closed.status_code == 201, closed.text
    return World(
        api=api,
        other_admin=other_admin,
        scope_keys={scope: api.key(scope) for scope in Scope},
        customer_keys={customer: api.key("read", customer=customer) for customer in (ALPHA, BETA)},
        revoked=revoked_id_and_key["key"],
    )


def send(world: World, route: Route, authorization: str | None) -> tuple[Any, bool]:
    """Build a valid request for ``route``, send it; the answer, and whether the organisation
    changed (its audit head moved) because of it."""
    call = route.build(world)
    headers = dict(call.headers)
    if authorization is not None:
        headers["Authorization"] = authorization
    before = world.audit_head()
    response = world.api.client.request(
        route.method,
        call.path,
        json=call.json,
        content=call.content,
        headers=headers,
        params=call.params,
    )
    return response, world.audit_head() != before


def assert_refused(
    world: World, route: Route, who: str, authorization: str | None, status: int, name: str
) -> None:
    """The call is refused with the problem ``name``, and nothing changed."""
    response, changed = send(world, route, authorization)
    assert response.status_code == status, (who, response.status_code, response.text)
    assert_problem(response, status, name)
    assert not changed, f"{who}: a refused call changed the organisation"
    if status == 401:
        assert response.headers.get("www-authenticate") == "Bearer", who


def assert_answered(
    world: World,
    route: Route,
    who: str,
    key: str,
    status: int,
    *,
    hidden: Iterable[str] = (),
    changes_us: bool = True,
) -> None:
    """The call gets ``status``, the answer mentions none of ``hidden`` and, unless
    ``changes_us``, the organisation did not change."""
    response, changed = send(world, route, f"Bearer {key}")
    assert response.status_code == status, (who, response.status_code, response.text)
    if response.is_success:
        leaked = [word for word in hidden if word in response.text]
        assert not leaked, f"{who} sees {leaked} in {response.text}"
    else:
        assert_problem(response, status)
    if not changes_us:
        assert not changed, f"{who}: the call changed this organisation"


def test_every_route_is_in_the_matrix(tmp_path: Path) -> None:
    container = build(Settings(database_url=f"sqlite:///{tmp_path}/routes.db"))
    try:
        served = served_routes(create_app(container))
    finally:
        container.close()
    listed = {(route.method, route.path) for route in MATRIX}
    new = sorted(route for route in served - listed - PUBLIC)
    assert not new, f"new route not in the authorisation matrix: {new}"
    gone = sorted(listed - served)
    assert not gone, f"the authorisation matrix lists routes the app does not serve: {gone}"
    assert len(listed) == len(MATRIX), "a route is listed twice"


@pytest.mark.parametrize("route", MATRIX, ids=lambda route: route.id)
def test_each_route_admits_exactly_the_callers_it_should(world: World, route: Route) -> None:
    # Nobody: no header, another scheme, an unknown key, a revoked key.
    for who, authorization in [
        ("no key", None),
        ("basic auth", "Basic YWRtaW46YWRtaW4="),
        ("unknown key", "Bearer slk_thisKeyWasNeverIssued"),
        ("revoked key", f"Bearer {world.revoked}"),
    ]:
        assert_refused(world, route, who, authorization, 401, "unauthorized")

    # Keys that lack the scope (scopes are ordered admin > write > read; ingest, probe apart).
    for scope, key in world.scope_keys.items():
        if route.scope not in IMPLIED[scope]:
            assert_refused(world, route, f"{scope} key", f"Bearer {key}", 403, "forbidden")

    # Another organisation's admin key: never our data, never a change to us.
    assert_answered(
        world, route, "other tenant", world.other_admin, route.other_tenant,
        hidden=world.private_words(), changes_us=False,
    )  # fmt: skip

    # A read key bound to BETA.
    beta_key = world.customer_keys[BETA]
    if not route.customer_visible:
        assert_refused(world, route, "other customer's key", f"Bearer {beta_key}", 403, "forbidden")
    elif any(
        name in route.path
        for name in ("{customer_id}", "{ticket_id}", "{incident_id}", "{credit_id}")
    ):
        assert_refused(world, route, "other customer's key", f"Bearer {beta_key}", 404, "not-found")
    else:
        assert_answered(world, route, "other customer's key", beta_key, route.ok, hidden=[ALPHA])
        assert_answered(world, route, "own customer's key", world.customer_keys[ALPHA], route.ok)

    # The right key: the least scope that is enough, then the admin key (which measurements do
    # not take: ingest and probe keys are scopes of their own, so an agent's key stays narrow).
    assert_answered(world, route, "right key", world.scope_keys[route.scope], route.ok)
    if route.scope in IMPLIED[ADMIN]:
        assert_answered(world, route, "admin key", world.api.admin_key, route.ok)


def test_a_customer_key_lists_only_its_own_customer(world: World) -> None:
    for customer, key in world.customer_keys.items():
        response = world.api.client.get(f"{API_PREFIX}/customers", headers=world.api.headers(key))
        assert response.status_code == 200, response.text
        assert [item["id"] for item in response.json()["items"]] == [customer]


def test_another_tenant_sees_only_its_own_organisation(world: World) -> None:
    headers = world.api.headers(world.other_admin)
    organisation = world.api.client.get(f"{API_PREFIX}/organisation", headers=headers).json()
    assert organisation["slug"] == "globex"
    for path in ("customers", "policies", "audit"):
        items = world.api.client.get(f"{API_PREFIX}/{path}", headers=headers).json()["items"]
        assert all(world.api.org.id not in str(item) for item in items), path
    assert world.api.client.get(f"{API_PREFIX}/customers", headers=headers).json()["items"] == []
    assert world.api.client.get(f"{API_PREFIX}/components", headers=headers).json() == []
