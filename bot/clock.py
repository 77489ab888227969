"""Time as an input: the running bot asks a clock, and tests can move that clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo


class Clock:
    """The real clock, in the bot's timezone."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.zone)

    def today(self) -> dt.date:
        return self.now().date()


class FileClock(Clock):
    """Reads "now" from a file on every call, so a test can move time for a running process.

    The file holds an ISO date-time (naive means the bot's timezone). While the file is
    missing or unreadable the real clock is used.
    """

    def __init__(self, zone: ZoneInfo, path: Path):
        super().__init__(zone)
        self.path = path

    def now(self) -> dt.datetime:
        try:
            value = dt.datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return super().now()
        if value.tzinfo is None:
            return value.replace(tzinfo=self.zone)
        return value.astimezone(self.zone)


class FixedClock(Clock):
    """A clock that says what it is told (`moment` can be moved): for tests and benchmarks."""

    def __init__(self, moment: dt.datetime):
        super().__init__(moment.tzinfo if isinstance(moment.tzinfo, ZoneInfo)
                         else ZoneInfo("Asia/Shanghai"))
        self.moment = moment

    def now(self) -> dt.datetime:
        return self.moment


def make_clock(zone: ZoneInfo, clock_file: Path | None) -> Clock:
    return FileClock(zone, clock_file) if clock_file else Clock(zone)
