"""/forget: everything kept about one user goes at once; nobody else's data is touched."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.broadcasts.audience import Audience
from bot.broadcasts.compose import Composed
from bot.broadcasts.store import create_broadcast, ensure_broadcast_tables, progress
from bot.db.questions import record_feedback, record_question
from bot.db.users import get_user, remember_user, set_user_profile
from bot.privacy.forget import FORGOTTEN, Held, forget_user, what_is_held
from bot.privacy.requests import asks_to_forget
from bot.reminders import plans
from bot.reminders import store as rm
from bot.reminders.due import enqueue_due
from bot.tg.handlers.forget import held_text

NOW = dt.datetime(2026, 12, 2, 10, 0, tzinfo=plans.CHINA)
ME, OTHER, GROUP = 101, 202, -5001


@pytest.fixture
def db(db):
    rm.ensure_reminder_tables(db)
    ensure_broadcast_tables(db)
    return db


def _ask(db, user: int, chat: int, text: str) -> int:
    return record_question(db, at=NOW, chat_id=chat, chat_type="private" if chat > 0 else "group",
                           user_id=user, text=text, kind="answer", entry_id="x", score=0.9)


def _seed(db) -> None:
    """Two users, each with a profile, a reminder with queued sends, questions and votes."""
    for user in (ME, OTHER):
        remember_user(db, user, user, f"用户{user}", NOW)
        set_user_profile(db, user, scheme="enterprise", city="锦州",
                         last_date=dt.date(2025, 12, 10))
        rm.add_reminder(db, user_id=user, chat_id=user, label="自己", scheme="enterprise",
                        city="锦州", last=dt.date(2025, 12, 10), due=dt.date(2026, 12, 10),
                        now=NOW - dt.timedelta(days=40))
        asked = _ask(db, user, user, "刷脸老是不过")
        _ask(db, user, GROUP, "群里问的")
        record_feedback(db, asked, user, True, NOW)
    enqueue_due(db, NOW)  # the 30-day send of both reminders is due
    db["groups"].insert({"chat_id": GROUP, "title": "群", "active": 1})


def _count(db, sql: str, *params) -> int:
    return db.execute(sql, params).fetchone()[0]


def test_what_is_held_counts_what_forget_deletes(db) -> None:
    _seed(db)
    held = what_is_held(db, ME)
    assert held == Held(profile=True, city="锦州", reminders=1, questions=2, scheme=True,
                        last_date=True)
    assert forget_user(db, ME, NOW) == held
    assert what_is_held(db, ME) == Held(profile=False, city=None, reminders=0, questions=0)
    assert not what_is_held(db, ME).anything


def test_forget_deletes_every_row_of_the_user_and_no_other(db) -> None:
    _seed(db)
    assert _count(db, "select count(*) from reminder_outbox") == 2
    forget_user(db, ME, NOW)
    assert get_user(db, ME) is None and get_user(db, OTHER) is not None
    assert rm.user_reminders(db, ME) == [] and len(rm.user_reminders(db, OTHER)) == 1
    assert _count(db, "select count(*) from reminder_outbox where chat_id = ?", ME) == 0
    assert _count(db, "select count(*) from reminder_outbox where chat_id = ?", OTHER) == 1
    assert _count(db, "select count(*) from questions where user_id = ?", ME) == 0
    assert _count(db, "select count(*) from questions where user_id = ?", OTHER) == 2
    assert _count(db, "select count(*) from feedback where user_id = ?", ME) == 0
    assert _count(db, "select count(*) from feedback where user_id = ?", OTHER) == 1
    assert get_user(db, OTHER)["city"] == "锦州"


def test_forget_deletes_the_sends_of_reminders_deleted_before(db) -> None:
    _seed(db)
    (mine,) = rm.user_reminders(db, ME)
    rm.delete(db, mine.id)  # 🗑 in /myreminders: its sends stay, with the chat
    assert _count(db, "select count(*) from reminder_outbox where chat_id = ?", ME) == 1
    forget_user(db, ME, NOW)
    assert _count(db, "select count(*) from reminder_outbox where chat_id = ?", ME) == 0
    assert _count(db, "select count(*) from reminder_outbox where chat_id = ?", OTHER) == 1


def test_queued_broadcasts_skip_the_user_but_reach_the_others(db) -> None:
    _seed(db)
    everyone = create_broadcast(db, created_by=1, origin_chat_id=1, composed=Composed("通知", ()),
                                audience=Audience("everyone"), audience_label="所有人", now=NOW)
    forget_user(db, ME, NOW)
    rows = dict(db.execute("select chat_id, status from broadcast_outbox").fetchall())
    assert rows == {ME: "skipped", OTHER: "pending", GROUP: "pending"}
    assert db.execute("select error from broadcast_outbox where chat_id = ?",
                      [ME]).fetchone()[0] == FORGOTTEN
    state = progress(db, everyone)
    assert (state.total, state.skipped, state.remaining) == (3, 1, 2)


def test_forgetting_twice_or_a_stranger_is_harmless(db) -> None:
    _seed(db)
    forget_user(db, ME, NOW)
    assert forget_user(db, ME, NOW) == Held(profile=False, city=None, reminders=0, questions=0)
    assert forget_user(db, 999, NOW).anything is False
    assert get_user(db, OTHER) is not None


def test_a_user_who_talks_again_starts_afresh(db) -> None:
    _seed(db)
    forget_user(db, ME, NOW)
    remember_user(db, ME, ME, "用户", NOW)
    user = get_user(db, ME)
    assert user["city"] is None and user["scheme"] is None and user["last_date"] is None


@pytest.mark.parametrize(("text", "asks"), [
    ("删除我的信息", True),
    ("请删除我的所有个人信息。", True),
    ("把我的资料删掉", True),
    ("清除我的记录吧", True),
    ("刪除我的資料", True),  # traditional characters
    ("我的信息", False),
    ("删除", False),
    ("删除我的提醒", False),  # /myreminders does that, reminder by reminder
    ("怎么删除养老金认证信息", False),
])
def test_typed_requests_to_forget(text, asks) -> None:
    assert asks_to_forget(text) is asks


def test_the_confirmation_names_what_will_go() -> None:
    text = held_text(Held(profile=True, city="锦州", reminders=2, questions=5, scheme=True,
                          last_date=True))
    assert "城市（锦州）、待遇类型、上次认证日期" in text
    assert "认证提醒2个" in text and "问过的问题5条" in text and "不能恢复" in text
    bare = held_text(Held(profile=True, city=None, reminders=0, questions=0))
    assert "您的称呼\n" in bare
    assert not any(word in bare for word in ("城市", "待遇", "日期", "提醒", "问题"))
