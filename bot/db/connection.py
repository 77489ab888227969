"""Opening the SQLite database (sqlite-utils): integrity check, transactions, migrations.

The core tables are created here and read and written by bot/db/users.py, groups.py and
questions.py; feature modules (reminders, broadcasts) keep their own tables and create them
with their own `ensure_*` functions.
Nothing sensitive is stored: question text is redacted before it gets here.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils.migrations import Migrations

from bot.errors import StorageError

log = logging.getLogger(__name__)


def open_database(path: Path | str, *, check: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) the bot's database with safe settings and the core tables.

    Every problem is a StorageError with one line in Chinese. With `check` (at start) the file
    must also pass SQLite's `PRAGMA quick_check` and take a write lock.
    """
    path = Path(path)
    if str(path) != ":memory:" and path.exists():
        if path.is_dir():
            raise StorageError(f"数据库路径 {path} 是一个目录，不是文件：请检查 DATABASE_PATH")
        if check and path.stat().st_size == 0:  # emptied: the data is gone, not new
            raise StorageError(f"数据库文件 {path} 是空的（0 字节），原来的数据不在了：请从备份"
                               "恢复；要从头开始，就删掉这个文件或把 DATABASE_PATH 指向新文件")
        if not path.stat().st_mode & 0o222 or not os.access(path, os.W_OK):
            raise StorageError(f"数据库文件 {path} 是只读的：机器人需要写入它，请检查文件权限")
    try:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None,
                               check_same_thread=False)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"无法打开数据库 {path}：{_one_line(exc)}") from exc
    try:
        db = sqlite_utils.Database(conn)
        if check:  # first, before anything writes to a file that may be damaged
            _check_integrity(db, path)
        # WAL lets the CLI read while the bot writes; NORMAL sync is durable across app crashes.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        ensure_schema(db)
    except sqlite3.OperationalError as exc:  # locked, read-only directory, disk full…
        conn.close()
        raise StorageError(f"无法打开或写入数据库 {path}：{_one_line(exc)}") from exc
    except sqlite3.DatabaseError as exc:  # not a database, a malformed image
        conn.close()
        raise StorageError(f"数据库文件 {path} 已损坏（{_one_line(exc)}）：请从备份恢复，"
                           "或把 DATABASE_PATH 指向一个新文件") from exc
    except StorageError:
        conn.close()
        raise
    return db


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]


def _check_integrity(db: sqlite_utils.Database, path: Path) -> None:
    problems = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    if problems != ["ok"]:
        raise StorageError(f"数据库文件 {path} 已损坏（完整性检查：{_one_line(problems[0])}）："
                           "请从备份恢复，或把 DATABASE_PATH 指向一个新文件")
    db.execute("BEGIN IMMEDIATE")  # can we write at all?
    db.execute("ROLLBACK")


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One atomic write: everything inside is committed together or not at all.

    The connection runs in autocommit mode (isolation_level=None), where `with db.conn:` opens
    no transaction. Nested use joins the outer transaction, and so do sqlite-utils' helpers
    (4.x: savepoints inside a transaction). IMMEDIATE takes the write lock at once.
    """
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# --- schema versions ---------------------------------------------------------------------------
#
# Each feature keeps a sqlite-utils migration set (recorded in the table _sqlite_migrations):
# a schema change is a new migration appended to its set, applied once, in a transaction, on
# every database the bot or the command line opens. The first migration of each set creates
# the tables "if not exists", so databases from before the migrations are adopted as they are.

CORE = Migrations("core")


@CORE(name="0001_tables")
def _core_tables(db: sqlite_utils.Database) -> None:
    db["users"].create(
        {"user_id": int, "chat_id": int, "first_name": str, "scheme": str, "city": str,
         "first_seen": str, "last_seen": str, "active": int},
        pk="user_id", if_not_exists=True, defaults={"active": 1},
    )
    db["groups"].create(
        {"chat_id": int, "title": str, "autoanswer": int, "added_at": str, "active": int,
         "migrated_to": int},
        pk="chat_id", if_not_exists=True, defaults={"autoanswer": 0, "active": 1},
    )
    db["questions"].create(
        {"id": int, "at": str, "chat_id": int, "chat_type": str, "user_id": int, "text": str,
         "kind": str, "entry_id": str, "score": float},
        pk="id", if_not_exists=True,
    )
    db["questions"].create_index(["at"], if_not_exists=True)
    db["feedback"].create(
        {"question_id": int, "user_id": int, "useful": int, "at": str},
        pk=("question_id", "user_id"), if_not_exists=True,
        foreign_keys=[("question_id", "questions", "id")],
    )


@CORE(name="0002_profile_last_date")
def _profile_last_date(db: sqlite_utils.Database) -> None:
    # One profile for /deadline and /remind: the last certification date and whose pension.
    for column in ("last_date", "whose"):
        if column not in db["users"].columns_dict:
            db["users"].add_column(column, str)


def apply_migrations(db: sqlite_utils.Database, migrations: Migrations) -> None:
    """Apply what is pending of one migration set (another process may be doing the same)."""
    if not migrations.pending(db):
        return
    try:
        migrations.apply(db)
    except sqlite3.IntegrityError:  # recorded by another process meanwhile: take what is left
        migrations.apply(db)


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Bring the core tables up to date (see CORE)."""
    apply_migrations(db, CORE)


# --- bookkeeping writes ------------------------------------------------------------------------
#
# Some writes are bookkeeping done after the user has been answered (the question log, "last
# seen"). In the running bot a failure there (disk full, a damaged page) must neither turn the
# answer into an apology nor lose the row: `defer_failed_writes` installs a handler that keeps
# the write to retry later and tells the admins (bot/tg/health.py). Without a handler (the
# command line, tests) the error is raised as before.

FailedWrite = Callable[[str, Callable[[], Any], sqlite3.Error, "int | None"], None]
Forget = Callable[[int], int]
_DEFERRED, _FORGET = "_deferred_writes", "_forget_deferred"


def defer_failed_writes(db: sqlite_utils.Database, handler: FailedWrite | None,
                        forget: Forget | None = None) -> None:
    """Hand failed bookkeeping writes on `db` to `handler(what, retry, error, owner)`;
    `forget(user_id)` drops those kept for a user who asked to be forgotten."""
    setattr(db, _DEFERRED, handler)
    setattr(db, _FORGET, forget)


def bookkeeping(db: sqlite_utils.Database, what: str, write: Callable[[], Any],
                 fallback: Any, *, owner: int | None = None) -> Any:
    """Run a bookkeeping write; `owner` is the user the row is about (see `forget_deferred`)."""
    handler: FailedWrite | None = getattr(db, _DEFERRED, None)
    if handler is None:
        return write()
    try:
        return write()
    except sqlite3.Error as exc:
        handler(what, write, exc, owner)
        return fallback


def forget_deferred(db: sqlite_utils.Database, user_id: int) -> int:
    """Drop the kept writes about `user_id` (/forget): a retry must not bring them back."""
    forget: Forget | None = getattr(db, _FORGET, None)
    return forget(user_id) if forget is not None else 0


def iso_seconds(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")
