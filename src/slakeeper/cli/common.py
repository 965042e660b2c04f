"""Shared CLI helpers: one-line errors and value parsing."""

from __future__ import annotations

from datetime import datetime

from slakeeper.policy.loader import LoadedPolicy, load_policy_file


class CliError(Exception):
    """An error for a person: printed as one line, exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def parse_instant(text: str, option: str) -> datetime:
    """An RFC 3339 instant with an offset; a naive one is an error."""
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise CliError(
            f"{option} '{text}' is not an RFC 3339 instant such as 2026-03-09T14:30:00Z"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise CliError(f"{option} '{text}' has no UTC offset: add Z or +hh:mm")
    return value


def load(path: str) -> LoadedPolicy:
    return load_policy_file(path)
