"""Reading the bot's SQLite file from a test while the bot process writes it."""

from __future__ import annotations

import sqlite3
import time

from tests.botapi.records import WaitTimeout


def wait_for_row(conn: sqlite3.Connection, sql: str, params: tuple = (), *,
                 timeout: float = 10.0) -> tuple:
    """The first row of `sql` once there is one.

    The bot stores a question after its reply has gone out, so a test that has just received
    the reply may look before the row is there.
    """
    deadline = time.monotonic() + timeout
    while True:
        row = conn.execute(sql, params).fetchone()
        if row is not None:
            return row
        if time.monotonic() > deadline:
            raise WaitTimeout(f"no row after {timeout} s: {sql} {params}")
        time.sleep(0.02)
