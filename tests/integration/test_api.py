"""The HTTP API through the in-process client, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import EXAMPLES
from slakeeper import bootstrap
from slakeeper.api.app import create_app
from slakeeper.config import Settings
from slakeeper.services import tenancy
from slakeeper.services.records import Scope

TRULAYER = (EXAMPLES / "trulayer.yaml").read_text(encoding="utf-8")
PROBLEM = "application/problem+json"


@dataclass
class Server:
    client: TestClient
    container: bootstrap.Container
    admin: str

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.admin}"}

    def upload(self, text: str = TRULAYER, key: str | None = None, **params: str):  # type: ignore[no-untyped-def]
        headers = {**self.auth(key), "Content-Type": "application/yaml"}
        return self.client.post("/api/v1/policies", content=text, headers=headers, params=params)

    def new_org(self, slug: str) -> str:
        with self.container.uow() as uow:
            _, issued = tenancy.create_organisation(
                uow, slug=slug, name=slug, actor="test", now=self.container.clock.now()
            )
            uow.commit()
        return issued.secret

    def key(self, *scopes: str, customer: str | None = None) -> str:
        answer = self.client.post(
            "/api/v1/keys",
            json={"name": "test", "scopes": list(scopes), "customer": customer},
            headers=self.auth(),
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["key"])

    def customer(self, customer_id: str, plan: str = "pro", key: str | None = None):  # type: ignore[no-untyped-def]
        body = {"id": customer_id, "name": customer_id.title(), "plan": plan,
                "monthly_fee": "1250.00"}  # fmt: skip
        return self.client.post("/api/v1/customers", json=body, headers=self.auth(key))


def serve(database_url: str, **settings: int) -> Iterator[Server]:
    container = bootstrap.build(Settings(database_url=database_url, **settings))  # type: ignore[arg-type]
    container.upgrade()
    with container.uow() as uow:
        _, issued = tenancy.create_organisation(
            uow, slug="acme", name="ACME", actor="test", now=container.clock.now()
        )
        uow.commit()
    with TestClient(create_app(container)) as client:
        yield Server(client, container, issued.secret)
    container.close()


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    yield from serve(database_url)


def assert_problem(answer, status: int, name: str) -> dict:  # type: ignore[no-untyped-def]
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    body = answer.json()
    assert body["type"] == f"tag:slakeeper,2026:problem/{name}"
    assert body["status"] == status
    return body  # type: ignore[no-any-return]


def test_a_request_without_a_key_is_401_problem(server: Server) -> None:
    answer = server.client.get("/api/v1/organisation")
    assert_problem(answer, 401, "unauthorized")
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_valid_policy_upload_becomes_the_active_version(server: Server) -> None:
    answer = server.upload()
    assert answer.status_code == 201, answer.text
    version = answer.json()
    assert (version["version"], version["name"], version["active"]) == (1, "trulayer", True)
    active = server.client.get("/api/v1/policies/active", headers=server.auth()).json()
    assert active["source"] == TRULAYER
    assert active["sha256"] == version["sha256"]
    org = server.client.get("/api/v1/organisation", headers=server.auth()).json()
    assert org["active_policy_version"] == 1


def test_a_broken_policy_upload_answers_with_the_line_that_is_wrong(server: Server) -> None:
    broken = TRULAYER.replace("min_notice: 48h", "min_notice: 48 hours")
    line = broken.splitlines().index("  min_notice: 48 hours") + 1
    body = assert_problem(server.upload(broken), 422, "invalid-policy")
    (error,) = body["errors"]
    assert error["line"] == line
    assert error["key"] == "maintenance.min_notice"
    assert "not a duration" in error["message"]
    listing = server.client.get("/api/v1/policies", headers=server.auth()).json()
    assert listing["items"] == []


def test_a_policy_must_be_sent_as_yaml(server: Server) -> None:
    answer = server.client.post("/api/v1/policies", json={"yaml": TRULAYER}, headers=server.auth())
    assert_problem(answer, 415, "unsupported-media-type")


def test_versions_are_immutable_activatable_and_diffable(server: Server) -> None:
    server.upload()
    changed = TRULAYER.replace("target: 99.9", "target: 99.95")
    second = server.upload(changed, activate="false").json()
    assert (second["version"], second["active"]) == (2, False)
    diff = server.client.get(
        "/api/v1/policies/2/diff", params={"against": 1}, headers=server.auth()
    ).json()
    assert "-      target: 99.9\n" in diff["diff"]
    assert "+      target: 99.95\n" in diff["diff"]
    answer = server.client.post("/api/v1/policies/2/activate", headers=server.auth())
    assert answer.json()["active"] is True
    first = server.client.get("/api/v1/policies/1", headers=server.auth()).json()
    assert first["source"] == TRULAYER
    assert first["active"] is False


def test_customers_need_a_plan_of_the_active_policy(server: Server) -> None:
    assert_problem(server.customer("acme"), 422, "validation")
    server.upload()
    body = assert_problem(server.customer("acme", plan="prp"), 422, "validation")
    assert body["errors"][0]["field"] == "plan"
    assert "did you mean 'pro'" in body["errors"][0]["message"]
    created = server.customer("acme")
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    assert created.json()["monthly_fee"] == "1250.00"
    assert_problem(server.customer("acme"), 409, "conflict")


def test_money_and_instants_round_trip_exactly(server: Server) -> None:
    server.upload()
    body = {
        "id": "exact",
        "name": "Exact",
        "plan": "team",
        "monthly_fee": "1234.567891",
        "timezone": "America/New_York",
        "contract_start": "2026-10-16T00:00:00-04:00",
    }
    created = server.client.post("/api/v1/customers", json=body, headers=server.auth())
    assert created.status_code == 201, created.text
    fetched = server.client.get("/api/v1/customers/exact", headers=server.auth()).json()
    assert fetched["monthly_fee"] == "1234.567891"
    assert fetched["contract_start"] == "2026-10-16T04:00:00Z"
    naive = {**body, "id": "naive", "contract_start": "2026-10-16T00:00:00"}
    answer = server.client.post("/api/v1/customers", json=naive, headers=server.auth())
    problem = assert_problem(answer, 422, "validation")
    assert problem["errors"][0]["field"] == "contract_start"


def test_if_match_with_a_stale_version_is_412_and_changes_nothing(server: Server) -> None:
    server.upload()
    server.customer("acme")
    path = "/api/v1/customers/acme"
    ok = server.client.patch(
        path, json={"name": "ACME Inc"}, headers={**server.auth(), "If-Match": '"1"'}
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["version"], ok.headers["etag"]) == (2, '"2"')
    stale = server.client.patch(
        path, json={"name": "Lost"}, headers={**server.auth(), "If-Match": '"1"'}
    )
    assert_problem(stale, 412, "precondition-failed")
    assert server.client.get(path, headers=server.auth()).json()["name"] == "ACME Inc"


def test_lists_page_with_a_cursor(server: Server) -> None:
    server.upload()
    for index in range(5):
        assert server.customer(f"c{index}").status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = server.client.get("/api/v1/customers", params=params, headers=server.auth()).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["c0", "c1", "c2", "c3", "c4"]
    bad = server.client.get("/api/v1/customers", params={"cursor": "!!"}, headers=server.auth())
    assert bad.status_code == 400


def test_scopes_and_revocation(server: Server) -> None:
    server.upload()
    reader = server.key("read")
    assert server.client.get("/api/v1/customers", headers=server.auth(reader)).status_code == 200
    assert_problem(server.customer("x", key=reader), 403, "forbidden")
    keys = server.client.get("/api/v1/keys", headers=server.auth()).json()
    reader_id = next(key["id"] for key in keys if key["prefix"] == reader[:10])
    assert next(key for key in keys if key["id"] == reader_id)["last_used_at"] is not None
    assert all("key" not in key and "key_hash" not in key for key in keys)
    revoked = server.client.post(f"/api/v1/keys/{reader_id}/revoke", headers=server.auth())
    assert revoked.json()["revoked_at"] is not None
    assert_problem(server.client.get("/api/v1/customers", headers=server.auth(reader)), 401,
                   "unauthorized")  # fmt: skip


def test_a_customer_key_sees_only_its_customer(server: Server) -> None:
    server.upload()
    server.customer("mine")
    server.customer("theirs")
    mine = server.key("read", customer="mine")
    listing = server.client.get("/api/v1/customers", headers=server.auth(mine)).json()
    assert [item["id"] for item in listing["items"]] == ["mine"]
    assert server.client.get("/api/v1/customers/mine", headers=server.auth(mine)).status_code == 200
    other = server.client.get("/api/v1/customers/theirs", headers=server.auth(mine))
    assert_problem(other, 404, "not-found")
    assert_problem(server.client.get("/api/v1/audit", headers=server.auth(mine)), 403, "forbidden")
    answer = server.client.post(
        "/api/v1/keys", json={"name": "x", "scopes": ["write"], "customer": "mine"},
        headers=server.auth(),
    )  # fmt: skip
    assert_problem(answer, 422, "validation")


def test_tenants_never_see_each_other(server: Server) -> None:
    server.upload()
    server.customer("acme-only")
    other = server.new_org("globex")
    assert server.client.get("/api/v1/customers", headers=server.auth(other)).json()["items"] == []
    answer = server.client.get("/api/v1/customers/acme-only", headers=server.auth(other))
    assert_problem(answer, 404, "not-found")
    assert server.client.get("/api/v1/policies/1", headers=server.auth(other)).status_code == 404
    audit = server.client.get("/api/v1/audit", headers=server.auth(other)).json()["items"]
    assert {entry["action"] for entry in audit} == {"organisation.created", "key.created"}


def test_every_change_is_in_the_audit_log_with_before_and_after(server: Server) -> None:
    server.upload()
    server.customer("acme")
    server.client.patch("/api/v1/customers/acme", json={"plan": "team"}, headers=server.auth())
    entries = server.client.get("/api/v1/audit", params={"limit": "200"}, headers=server.auth())
    items = entries.json()["items"]
    actions = [entry["action"] for entry in items]
    assert actions == [
        "organisation.created",
        "key.created",
        "policy.uploaded",
        "policy.activated",
        "customer.created",
        "customer.updated",
    ]
    update = items[-1]
    assert (update["before"]["plan"], update["after"]["plan"]) == ("pro", "team")
    assert update["actor"].startswith("key:")
    assert all(items[i]["prev_hash"] == items[i - 1]["hash"] for i in range(1, len(items)))


def test_components_come_from_the_active_policy(server: Server) -> None:
    assert server.client.get("/api/v1/components", headers=server.auth()).json() == []
    server.upload()
    components = server.client.get("/api/v1/components", headers=server.auth()).json()
    assert [c["id"] for c in components] == [
        "ingest-api", "dashboard", "eval-engine", "control-engine", "auth",
    ]  # fmt: skip
    assert {c["status"] for c in components} == {"operational"}
    assert next(c for c in components if c["id"] == "auth")["fail_mode"] == "fail-closed"


def test_an_idempotency_key_replays_the_first_answer(server: Server) -> None:
    server.upload()
    body = {"id": "once", "name": "Once", "plan": "pro", "monthly_fee": "1.00"}
    headers = {**server.auth(), "Idempotency-Key": "create-once"}
    first = server.client.post("/api/v1/customers", json=body, headers=headers)
    again = server.client.post("/api/v1/customers", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    changed = server.client.post(
        "/api/v1/customers", json={**body, "name": "Twice"}, headers=headers
    )
    assert_problem(changed, 422, "idempotency-key-reused")
    customers = server.client.get("/api/v1/customers", headers=server.auth()).json()["items"]
    assert [c["id"] for c in customers] == ["once"]


def test_a_replay_while_the_first_request_runs_is_409(server: Server) -> None:
    import hashlib

    server.upload()
    body = b'{"id": "slow", "name": "Slow", "plan": "pro", "monthly_fee": "1.00"}'
    scope = hashlib.sha256(f"Bearer {server.admin}".encode()).hexdigest()
    fingerprint = hashlib.sha256(b"\n".join([b"/api/v1/customers", b"", body])).hexdigest()
    with server.container.uow() as uow:
        assert uow.idempotency.claim(scope, "busy", fingerprint, server.container.clock.now())
        uow.commit()
    headers = {**server.auth(), "Idempotency-Key": "busy", "Content-Type": "application/json"}
    answer = server.client.post("/api/v1/customers", content=body, headers=headers)
    assert_problem(answer, 409, "in-flight")


def test_too_many_requests_are_429_with_retry_after(database_url: str) -> None:
    for server in serve(database_url, rate_limit_per_minute=2):
        assert server.client.get("/api/v1/organisation", headers=server.auth()).status_code == 200
        assert server.client.get("/api/v1/organisation", headers=server.auth()).status_code == 200
        answer = server.client.get("/api/v1/organisation", headers=server.auth())
        assert_problem(answer, 429, "rate-limited")
        assert int(answer.headers["retry-after"]) >= 1


def test_health_readiness_and_metrics(server: Server) -> None:
    assert server.client.get("/healthz").json() == {"status": "ok"}
    assert server.client.get("/readyz").json() == {"status": "ready"}
    server.client.get("/api/v1/customers/nobody", headers=server.auth())
    metrics = server.client.get("/metrics").text
    assert (
        'slakeeper_http_requests_total{method="GET",route="/api/v1/customers/{customer_id}",'
        'status="404"} 1.0' in metrics
    )
    assert "slakeeper_http_request_duration_seconds_bucket" in metrics
    assert "slakeeper_db_pool_connections" in metrics


def test_an_unmigrated_database_is_not_ready(tmp_path: Path) -> None:
    container = bootstrap.build(Settings(database_url=f"sqlite:///{tmp_path}/empty.db"))
    with TestClient(create_app(container)) as client:
        answer = client.get("/readyz")
    assert_problem(answer, 503, "unavailable")
    assert "slakeeper db upgrade" in answer.json()["detail"]
    container.close()


def test_auth_fails_closed_when_the_database_is_unreachable() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2"
    container = bootstrap.build(Settings(database_url=url))
    with TestClient(create_app(container)) as client:
        answer = client.get("/api/v1/customers", headers={"Authorization": "Bearer slk_anything"})
        assert_problem(answer, 503, "unavailable")
        assert client.get("/healthz").status_code == 200
        assert_problem(client.get("/readyz"), 503, "unavailable")
    container.close()


def test_the_openapi_document_is_published(server: Server) -> None:
    document = server.client.get("/api/v1/openapi.json").json()
    assert "/api/v1/customers/{customer_id}" in document["paths"]
    assert "/api/v1/policies" in document["paths"]
    request = document["paths"]["/api/v1/policies"]["post"]["requestBody"]
    assert "application/yaml" in request["content"]


def test_the_cli_key_is_an_admin_of_its_organisation(server: Server) -> None:
    with server.container.uow() as uow:
        org = uow.organisations.by_slug("acme")
    assert org is not None
    assert tenancy.cli_principal(org).allows(Scope.ADMIN)


def test_customer_overrides_are_validated_against_the_plan(server: Server) -> None:
    server.upload()
    body = {"id": "big", "name": "Big", "plan": "pro", "monthly_fee": "10.00"}
    bad = {**body, "overrides": {"uptime_target": 99.95, "support_hours": "nights"}}
    problem = assert_problem(
        server.client.post("/api/v1/customers", json=bad, headers=server.auth()), 422, "validation"
    )
    assert problem["errors"][0]["field"] == "overrides.support_hours"
    assert "unknown calendar 'nights'" in problem["errors"][0]["message"]
    good = {**body, "overrides": {"uptime_target": "99.95", "contract": "Order form 7"}}
    created = server.client.post("/api/v1/customers", json=good, headers=server.auth())
    assert created.status_code == 201, created.text
    assert created.json()["overrides"]["uptime_target"] == "99.95"


def test_an_idempotency_key_left_in_flight_by_a_dead_process_is_reclaimed(server: Server) -> None:
    import hashlib

    server.upload()
    body = b'{"id": "late", "name": "Late", "plan": "pro", "monthly_fee": "1.00"}'
    scope = hashlib.sha256(f"Bearer {server.admin}".encode()).hexdigest()
    fingerprint = hashlib.sha256(b"\n".join([b"/api/v1/customers", b"", body])).hexdigest()
    long_ago = server.container.clock.now() - timedelta(minutes=10)
    with server.container.uow() as uow:
        assert uow.idempotency.claim(scope, "stuck", fingerprint, long_ago)
        uow.commit()
    headers = {**server.auth(), "Idempotency-Key": "stuck", "Content-Type": "application/json"}
    answer = server.client.post("/api/v1/customers", content=body, headers=headers)
    assert answer.status_code == 201, answer.text
    again = server.client.post("/api/v1/customers", content=body, headers=headers)
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
