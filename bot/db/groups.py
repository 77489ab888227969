"""The groups table: groups the bot is in, their settings, and supergroup migrations."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlite_utils
from sqlite_utils.db import NotFoundError

from bot.db.connection import bookkeeping, iso_seconds, transaction

log = logging.getLogger(__name__)



def remember_group(db: sqlite_utils.Database, chat_id: int, title: str,
                   now: dt.datetime) -> dict[str, Any]:
    """Create the group's row on first contact; return it."""
    def write() -> dict[str, Any]:
        group = get_group(db, chat_id)
        if group is None:
            db["groups"].insert({"chat_id": chat_id, "title": title[:128],
                                 "added_at": iso_seconds(now), "autoanswer": 0, "active": 1},
                                pk="chat_id", ignore=True)
            group = get_group(db, chat_id)
        return group or {}

    return bookkeeping(db, "groups", write, {})


def get_group(db: sqlite_utils.Database, chat_id: int) -> dict[str, Any] | None:
    try:
        return db["groups"].get(chat_id)
    except NotFoundError:
        return None


def set_autoanswer(db: sqlite_utils.Database, chat_id: int, enabled: bool) -> None:
    db["groups"].upsert({"chat_id": chat_id, "autoanswer": int(enabled)}, pk="chat_id")


def migrate_group(db: sqlite_utils.Database, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its settings move to the new chat id (atomically)."""
    with transaction(db):
        old = get_group(db, old_chat_id)
        if old is None:
            return
        if get_group(db, new_chat_id) is None:
            db.execute("insert into groups (chat_id, title, autoanswer, added_at, active, "
                       "migrated_to) values (?, ?, ?, ?, ?, null)",
                       [new_chat_id, old["title"], old["autoanswer"], old["added_at"],
                        old["active"]])
        else:
            db.execute("update groups set autoanswer = ? where chat_id = ?",
                       [old["autoanswer"], new_chat_id])
        db.execute("update groups set active = 0, migrated_to = ? where chat_id = ?",
                   [new_chat_id, old_chat_id])



def active_group_chats(db: sqlite_utils.Database) -> list[int]:
    """Groups the bot is still in (not left, not migrated), oldest first."""
    return [row[0] for row in db.execute(
        "select chat_id from groups where active = 1 and migrated_to is null "
        "order by added_at, chat_id")]


def reactivate_group(db: sqlite_utils.Database, chat_id: int, title: str) -> None:
    """The bot was added back to a group it had left or been removed from."""
    db.execute("update groups set active = 1, title = ? where chat_id = ? and migrated_to is null",
               [title[:128], chat_id])


def deactivate_group(db: sqlite_utils.Database, chat_id: int) -> None:
    """The bot was removed from the group or can no longer post there."""
    db.execute("update groups set active = 0 where chat_id = ?", [chat_id])


def count_active_groups(db: sqlite_utils.Database) -> int:
    return int(db.execute("select count(*) from groups where active = 1").fetchone()[0])
