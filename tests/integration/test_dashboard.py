"""The operator dashboard (``/``): sign-in, sessions, CSRF, fail-closed auth, tenant isolation,
and what the overview and the drill-down pages show, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from api_helpers import API_PREFIX, TRULAYER, Api, open_api
from fastapi.testclient import TestClient
from sqlalchemy import delete, update

from conftest import EXAMPLES
from slakeeper.adapters.store.tables import operators as operators_table
from slakeeper.api.app import create_app
from slakeeper.services import operators, slos
from slakeeper.services.ports import StoreUnavailable
from slakeeper.services.records import Credit, Operator, Organisation, Scope
from slakeeper.web import sessions

NOW = datetime(2026, 11, 18, 12, 3, 30, tzinfo=UTC)
EMAIL, PASSWORD = "olga@acme.test", "correct horse battery staple"
SESSION, LOGIN = sessions.SESSION_COOKIE, sessions.LOGIN_COOKIE
CUSTOMER, CUSTOMER_NAME = "globex", "Globex Corporation"
LANDMARKS = ("<header", "<nav", "<main", "<footer")


@dataclass
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def make_operator(api: Api, org: Organisation, email: str = EMAIL) -> Operator:
    with api.container.uow() as uow:
        made = operators.create(
            uow, org, email=email, name="Olga Operator", password=PASSWORD, now=NOW
        )
        uow.commit()
    return made


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


def sign_in(
    client: TestClient,
    email: str = EMAIL,
    password: str = PASSWORD,
    *,
    next_path: str | None = None,
    base: str = "",
) -> Any:
    """GET the form (its pre-session cookie lands in the client), then POST it back with its
    hidden fields, as a browser does."""
    form = client.get(f"{base}/login", params={"next": next_path} if next_path else None)
    assert form.status_code == 200, form.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form.text))
    body = {**hidden, "email": email, "password": password}
    return client.post(f"{base}/login", data=body, follow_redirects=False)


def set_cookie(response: Any, name: str) -> str:
    """The whole Set-Cookie header the response gave for ``name``."""
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return str(header)
    raise AssertionError(f"no Set-Cookie for {name}: {response.headers}")


def cookie_value(response: Any, name: str) -> str:
    return set_cookie(response, name).split(";", 1)[0].split("=", 1)[1]


def get(client: TestClient, path: str, cookie: str | None = None) -> Any:
    headers = {"Cookie": f"{SESSION}={cookie}"} if cookie is not None else {}
    return client.get(path, headers=headers, follow_redirects=False)


def redirected_to_login(response: Any) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.fixture
def signed_in(api: Api) -> str:
    """Organisation acme with an operator signed in on ``api.client``; the session cookie."""
    api.container.clock = FixedClock(NOW)  # type: ignore[assignment]
    make_operator(api, api.org)
    answer = sign_in(api.client)
    assert answer.status_code == 303, answer.text
    return cookie_value(answer, SESSION)


# --------------------------------------------------------------------------- signing in and out
def test_signed_out_pages_send_the_browser_to_the_sign_in_form(api: Api) -> None:
    assert get(api.client, "/").headers["location"] == "/login"
    customer = get(api.client, "/customers/globex")
    assert redirected_to_login(customer)
    assert customer.headers["location"] == "/login?next=%2Fcustomers%2Fglobex"
    form = api.client.get("/login")
    assert form.status_code == 200
    assert 'type="password"' in form.text
    assert 'autocomplete="current-password"' in form.text
    cookie = set_cookie(form, LOGIN)
    assert all(flag in cookie for flag in ("HttpOnly", "Path=/login", "SameSite=lax"))
    assert cookie_value(form, LOGIN).startswith(form_token(form.text) + ".")  # double submit
    assert "frame-ancestors 'none'" in form.headers["content-security-policy"]


def test_an_operator_signs_in_reaches_the_pages_and_signs_out(api: Api) -> None:
    make_operator(api, api.org)
    answer = sign_in(api.client, next_path="/customers/globex")
    assert (answer.status_code, answer.headers["location"]) == (303, "/customers/globex")
    cookie = set_cookie(answer, SESSION)
    for flag in ("HttpOnly", "Path=/", "SameSite=lax", "Max-Age=28800"):
        assert flag in cookie, cookie
    assert "Secure" not in cookie  # plain http here; see the https test below
    assert "Max-Age=0" in set_cookie(answer, LOGIN)  # the pre-session token is spent
    page = api.client.get("/")
    assert page.status_code == 200
    assert "Olga Operator" in page.text
    assert "Sign out" in page.text
    assert all(landmark in page.text for landmark in LANDMARKS)
    assert page.headers["cache-control"] == "no-store"
    assert api.client.get("/login", follow_redirects=False).headers["location"] == "/"

    out = api.client.post(
        "/logout", data={"csrf_token": form_token(page.text)}, follow_redirects=False
    )
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert "Max-Age=0" in set_cookie(out, SESSION)
    assert redirected_to_login(get(api.client, "/"))


def test_over_https_the_cookies_are_secure_and_next_never_leaves_the_site(sqlite_url: str) -> None:
    with open_api(sqlite_url) as api:  # nothing store-specific here: SQLite only
        make_operator(api, api.org)
        assert "Secure" in set_cookie(api.client.get("https://127.0.0.1/login"), LOGIN)
        for target in ("/\\evil.example", "/api/v1/keys", "/customers/x/../../keys", "/\n/x"):
            form = api.client.get("/login", params={"next": target})
            assert '<input type="hidden" name="next" value="/">' in form.text, target
        for target in ("//evil.example/", "https://evil.example/"):
            api.client.cookies.clear()
            answer = sign_in(api.client, next_path=target, base="https://127.0.0.1")
            assert (answer.status_code, answer.headers["location"]) == (303, "/"), target
            assert "Secure" in set_cookie(answer, SESSION)


def test_wrong_credentials_get_the_form_again_with_one_generic_message(api: Api) -> None:
    make_operator(api, api.org)
    answers = [
        sign_in(api.client, password="not the password at all"),
        sign_in(api.client, email="nobody@acme.test"),
        sign_in(api.client, email="", password=""),
    ]
    for answer in answers:
        assert answer.status_code == 401, answer.text
        assert "The email address or the password is not right." in answer.text
        assert not any(h.startswith(SESSION) for h in answer.headers.get_list("set-cookie"))
        assert 'role="alert"' in answer.text
        lowered = answer.text.lower()
        assert all(hint not in lowered for hint in ("no such", "unknown", "does not exist"))
    assert redirected_to_login(get(api.client, "/"))


# --------------------------------------------------------------------------- sessions
def test_a_tampered_or_expired_session_counts_as_signed_out(api: Api, signed_in: str) -> None:
    api.client.cookies.clear()
    assert get(api.client, "/", signed_in).status_code == 200
    version, body, signature = signed_in.split(".")
    payload = sessions._b64decode(body).replace(b'"org":"', b'"org":"x')
    forged = f"{version}.{sessions._b64encode(payload)}.{signature}"
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for bad in (forged, f"{version}.{body}.{flipped}", f"{version}.{body}", "garbage", ""):
        answer = get(api.client, "/", bad)
        assert redirected_to_login(answer), bad
    other_secret = sessions.Signer(b"another secret entirely, 32+ characters")
    session = sessions.new_session("someone", api.org.id, NOW)
    assert redirected_to_login(get(api.client, "/", sessions.encode(other_secret, session)))

    api.container.clock = FixedClock(NOW + timedelta(hours=7, minutes=59))  # type: ignore[assignment]
    assert get(api.client, "/", signed_in).status_code == 200
    api.container.clock = FixedClock(NOW + timedelta(hours=8, seconds=1))  # type: ignore[assignment]
    expired = get(api.client, "/", signed_in)
    assert redirected_to_login(expired)
    assert "Max-Age=0" in set_cookie(expired, SESSION)


def test_a_disabled_or_deleted_operator_is_signed_out_at_once(api: Api, signed_in: str) -> None:
    table = operators_table
    with api.container.engine.begin() as connection:
        connection.execute(update(table).where(table.c.email == EMAIL).values(disabled_at=NOW))
    answer = get(api.client, "/")
    assert redirected_to_login(answer)
    assert "Max-Age=0" in set_cookie(answer, SESSION)
    assert redirected_to_login(get(api.client, "/slos/api-availability", signed_in))
    assert sign_in(api.client).status_code == 401  # and cannot sign in again

    with api.container.engine.begin() as connection:
        connection.execute(update(table).where(table.c.email == EMAIL).values(disabled_at=None))
    assert get(api.client, "/", signed_in).status_code == 200
    with api.container.engine.begin() as connection:
        connection.execute(delete(table).where(table.c.email == EMAIL))
    assert redirected_to_login(get(api.client, "/", signed_in))


def test_a_configured_secret_survives_a_restart_and_a_missing_one_is_warned_about_once(
    sqlite_url: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "a-long-random-secret-for-this-test-0123456789"
    with open_api(sqlite_url, secret_key=secret) as first:
        make_operator(first, first.org)
        cookie = cookie_value(sign_in(first.client), SESSION)
    with open_api(sqlite_url, slug="other", secret_key=secret) as restarted:
        assert get(restarted.client, "/", cookie).status_code == 200  # the same secret
    with open_api(sqlite_url, slug="third", secret_key=secret[::-1]) as rotated:
        assert redirected_to_login(get(rotated.client, "/", cookie))

    monkeypatch.setattr(sessions, "_generated", None)
    with caplog.at_level(logging.WARNING, logger="slakeeper.web"):
        for slug in ("fourth", "fifth"):
            with open_api(sqlite_url, slug=slug) as unset:
                assert unset.client.get("/login").status_code == 200
    warnings = [r for r in caplog.records if "SLAKEEPER_SECRET_KEY is not set" in r.message]
    assert len(warnings) == 1
    generated = sessions._generated
    assert generated is not None
    assert generated.hex() not in caplog.text
    assert secret not in caplog.text


# --------------------------------------------------------------------------- CSRF
def test_a_post_without_the_right_csrf_token_is_refused_and_changes_nothing(
    api: Api, signed_in: str
) -> None:
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "not-the-token"}):
        refused = api.client.post("/logout", data=data, follow_redirects=False)
        assert refused.status_code == 403, refused.text
        assert not refused.headers.get_list("set-cookie")
        assert api.client.get("/").status_code == 200  # still signed in

    api.client.cookies.clear()
    form = api.client.get("/login")
    token = form_token(form.text)
    good = {"email": EMAIL, "password": PASSWORD}
    attempts = [
        good,  # no token in the form
        {**good, "csrf_token": "guessed"},  # a token that is not the cookie's
    ]
    for data in attempts:
        refused = api.client.post("/login", data=data, follow_redirects=False)
        assert refused.status_code == 403, refused.text
        assert not any(h.startswith(SESSION) for h in refused.headers.get_list("set-cookie"))
    # The form's token without its cookie (a cross-site form), or with a forged cookie.
    api.client.cookies.clear()
    for cookie in ("", f"{token}.forged-signature", token):
        refused = api.client.post(
            "/login", data={**good, "csrf_token": token},
            headers={"Cookie": f"{LOGIN}={cookie}"}, follow_redirects=False,
        )  # fmt: skip
        assert refused.status_code == 403, cookie
        assert not any(h.startswith(SESSION) for h in refused.headers.get_list("set-cookie"))
    assert redirected_to_login(get(api.client, "/"))


# --------------------------------------------------------------------------- fail closed
def test_without_the_store_the_dashboard_answers_503_and_shows_nothing(
    api: Api, signed_in: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.upload_policy(EXAMPLES / "opsmantik.yaml")

    def unavailable() -> Any:
        raise StoreUnavailable("down")

    monkeypatch.setattr(api.container, "uow", unavailable)
    for path in ("/", "/customers/globex", "/slos/api-availability"):
        answer = get(api.client, path)
        assert answer.status_code == 503, (path, answer.text)
        assert answer.headers["retry-after"] == "5"
        assert "Olga Operator" not in answer.text
        assert "Sign out" not in answer.text
    api.client.cookies.clear()
    form = api.client.get("/login")
    answer = api.client.post(
        "/login", data={"csrf_token": form_token(form.text), "email": EMAIL, "password": PASSWORD},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 503
    assert not any(h.startswith(SESSION) for h in answer.headers.get_list("set-cookie"))


# --------------------------------------------------------------------------- the pages
def post(api: Api, path: str, body: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    answer = api.client.post(f"{API_PREFIX}{path}", json=body, headers=api.headers(key))
    assert answer.status_code in (200, 201), answer.text
    return answer.json()  # type: ignore[no-any-return]


def z(instant: datetime) -> str:
    return instant.isoformat().replace("+00:00", "Z")


@pytest.fixture
def world(api: Api, signed_in: str) -> Api:
    """opsmantik; customer globex (enterprise, 100 USD a month); api-sync traffic 10:00-12:00,
    11:00-12:00 10 % 5xx (60 minutes down: a 10 % credit, and the page alert fires); an open
    incident on the dashboard; an open p1 request of globex; maintenance in three days."""
    api.upload_policy(EXAMPLES / "opsmantik.yaml")
    api.customer(CUSTOMER, plan="enterprise", name=CUSTOMER_NAME)
    api.customer("initech", plan="enterprise", name="Initech")
    ingest = api.key([Scope.INGEST])
    start = NOW.replace(minute=0, second=0) - timedelta(hours=2)
    buckets = [
        {"minute": z(start + timedelta(minutes=n)), "component": "api-sync",
         "statuses": {"200": 900, "500": 100} if n >= 60 else {"200": 1000}}
        for n in range(120)
    ]  # fmt: skip
    answer = api.client.post(
        f"{API_PREFIX}/ingest", json={"buckets": buckets},
        headers={**api.headers(ingest), "Idempotency-Key": "burn"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["rejected"] == [], answer.text
    post(api, "/incidents", {"id": "INC-7", "title": "Dashboard lagging", "severity": "p1",
                             "components": {"dashboard": "degraded-performance"},
                             "started_at": z(NOW - timedelta(minutes=30))})  # fmt: skip
    post(api, "/tickets", {"id": "T-42", "customer": CUSTOMER, "severity": "p1",
                           "subject": "Events missing from the export",
                           "opened_at": z(NOW - timedelta(hours=1))})  # fmt: skip
    post(api, "/maintenance", {"id": "MW-9", "title": "Queue migration",
                               "components": ["api-sync"],
                               "starts_at": z(NOW + timedelta(days=3)),
                               "ends_at": z(NOW + timedelta(days=3, hours=2))})  # fmt: skip
    assert slos.run_alerts(api.container.uow, NOW) >= 1
    return api


def section(html: str, title_id: str) -> str:
    return html.split(f'id="{title_id}"', 1)[1].split("</section>", 1)[0]


def test_the_overview_shows_the_period_so_far(world: Api) -> None:
    page = world.client.get("/")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Period <strong>2026-11</strong> so far" in html
    slo = html.split('id="slo-api-availability"', 1)[1].split("</li>\n", 1)[0]
    # 120,000 requests, 6,000 bad; the budget is 0.5 % of them (600): 1 - 10 = -900 %.
    assert "-900.0 %" in slo
    assert 'href="/slos/api-availability"' in slo
    assert "20.00×" in slo  # the page alert's 1 h burn rate: 10 % / 0.5 %
    alerts = section(html, "alerts-title")
    assert "API uptime (/api/sync)" in alerts
    assert "firing" in alerts
    at_risk = section(html, "risk-title")
    row = at_risk.split(f'id="customer-{CUSTOMER}"', 1)[1].split("</tr>", 1)[0]
    assert f'<a href="/customers/{CUSTOMER}">{CUSTOMER_NAME}</a>' in row
    assert "10.00 USD" in row
    assert "99.861111 %" in row
    assert "Initech" in at_risk  # the outage was everyone's
    incidents = section(html, "incidents-title")
    assert "Dashboard lagging" in incidents
    assert 'href="/components/dashboard"' in incidents
    assert "due <time" in incidents
    tickets = section(html, "tickets-title")
    assert "Events missing from the export" in tickets
    assert "2026-11-18 15:03 UTC" in tickets  # p1: response within 4 h of 11:03, 24x7
    maintenance = section(html, "maintenance-title")
    assert "Queue migration" in maintenance
    assert "2026-11-21 12:03 UTC" in maintenance
    assert html.count('<th scope="col">') >= 20  # tables have headers


def test_the_drill_down_pages(world: Api) -> None:
    with world.container.uow() as uow:
        uow.closes.add_credit(Credit(
            org_id=world.org.id, id="CR-2026-10-globex", customer_id=CUSTOMER, period="2026-10",
            revision=1, amount=Decimal("25.00"), currency="USD", percent=Decimal("25"),
            state="eligible", claim_required=True, claim_deadline=NOW + timedelta(days=12),
            created_at=NOW, updated_at=NOW,
        ))  # fmt: skip
        uow.commit()
    customer = world.client.get(f"/customers/{CUSTOMER}")
    assert customer.status_code == 200, customer.text
    html = customer.text
    assert f"<h1>{CUSTOMER_NAME}</h1>" in html
    assert "99.861111 %" in html
    assert "10.00 USD" in html
    assert "1 h" in html
    credits = section(html, "credits-title")
    assert "2026-10" in credits
    assert "25.00 USD" in credits
    assert "2026-11-30 12:03 UTC" in credits
    assert "Events missing from the export" in section(html, "tickets-title")
    assert "Dashboard lagging" in section(html, "incidents-title")

    component = world.client.get("/components/api-sync")
    assert component.status_code == 200, component.text
    strip = component.text.split('<svg class="strip"', 1)[1].split("</svg>", 1)[0]
    states = re.findall(r'data-state="([^"]+)"', strip)
    assert len(states) == 18  # 1 to 18 November
    assert states[-1] == "major-outage"  # today's measured hour of 5xx
    assert "Queue migration" in section(component.text, "maintenance-title")

    slo = world.client.get("/slos/api-availability")
    assert slo.status_code == 200, slo.text
    chart = slo.text.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    labels = re.findall(r"<g><title>([^<]+)</title>", chart)
    assert len(labels) == 24
    assert labels[-1].startswith("12:00 UTC: no events")  # this hour: nothing ingested yet
    assert labels[-2] == "11:00 UTC: 54000 good of 60000 (90.000 %)"
    assert "firing" in section(slo.text, "alerts-title")

    for path in ("/customers/nobody", "/components/nothing", "/slos/none", "/customers/a%00b",
                 f"/customers/{CUSTOMER}%0A"):  # fmt: skip
        missing = world.client.get(path)
        assert missing.status_code == 404, path
        assert "<h1>Not found</h1>" in missing.text
    assert world.client.get("/customers/..%2F..%2Fetc").status_code == 404  # no route at all


def test_the_pages_say_what_they_cannot_compute(api: Api, signed_in: str) -> None:
    empty = api.client.get("/")
    assert empty.status_code == 200
    assert "no active policy yet" in empty.text
    api.upload_policy(TRULAYER)
    api.customer("hooli", plan="pro", name="Hooli")
    api.upload_policy(EXAMPLES / "opsmantik.yaml")  # has no plan 'pro'
    overview = api.client.get("/")
    assert overview.status_code == 200, overview.text
    assert "SLA cannot be computed: the active policy has no &#39;pro&#39;" in overview.text
    customer = api.client.get("/customers/hooli")
    assert customer.status_code == 200, customer.text
    assert "The SLA cannot be computed" in customer.text


def test_another_organisations_operator_never_sees_our_data(world: Api) -> None:
    other, other_key = world.other_organisation("initrode")
    make_operator(world, other, email="ops@initrode.test")
    policy = (EXAMPLES / "opsmantik.yaml").read_text(encoding="utf-8")
    uploaded = world.client.post(
        f"{API_PREFIX}/policies", content=policy.encode(),
        headers={**world.headers(other_key), "Content-Type": "application/yaml"},
    )  # fmt: skip
    assert uploaded.status_code == 201, uploaded.text
    with TestClient(create_app(world.container), base_url="http://127.0.0.1") as client:
        assert sign_in(client, email="ops@initrode.test").status_code == 303
        overview = client.get("/")
        assert overview.status_code == 200
        for ours in (CUSTOMER, CUSTOMER_NAME, "Initech", "Dashboard lagging", "T-42",
                     "Queue migration", world.org.name, "-900.0 %"):  # fmt: skip
            assert ours not in overview.text, ours
        assert client.get(f"/customers/{CUSTOMER}").status_code == 404
        slo = client.get("/slos/api-availability")  # its own SLO of the same name: no data
        assert slo.status_code == 200
        assert "-900.0 %" not in slo.text
        component = client.get("/components/api-sync")
        assert "Queue migration" not in component.text
        assert "major-outage" not in component.text
