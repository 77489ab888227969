"""Who a broadcast goes to: the audiences admins choose and the chats each one covers."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlite_utils

from bot.db.groups import active_group_chats
from bot.db.users import active_user_chats, most_common

AUDIENCE_KINDS = ("users", "groups", "everyone", "city", "scheme", "group")


@dataclass(frozen=True)
class Audience:
    """Who a broadcast goes to: all subscribers, all groups, both, a city, a scheme, one group."""

    kind: str
    value: str = ""

    def __post_init__(self) -> None:
        if self.kind not in AUDIENCE_KINDS:
            raise ValueError(f"unknown audience {self.kind!r}")
        if self.kind in ("city", "scheme", "group") and not self.value:
            raise ValueError(f"audience {self.kind!r} needs a value")
        if self.kind == "group" and not re.fullmatch(r"-[0-9]+", self.value):
            raise ValueError(f"not a group id: {self.value!r}")

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind

    @classmethod
    def parse(cls, key: str) -> Audience:
        kind, _, value = key.partition(":")
        return cls(kind, value)

    def label(self, scheme_names: dict[str, str] | None = None) -> str:
        """How the audience is named to admins."""
        if self.kind == "users":
            return "所有订阅用户"
        if self.kind == "groups":
            return "所有群"
        if self.kind == "everyone":
            return "所有订阅用户和群"
        if self.kind == "city":
            return f"{self.value}的订阅用户"
        if self.kind == "scheme":
            name = (scheme_names or {}).get(self.value, self.value)
            return f"{name}的订阅用户"
        return f"群 {self.value}"


@dataclass(frozen=True)
class Recipient:
    chat_id: int
    kind: str  # user | group


def select_recipients(db: sqlite_utils.Database, audience: Audience) -> list[Recipient]:
    """Everyone the audience covers right now, each chat once, in a stable order."""
    rows: list[Recipient] = []
    if audience.kind in ("users", "everyone"):
        rows += [Recipient(chat_id, "user") for chat_id in active_user_chats(db)]
    if audience.kind in ("groups", "everyone"):
        rows += [Recipient(chat_id, "group") for chat_id in active_group_chats(db)]
    if audience.kind in ("city", "scheme"):
        rows += [Recipient(chat_id, "user")
                 for chat_id in active_user_chats(db, **{audience.kind: audience.value})]
    if audience.kind == "group":
        rows.append(Recipient(int(audience.value), "group"))
    return list({r.chat_id: r for r in rows}.values())


def count_audience(db: sqlite_utils.Database, audience: Audience) -> int:
    return len(select_recipients(db, audience))


def audience_values(db: sqlite_utils.Database, column: str,
                    limit: int = 8) -> list[tuple[str, int]]:
    """The most common cities or schemes among active subscribers, with their counts."""
    return most_common(db, column, limit)
