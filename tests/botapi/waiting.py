"""What tests read: recorded calls and sent messages, and waiting for them."""

from __future__ import annotations

import asyncio
import bisect
import copy
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from tests.botapi.records import Call, WaitTimeout


def _call_matches(call: Call, methods: frozenset[str] | None, chat_id: Any) -> bool:
    if methods is not None and call.method not in methods:
        return False
    return chat_id is None or str(call.chat_id) == str(chat_id)


def _short(text: str, limit: int = 60) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Waiting:
    """Part of BotApiServer (server.py), whose state it uses."""

    def mark(self) -> int:
        """Number of calls recorded so far; pass as since= to only see later calls."""
        with self._lock:
            return len(self._calls)

    @property
    def last_mark(self) -> int:
        """mark() as it was at the most recent injected update."""
        with self._lock:
            return self._marks.get(None, 0)

    def calls(
        self, method: str | Iterable[str] | None = None, chat_id: Any = None, since: int = 0
    ) -> list[Call]:
        methods = self._method_set(method)
        with self._lock:
            return [c for c in self._calls[since:] if _call_matches(c, methods, chat_id)]

    def sent_messages(self, chat_id: int | None = None, since: int = 0) -> list[dict]:
        """Messages the bot successfully sent (sendMessage, sendPhoto, copyMessage…), oldest first.

        Each is the Message as returned to the bot at send time; get_message() shows the
        current state after edits.
        """
        with self._lock:
            return [
                copy.deepcopy(m)
                for index, m in self._sent
                if index >= since and (chat_id is None or m["chat"]["id"] == chat_id)
            ]

    def get_message(self, chat_id: int, message_id: int) -> dict | None:
        with self._lock:
            message = self._messages.get((chat_id, message_id))
            return copy.deepcopy(message)

    def reply_keyboard(self, chat_id: int) -> list[list[str]] | None:
        """Button texts of the reply keyboard the user currently sees in chat_id (None: none)."""
        with self._lock:
            return copy.deepcopy(self._keyboards.get(chat_id))

    def pinned_messages(self, chat_id: int) -> list[int]:
        with self._lock:
            return list(self._pinned.get(chat_id, []))

    def filtered_messages(self) -> list[dict]:
        """Group messages withheld from the bot by privacy mode."""
        with self._lock:
            return copy.deepcopy(self._filtered)

    def stats(self) -> dict[str, Any]:
        """Counters: calls, per-method calls, sent, rate_limited (429s from the built-in
        limiter), injected_errors, blocked, updates_injected, webhook_delivered…"""
        with self._lock:
            result: dict[str, Any] = dict(self._stats)
            result["calls"] = len(self._calls)
            result["by_method"] = dict(Counter(c.method for c in self._calls))
            for key in ("sent", "rate_limited", "injected_errors", "blocked", "webhook_delivered"):
                result.setdefault(key, 0)
            return result

    def wait_for(
        self,
        method: str | Iterable[str] | None,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 10.0,
        count: int = 1,
        chat_id: Any = None,
        since: int = 0,
    ) -> list[Call]:
        """Block until `count` matching calls (recorded from index `since` on) exist.

        Returns all matching calls found; raises WaitTimeout with a dump of recent calls.
        """
        methods = self._method_set(method)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    c
                    for c in self._calls[since:]
                    if _call_matches(c, methods, chat_id) and (predicate is None or predicate(c))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    what = f"{count} {method or 'any'} call(s)"
                    if chat_id is not None:
                        what += f" for chat {chat_id}"
                    raise WaitTimeout(
                        self._dump(f"waited {timeout}s for {what} since #{since}; got {len(found)}")
                    )
                self._cond.wait(min(remaining, 1.0))

    def wait_for_messages(
        self,
        chat_id: int | None = None,
        *,
        count: int = 1,
        timeout: float = 10.0,
        since: int | None = None,
        predicate: Callable[[dict], bool] | None = None,
    ) -> list[dict]:
        """Block until the bot has sent `count` messages to chat_id (any chat if None).

        since=None counts from the most recent update injected into that chat — i.e. "the
        replies to what the user just did". Returns the Message dicts.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            if since is None:
                since = self._marks.get(chat_id, 0)
            while True:
                # _sent is ordered by call index: skip the old part without scanning it
                start = bisect.bisect_left(self._sent, since, key=lambda item: item[0])
                found = [
                    copy.deepcopy(m)
                    for _, m in self._sent[start:]
                    if (chat_id is None or m["chat"]["id"] == chat_id)
                    and (predicate is None or predicate(m))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(
                        self._dump(
                            f"waited {timeout}s for {count} message(s) to chat {chat_id} "
                            f"since #{since}; got {len(found)}"
                        )
                    )
                self._cond.wait(min(remaining, 1.0))

    def ask(
        self, user_id: int, text: str, *, count: int = 1, timeout: float = 10.0, **kwargs: Any
    ) -> list[dict]:
        """send_text() then wait_for_messages() in that chat: the bot's replies."""
        message = self.send_text(user_id, text, **kwargs)
        return self.wait_for_messages(message["chat"]["id"], count=count, timeout=timeout)

    async def wait_for_async(self, *args: Any, **kwargs: Any) -> list[Call]:
        """wait_for() for async tests whose own loop must keep running meanwhile."""
        return await asyncio.to_thread(self.wait_for, *args, **kwargs)

    async def wait_for_messages_async(self, *args: Any, **kwargs: Any) -> list[dict]:
        return await asyncio.to_thread(self.wait_for_messages, *args, **kwargs)

    def _dump(self, headline: str, limit: int = 25) -> str:
        with self._lock:
            recent = [c for c in self._calls if c.method != "getUpdates" or not c.ok][-limit:]
            lines = [headline, f"recent calls ({len(self._calls)} in total, getUpdates hidden):"]
            start = self._calls[0].time if self._calls else 0.0
            for c in recent:
                outcome = "ok" if c.ok else f"{c.error_code} {c.description}"
                if c.dropped:
                    outcome += " [connection dropped]"
                detail = f" chat={c.chat_id}" if c.chat_id is not None else ""
                if c.text is not None:
                    detail += f" text={_short(c.text)!r}"
                if c.method == "answerCallbackQuery" and c.params.get("text"):
                    detail = f" text={_short(c.params['text'])!r}"
                lines.append(f"  #{c.index} +{c.time - start:.3f}s {c.method}{detail} -> {outcome}")
            ids = [u["update_id"] for u in self._updates]
            lines.append(
                f"pending updates: {len(ids)} {ids[:10]}; active long polls: {self._active_polls}; "
                f"webhook: {self._webhook.get('url') or 'none'}"
            )
            if self._filtered:
                lines.append(f"withheld by privacy mode: {len(self._filtered)} group message(s)")
        for process in self._processes:
            lines.append(
                f"--- log of {process.name} (pid {process.pid}, rc {process.returncode}) ---"
            )
            lines.append(process.log_tail(40))
        return "\n".join(lines)
