"""Helpers for tests of the HTTP API: a migrated store, the app on it, a tenant and its keys.

The ``api`` fixture (``tests/integration/conftest.py``) gives an :class:`Api`: the app on a
fresh, migrated database (SQLite and PostgreSQL, through ``database_url``), an organisation
``acme`` and its admin key. Everything else a test needs is one call away::

    def test_a_reader_sees_the_customer(api: Api) -> None:
        api.upload_policy()                      # trulayer.yaml, active
        api.customer("globex", plan="pro")
        reader = api.key("read")
        assert api.client.get("/api/v1/customers/globex", headers=api.headers(reader)).is_success

Helpers that create something assert it worked and return the answer's JSON, so a test reads
as its scenario. :func:`open_api` is the same thing as a context manager, for tests that need
other settings (e.g. a higher rate limit) or more than one app.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from slakeeper.api.app import API_PREFIX, create_app
from slakeeper.bootstrap import Container, build
from slakeeper.config import Settings
from slakeeper.services import tenancy
from slakeeper.services.records import Organisation, Scope

__all__ = [
    "API_PREFIX",
    "EXAMPLES",
    "PROBLEM_TYPE_PREFIX",
    "TRULAYER",
    "Api",
    "assert_problem",
    "open_api",
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "policies"
#: The example policy the helpers upload by default (plans ``free``, ``pro`` and ``team``).
TRULAYER = EXAMPLES / "trulayer.yaml"
#: Every problem+json ``type`` the API answers starts with this.
PROBLEM_TYPE_PREFIX = "tag:slakeeper,2026:problem/"

ScopeNames = str | Scope | Iterable[str | Scope]


def assert_problem(response: Any, status: int, name: str | None = None) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with ``status`` (and type ``name``, if given)."""
    assert response.status_code == status, (response.status_code, response.text)
    media = response.headers.get("content-type", "").split(";")[0].strip()
    assert media == "application/problem+json", (media, response.text)
    body: dict[str, Any] = response.json()
    assert body["type"].startswith(PROBLEM_TYPE_PREFIX), body
    assert body["status"] == status, body
    if name is not None:
        assert body["type"] == PROBLEM_TYPE_PREFIX + name, body
    return body


@dataclass
class Api:
    """The app on a migrated store, with organisation ``org`` and its ``admin_key``."""

    client: TestClient
    container: Container
    org: Organisation
    admin_key: str
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def headers(self, key: str | None = None, **extra: str) -> dict[str, str]:
        """``Authorization`` for ``key`` (default: the admin key), plus ``extra`` headers
        (``If_Match="..."`` becomes ``If-Match``)."""
        headers = {name.replace("_", "-"): value for name, value in extra.items()}
        headers["Authorization"] = f"Bearer {key or self.admin_key}"
        return headers

    def key(
        self, scopes: ScopeNames, customer: str | None = None, *, key: str | None = None
    ) -> str:
        """A new key of this organisation with ``scopes`` ("read", ["write"], [Scope.INGEST]),
        bound to ``customer`` if given; created over the API with ``key`` (default: admin)."""
        names = [scopes] if isinstance(scopes, str) else list(scopes)
        body: dict[str, Any] = {
            "name": f"test key {next(self._names)}",
            "scopes": [Scope(name).value for name in names],
        }
        if customer is not None:
            body["customer"] = customer
        response = self.client.post(f"{API_PREFIX}/keys", json=body, headers=self.headers(key))
        assert response.status_code == 201, response.text
        secret: str = response.json()["key"]
        return secret

    def upload_policy(
        self, path_or_text: Path | str = TRULAYER, key: str | None = None, *, activate: bool = True
    ) -> dict[str, Any]:
        """Upload a policy (a file, or YAML text) as ``application/yaml``; the new version."""
        if isinstance(path_or_text, Path) or "\n" not in path_or_text:
            text = Path(path_or_text).read_text(encoding="utf-8")
        else:
            text = path_or_text
        response = self.client.post(
            f"{API_PREFIX}/policies",
            params={"activate": str(activate).lower()},
            content=text.encode("utf-8"),
            headers={**self.headers(key), "Content-Type": "application/yaml"},
        )
        assert response.status_code == 201, response.text
        version: dict[str, Any] = response.json()
        return version

    def customer(
        self, id: str, plan: str = "pro", key: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Create customer ``id`` on ``plan`` (a monthly fee of 100 unless ``fields`` say
        otherwise); needs an active policy with that plan. The customer's JSON."""
        body = {"id": id, "name": f"Customer {id}", "plan": plan, "monthly_fee": "100", **fields}
        response = self.client.post(f"{API_PREFIX}/customers", json=body, headers=self.headers(key))
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def other_organisation(self, slug: str) -> tuple[Organisation, str]:
        """Another tenant in the same store: the organisation and its admin key."""
        return create_organisation(self.container, slug)


def create_organisation(container: Container, slug: str) -> tuple[Organisation, str]:
    """A new organisation (as ``slakeeper org create`` makes it) and its admin key's secret."""
    with container.uow() as uow:
        org, issued = tenancy.create_organisation(
            uow, slug=slug, name=slug.title(), actor="cli", now=container.clock.now()
        )
        uow.commit()
    return org, issued.secret


@contextmanager
def open_api(database_url: str, *, slug: str = "acme", **settings: Any) -> Iterator[Api]:
    """The app on ``database_url`` (migrated here) with organisation ``slug``; ``settings``
    are further :class:`Settings` fields (e.g. ``rate_limit_per_minute``). Closes it all."""
    container = build(Settings(database_url=database_url, **settings))
    try:
        container.upgrade()
        org, admin_key = create_organisation(container, slug)
        with TestClient(create_app(container), base_url="http://127.0.0.1") as client:
            yield Api(client=client, container=container, org=org, admin_key=admin_key)
    finally:
        container.close()
