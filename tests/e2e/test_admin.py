"""Admin tools end to end: the real `python -m bot run` against the local Bot API server.

Broadcast permissions and flow, Telegram's failures (429 bursts, blocked users, migrated
groups), a crash in the middle of a broadcast, /stats, /unanswered and /reload.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bot import KNOWLEDGE_DIR, PROJECT_DIR
from bot.db.connection import open_database
from tests.botapi import BotApiServer, BotProcess, RateLimit

ADMIN = 9001
GROUP_ADMIN = 9101
MEMBER = 9201
CLOCK = "2026-11-23T10:00:00"
CHANNELS_FIRST_LINE = "用手机认证，选一个官方渠道就行："
CHANNELS_QUESTION = "手机上有哪些认证渠道？用哪个APP认证？"

pytestmark = pytest.mark.bot(clock=CLOCK, own_knowledge=True, reset=True,
                             env={"ADMIN_IDS": str(ADMIN), "BROADCAST_RATE": "25"})


def bot_env(workdir: Path, db_name: str = "bot.db", rate: str = "25") -> dict[str, str]:
    return {"DATABASE_PATH": str(workdir / db_name), "ADMIN_IDS": str(ADMIN),
            "BOT_CLOCK_FILE": str(workdir / "clock"), "KNOWLEDGE_DIR": str(workdir / "knowledge"),
            "BROADCAST_RATE": rate}


def seed_users(db, ids, *, city: str | None = None, scheme: str | None = None) -> None:
    db.executemany(
        "insert or replace into users (user_id, chat_id, first_name, city, scheme, first_seen, "
        "last_seen, active) values (?, ?, '测试', ?, ?, '2026-01-01T00:00:00', "
        "'2026-01-01T00:00:00', 1)", [(i, i, city, scheme) for i in ids])


def seed_groups(db, ids) -> None:
    db.executemany("insert or replace into groups (chat_id, title, autoanswer, added_at, active) "
                   "values (?, ?, 0, '2026-01-01T00:00:00', 1)",
                   [(i, f"社区群{abs(i)}") for i in ids])


def buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data") or b.get("url", ""))
            for row in markup.get("inline_keyboard", []) for b in row]


def compose(server: BotApiServer, text: str, *, city: str | None = None,
            audience: str | None = None, user: int = ADMIN) -> tuple[dict, dict]:
    """/broadcast → audience → text; returns (preview, summary with the confirm buttons)."""
    (menu,) = server.ask(user, "/broadcast")
    assert "发给谁" in menu["text"]
    mark = server.mark()
    if city is not None:
        server.press_button(user, menu, "bc:a:city")
        server.wait_for("editMessageText", since=mark)
        (asked,) = server.ask(user, city)
    else:
        server.press_button(user, menu, f"bc:a:{audience}")
        asked = server.wait_for("editMessageText", since=mark)[0].result
    assert "请发送通知内容" in asked["text"]
    preview, summary = server.ask(user, text, count=2)
    return preview, summary


def wait_report(server: BotApiServer, timeout: float = 30, user: int = ADMIN) -> dict:
    (report,) = server.wait_for_messages(user, since=0, timeout=timeout,
                                         predicate=lambda m: "发送报告" in m["text"])
    return report


def delivered(server: BotApiServer, chat_ids, text: str) -> Counter:
    wanted = set(chat_ids)
    return Counter(m["chat"]["id"] for m in server.sent_messages()
                   if m["chat"]["id"] in wanted and m.get("text") == text)


def outbox(db, broadcast_id: int) -> Counter:
    return Counter(dict(db.execute("select status, count(*) from broadcast_outbox where "
                                   "broadcast_id = ? group by status", [broadcast_id])))


def last_broadcast(db) -> int:
    return db.execute("select max(id) from broadcasts").fetchone()[0]


# ------------------------------------------------------------------ permissions


@pytest.mark.parametrize("command", ["/broadcast", "/stats", "/unanswered", "/reload"])
def test_non_admins_are_refused_politely(server, command) -> None:
    (reply,) = server.ask(MEMBER, command)
    assert reply["text"].startswith("抱歉")
    assert not server.calls("sendPhoto")


def test_group_admin_broadcasts_and_pins_only_in_their_group(server, db) -> None:
    own, other = -4101, -4102
    server.join_group(own, title="幸福社区")
    server.join_group(other, title="别的社区")
    server.set_chat_admins(own, [GROUP_ADMIN])
    server.set_chat_admins(other, [MEMBER])

    (refusal,) = server.ask(MEMBER, "/broadcast", chat_id=own)
    assert "只有本群管理员" in refusal["text"]
    (invite,) = server.ask(GROUP_ADMIN, "/broadcast", chat_id=own)
    ((_, url),) = buttons(invite)
    assert url.endswith(f"?start=bc_{own}")
    (private,) = server.ask(GROUP_ADMIN, "/broadcast")
    assert "抱歉" in private["text"]  # not a bot admin: no subscriber-wide broadcasts
    (wrong,) = server.ask(GROUP_ADMIN, f"/start bc_{other}")
    assert "不是这个群的管理员" in wrong["text"]

    (asked,) = server.ask(GROUP_ADMIN, f"/start bc_{own}")
    assert "幸福社区" in asked["text"]
    text = "本周六上午社区集中上门认证，行动不便的老人请提前登记。\n登记表 | https://example.gov.cn/form"
    preview, summary = server.ask(GROUP_ADMIN, text, count=2)
    assert preview["text"].startswith("本周六上午") and \
        buttons(preview) == [("登记表", "https://example.gov.cn/form")]
    assert "确认发到群“幸福社区”" in summary["text"]
    mark = server.mark()
    server.press_button(GROUP_ADMIN, summary, "bc:pin")
    (notice,) = server.wait_for_messages(own, since=0, predicate=lambda m: "上门认证" in m["text"])
    server.wait_for("editMessageText", lambda c: "已经发到" in c.params["text"], since=mark,
                    timeout=15)
    status = server.get_message(GROUP_ADMIN, summary["message_id"])
    assert status["text"].startswith("✅") and "幸福社区" in status["text"]
    assert "已置顶" in status["text"]
    time.sleep(0.5)  # one status message, edited: nothing new in the admin's chat
    assert not server.sent_messages(GROUP_ADMIN, since=mark)
    assert not any(word in status["text"] for word in ("屏蔽", "订阅用户", "不确定"))
    assert server.pinned_messages(own) == [notice["message_id"]]
    assert not [m for m in server.sent_messages(other) if "上门认证" in m["text"]]


@pytest.mark.parametrize("how", ["bc:go", "bc:when"])
def test_admin_demoted_while_composing_cannot_send(server, db, how) -> None:
    group = -4103 if how == "bc:go" else -4104
    server.join_group(group, title="降级社区")
    server.set_chat_admins(group, [GROUP_ADMIN])
    (asked,) = server.ask(GROUP_ADMIN, f"/start bc_{group}")  # checked (and cached) here
    assert "请把通知的内容发给我" in asked["text"]
    before = last_broadcast(db)
    _, summary = server.ask(GROUP_ADMIN, "不该发出的通知", count=2)
    mark = server.mark()
    if how == "bc:go":
        server.set_chat_admins(group, [])  # demoted a moment later
        server.press_button(GROUP_ADMIN, summary, how)
        (edit,) = server.wait_for("editMessageText", since=mark)
        refusal = edit.params["text"]
    else:
        server.press_button(GROUP_ADMIN, summary, how)
        server.wait_for("editMessageText", since=mark)
        server.set_chat_admins(group, [])  # demoted while typing the time
        (reply,) = server.ask(GROUP_ADMIN, "明天 9:00")
        refusal = reply["text"]
    assert "已经不是这个群的管理员" in refusal
    assert server.calls("getChatMember", since=mark)
    time.sleep(0.5)
    assert last_broadcast(db) == before
    assert not [m for m in server.sent_messages(group) if "不该发出" in m.get("text", "")]


# ------------------------------------------------------------------ the broadcast flow


def test_preview_confirm_progress_and_report(server, db, workdir) -> None:
    users = list(range(710_001, 710_101))
    seed_users(db, users, city="预览市")
    text = "各位老人：本月起可在手机上完成认证，有问题随时问我。\n认证入口 | https://si.12333.gov.cn"
    preview, summary = compose(server, text, city="预览市")
    assert preview["text"] == text.splitlines()[0]
    assert buttons(preview) == [("认证入口", "https://si.12333.gov.cn")]
    assert "预览市的订阅用户，共 100 个" in summary["text"]
    assert [d for _, d in buttons(summary)] == ["bc:go", "bc:when", "bc:x"]  # no pin: not a group
    assert not delivered(server, users, preview["text"])

    server.set_rate_limit(True)  # Telegram's own limits from here on
    mark = server.mark()
    server.press_button(ADMIN, summary, "bc:go")
    server.wait_for_messages(users[0], since=mark)
    started = time.monotonic()
    (answer,) = server.ask(4242, "怎么认证")  # a user is not kept waiting by the broadcast
    assert time.monotonic() - started < 1.5
    assert "认证" in answer["text"]

    report = wait_report(server)
    assert "已送达 100" in report["text"] and "未送达 0" in report["text"]
    assert "不确定 0" in report["text"]
    counts = delivered(server, users, preview["text"])
    assert set(counts) == set(users) and set(counts.values()) == {1}
    assert server.stats()["rate_limited"] == 0
    # one progress message, edited while it ran, ending without its cancel button
    edits = [c for c in server.calls("editMessageText", since=mark)
             if c.params.get("message_id") == summary["message_id"]]
    assert any("剩余" in c.params["text"] for c in edits)
    assert "发送完毕" in edits[-1].params["text"]
    assert not buttons(server.get_message(ADMIN, summary["message_id"]))
    assert report["reply_to_message"]["message_id"] == summary["message_id"]

    broadcast_id = last_broadcast(db)
    result = subprocess.run([sys.executable, "-m", "bot", "broadcast", "status",
                             str(broadcast_id), "--json", "--db", str(workdir / "bot.db")],
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    audit = json.loads(result.stdout)
    assert (audit["status"], audit["created_by"], audit["sent"], audit["total"]) == \
        ("done", ADMIN, 100, 100)
    assert audit["buttons"] == [{"text": "认证入口", "url": "https://si.12333.gov.cn"}]


def test_cancel_before_sending(server, db) -> None:
    users = list(range(720_001, 720_004))
    seed_users(db, users, city="取消市")
    before = last_broadcast(db)
    _, summary = compose(server, "这条不会发出去", city="取消市")
    mark = server.mark()
    server.press_button(ADMIN, summary, "bc:x")
    (edit,) = server.wait_for("editMessageText", since=mark)
    assert "不发了" in edit.params["text"]
    time.sleep(0.3)
    assert not delivered(server, users, "这条不会发出去")
    assert last_broadcast(db) == before


def test_cancel_while_running(server, db) -> None:
    users = list(range(730_001, 730_201))
    seed_users(db, users, city="中途市")
    _, summary = compose(server, "中途取消的通知", city="中途市")
    server.press_button(ADMIN, summary, "bc:go")
    server.wait_for_messages(users[9], since=0, timeout=10)
    mark = server.mark()
    server.press_button(ADMIN, summary, "bc:stop:" + str(last_broadcast(db)))
    (answered,) = server.wait_for("answerCallbackQuery", since=mark)
    assert answered.params.get("text") == "已取消。"
    report = wait_report(server)
    assert "已取消" in report["text"]
    counts = outbox(db, last_broadcast(db))
    sent = sum(delivered(server, users, "中途取消的通知").values())
    assert counts["sent"] == sent < 200
    assert counts["cancelled"] == 200 - sent
    assert db.execute("select status, cancelled_by from broadcasts where id = ?",
                      [last_broadcast(db)]).fetchone() == ("cancelled", ADMIN)


def test_send_time_example_is_in_the_current_year(server, db, workdir) -> None:
    (workdir / "clock").write_text("2027-02-01T10:00:00", encoding="utf-8")
    seed_users(db, [741_001], city="示例市")
    _, summary = compose(server, "看看时间的例子", city="示例市")
    mark = server.mark()
    server.press_button(ADMIN, summary, "bc:when")
    (edit,) = server.wait_for("editMessageText", since=mark)
    assert "2027-02-02 09:30" in edit.params["text"] and "2026" not in edit.params["text"]
    (unclear,) = server.ask(ADMIN, "明天 吃过早饭")
    assert "2027-02-02 09:30" in unclear["text"]
    server.ask(ADMIN, "/cancel")


def test_scheduled_broadcast_waits_for_its_time(server, db, workdir) -> None:
    users = list(range(740_001, 740_006))
    seed_users(db, users, city="定时市")
    _, summary = compose(server, "定时发送的通知", city="定时市")
    server.press_button(ADMIN, summary, "bc:when")
    (confirmed,) = server.ask(ADMIN, "30分钟后")
    assert "已安排" in confirmed["text"] and "2026-11-23 10:30" in confirmed["text"]
    _, second = compose(server, "被取消的定时通知", city="定时市")
    server.press_button(ADMIN, second, "bc:when")
    (cancel_me,) = server.ask(ADMIN, "明天 9:00")
    mark = server.mark()
    server.press_button(ADMIN, cancel_me, buttons(cancel_me)[0][1])
    server.wait_for("editMessageText", since=mark)
    time.sleep(2.2)  # a scheduler tick passes: nothing is due yet
    assert not delivered(server, users, "定时发送的通知")

    (workdir / "clock").write_text("2026-11-24T09:30:00", encoding="utf-8")
    report = wait_report(server, timeout=15)
    assert "已送达 5" in report["text"]
    assert set(delivered(server, users, "定时发送的通知").values()) == {1}
    time.sleep(0.5)  # both were due at the same tick: the cancelled one would be under way
    assert not delivered(server, users, "被取消的定时通知")


def test_scheduled_notice_of_a_demoted_admin_is_not_sent(server, db, workdir) -> None:
    group = -4105
    server.add_bot_to_group(group, title="定时降级社区")
    server.set_chat_admins(group, [GROUP_ADMIN])
    server.ask(GROUP_ADMIN, f"/start bc_{group}")
    _, summary = server.ask(GROUP_ADMIN, "到时不该发出的通知", count=2)
    server.press_button(GROUP_ADMIN, summary, "bc:when")
    (confirmed,) = server.ask(GROUP_ADMIN, "30分钟后")
    assert "已安排" in confirmed["text"]
    broadcast_id = last_broadcast(db)
    server.set_chat_admins(group, [])  # demoted before the time comes
    mark = server.mark()
    (workdir / "clock").write_text("2026-11-23T10:31:00", encoding="utf-8")
    (refusal,) = server.wait_for_messages(GROUP_ADMIN, since=mark, timeout=15)
    assert f"#{broadcast_id}" in refusal["text"]
    assert "没能确认您还是这个群的管理员" in refusal["text"]
    assert db.execute("select status from broadcasts where id = ?",
                      [broadcast_id]).fetchone() == ("cancelled",)
    assert not [m for m in server.sent_messages(group) if "不该发出" in m.get("text", "")]


# ------------------------------------------------------------------ Telegram's failures


def test_429_bursts_are_honoured(server, db) -> None:
    users = list(range(750_001, 750_031))
    seed_users(db, users, city="限流市")
    _, summary = compose(server, "限流下的通知", city="限流市")
    # Telegram slower than the bot's 25/s: it answers with bursts of 429 retry_after=1
    server.set_rate_limit(RateLimit(overall_per_second=20, overall_burst=5))
    server.fail_next("sendMessage", 429, retry_after=1, times=2)
    server.press_button(ADMIN, summary, "bc:go")
    report = wait_report(server)
    assert "已送达 30" in report["text"]
    counts = delivered(server, users, "限流下的通知")
    assert set(counts) == set(users) and set(counts.values()) == {1}
    assert server.stats()["rate_limited"] > 0 and server.stats()["injected_errors"] == 2


def test_blocked_recipients_are_deactivated(server, db) -> None:
    users = list(range(760_001, 760_021))
    seed_users(db, users, city="屏蔽市")
    for user in users[:3]:
        server.block(user)
    _, summary = compose(server, "有人屏蔽了机器人", city="屏蔽市")
    server.press_button(ADMIN, summary, "bc:go")
    report = wait_report(server)
    assert "已送达 17" in report["text"] and "屏蔽或已退群 3" in report["text"]
    assert db.execute("select count(*) from users where city = '屏蔽市' and active = 0"
                      ).fetchone() == (3,)
    _, again = compose(server, "第二次", city="屏蔽市")
    assert "共 17 个" in again["text"]
    mark = server.mark()
    server.press_button(ADMIN, again, "bc:x")
    server.wait_for("editMessageText", since=mark)


def test_lost_answer_is_unknown_until_a_reply_confirms_it(server, db, workdir) -> None:
    users = list(range(765_001, 765_006))
    seed_users(db, users, city="回复市")
    _, summary = compose(server, "请回复收到", city="回复市")
    # Telegram delivers to users[2] but the answer is lost on the way back.
    server.disconnect_next("sendMessage", chat_id=users[2], processed=True)
    server.press_button(ADMIN, summary, "bc:go")
    report = wait_report(server)
    assert "已送达 4" in report["text"] and "未送达 0" in report["text"]
    assert "不确定 1" in report["text"] and "未确认" not in report["text"]
    broadcast_id = last_broadcast(db)
    (notice,) = [m for m in server.sent_messages(users[2]) if m["text"] == "请回复收到"]
    server.send_text(users[2], "收到", reply_to_message_id=notice["message_id"])
    server.wait_for_messages(users[2])
    deadline = time.monotonic() + 10
    while outbox(db, broadcast_id).get("unknown") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert outbox(db, broadcast_id) == Counter({"sent": 5})
    result = subprocess.run([sys.executable, "-m", "bot", "broadcast", "status",
                             str(broadcast_id), "--json", "--db", str(workdir / "bot.db")],
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=30)
    audit = json.loads(result.stdout)
    assert (audit["sent"], audit["unconfirmed"]) == (5, 0)
    assert (audit["progress"]["confirmed"], audit["progress"]["unconfirmed"]) == (1, 0)


def test_migrated_group_is_followed(server, db) -> None:
    db.execute("delete from groups")
    old, new, plain = -4201, -1004201, -4202
    seed_groups(db, [old, plain])
    server.add_chat(old, title="老群")
    server.add_chat(plain, title="普通群")
    server.migrate(old, new)
    _, summary = compose(server, "发给所有群", audience="groups")
    assert "共 2 个" in summary["text"]
    server.press_button(ADMIN, summary, "bc:go")
    report = wait_report(server)
    assert "已送达 2" in report["text"]
    assert delivered(server, [old, new, plain], "发给所有群") == Counter({new: 1, plain: 1})
    assert db.execute("select migrated_to, active from groups where chat_id = ?",
                      [old]).fetchone() == (new, 0)
    assert db.execute("select active from groups where chat_id = ?", [new]).fetchone() == (1,)


def in_flight(db_path: Path) -> int:
    """Rows a kill left `sending`: what the restart sends again (the only possible repeats)."""
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        return conn.execute("select count(*) from broadcast_outbox where status = 'sending'"
                            ).fetchone()[0]
    finally:
        conn.close()


def report_numbers(report: dict) -> dict[str, int]:
    return {name: int(re.search(rf"{name} (\d+)", report["text"]).group(1))
            for name in ("已送达", "未送达", "不确定")}


def test_repeated_random_kills_lose_nothing_and_repeat_only_what_was_in_flight(
        tmp_path) -> None:
    """SIGKILL at 5 random moments of one broadcast: everyone gets it, each kill repeats at
    most the messages that were in flight at that moment (at this pace, one at most unless
    two requests overlapped), and the one progress message carries on to one report.

    (This also covers what a separate single-kill test did: every bot start costs about 3 s
    of CPU, so the crash tests are kept to the starts they need.)"""
    import random

    seed = int(time.time())
    rng = random.Random(seed)
    kills = 5
    shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")
    (tmp_path / "clock").write_text(CLOCK, encoding="utf-8")
    users = list(range(780_001, 780_041))
    db_path = tmp_path / "kills.db"
    database = open_database(db_path)
    seed_users(database.conn, users, city="多次重启市")
    database.close()
    env = bot_env(tmp_path, "kills.db", rate="20")
    text = "多次重启也不会丢的通知"
    repeatable: list[int] = []  # per kill: rows in flight, which the restart sends again

    def to_users(call) -> bool:
        return call.chat_id in users and call.params.get("text") == text

    with BotApiServer() as server:
        server.set_latency(0.05, "sendMessage")  # a request takes a moment: kills can catch it
        for run in range(kills):
            bot = BotProcess(server, ["-m", "bot", "run"], env=env,
                             log_path=tmp_path / f"{run}.log")
            bot.start()
            try:
                if run == 0:
                    _, summary = compose(server, text, city="多次重启市")
                    server.press_button(ADMIN, summary, "bc:go")
                # a few more arrive in this run (the server's record, not a sleep), then the
                # kill comes at a random instant within the next sends
                target = min(len(users) - 3, sum(map(to_users, server.calls("sendMessage")))
                             + rng.randint(1, 5))
                server.wait_for("sendMessage", to_users, count=target, timeout=30)
                time.sleep(rng.uniform(0, 0.15))
            finally:
                bot.kill()
            repeatable.append(in_flight(db_path))
        with BotProcess(server, ["-m", "bot", "run"], env=env, log_path=tmp_path / "end.log"):
            report = wait_report(server, timeout=60)
        counts = delivered(server, users, text)
        reports = [m for m in server.sent_messages(ADMIN) if "发送报告" in m["text"]]
        progress_ids = {c.params["message_id"] for c in server.calls("editMessageText")
                        if "通知 #" in c.params["text"]}
    lost = set(users) - set(counts)
    repeats = sum(counts.values()) - len(counts)
    print(f"seed {seed}: {repeats} repeated after {kills} kills; in flight at each: {repeatable}")
    assert not lost, f"seed {seed}: lost {sorted(lost)}"
    assert repeats <= sum(repeatable), f"seed {seed}: {counts.most_common(3)} {repeatable}"
    assert max(counts.values()) <= 2, f"seed {seed}"
    assert report_numbers(report) == {"已送达": len(users), "未送达": 0, "不确定": 0}, \
        f"seed {seed}: {report['text']}"
    assert len(reports) == 1
    assert progress_ids == {summary["message_id"]}  # one progress message through every restart
    # the report says how many went out twice because of a crash (maybe received twice)
    resent = re.search(r"其中 (\d+) 条发送时进程中断", report["text"])
    assert repeats <= (int(resent.group(1)) if resent else 0) <= sum(repeatable), report["text"]


# ------------------------------------------------------------------ statistics and knowledge


def test_stats_text_and_chart(server, db) -> None:
    db.execute("delete from feedback")
    db.execute("delete from questions")
    rows = ([("2026-11-20T09:00:00+08:00", "answer", "channels-overview")] * 6
            + [("2026-11-20T09:00:00+08:00", "suggest", None)] * 2
            + [("2026-11-22T09:00:00+08:00", "decline", None)] * 2
            + [("2026-10-01T09:00:00+08:00", "answer", "channels-overview")] * 5)  # too old
    db.executemany("insert into questions (at, chat_id, chat_type, user_id, text, kind, "
                   "entry_id, score) values (?, 1, 'private', 1, '问题', ?, ?, 0.9)", rows)
    db.execute("insert into feedback (question_id, user_id, useful, at) select id, 1, 1, at "
               "from questions where kind = 'answer' and at > '2026-11' limit 3")
    (text, chart) = server.ask(ADMIN, "/stats", count=2, timeout=60)  # first use builds fonts
    assert "提问 10 次" in text["text"]
    assert "直接回答 60%（6）" in text["text"] and "没能回答 20%（2）" in text["text"]
    assert "👍 3" in text["text"] and CHANNELS_QUESTION in text["text"]
    assert chart["photo"][-1]["width"] == 900 and chart["photo"][-1]["height"] == 400
    assert server.calls("sendPhoto")[-1].files["photo"] > 5_000


def test_unanswered_lists_declined_and_downvoted(server, db) -> None:
    db.execute("delete from feedback")
    db.execute("delete from questions")
    rows = ([("养老金什么时候涨", "decline")] * 3 + [("养老金什么时候涨？", "decline")]
            + [("社保卡丢了怎么补", "decline")] * 2 + [("怎么认证", "answer")] * 4)
    db.executemany("insert into questions (at, chat_id, chat_type, user_id, text, kind, "
                   "entry_id, score) values ('2026-11-22T09:00:00+08:00', 1, 'private', 1, ?, "
                   "?, null, 0.1)", rows)
    db.execute("insert into feedback (question_id, user_id, useful, at) select id, 1, 0, at "
               "from questions where kind = 'answer' limit 1")
    (reply,) = server.ask(ADMIN, "/unanswered")
    lines = reply["text"].splitlines()
    assert lines[1].startswith("1. 养老金什么时候涨") and "4 次" in lines[1]
    assert lines[2].startswith("2. 社保卡丢了怎么补") and "2 次" in lines[2]
    assert lines[3].startswith("3. 怎么认证") and "👎 1" in lines[3]


def test_reload_applies_edits_and_rejects_broken_files(server, workdir) -> None:
    path = workdir / "knowledge" / "entries" / "channels.yaml"
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original.replace(CHANNELS_FIRST_LINE, "【新版】" + CHANNELS_FIRST_LINE),
                        encoding="utf-8")
        server.send_text(ADMIN, "/reload")
        server.wait_for_messages(ADMIN, timeout=60, predicate=lambda m: "已重新加载" in m["text"])
        (answer,) = server.ask(4343, CHANNELS_QUESTION)
        assert "【新版】" in answer["text"]

        path.write_text(original.replace("  - id: channels-overview", "  - id: [broken"),
                        encoding="utf-8")
        server.send_text(ADMIN, "/reload")
        (rejected,) = server.wait_for_messages(ADMIN, timeout=60,
                                               predicate=lambda m: "没有更新" in m["text"])
        assert "entries/channels.yaml" in rejected["text"]
        (still,) = server.ask(4343, CHANNELS_QUESTION)
        assert "【新版】" in still["text"]  # the knowledge in use before the broken edit

        path.write_text(original, encoding="utf-8")
        regions = workdir / "knowledge" / "regions"
        regions.rename(regions.with_name("regions-moved"))  # no region data at all
        server.send_text(ADMIN, "/reload")
        (rejected,) = server.wait_for_messages(ADMIN, timeout=60,
                                               predicate=lambda m: "没有更新" in m["text"])
        assert "regions" in rejected["text"]
        (still,) = server.ask(4343, "我在北京，养老金认证怎么弄")
        assert "出了点问题" not in still["text"] and "北京" in still["text"]
    finally:
        path.write_text(original, encoding="utf-8")
        moved = workdir / "knowledge" / "regions-moved"
        if moved.exists():
            moved.rename(workdir / "knowledge" / "regions")
