"""Service features end to end: description and menu button, deep links to one answer,
转发给家人 (inline mode) and link buttons to official channels."""

from __future__ import annotations

import sqlite3

import pytest

from bot.qa.answers import topic_reply
from bot.tg.handlers.service import DESCRIPTION, SHORT_DESCRIPTION
from tests.botapi import wait_for_row

PLATFORM = "https://si.12333.gov.cn"

pytestmark = pytest.mark.bot(clock="2026-11-23T10:00:00")


def inline_buttons(message: dict) -> list[dict]:
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def test_description_short_description_and_menu_button_are_set(server) -> None:
    (description,) = server.wait_for("setMyDescription")
    (short,) = server.wait_for("setMyShortDescription")
    (menu,) = server.wait_for("setChatMenuButton")
    assert description.params["description"] == DESCRIPTION and len(DESCRIPTION) <= 512
    assert "养老金" in DESCRIPTION and "免费" in DESCRIPTION
    assert short.params["short_description"] == SHORT_DESCRIPTION
    assert len(SHORT_DESCRIPTION) <= 120
    assert menu.params["menu_button"]["type"] == "commands"


def test_deep_link_opens_one_answer(server, engine) -> None:
    (reply,) = server.ask(3101, "/start proxy-certify")
    assert reply["text"] == topic_reply(engine, "proxy-certify").text
    assert "您好" not in reply["text"]


@pytest.mark.parametrize("parameter", ["no-such-topic", "inline"])
def test_unknown_deep_link_gets_the_normal_start(server, parameter) -> None:
    (reply,) = server.ask(3102, f"/start {parameter}", first_name="李大爷")
    assert reply["text"].startswith("您好，李大爷") and "免费" in reply["text"]
    assert ["怎么认证", "什么时候认证"] in server.reply_keyboard(3102)


def test_share_button_sends_the_answer_through_inline_mode(server, engine) -> None:
    (reply,) = server.ask(3103, "/start face-fail-repeated")
    share = [b for b in inline_buttons(reply) if b["text"] == "转发给家人"]
    assert len(share) == 1
    query = share[0]["switch_inline_query"]
    assert query == engine.kb.entries["face-fail-repeated"].question
    texts = [b["text"] for b in inline_buttons(reply)]
    assert texts.index("转发给家人") < texts.index("👍 有用")
    query_id = server.inline_query(3103, query)
    server.wait_for("answerInlineQuery", lambda c: c.params.get("inline_query_id") == query_id)
    results = server.inline_results(query_id)
    assert results[0]["id"] == "face-fail-repeated"


@pytest.mark.parametrize(("said", "topic"), [("/start next-due-how", "next-due-how"),
                                             ("郑州", "how-to-certify")])
def test_sharing_finds_the_topic_not_the_users_words(server, engine, said, topic) -> None:
    user = 3106 + len(said)
    (reply,) = server.ask(user, said)  # 郑州 alone: the overview, for 郑州
    (share,) = [b for b in inline_buttons(reply) if b["text"] == "转发给家人"]
    assert share["switch_inline_query"] == engine.kb.entries[topic].question
    query_id = server.inline_query(user, share["switch_inline_query"])
    server.wait_for("answerInlineQuery", lambda c: c.params.get("inline_query_id") == query_id)
    assert server.inline_results(query_id)[0]["id"] == topic


def test_answers_naming_the_national_platform_link_to_it(server) -> None:
    (reply,) = server.ask(3104, "/start channels-overview")
    assert "国家社会保险公共服务平台" in reply["text"]
    links = [b for b in inline_buttons(reply) if b.get("url")]
    assert [(b["text"], b["url"]) for b in links] == [("打开国家社会保险公共服务平台", PLATFORM)]
    (other,) = server.ask(3104, "/start fee-free")
    assert "国家社会保险公共服务平台" not in other["text"]
    assert not [b for b in inline_buttons(other) if b.get("url")]


def test_deep_link_questions_are_counted(workdir, server) -> None:
    server.ask(3105, "/start missed-makeup")
    conn = sqlite3.connect(workdir / "bot.db", timeout=10)
    try:
        row = wait_for_row(conn, "select entry_id, kind from questions where user_id = 3105")
    finally:
        conn.close()
    assert row == ("missed-makeup", "answer")


def test_readme_deep_links_are_real_topics(engine) -> None:
    import re

    from bot import PROJECT_DIR

    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    topics = re.findall(r"\?start=([a-z0-9-]+)`", readme)
    assert len(topics) >= 8
    assert [t for t in topics if t not in engine.kb.entries] == []
