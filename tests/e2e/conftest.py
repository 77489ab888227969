"""Fixtures of the end-to-end tests: the local Bot API server and one bot process per module.

A module describes its bot with a mark (see tests/README.md):
    pytestmark = pytest.mark.bot(clock="2026-11-23T10:00:00", env={"ADMIN_IDS": "9001"},
                                 own_knowledge=True, reset=True)
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot import KNOWLEDGE_DIR
from tests.botapi import BotApiServer, BotProcess


@dataclass(frozen=True)
class BotMark:
    """What `pytest.mark.bot(...)` says about a module's bot process."""

    clock: str | None = None  # the bot's clock (BOT_CLOCK_FILE), else the real time
    env: dict[str, str] = field(default_factory=dict)
    own_knowledge: bool = False  # a copy of knowledge/ the tests may edit (KNOWLEDGE_DIR)
    reset: bool = False  # every test starts with no recorded calls and the clock set back


def bot_mark(request: pytest.FixtureRequest) -> BotMark:
    mark = request.node.getparent(pytest.Module).get_closest_marker("bot")
    return BotMark(**mark.kwargs) if mark else BotMark()


@pytest.fixture(scope="module")
def shared_server() -> Iterator[BotApiServer]:
    """One local Bot API server on 127.0.0.1 per test module, stopped after it."""
    with BotApiServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def workdir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's bot folder: bot.db, bot.log, the clock file and its own knowledge copy."""
    mark = bot_mark(request)
    path = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    if mark.clock:
        (path / "clock").write_text(mark.clock, encoding="utf-8")
    if mark.own_knowledge:
        shutil.copytree(KNOWLEDGE_DIR, path / "knowledge")
    return path


@pytest.fixture(scope="module")
def bot(request: pytest.FixtureRequest, shared_server: BotApiServer,
        workdir: Path) -> Iterator[BotProcess]:
    """`python -m bot run` against the module's server, for all the module's tests."""
    mark = bot_mark(request)
    env = {"DATABASE_PATH": str(workdir / "bot.db")}
    if mark.clock:
        env["BOT_CLOCK_FILE"] = str(workdir / "clock")
    if mark.own_knowledge:
        env["KNOWLEDGE_DIR"] = str(workdir / "knowledge")
    with BotProcess(shared_server, ["-m", "bot", "run"], env={**env, **mark.env},
                    log_path=workdir / "bot.log") as proc:
        yield proc


@pytest.fixture
def server(request: pytest.FixtureRequest, shared_server: BotApiServer, bot: BotProcess,
           workdir: Path) -> BotApiServer:
    """The module's server with its bot polling; with `reset`, as if the test were the first."""
    mark = bot_mark(request)
    if mark.reset:
        shared_server.reset()
        if mark.clock:
            (workdir / "clock").write_text(mark.clock, encoding="utf-8")
    return shared_server


@pytest.fixture
def db(workdir: Path, bot: BotProcess) -> Iterator[sqlite3.Connection]:
    """The bot's database, read (or seeded) while the bot writes it."""
    conn = sqlite3.connect(workdir / "bot.db", timeout=10, isolation_level=None)
    yield conn
    conn.close()
