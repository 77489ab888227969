"""A local Bot API server for end-to-end tests and benchmarks (see README.md)."""

from __future__ import annotations

from tests.botapi.database import wait_for_row
from tests.botapi.faults import RateLimit
from tests.botapi.process import BotProcess
from tests.botapi.records import ApiError, Call, WaitTimeout
from tests.botapi.server import BotApiServer

__all__ = ["ApiError", "BotApiServer", "BotProcess", "Call", "RateLimit", "WaitTimeout",
           "wait_for_row"]
