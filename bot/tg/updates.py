"""Updates from different chats are handled at the same time; one chat's stay in order.

python-telegram-bot handles one update at a time by default, so a handler that waits (for
Telegram's flood control in a busy group, say) makes every other chat wait too. This processor
runs each update as soon as the previous update *of the same chat* is done: one chat in order
(conversations rely on that), different chats in parallel, at most `MAX_RUNNING` at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_RUNNING = 64
# Waiting updates are cheap; PTB's own limit only bounds how many may wait.
MAX_WAITING = 100_000


def chat_key(update: object) -> tuple[str, int] | None:
    """What must stay in order: the chat, or the user for updates without a chat (inline)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, sequential within a chat (FIFO: asyncio locks are fair)."""

    def __init__(self, max_running: int = MAX_RUNNING) -> None:
        super().__init__(MAX_WAITING)
        self._running = asyncio.BoundedSemaphore(max_running)
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        self._queued: dict[tuple[str, int], int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._queued[key] = self._queued.get(key, 0) + 1
        try:
            async with lock, self._running:
                await coroutine
        finally:
            self._queued[key] -= 1
            if not self._queued[key]:  # nobody else waits for this chat: forget its lock
                del self._queued[key]
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
