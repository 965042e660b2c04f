"""Signed, stateless sessions for the operator dashboard, and its CSRF tokens (stdlib only).

A session cookie is ``v1.<payload>.<signature>``: the payload is base64url JSON naming the
operator, its organisation, the expiry (8 hours after sign-in) and the session's CSRF token;
the signature is HMAC-SHA256 of ``v1.<payload>`` under a key derived from the secret for this
purpose only. A cookie whose signature does not verify, that cannot be read, or that has
expired is no session at all. The login form's pre-session token (double-submit) is a random
token signed the same way under another purpose, so a cookie planted by a neighbouring site
cannot pass for one.

The secret is the ``secret_key`` setting. Without it a random secret is made once per process
(and a warning logged once): sessions then end when the process does and are not shared by
replicas. The secret itself is never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slakeeper.config import Settings

log = logging.getLogger("slakeeper.web")

SESSION_COOKIE = "slakeeper_session"
LOGIN_COOKIE = "slakeeper_login"
SESSION_LIFETIME = timedelta(hours=8)
#: A secret shorter than this is used, with a warning: it may be guessed offline from a cookie.
MIN_SECRET_CHARS = 32
_VERSION = "v1"
_SESSION_PURPOSE = b"slakeeper dashboard session"
_LOGIN_PURPOSE = b"slakeeper dashboard login form"

_generated: bytes | None = None
_warned_short = False
_lock = threading.Lock()


def secret_key(settings: Settings) -> bytes:
    """The configured secret, or this process's random one (made, and warned about, once)."""
    global _generated, _warned_short
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < MIN_SECRET_CHARS:
            with _lock:
                if not _warned_short:
                    _warned_short = True
                    log.warning(
                        "SLAKEEPER_SECRET_KEY is shorter than %d characters: use a long random "
                        "value (python -c 'import secrets; print(secrets.token_urlsafe(32))')",
                        MIN_SECRET_CHARS,
                    )
        return value.encode("utf-8")
    with _lock:
        if _generated is None:
            _generated = secrets.token_bytes(32)
            log.warning(
                "SLAKEEPER_SECRET_KEY is not set: dashboard sessions are signed with a random "
                "key made by this process; they end when it restarts and other replicas do not "
                "accept them"
            )
        return _generated


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """HMAC-SHA256 under a key derived from the secret for each purpose."""

    def __init__(self, secret: bytes) -> None:
        self._keys = {
            purpose: hmac.new(secret, purpose, hashlib.sha256).digest()
            for purpose in (_SESSION_PURPOSE, _LOGIN_PURPOSE)
        }

    def signature(self, purpose: bytes, message: str) -> str:
        mac = hmac.new(
            self._keys[purpose], message.encode("utf-8", "surrogatepass"), hashlib.sha256
        )
        return _b64encode(mac.digest())

    def verify(self, purpose: bytes, message: str, signature: str) -> bool:
        return tokens_match(self.signature(purpose, message), signature)


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Whether two tokens are equal, in constant time; a missing one never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


@dataclass(frozen=True)
class Session:
    operator_id: str
    org_id: str
    expires_at: datetime
    csrf_token: str


def new_session(operator_id: str, org_id: str, now: datetime) -> Session:
    expires = (now + SESSION_LIFETIME).replace(microsecond=0)
    return Session(operator_id, org_id, expires, secrets.token_urlsafe(32))


def encode(signer: Signer, session: Session) -> str:
    payload = {
        "op": session.operator_id,
        "org": session.org_id,
        "exp": int(session.expires_at.timestamp()),
        "csrf": session.csrf_token,
    }
    body = _b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    message = f"{_VERSION}.{body}"
    return f"{message}.{signer.signature(_SESSION_PURPOSE, message)}"


def decode(signer: Signer, cookie: str | None, now: datetime) -> Session | None:
    """The session a cookie carries; None when it is missing, tampered with, or expired."""
    if not cookie or len(cookie) > 4096:
        return None
    version, _, rest = cookie.partition(".")
    body, _, signature = rest.partition(".")
    if version != _VERSION or not body or not signature:
        return None
    if not signer.verify(_SESSION_PURPOSE, f"{version}.{body}", signature):
        return None
    try:
        payload = json.loads(_b64decode(body))
        session = Session(
            operator_id=str(payload["op"]),
            org_id=str(payload["org"]),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            csrf_token=str(payload["csrf"]),
        )
    except (ValueError, TypeError, KeyError, OverflowError, OSError, binascii.Error):
        return None
    return session if now < session.expires_at else None


def new_login_cookie(signer: Signer) -> tuple[str, str]:
    """A fresh login-form token and the signed cookie that carries it."""
    token = secrets.token_urlsafe(32)
    return token, f"{token}.{signer.signature(_LOGIN_PURPOSE, token)}"


def login_token(signer: Signer, cookie: str | None) -> str | None:
    """The token a login cookie carries, when its signature verifies."""
    if not cookie or len(cookie) > 512:
        return None
    token, _, signature = cookie.rpartition(".")
    if not token or not signer.verify(_LOGIN_PURPOSE, token, signature):
        return None
    return token
