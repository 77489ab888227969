"""Shared fixtures: the real knowledge base and its engine, built once per test session."""

from __future__ import annotations

import datetime as dt
import gc

import pytest

from bot.qa.engine import Engine, default_engine
from tests.botapi import BotApiServer

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return default_engine()


@pytest.fixture(scope="module")
def shared_server():
    """One local Bot API server on 127.0.0.1 per test module, stopped after it."""
    with BotApiServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def server(shared_server):
    """The module's server; a module that resets it between tests overrides this."""
    return shared_server


@pytest.fixture
def today() -> dt.date:
    return TODAY


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Python 3.11.7 can crash pytest's failure report when failed async tests leave garbage.
    if call.excinfo is not None:
        gc.collect()
    yield
