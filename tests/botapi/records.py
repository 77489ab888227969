"""Telegram's limits and error texts, and the records every part of the server shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


# Telegram's own wording, so a bot that inspects descriptions sees what production sends.
BLOCKED = "Forbidden: bot was blocked by the user"


KICKED = "Forbidden: bot was kicked from the group chat"


MIGRATED = "Bad Request: group chat was upgraded to a supergroup chat"


CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


MAX_TEXT = 4096


MAX_CAPTION = 1024


# Methods that put a message into a chat: rate-limited, refused for blocked/migrated chats,
# and listed by sent_messages().
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendSticker",
        "copyMessage",
        "forwardMessage",
    }
)


# Methods that act on a chat and therefore fail for blocked, kicked or migrated chats.
CHAT_METHODS = SEND_METHODS | {
    "editMessageText",
    "editMessageReplyMarkup",
    "editMessageCaption",
    "deleteMessage",
    "sendChatAction",
    "pinChatMessage",
    "unpinChatMessage",
    "unpinAllChatMessages",
}


# Update types a bot receives when it never said otherwise (Telegram's documented default).
DEFAULT_ALLOWED = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


SERVICE_FIELDS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
    }
)


BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """A Bot API error: becomes Telegram's error envelope with the same HTTP status."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: {message}")


def entity_error(message: str) -> ApiError:
    return bad_request(f"can't parse entities: {message}")


class WaitTimeout(AssertionError):
    """wait_for* gave up; the message dumps the recent calls so the failure explains itself."""


@dataclass(frozen=True)
class Call:
    """One Bot API request the bot made, as the server answered it."""

    index: int
    method: str
    params: dict[str, Any]
    time: float  # wall clock when received
    duration: float  # seconds until answered, artificial latency included
    ok: bool
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    parameters: dict | None = None
    files: dict[str, int] = field(default_factory=dict)  # multipart part name -> size in bytes
    dropped: bool = False  # connection was cut instead of answering (disconnect_next)

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """The text or caption as the bot sent it (before parse_mode is applied)."""
        return self.params.get("text", self.params.get("caption"))
