"""The operator dashboard: ``/`` and its drill-downs, behind a sign-in (server-rendered HTML,
Jinja2 and CSS, SVG drawn on the server, no JavaScript).

Routes: ``GET /`` (the overview), ``GET /customers/{id}``, ``GET /components/{id}``,
``GET /slos/{id}``, ``GET|POST /login``, ``POST /logout`` and ``GET /dashboard.css``.

Who is signed in comes from a signed session cookie (:mod:`slakeeper.web.sessions`); on every
request the operator is read again from the store, so a disabled or deleted account is signed
out at once. Authentication fails closed: when the store cannot be reached the answer is 503,
never a page. Every POST form carries a CSRF token: the session's for ``/logout``, and for
``/login`` the token of a signed pre-session cookie (double submit); a missing or wrong token
is 403 and changes nothing. Everything shown is read through the services for the operator's
own organisation; an id of another organisation is a 404 like any unknown id.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from slakeeper.bootstrap import UNAVAILABLE_ERRORS, Container
from slakeeper.services import operators
from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import Operator
from slakeeper.web import sessions
from slakeeper.web.drilldown import component_page, customer_page, slo_page
from slakeeper.web.overview import overview
from slakeeper.web.sessions import LOGIN_COOKIE, SESSION_COOKIE, Session, Signer

log = logging.getLogger("slakeeper.web")

router = APIRouter(tags=["dashboard"], include_in_schema=False)

_templates = jinja2.Environment(
    loader=jinja2.PackageLoader("slakeeper", "templates/dashboard"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

#: Sent with every page: nothing cached, no framing, no script, forms only to this site.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
LOGIN_FAILED = "The email address or the password is not right."
LOGIN_FORM_EXPIRED = (
    "This sign-in form has expired or did not come from this site, so nothing was checked. "
    "Please sign in again."
)
MAX_FORM_BYTES = 10_000
MAX_EMAIL, MAX_PASSWORD = 254, 1024
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: Where a sign-in may send the operator back to: the overview or one drill-down page.
_NEXT = re.compile(r"/(?:(?:customers|components|slos)/[A-Za-z0-9][A-Za-z0-9._-]{0,63})?")

Builder = Callable[[UnitOfWork, Operator, datetime], dict[str, Any] | None]


# ------------------------------------------------------------------ rendering
@functools.cache
def _stylesheet() -> tuple[str, str]:
    """The stylesheet and a short hash of it (its URL changes when it does)."""
    path = resources.files("slakeeper").joinpath("templates/dashboard/dashboard.css")
    text = path.read_text(encoding="utf-8")
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _render(template: str, model: dict[str, Any], status: int = 200) -> HTMLResponse:
    context = {
        "css": f"/dashboard.css?v={_stylesheet()[1]}",
        "operator": None,
        "org_name": "",
        "csrf_token": "",
        "nav": "",
        **model,
    }
    html = _templates.get_template(template).render(context)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _message(title: str, text: str, status: int, **layout: Any) -> HTMLResponse:
    return _render("message.html.j2", {"title": title, "text": text, **layout}, status)


def _unavailable(exc: Exception) -> HTMLResponse:
    log.warning("dashboard: store unavailable: %s", type(exc).__name__)
    response = _message(
        "Service unavailable",
        "The dashboard cannot reach its database, so it cannot check who you are: nothing is "
        "shown. Try again in a moment.",
        503,
    )
    response.headers["Retry-After"] = "5"
    return response


# ------------------------------------------------------------------ sessions and cookies
def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _signer(request: Request) -> Signer:
    signer: Signer | None = getattr(request.app.state, "dashboard_signer", None)
    if signer is None:
        signer = Signer(sessions.secret_key(_container(request).settings))
        request.app.state.dashboard_signer = signer
    return signer


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", secure=_secure(request), httponly=True, samesite="lax"
    )


def _safe_next(value: str | None) -> str:
    """A path on this dashboard to return to after signing in, never another site."""
    return value if value and _NEXT.fullmatch(value) else "/"


def _to_login(request: Request, *, clear: bool) -> Response:
    path = request.url.path
    query = "" if path == "/" or not _NEXT.fullmatch(path) else "?" + urlencode({"next": path})
    response = RedirectResponse(f"/login{query}", status_code=303)
    if clear:
        _clear_session(response, request)
    return response


def _current(uow: UnitOfWork, session: Session) -> Operator | None:
    """The session's operator as the store has it now; None when deleted or disabled."""
    operator = uow.operators.get(session.org_id, session.operator_id)
    if operator is None or operator.disabled_at is not None:
        return None
    return operator


async def _form(request: Request) -> dict[str, list[str]]:
    """The form-encoded body (at most ``MAX_FORM_BYTES``; anything larger reads as empty)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return {}
    try:
        return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
    except ValueError:
        return {}


def _field(fields: dict[str, list[str]], name: str) -> str:
    values = fields.get(name)
    return values[0] if values else ""


# ------------------------------------------------------------------ pages
def _page(request: Request, template: str, build: Builder) -> Response:
    """A signed-in page: the session checked, the operator read again, then the model built in
    the same unit of work; 404 when the builder finds nothing, 503 without a store."""
    container = _container(request)
    now = container.clock.now()
    cookie = request.cookies.get(SESSION_COOKIE)
    session = sessions.decode(_signer(request), cookie, now)
    if session is None:
        return _to_login(request, clear=cookie is not None)
    try:
        with container.uow() as uow:
            operator = _current(uow, session)
            if operator is None:
                return _to_login(request, clear=True)
            org = uow.organisations.get(operator.org_id)
            model = build(uow, operator, now)
    except UNAVAILABLE_ERRORS as exc:
        return _unavailable(exc)
    layout = {
        "operator": {"name": operator.name, "email": operator.email},
        "org_name": org.name if org is not None else "",
        "csrf_token": session.csrf_token,
        "nav": request.url.path,
    }
    if model is None:
        return _message(
            "Not found", "There is nothing here: check the address, or go back to the overview.",
            404, **layout,
        )  # fmt: skip
    return _render(template, {**layout, **model})


def _by_id(identifier: str, build: Callable[..., dict[str, Any] | None]) -> Builder:
    def builder(uow: UnitOfWork, operator: Operator, now: datetime) -> dict[str, Any] | None:
        if not _ID.fullmatch(identifier):
            return None
        return build(uow, operator, identifier, now)

    return builder


@router.get("/", response_class=HTMLResponse, name="dashboard")
def overview_page(request: Request) -> Response:
    return _page(request, "overview.html.j2", overview)


@router.get("/customers/{customer_id}", response_class=HTMLResponse)
def customer(request: Request, customer_id: str) -> Response:
    return _page(request, "customer.html.j2", _by_id(customer_id, customer_page))


@router.get("/components/{component_id}", response_class=HTMLResponse)
def component(request: Request, component_id: str) -> Response:
    return _page(request, "component.html.j2", _by_id(component_id, component_page))


@router.get("/slos/{slo_id}", response_class=HTMLResponse)
def slo(request: Request, slo_id: str) -> Response:
    return _page(request, "slo.html.j2", _by_id(slo_id, slo_page))


@router.get("/dashboard.css")
def stylesheet() -> Response:
    return Response(
        _stylesheet()[0],
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


# ------------------------------------------------------------------ signing in and out
def _login_page(
    request: Request,
    *,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    next_path: str = "/",
    fresh: bool = False,
) -> Response:
    """The sign-in form with its CSRF token: the pre-session cookie's, or a new one."""
    signer = _signer(request)
    token = None if fresh else sessions.login_token(signer, request.cookies.get(LOGIN_COOKIE))
    cookie = None
    if token is None:
        token, cookie = sessions.new_login_cookie(signer)
    response = _render(
        "login.html.j2",
        {"title": "Sign in", "login_token": token, "error": error, "email": email,
         "next_path": next_path},
        status,
    )  # fmt: skip
    if cookie is not None:
        response.set_cookie(
            LOGIN_COOKIE, cookie, path="/login", secure=_secure(request), httponly=True,
            samesite="lax",
        )  # fmt: skip
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    next_path = _safe_next(request.query_params.get("next"))
    now = _container(request).clock.now()
    if sessions.decode(_signer(request), request.cookies.get(SESSION_COOKIE), now) is not None:
        return RedirectResponse(next_path, status_code=303)  # the page checks the operator
    return _login_page(request, next_path=next_path)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    fields = await _form(request)
    signer = _signer(request)
    next_path = _safe_next(_field(fields, "next"))
    expected = sessions.login_token(signer, request.cookies.get(LOGIN_COOKIE))
    if not sessions.tokens_match(_field(fields, "csrf_token"), expected):
        return _login_page(
            request, status=403, error=LOGIN_FORM_EXPIRED, next_path=next_path, fresh=True
        )
    email = _field(fields, "email").strip()[:MAX_EMAIL]
    password = _field(fields, "password")[:MAX_PASSWORD]
    container = _container(request)

    def check() -> Operator | None:
        with container.uow() as uow:
            return operators.authenticate(uow, email, password)

    try:
        operator = await run_in_threadpool(check)
    except UNAVAILABLE_ERRORS as exc:
        return _unavailable(exc)
    if operator is None:
        return _login_page(
            request, status=401, error=LOGIN_FAILED, email=email, next_path=next_path
        )
    session = sessions.new_session(operator.id, operator.org_id, container.clock.now())
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, sessions.encode(signer, session),
        max_age=int(sessions.SESSION_LIFETIME.total_seconds()), path="/",
        secure=_secure(request), httponly=True, samesite="lax",
    )  # fmt: skip
    response.delete_cookie(
        LOGIN_COOKIE, path="/login", secure=_secure(request), httponly=True, samesite="lax"
    )
    log.info("dashboard: operator %s signed in", operator.id)
    return response


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request) -> Response:
    fields = await _form(request)
    now = _container(request).clock.now()
    session = sessions.decode(_signer(request), request.cookies.get(SESSION_COOKIE), now)
    if session is None:
        return _to_login(request, clear=True)
    if not sessions.tokens_match(_field(fields, "csrf_token"), session.csrf_token):
        return _message(
            "Not signed out",
            "The request did not carry this session's form token, so nothing was changed. "
            "Use the Sign out button on a dashboard page.",
            403,
        )
    response = RedirectResponse("/login", status_code=303)
    _clear_session(response, request)
    return response
