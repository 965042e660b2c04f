"""Fixtures for the integration tests. ``api``: see :mod:`api_helpers`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import Api, open_api

_ROOT_CONFTEST = Path(__file__).resolve().parent.parent / "conftest.py"


def pytest_plugin_registered(plugin: Any, plugin_name: str, manager: Any) -> None:
    """Keep ``import conftest`` meaning ``tests/conftest.py``.

    This directory is no package, so pytest imports this file as the module ``conftest`` and
    evicts ``tests/conftest.py`` from ``sys.modules``; test modules collected afterwards that do
    ``from conftest import scaled`` would then get this module and fail. The hook is historic:
    registering this file replays the root conftest's registration, which puts it back.
    """
    del plugin_name, manager
    module_file = getattr(plugin, "__file__", None)
    if module_file is not None and Path(module_file).resolve() == _ROOT_CONFTEST:
        sys.modules["conftest"] = plugin


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """The app on a fresh migrated database (each store), organisation ``acme``, its admin key."""
    with open_api(database_url) as opened:
        yield opened
