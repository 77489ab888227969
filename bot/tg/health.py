"""Watching the database while the bot runs, and telling the admins when something is wrong.

- Bookkeeping writes that fail (disk full, a damaged page) are kept in memory, retried every
  check, and the admins are told once when writes start failing and once when they work again
  (`bot.db.connection.defer_failed_writes`). Up to MAX_PENDING rows are kept; beyond that the oldest
  are dropped, and the log says how many.
- The database file deleted, replaced by another file or emptied under the running bot would
  lose everything at the next start: the admins are told once per change, and a copy of what
  the bot still has open is saved next to it (`<name>.rescued-<time>`), ready to restore.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlite_utils

log = logging.getLogger(__name__)

MAX_PENDING = 10_000
WRITES_FAILING = ("⚠️ 数据库写入失败（{error}）。问题记录等暂存在内存里，恢复后自动补写；"
                  "请检查磁盘空间和数据库文件 {path}。")
WRITES_OK = "✅ 数据库恢复正常写入，暂存的 {count} 条记录已经补写。"
FILE_PROBLEMS = {
    "deleted": "⚠️ 数据库文件 {path} 被删除了。",
    "replaced": "⚠️ 数据库文件 {path} 被换成了另一个文件。",
    "emptied": "⚠️ 数据库文件 {path} 被清空了。",
}
RESCUED = ("机器人手上的数据已另存为 {rescue}：确认无误后停止机器人，把它改名为 {name} 再启动。"
           "在那之前的新数据只在机器人打开的旧文件里，重启前请先恢复。")
NOT_RESCUED = "另存数据也失败了（{error}）：请不要重启机器人，先联系维护人员。"

Notify = Callable[[str], Awaitable[None]]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


class DatabaseHealth:
    """Failed bookkeeping writes and the state of the database file, checked by `check()`."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None,
                 now: Callable[[], dt.datetime]) -> None:
        self.db, self.now = db, now
        self.path = None if path is None or str(path) == ":memory:" else Path(path)
        self.identity = _identity(self.path) if self.path else None
        self.pending: deque[tuple[str, Callable[[], Any], int | None]] = deque()
        self.dropped = 0
        self.failing: str | None = None
        self.file_problem: str | None = None
        self.alerts: list[str] = []  # waiting to be sent to the admins

    # -------------------------------------------------------------- failed writes

    def failed(self, what: str, retry: Callable[[], Any], error: sqlite3.Error,
               owner: int | None = None) -> None:
        """The handler given to `defer_failed_writes`."""
        log.error("database write (%s) failed, kept to retry: %s", what, error)
        if len(self.pending) >= MAX_PENDING:
            self.pending.popleft()
            self.dropped += 1
            log.error("database: %d kept writes dropped (more than %d waiting)", self.dropped,
                      MAX_PENDING)
        self.pending.append((what, retry, owner))
        if self.failing is None:
            self.failing = str(error)
            self.alerts.append(WRITES_FAILING.format(error=error, path=self.path or "?"))

    def retry(self) -> int:
        """Write what was kept, oldest first; stops at the first failure. Returns how many."""
        done = 0
        while self.pending:
            what, write, _owner = self.pending[0]
            try:
                write()
            except sqlite3.Error as exc:
                log.warning("database: kept write (%s) still fails: %s", what, exc)
                return done
            self.pending.popleft()
            done += 1
        if self.failing is not None and self._writable():
            self.failing = None
            self.alerts.append(WRITES_OK.format(count=done))
            log.warning("database: writes work again, %d kept rows written", done)
        return done

    def forget(self, user_id: int) -> int:
        """Drop the kept writes about a user who asked to be forgotten; returns how many."""
        kept = [item for item in self.pending if item[2] != user_id]
        dropped = len(self.pending) - len(kept)
        self.pending = deque(kept)
        return dropped

    def _writable(self) -> bool:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            return False
        return True

    # -------------------------------------------------------------- the file

    def check_file(self) -> str | None:
        """"deleted", "replaced", "emptied" or None; a new problem is reported once."""
        if self.path is None:
            return None
        identity = _identity(self.path)
        if identity is None:
            problem: str | None = "deleted"
        elif identity != self.identity:
            problem = "replaced"
        elif self.path.stat().st_size == 0:
            problem = "emptied"
        else:
            problem = None
        if problem is not None and problem != self.file_problem:
            log.error("database file %s %s while the bot runs", self.path, problem)
            text = FILE_PROBLEMS[problem].format(path=self.path)
            self.alerts.append(f"{text}\n{self._rescue()}")
        self.file_problem = problem
        return problem

    def _rescue(self) -> str:
        assert self.path is not None
        stamp = self.now().strftime("%Y%m%d-%H%M%S")
        rescue = self.path.with_name(f"{self.path.name}.rescued-{stamp}")
        try:
            self.db.execute("VACUUM INTO ?", [str(rescue)])
        except sqlite3.Error as exc:
            log.error("database: could not save a rescue copy: %s", exc)
            return NOT_RESCUED.format(error=exc)
        log.error("database: what the bot has open was saved as %s", rescue)
        return RESCUED.format(rescue=rescue, name=self.path.name)

    # -------------------------------------------------------------- one check

    async def check(self, notify: Notify) -> None:
        """Retry kept writes, look at the file, and send what the admins should know."""
        if self.pending:
            self.retry()
        self.check_file()
        alerts, self.alerts = self.alerts, []
        for text in alerts:
            await notify(text)
