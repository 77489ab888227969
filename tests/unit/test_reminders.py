"""Reminders core: plans, China time, month ends, 我已认证, catch-up and outbox idempotence;
the sender's error handling with a stand-in bot; and `python -m bot reminders due`."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.cli import main
from bot.clock import FixedClock
from bot.reminders import group_notices as notices
from bot.reminders import plans
from bot.reminders import store as rm
from bot.reminders.due import (
    enqueue_due,
    mark_sending,
    mark_sent,
    outbox_counts,
    pending_outbox,
    recover_interrupted,
    skip_reason,
)
from bot.reminders.requests import asks_for_reminder
from bot.reminders.texts import reminder_text, status_line
from bot.tg.reminder_sender import ReminderSender, SendStats
from bot.tg.texts import BUTTON_REMIND

UTC = dt.timezone.utc
CREATED = dt.datetime(2026, 1, 1, 10, 0, tzinfo=plans.CHINA)


def cn(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=plans.CHINA)


@pytest.fixture
def db(db):
    rm.ensure_reminder_tables(db)
    return db


def add(db, due: str, *, user: int = 1, label: str = "自己", now: dt.datetime = CREATED,
        leads=plans.DEFAULT_LEADS, scheme: str = "enterprise", city: str | None = None):
    return rm.add_reminder(db, user_id=user, chat_id=user, label=label, scheme=scheme,
                           city=city, last=None, due=dt.date.fromisoformat(due), now=now,
                           leads=leads)


def outbox(db) -> list[tuple]:
    return db.conn.execute("SELECT ref_id, due, slot, status, reason FROM reminder_outbox "
                           "ORDER BY id").fetchall()


# --- plans -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due", "leads", "days"),
    [
        ("2026-03-10", plans.DEFAULT_LEADS,
         ["2026-02-08", "2026-03-03", "2026-03-09", "2026-03-11"]),
        ("2026-03-31", (30,), ["2026-03-01"]),           # a month end back to the 1st
        ("2026-03-01", (1,), ["2026-02-28"]),            # into a short February
        ("2028-03-01", (1,), ["2028-02-29"]),            # ... and a leap one
        ("2027-01-01", (1, -1), ["2026-12-31", "2027-01-02"]),  # across a year end
        ("2026-12-31", (-1,), ["2027-01-01"]),
        ("2026-06-15", (0, 7, 7), ["2026-06-08", "2026-06-15"]),  # duplicates collapse
    ],
)
def test_plan_days(due: str, leads, days: list[str]) -> None:
    slots = plans.plan(dt.date.fromisoformat(due), leads)
    assert [s.day.isoformat() for s in slots] == days
    assert all(s.at.hour == plans.SEND_HOUR and s.at.minute == 0 for s in slots)


@settings(max_examples=200, deadline=None)
@given(due=st.dates(dt.date(2000, 1, 1), dt.date(2090, 12, 31)),
       leads=st.lists(st.integers(plans.MIN_LEAD, plans.MAX_LEAD), min_size=1, max_size=6))
def test_every_planned_send_is_morning_china_time(due: dt.date, leads: list[int]) -> None:
    slots = plans.plan(due, leads)
    assert len(slots) == len(set(leads))
    assert [s.at for s in slots] == sorted(s.at for s in slots)
    for slot in slots:
        assert slot.at.utcoffset() == dt.timedelta(hours=8)
        assert plans.in_sending_hours(slot.at)
        assert (due - slot.day).days == slot.lead


BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (cn("2026-03-01T07:59"), False),
        (cn("2026-03-01T08:00"), True),
        (cn("2026-03-01T20:59"), True),
        (cn("2026-03-01T21:00"), False),
        (dt.datetime(2026, 3, 1, 0, 30, tzinfo=UTC), True),   # 08:30 in China
        (dt.datetime(2026, 3, 1, 13, 0, tzinfo=UTC), False),  # 21:00 in China
        (dt.datetime(2026, 3, 1, 8, 0, tzinfo=BERLIN), True),  # 15:00 in China
        (dt.datetime(2026, 3, 1, 8, 0), True),                # naive = China time
    ],
)
def test_sending_hours_are_china_daytime(moment: dt.datetime, allowed: bool) -> None:
    assert plans.in_sending_hours(moment) is allowed


@pytest.mark.parametrize(
    ("now", "queued"),
    [
        (dt.datetime(2026, 2, 8, 0, 59, tzinfo=UTC), 0),        # 08:59 in China
        (dt.datetime(2026, 2, 8, 1, 0, tzinfo=UTC), 1),         # 09:00 in China
        (dt.datetime(2026, 2, 8, 2, 0, tzinfo=BERLIN), 1),      # 09:00 in China
        (dt.datetime(2026, 2, 7, 19, 59, tzinfo=NEW_YORK), 0),  # the evening before, there
        (dt.datetime(2026, 2, 7, 20, 0, tzinfo=NEW_YORK), 1),
    ],
)
def test_due_time_is_09_00_china_whatever_the_clock_zone(db, now: dt.datetime,
                                                          queued: int) -> None:
    add(db, "2026-03-10")
    assert enqueue_due(db, now).pending == queued


@pytest.mark.parametrize(
    ("text", "leads"),
    [
        ("30 7 1", (30, 7, 1)),
        ("30，7，1，当天", (30, 7, 1, 0)),
        ("提前15天、3天", (15, 3)),
        ("7 1 过期后2天", (7, 1, -2)),
        ("三十 七", (30, 7)),
        ("-1,1", (1, -1)),
    ],
)
def test_parse_leads(text: str, leads: tuple[int, ...]) -> None:
    assert plans.parse_leads(text) == leads


@pytest.mark.parametrize("text", ["", "明天", "400", "-31", "1 2 3 4 5 6 7", "abc"])
def test_parse_leads_refuses_politely(text: str) -> None:
    with pytest.raises(plans.ReminderError) as caught:
        plans.parse_leads(text)
    assert str(caught.value)


@pytest.mark.parametrize(
    ("text", "ok"),
    [("父亲", "父亲"), (" 大 姨 ", "大姨"), ("", None), ("110101195001011234", None),
     ("电话13800000000", None), ("我家最亲爱的老父亲大人啊", None)],
)
def test_labels_never_hold_id_numbers(text: str, ok: str | None) -> None:
    if ok is None:
        with pytest.raises(plans.ReminderError):
            plans.clean_label(text)
    else:
        assert plans.clean_label(text) == ok


# --- storage and 我已认证 ----------------------------------------------------------------------


def test_sends_before_the_subscription_are_not_planned(db) -> None:
    reminder = add(db, "2026-03-10", now=cn("2026-03-05T10:00"))
    assert [s.key for s in reminder.slots()] == ["1", "-1"]
    assert reminder.next_at == cn("2026-03-09T09:00")
    assert enqueue_due(db, cn("2026-03-05T10:00")).pending == 0


def test_same_label_replaces_and_the_limit_holds(db) -> None:
    first = add(db, "2026-03-10", label="父亲")
    second = add(db, "2026-05-10", label="父亲")
    assert second.id == first.id and second.due == dt.date(2026, 5, 10)
    for index in range(plans.MAX_REMINDERS_PER_USER - 1):
        add(db, "2026-05-10", label=f"家人{chr(0x4e00 + index)}")
    with pytest.raises(plans.ReminderError, match="最多"):
        add(db, "2026-05-10", label="再来一个")


@pytest.mark.parametrize(
    ("scheme", "city", "today", "due"),
    [
        ("enterprise", None, "2026-03-05", "2027-03-05"),       # rolling 12 months
        ("enterprise", None, "2024-02-29", "2025-02-28"),       # leap day clamps
        ("enterprise", "武汉", "2026-03-05", "2027-12-31"),      # calendar year
        ("resident", "北京", "2026-03-05", "2027-03-05"),        # national: rolling too
        ("resident", "葫芦岛", "2026-03-05", "2026-12-31"),      # next half-year window's end
        ("survivor", "呼和浩特", "2026-03-05", "2026-04-15"),    # next monthly window's end
    ],
)
def test_certified_rolls_forward_from_today(db, scheme, city, today, due) -> None:
    reminder = add(db, "2026-01-31", scheme=scheme, city=city, now=cn("2020-01-01T10:00"))
    now = cn(f"{today}T15:30")
    updated = rm.certified(db, reminder.id, now)
    assert updated.due.isoformat() == due
    assert updated.last_date == now.date()
    assert all(s.at > now for s in updated.slots())
    assert updated.next_at == updated.slots()[0].at


def test_certified_cancels_a_queued_send_for_the_old_due_date(db) -> None:
    reminder = add(db, "2026-03-10")
    enqueue_due(db, cn("2026-03-03T09:00"))
    (row,) = pending_outbox(db, cn("2026-03-03T09:00"))
    rm.certified(db, reminder.id, cn("2026-03-03T09:01"))
    assert skip_reason(db, row, cn("2026-03-03T09:02")) == "certified"


def test_snooze_sends_once_tomorrow_and_merges_with_a_planned_send(db) -> None:
    reminder = add(db, "2026-03-10")
    enqueue_due(db, cn("2026-03-03T09:00"))
    when = rm.snooze(db, reminder.id, cn("2026-03-03T09:30"))
    assert when == cn("2026-03-04T09:00")
    assert enqueue_due(db, cn("2026-03-04T09:00")).pending == 1
    # Snoozed on the eve of a planned send: one message that day, not two.
    rm.snooze(db, reminder.id, cn("2026-03-08T12:00"))
    stats = enqueue_due(db, cn("2026-03-09T09:00"))
    assert (stats.pending, stats.skipped) == (1, 1)
    assert outbox(db)[-2:] == [(1, "2026-03-10", "snooze:2026-03-09", "skipped", "superseded"),
                               (1, "2026-03-10", "1", "pending", None)]


def test_snooze_after_stop_sends_only_tomorrow(db) -> None:
    reminder = add(db, "2026-03-10")
    enqueue_due(db, cn("2026-02-08T09:00"))  # the 30-day send
    rm.stop(db, reminder.id, cn("2026-02-08T10:00"))
    # 稍后提醒 under that old message, after the 7-day send was due while stopped.
    when = rm.snooze(db, reminder.id, cn("2026-03-06T10:00"))
    assert when == cn("2026-03-07T09:00")
    assert enqueue_due(db, cn("2026-03-06T10:01")).pending == 0
    assert enqueue_due(db, cn("2026-03-07T09:00")).pending == 1
    assert outbox(db)[-1][2] == "snooze:2026-03-07"


def test_stop_resume_delete(db) -> None:
    reminder = add(db, "2026-03-10")
    assert rm.stop_all(db, 1, CREATED) == 1
    assert enqueue_due(db, cn("2026-03-03T09:00")).pending == 0
    resumed = rm.resume(db, reminder.id, cn("2026-03-05T10:00"))
    assert [s.key for s in resumed.slots()] == ["1", "-1"]
    assert rm.delete(db, reminder.id) and rm.get_reminder(db, reminder.id) is None
    with pytest.raises(plans.ReminderError, match="删除"):
        rm.certified(db, reminder.id, CREATED)


# --- the outbox: catch-up and idempotence ----------------------------------------------------


def test_enqueue_is_idempotent_and_moves_next_at(db) -> None:
    reminder = add(db, "2026-03-10")
    now = cn("2026-02-08T09:00")
    assert enqueue_due(db, now).pending == 1
    assert enqueue_due(db, now).pending == 0
    assert rm.get_reminder(db, reminder.id).next_at == cn("2026-03-03T09:00")
    # Even if next_at were rewound (a crash before its update), the key stops a second row.
    db.conn.execute("UPDATE reminders SET next_at = '2026-02-08 09:00'")
    assert enqueue_due(db, now).pending == 0
    assert len(outbox(db)) == 1


def test_changing_leads_back_and_forth_sends_nothing_twice(db) -> None:
    reminder = add(db, "2026-03-10")
    enqueue_due(db, cn("2026-03-03T09:00"))
    # A plan rebuilt from a moment before the 7-day send (a clock set back, say) plans it
    # again; its outbox key already exists, so it is not queued a second time.
    rm.set_leads(db, reminder.id, (7, 1), cn("2026-03-03T08:00"))
    assert rm.get_reminder(db, reminder.id).next_at == cn("2026-03-03T09:00")
    assert enqueue_due(db, cn("2026-03-03T09:00")).pending == 0
    assert [r[2] for r in outbox(db)] == ["30", "7"]


@pytest.mark.parametrize(
    ("now", "expected", "next_at"),
    [
        # Back two days after the 30-day send: still useful, sent once.
        ("2026-02-10T10:00", [("30", "pending", None)], "2026-03-03 09:00"),
        # Back after the 7-day send came due: only the newest goes out.
        ("2026-03-04T10:00", [("30", "skipped", "superseded"), ("7", "pending", None)],
         "2026-03-09 09:00"),
        # Back long after everything: nothing worth sending, all recorded.
        ("2026-03-25T10:00", [("30", "skipped", "superseded"), ("7", "skipped", "superseded"),
                              ("1", "skipped", "superseded"), ("-1", "skipped", "stale")],
         None),
    ],
)
def test_catch_up_after_a_downtime(db, now: str, expected: list[tuple],
                                   next_at: str | None) -> None:
    add(db, "2026-03-10")
    enqueue_due(db, cn(now))
    assert [r[2:] for r in outbox(db)] == expected
    assert db.conn.execute("SELECT next_at FROM reminders").fetchone() == (next_at,)


def test_interrupted_sends_are_recovered_once(db) -> None:
    add(db, "2026-03-10")
    now = cn("2026-02-08T09:00")
    enqueue_due(db, now)
    (row,) = pending_outbox(db, now)
    mark_sending(db, row.id, now)
    assert pending_outbox(db, now) == []
    assert recover_interrupted(db, now) == 1
    assert recover_interrupted(db, now) == 0
    (again,) = pending_outbox(db, now)
    assert again.id == row.id and again.attempts == 1
    mark_sent(db, row.id, 42, now)
    assert pending_outbox(db, now) == [] and outbox_counts(db) == {"sent": 1}


def test_a_queued_send_made_old_by_a_newer_one_is_skipped(db) -> None:
    add(db, "2026-03-10")
    enqueue_due(db, cn("2026-02-08T09:00"))
    (old,) = pending_outbox(db, cn("2026-02-08T09:00"))
    enqueue_due(db, cn("2026-03-03T09:00"))  # the 30-day send never went out
    assert skip_reason(db, old, cn("2026-03-03T09:00")) == "superseded"


# --- group notices ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "schedule"),
    [
        ("每月1日 09:00 本月开始认证", (1, 9, 0, "本月开始认证")),
        ("每月15号 下午3点半 记得认证", (15, 15, 30, "记得认证")),
        ("每个月十号10点 社区集中认证", (10, 10, 0, "社区集中认证")),
        ("每月31日 请按时认证", (31, 9, 0, "请按时认证")),
        ("每月1日 9点30 大家好", (1, 9, 30, "大家好")),
        ("每月1日 10号之前请认证", (1, 9, 0, "10号之前请认证")),  # a number, not a time
    ],
)
def test_parse_group_schedule(text: str, schedule: tuple) -> None:
    parsed = plans.parse_group_schedule(text)
    assert (parsed.day, parsed.hour, parsed.minute, parsed.text) == schedule


@pytest.mark.parametrize(
    ("text", "words"),
    [("每月1日 23:00 晚安", "早上8点"), ("每月32日 你好", "1到31"), ("每月1日 09:00", "缺提醒内容"),
     ("明天提醒大家", "格式"), ("每月1日 6点 早", "早上8点")],
)
def test_parse_group_schedule_refuses(text: str, words: str) -> None:
    with pytest.raises(plans.ReminderError, match=words):
        plans.parse_group_schedule(text)


def test_group_notice_on_the_31st_falls_on_month_ends(db) -> None:
    schedule = plans.parse_group_schedule("每月31日 10:00 月底了")
    moments = plans.group_occurrences(schedule, cn("2028-01-01T00:00"), cn("2028-04-30T23:59"))
    assert [m.date().isoformat() for m in moments] == ["2028-01-31", "2028-02-29",
                                                       "2028-03-31", "2028-04-30"]
    group = notices.add_group_reminder(db, chat_id=-5, created_by=1, schedule=schedule,
                                  now=cn("2028-02-29T10:30"))
    assert group.next_at == cn("2028-03-31T10:00")
    assert enqueue_due(db, cn("2028-03-31T10:00")).pending == 1
    assert enqueue_due(db, cn("2028-03-31T10:00")).pending == 0
    rm.migrate_chat(db, -5, -1005)
    assert notices.get_group_reminder(db, group.id).chat_id == -1005
    assert db.conn.execute("SELECT chat_id FROM reminder_outbox").fetchall() == [(-1005,)]


# --- texts -----------------------------------------------------------------------------------


def test_reminder_text_names_the_person_the_date_and_the_city_channel_first(db) -> None:
    reminder = add(db, "2026-03-10", label="母亲", city="锦州")
    text = reminder_text(reminder, dt.date(2026, 3, 3))
    assert "母亲" in text and "2026年3月10日" in text and "还有7天" in text
    assert text.index("辽宁人社") < text.index("掌上12333")
    late = reminder_text(reminder, dt.date(2026, 3, 11))
    assert "已经过了1天" in late and "暂停发放" in late
    mine = reminder_text(add(db, "2026-03-10", label="自己"), dt.date(2026, 3, 10))
    assert "您的" in mine and "今天" in mine


@pytest.mark.parametrize(
    ("today", "words"),
    [
        ("2026-02-08", "请在2026年3月10日之前办好"),
        ("2026-03-03", "请在2026年3月10日之前办好"),
        ("2026-03-09", "请今天就去办"),  # the day before: today, not tomorrow
        ("2026-03-10", "请今天就去认证"),
        ("2026-03-11", "已经过了1天"),
    ],
)
def test_reminder_text_asks_before_the_due_date(db, today: str, words: str) -> None:
    reminder = add(db, "2026-03-10")
    text = reminder_text(reminder, dt.date.fromisoformat(today))
    assert words in text
    assert "按时" not in text and "也算" not in text


@pytest.mark.parametrize(("today", "opens"), [("2026-03-16", True), ("2026-04-08", False)])
def test_a_reminder_before_its_window_opens_says_when_it_does(db, today, opens) -> None:
    # 呼和浩特 survivors certify on days 1–15 of each month: on 3月16日 a certification would
    # count for March, not for the window that ends on 4月15日.
    reminder = add(db, "2026-04-15", scheme="survivor", city="呼和浩特")
    text = reminder_text(reminder, dt.date.fromisoformat(today))
    assert ("2026年4月1日起再去办" in text) is opens
    assert "请在2026年4月15日之前办好" in text


@settings(max_examples=100, deadline=None)
@given(offset=st.integers(-30, 365))
def test_no_reminder_text_says_the_due_day_is_fine(offset: int) -> None:
    due = dt.date(2026, 3, 10)
    line = status_line(due, due - dt.timedelta(days=offset))
    assert "按时" not in line and "最后一天" not in line
    if offset >= 2:
        assert "请在2026年3月10日之前办好" in line
    elif offset in (0, 1):
        assert "今天" in line


def test_reminder_text_late_uses_the_due_month(db) -> None:
    late = reminder_text(add(db, "2026-03-10", label="父亲"), dt.date(2026, 4, 2))
    assert "可能会从2026年3月起暂停发放" in late


@pytest.mark.parametrize("city", ["上海", "广州"])
def test_reminder_text_in_passive_cities(db, city: str) -> None:
    text = reminder_text(add(db, "2026-03-10", city=city), dt.date(2026, 3, 20))
    assert "本市户籍" in text and "例如非本市户籍" in text
    assert "已暂停" not in text


# --- the sender, with a stand-in bot ---------------------------------------------------------


class FakeBot:
    def __init__(self, *errors: Exception):
        self.errors = list(errors)
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id, text, reply_markup=None):
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((chat_id, text))

        class Message:
            message_id = len(self.sent)

        return Message()


@pytest.mark.parametrize(
    ("errors", "status", "reason_start", "sent"),
    [
        ([], "sent", None, 1),
        ([NetworkError("reset")], "sent", None, 1),
        ([NetworkError("a"), NetworkError("b"), NetworkError("c")], "pending", "network", 0),
        ([Forbidden("blocked")], "failed", "blocked", 0),
        ([BadRequest("Chat not found")], "failed", "bad request", 0),
    ],
)
async def test_sender_outcomes(db, errors, status, reason_start, sent) -> None:
    reminder = add(db, "2026-03-10")
    clock = FixedClock(cn("2026-02-08T09:00"))
    bot = FakeBot(*errors)
    sender = ReminderSender(bot, db, clock, rate=None, retry_delays=(0, 0))
    stats = await sender.run_once()
    assert isinstance(stats, SendStats)
    ((row_status, reason),) = db.conn.execute(
        "SELECT status, reason FROM reminder_outbox").fetchall()
    assert row_status == status
    assert (reason or "").startswith(reason_start or "")
    assert len(bot.sent) == sent
    if reason_start == "blocked":
        assert rm.get_reminder(db, reminder.id).stopped == "blocked"


async def test_sender_gives_up_after_repeated_network_rounds(db) -> None:
    add(db, "2026-03-10")
    clock = FixedClock(cn("2026-02-08T09:00"))
    sender = ReminderSender(FakeBot(*[NetworkError("down")] * 100), db, clock, rate=None,
                            retry_delays=())
    for _ in range(10):
        await sender.run_once()
        clock.moment += dt.timedelta(minutes=11)
    ((status, attempts),) = db.conn.execute(
        "SELECT status, attempts FROM reminder_outbox").fetchall()
    assert (status, attempts) == ("failed", 5)


async def test_sender_is_silent_at_night(db) -> None:
    add(db, "2026-03-10", now=cn("2026-01-01T10:00"))
    bot = FakeBot()
    await ReminderSender(bot, db, FixedClock(cn("2026-02-08T22:00")), rate=None).run_once()
    assert bot.sent == [] and outbox(db) == []
    await ReminderSender(bot, db, FixedClock(cn("2026-02-09T08:00")), rate=None).run_once()
    assert len(bot.sent) == 1  # the morning after: sent once, a day late


# --- python -m bot reminders due -------------------------------------------------------------


@pytest.fixture
def db_file(db, tmp_path):
    add(db, "2026-03-10", label="父亲", city="锦州")
    add(db, "2026-03-04", user=2, leads=(1,))
    notices.add_group_reminder(db, chat_id=-7, created_by=2,
                          schedule=plans.parse_group_schedule("每月3日 10:00 记得认证"),
                          now=CREATED)
    enqueue_due(db, cn("2026-03-03T09:00"))
    return tmp_path / "bot.db"


def test_cli_due_json(db_file, capsys) -> None:
    assert main(["reminders", "due", "--today", "2026-03-03", "--db", str(db_file),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["date"] == "2026-03-03" and out["count"] == 3
    assert [(i["kind"], i["slot"], i["status"]) for i in out["items"]] == [
        ("personal", "7", "pending"), ("personal", "1", "pending"),
        ("group", "monthly", "planned")]


def test_cli_due_text(db_file, capsys) -> None:
    assert main(["reminders", "due", "--today", "2026-03-09", "--db", str(db_file)]) == 0
    out = capsys.readouterr().out
    assert "1 条" in out and "父亲" in out and "提前1天" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["reminders", "due", "--today", "2026-02-30"], "--today"),
        (["reminders", "due", "--today", "2026-03-01", "--db", "/nonexistent/bot.db"], "不存在"),
        (["reminders"], "请给出操作"),
        (["reminders", "due", "--bogus"], "unrecognized"),
    ],
)
def test_cli_errors_are_one_line_exit_2(argv, message, db_file, capsys) -> None:
    if "--db" not in argv and argv[1:2] == ["due"]:
        argv = [*argv, "--db", str(db_file)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# --- typed requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "asks"), [
    ("认证提醒", True),
    ("提醒我认证", True),
    ("到时候提醒我一下", True),
    ("能不能到期提醒我", True),
    ("怎么设置提醒？", True),
    ("帮我设置认证到期提醒", True),
    ("短信提醒我认证", False),  # a message someone got
    ("认证提醒短信是真的吗", False),
    ("社区提醒我认证", False),
    ("提醒老人认证的话怎么说", False),
])
def test_a_typed_request_for_a_reminder(text, asks) -> None:
    assert asks_for_reminder(text) is asks


def test_the_keyboard_button_is_a_request_too() -> None:
    assert asks_for_reminder(BUTTON_REMIND)


async def test_a_request_whose_answer_was_lost_is_not_sent_again(db) -> None:
    add(db, "2026-03-10")
    clock = FixedClock(cn("2026-02-08T09:00"))

    class SlowBot(FakeBot):
        async def send_message(self, chat_id, text, reply_markup=None):
            await super().send_message(chat_id, text, reply_markup)  # delivered ...
            try:
                raise httpx.ReadTimeout("read")
            except httpx.ReadTimeout as exc:  # ... and the answer lost
                raise TimedOut() from exc

    bot = SlowBot()
    sender = ReminderSender(bot, db, clock, rate=None, retry_delays=(0, 0))
    for _ in range(3):
        await sender.run_once()
        clock.moment += dt.timedelta(minutes=11)
    assert len(bot.sent) == 1
    assert db.conn.execute("SELECT status FROM reminder_outbox").fetchall() == [("unknown",)]


async def test_a_connection_never_made_is_tried_again(db) -> None:
    add(db, "2026-03-10")
    clock = FixedClock(cn("2026-02-08T09:00"))
    refused = NetworkError("connect")
    refused.__cause__ = httpx.ConnectError("refused")
    bot = FakeBot(refused)
    await ReminderSender(bot, db, clock, rate=None, retry_delays=(0,)).run_once()
    assert len(bot.sent) == 1


@pytest.mark.parametrize(("text", "when", "body"), [
    ("每月十号 下午三点 社区集中认证", "每月10日 15:00", "社区集中认证"),
    ("每月2日 上午十点半 认证", "每月2日 10:30", "认证"),
    ("每月1日 9.30 认证开始啦", "每月1日 09:30", "认证开始啦"),
    ("每月1日 9点钟 认证", "每月1日 09:00", "认证"),
])
def test_group_notice_times_as_workers_write_them(text, when, body) -> None:
    schedule = plans.parse_group_schedule(text)
    assert (schedule.describe(), schedule.text) == (when, body)


@pytest.mark.parametrize(("text", "says"), [("每月1日和15日 9点 认证开始啦", "分开设"),
                                           ("每月5日 8:00-11:00 社区集中认证", "开始的时间")])
def test_two_days_or_a_time_range_are_refused_not_misread(text, says) -> None:
    with pytest.raises(plans.ReminderError, match=says):
        plans.parse_group_schedule(text)


def test_the_same_group_notice_twice_is_one(db) -> None:
    schedule = plans.parse_group_schedule("每月1日 09:00 记得认证")
    notices.add_group_reminder(db, chat_id=-9, created_by=1, schedule=schedule, now=CREATED)
    with pytest.raises(plans.ReminderError, match="已经有了"):
        notices.add_group_reminder(db, chat_id=-9, created_by=1, schedule=schedule, now=CREATED)
