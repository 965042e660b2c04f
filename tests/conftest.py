"""Shared test helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

pytest_plugins = ["conftest_db"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "policies"

settings.register_profile("ci", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: HYPOTHESIS_SCALE=25 runs every property on 25 times as many cases (thousands each; minutes).
SCALE = int(os.environ.get("HYPOTHESIS_SCALE", "1"))


def scaled(examples: int) -> int:
    """A property's example count for this run (``HYPOTHESIS_SCALE`` multiplies it)."""
    return examples * SCALE


def slakeeper_command() -> list[str]:
    """The real console script of this environment."""
    script = Path(sys.executable).parent / "slakeeper"
    return [str(script)] if script.exists() else [sys.executable, "-m", "slakeeper"]


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
