"""What a bulk sender's `send` function raises to say how one request went.

These are signals, not errors of the bot: a feature's `send` (the broadcasts' Telegram adapter)
raises one for each request that did not simply succeed, `classify_outcome` turns it into the
shared sender's vocabulary (`bot.delivery.sender.Failure`), and the sender settles the outbox row.
None of them ever reaches a user or escapes the sender.
"""

from __future__ import annotations

from bot.delivery import sender as delivery


class SendOutcome(Exception):
    """Base of the signals a `send` function raises instead of returning a message id."""


class RetryLater(SendOutcome):
    """Not delivered; try again after `seconds`.

    Flood control (`transient=False`) is Telegram pacing the bot, never the recipient's fault:
    it is retried for as long as it takes. Transient errors count towards the attempts.
    """

    def __init__(self, seconds: float, reason: str = "flood control", *,
                 transient: bool = False) -> None:
        super().__init__(reason)
        self.seconds = max(0.0, float(seconds))
        self.reason = reason
        self.transient = transient


class Blocked(SendOutcome):
    """The recipient blocked the bot, deleted the account, or removed the bot from the group."""


class Migrated(SendOutcome):
    """The group became a supergroup with a new id."""

    def __init__(self, new_chat_id: int) -> None:
        super().__init__(f"migrated to {new_chat_id}")
        self.new_chat_id = new_chat_id


class SendFailed(SendOutcome):
    """Not delivered and not worth retrying."""


class MaybeSent(SendOutcome):
    """The request may have reached Telegram (the answer was lost): unknown, never resent."""


def classify_outcome(exc: Exception) -> delivery.Failure:
    """What a signal above (or any other exception) means to the shared sender."""
    if isinstance(exc, RetryLater):
        # Flood control is about the bot as a whole: everything waits, as Telegram asks.
        kind = delivery.NETWORK if exc.transient else delivery.FLOOD
        return delivery.Failure(kind, exc.reason, exc.seconds)
    if isinstance(exc, Blocked):
        return delivery.Failure(delivery.BLOCKED, str(exc)[:200])
    if isinstance(exc, Migrated):
        return delivery.Failure(delivery.MIGRATED, new_chat_id=exc.new_chat_id)
    if isinstance(exc, SendFailed):
        return delivery.Failure(delivery.FAILED, str(exc)[:200])
    if isinstance(exc, MaybeSent):
        return delivery.Failure(delivery.MAYBE_SENT, str(exc)[:200])
    # A bug or an unexpected reply: never stop the whole broadcast.
    return delivery.Failure(delivery.FAILED, repr(exc)[:200], unexpected=True)
