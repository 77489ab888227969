"""/forget: everything the bot stored about one user, counted and then deleted at once.

Kept about a user: the users row (name, chat, city, scheme, last certification date, whose
pension), their reminders and the outbox rows planned for them, the (redacted) questions they
asked in private and in groups, and their 有用/没用 votes. Queued broadcasts to their chat are
skipped. What belongs to a group (its reminders, its notices) stays with the group.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlite_utils

from bot.broadcasts.store import skip_pending_for_chat
from bot.db.connection import forget_deferred, transaction
from bot.db.questions import count_user_questions, delete_user_questions
from bot.db.users import delete_user, get_user
from bot.reminders.store import delete_user_reminders, user_reminders

FORGOTTEN = "用户已要求删除自己的信息"


@dataclass(frozen=True)
class Held:
    """What the bot holds about one user."""

    profile: bool  # a users row: name and chat, perhaps city, scheme and last date
    city: str | None
    reminders: int
    questions: int
    scheme: bool = False  # the profile holds a scheme
    last_date: bool = False  # the profile holds a last certification date

    @property
    def anything(self) -> bool:
        return self.profile or bool(self.reminders or self.questions)


def what_is_held(db: sqlite_utils.Database, user_id: int) -> Held:
    """Count what `forget_user` would delete."""
    user = get_user(db, user_id) or {}
    return Held(profile=bool(user), city=user.get("city"),
                reminders=len(user_reminders(db, user_id)),
                questions=count_user_questions(db, user_id),
                scheme=bool(user.get("scheme")), last_date=bool(user.get("last_date")))


def forget_user(db: sqlite_utils.Database, user_id: int, now: dt.datetime) -> Held:
    """Delete everything kept about `user_id` in one transaction; returns what there was."""
    forget_deferred(db, user_id)  # a write kept after a failure would bring them back
    with transaction(db):
        held = what_is_held(db, user_id)
        user = get_user(db, user_id)
        # In a private chat the chat id is the user id; an older row may name another.
        chats = {user_id, *([user["chat_id"]] if user and user.get("chat_id") else [])}
        chats |= {reminder.chat_id for reminder in user_reminders(db, user_id)}
        delete_user_reminders(db, user_id)
        for chat_id in (chat for chat in chats if chat > 0):  # never a group's queue
            skip_pending_for_chat(db, chat_id, FORGOTTEN, now)
        delete_user_questions(db, user_id)
        delete_user(db, user_id)
    return held
