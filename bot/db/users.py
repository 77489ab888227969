"""The users table: who talks to the bot in private, their saved profile, and who is reachable."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlite_utils
from sqlite_utils.db import NotFoundError

from bot.db.connection import bookkeeping, iso_seconds

log = logging.getLogger(__name__)



def remember_user(db: sqlite_utils.Database, user_id: int, chat_id: int, first_name: str,
                  now: dt.datetime) -> None:
    """Record that a user talked to the bot in private (creates or refreshes the row)."""
    # One statement: this runs on every private message, so no read-then-write.
    bookkeeping(db, "users", lambda: db.execute(
        "insert into users (user_id, chat_id, first_name, first_seen, last_seen, active) "
        "values (?, ?, ?, ?, ?, 1) on conflict(user_id) do update set chat_id = excluded.chat_id,"
        " first_name = excluded.first_name, last_seen = excluded.last_seen, active = 1",
        [user_id, chat_id, first_name[:64], iso_seconds(now), iso_seconds(now)],
    ), None, owner=user_id)


def get_user(db: sqlite_utils.Database, user_id: int) -> dict[str, Any] | None:
    try:
        return db["users"].get(user_id)
    except NotFoundError:
        return None


def set_user_profile(db: sqlite_utils.Database, user_id: int, *, scheme: str | None = None,
                     city: str | None = None, clear_city: bool = False,
                     last_date: dt.date | None = None, whose: str | None = None) -> None:
    """Remember a user's scheme, city, last certification date and whose pension it is, for
    the next question and the next flow."""
    changes: dict[str, Any] = {}
    if scheme is not None:
        changes["scheme"] = scheme
    if city is not None or clear_city:
        changes["city"] = city
    if last_date is not None:
        changes["last_date"] = last_date.isoformat()
    if whose is not None:
        changes["whose"] = whose
    if changes:
        db["users"].upsert({"user_id": user_id, **changes}, pk="user_id")


def deactivate_user(db: sqlite_utils.Database, user_id: int) -> None:
    """The user blocked the bot: stop sending them anything."""
    db["users"].upsert({"user_id": user_id, "active": 0}, pk="user_id")


def delete_user(db: sqlite_utils.Database, user_id: int) -> bool:
    """Forget a user's row: name, chat, city, scheme, last date and whose (/forget)."""
    return db.execute("delete from users where user_id = ?", [user_id]).rowcount > 0



def active_user_chats(db: sqlite_utils.Database, *, city: str | None = None,
                      scheme: str | None = None) -> list[int]:
    """Private chats of active users (optionally of one city or scheme), oldest user first."""
    sql = "select chat_id from users where active = 1 and chat_id is not null"
    params: list[str] = []
    if city is not None:
        sql, params = sql + " and city = ?", [*params, city]
    if scheme is not None:
        sql, params = sql + " and scheme = ?", [*params, scheme]
    return [row[0] for row in db.execute(sql + " order by first_seen, user_id", params)]


def deactivate_user_chat(db: sqlite_utils.Database, chat_id: int) -> None:
    """The private chat can no longer be reached (blocked, deleted account)."""
    db.execute("update users set active = 0 where chat_id = ?", [chat_id])


def most_common(db: sqlite_utils.Database, column: str, limit: int = 8) -> list[tuple[str, int]]:
    """The most common cities or schemes among active users, with their counts."""
    if column not in ("city", "scheme"):  # a column name, never user input
        raise ValueError(column)
    sql = (f"select {column}, count(*) as n from users where active = 1 and {column} is not null "
           f"and {column} != '' group by {column} order by n desc, {column} limit ?")
    return [(row[0], row[1]) for row in db.execute(sql, [limit])]


def count_users(db: sqlite_utils.Database, *, active: bool) -> int:
    return int(db.execute("select count(*) from users where active = ?",
                          [int(active)]).fetchone()[0])
