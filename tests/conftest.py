"""Shared test helpers."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "policies"

settings.register_profile("ci", deadline=None, print_blob=True)
# HYPOTHESIS_PROFILE=thorough runs every property on thousands of cases (minutes, not seconds).
settings.register_profile("thorough", deadline=None, print_blob=True, max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def slakeeper_command() -> list[str]:
    """The real console script of this environment."""
    script = Path(sys.executable).parent / "slakeeper"
    return [str(script)] if script.exists() else [sys.executable, "-m", "slakeeper"]


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
