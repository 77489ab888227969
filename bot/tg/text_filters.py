"""Message filters from plain predicates on the typed text (提醒我认证, 删除我的信息)."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Message
from telegram.ext import filters


class _TextFilter(filters.MessageFilter):
    def __init__(self, predicate: Callable[[str], bool], name: str) -> None:
        super().__init__(name=name)
        self._predicate = predicate

    def filter(self, message: Message) -> bool:
        return self._predicate(message.text or "")


def text_filter(predicate: Callable[[str], bool], name: str) -> filters.MessageFilter:
    """A filter passing the messages whose text `predicate` accepts."""
    return _TextFilter(predicate, name)
