"""A group's monthly notices (每月1日 09:00 + the admins' text): their rows in
`group_reminders` (the tables: `bot.reminders.store`), behind plain functions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlite_utils

from bot.reminders.plans import (
    MAX_GROUP_REMINDERS,
    GroupSchedule,
    ReminderError,
    from_stamp,
    next_group_at,
    plan_start,
    stamp,
)
from bot.reminders.store import fetch, switch_off, update_row


@dataclass(frozen=True)
class GroupReminder:
    id: int
    chat_id: int
    created_by: int
    schedule: GroupSchedule
    plan_from: dt.datetime
    next_at: dt.datetime | None
    active: bool

    @classmethod
    def from_row(cls, row: dict) -> GroupReminder:
        return cls(row["id"], row["chat_id"], row["created_by"],
                   GroupSchedule(row["day"], row["hour"], row["minute"], row["text"]),
                   from_stamp(row["plan_from"]),
                   from_stamp(row["next_at"]) if row["next_at"] else None, bool(row["active"]))



def add_group_reminder(db: sqlite_utils.Database, *, chat_id: int, created_by: int,
                       schedule: GroupSchedule, now: dt.datetime) -> GroupReminder:
    count = db.conn.execute(
        "SELECT count(*) FROM group_reminders WHERE chat_id = ? AND active = 1",
        (chat_id,)).fetchone()[0]
    same = db.conn.execute(
        "SELECT count(*) FROM group_reminders WHERE chat_id = ? AND active = 1 AND day = ? "
        "AND hour = ? AND minute = ? AND text = ?",
        (chat_id, schedule.day, schedule.hour, schedule.minute, schedule.text)).fetchone()[0]
    if same:  # sent twice (the reply was slow to come): once a month is enough
        raise ReminderError(f"这条提醒已经有了（{schedule.describe()}），不用再设。"
                            "发 /remind 可以查看或删除。")
    if count >= MAX_GROUP_REMINDERS:
        raise ReminderError(f"一个群最多{MAX_GROUP_REMINDERS}条群提醒，请先删掉不用的"
                            "（发 /remind 可以看到删除按钮）。")
    cursor = db.conn.execute(
        "INSERT INTO group_reminders (chat_id, created_by, day, hour, minute, text, plan_from, "
        "next_at, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (chat_id, created_by, schedule.day, schedule.hour, schedule.minute, schedule.text,
         stamp(plan_start(now)), stamp(next_group_at(schedule, now)), stamp(now), stamp(now)))
    found = get_group_reminder(db, int(cursor.lastrowid))
    assert found is not None
    return found


def get_group_reminder(db: sqlite_utils.Database, reminder_id: int) -> GroupReminder | None:
    rows = fetch(db, "SELECT * FROM group_reminders WHERE id = ?", (reminder_id,))
    return GroupReminder.from_row(rows[0]) if rows else None


def group_reminders(db: sqlite_utils.Database, chat_id: int) -> list[GroupReminder]:
    rows = fetch(db, "SELECT * FROM group_reminders WHERE chat_id = ? AND active = 1 "
                     "ORDER BY id", (chat_id,))
    return [GroupReminder.from_row(r) for r in rows]


def delete_group_reminder(db: sqlite_utils.Database, reminder_id: int) -> bool:
    return db.conn.execute("DELETE FROM group_reminders WHERE id = ?",
                           (reminder_id,)).rowcount > 0


def deactivate_group(db: sqlite_utils.Database, chat_id: int, now: dt.datetime,
                     reason: str = "blocked") -> int:
    """The bot was removed from a group: its notices stop."""
    return switch_off(db, "group_reminders", "chat_id", chat_id, now, reason)


def resume_group_reminders(db: sqlite_utils.Database, chat_id: int,
                           now: dt.datetime) -> list[GroupReminder]:
    """The bot is back in a group: the notices its removal stopped carry on from now (what
    fell due meanwhile is not sent late). Notices an admin deleted are gone for good."""
    rows = fetch(db, "SELECT * FROM group_reminders WHERE chat_id = ? AND active = 0 "
                     "AND stopped = 'blocked' ORDER BY id", (chat_id,))
    resumed = []
    for row in rows:
        schedule = GroupReminder.from_row(row).schedule
        update_row(db, "group_reminders", row["id"], {
            "active": 1, "stopped": None, "plan_from": stamp(plan_start(now)),
            "next_at": stamp(next_group_at(schedule, now)), "updated_at": stamp(now)})
        resumed.append(get_group_reminder(db, row["id"]))
    return [r for r in resumed if r is not None]
