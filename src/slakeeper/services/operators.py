"""Operator accounts for the dashboard: passwords stored as scrypt hashes, sign-in that takes
the same time whether or not the account exists, and nothing secret in any message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from datetime import datetime

from slakeeper.services import audit
from slakeeper.services.errors import ConflictError, Invalid
from slakeeper.services.ports import Conflict, UnitOfWork
from slakeeper.services.records import Operator, Organisation

#: scrypt cost: 2^15 x 8 x 1 (about 32 MiB and tens of milliseconds per check).
N, R, P = 2**15, 8, 1
MIN_PASSWORD = 12
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,60}$")


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, maxmem=64 * 1024 * 1024)
    encode = base64.b64encode
    return f"scrypt${N}${R}${P}${encode(salt).decode()}${encode(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        computed = hashlib.scrypt(
            password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
            maxmem=64 * 1024 * 1024,
        )  # fmt: skip
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, base64.b64decode(digest))


_DUMMY = hash_password("a password nobody has", b"0123456789abcdef")


def create(
    uow: UnitOfWork, org: Organisation, *, email: str, name: str, password: str, now: datetime
) -> Operator:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise Invalid(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"a password has at least {MIN_PASSWORD} characters")
    operator = Operator(
        org_id=org.id, id=str(uuid.uuid4()), email=email, name=name.strip() or email,
        password_hash=hash_password(password), created_at=now,
    )  # fmt: skip
    try:
        uow.operators.add(operator)
    except Conflict:
        raise ConflictError(f"an operator {email} exists already") from None
    audit.append(
        uow, org_id=org.id, actor="cli", action="operator.created", entity_type="operator",
        entity_id=operator.id, before=None, after={"email": email, "name": operator.name},
        at=now,
    )  # fmt: skip
    return operator


def authenticate(uow: UnitOfWork, email: str, password: str) -> Operator | None:
    """The operator these credentials belong to, or None (the same work either way)."""
    found = uow.operators.by_email(email.strip().lower())
    if found is None or found.disabled_at is not None:
        check_password(password, _DUMMY)
        return None
    return found if check_password(password, found.password_hash) else None
