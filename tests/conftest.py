"""Shared fixtures: the real knowledge base and its engine, built once per test session."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.engine import Engine, default_engine

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return default_engine()


@pytest.fixture
def today() -> dt.date:
    return TODAY
