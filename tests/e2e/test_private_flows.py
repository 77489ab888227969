"""Forgiving private flows, end to end against the local Bot API server: stop/back words and
buttons in /deadline, /city and /remind; typos in places and dates; one remembered profile;
finished steps lose their buttons."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
              pytest.mark.bot(clock="2025-11-01T10:00:00")]


def _buttons(message: dict) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", [])
            for b in row]


def _labels(message: dict) -> list[str]:
    return [text for text, _ in _buttons(message)]


def _press(server, user: int, message: dict, text: str) -> dict:
    server.press_button(user, message, text=text)
    (reply,) = server.wait_for_messages(user)
    return reply


def _has_buttons(server, user: int, message: dict) -> bool:
    current = server.get_message(user, message["message_id"])
    return bool((current.get("reply_markup") or {}).get("inline_keyboard"))


def test_every_step_has_back_and_cancel_buttons(server, bot):
    user = 3001
    (scheme,) = server.ask(user, "/deadline")
    assert {"上一步", "取消"} <= set(_labels(scheme))
    city = _press(server, user, scheme, "企业职工基本养老保险")
    assert {"上一步", "取消", "跳过"} <= set(_labels(city))
    (date,) = server.ask(user, "锦州")
    assert "上次认证是哪一天" in date["text"] and {"上一步", "取消"} <= set(_labels(date))
    back = _press(server, user, date, "上一步")
    assert "哪个城市" in back["text"]
    stopped = _press(server, user, back, "取消")
    assert "已取消" in stopped["text"] and server.reply_keyboard(user)


@pytest.mark.parametrize("word", ["取消", "算了", "不弄了", "不要了", "算了吧"])
def test_stop_words_end_the_deadline_flow_at_any_step(server, bot, word):
    user = 3010 + len(word)
    (scheme,) = server.ask(user, "/deadline")
    (stopped,) = server.ask(user, word)  # at the scheme step (buttons only, no text handler)
    assert "已取消" in stopped["text"] and "集中认证" not in stopped["text"]
    assert ["怎么认证", "什么时候认证"] in server.reply_keyboard(user)
    (scheme,) = server.ask(user, "/deadline")
    _press(server, user, scheme, "企业职工基本养老保险")
    server.ask(user, "锦州")
    (stopped,) = server.ask(user, word)  # at the date step
    assert "已取消" in stopped["text"] and "没看懂" not in stopped["text"]


def test_back_and_restart_words_in_deadline(server, bot):
    user = 3020
    (scheme,) = server.ask(user, "/deadline")
    _press(server, user, scheme, "城乡居民基本养老保险")
    (back,) = server.ask(user, "返回")
    assert "哪一种待遇" in back["text"] and "回答不了" not in back["text"]
    city = _press(server, user, back, "企业职工基本养老保险")
    assert "哪个城市" in city["text"]
    server.ask(user, "锦州")
    (again,) = server.ask(user, "上一步")
    assert "哪个城市" in again["text"]
    (restart,) = server.ask(user, "重新来")
    assert "哪一种待遇" in restart["text"]


def test_remind_understands_back_and_stop(server, bot):
    user = 3030
    (scheme,) = server.ask(user, "/remind")
    assert {"上一步", "取消"} <= set(_labels(scheme))
    city = _press(server, user, scheme, "企业职工基本养老保险")
    assert "第2步" in city["text"]
    (back,) = server.ask(user, "上一步")
    assert "第1步" in back["text"] and "没找到" not in back["text"]
    _press(server, user, back, "企业职工基本养老保险")
    server.ask(user, "锦州")
    (label,) = server.ask(user, "2025年3月10日")
    assert "第4步" in label["text"] and {"上一步", "取消"} <= set(_labels(label))
    (date_again,) = server.ask(user, "返回")
    assert "第3步" in date_again["text"]
    (stopped,) = server.ask(user, "不弄了")
    assert "已取消" in stopped["text"]
    (after,) = server.ask(user, "刷脸老是不过")  # out of the flow: an ordinary answer
    assert "已取消" not in after["text"] and "第" not in after["text"][:3]


def test_city_command_understands_stop(server, bot):
    user = 3040
    (ask,) = server.ask(user, "/city")
    assert "取消" in _labels(ask)
    (stopped,) = server.ask(user, "算了")
    assert "已取消" in stopped["text"] and "没找到" not in stopped["text"]


def test_finished_steps_lose_their_buttons_and_old_presses_are_answered(server, bot):
    user = 3050
    (scheme,) = server.ask(user, "/deadline")
    city = _press(server, user, scheme, "企业职工基本养老保险")
    assert not _has_buttons(server, user, scheme)
    (date,) = server.ask(user, "锦州")
    assert not _has_buttons(server, user, city)
    (result,) = server.ask(user, "2025年3月10日")
    assert not _has_buttons(server, user, date)
    assert "2026年3月10日" in result["text"]
    mark = server.mark()
    server.forge_callback(user, scheme, "dl:s:resident")  # an old client still shows it
    (call,) = server.wait_for("answerCallbackQuery", since=mark)
    assert call.params.get("text")


def test_mistyped_city_gets_the_closest_names(server, bot):
    user = 3060
    (scheme,) = server.ask(user, "/deadline")
    _press(server, user, scheme, "企业职工基本养老保险")
    (guess,) = server.ask(user, "锦洲")
    assert "您是说锦州吗" in guess["text"]
    labels = _labels(guess)
    assert labels[0] == "锦州" and "跳过" in labels and len(labels) <= 3 + 3
    date = _press(server, user, guess, "锦州")
    assert "锦州" in date["text"] and "上次认证是哪一天" in date["text"]
    (result,) = server.ask(user, "去年三月份吧")
    assert "没看懂" not in result["text"]
    assert "先按3月1日算" in result["text"]  # the day was assumed, and the reply says so
    (guess,) = server.ask(user, "/city 哈尔宾")
    assert "您是说哈尔滨吗" in guess["text"]
    chosen = _press(server, user, guess, "哈尔滨")
    assert "已记住" in chosen["text"] and "哈尔滨" in chosen["text"]


def test_remind_mistyped_city_and_month_only_date(server, bot):
    user = 3070
    (scheme,) = server.ask(user, "/remind")
    _press(server, user, scheme, "企业职工基本养老保险")
    (guess,) = server.ask(user, "锦洲")
    assert "您是说锦州吗" in guess["text"]
    date = _press(server, user, guess, "锦州")
    assert "锦州" in date["text"]
    (label,) = server.ask(user, "去年三月份吧")
    assert "第4步" in label["text"]
    confirm = _press(server, user, label, "自己")
    assert "按1号算" in confirm["text"]


def test_one_profile_is_offered_by_both_flows(server, bot):
    user = 3080
    (scheme,) = server.ask(user, "/deadline")
    _press(server, user, scheme, "企业职工基本养老保险")
    server.ask(user, "锦州")
    server.ask(user, "2025年3月10日")
    (scheme,) = server.ask(user, "/remind")
    assert _labels(scheme)[0] == "用 企业退休"
    city = _press(server, user, scheme, "用 企业退休")
    assert "企业职工基本养老保险" in city["text"] and "用 锦州" in _labels(city)
    date = _press(server, user, city, "用 锦州")
    assert "用 2025年3月10日" in _labels(date)  # the date /deadline was given
    label = _press(server, user, date, "用 2025年3月10日")
    assert "给谁设的" in label["text"]
    server.ask(user, "取消")

    other = 3081  # the other way round: /remind first, then /deadline offers its answers
    (scheme,) = server.ask(other, "/remind")
    _press(server, other, scheme, "城乡居民基本养老保险")
    server.ask(other, "郑州")
    (label,) = server.ask(other, "2025年5月1日")
    confirm = _press(server, other, label, "父亲")
    _press(server, other, confirm, "✅ 确认")
    (scheme,) = server.ask(other, "/deadline")
    assert _labels(scheme)[0] == "用 城乡居民养老"
    city = _press(server, other, scheme, "用 城乡居民养老")
    assert "用 郑州" in _labels(city)
    date = _press(server, other, city, "用 郑州")
    card = _press(server, other, date, "用 2025年5月1日")  # the date /remind was given
    assert "下次截止日：2026年5月1日" in card["text"]


def test_voice_gets_the_speech_to_text_tip_and_a_photo_the_plain_note(server, bot):
    server.send_voice(3090)
    (reply,) = server.wait_for_messages(3090)
    assert "语音输入" in reply["text"] and "话筒" in reply["text"]
    server.send_photo(3090)
    (reply,) = server.wait_for_messages(3090)
    assert "文字" in reply["text"] and "语音输入" not in reply["text"]


def _first_screen(message: dict) -> str:
    return message["text"].split("\n\n")[0]


def test_deadline_flow_result_is_a_short_card_with_next_steps(server, bot):
    user = 3100
    (scheme,) = server.ask(user, "/deadline")
    _press(server, user, scheme, "企业职工基本养老保险")
    server.ask(user, "锦州")
    (card,) = server.ask(user, "2025年3月10日")
    lines = _first_screen(card).split("\n")
    assert lines[0] == "下次截止日：2026年3月10日" and lines[1] == "还剩129天"
    assert lines[2].startswith("要做什么") and len(_first_screen(card)) <= 150
    assert "锦州" in card["text"]
    buttons = dict(_buttons(card))
    assert buttons["怎么认证"] == "sug:how-to-certify" and "设提醒" in buttons
    assert "错过了怎么补" not in buttons
    remind = _press(server, user, card, "设提醒")
    assert "第1步" in remind["text"] and _labels(remind)[0] == "用 企业退休"
    server.ask(user, "取消")


def test_overdue_free_text_card_says_how_to_check_first(server, bot):
    user = 3101
    (card,) = server.ask(user, "企业退休，去年3月10号认证的，下次什么时候？")
    first = _first_screen(card)
    assert len(first) <= 150 and "已超期236天" in first and "暂停" in first
    check, todo = first.index("查上次认证时间"), first.index("要做什么")
    assert check < todo and "数据比对" in first
    buttons = dict(_buttons(card))
    assert buttons["错过了怎么补"] == "sug:missed-makeup"
    assert buttons["怎么认证"] == "sug:how-to-certify" and "设提醒" in buttons
    how = _press(server, user, card, "怎么认证")
    assert "依据：" in how["text"]


def test_remind_offers_whose_pension_it_was_last_time(server, bot):
    user = 3110
    for _ in range(2):
        (scheme,) = server.ask(user, "/remind")
        _press(server, user, scheme, "城乡居民基本养老保险")
        server.ask(user, "郑州")
        (label,) = server.ask(user, "2025年5月1日")
        if _labels(label)[0] == "用 父亲":
            break
        confirm = _press(server, user, label, "父亲")
        _press(server, user, confirm, "✅ 确认")
    assert _labels(label)[0] == "用 父亲"
    confirm = _press(server, user, label, "用 父亲")
    assert "提醒对象：父亲" in confirm["text"]


def test_a_typed_request_for_a_reminder_starts_the_flow(server, bot):
    user = 3300
    (first,) = server.ask(user, "到时候提醒我一下")
    assert "第1步" in first["text"] and "企业职工基本养老保险" in _labels(first)
    (stopped,) = server.ask(user, "取消")
    assert "已取消" in stopped["text"]
    (sms,) = server.ask(user, "短信提醒我认证 是真的吗")  # not a request: answered as usual
    assert "第1步" not in sms["text"]


@pytest.mark.parametrize("command", ["/deadline", "/remind"])
def test_the_scheme_step_reads_typed_words(server, bot, command):
    user = 3400 + len(command)
    server.ask(user, command)
    (help_,) = server.ask(user, "不知道")  # how to tell, and the buttons again
    assert "12个月" in help_["text"] and "城乡居民" in help_["text"]
    assert "企业职工基本养老保险" in _labels(help_) and "上一步" in _labels(help_)
    (kept,) = server.ask(user, "锦州")  # the city ahead of its step: kept
    assert "锦州" in kept["text"] and "企业职工基本养老保险" in _labels(kept)
    (answered,) = server.ask(user, "刷脸失败怎么办")  # a question is answered as usual
    assert "依据：" in answered["text"]
    (date,) = server.ask(user, "企业退休")  # typed, not pressed; the city step is skipped
    assert "企业职工基本养老保险，锦州市" in date["text"] and "上次认证是哪一天" in date["text"]
    (after,) = server.ask(user, "2025年3月10日")
    assert ("下次截止日：2026年3月10日" in after["text"]) if command == "/deadline" \
        else ("给谁设的" in after["text"])
    server.ask(user, "取消")


def test_not_knowing_the_scheme_keeps_the_date_of_a_typed_question(server, bot):
    user = 3410
    (asked,) = server.ask(user, "我爸去年3月10号认证的 下次什么时候")
    assert "哪一种" in asked["text"]
    (help_,) = server.ask(user, "不知道")
    assert "城乡居民" in help_["text"] and "接着帮您算" in help_["text"]
    (card,) = server.ask(user, "企业的")
    assert "下次截止日：2025年3月10日" in card["text"]



def test_a_new_start_ends_the_flow_left_open(server, bot):
    user = 3420
    (scheme,) = server.ask(user, "/deadline")
    _press(server, user, scheme, "企业职工基本养老保险")  # at the city step ...
    server.ask(user, "/start")  # ... the user starts afresh
    (answered,) = server.ask(user, "刷脸失败怎么办")
    assert "依据：" in answered["text"] and "没找到" not in answered["text"]
    assert not _has_buttons(server, user, scheme)  # the open step lost its buttons

    (scheme,) = server.ask(user, "/remind")
    _press(server, user, scheme, "企业职工基本养老保险")
    (when,) = server.ask(user, "什么时候认证")  # a home button: the deadline flow, afresh
    assert "哪一种待遇" in when["text"]
    (city,) = server.ask(user, "企业退休")
    assert "哪个城市" in city["text"] and "第2步" not in city["text"]
    (forget,) = server.ask(user, "删除我的信息")  # a typed request, not a city
    assert "没找到" not in forget["text"] and "删除" in forget["text"]
    (answered,) = server.ask(user, "刷脸失败怎么办")
    assert "依据：" in answered["text"]


def test_city_again_while_city_is_open(server, bot):
    user = 3421
    server.ask(user, "/city")
    (again,) = server.ask(user, "/city")
    assert "不认识" not in again["text"] and "城市" in again["text"]
    (done,) = server.ask(user, "锦州")
    assert "锦州" in done["text"]


def test_a_dice_gets_the_polite_note_too(server, bot):
    user = 3430
    server.add_user(user)
    server.inject_update({"message": {
        "message_id": 1, "date": 1_700_000_000, "from": server.add_user(user),
        "chat": {"id": user, "type": "private", "first_name": "用户"},
        "dice": {"emoji": "🎲", "value": 3}}}, chat_id=user)
    (reply,) = server.wait_for_messages(user)
    assert "文字" in reply["text"]


def test_a_pressed_topic_is_stored_as_a_press_not_a_question(server, bot, db):
    user = 3440
    (overview,) = server.ask(user, "怎么认证")
    _press(server, user, overview, "用自己手机")
    time.sleep(0.3)
    kinds = [row[0] for row in db.execute(
        "select kind from questions where user_id = ? order by id", (user,))]
    assert kinds == ["answer", "button"]


def test_a_remembered_city_whose_short_name_two_places_share_stays_itself(server, bot):
    user = 3450
    (saved,) = server.ask(user, "/city 北京朝阳区")
    assert "北京" in saved["text"]
    (answered,) = server.ask(user, "手机上用哪个APP认证")
    assert "（北京）" in answered["text"] and "辽宁" not in answered["text"]
