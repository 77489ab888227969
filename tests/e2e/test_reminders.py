"""Reminders end to end: the real `python -m bot run` against the local Bot API server, with
time moved through BOT_CLOCK_FILE.

One bot process serves the flow, button, group and fault tests (each uses its own users);
the crash test runs its own server and processes.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from pathlib import Path

import pytest

from bot.db.connection import open_database
from bot.reminders import plans
from bot.reminders import store as rm
from bot.reminders.due import enqueue_due, mark_sending
from tests.botapi import BotApiServer, BotProcess

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TICK = "0.1"
QUIET = 0.6  # long enough for several sender ticks: "nothing more arrived"
GROUP, SUPERGROUP = -4101, -1004101


def set_clock(path: Path, moment: dt.datetime | str) -> None:
    text = moment if isinstance(moment, str) else moment.strftime("%Y-%m-%dT%H:%M:%S")
    path.write_text(text, encoding="utf-8")


def query(db_path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def reminders_to(server: BotApiServer, chat_id: int, since: int) -> list[dict]:
    return [m for m in server.sent_messages(chat_id, since=since)
            if m.get("text", "").startswith("⏰ 认证提醒")]


def expect_one_reminder(server: BotApiServer, chat_id: int, clock: Path,
                        moment: dt.datetime) -> dict:
    """Move the clock to `moment`; exactly one reminder arrives, and no second one."""
    mark = server.mark()
    set_clock(clock, moment)
    server.wait_for_messages(chat_id, since=mark, timeout=10,
                             predicate=lambda m: m.get("text", "").startswith("⏰ 认证提醒"))
    time.sleep(QUIET)
    found = reminders_to(server, chat_id, mark)
    assert len(found) == 1, [m["text"] for m in found]
    return found[0]


def expect_nothing(server: BotApiServer, chat_id: int, clock: Path,
                   moment: dt.datetime) -> None:
    mark = server.mark()
    set_clock(clock, moment)
    time.sleep(QUIET * 2)
    assert server.sent_messages(chat_id, since=mark) == []


def press(server: BotApiServer, user: int, message: dict, data: str) -> list[dict]:
    """Press a button and return the bot's new message in reply."""
    server.press_button(user, message, data)
    return server.wait_for_messages(message["chat"]["id"])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("reminders_e2e")
    clock = base / "clock.txt"
    set_clock(clock, "2025-12-01T10:00:00")
    db_path = base / "bot.db"
    with BotApiServer() as server:
        env = {"DATABASE_PATH": str(db_path), "BOT_CLOCK_FILE": str(clock),
               "REMINDER_TICK_SECONDS": TICK}
        with BotProcess(server, ["-m", "bot", "run"], env=env,
                        log_path=base / "bot.log") as bot:
            yield server, bot, clock, db_path
        assert "Traceback" not in bot.log(), bot.log_tail(60)


@pytest.fixture
def ctx(world):
    server, bot, _clock, _db_path = world
    server.reset()
    yield world
    assert bot.returncode is None, bot.log_tail(60)
    assert "Traceback" not in bot.log(), bot.log_tail(60)


def subscribe(server: BotApiServer, user: int, *, city: str, date_text: str,
              label_data: str | None = None, label_text: str | None = None) -> dict:
    """Walk the /remind flow; returns the confirmation message (with its buttons)."""
    (scheme_msg,) = server.ask(user, "/remind")
    assert "第1步" in scheme_msg["text"]
    (city_msg,) = press(server, user, scheme_msg, "rmf:s:enterprise")
    assert "第2步" in city_msg["text"]
    (date_msg,) = server.ask(user, city)
    assert "第3步" in date_msg["text"]
    (label_msg,) = server.ask(user, date_text)
    assert "第4步" in label_msg["text"]
    if label_data:
        (confirm,) = press(server, user, label_msg, label_data)
    else:
        (confirm,) = server.ask(user, label_text or "自己")
    assert confirm["text"].startswith("请确认")
    return confirm


def test_subscribe_then_each_lead_day_and_every_button(ctx) -> None:
    server, _bot, clock, db_path = ctx
    user = 7100001
    set_clock(clock, "2025-12-01T10:00:00")
    confirm = subscribe(server, user, city="锦州", date_text="2025年3月10日",
                        label_data="rmf:l:1")
    due = plans.due_for("enterprise", "锦州", last=dt.date(2025, 3, 10),
                     today=dt.date(2025, 12, 1)).due
    assert due == dt.date(2026, 3, 10)
    text = confirm["text"]
    assert "父亲" in text and "2026年3月10日" in text
    assert "2026年2月8日 上午9点（提前30天）" in text
    assert "2026年3月11日 上午9点（过期后1天）" in text
    (saved,) = press(server, user, confirm, "rmf:ok")
    assert "设置好了" in saved["text"] and "2026年2月8日" in saved["text"]
    ((rid,),) = query(db_path, "SELECT id FROM reminders WHERE user_id = ?", (user,))
    slots = plans.plan(due)

    # Nothing a minute early; exactly one at 09:00 of each lead day.
    expect_nothing(server, user, clock, slots[0].at - dt.timedelta(minutes=1))
    first = expect_one_reminder(server, user, clock, slots[0].at)
    assert "父亲" in first["text"] and "还有30天" in first["text"] and "辽宁人社" in first["text"]

    week = expect_one_reminder(server, user, clock, slots[1].at)
    assert "还有7天" in week["text"]
    (snoozed,) = press(server, user, week, f"rm:snz:{rid}")
    assert "明天" in snoozed["text"] and "上午9点" in snoozed["text"]
    assert server.get_message(user, week["message_id"]).get("reply_markup") is None
    again = expect_one_reminder(server, user, clock, slots[1].at + dt.timedelta(days=1))
    assert "还有6天" in again["text"]

    expect_one_reminder(server, user, clock, slots[2].at)
    late = expect_one_reminder(server, user, clock, slots[3].at)
    assert "已经过了1天" in late["text"] and "暂停发放" in late["text"]

    # 我已认证 rolls the due date forward from "today" (2026-03-11).
    (done,) = press(server, user, late, f"rm:done:{rid}")
    assert "2027年3月11日" in done["text"], done["text"]
    new_slots = plans.plan(dt.date(2027, 3, 11))
    nxt = expect_one_reminder(server, user, clock, new_slots[0].at)
    (stopped,) = press(server, user, nxt, f"rm:stop:{rid}")
    assert "已停止" in stopped["text"]
    expect_nothing(server, user, clock, new_slots[1].at)

    statuses = query(db_path, "SELECT slot, status FROM reminder_outbox WHERE ref_id = ? "
                              "AND kind = 'personal' ORDER BY id", (rid,))
    assert statuses == [("30", "sent"), ("7", "sent"), ("snooze:2026-03-04", "sent"),
                        ("1", "sent"), ("-1", "sent"), ("30", "sent")]

    # /myreminders shows it stopped, with a button to switch it back on.
    (listing,) = server.ask(user, "/myreminders")
    assert "已停止" in listing["text"]
    (resumed,) = press(server, user, listing, f"rm:on:{rid}")
    assert "已重新开启" in resumed["text"]
    (ended,) = server.ask(user, "/stop")
    assert "已停止全部1个提醒" in ended["text"]


def test_unknown_date_edit_and_delete(ctx) -> None:
    server, _bot, clock, db_path = ctx
    user = 7100002
    set_clock(clock, "2027-03-20T10:00:00")
    (scheme_msg,) = server.ask(user, "设置提醒")  # the keyboard button starts the same flow
    press(server, user, scheme_msg, "rmf:s:enterprise")
    (city_retry,) = server.ask(user, "火星")
    assert "没找到" in city_retry["text"]
    server.ask(user, "广州")
    (how,) = server.ask(user, "不知道")
    assert "12333" in how["text"]
    server.ask(user, "2026年5月1日")
    (confirm,) = server.ask(user, "大姨")
    assert "大姨" in confirm["text"]
    press(server, user, confirm, "rmf:ok")
    (row,) = query(db_path, "SELECT id, leads FROM reminders WHERE user_id = ?", (user,))
    reminder_id, leads = row
    assert leads == "30,7,1,-1"

    (listing,) = server.ask(user, "/myreminders")
    (choices,) = press(server, user, listing, f"rm:edit:{reminder_id}")
    (changed,) = press(server, user, choices, f"rm:lp:{reminder_id}:3")
    assert "提前7天、提前1天" in changed["text"]
    (listing,) = server.ask(user, "/myreminders")
    (choices,) = press(server, user, listing, f"rm:edit:{reminder_id}")
    (prompt,) = press(server, user, choices, f"rm:lt:{reminder_id}")
    assert "用空格或逗号隔开" in prompt["text"]
    (bad,) = server.ask(user, "明天")
    assert "没看懂" in bad["text"]
    (stopped,) = server.ask(user, "算了")  # as in every flow, not "请只写数字"
    assert "已取消" in stopped["text"]
    (listing,) = server.ask(user, "/myreminders")
    (choices,) = press(server, user, listing, f"rm:edit:{reminder_id}")
    press(server, user, choices, f"rm:lt:{reminder_id}")
    (custom,) = server.ask(user, "15 3 0")
    assert "到期当天" in custom["text"]
    assert query(db_path, "SELECT leads FROM reminders WHERE id = ?", (reminder_id,)) == [
        ("15,3,0",)]

    (listing,) = server.ask(user, "/myreminders")
    (sure,) = press(server, user, listing, f"rm:del:{reminder_id}")
    server.press_button(user, sure, f"rm:delok:{reminder_id}")
    server.wait_for("editMessageText", since=server.last_mark)
    assert query(db_path, "SELECT count(*) FROM reminders WHERE user_id = ?", (user,)) == [(0,)]
    (empty,) = server.ask(user, "/myreminders")
    assert "还没有设置提醒" in empty["text"]
    (nothing,) = server.ask(user, "/stop")
    assert "没有正在提醒" in nothing["text"]
    # A flow button from a finished flow answers politely instead of doing nothing.
    (scheme_msg,) = server.ask(user, "/remind")
    (cancelled,) = server.ask(user, "/cancel")
    assert "已取消" in cancelled["text"]
    assert server.get_message(user, scheme_msg["message_id"]).get("reply_markup") is None
    mark = server.mark()  # an old client still shows the button: its press gets an answer
    server.forge_callback(user, scheme_msg, "rmf:s:resident")
    call = server.wait_for("answerCallbackQuery", since=mark)[0]
    assert "过期" in call.params.get("text", "")


def test_forget_deletes_everything_and_no_reminder_follows(ctx) -> None:
    server, _bot, clock, db_path = ctx
    user, other = 7100005, 7100006
    set_clock(clock, "2025-12-01T10:00:00")
    for who in (user, other):
        confirm = subscribe(server, who, city="锦州", date_text="2025年3月10日",
                            label_data="rmf:l:1")
        press(server, who, confirm, "rmf:ok")
        server.ask(who, "刷脸老是不过咋整")
    (sure,) = server.ask(user, "删除我的信息")  # typed, not only /forget
    assert "锦州" in sure["text"] and "认证提醒1个" in sure["text"]
    assert "问过的问题1条" in sure["text"] and "不能恢复" in sure["text"]
    mark = server.mark()
    server.press_button(user, sure, "fg:no")
    server.wait_for("editMessageText", since=mark)
    assert "什么都没删" in server.get_message(user, sure["message_id"])["text"]
    assert query(db_path, "SELECT count(*) FROM reminders WHERE user_id = ?", (user,)) == [(1,)]

    (sure,) = server.ask(user, "/forget")
    mark = server.mark()
    server.press_button(user, sure, "fg:yes")
    server.wait_for("editMessageText", since=mark)
    assert "已删除" in server.get_message(user, sure["message_id"])["text"]
    for table, column in (("users", "user_id"), ("reminders", "user_id"),
                          ("questions", "user_id"), ("reminder_outbox", "chat_id")):
        assert query(db_path, f"SELECT count(*) FROM {table} WHERE {column} = ?",
                     (user,)) == [(0,)], table
    (nothing,) = server.ask(user, "/myreminders")
    assert "还没有设置提醒" in nothing["text"]
    # The 30-day reminder day comes: the other user gets theirs, the forgotten one nothing.
    expect_one_reminder(server, other, clock, dt.datetime(2026, 2, 8, 9, 1))
    assert reminders_to(server, user, 0) == []


def test_group_notice_by_admins_follows_a_migration(ctx) -> None:
    server, _bot, clock, db_path = ctx
    admin, member = 7100003, 7100004
    set_clock(clock, "2027-03-20T10:00:00")
    server.join_group(GROUP, title="幸福社区", by_user_id=admin)
    server.set_chat_admins(GROUP, [admin])
    (refused,) = server.ask(member, "/remind 每月1日 09:00 大家好", chat_id=GROUP)
    assert "只有群管理员" in refused["text"]
    (night,) = server.ask(admin, "/remind 每月1日 23:00 大家好", chat_id=GROUP)
    assert "早上8点到晚上9点" in night["text"]
    (ok,) = server.ask(admin, "/remind 每月1日 09:00 本月请大家按时认证，不会的来社区",
                       chat_id=GROUP)
    assert "每月1日 09:00" in ok["text"] and "2027年4月1日" in ok["text"]
    (listing,) = server.ask(member, "/remind", chat_id=GROUP)
    assert "本月请大家按时认证" in listing["text"]

    server.migrate(GROUP, SUPERGROUP)
    mark = server.mark()
    set_clock(clock, "2027-04-01T09:00:00")
    (notice,) = server.wait_for_messages(SUPERGROUP, since=mark)
    assert "本月请大家按时认证" in notice["text"]
    time.sleep(QUIET)
    assert len(server.sent_messages(SUPERGROUP, since=mark)) == 1
    assert query(db_path, "SELECT chat_id FROM group_reminders") == [(SUPERGROUP,)]


def test_a_group_that_removed_the_bot_gets_its_notices_again_when_it_is_back(ctx) -> None:
    server, _bot, clock, db_path = ctx
    group, admin = -4102, 7100006
    set_clock(clock, "2027-03-20T10:00:00")
    server.join_group(group, title="和平社区", by_user_id=admin)
    server.set_chat_admins(group, [admin])
    server.ask(admin, "/remind 每月1日 09:00 本月请大家按时认证", chat_id=group)
    server.remove_bot_from_group(group)
    mark = server.mark()
    set_clock(clock, "2027-04-01T09:00:00")  # the notice meets 403: it stops, as does the group
    server.wait_for("sendMessage", lambda c: c.error_code == 403, chat_id=group, since=mark)
    time.sleep(QUIET)
    assert query(db_path, "SELECT active, stopped FROM group_reminders WHERE chat_id = ?",
                 (group,)) == [(0, "blocked")]
    with sqlite3.connect(db_path) as conn:  # what a broadcast's 403 does to the group
        conn.execute("UPDATE groups SET active = 0 WHERE chat_id = ?", (group,))

    set_clock(clock, "2027-04-10T10:00:00")
    mark = server.mark()
    server.add_bot_to_group(group, title="和平社区", by_user_id=admin)
    (welcome,) = server.wait_for_messages(group, since=mark)
    assert "每月1日 09:00" in welcome["text"] and "接着发" in welcome["text"]
    assert query(db_path, "SELECT active FROM groups WHERE chat_id = ?", (group,)) == [(1,)]
    time.sleep(QUIET)  # April's notice is not sent late
    assert len(server.sent_messages(group, since=mark)) == 1
    mark = server.mark()
    set_clock(clock, "2027-05-01T09:00:00")
    (notice,) = server.wait_for_messages(group, since=mark)
    assert "本月请大家按时认证" in notice["text"]


def _insert(db_path: Path, user: int, due: dt.date, created: dt.datetime,
            label: str = "自己", leads: tuple[int, ...] = plans.DEFAULT_LEADS) -> int:
    db = open_database(db_path)
    try:
        rm.ensure_reminder_tables(db)
        return rm.add_reminder(db, user_id=user, chat_id=user, label=label, scheme="enterprise",
                               city=None, last=None, due=due, now=created, leads=leads).id
    finally:
        db.close()


def test_flood_network_errors_and_a_block(ctx) -> None:
    server, _bot, clock, db_path = ctx
    user = 7100005
    due = dt.date(2028, 6, 30)
    set_clock(clock, "2028-01-02T10:00:00")
    leads = (30, 14, 7, 1, -1)
    reminder_id = _insert(db_path, user, due, dt.datetime(2028, 1, 2, 10, tzinfo=plans.CHINA),
                          leads=leads)
    slots = plans.plan(due, leads)

    server.fail_next("sendMessage", 429, retry_after=1, chat_id=user)
    expect_one_reminder(server, user, clock, slots[0].at)
    server.fail_next("sendMessage", 502, chat_id=user)
    expect_one_reminder(server, user, clock, slots[1].at)
    # Delivered, but the answer is lost: the bot cannot know, and never sends it a second time.
    server.disconnect_next("sendMessage", chat_id=user, processed=True)
    expect_one_reminder(server, user, clock, slots[2].at)
    failed = [c for c in server.calls("sendMessage", chat_id=user) if not c.ok]
    assert [c.error_code for c in failed if not c.dropped] == [429, 502]
    assert sum(c.dropped for c in server.calls("sendMessage", chat_id=user)) == 1

    server.block(user)
    mark = server.mark()
    set_clock(clock, slots[3].at)
    server.wait_for("sendMessage", lambda c: c.error_code == 403, chat_id=user, since=mark)
    time.sleep(QUIET)
    assert query(db_path, "SELECT active, stopped FROM reminders WHERE id = ?",
                 (reminder_id,)) == [(0, "blocked")]
    server.unblock(user)
    expect_nothing(server, user, clock, slots[4].at)
    assert query(db_path, "SELECT slot, status, attempts FROM reminder_outbox "
                          "WHERE ref_id = ? AND kind = 'personal' ORDER BY id",
                 (reminder_id,)) == [("30", "sent", 1), ("14", "sent", 1), ("7", "unknown", 1),
                                     ("1", "failed", 1)]


def test_send_in_flight_at_a_crash_is_sent_after_restart(tmp_path) -> None:
    clock, db_path = tmp_path / "clock.txt", tmp_path / "bot.db"
    now = dt.datetime(2026, 5, 20, 9, 0, tzinfo=plans.CHINA)
    created = dt.datetime(2026, 1, 1, 10, tzinfo=plans.CHINA)
    due_today = _insert(db_path, 7200001, dt.date(2026, 6, 19), created)      # 30-day slot now
    due_missed = _insert(db_path, 7200002, dt.date(2026, 6, 17), created)     # 2 days late
    superseded = _insert(db_path, 7200003, dt.date(2026, 5, 25), created)     # 30 and 7 passed
    stale = _insert(db_path, 7200004, dt.date(2026, 5, 1), created)           # -1 long gone
    # What a crash between the outbox write and the send leaves behind (the processes are
    # killed from outside in test_random_kills_lose_nothing_and_repeat_at_most_one_each).
    db = open_database(db_path)
    try:
        enqueue_due(db, now)
        ((in_flight,),) = db.conn.execute(
            "SELECT id FROM reminder_outbox WHERE ref_id = ? AND status = 'pending'",
            (due_today,)).fetchall()
        mark_sending(db, in_flight, now)
    finally:
        db.close()
    set_clock(clock, now)
    env = {"DATABASE_PATH": str(db_path), "BOT_CLOCK_FILE": str(clock),
           "REMINDER_TICK_SECONDS": TICK}
    with BotApiServer() as server:
        open_rows = query(db_path, "SELECT ref_id, status FROM reminder_outbox "
                                   "WHERE status IN ('pending', 'sending') ORDER BY ref_id")
        assert [status for _, status in open_rows].count("sending") == 1
        assert {ref for ref, _ in open_rows} == {due_today, due_missed, superseded}

        with BotProcess(server, ["-m", "bot", "run"], env=env,
                        log_path=tmp_path / "restart.log") as bot:
            for user in (7200001, 7200002, 7200003):
                server.wait_for_messages(user, since=0, timeout=15)
            time.sleep(QUIET)
            counts = {user: len(server.sent_messages(user)) for user in range(7200001, 7200005)}
            assert counts == {7200001: 1, 7200002: 1, 7200003: 1, 7200004: 0}
            assert "还有5天" in server.sent_messages(7200003)[0]["text"]  # the 7-day one
        assert "Traceback" not in bot.log(), bot.log_tail(60)

    rows = query(db_path, "SELECT ref_id, slot, status, reason FROM reminder_outbox "
                          "ORDER BY ref_id, id")
    assert rows == [
        (due_today, "30", "sent", None),
        (due_missed, "30", "sent", None),
        (superseded, "30", "skipped", "superseded"),
        (superseded, "7", "sent", None),
        (stale, "30", "skipped", "superseded"),
        (stale, "7", "skipped", "superseded"),
        (stale, "1", "skipped", "superseded"),
        (stale, "-1", "skipped", "stale"),
    ]


def test_random_kills_lose_nothing_and_repeat_at_most_one_each(tmp_path) -> None:
    """SIGKILL at random moments of a reminder run: every reminder arrives, and each kill
    repeats at most the one message that was in flight."""
    import random

    seed = int(time.time())
    rng = random.Random(seed)
    # 5 kills over 50 reminders (sent at 20/s): each run gets about a second of sending.
    kills, total = 5, 50
    clock, db_path = tmp_path / "clock.txt", tmp_path / "bot.db"
    now = dt.datetime(2026, 5, 20, 9, 0, tzinfo=plans.CHINA)
    created = dt.datetime(2026, 1, 1, 10, tzinfo=plans.CHINA)
    users = list(range(7300001, 7300001 + total))
    db = open_database(db_path)
    try:
        rm.ensure_reminder_tables(db)
        for user in users:  # each due for its 30-day reminder at 09:00 today
            rm.add_reminder(db, user_id=user, chat_id=user, label="自己", scheme="enterprise",
                            city=None, last=None, due=dt.date(2026, 6, 19), now=created)
    finally:
        db.close()
    set_clock(clock, now)
    env = {"DATABASE_PATH": str(db_path), "BOT_CLOCK_FILE": str(clock),
           "REMINDER_TICK_SECONDS": TICK}

    wanted = set(users)

    def to_users(call) -> bool:
        return call.ok and call.chat_id in wanted

    with BotApiServer() as server:
        # Telegram takes a moment to answer, so a kill can catch the message in flight.
        server.set_latency(0.02, "sendMessage")
        for run in range(kills):
            bot = BotProcess(server, ["-m", "bot", "run"], env=env,
                             log_path=tmp_path / f"run{run}.log")
            bot.start()
            try:
                # somewhere in this run's share of the work (the server's record, not a
                # sleep), then a random instant later
                arrived = sum(map(to_users, server.calls("sendMessage")))
                target = min(total - 1, arrived + rng.randint(1, total // kills))
                server.wait_for("sendMessage", to_users, count=target, timeout=30)
                time.sleep(rng.uniform(0, 0.1))
            finally:
                bot.kill()
        with BotProcess(server, ["-m", "bot", "run"], env=env,
                        log_path=tmp_path / "final.log") as bot:
            for user in users:  # each reminder, as the server receives it
                server.wait_for_messages(user, since=0, timeout=60)
            # what the last kill left in flight may come again a moment later: wait for the
            # outbox to settle rather than for a fixed time
            deadline = time.monotonic() + 30
            while query(db_path, "SELECT count(*) FROM reminder_outbox WHERE status != 'sent'"
                        ) != [(0,)] and time.monotonic() < deadline:
                time.sleep(0.05)
        assert "Traceback" not in bot.log(), bot.log_tail(60)
        per_user = {user: len(server.sent_messages(user)) for user in users}

    lost = [user for user, n in per_user.items() if n == 0]
    print(f"seed {seed}: {sum(per_user.values())} messages for {total} reminders")
    duplicates = sum(n - 1 for n in per_user.values() if n > 1)
    assert not lost, f"seed {seed}: lost {lost}"
    assert duplicates <= kills, f"seed {seed}: {duplicates} duplicates after {kills} kills"
    assert max(per_user.values()) <= 2, f"seed {seed}"
    statuses = query(db_path, "SELECT status, count(*) FROM reminder_outbox GROUP BY status")
    assert statuses == [("sent", total)], statuses
