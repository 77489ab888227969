"""Making the server fail the way Telegram fails.

Injected errors, dropped answers, blocked users, migrated groups, latency and Telegram's flood
limits.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.botapi.records import BLOCKED, KICKED, MIGRATED, SEND_METHODS, ApiError


@dataclass
class RateLimit:
    """Telegram's documented flood limits; the defaults mimic production."""

    overall_per_second: float = 30.0
    overall_burst: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: float = 20.0
    per_group_burst: int = 20


@dataclass
class _Fault:
    methods: frozenset[str] | None  # None: any method
    times: int
    chat_id: int | str | None
    code: int = 0
    description: str = ""
    parameters: dict | None = None
    disconnect: bool = False
    processed: bool = False

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.chat_id is None or self.chat_id == chat_id


class _Bucket:
    """Token bucket; wait() says how long until one more message may go out."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: int, now: float) -> None:
        self.rate = rate
        self.capacity = float(max(capacity, 1))
        self.tokens = self.capacity
        self.stamp = now

    def wait(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class Faults:
    """Part of BotApiServer (server.py), whose state it uses."""

    def set_rate_limit(self, limit: RateLimit | bool | None = True) -> None:
        """Enable Telegram-like flood limits (True: defaults), or disable them (None/False)."""
        with self._lock:
            self._rate = RateLimit() if limit is True else (limit or None)
            self._buckets: dict[Any, _Bucket] = {}

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay every answer (or one method's answers) by `seconds`."""
        with self._lock:
            self._latency[method] = seconds

    def fail_next(
        self,
        method: str | Iterable[str] | None,
        error_code: int,
        *,
        times: int = 1,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next `times` matching calls with an error instead of processing them.

        method None or "*" matches any method. Defaults follow Telegram: 429 carries
        parameters.retry_after (default 1), 403 says the bot was blocked, 400 with
        migrate_to_chat_id is the supergroup-upgrade error.
        """
        parameters: dict[str, int] = {}
        if error_code == 429:
            parameters["retry_after"] = retry_after or 1
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {parameters.get('retry_after')}",
                403: BLOCKED,
                401: "Unauthorized",
                404: "Not Found",
                409: "Conflict: injected failure",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, "Bad Request: injected failure")
            if migrate_to_chat_id is not None:
                description = MIGRATED
        self._add_fault(
            _Fault(
                self._method_set(method),
                times,
                chat_id,
                code=error_code,
                description=description,
                parameters=parameters or None,
            )
        )

    def disconnect_next(
        self,
        method: str | Iterable[str] | None,
        *,
        times: int = 1,
        chat_id: int | str | None = None,
        processed: bool = False,
    ) -> None:
        """Cut the connection instead of answering (PTB raises NetworkError).

        processed=True performs the call first (the message is really sent) and then loses
        the answer — the case that makes naive retries send duplicates.
        """
        self._add_fault(
            _Fault(self._method_set(method), times, chat_id, disconnect=True, processed=processed)
        )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = []

    def block(self, chat_id: int, *, notify: bool = False) -> None:
        """The user blocks the bot: every call to that chat fails with 403 until unblock().

        notify=True also sends the my_chat_member update Telegram emits (status kicked).
        """
        with self._lock:
            self._blocked.add(chat_id)
        if notify:
            self._my_chat_member(chat_id, chat_id, "member", "kicked")

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """Calls to chat_id fail with ChatMigrated(new_chat_id); no updates are sent."""
        with self._lock:
            self._migrated[chat_id] = new_chat_id
            old = self._chats.get(chat_id)
            if old is not None and new_chat_id not in self._chats:
                self._chats[new_chat_id] = {
                    "id": new_chat_id,
                    "title": old.get("title", f"Group {new_chat_id}"),
                    "type": "supergroup",
                }
            if chat_id in self._admins:
                self._admins[new_chat_id] = copy.deepcopy(self._admins[chat_id])

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, method: str, chat_id: Any) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, chat_id):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _check_chat(self, method: str, chat_id: Any) -> None:
        chat_id = self._resolve_chat_id(chat_id)
        if chat_id in self._migrated:
            raise ApiError(400, MIGRATED, {"migrate_to_chat_id": self._migrated[chat_id]})
        if chat_id in self._blocked:
            self._stats["blocked"] += 1
            raise ApiError(403, BLOCKED)
        if chat_id in self._kicked:
            self._stats["blocked"] += 1
            raise ApiError(403, KICKED)
        if self._rate is not None and method in SEND_METHODS:
            self._rate_check(chat_id)

    def _rate_check(self, chat_id: int) -> None:
        assert self._rate is not None
        now = time.monotonic()
        rate = self._rate
        wanted = [("all", rate.overall_per_second, rate.overall_burst)]
        wanted.append((("chat", chat_id), rate.per_chat_per_second, rate.per_chat_burst))
        if chat_id < 0:
            wanted.append(
                (("group", chat_id), rate.per_group_per_minute / 60, rate.per_group_burst)
            )
        buckets = []
        for key, per_second, burst in wanted:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(per_second, burst, now)
            buckets.append(bucket)
        wait = max(b.wait(now) for b in buckets)
        if wait > 0:
            self._stats["rate_limited"] += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        for bucket in buckets:
            bucket.take()
