"""Admin statistics: counts per day and kind, feedback, subscribers, unanswered questions."""

from __future__ import annotations

import datetime as dt

from bot.stats import (
    collect_stats,
    format_stats,
    format_unanswered,
    render_chart,
    unanswered_questions,
)

TODAY = dt.date(2026, 11, 23)


def add_questions(db, rows) -> None:
    """rows: (date, kind, entry_id, text)."""
    db.conn.executemany(
        "insert into questions (at, chat_id, chat_type, user_id, text, kind, entry_id, score) "
        "values (?, 1, 'private', 1, ?, ?, ?, 0.5)",
        [(f"{day}T09:00:00+08:00", text, kind, entry) for day, kind, entry, text in rows])


def test_counts_per_day_kind_and_topic(db) -> None:
    add_questions(db, [("2026-11-23", "answer", "a", "q")] * 3
                  + [("2026-11-23", "deadline", "deadline", "q")]
                  + [("2026-11-22", "suggest", None, "q")] * 2
                  + [("2026-11-01", "decline", None, "q")] * 2
                  + [("2026-11-23", "empty", None, "")] * 5   # not questions
                  + [("2026-11-23", "button", "b", "q")] * 4  # a topic button pressed
                  + [("2026-10-24", "answer", "b", "q")] * 9)  # 31 days ago: outside
    db.conn.execute("insert into users (user_id, chat_id, active) values (1, 1, 1), (2, 2, 0)")
    stats = collect_stats(db, TODAY)
    assert len(stats.days) == 30 and stats.days[0].day == dt.date(2026, 10, 25)
    assert stats.days[-1].answered == 4 and stats.days[-2].suggested == 2
    assert stats.questions == 8
    assert (stats.count("answered"), stats.count("suggested"), stats.count("declined")) == \
        (4, 2, 2)
    assert stats.top_topics == [("a", 3)]
    assert (stats.subscribers, stats.unsubscribed, stats.groups) == (1, 1, 0)
    assert stats.reminders_sent is None
    text = format_stats(stats, {"a": "怎么认证"})
    assert "提问 8 次" in text and "直接回答 50%（4）" in text and "1. 怎么认证 — 3 次" in text
    assert "提醒" not in text
    assert "最近7天每天：11-17 0 · 11-18 0 · 11-19 0 · 11-20 0 · 11-21 0 · 11-22 2 · 11-23 4" \
        in text


def test_reminders_are_counted_when_installed(db) -> None:
    db.conn.execute("create table reminder_outbox (id integer primary key, status text, "
                    "updated_at text)")
    db.conn.execute("create table reminders (id integer primary key, active integer)")
    db.conn.executemany("insert into reminder_outbox (status, updated_at) values (?, ?)",
                        [("sent", "2026-11-20 09:00"), ("sent", "2026-11-23 09:00"),
                         ("failed", "2026-11-20 09:00"), ("sent", "2026-09-01 09:00")])
    db.conn.execute("insert into reminders (active) values (1), (1), (0)")
    stats = collect_stats(db, TODAY)
    assert (stats.reminders_sent, stats.reminders_active) == (2, 2)
    assert "近30天发出 2 条，有效提醒 2 个" in format_stats(stats)


def test_feedback_counts_within_the_window(db) -> None:
    add_questions(db, [("2026-11-20", "answer", "a", "q")] * 3 + [("2026-09-01", "answer", "a",
                                                                    "q")])
    db.conn.executemany("insert into feedback (question_id, user_id, useful, at) values "
                        "(?, 1, ?, '')", [(1, 1), (2, 0), (3, 1), (4, 0)])
    stats = collect_stats(db, TODAY)
    assert (stats.useful, stats.not_useful) == (2, 1)
    assert "👍 2  👎 1（有用 67%）" in format_stats(stats)


def test_chart_is_a_png(db) -> None:
    add_questions(db, [("2026-11-20", "answer", "a", "q")] * 3)
    png = render_chart(collect_stats(db, TODAY))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == 900


def test_empty_database(db) -> None:
    stats = collect_stats(db, TODAY)
    assert stats.questions == 0 and "提问 0 次" in format_stats(stats)
    assert render_chart(stats).startswith(b"\x89PNG")
    assert "没有" in format_unanswered(unanswered_questions(db, TODAY))


def test_unanswered_groups_wordings_and_ranks(db) -> None:
    add_questions(db, [("2026-11-20", "decline", None, "养老金什么时候涨")] * 2
                  + [("2026-11-21", "decline", None, "養老金什麼時候漲？")]  # traditional
                  + [("2026-11-21", "decline", None, "社保卡丢了")]
                  + [("2026-11-21", "answer", "a", "怎么认证")] * 2
                  + [("2026-11-21", "suggest", None, "随便问问")]
                  + [("2026-01-01", "decline", None, "很久以前的问题")])
    db.conn.execute("insert into feedback (question_id, user_id, useful, at) "
                    "values (5, 1, 0, ''), (6, 1, 1, '')")
    items = unanswered_questions(db, TODAY)
    assert [(i.count, i.declined, i.downvoted) for i in items] == [(3, 3, 0), (1, 0, 1),
                                                                    (1, 1, 0)]
    assert items[0].text == "養老金什麼時候漲？"  # the latest wording is shown
    assert [i.text for i in items[1:]] == ["怎么认证", "社保卡丢了"]  # ties: most recent first
    text = format_unanswered(items)
    assert "1. 養老金什麼時候漲？ — 3 次（未回答 3）" in text and "👎 1" in text
