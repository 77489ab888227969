"""What every handler needs: `context.services` (engine, database, settings, clock) and the
state the features keep while the bot runs, typed in one place instead of `bot_data` keys."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlite_utils
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.clock import Clock
from bot.config import Settings
from bot.db.questions import QuestionIds
from bot.delivery.pacing import TokenBucket, bulk_budget
from bot.qa.engine import Engine
from bot.tg.health import DatabaseHealth

if TYPE_CHECKING:  # it imports this module
    from bot.tg.broadcast_runner import BroadcastRunner


@dataclass
class Background:
    """The loops started by bot.tg.background.repeat, and the signal that stops them."""

    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task] = field(default_factory=set)


@dataclass
class Services:
    """The bot's shared state; one instance per running application."""

    settings: Settings
    engine: Engine
    db: sqlite_utils.Database
    clock: Clock
    db_health: DatabaseHealth
    broadcasts: BroadcastRunner
    question_ids: QuestionIds = field(init=False)
    # One overall budget for broadcasts and reminders together (Telegram counts them together).
    bulk_budget: TokenBucket = field(init=False)
    # chat id -> (valid until, its admins' ids): getChatAdministrators, cached briefly
    group_admins: dict[int, tuple[float, frozenset[int]]] = field(default_factory=dict)
    reload_lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one /reload at a time
    background: Background = field(default_factory=Background)

    def __post_init__(self) -> None:
        self.question_ids = QuestionIds(self.db)
        self.bulk_budget = bulk_budget(self.settings.broadcast_rate, time.monotonic())


_SERVICES = "services"  # the one bot_data key


def attach(application: Application, services: Services) -> None:
    """Give the application its Services (build_application does this once)."""
    application.bot_data[_SERVICES] = services


def services_of(application: Application) -> Services:
    """The Services of a running application (for code that has no handler context)."""
    return application.bot_data[_SERVICES]


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    """The context every handler gets (python-telegram-bot's contexttypesbot example)."""

    @property
    def services(self) -> Services:
        return services_of(self.application)


CONTEXT_TYPES = ContextTypes(context=BotContext)
