"""Composing replies: courtesy, empty input, deadline routing, answers with sources."""

from __future__ import annotations

import pytest

from bot.answers import (
    EMPTY_TEXT,
    GREETING_TEXT,
    LOCAL_RULES_NOTE,
    THANKS_TEXT,
    answer,
    source_line,
)


@pytest.mark.parametrize(
    ("message", "text"),
    [("你好", GREETING_TEXT), ("您好啊！", GREETING_TEXT), ("在吗", GREETING_TEXT),
     ("谢谢你", THANKS_TEXT), ("好的，谢谢", THANKS_TEXT), ("多谢您啦", THANKS_TEXT),
     ("", EMPTY_TEXT), ("？？？", EMPTY_TEXT), ("👍👍", EMPTY_TEXT)],
)
def test_courtesy_and_empty(engine, today, message, text):
    reply = answer(engine, message, today)
    assert reply.text == text and reply.matched is False


def test_greeting_with_a_question_is_not_just_a_greeting(engine, today):
    reply = answer(engine, "你好，在国外怎么认证养老金", today)
    assert reply.id == "abroad-app"


def test_answer_names_sources_and_local_rules(engine, today):
    reply = answer(engine, "集中认证取消了那以后还用认证吗", today)
    entry = engine.kb.entries[reply.id]
    assert reply.kind == "answer"
    assert reply.text.startswith(entry.answer)
    assert LOCAL_RULES_NOTE in reply.text and source_line(entry) in reply.text


def test_official_sources_come_first(engine):
    entry = next(e for e in engine.kb.entries.values()
                 if any(s.official for s in e.sources) and not all(s.official for s in e.sources))
    line = source_line(entry)
    first = line.removeprefix("来源：").split("、")[0]
    assert first.endswith("（官方）")


def test_deadline_question_goes_to_the_calculator(engine, today):
    reply = answer(engine, "企业退休，2026年1月5日认证的，下次什么时候", today)
    assert reply.kind == "deadline" and reply.complete
    assert "2027年1月5日" in reply.text


def test_deadline_question_missing_scheme_asks_for_it(engine, today):
    reply = answer(engine, "上个月15号刷的脸", today)
    assert reply.kind == "deadline" and not reply.complete


def test_unsure_offers_titles_of_entries(engine, today):
    reply = answer(engine, "认证", today)
    assert reply.kind == "suggest"
    assert reply.suggestions == [engine.kb.entries[i].question for i in reply.suggestion_ids]
    assert all(title in reply.text for title in reply.suggestions)


def test_json_contract_keys(engine, today):
    assert set(answer(engine, "刷脸失败", today).as_json()) == {
        "question", "matched", "id", "score", "answer", "suggestions"}
