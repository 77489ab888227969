"""Fixtures of the unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlite_utils

from bot.db.connection import open_database


@pytest.fixture
def db(tmp_path) -> Iterator[sqlite_utils.Database]:
    """A new bot database (core tables) in the test's own folder, closed after the test.

    A module that needs more tables or rows overrides it as `def db(db): ...; return db`.
    """
    database = open_database(tmp_path / "bot.db")
    yield database
    database.close()
