"""Broadcast core: audiences, composing, pacing, the outbox and resuming after a crash."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from zoneinfo import ZoneInfo

import pytest

from bot.broadcasts.audience import Audience, Recipient, count_audience, select_recipients
from bot.broadcasts.compose import BroadcastError, Composed, parse_composed, parse_when
from bot.broadcasts.runner import MAX_ATTEMPTS, Broadcaster, eta_seconds
from bot.broadcasts.store import (
    BLOCKED,
    CANCELLED,
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    SCHEDULED,
    SENDING,
    SENT,
    SKIPPED,
    UNKNOWN,
    cancel_broadcast,
    confirm_delivery,
    create_broadcast,
    due_broadcasts,
    ensure_broadcast_tables,
    get_broadcast,
    progress,
    recover_in_flight,
    running_broadcasts,
    start_scheduled,
)
from bot.cli import main as cli_main
from bot.db.connection import open_database
from bot.delivery.errors import Blocked, Migrated, RetryLater, SendFailed
from bot.delivery.pacing import RateLimiter, TokenBucket

ZONE = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ZONE)


def _now() -> dt.datetime:
    return NOW


@pytest.fixture
def db(db):
    ensure_broadcast_tables(db)
    return db


def seed(db, users=(), groups=()) -> None:
    """users: (user_id, city, scheme, active); groups: (chat_id, active, migrated_to)."""
    for n, (user_id, city, scheme, active) in enumerate(users):
        db["users"].insert({"user_id": user_id, "chat_id": user_id, "first_name": "x",
                            "city": city, "scheme": scheme, "active": active,
                            "first_seen": f"2026-01-01T00:00:{n % 60:02d}"})
    for n, (chat_id, active, migrated_to) in enumerate(groups):
        db["groups"].insert({"chat_id": chat_id, "title": f"群{n}", "autoanswer": 0,
                             "active": active, "migrated_to": migrated_to,
                             "added_at": f"2026-01-01T00:00:{n % 60:02d}"})


def make(db, audience: Audience, text: str = "通知", **kwargs) -> int:
    return create_broadcast(db, created_by=1, origin_chat_id=1, composed=Composed(text, ()),
                            audience=audience, audience_label=audience.label(), now=NOW,
                            **kwargs)


class FakeTelegram:
    """A send function that records deliveries and fails as told, per chat."""

    def __init__(self, faults: dict[int, list[Exception]] | None = None,
                 hang_after: int | None = None) -> None:
        self.faults = faults or {}
        self.delivered: list[int] = []
        self.attempts: list[int] = []
        self.hang_after = hang_after
        self.hanging: list[int] = []

    async def __call__(self, recipient: Recipient, message) -> int:
        self.attempts.append(recipient.chat_id)
        queue = self.faults.get(recipient.chat_id)
        if queue:
            raise queue.pop(0)
        if self.hang_after is not None and len(self.delivered) >= self.hang_after:
            self.hanging.append(recipient.chat_id)
            await asyncio.Event().wait()  # the process dies before this request finishes
        await asyncio.sleep(0)
        self.delivered.append(recipient.chat_id)
        return len(self.delivered)


def statuses(db, broadcast_id: int) -> dict[int, str]:
    return dict(db.execute("select chat_id, status from broadcast_outbox where broadcast_id = ?",
                           [broadcast_id]).fetchall())


# ------------------------------------------------------------------ audiences

USERS = [(101, "锦州", "enterprise", 1), (102, "锦州", "rural", 1), (103, "广州", "enterprise", 1),
         (104, "锦州", "enterprise", 0), (105, None, None, 1)]
GROUPS = [(-4001, 1, None), (-4002, 0, None), (-4003, 0, -1004003), (-1004003, 1, None)]


@pytest.mark.parametrize(("audience", "expected"), [
    (Audience("users"), [101, 102, 103, 105]),
    (Audience("groups"), [-4001, -1004003]),
    (Audience("everyone"), [101, 102, 103, 105, -4001, -1004003]),
    (Audience("city", "锦州"), [101, 102]),
    (Audience("scheme", "enterprise"), [101, 103]),
    (Audience("group", "-4001"), [-4001]),
    (Audience("city", "北京"), []),
])
def test_audience_selects_active_recipients_once(db, audience, expected) -> None:
    seed(db, USERS, GROUPS)
    assert [r.chat_id for r in select_recipients(db, audience)] == expected
    assert count_audience(db, audience) == len(expected)


@pytest.mark.parametrize("key", ["users", "groups", "everyone", "city:锦州", "scheme:rural",
                                 "group:-1004001"])
def test_audience_key_round_trips(key) -> None:
    assert Audience.parse(key).key == key
    assert Audience.parse(key).label()


@pytest.mark.parametrize("key", ["nobody", "city", "scheme:", "group:123", "group:abc"])
def test_bad_audiences_are_rejected(key) -> None:
    with pytest.raises(ValueError):
        Audience.parse(key)


# ------------------------------------------------------------------ composing


@pytest.mark.parametrize(("raw", "text", "buttons"), [
    ("本月社区集中上门认证", "本月社区集中上门认证", ()),
    ("周五上午社区认证\n带身份证\n报名 | https://example.gov.cn/a",
     "周五上午社区认证\n带身份证", (("报名", "https://example.gov.cn/a"),)),
    ("通知\n官网｜https://si.12333.gov.cn\n问答 | http://a.cn/q?x=1",
     "通知", (("官网", "https://si.12333.gov.cn"), ("问答", "http://a.cn/q?x=1"))),
    ("价格 | 免费\n正文在后", "价格 | 免费\n正文在后", ()),  # not a link: stays text
])
def test_parse_composed(raw, text, buttons) -> None:
    composed = parse_composed(raw)
    assert composed == Composed(text, buttons)


@pytest.mark.parametrize(("raw", "problem"), [
    ("", "空"),
    ("报名 | https://a.cn", "空"),
    ("通知\n报名 | ftp://a.cn", "链接"),
    ("通知\n" + "\n".join(f"b{i} | https://a.cn/{i}" for i in range(7)), "最多"),
    ("字" * 4001, "太长"),
    ("通知\n" + "按" * 31 + " | https://a.cn", "太长"),
])
def test_parse_composed_problems(raw, problem) -> None:
    with pytest.raises(BroadcastError) as caught:
        parse_composed(raw)
    assert problem in str(caught.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-25 09:30", dt.datetime(2026, 11, 25, 9, 30)),
    ("2026/11/25 9:05", dt.datetime(2026, 11, 25, 9, 5)),
    ("11月25日 下午3点", dt.datetime(2026, 11, 25, 15, 0)),
    ("11-25", dt.datetime(2026, 11, 25, 9, 0)),
    ("明天 9:30", dt.datetime(2026, 11, 24, 9, 30)),
    ("明天上午9点半", dt.datetime(2026, 11, 24, 9, 30)),
    ("今天 15:00", dt.datetime(2026, 11, 23, 15, 0)),
    ("15:00", dt.datetime(2026, 11, 23, 15, 0)),
    ("8:00", dt.datetime(2026, 11, 24, 8, 0)),  # already past today: tomorrow
    ("30分钟后", dt.datetime(2026, 11, 23, 10, 30)),
    ("2 小时后", dt.datetime(2026, 11, 23, 12, 0)),
    # as a community worker types it (NOW is a Monday, 10:00)
    ("明天上午九点", dt.datetime(2026, 11, 24, 9, 0)),
    ("明早9点", dt.datetime(2026, 11, 24, 9, 0)),
    ("今晚8点", dt.datetime(2026, 11, 23, 20, 0)),
    ("半小时后", dt.datetime(2026, 11, 23, 10, 30)),
    ("本周六上午9点", dt.datetime(2026, 11, 28, 9, 0)),
    ("星期天下午3点", dt.datetime(2026, 11, 29, 15, 0)),
    ("下周一上午9点", dt.datetime(2026, 11, 30, 9, 0)),
    ("周一 9:00", dt.datetime(2026, 11, 30, 9, 0)),  # today's 9:00 has passed: next Monday
])
def test_parse_when(text, expected) -> None:
    when = parse_when(text, NOW)
    assert when == expected.replace(tzinfo=ZONE)


@pytest.mark.parametrize(("text", "problem"), [
    ("今天 8:00", "过去"), ("2026-02-30 9:00", "不存在"), ("25:00", "小时"),
    ("下周吧", "没看懂"), ("2027-01-30 9:00", "30 天"), ("0分钟后", "过去"),
])
def test_parse_when_problems(text, problem) -> None:
    with pytest.raises(BroadcastError) as caught:
        parse_when(text, NOW)
    assert problem in str(caught.value)


# ------------------------------------------------------------------ pacing


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, capacity=1, now=0.0)
    assert bucket.delay(0.0) == 0
    bucket.take()
    assert bucket.delay(0.0) == pytest.approx(0.5)
    assert bucket.delay(0.25) == pytest.approx(0.25)
    assert bucket.delay(0.5) == 0


def _admitted(limiter: RateLimiter, chats: list[int], seconds: float, step: float = 0.001) -> int:
    """How many of `chats` (cycled) the limiter lets through in `seconds` of simulated time."""
    sent, t, i = 0, 0.0, 0
    while t < seconds:
        chat = chats[i % len(chats)]
        if limiter.delay(chat, t) <= 0:
            limiter.take(chat, t)
            sent += 1
            i += 1
        t += step
    return sent


@pytest.mark.parametrize(("rate", "chats", "seconds", "low", "high"), [
    (25, list(range(1, 10_000)), 10, 250, 256),     # overall: 25/s plus a fifth-second burst
    (1000, [7], 10, 10, 11),                        # one private chat: 1/s
    (1000, [-4001], 120, 40, 41),                   # one group: 20/min
    (1000, [-1, -2, -3], 60, 60, 63),               # groups do not share their budgets
])
def test_rate_limiter_budgets(rate, chats, seconds, low, high) -> None:
    assert low <= _admitted(RateLimiter(rate, 0.0), chats, seconds) <= high


def test_pause_holds_every_chat() -> None:
    limiter = RateLimiter(100, 0.0)
    limiter.pause(5.0)
    assert limiter.delay(1, 1.0) == pytest.approx(4.0)
    assert limiter.delay(2, 5.0) == 0


def test_eta() -> None:
    assert eta_seconds(100, 25, None) == 4
    assert eta_seconds(100, 25, 10) == 10  # slower than configured: the observed pace
    assert eta_seconds(100, 25, 50) == 4   # never promises more than the limit


# ------------------------------------------------------------------ the outbox


async def test_every_recipient_once_and_rerun_sends_nothing(db) -> None:
    seed(db, [(i, "锦州", "enterprise", 1) for i in range(1, 41)])
    broadcast_id = make(db, Audience("users"))
    assert progress(db, broadcast_id).total == 40  # outbox written with the broadcast
    telegram = FakeTelegram()
    result = await Broadcaster(db, broadcast_id, telegram, rate=1000, now=_now).run()
    assert result.status == DONE
    assert sorted(telegram.delivered) == list(range(1, 41))
    row = get_broadcast(db, broadcast_id)
    assert (row["status"], row["sent"], row["total"]) == (DONE, 40, 40)
    again = FakeTelegram()
    assert (await Broadcaster(db, broadcast_id, again, rate=1000, now=_now).run()).status == DONE
    assert again.attempts == []


async def test_sending_is_paced(db) -> None:
    seed(db, [(i, None, None, 1) for i in range(1, 31)])
    broadcast_id = make(db, Audience("users"))
    started = time.monotonic()
    await Broadcaster(db, broadcast_id, FakeTelegram(), rate=50, now=_now).run()
    # 30 messages at 50/s with a 10-message head start: at least 0.4 s
    assert time.monotonic() - started >= 0.38


async def test_resume_after_crash_resends_only_what_was_in_flight(db) -> None:
    seed(db, [(i, None, None, 1) for i in range(1, 61)])
    broadcast_id = make(db, Audience("users"))
    first = FakeTelegram(hang_after=20)
    run = asyncio.create_task(Broadcaster(db, broadcast_id, first, rate=1000, now=_now,
                                          concurrency=4).run())
    while len(first.hanging) < 4:
        await asyncio.sleep(0.01)
    for task in asyncio.all_tasks():  # the crash: nothing of the first process survives
        if task is not asyncio.current_task():
            task.cancel()
    await asyncio.gather(run, return_exceptions=True)
    assert set(statuses(db, broadcast_id).values()) == {SENT, SENDING, PENDING}
    assert running_broadcasts(db) == [broadcast_id]

    second = FakeTelegram()
    result = await Broadcaster(db, broadcast_id, second, rate=1000, now=_now).run()
    assert result.status == DONE
    assert not set(first.delivered) & set(second.delivered)  # settled rows: never again
    # in flight at the crash (they may have arrived): sent again, so nobody is left out
    assert set(first.hanging) <= set(second.delivered)
    assert sorted(first.delivered + second.delivered) == list(range(1, 61))
    final = progress(db, broadcast_id)
    assert (final.sent, final.unconfirmed, final.remaining, final.resent) == (60, 0, 0, 4)


async def test_flood_control_is_honoured_and_retried(db) -> None:
    seed(db, [(i, None, None, 1) for i in range(1, 6)])
    broadcast_id = make(db, Audience("users"))
    telegram = FakeTelegram({3: [RetryLater(0.3)]})
    started = time.monotonic()
    await Broadcaster(db, broadcast_id, telegram, rate=1000, now=_now, concurrency=1).run()
    assert time.monotonic() - started >= 0.3  # everyone waited, not only chat 3
    assert sorted(telegram.delivered) == [1, 2, 3, 4, 5]
    assert telegram.attempts.count(3) == 2
    # Flood control is never the row's fault: it uses up none of its attempts.
    assert db.execute("select attempts from broadcast_outbox where chat_id = 3").fetchone() == (0,)


async def test_endless_flood_control_gives_up(db) -> None:
    seed(db, [(1, None, None, 1)])
    broadcast_id = make(db, Audience("users"))
    telegram = FakeTelegram({1: [RetryLater(0, "502", transient=True)] * (MAX_ATTEMPTS + 2)})
    # each retry of the same chat waits for its 1/s budget: keep the test short
    await Broadcaster(db, broadcast_id, telegram, rate=1000, now=_now, max_attempts=3).run()
    assert telegram.attempts == [1] * 3
    assert statuses(db, broadcast_id) == {1: FAILED}


async def test_flood_control_never_gives_up(db) -> None:
    seed(db, [(1, None, None, 1)])
    broadcast_id = make(db, Audience("users"))
    telegram = FakeTelegram({1: [RetryLater(0)] * 2})
    await Broadcaster(db, broadcast_id, telegram, rate=1000, now=_now, max_attempts=1).run()
    assert telegram.delivered == [1]
    assert statuses(db, broadcast_id) == {1: SENT}


async def test_flood_control_leaves_the_attempts_for_network_errors(db) -> None:
    seed(db, [(1, None, None, 1)])
    broadcast_id = make(db, Audience("users"))
    telegram = FakeTelegram({1: [RetryLater(0)] * 4 + [RetryLater(0, "502", transient=True)]})
    await Broadcaster(db, broadcast_id, telegram, rate=1000, now=_now, max_attempts=2).run()
    assert telegram.delivered == [1]
    assert statuses(db, broadcast_id) == {1: SENT}


async def test_blocked_recipients_are_deactivated(db) -> None:
    seed(db, [(1, None, None, 1), (2, None, None, 1)], [(-4001, 1, None)])
    broadcast_id = make(db, Audience("everyone"))
    telegram = FakeTelegram({2: [Blocked("bot was blocked by the user")],
                             -4001: [Blocked("bot was kicked")], 1: [SendFailed("bad")]})
    await Broadcaster(db, broadcast_id, telegram, rate=1000, now=_now).run()
    assert statuses(db, broadcast_id) == {1: FAILED, 2: BLOCKED, -4001: BLOCKED}
    assert db.execute("select user_id, active from users order by user_id").fetchall() == \
        [(1, 1), (2, 0)]
    assert db.execute("select active from groups").fetchone() == (0,)
    assert count_audience(db, Audience("everyone")) == 1


@pytest.mark.parametrize("already_listed", [False, True])
async def test_migrated_group_is_followed_once(db, already_listed) -> None:
    groups = [(-4001, 1, None)] + ([(-1004001, 1, None)] if already_listed else [])
    seed(db, [], groups)
    broadcast_id = make(db, Audience("groups"))
    telegram = FakeTelegram({-4001: [Migrated(-1004001)]})
    await Broadcaster(db, broadcast_id, telegram, rate=1000, now=_now).run()
    assert telegram.delivered == [-1004001]
    expected = {-4001: SKIPPED, -1004001: SENT} if already_listed else {-1004001: SENT}
    assert statuses(db, broadcast_id) == expected
    assert db.execute("select migrated_to from groups where chat_id = -4001").fetchone() == \
        (-1004001,)


async def test_migrating_twice_fails(db) -> None:
    seed(db, [], [(-4001, 1, None)])
    broadcast_id = make(db, Audience("groups"))
    telegram = FakeTelegram({-4001: [Migrated(-1004001)], -1004001: [Migrated(-1009999)]})
    await Broadcaster(db, broadcast_id, telegram, rate=1000, now=_now).run()
    assert statuses(db, broadcast_id) == {-1004001: FAILED}


async def test_cancel_stops_the_rest(db) -> None:
    seed(db, [(i, None, None, 1) for i in range(1, 101)])
    broadcast_id = make(db, Audience("users"))
    telegram = FakeTelegram()
    broadcaster = Broadcaster(db, broadcast_id, telegram, rate=100, now=_now)
    run = asyncio.create_task(broadcaster.run())
    while len(telegram.delivered) < 10:
        await asyncio.sleep(0.01)
    assert cancel_broadcast(db, broadcast_id, by=1, now=NOW)
    broadcaster.cancel()
    result = await run
    assert result.status == CANCELLED
    counts = progress(db, broadcast_id)
    assert counts.sent == len(telegram.delivered) < 40
    assert counts.sent + counts.cancelled == 100
    assert get_broadcast(db, broadcast_id)["status"] == CANCELLED
    assert not cancel_broadcast(db, broadcast_id, by=1, now=NOW)  # only once


async def test_pause_keeps_it_resumable(db) -> None:
    seed(db, [(i, None, None, 1) for i in range(1, 31)])
    broadcast_id = make(db, Audience("users"))
    telegram = FakeTelegram()
    broadcaster = Broadcaster(db, broadcast_id, telegram, rate=100, now=_now)
    run = asyncio.create_task(broadcaster.run())
    while len(telegram.delivered) < 5:
        await asyncio.sleep(0.01)
    broadcaster.pause()
    assert (await run).status == "paused"
    assert get_broadcast(db, broadcast_id)["status"] == RUNNING
    rest = FakeTelegram()
    await Broadcaster(db, broadcast_id, rest, rate=1000, now=_now).run()
    assert sorted(telegram.delivered + rest.delivered) == list(range(1, 31))


def test_scheduled_broadcast_gets_its_outbox_when_due(db) -> None:
    seed(db, [(1, None, None, 1)])
    broadcast_id = make(db, Audience("users"), scheduled_at=NOW + dt.timedelta(hours=1))
    assert get_broadcast(db, broadcast_id)["status"] == SCHEDULED
    assert progress(db, broadcast_id).total == 0
    assert due_broadcasts(db, NOW) == []
    seed(db, [(2, None, None, 1)])  # subscribed after it was scheduled: still reached
    later = NOW + dt.timedelta(hours=1)
    assert due_broadcasts(db, later) == [broadcast_id]
    assert start_scheduled(db, broadcast_id, later)
    assert not start_scheduled(db, broadcast_id, later)
    assert progress(db, broadcast_id).total == 2
    assert get_broadcast(db, broadcast_id)["status"] == RUNNING


def test_outbox_rows_are_unique_per_recipient(db) -> None:
    seed(db, [(1, None, None, 1)])
    broadcast_id = make(db, Audience("users"))
    db.execute("insert or ignore into broadcast_outbox (broadcast_id, chat_id, kind, status) "
               "values (?, 1, 'user', 'pending')", [broadcast_id])
    assert progress(db, broadcast_id).total == 1


# ------------------------------------------------------------------ command line


def test_cli_list_and_status(db, tmp_path, capsys) -> None:
    seed(db, [(1, None, None, 1), (2, None, None, 1)])
    broadcast_id = make(db, Audience("users"), text="本月社区集中上门认证")
    db.execute("update broadcast_outbox set status = ?, error = 'blocked' where chat_id = 2",
               [BLOCKED])
    path = str(tmp_path / "bot.db")
    assert cli_main(["broadcast", "list", "--db", path]) == 0
    out = capsys.readouterr().out
    assert f"#{broadcast_id}" in out and "所有订阅用户" in out and "本月社区" in out
    assert cli_main(["broadcast", "status", str(broadcast_id), "--db", path, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["progress"]["blocked"] == 1 and data["progress"]["remaining"] == 1
    assert data["problems"] == [{"chat_id": 2, "status": "blocked", "error": "blocked"}]
    assert cli_main(["broadcast", "list", "--db", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == broadcast_id


@pytest.mark.parametrize(("args", "message"), [
    (["broadcast", "status", "999"], "没有编号为 999"),
    (["broadcast", "status", "x"], "编号应是正整数"),
    (["broadcast", "list", "--db", "/nonexistent/bot.db"], "不存在"),
    (["broadcast"], "required"),
])
def test_cli_errors_are_one_line(db, tmp_path, capsys, args, message) -> None:
    if "--db" not in args:
        args = [*args, "--db", str(tmp_path / "bot.db")] if args[1:] else args
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err


def test_cli_on_a_database_without_broadcasts(tmp_path, capsys) -> None:
    open_database(tmp_path / "bot.db").close()
    assert cli_main(["broadcast", "list", "--db", str(tmp_path / "bot.db")]) == 0
    assert "还没有" in capsys.readouterr().out


def test_in_flight_at_a_crash_is_resent_unless_a_reply_confirmed_it(db) -> None:
    seed(db, [(1, None, None, 1), (2, None, None, 1), (3, None, None, 1)])
    broadcast_id = make(db, Audience("users"))
    db.execute("update broadcast_outbox set status = ? where chat_id in (1, 2)", [SENDING])
    db.execute("update broadcast_outbox set status = ? where chat_id = 3", [UNKNOWN])
    # what the restart does first: the rows in flight wait to be sent again ...
    assert recover_in_flight(db, broadcast_id, _now()) == 2
    # ... and a reply to the first copy (chat 2) proves it arrived before it went out again
    text = get_broadcast(db, broadcast_id)["text"]
    assert confirm_delivery(db, 2, text, _now()) == 1
    telegram = FakeTelegram()
    asyncio.run(Broadcaster(db, broadcast_id, telegram, rate=10, now=_now).run())
    assert telegram.attempts == [1]  # the unknown one (a lost answer) is never resent
    assert statuses(db, broadcast_id) == {1: SENT, 2: SENT, 3: UNKNOWN}
    final = progress(db, broadcast_id)
    assert (final.resent, final.confirmed) == (1, 1)
