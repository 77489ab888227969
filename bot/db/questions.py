"""The questions and feedback tables: the (redacted) question log and 有用/没用 votes."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3

import sqlite_utils
from sqlite_utils.db import NotFoundError

from bot.db.connection import bookkeeping, iso_seconds

log = logging.getLogger(__name__)



class QuestionIds:
    """Hands out question ids before their rows exist.

    A reply's 有用/没用 buttons carry the question's id, and the row is written after the reply
    has gone out, so that the user does not wait for the database. Handlers taking ids at the
    same time still get different ones; a row stored without an id meanwhile could take one
    that is handed out, and `record_question` then stores the later row under a fresh id.
    """

    def __init__(self, db: sqlite_utils.Database):
        row = db.execute("select coalesce(max(id), 0) from questions").fetchone()
        self._last = int(row[0])

    def take(self) -> int:
        self._last += 1
        return self._last


def record_question(db: sqlite_utils.Database, *, at: dt.datetime, chat_id: int,
                    chat_type: str, user_id: int | None, text: str, kind: str,
                    entry_id: str | None, score: float, question_id: int | None = None) -> int:
    """Store an (already redacted) question and how it was answered; returns its id.

    In the running bot a failed write is kept and retried later (see `defer_failed_writes`);
    the id handed out is returned meanwhile.
    """
    def write() -> int:
        return _store_question(db, at=at, chat_id=chat_id, chat_type=chat_type,
                               user_id=user_id, text=text, kind=kind, entry_id=entry_id,
                               score=score, question_id=question_id)

    return bookkeeping(db, "questions", write, question_id or 0, owner=user_id)


def _store_question(db: sqlite_utils.Database, *, at: dt.datetime, chat_id: int,
                    chat_type: str, user_id: int | None, text: str, kind: str,
                    entry_id: str | None, score: float, question_id: int | None) -> int:
    values = [iso_seconds(at), chat_id, chat_type, user_id, text[:500], kind, entry_id,
              round(score, 3)]
    columns = "at, chat_id, chat_type, user_id, text, kind, entry_id, score"
    if question_id is not None:
        try:
            db.execute(f"insert into questions (id, {columns}) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [question_id, *values])
            return question_id
        except sqlite3.IntegrityError:  # the id was taken meanwhile: keep the row anyway
            log.warning("question id %s already used; storing under a new id", question_id)
    cursor = db.execute(f"insert into questions ({columns}) values (?, ?, ?, ?, ?, ?, ?, ?)",
                        values)
    return int(cursor.lastrowid)


def record_feedback(db: sqlite_utils.Database, question_id: int, user_id: int, useful: bool,
                    at: dt.datetime) -> bool:
    """Store 有用/没用 for a question (a second press changes the vote); False if unknown."""
    try:
        db["questions"].get(question_id)
    except NotFoundError:
        return False
    db["feedback"].upsert({"question_id": question_id, "user_id": user_id,
                           "useful": int(useful), "at": iso_seconds(at)},
                          pk=("question_id", "user_id"))
    return True


def count_user_questions(db: sqlite_utils.Database, user_id: int) -> int:
    """How many stored questions a user asked, in private and in groups."""
    return db.execute("select count(*) from questions where user_id = ?", [user_id]).fetchone()[0]


def delete_user_questions(db: sqlite_utils.Database, user_id: int) -> int:
    """Forget what a user asked and every vote they or others gave on it; returns how many
    questions went."""
    db.execute("delete from feedback where user_id = ? or question_id in "
               "(select id from questions where user_id = ?)", [user_id, user_id])
    return db.execute("delete from questions where user_id = ?", [user_id]).rowcount



def _in_chat(chat_id: int | None) -> tuple[str, list[int]]:
    return ("", []) if chat_id is None else (" and chat_id = ?", [chat_id])


def count_kinds(db: sqlite_utils.Database, lo: str, hi: str, *,
                chat_id: int | None = None) -> dict[tuple[str, str], int]:
    """How many questions of each kind were asked on each day (lo <= at < hi): {(day, kind): n}."""
    where, params = _in_chat(chat_id)
    return {(day, kind): n for day, kind, n in db.execute(
        "select substr(at, 1, 10) as day, kind, count(*) from questions "
        f"where at >= ? and at < ?{where} group by day, kind", [lo, hi, *params])}


def top_topics(db: sqlite_utils.Database, lo: str, hi: str, kinds: tuple[str, ...], limit: int,
               *, chat_id: int | None = None) -> list[tuple[str, int]]:
    """The entries answered most often (lo <= at < hi), with their counts."""
    where, params = _in_chat(chat_id)
    marks = ", ".join("?" for _ in kinds)
    return [(row[0], row[1]) for row in db.execute(
        f"select entry_id, count(*) as n from questions where at >= ? and at < ?{where} "
        f"and kind in ({marks}) and entry_id is not null group by entry_id "
        "order by n desc, entry_id limit ?", [lo, hi, *params, *kinds, limit])]


def count_votes(db: sqlite_utils.Database, lo: str, hi: str) -> dict[bool, int]:
    """有用 (True) and 没用 (False) votes on the questions asked in lo <= at < hi."""
    return {bool(useful): n for useful, n in db.execute(
        "select f.useful, count(*) from feedback f join questions q on q.id = f.question_id "
        "where q.at >= ? and q.at < ? group by f.useful", [lo, hi])}


def declined_or_downvoted(db: sqlite_utils.Database, since: str) -> list[tuple[str, bool, bool]]:
    """(text, declined, downvoted) of such questions since `since`, the latest first."""
    return [(text, bool(declined), bool(down)) for text, declined, down in db.execute(
        "select q.text, q.kind = 'decline' as declined, "
        "exists(select 1 from feedback f where f.question_id = q.id and f.useful = 0) as down "
        "from questions q where q.at >= ? and (q.kind = 'decline' or exists("
        "select 1 from feedback f where f.question_id = q.id and f.useful = 0)) "
        "order by q.at desc, q.id desc", [since])]


def latest_texts(db: sqlite_utils.Database, chat_id: int, kind: str, lo: str, hi: str,
                 limit: int) -> list[str]:
    """The (redacted) text of the latest questions of one kind in one chat."""
    return [row[0] for row in db.execute(
        "select text from questions where chat_id = ? and kind = ? and at >= ? and at < ? "
        "order by at desc, id desc limit ?", [chat_id, kind, lo, hi, limit])]
