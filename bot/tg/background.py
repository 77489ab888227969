"""Background loops of the running bot (the reminder sender, the database watcher).

Not the JobQueue: when the application stops, APScheduler cancels a job that fired but had not
begun yet and logs that as an error with a traceback. These loops finish the run under way
instead, and `stop_background` (post_stop) waits for them before the database is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import Application

from bot.tg.context import services_of

log = logging.getLogger(__name__)

def repeat(application: Application, step: Callable[[], Awaitable[Any]], *,
           every: Callable[[], float], first: float, name: str) -> asyncio.Task:
    """Run `step` `first` seconds after the application starts, then every `every()` seconds
    after the previous run ended, until the application stops; a run under way is finished.

    Not the JobQueue: when the application stops, APScheduler cancels a job that fired but had
    not begun yet and logs that as an error with a traceback (test_send_in_flight_at_a_crash_
    is_sent_after_restart saw it about one run in ten with a 0.1 s tick). `stop_background`
    (post_stop) waits for these loops instead, before the database is closed.
    """
    state = services_of(application).background

    async def nap(seconds: float) -> bool:
        """Sleep, waking at once at the stop; True while the application runs."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(state.stopping.wait(), max(seconds, 0))
        return application.running and not state.stopping.is_set()

    async def loop() -> None:
        while not application.running:  # started from post_init, before the application
            if state.stopping.is_set():
                return
            await asyncio.sleep(0.05)
        if not await nap(first):
            return
        while True:
            try:
                await step()
            except Exception:  # a loop of the bot never stops on one failure
                log.exception("%s failed", name)
            if not await nap(every()):
                return

    task = asyncio.create_task(loop(), name=name)
    state.tasks.add(task)
    task.add_done_callback(state.tasks.discard)
    return task


async def stop_background(application: Application) -> None:
    """post_stop: let the loops of `repeat` finish their run under way, and start no other."""
    state = services_of(application).background
    state.stopping.set()
    if state.tasks:
        await asyncio.gather(*state.tasks, return_exceptions=True)
