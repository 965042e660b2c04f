"""Components as the active policy declares them, with their current status."""

from __future__ import annotations

from typing import Any

from slakeeper.services.policy_versions import active
from slakeeper.services.ports import UnitOfWork
from slakeeper.services.records import Principal

OPERATIONAL = "operational"


def listing(uow: UnitOfWork, principal: Principal) -> list[dict[str, Any]]:
    """Every component of the active policy. Status stays ``operational`` until incidents and
    measurements (later work) set it."""
    found = active(uow, principal.org_id)
    if found is None:
        return []
    policy = found[1].policy
    return [
        {
            "id": component.id,
            "name": component.name,
            "group": component.group,
            "fail_mode": component.fail_mode.value if component.fail_mode else None,
            "beta": component.beta,
            "third_party": component.third_party,
            "status": OPERATIONAL,
        }
        for component in policy.components
    ]
