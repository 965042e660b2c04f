"""A loaded policy together with the positions of its keys, for tools that point at lines.

:func:`slakeeper.policy.loader.load_policy_file` validates a policy and forgets where each value
came from; the linter needs that, to say which line a finding concerns. These functions load
the same way (same errors, same sha256) and keep the :class:`SourceMap` too.
"""

from __future__ import annotations

from pathlib import Path as FilePath

from slakeeper.policy.loader import LoadedPolicy, load_policy_file, load_policy_text
from slakeeper.policy.source import SourceMap, load_yaml


def load_with_source(path: str | FilePath) -> tuple[LoadedPolicy, SourceMap]:
    """Load and validate the policy at ``path``; raise :class:`PolicyError` like the loader."""
    try:
        text = FilePath(path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        load_policy_file(path)  # raises the loader's positioned PolicyError
        raise
    return load_text_with_source(text, str(path))


def load_text_with_source(text: str, filename: str = "<policy>") -> tuple[LoadedPolicy, SourceMap]:
    """Validate ``text`` as a policy and return it with the positions of its keys and values."""
    loaded = load_policy_text(text, filename)
    _, source = load_yaml(text, filename)  # cannot fail: the text just parsed
    return loaded, source
