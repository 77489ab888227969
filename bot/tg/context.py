"""What every handler needs (engine, database, settings, clock), kept in `bot_data`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
from telegram.ext import ContextTypes

from bot.broadcasts.store import TokenBucket, bulk_budget
from bot.clock import Clock
from bot.config import Settings
from bot.db.questions import QuestionIds
from bot.qa.engine import Engine


@dataclass
class Services:
    """The bot's shared state; one instance per running application."""

    settings: Settings
    engine: Engine
    db: sqlite_utils.Database
    clock: Clock
    extras: dict[str, Any] = field(default_factory=dict)  # feature modules keep state here
    question_ids: QuestionIds = field(init=False)
    # One overall budget for broadcasts and reminders together (Telegram counts them together).
    bulk_budget: TokenBucket = field(init=False)

    def __post_init__(self) -> None:
        self.question_ids = QuestionIds(self.db)
        self.bulk_budget = bulk_budget(self.settings.broadcast_rate, time.monotonic())


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The Services of the running application."""
    return context.application.bot_data["services"]
