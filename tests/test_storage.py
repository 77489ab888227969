"""Questions stored after their reply: ids handed out first, rows written later."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.storage import QuestionIds, open_database, record_question

AT = dt.datetime(2026, 11, 23, 10, 0)


@pytest.fixture
def db(tmp_path):
    database = open_database(tmp_path / "bot.db")
    yield database
    database.close()


def _store(db, text: str, question_id: int | None = None) -> int:
    return record_question(db, at=AT, chat_id=1, chat_type="private", user_id=1, text=text,
                           kind="answer", entry_id="x", score=0.9, question_id=question_id)


@pytest.mark.parametrize("existing", [0, 3])
def test_ids_continue_after_stored_questions(db, existing) -> None:
    for n in range(existing):
        _store(db, f"旧问题{n}")
    ids = QuestionIds(db)
    first, second = ids.take(), ids.take()
    assert (first, second) == (existing + 1, existing + 2)
    # Stored out of order (the second reply went out first): each row keeps its own id.
    assert _store(db, "第二个", second) == second
    assert _store(db, "第一个", first) == first
    rows = dict(db.execute("select id, text from questions where id > ?", [existing]).fetchall())
    assert rows == {first: "第一个", second: "第二个"}


def test_a_taken_id_still_stores_the_question(db) -> None:
    ids = QuestionIds(db)
    handed_out = ids.take()
    assert _store(db, "别处先存的") == handed_out  # stored without an id meanwhile
    fresh = _store(db, "后存的", handed_out)
    assert fresh != handed_out
    texts = [row[0] for row in db.execute("select text from questions order by id")]
    assert texts == ["别处先存的", "后存的"]
