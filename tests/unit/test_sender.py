"""The one bulk sender (bot.delivery.sender) with a fake `send`, a fake classifier and an
outbox kept in a dict: every outcome, the retry policy, crash recovery and the shared budget."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from bot.delivery import sender as delivery
from bot.delivery.pacing import TokenBucket
from bot.delivery.sender import Failure, Item, RetryPolicy, Sender


class Flood(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__("flood")
        self.seconds = seconds


class Blocked(Exception):
    pass


class Moved(Exception):
    def __init__(self, new_chat_id: int) -> None:
        super().__init__("moved")
        self.new_chat_id = new_chat_id


class Down(Exception):
    pass


class Lost(Exception):
    pass


def classify(exc: Exception) -> Failure | None:
    if isinstance(exc, Flood):
        return Failure(delivery.FLOOD, "flood", exc.seconds)
    if isinstance(exc, Blocked):
        return Failure(delivery.BLOCKED, "blocked")
    if isinstance(exc, Moved):
        return Failure(delivery.MIGRATED, new_chat_id=exc.new_chat_id)
    if isinstance(exc, Down):
        return Failure(delivery.NETWORK, "network")
    if isinstance(exc, Lost):
        return Failure(delivery.MAYBE_SENT, "maybe sent")
    return None


class DictOutbox:
    """An outbox in memory: row id → (status, reason, message id, attempts)."""

    def __init__(self) -> None:
        self.rows: dict[int, dict] = {}
        self.retries: list[tuple[int, str, float | None]] = []
        self.counted: list[bool] = []

    def add(self, row_id: int, chat_id: int) -> Item:
        self.rows[row_id] = {"status": "pending", "chat_id": chat_id, "attempts": 0}
        return Item(row_id, chat_id)

    def before(self, item: Item) -> None:
        self.rows[item.id].update(status="sending", attempts=item.attempts + 1)

    def after(self, item: Item, outcome: str, *, reason=None, message_id=None) -> None:
        self.rows[item.id].update(status=outcome, reason=reason, message_id=message_id,
                                  chat_id=item.chat_id)

    def retry(self, item: Item, reason: str, delay: float | None, *,
              counts: bool = True) -> None:
        self.rows[item.id].update(status="pending", reason=reason)
        self.retries.append((item.id, reason, delay))
        self.counted.append(counts)

    def recover(self, *, resend: bool) -> int:
        stuck = [r for r in self.rows.values() if r["status"] == "sending"]
        for row in stuck:
            row.update(status="pending" if resend else "unknown", reason="interrupted")
        return len(stuck)


class FakeSend:
    """Raises the scripted errors first, then delivers; records every chat it was asked for."""

    def __init__(self, *errors: Exception, hang: bool = False) -> None:
        self.errors = list(errors)
        self.calls: list[int] = []
        self.hang = hang

    async def __call__(self, chat_id: int) -> int:
        self.calls.append(chat_id)
        await asyncio.sleep(0)  # a request lets other callers run
        if self.hang:
            await asyncio.Event().wait()
        if self.errors:
            raise self.errors.pop(0)
        return 100 + len(self.calls)


POLICY = RetryPolicy(flood_waits=2, flood_requeue=60, network_delays=(0, 0),
                     network_requeue=600, max_attempts=3, max_migrations=1)


def make(outbox: DictOutbox, policy: RetryPolicy = POLICY, **kwargs) -> Sender:
    return Sender(outbox, classify, policy, **kwargs)


async def test_delivered() -> None:
    outbox, send = DictOutbox(), FakeSend()
    result = await make(outbox).deliver(outbox.add(1, 7), send)
    assert result.status == delivery.SENT
    assert outbox.rows[1]["status"] == delivery.SENT and outbox.rows[1]["message_id"] == 101
    assert send.calls == [7]


async def test_flood_wait_then_delivered() -> None:
    outbox, send = DictOutbox(), FakeSend(Flood(0.2))
    started = time.monotonic()
    result = await make(outbox).deliver(outbox.add(1, 7), send)
    assert time.monotonic() - started >= 0.2  # waited as asked
    assert result.status == delivery.SENT and send.calls == [7, 7]


async def test_endless_flood_is_queued_again_not_failed() -> None:
    outbox, send = DictOutbox(), FakeSend(*[Flood(0)] * 5)
    result = await make(outbox).deliver(outbox.add(1, 7), send)
    assert result.status == delivery.PENDING
    assert len(send.calls) == 3  # the first try and two waits in place
    assert outbox.retries == [(1, "flood", 60)] and outbox.counted == [False]


async def test_flood_pauses_the_callers_pacing_instead_of_waiting() -> None:
    outbox, send, paused = DictOutbox(), FakeSend(Flood(5)), []
    policy = RetryPolicy(flood_waits=0)
    result = await make(outbox, policy, pause=paused.append).deliver(outbox.add(1, 7), send)
    assert result.status == delivery.PENDING and paused == [5]
    assert outbox.rows[1]["status"] == "pending"


async def test_blocked_calls_back_to_deactivate() -> None:
    outbox, send, gone = DictOutbox(), FakeSend(Blocked()), []
    sender = make(outbox, on_blocked=lambda item: gone.append(item.chat_id))
    result = await sender.deliver(outbox.add(1, 7), send)
    assert result.status == delivery.BLOCKED
    assert gone == [7] and outbox.rows[1]["status"] == delivery.BLOCKED
    assert send.calls == [7]  # never retried


async def test_migrated_group_is_followed() -> None:
    outbox, send, moves = DictOutbox(), FakeSend(Moved(-1009)), []

    def follow(item: Item, new_chat_id: int) -> bool:
        moves.append((item.chat_id, new_chat_id))
        return True

    result = await make(outbox, on_migrated=follow).deliver(outbox.add(1, -9), send)
    assert result.status == delivery.SENT and result.migrations == 1
    assert moves == [(-9, -1009)] and send.calls == [-9, -1009]
    assert outbox.rows[1]["chat_id"] == -1009


async def test_migrating_too_often_fails() -> None:
    outbox, send = DictOutbox(), FakeSend(Moved(-10), Moved(-11))
    result = await make(outbox).deliver(outbox.add(1, -9), send)
    assert result.status == delivery.FAILED
    assert outbox.rows[1]["reason"] == "migrated too often"


async def test_migration_settled_by_the_feature() -> None:
    outbox, send = DictOutbox(), FakeSend(Moved(-10))
    result = await make(outbox, on_migrated=lambda item, new: False).deliver(
        outbox.add(1, -9), send)
    assert result.status == delivery.MIGRATED and send.calls == [-9]


async def test_network_error_then_delivered() -> None:
    outbox, send = DictOutbox(), FakeSend(Down(), Down())
    result = await make(outbox).deliver(outbox.add(1, 7), send)
    assert result.status == delivery.SENT and result.network_errors == 2
    assert send.calls == [7, 7, 7]


async def test_network_errors_are_queued_again_then_given_up() -> None:
    outbox, send = DictOutbox(), FakeSend(*[Down()] * 100)
    sender = make(outbox)
    item = outbox.add(1, 7)
    result = await sender.deliver(item, send)
    assert result.status == delivery.PENDING  # in-place retries used up: queued for later
    assert outbox.retries == [(1, "network", 600)] and outbox.counted == [True]
    item.attempts = POLICY.max_attempts - 1  # the last round allowed
    result = await sender.deliver(item, send)
    assert result.status == delivery.GAVE_UP
    assert outbox.rows[1]["status"] == delivery.GAVE_UP


async def test_maybe_sent_is_unknown_and_never_resent() -> None:
    outbox, send = DictOutbox(), FakeSend(Lost())
    result = await make(outbox).deliver(outbox.add(1, 7), send)
    assert result.status == delivery.UNKNOWN and send.calls == [7]
    assert outbox.rows[1]["status"] == delivery.UNKNOWN


async def test_errors_not_classified_propagate() -> None:
    outbox = DictOutbox()
    with pytest.raises(KeyError):
        await make(outbox).deliver(outbox.add(1, 7), FakeSend(KeyError("bug")))
    assert outbox.rows[1]["status"] == "sending"  # left for recovery, like a crash


async def test_shutdown_during_a_flood_wait_queues_the_row() -> None:
    outbox, send, running = DictOutbox(), FakeSend(Flood(30)), [True]
    sender = make(outbox, running=lambda: running[0])
    task = asyncio.create_task(sender.deliver(outbox.add(1, 7), send))
    await asyncio.sleep(0.05)
    running[0] = False
    result = await asyncio.wait_for(task, 2)
    assert result.status == delivery.PENDING and outbox.retries == [(1, "shutdown", 0.0)]
    assert outbox.counted == [False]


@pytest.mark.parametrize(("resend", "after"), [(False, "unknown"), (True, "pending")])
async def test_crash_between_before_and_after(resend, after) -> None:
    outbox = DictOutbox()
    first = make(outbox)
    task = asyncio.create_task(first.deliver(outbox.add(1, 7), FakeSend(hang=True)))
    await asyncio.sleep(0.05)
    task.cancel()  # the process dies while the request is out
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert outbox.rows[1]["status"] == "sending"  # written before, never settled
    restarted = make(outbox, RetryPolicy(resend_after_crash=resend))
    assert restarted.recover() == 1
    assert outbox.rows[1]["status"] == after
    assert restarted.recover() == 0


async def test_one_budget_shared_by_two_callers() -> None:
    budget = TokenBucket(rate=0.001, capacity=4, now=time.monotonic())  # four, no refill
    outbox_a, outbox_b = DictOutbox(), DictOutbox()
    send_a, send_b = FakeSend(), FakeSend()
    a, b = make(outbox_a, budget=budget), make(outbox_b, budget=budget)

    async def drain(sender: Sender, outbox: DictOutbox, send: FakeSend) -> None:
        for row in range(1, 6):
            await sender.deliver(outbox.add(row, row), send)

    both = asyncio.gather(drain(a, outbox_a, send_a), drain(b, outbox_b, send_b))
    with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
        await asyncio.wait_for(both, 0.3)
    assert len(send_a.calls) + len(send_b.calls) == 4
    assert send_a.calls and send_b.calls  # both got a share


async def test_own_interval_paces_one_caller() -> None:
    outbox, send = DictOutbox(), FakeSend()
    sender = make(outbox, interval=0.05)
    started = time.monotonic()
    for row in range(1, 5):
        await sender.deliver(outbox.add(row, row), send)
    assert time.monotonic() - started >= 0.14  # four sends, three intervals
