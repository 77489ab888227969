"""Questions stored after their reply: ids handed out first, rows written later."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.db.connection import open_database
from bot.db.questions import QuestionIds, record_question

AT = dt.datetime(2026, 11, 23, 10, 0)


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


# ------------------------------------------------------------------ broken database files


def _good_database(path) -> None:
    db = open_database(path)
    for n in range(2000):  # several pages, so that half of the file loses real data
        _store(db, f"问题{n} " + "内容" * 20)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def _corrupt_header(path) -> None:
    _good_database(path)
    with open(path, "r+b") as handle:
        handle.write(b"this is not sqlite at all")


def _truncated(path) -> None:
    _good_database(path)
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def _read_only(path) -> None:
    _good_database(path)
    path.chmod(0o444)


def _garbage(path) -> None:
    path.write_bytes(b"\x00\xff" * 5000)


def _emptied(path) -> None:
    _good_database(path)
    path.write_bytes(b"")


BROKEN = {"corrupt header": (_corrupt_header, "已损坏"), "truncated": (_truncated, "已损坏"),
          "read-only": (_read_only, "只读"), "garbage": (_garbage, "已损坏"),
          "emptied": (_emptied, "是空的")}


@pytest.mark.parametrize("kind", BROKEN)
def test_broken_database_is_one_clear_line(tmp_path, kind) -> None:
    from bot.errors import StorageError

    make, words = BROKEN[kind]
    path = tmp_path / "bot.db"
    make(path)
    with pytest.raises(StorageError) as caught:
        open_database(path, check=True).close()
    message = str(caught.value)
    assert words in message and len(message.splitlines()) == 1, message


@pytest.mark.parametrize("kind", BROKEN)
def test_bot_refuses_to_start_on_a_broken_database(tmp_path, kind) -> None:
    import os
    import subprocess
    import sys

    from bot import PROJECT_DIR

    make, words = BROKEN[kind]
    path = tmp_path / "bot.db"
    make(path)
    before = path.read_bytes()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
           "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot", "DATABASE_PATH": str(path),
           "PYTHONPATH": str(PROJECT_DIR)}
    result = subprocess.run([sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in result.stderr, lines
    assert path.read_bytes() == before  # the file is left byte for byte, for recovery


def test_good_database_passes_the_check(tmp_path) -> None:
    _good_database(tmp_path / "bot.db")
    open_database(tmp_path / "bot.db", check=True).close()


# ------------------------------------------------------------------ one transaction helper


def test_transaction_rolls_back_everything_and_nests(db) -> None:
    from bot.db.connection import transaction

    with pytest.raises(RuntimeError), transaction(db):
        _store(db, "写了一半")
        with transaction(db):  # joins the outer one
            _store(db, "里面的")
        raise RuntimeError("fails after the writes")
    assert db.execute("select count(*) from questions").fetchone() == (0,)
    with transaction(db):
        _store(db, "完整的")
    assert db.execute("select count(*) from questions").fetchone() == (1,)


def test_group_migration_is_one_transaction(db) -> None:
    from bot.db.groups import get_group, migrate_group, remember_group, set_autoanswer

    remember_group(db, -1, "老群", AT)
    set_autoanswer(db, -1, True)
    migrate_group(db, -1, -1001)
    assert get_group(db, -1001)["autoanswer"] == 1 and get_group(db, -1001)["title"] == "老群"
    assert (get_group(db, -1)["active"], get_group(db, -1)["migrated_to"]) == (0, -1001)
    db.execute("create trigger no_deactivate before update of active on groups "
               "begin select raise(abort, 'disk full'); end")
    remember_group(db, -2, "另一个群", AT)
    with pytest.raises(Exception, match="disk full"):
        migrate_group(db, -2, -1002)
    assert get_group(db, -1002) is None  # the new row went with the failed update


# ------------------------------------------------------------------ schema versions


def test_new_database_records_its_schema_version(tmp_path) -> None:
    from bot.broadcasts.store import ensure_broadcast_tables

    db = open_database(tmp_path / "bot.db")
    ensure_broadcast_tables(db)
    ensure_broadcast_tables(db)  # applying again changes nothing
    applied = db.execute("select migration_set, name from _sqlite_migrations order by id"
                         ).fetchall()
    assert applied == [("core", "0001_tables"), ("core", "0002_profile_last_date"),
                       ("broadcasts", "0001_tables"), ("broadcasts", "0002_outbox_confirmed_at")]
    db.close()


def test_database_from_before_the_migrations_is_adopted(tmp_path) -> None:
    import sqlite3

    from bot.broadcasts.store import ensure_broadcast_tables, progress

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)  # the tables as an older version of the bot left them
    conn.executescript("""
        create table users (user_id integer primary key, chat_id integer, first_name text,
            scheme text, city text, first_seen text, last_seen text, active integer default 1);
        create table broadcasts (id integer primary key, created_at text, created_by integer,
            origin_chat_id integer, text text, buttons text, audience text,
            audience_label text, pin integer default 0, status text, scheduled_at text,
            started_at text, finished_at text, total integer default 0, sent integer default 0,
            failed integer default 0, blocked integer default 0,
            unconfirmed integer default 0, progress_chat_id integer,
            progress_message_id integer, cancelled_by integer, note text);
        create table broadcast_outbox (id integer primary key, broadcast_id integer,
            chat_id integer, kind text, status text, attempts integer default 0,
            message_id integer, error text, migrated_from integer, updated_at text);
        insert into users (user_id, chat_id, first_name) values (7, 7, '王');
        insert into broadcasts (id, text, status) values (1, '通知', 'done');
        insert into broadcast_outbox (broadcast_id, chat_id, kind, status)
            values (1, 7, 'user', 'sent');
    """)
    conn.commit()
    conn.close()
    db = open_database(path)
    ensure_broadcast_tables(db)
    assert "confirmed_at" in db["broadcast_outbox"].columns_dict
    assert {"last_date", "whose"} <= set(db["users"].columns_dict)
    assert db.execute("select first_name from users").fetchall() == [("王",)]
    assert progress(db, 1).sent == 1
    db.close()
