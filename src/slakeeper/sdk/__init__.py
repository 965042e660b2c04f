"""The slakeeper client SDK: count requests in-process and report them, failing open.

It depends on httpx and the standard library only. See ``docs/sdk.md``.
"""

from slakeeper.sdk.middleware import SlakeeperASGIMiddleware, SlakeeperWSGIMiddleware
from slakeeper.sdk.reporter import IngestFailed, Reporter

__all__ = ["IngestFailed", "Reporter", "SlakeeperASGIMiddleware", "SlakeeperWSGIMiddleware"]
