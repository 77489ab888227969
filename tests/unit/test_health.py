"""The running bot's database watch: failed writes kept and retried, admins told once, and a
deleted, replaced or emptied file noticed (with a rescue copy)."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest

from bot.db.connection import defer_failed_writes, open_database
from bot.db.questions import record_question
from bot.db.users import remember_user
from bot.tg.health import DatabaseHealth

AT = dt.datetime(2026, 11, 23, 10, 0)


@pytest.fixture
def setup(tmp_path):
    path = tmp_path / "bot.db"
    db = open_database(path)
    health = DatabaseHealth(db, path, lambda: AT)
    defer_failed_writes(db, health.failed, health.forget)
    yield db, health, path
    db.close()


def _checked(health: DatabaseHealth) -> list[str]:
    sent: list[str] = []

    async def notify(text: str) -> None:
        sent.append(text)

    asyncio.run(health.check(notify))
    return sent


def _ask(db, n: int) -> int:
    return record_question(db, at=AT, chat_id=1, chat_type="private", user_id=1,
                           text=f"问题{n}", kind="answer", entry_id="x", score=0.9,
                           question_id=n)


def test_failed_writes_are_kept_retried_and_reported_once(setup) -> None:
    db, health, _path = setup
    db.execute("PRAGMA query_only = ON")  # every write fails from here on, as on a full disk
    for n in (1, 2, 3):
        assert _ask(db, n) == n  # no exception: the answer already went out
    remember_user(db, 7, 7, "王", AT)
    assert len(health.pending) == 4
    first = _checked(health)
    assert len(first) == 1 and "数据库写入失败" in first[0]
    assert _checked(health) == []  # told once, not at every check

    db.execute("PRAGMA query_only = OFF")
    recovered = _checked(health)
    assert len(recovered) == 1 and "4 条记录已经补写" in recovered[0]
    assert [r[0] for r in db.execute("select text from questions order by id")] == \
        ["问题1", "问题2", "问题3"]
    assert db.execute("select first_name from users where user_id = 7").fetchone() == ("王",)
    assert not health.pending


def test_without_a_handler_errors_are_raised(tmp_path) -> None:
    db = open_database(tmp_path / "bot.db")
    db.execute("PRAGMA query_only = ON")
    with pytest.raises(sqlite3.OperationalError):
        _ask(db, 1)
    db.close()


@pytest.mark.parametrize("problem", ["deleted", "replaced", "emptied"])
def test_a_vanished_file_is_reported_once_with_a_rescue_copy(setup, problem) -> None:
    db, health, path = setup
    remember_user(db, 7, 7, "王", AT)
    assert _checked(health) == []
    if problem == "deleted":
        path.unlink()
    elif problem == "replaced":  # an older copy moved over it
        other = path.with_name("older.db")
        sqlite3.connect(other).close()
        other.replace(path)
    else:
        path.write_bytes(b"")
    (alert,) = _checked(health)
    assert path.name in alert and {"deleted": "删除", "replaced": "换成", "emptied": "清空"}[
        problem] in alert
    rescue = path.with_name(f"{path.name}.rescued-20261123-100000")
    assert str(rescue) in alert
    copy = sqlite3.connect(rescue)
    assert copy.execute("select first_name from users").fetchall() == [("王",)]
    copy.close()
    assert _checked(health) == []  # the same problem is not reported again



def test_forget_drops_the_kept_writes_about_the_user(setup) -> None:
    db, health, _path = setup
    db.execute("PRAGMA query_only = ON")
    remember_user(db, 7, 7, "王", AT)
    record_question(db, at=AT, chat_id=7, chat_type="private", user_id=7, text="我家在北京朝阳",
                    kind="answer", entry_id="x", score=0.9, question_id=1)
    remember_user(db, 8, 8, "李", AT)
    db.execute("PRAGMA query_only = OFF")
    from bot.broadcasts.store import ensure_broadcast_tables
    from bot.privacy.forget import forget_user
    from bot.reminders.store import ensure_reminder_tables
    ensure_reminder_tables(db)
    ensure_broadcast_tables(db)
    forget_user(db, 7, AT)
    _checked(health)  # the kept writes are retried: 8's come back, 7's do not
    assert [r[0] for r in db.execute("select user_id from users")] == [8]
    assert db.execute("select count(*) from questions").fetchone() == (0,)
