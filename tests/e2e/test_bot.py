"""End to end: the real `python -m bot run` process against the local Bot API server."""

from __future__ import annotations

import pytest

from tests.botapi import BotApiServer, BotProcess, wait_for_row

ADMIN = 9001
VALID_ID = "11010519491231002X"

pytestmark = pytest.mark.bot(clock="2025-11-01T10:00:00", env={"ADMIN_IDS": str(ADMIN)})


def _buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", [])
            for b in row]


def test_commands_registered_per_scope(server, bot):
    calls = server.wait_for("setMyCommands", count=3)
    scopes = {c.params["scope"]["type"] for c in calls}
    assert scopes == {"all_private_chats", "all_group_chats", "all_chat_administrators"}
    private = next(c for c in calls if c.params["scope"]["type"] == "all_private_chats")
    assert {"start", "deadline", "help"} <= {c["command"] for c in private.params["commands"]}


def test_start_greets_with_big_buttons(server, bot):
    (reply,) = server.ask(1001, "/start", first_name="王阿姨")
    assert "王阿姨" in reply["text"] and "免费" in reply["text"]
    keyboard = server.reply_keyboard(1001)
    assert ["怎么认证", "什么时候认证"] in keyboard and ["设置提醒"] in keyboard


def test_help_lists_commands(server, bot):
    (reply,) = server.ask(1001, "/help")
    assert "/deadline" in reply["text"] and "/city" in reply["text"]


def test_question_answered_with_source_and_feedback(server, bot, db):
    (reply,) = server.ask(1002, "微信里的电子社保卡怎么认证养老金")
    assert "依据：" in reply["text"] and "以当地社保经办机构的规定为准" in reply["text"]
    buttons = dict(_buttons(reply))
    assert "👍 有用" in buttons
    mark = server.mark()
    server.press_button(1002, reply, text="👍 有用")
    server.wait_for("answerCallbackQuery", since=mark)
    server.wait_for("editMessageReplyMarkup", since=mark)
    (useful,) = db.execute("select useful from feedback f join questions q on q.id = "
                           "f.question_id where q.user_id = 1002").fetchone()
    assert useful == 1


def test_keyboard_button_asks_the_matching_question(server, bot):
    (reply,) = server.ask(1003, "帮家人认证")
    assert "本人" in reply["text"] and "依据：" in reply["text"]


def test_more_button_shows_the_whole_answer_in_the_same_message(server, bot):
    (reply,) = server.ask(1017, "刷脸老是不通过是什么原因")
    assert len(reply["text"].split("\n\n")[0]) <= 180
    mark = server.mark()
    server.press_button(1017, reply, text="详细")
    server.wait_for("editMessageText", since=mark)
    whole = server.get_message(1017, reply["message_id"])
    assert len(whole["text"]) > len(reply["text"]) and "依据：" in whole["text"]
    assert "详细" not in [text for text, _ in _buttons(whole)]
    assert not server.sent_messages(1017, since=mark)  # edited in place, nothing new


@pytest.mark.parametrize(("button", "opening"), [("怎么认证", "认证免费"),
                                               ("错过了怎么办", "")])
def test_home_buttons_open_their_answer_directly(server, bot, button, opening):
    (reply,) = server.ask(1004, button)
    assert "我不太确定" not in reply["text"] and "回答不了" not in reply["text"]
    assert reply["text"].startswith(opening) and "依据：" in reply["text"]


def test_general_question_gets_the_overview_and_buttons_go_deeper(server, bot):
    (reply,) = server.ask(1014, "养老保险怎么认证")
    buttons = dict(_buttons(reply))
    assert "我不太确定" not in reply["text"]
    assert buttons["帮家里老人"] == "sug:proxy-certify"
    server.press_button(1014, reply, text="帮家里老人")
    (answer,) = server.wait_for_messages(1014)
    assert "本人" in answer["text"] and "依据：" in answer["text"]
    sources = dict(_buttons(answer))["来源"]
    server.press_button(1014, answer, data=sources)
    (links,) = server.wait_for_messages(1014)
    assert "http" in links["text"]


def test_place_named_in_the_message_adds_its_line_and_a_province_answer_is_not_forced(
        server, bot):
    (reply,) = server.ask(1015, "我在深圳，我爸在河南农村，怎么帮他认证")
    if "📍" not in reply["text"]:  # unsure between two topics: the buttons carry the place
        topics = [data for _, data in _buttons(reply) if data.startswith("sug:")]
        assert topics[0].endswith(":河南"), topics
        server.press_button(1015, reply, data=topics[0])
        (reply,) = server.wait_for_messages(1015)
    assert "📍河南" in reply["text"] and "📍广东" not in reply["text"]
    (declined,) = server.ask(1015, "广东养老金上调多少")
    assert "抱歉" in declined["text"] or "12333" in declined["text"]
    assert "📍" not in declined["text"]


def test_two_places_get_a_choice_and_the_choice_adds_that_place(server, bot):
    (reply,) = server.ask(1016, "北京和上海怎么帮老人认证")
    choices = [data for _, data in _buttons(reply) if data.startswith("plc:")]
    assert len(choices) == 2, reply
    server.press_button(1016, reply, data=choices[1])
    (answer,) = server.wait_for_messages(1016)
    assert "📍上海" in answer["text"]


def test_out_of_scope_is_declined_politely(server, bot, db):
    (reply,) = server.ask(1005, "明天北京会下雨吗")
    assert "12333" in reply["text"] and "来源" not in reply["text"]
    (kind,) = wait_for_row(db, "select kind from questions where user_id = 1005")
    assert kind == "decline"


def test_deadline_in_free_text_uses_the_calculator(server, bot):
    (reply,) = server.ask(1006, "企业退休，去年3月10号认证的，下次什么时候？")
    # The bot's clock says 2025-11-01, so 去年 is 2024: due 2025-03-10, overdue.
    assert "2025年3月10日" in reply["text"] and "暂停" in reply["text"]


def test_deadline_question_completed_by_next_message(server, bot):
    (first,) = server.ask(1007, "上个月15号刷的脸")
    assert "哪一种" in first["text"]
    (second,) = server.ask(1007, "企业退休")
    assert "2026年10月15日" in second["text"]


def test_a_city_given_where_the_scheme_was_asked_is_kept(server, bot):
    (first,) = server.ask(1009, "去年12月认证的")
    assert "哪一种" in first["text"]
    (again,) = server.ask(1009, "锦州")  # not what was asked: asked again, the city kept
    assert "哪一种" in again["text"]
    (card,) = server.ask(1009, "企业退休")
    assert "锦州" in card["text"] and "2025年12月1日" in card["text"]


def test_deadline_flow(server, bot, db):
    (ask_scheme,) = server.ask(1008, "/deadline")
    server.press_button(1008, ask_scheme, text="企业职工基本养老保险")
    (ask_city,) = server.wait_for_messages(1008)
    assert "城市" in ask_city["text"]
    (ask_date,) = server.ask(1008, "锦州")
    assert "上次认证是哪一天" in ask_date["text"]
    (retry,) = server.ask(1008, "二月三十号")
    assert "2月" in retry["text"] or "没看懂" in retry["text"]
    (future,) = server.ask(1008, "2026年5月1日")
    assert "还没到" in future["text"]
    (result,) = server.ask(1008, "2025年3月10日")
    assert "2026年3月10日" in result["text"] and "锦州" in result["text"]
    scheme, city = db.execute("select scheme, city from users where user_id = 1008").fetchone()
    assert (scheme, city) == ("enterprise", "锦州")


def test_city_command(server, bot, db):
    (reply,) = server.ask(1009, "/city 广州市")
    assert "广州" in reply["text"]
    (unknown,) = server.ask(1009, "/city 火星")
    assert "没找到" in unknown["text"]
    assert db.execute("select city from users where user_id = 1009").fetchone() == ("广州",)


def test_a_municipalitys_district_is_a_remembered_place(server, bot, db):
    """A pensioner in 北京 names the district: 海淀 is remembered, and answers name it."""
    (reply,) = server.ask(1018, "/city 海淀区")
    assert "海淀" in reply["text"]
    assert db.execute("select city from users where user_id = 1018").fetchone() == ("海淀",)
    (answer,) = server.ask(1018, "手机上用哪个APP认证")
    assert "📍海淀（北京）" in answer["text"] and "京通" in answer["text"]


@pytest.mark.parametrize("kind", ["voice", "sticker", "photo", "document"])
def test_non_text_gets_a_note(server, bot, kind):
    getattr(server, f"send_{kind}")(1010)
    (reply,) = server.wait_for_messages(1010)
    assert "文字" in reply["text"]


def test_id_number_warned_and_never_stored(server, bot, db, workdir):
    (reply,) = server.ask(1011, f"我妈身份证{VALID_ID}，帮我看看怎么认证")
    assert "请不要在聊天里发送身份证号" in reply["text"]
    wait_for_row(db, "select 1 from questions where user_id = 1011")
    stored = " ".join(row[0] for row in db.execute("select text from questions"))
    assert VALID_ID not in stored
    assert VALID_ID not in (workdir / "bot.log").read_text(encoding="utf-8")


def test_fraud_message_gets_warning(server, bot):
    (reply,) = server.ask(1012, "有人打电话说交200块钱可以帮我认证，靠谱吗")
    assert "免费" in reply["text"] and "12333" in reply["text"]


def test_group_mention_reply_and_chatter(server, bot):
    group = -2001
    server.join_group(group)
    (reply,) = server.ask(1020, f"@{server.bot_user['username']} 在国外怎么认证养老金",
                          chat_id=group)
    assert "依据：" in reply["text"]
    mark = server.mark()
    server.send_text(1020, "今天中午吃饺子", chat_id=group)
    server.send_text(1021, "在吗", chat_id=group, reply_to_message_id=reply["message_id"])
    (answer,) = server.wait_for_messages(group, since=mark)
    assert answer["reply_to_message"]["text"] == "在吗"  # only the reply to the bot is answered


def test_autoanswer_only_for_admins_and_only_when_sure(server, bot):
    group = -2002
    server.join_group(group)
    server.set_chat_admins(group, [1030])
    (refused,) = server.ask(1031, "/autoanswer on", chat_id=group)
    assert "管理员" in refused["text"]
    (enabled,) = server.ask(1030, "/autoanswer on", chat_id=group)
    assert "已开启" in enabled["text"]
    (answer,) = server.ask(1031, "老人卧床不起能上门认证吗", chat_id=group)
    assert "依据：" in answer["text"]
    mark = server.mark()
    server.send_text(1031, "大家晚上好，明天去公园跳舞吗", chat_id=group)
    server.send_text(1030, "/help", chat_id=group)
    (helped,) = server.wait_for_messages(group, since=mark)
    assert "/autoanswer" in helped["text"]  # the chatter before /help got no reply


def test_group_migration_keeps_settings(server, bot):
    old, new = -2003, -1002003
    server.join_group(old)
    server.set_chat_admins(old, [1040])
    server.ask(1040, "/autoanswer on", chat_id=old)
    server.migrate_group(old, new)
    server.set_chat_admins(new, [1040])
    (answer,) = server.ask(1041, "集中认证取消了，那以后还用不用认证", chat_id=new)
    assert "依据：" in answer["text"]


def test_inline_query_offers_answers(server, bot):
    query_id = server.inline_query(1050, "刷脸失败怎么办")
    server.wait_for("answerInlineQuery")
    results = server.inline_results(query_id)
    assert results and all(r["input_message_content"]["message_text"] for r in results)
    assert any("刷脸" in r["title"] for r in results)


def test_flood_control_is_waited_out(server, bot):
    server.fail_next("sendMessage", 429, retry_after=1, chat_id=1060)
    (reply,) = server.ask(1060, "在国外怎么认证养老金", timeout=20)
    assert "中国领事" in reply["text"]


def test_blocked_user_does_not_break_the_bot(server, bot):
    server.block(1070)
    server.send_text(1071, "哪些人需要做资格认证")
    server.fail_next("sendMessage", 403, chat_id=1072)
    server.send_text(1072, "认证要交钱吗")
    (reply,) = server.ask(1073, "认证要交钱吗")
    assert "免费" in reply["text"]
    assert bot.process.poll() is None


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_webhook_mode_and_clean_shutdown(tmp_path):
    with BotApiServer() as srv:
        port = _free_port()
        args = ["-m", "bot", "run", "--webhook", f"http://127.0.0.1:{port}",
                "--listen", f"127.0.0.1:{port}"]
        proc = BotProcess(srv, args, env={"DATABASE_PATH": str(tmp_path / "bot.db")},
                          log_path=tmp_path / "bot.log")
        proc.start()
        try:
            info = srv.webhook_info()
            assert info["url"].startswith(f"http://127.0.0.1:{port}/")
            (reply,) = srv.ask(1100, "认证要交钱吗", timeout=20)
            assert "免费" in reply["text"]
        finally:
            rc = proc.stop()
        assert rc == 0
        assert "Traceback" not in (tmp_path / "bot.log").read_text(encoding="utf-8")


def test_polling_bot_stops_cleanly_on_sigterm(tmp_path):
    with BotApiServer() as srv:
        proc = BotProcess(srv, ["-m", "bot", "run"],
                          env={"DATABASE_PATH": str(tmp_path / "bot.db")})
        proc.start()
        assert proc.stop() == 0


def test_reply_to_a_migrated_group_follows_the_new_id(server, bot):
    old, new = -2004, -1002004
    server.join_group(old)
    mark = server.mark()
    # The group is upgraded while the bot is answering: its send gets "migrate_to_chat_id".
    server.fail_next("sendMessage", 400, chat_id=old, migrate_to_chat_id=new)
    server.send_text(1042, f"@{server.bot_user['username']} 认证要交钱吗", chat_id=old)
    calls = server.wait_for("sendMessage", chat_id=new, since=mark, timeout=20)
    assert "免费" in calls[0].params["text"]


@pytest.mark.parametrize(
    ("token", "base", "code", "words"),
    [("123456789:WRONGwrongWRONGwrongWRONG", None, 2, "令牌"),
     (None, "http://127.0.0.1:9/bot", 1, "连不上")],
)
def test_startup_problems_are_one_line(server, tmp_path, token, base, code, words):
    import subprocess
    import sys

    env = {**server.bot_env(), "DATABASE_PATH": str(tmp_path / "bot.db")}
    if token:
        env["TELEGRAM_BOT_TOKEN"] = token
    if base:
        env["TELEGRAM_BASE_URL"] = base
    result = subprocess.run([sys.executable, "-m", "bot", "run"], env={**env, "PATH": "/usr/bin"},
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == code
    assert words in result.stderr and "Traceback" not in result.stderr


def test_webhook_on_a_port_in_use_is_one_line_and_exit_2(tmp_path):
    import socket

    with BotApiServer() as srv, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        args = ["-m", "bot", "run", "--webhook", f"http://127.0.0.1:{port}",
                "--listen", f"127.0.0.1:{port}"]
        proc = BotProcess(srv, args, env={"DATABASE_PATH": str(tmp_path / "bot.db")},
                          log_path=tmp_path / "bot.log")
        proc.start(wait=False)
        assert proc.wait(90) == 2
        log = (tmp_path / "bot.log").read_text(encoding="utf-8")
        assert "webhook 不能在" in log and "Traceback" not in log
