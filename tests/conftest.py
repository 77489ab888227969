"""Fixtures of every test folder: the real knowledge base's engine, built once per session."""

from __future__ import annotations

import datetime as dt
import gc

import pytest

from bot.qa.engine import Engine, default_engine

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return default_engine()


@pytest.fixture
def today() -> dt.date:
    return TODAY


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Python 3.11.7 can crash pytest's failure report when failed async tests leave garbage.
    if call.excinfo is not None:
        gc.collect()
    yield
