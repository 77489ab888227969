"""Groups end to end: greeting, privacy advice, ID numbers, skipped questions, group /stats.

The real `python -m bot run` against the local Bot API server.
"""

from __future__ import annotations

import time

import pytest

from tests.botapi import wait_for_row

ADMIN = 9001  # the bot's admin
GROUP_ADMIN = 9301
MEMBER = 9302
VALID_ID = "11010519491231002X"
CLOCK = "2026-11-23T10:00:00"

pytestmark = pytest.mark.bot(clock=CLOCK, own_knowledge=True, reset=True,
                             env={"ADMIN_IDS": str(ADMIN)})


def test_greets_once_with_a_three_step_setup(server) -> None:
    group = -5001
    mark = server.mark()
    server.add_bot_to_group(group, title="幸福社区老年群")
    (greeting,) = server.wait_for_messages(group, since=mark)
    text = greeting["text"]
    assert "养老金认证助手" in text and "@我" in text
    for step, command in enumerate(("/autoanswer", "/remind", "/broadcast"), 1):
        assert f"{step}. 发 {command}" in text
    assert "隐私模式" not in text and len(text) < 300
    time.sleep(1.0)  # my_chat_member and new_chat_members: still one greeting
    assert len(server.sent_messages(group)) == 1
    server.set_chat_admins(group, [GROUP_ADMIN])  # promotions are not greeted again
    server.remove_bot_from_group(group)
    time.sleep(0.5)
    assert len(server.sent_messages(group)) == 1


def test_autoanswer_advice_is_what_admins_can_do(server) -> None:
    group = -5002
    server.join_group(group)
    server.set_chat_admins(group, [GROUP_ADMIN], bot_is_admin=False)
    (enabled,) = server.ask(GROUP_ADMIN, "/autoanswer on", chat_id=group)
    text = enabled["text"]
    assert "已开启" in text and "隐私模式" not in text
    assert "@我" in text and "回复我的消息" in text and "/ask" in text
    assert "设为本群管理员" in text
    server.set_chat_admins(group, [GROUP_ADMIN], bot_is_admin=True)
    (again,) = server.ask(GROUP_ADMIN, "/autoanswer on", chat_id=group)
    assert "每条消息" in again["text"] and "设为本群管理员" not in again["text"]
    (helped,) = server.ask(MEMBER, "/help", chat_id=group)
    assert "隐私模式" not in helped["text"]


def test_id_number_is_deleted_when_the_bot_may(server, db, workdir) -> None:
    group = -5003
    server.join_group(group)
    server.set_chat_admins(group, [GROUP_ADMIN])  # the bot is an admin: it may delete
    posted = server.send_text(MEMBER, f"我的身份证{VALID_ID}，帮我查查认证", chat_id=group)
    (notice,) = server.wait_for_messages(group)
    assert "已经把那条消息删掉了" in notice["text"]
    assert VALID_ID not in notice["text"] and "1101" not in notice["text"]
    (deleted,) = server.wait_for("deleteMessage", chat_id=group)
    assert int(deleted.params["message_id"]) == posted["message_id"]
    assert server.get_message(group, posted["message_id"]) is None
    time.sleep(0.5)
    stored = "\n".join(db.iterdump())
    assert VALID_ID not in stored
    assert VALID_ID not in (workdir / "bot.log").read_text(encoding="utf-8")


def test_id_number_sender_is_asked_to_delete_when_the_bot_may_not(server, db) -> None:
    group = -5004
    server.join_group(group)
    server.set_chat_admins(group, [GROUP_ADMIN], bot_is_admin=False)
    mention = f"@{server.bot_user['username']}"
    posted = server.send_text(MEMBER, f"{mention} 我的卡号 6222 0212 3456 7890 123 认证用",
                              chat_id=group)
    (notice,) = server.wait_for_messages(group)
    assert "没有删除消息的权限" in notice["text"] and "长按" in notice["text"]
    assert notice["reply_to_message"]["message_id"] == posted["message_id"]
    assert "6222" not in notice["text"]
    assert not server.calls("deleteMessage")
    assert server.get_message(group, posted["message_id"]) is not None


def test_skipped_questions_are_counted_and_shown_to_group_admins(server, db) -> None:
    group = -5005
    server.join_group(group, title="幸福社区")
    server.set_chat_admins(group, [GROUP_ADMIN])
    server.ask(GROUP_ADMIN, "/autoanswer on", chat_id=group)
    (answered,) = server.ask(MEMBER, "我妈在外地怎么认证", chat_id=group)
    assert "依据：" in answered["text"]
    mark = server.mark()
    server.send_text(MEMBER, "刷脸老是不过咋整", chat_id=group)  # not sure enough: no reply
    server.send_text(MEMBER, "今天天气不错", chat_id=group)  # chatter: not counted
    wait_for_row(db, "select 1 from questions where chat_id = ? and kind = 'skipped'", (group,))
    assert not server.sent_messages(group, since=mark)
    (row,) = db.execute("select text, entry_id from questions where chat_id = ? and "
                        "kind = 'skipped'", [group]).fetchall()
    assert row == ("刷脸老是不过咋整", "face-fail-repeated")

    (refused,) = server.ask(MEMBER, "/stats", chat_id=group)
    assert refused["text"].startswith("抱歉") and "管理员" in refused["text"]
    (stats,) = server.ask(GROUP_ADMIN, "/stats", chat_id=group)
    text = stats["text"]
    assert "幸福社区" in text and "问了我 2 个" in text
    assert "我回答了 1 个" in text and "没有回答 1 个" in text
    assert "刷脸老是不过咋整" in text
    assert "通知：发到本群 0 条" in text and "定期提醒：发到本群 0 次" in text
    assert not server.calls("sendPhoto")
    assert "已屏蔽" not in text and "订阅用户" not in text

    (private,) = server.ask(ADMIN, "/stats")  # the bot admin's /stats is unchanged
    assert "订阅用户" in private["text"]


def test_forget_in_a_group_points_to_the_private_chat(server, db) -> None:
    group = -5006
    server.join_group(group)
    (pointed,) = server.ask(MEMBER, "/forget", chat_id=group)
    assert "私聊" in pointed["text"] and "/forget" in pointed["text"]
    (nothing,) = server.ask(MEMBER + 1, "/forget")  # never talked to the bot in private
    assert "没有存您的信息" in nothing["text"]


def test_a_number_in_a_command_or_a_caption_goes_no_further(server, db, workdir) -> None:
    group = -5010
    server.join_group(group)
    server.set_chat_admins(group, [GROUP_ADMIN])  # the bot is an admin: it may delete
    for user, text in ((GROUP_ADMIN, f"/remind 每月5日 09:00 请带身份证{VALID_ID}来社区认证"),
                       (MEMBER, f"/ask 我的身份证号{VALID_ID}怎么认证")):
        mark = server.mark()
        posted = server.send_text(user, text, chat_id=group)
        (notice,) = server.wait_for_messages(group, since=mark)
        assert "已经把那条消息删掉了" in notice["text"], text
        assert server.get_message(group, posted["message_id"]) is None
    mark = server.mark()
    photo = server.send_photo(MEMBER, caption=f"我的身份证{VALID_ID}", chat_id=group)
    (notice,) = server.wait_for_messages(group, since=mark)
    assert "已经把那条消息删掉了" in notice["text"]
    assert server.get_message(group, photo["message_id"]) is None
    time.sleep(0.5)  # nothing else answered, stored or echoed
    assert len(server.sent_messages(group, since=mark)) == 1
    assert db.execute("select count(*) from group_reminders where chat_id = ?",
                      (group,)).fetchone() == (0,)
    assert VALID_ID not in "\n".join(db.iterdump())


def test_an_edited_command_is_not_run_again(server, db) -> None:
    group = -5011
    server.join_group(group)
    server.set_chat_admins(group, [GROUP_ADMIN])
    posted = server.send_text(GROUP_ADMIN, "/remind 每月1日 09:00 记得认证", chat_id=group)
    (done,) = server.wait_for_messages(group)
    assert "每月1日 09:00" in done["text"]
    mark = server.mark()
    server.edit_text(GROUP_ADMIN, posted, "/remind 每月2日 09:00 记得认证")
    time.sleep(1.0)
    assert server.sent_messages(group, since=mark) == []
    assert db.execute("select count(*) from group_reminders where chat_id = ?",
                      (group,)).fetchone() == (1,)


def test_an_admin_posting_as_the_group_may_switch_autoanswer(server) -> None:
    group = -1005012
    server.join_group(group, title="匿名管理员的群")
    server.set_chat_admins(group, [GROUP_ADMIN])  # GroupAnonymousBot is never listed
    mark = server.mark()
    server.send_text(MEMBER, "/autoanswer on", chat_id=group, as_the_group=True)
    (reply,) = server.wait_for_messages(group, since=mark)
    assert "已开启" in reply["text"] and "只有群管理员" not in reply["text"]
    mark = server.mark()
    server.send_text(MEMBER, "/stats", chat_id=group, as_the_group=True)
    (stats,) = server.wait_for_messages(group, since=mark)
    assert "近30天" in stats["text"]
    mark = server.mark()
    server.send_text(MEMBER, "/autoanswer off", chat_id=group)  # a member, in their own name
    (refused,) = server.wait_for_messages(group, since=mark)
    assert "只有群管理员" in refused["text"]



def test_autoanswer_said_twice_stays_on(server, db) -> None:
    group = -5013
    server.join_group(group)
    server.set_chat_admins(group, [GROUP_ADMIN])
    for said in ("/autoanswer", "/autoanswer", "/autoanswer 打开"):  # as the greeting says
        (reply,) = server.ask(GROUP_ADMIN, said, chat_id=group)
        assert "已开启" in reply["text"], said
    assert db.execute("select autoanswer from groups where chat_id = ?",
                      (group,)).fetchone() == (1,)
    (usage,) = server.ask(GROUP_ADMIN, "/autoanswer 随便", chat_id=group)
    assert "/autoanswer 关" in usage["text"]
    (off,) = server.ask(GROUP_ADMIN, "/autoanswer 关", chat_id=group)
    assert "已关闭" in off["text"]
