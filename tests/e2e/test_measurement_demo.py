"""The measurement demo end to end: a FastAPI service with the SDK middleware under load, an
outage injected, and the server showing the burn, the alert and the customer's downtime."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT


def test_an_injected_outage_shows_as_burn_alert_downtime_and_reconciles() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLAKEEPER_")}
    ran = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "measurement" / "demo.py"),
         "--seconds", "14", "--outage-at", "4", "--outage-seconds", "5", "--rate", "30"],
        env=env, capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    out = ran.stdout
    assert "OK: alert fired: True, downtime seen: True, integrity: True" in out
    assert "-> firing" in out
    assert "the ledger reconciles exactly with the aggregates" in out
    assert '"dropped_events": 0' in out
