"""Helpers shared by the routes: pagination parameters and cursor decoding."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Query

from slakeeper.api.schemas import decode_cursor

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
