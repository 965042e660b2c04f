"""Helpers shared by the routes: pagination parameters and cursor decoding."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import HTTPException, Query
from pydantic import StringConstraints

from slakeeper.api.schemas import SLUG_PATTERN, decode_cursor
from slakeeper.services.errors import NotFound

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]


def after(cursor: str | None) -> str | None:
    try:
        return decode_cursor(cursor)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


def after_int(cursor: str | None) -> int | None:
    value = after(cursor)
    if value is None:
        return None
    if not value.isdigit():
        raise HTTPException(400, "the cursor is not one this API gave out")
    return int(value)


#: Ids of records a client names itself (requests, incidents, maintenance windows).
RECORD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
RecordId = Annotated[str, StringConstraints(pattern=RECORD_ID_PATTERN)]


def known(value: str, what: str, pattern: str = RECORD_ID_PATTERN) -> str:
    """An id that cannot exist (malformed, e.g. with a NUL) is simply not found."""
    if not re.match(pattern, value):
        raise NotFound(f"{what} '{value}' does not exist")
    return value


def known_slug(value: str, what: str) -> str:
    return known(value, what, SLUG_PATTERN)
