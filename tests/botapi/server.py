"""A local stand-in for the Telegram Bot API, for end-to-end tests and benchmarks.

The real bot (python-telegram-bot's HTTPXRequest) talks HTTP to this server exactly as it
would to api.telegram.org; tests inject updates as users would produce them, wait for what the
bot sends, and make the server fail the way Telegram fails (429, 403, ChatMigrated, dropped
connections, its own rate limiter). See README.md next to this file for a guide.

The server runs its own asyncio loop in a background thread, so synchronous and asynchronous
tests can drive it alike. All test-side helpers are thread-safe and never block on the loop.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import copy
import json
import math
import os
import re
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

__all__ = [
    "ApiError",
    "BotApiServer",
    "BotProcess",
    "Call",
    "RateLimit",
    "WaitTimeout",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]

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


# --------------------------------------------------------------------------- errors and records


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


@dataclass
class RateLimit:
    """Telegram's documented flood limits; the defaults mimic production."""

    overall_per_second: float = 30.0
    overall_burst: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: float = 20.0
    per_group_burst: int = 20


@dataclass
class _Fault:
    methods: frozenset[str] | None  # None: any method
    times: int
    chat_id: int | str | None
    code: int = 0
    description: str = ""
    parameters: dict | None = None
    disconnect: bool = False
    processed: bool = False

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass
class _Upload:
    filename: str
    content_type: str
    data: bytes


class _Bucket:
    """Token bucket; wait() says how long until one more message may go out."""

    __slots__ = ("capacity", "rate", "stamp", "tokens")

    def __init__(self, rate: float, capacity: int, now: float) -> None:
        self.rate = rate
        self.capacity = float(max(capacity, 1))
        self.tokens = self.capacity
        self.stamp = now

    def wait(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


# --------------------------------------------------------------------------- text and entities


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


class _Out:
    """Collects parsed text and tracks its UTF-16 length for entity offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.pos += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.parts)


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY = re.compile(r"&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,8});")
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _html_char(ref: str) -> str | None:
    if ref.startswith(("#x", "#X")):
        code = int(ref[2:], 16)
    elif ref.startswith("#"):
        code = int(ref[1:])
    else:
        return _HTML_NAMED.get(ref.lower())
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def _html_unescape(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return _html_char(m.group(1)) or m.group(0)

    return _HTML_ENTITY.sub(repl, value)


def _link_entity(url: str, offset: int, length: int) -> dict | None:
    if url.startswith("tg://user?id="):
        user_id = url.removeprefix("tg://user?id=")
        if not user_id.isdigit():
            return None
        user = {"id": int(user_id), "is_bot": False, "first_name": f"User{user_id}"}
        return {"type": "text_mention", "offset": offset, "length": length, "user": user}
    if not re.match(r"^(https?|tg|ftp)://\S+$|^[\w.-]+\.[a-z]{2,}(/\S*)?$", url, re.I):
        return None  # Telegram silently drops links it cannot use
    return {"type": "text_link", "offset": offset, "length": length, "url": url}


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Telegram's parse_mode=HTML: the visible text and its entities, or ApiError(400).

    Follows TDLib's rules: only the documented tags, the four named entities plus numeric
    ones, every '<' must start a tag, tags must nest.
    """
    out = _Out()
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            m = _HTML_ENTITY.match(text, i)
            decoded = _html_char(m.group(1)) if m else None
            if m and decoded is not None:
                out.add(decoded)
                i = m.end()
            else:
                out.add("&")
                i += 1
            continue
        if ch != "<":
            j = i
            while j < n and text[j] not in "<&":
                j += 1
            out.add(text[i:j])
            i = j
            continue
        begin = _byte_offset(text, i)
        if i + 1 < n and text[i + 1] == "/":
            end = text.find(">", i)
            if end < 0:
                raise entity_error(f"Unclosed end tag at byte offset {begin}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise entity_error(f"Unexpected end tag at byte offset {begin}")
            tag, start, attrs = stack.pop()
            if name != tag:
                raise entity_error(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            i = end + 1
            _close_html_tag(tag, start, attrs, out.pos, stack, entities)
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] not in ">/":
            j += 1
        name = text[i + 1 : j].lower()
        if j >= n:
            raise entity_error(f"Unclosed start tag at byte offset {begin}")
        if name not in _HTML_TAGS:
            raise entity_error(f'Unsupported start tag "{name}" at byte offset {begin}')
        attrs, j = _html_attributes(text, j, begin)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        stack.append((name, out.pos, attrs))
        i = j
    if stack:
        raise entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.text(), entities


def _html_attributes(text: str, j: int, begin: int) -> tuple[dict[str, str], int]:
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise entity_error(f"Unclosed start tag at byte offset {begin}")
        if text[j] == ">":
            return attrs, j + 1
        k = j
        while k < n and not text[k].isspace() and text[k] not in "=>":
            k += 1
        attr = text[j:k].lower()
        if k >= n:
            raise entity_error(f"Unclosed start tag at byte offset {begin}")
        value = ""
        if text[k] == "=":
            k += 1
            if k < n and text[k] in "\"'":
                quote = text[k]
                end = text.find(quote, k + 1)
                if end < 0:
                    raise entity_error(f"Unclosed start tag at byte offset {begin}")
                value, k = _html_unescape(text[k + 1 : end]), end + 1
            else:
                end = k
                while end < n and not text[end].isspace() and text[end] != ">":
                    end += 1
                value, k = _html_unescape(text[k:end]), end
        if attr:
            attrs[attr] = value
        j = k


def _close_html_tag(
    tag: str,
    start: int,
    attrs: dict[str, str],
    end: int,
    stack: list[tuple[str, int, dict[str, str]]],
    entities: list[dict],
) -> None:
    kind = _HTML_TAGS[tag]
    length = end - start
    if kind == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity carrying the language
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language.removeprefix("language-")
            return
    if length <= 0:
        return
    entity: dict | None = {"type": kind, "offset": start, "length": length}
    if kind == "text_link":
        entity = _link_entity(attrs.get("href", ""), start, length)
    elif kind == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        if not attrs.get("emoji-id", "").isdigit():
            raise entity_error("Custom emoji identifier must be a number")
        entity["custom_emoji_id"] = attrs["emoji-id"]
    if entity:
        entities.append(entity)


_MDV2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def parse_markdown_v2(text: str) -> tuple[str, list[dict]]:
    """Telegram's parse_mode=MarkdownV2, including its 'character is reserved' errors."""
    out = _Out()
    stack: list[tuple[str, int, int, str]] = []  # kind, start, byte offset, pre language
    entities: list[dict] = []
    quote: tuple[int, str] | None = None
    i, n = 0, len(text)

    def toggle(kind: str, at: int) -> None:
        if stack and stack[-1][0] == kind:
            _, start, _, _ = stack.pop()
            if out.pos > start:
                entities.append({"type": kind, "offset": start, "length": out.pos - start})
            return
        for open_kind, _, offset, _ in stack:
            if open_kind == kind:
                raise entity_error(
                    f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}"
                )
        stack.append((kind, out.pos, _byte_offset(text, at), ""))

    while i < n:
        ch = text[i]
        top = stack[-1][0] if stack else None
        if top not in ("code", "pre") and (i == 0 or text[i - 1] == "\n"):
            if text.startswith("**>", i) or ch == ">":
                if quote is None:
                    kind = "expandable_blockquote" if ch == "*" else "blockquote"
                    quote = (out.pos, kind)
                i += 3 if ch == "*" else 1
                continue
            if quote is not None:
                start, kind = quote
                if out.pos - 1 > start:
                    entities.append({"type": kind, "offset": start, "length": out.pos - 1 - start})
                quote = None
        if ch == "\\" and i + 1 < n and 0 < ord(text[i + 1]) <= 126:
            out.add(text[i + 1])
            i += 2
            continue
        if top in ("code", "pre"):
            if ch != "`":
                out.add(ch)
                i += 1
                continue
            if top == "code":
                toggle("code", i)
                i += 1
                continue
            if not text.startswith("```", i):
                raise entity_error(
                    "Character '`' is reserved and must be escaped with the preceding '\\'"
                )
            kind, start, _, language = stack.pop()
            if out.pos > start:
                entity = {"type": "pre", "offset": start, "length": out.pos - start}
                if language:
                    entity["language"] = language
                entities.append(entity)
            i += 3
            continue
        if ch == "*":
            toggle("bold", i)
            i += 1
        elif ch == "_":
            if text.startswith("__", i):
                toggle("underline", i)
                i += 2
            else:
                toggle("italic", i)
                i += 1
        elif ch == "~":
            toggle("strikethrough", i)
            i += 1
        elif ch == "|" and text.startswith("||", i):
            toggle("spoiler", i)
            i += 2
        elif ch == "`":
            if text.startswith("```", i):
                newline = text.find("\n", i + 3)
                language = text[i + 3 : newline] if newline >= 0 else ""
                if newline >= 0 and re.fullmatch(r"[\w+#.-]*", language):
                    stack.append(("pre", out.pos, _byte_offset(text, i), language))
                    i = newline + 1
                else:
                    stack.append(("pre", out.pos, _byte_offset(text, i), ""))
                    i += 3
            else:
                toggle("code", i)
                i += 1
        elif ch == "[" or (ch == "!" and text.startswith("![", i)):
            kind = "custom_emoji" if ch == "!" else "text_link"
            stack.append((kind, out.pos, _byte_offset(text, i), ""))
            i += 2 if ch == "!" else 1
        elif ch == "]" and top in ("text_link", "custom_emoji"):
            kind, start, _, _ = stack.pop()
            i += 1
            url = ""
            if i < n and text[i] == "(":
                j = i + 1
                chars: list[str] = []
                while j < n and text[j] != ")":
                    if text[j] == "\\" and j + 1 < n:
                        j += 1
                    chars.append(text[j])
                    j += 1
                if j >= n:
                    raise entity_error(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i)}"
                    )
                url, i = "".join(chars), j + 1
            if out.pos > start and url:
                if kind == "custom_emoji":
                    emoji_id = url.removeprefix("tg://emoji?id=")
                    entities.append(
                        {
                            "type": "custom_emoji",
                            "offset": start,
                            "length": out.pos - start,
                            "custom_emoji_id": emoji_id,
                        }
                    )
                else:
                    link = _link_entity(url, start, out.pos - start)
                    if link:
                        entities.append(link)
        elif ch in _MDV2_RESERVED:
            raise entity_error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.add(ch)
            i += 1
    if stack:
        kind, _, offset, _ = stack[-1]
        raise entity_error(f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {offset}")
    if quote is not None and out.pos > quote[0]:
        entities.append({"type": quote[1], "offset": quote[0], "length": out.pos - quote[0]})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return out.text(), entities


def parse_markdown(text: str) -> tuple[str, list[dict]]:
    """Telegram's legacy parse_mode=Markdown: *bold* _italic_ `code` ```pre``` [text](url)."""
    out = _Out()
    entities: list[dict] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.add(ch)
            i += 1
            continue
        begin = _byte_offset(text, i)
        if ch == "[":
            close = text.find("](", i + 1)
            end = text.find(")", close + 2) if close >= 0 else -1
            if close < 0 or end < 0:
                raise entity_error(f"Can't find end of the entity starting at byte offset {begin}")
            start = out.pos
            out.add(text[i + 1 : close])
            link = _link_entity(text[close + 2 : end], start, out.pos - start)
            if link and out.pos > start:
                entities.append(link)
            i = end + 1
            continue
        marker = "```" if text.startswith("```", i) else ch
        end = text.find(marker, i + len(marker))
        if end < 0:
            raise entity_error(f"Can't find end of the entity starting at byte offset {begin}")
        inner = text[i + len(marker) : end]
        language = ""
        if marker == "```" and "\n" in inner and re.fullmatch(r"[\w+#.-]*", inner.split("\n")[0]):
            language, inner = inner.split("\n", 1)
        start = out.pos
        out.add(inner)
        kind = {"*": "bold", "_": "italic", "`": "code", "```": "pre"}[marker]
        if out.pos > start:
            entity = {"type": kind, "offset": start, "length": out.pos - start}
            if language:
                entity["language"] = language
            entities.append(entity)
        i = end + len(marker)
    return out.text(), entities


_AUTO_ENTITY_PATTERNS = (
    ("bot_command", re.compile(r"(?<![A-Za-z0-9_/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")),
    (
        "email",
        re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
    ),
    ("mention", re.compile(r"(?<![A-Za-z0-9_@.])@[A-Za-z0-9_]{3,32}")),
    ("url", re.compile(r"(?i)\bhttps?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")),
    (
        "url",
        re.compile(
            r"(?i)(?<![A-Za-z0-9.@/:-])(?:[a-z0-9-]+\.)+(?:com|cn|net|org|top|xyz|info|cc|vip|me)"
            r"(?:/[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]*)?(?![A-Za-z0-9])"
        ),
    ),
)


def auto_entities(text: str) -> list[dict]:
    """The entities Telegram detects in a user's plain text: commands, mentions, links."""
    found: list[tuple[int, int, str]] = []
    for kind, pattern in _AUTO_ENTITY_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e, _ in found):
                continue
            found.append((m.start(), m.end(), kind))
    found.sort()
    return [
        {"type": kind, "offset": utf16_len(text[:s]), "length": utf16_len(text[s:e])}
        for s, e, kind in found
    ]


def _trim(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Telegram strips leading and trailing whitespace and shifts entities to match."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


# --------------------------------------------------------------------------- parameters

# Telegram types these as strings; everything else PTB JSON-encodes in form bodies.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "description",
        "short_description",
        "name",
        "title",
        "language_code",
        "emoji",
        "file_id",
        "photo",
        "document",
        "voice",
        "sticker",
        "audio",
        "video",
        "animation",
        "thumbnail",
        "message_effect_id",
        "business_connection_id",
    }
)
_JSON_LIKE = re.compile(r'^(?:[{\["]|-?\d|true$|false$|null$)')


def decode_form_value(name: str, value: str) -> Any:
    """Undo PTB's form encoding: strings are sent raw, everything else as JSON."""
    if name in _STRING_PARAMS or not _JSON_LIKE.match(value):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_int(params: dict, name: str, *, required: bool = True) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is empty")
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def _image_size(data: bytes) -> tuple[int, int] | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            size = int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + size
        return 0, 0
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return 512, 512
    if data.startswith(b"BM") and len(data) >= 26:
        return struct.unpack("<ii", data[18:26])
    return None


# --------------------------------------------------------------------------- the server


class BotApiServer:
    """The fake Bot API. Use as a context manager or call start()/stop()."""

    def __init__(
        self,
        token: str | None = None,
        *,
        bot_username: str = "pension_cert_test_bot",
        bot_name: str = "养老金认证助手",
        privacy_mode: bool = True,
        rate_limit: RateLimit | bool | None = None,
        latency: float = 0.0,
        strict_chats: bool = False,
        webhook_concurrency: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token or f"7000000001:AAE-local-test-{secrets.token_hex(10)}"
        self.bot_id = int(self.token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.strict_chats = strict_chats
        self.webhook_concurrency = max(1, webhook_concurrency)
        self.clock = clock
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._processes: list[BotProcess] = []
        self._defaults = {
            "privacy_mode": privacy_mode,
            "rate_limit": rate_limit,
            "latency": latency,
        }
        self._methods: dict[str, Callable[[dict, dict], Any]] = {}
        for name in dir(self):
            if name.startswith("_api_"):
                method = name.removeprefix("_api_")
                self._methods[method.lower()] = getattr(self, name)
        self._init_connection_state()
        self._reset_state()

    # ------------------------------------------------------------------ lifecycle

    def _init_connection_state(self) -> None:
        """What a running bot relies on across tests: reset() keeps all of it.

        Update ids only grow (a bot's offset would otherwise swallow new updates), long-poll
        bookkeeping stays true, and a webhook stays set.
        """
        self._next_update_id = 100_000_001
        self._webhook: dict[str, Any] = {}
        self._webhook_error: dict[str, Any] = {}
        self._in_flight: set[int] = set()
        self._poll_generation = 0
        self._poll_seq = 0
        self._active_polls = 0
        self._seq = 0
        self._closing = False

    def _reset_state(self) -> None:
        with self._lock:
            self.privacy_mode: bool = self._defaults["privacy_mode"]
            self._rate: RateLimit | None = None
            self.set_rate_limit(self._defaults["rate_limit"])
            self._latency: dict[str | None, float] = {None: self._defaults["latency"]}
            self._calls: list[Call] = []
            self._sent: list[tuple[int, dict]] = []
            self._downloads: list[str] = []  # file paths the bot fetched from the file URL
            self._updates: list[dict] = []
            self._filtered: list[dict] = []
            # PTB re-sends allowed_updates with every getUpdates, so a default is safe here
            self._allowed: frozenset[str] = DEFAULT_ALLOWED
            self._users: dict[int, dict] = {}
            self._chats: dict[int, dict] = {}
            self._messages: dict[tuple[int, int], dict] = {}
            self._message_ids: dict[int, int] = {}
            self._keyboards: dict[int, list[list[str]] | None] = {}
            self._pinned: dict[int, list[int]] = {}
            self._admins: dict[int, dict] = {}
            self._blocked: set[int | str] = set()
            self._kicked: set[int] = set()
            self._migrated: dict[int, int] = {}
            self._faults: list[_Fault] = []
            self._callbacks: dict[str, dict] = {}
            self._inline: dict[str, dict] = {}
            self._commands: dict[str, list[dict]] = {}
            self._files: dict[str, dict] = {}
            self._stats: Counter[str] = Counter()
            self._marks: dict[Any, int] = {}

    def start(self) -> BotApiServer:
        if self._thread is not None:
            return self
        self._closing = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="botapi-server", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._astart(), self._loop)
        self._port = future.result(timeout=30)
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        for process in list(self._processes):
            process.stop()
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._astop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()
        self._thread = None
        self._loop = None

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run_loop(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _astart(self) -> int:
        self._event = asyncio.Event()
        self._webhook_tasks: list[asyncio.Task] = []
        self._session: ClientSession | None = None
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # Cancelling handlers whose client vanished lets a killed bot's long poll end at once.
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=2.0,
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(self._runner, sock)
        await site.start()
        return sock.getsockname()[1]

    async def _astop(self) -> None:
        self._closing = True
        self._wake_in_loop()
        self._stop_webhook_workers_in_loop()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """For Application.builder().base_url(...) and TELEGRAM_BASE_URL."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For Application.builder().base_file_url(...)."""
        return f"{self.url}/file/bot"

    def bot_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """os.environ plus what a bot process needs to reach this server."""
        env = dict(os.environ)
        env.update(
            TELEGRAM_BOT_TOKEN=self.token,
            TELEGRAM_BASE_URL=self.base_url,
            TELEGRAM_BASE_FILE_URL=self.base_file_url,
            PYTHONUNBUFFERED="1",
        )
        env.update(extra or {})
        return env

    def make_bot(self, **kwargs: Any) -> Any:
        """A telegram.Bot wired to this server (use as `async with server.make_bot() as bot`).

        Plain HTTP to 127.0.0.1 needs no certificates; skipping the CA bundle makes a Bot
        ~20x cheaper to build, which matters when every test builds one.
        """
        from telegram import Bot
        from telegram.request import HTTPXRequest

        def request() -> HTTPXRequest:
            return HTTPXRequest(httpx_kwargs={"verify": False})

        kwargs.setdefault("request", request())
        kwargs.setdefault("get_updates_request", request())
        return Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url, **kwargs)

    def reset(self) -> None:
        """Forget what tests did: calls, pending updates, chats, messages, faults, limits.

        Keeps token, port and what a running bot depends on (update-id sequence, webhook,
        long polls), so one bot process can serve many tests; allowed_updates goes back to
        Telegram's default.
        """
        self._reset_state()
        self._notify()

    def clear(self) -> None:
        """Forget recorded calls and sent messages only."""
        with self._lock:
            self._calls = []
            self._sent = []
            self._marks = {}
            self._stats = Counter()

    # ------------------------------------------------------------------ configuration

    def set_rate_limit(self, limit: RateLimit | bool | None = True) -> None:
        """Enable Telegram-like flood limits (True: defaults), or disable them (None/False)."""
        with self._lock:
            self._rate = RateLimit() if limit is True else (limit or None)
            self._buckets: dict[Any, _Bucket] = {}

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay every answer (or one method's answers) by `seconds`."""
        with self._lock:
            self._latency[method] = seconds

    def set_privacy_mode(self, enabled: bool) -> None:
        with self._lock:
            self.privacy_mode = enabled

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str | Iterable[str] | None,
        error_code: int,
        *,
        times: int = 1,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        description: str | None = None,
    ) -> None:
        """Answer the next `times` matching calls with an error instead of processing them.

        method None or "*" matches any method. Defaults follow Telegram: 429 carries
        parameters.retry_after (default 1), 403 says the bot was blocked, 400 with
        migrate_to_chat_id is the supergroup-upgrade error.
        """
        parameters: dict[str, int] = {}
        if error_code == 429:
            parameters["retry_after"] = retry_after or 1
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {parameters.get('retry_after')}",
                403: BLOCKED,
                401: "Unauthorized",
                404: "Not Found",
                409: "Conflict: injected failure",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, "Bad Request: injected failure")
            if migrate_to_chat_id is not None:
                description = MIGRATED
        self._add_fault(
            _Fault(
                self._method_set(method),
                times,
                chat_id,
                code=error_code,
                description=description,
                parameters=parameters or None,
            )
        )

    def disconnect_next(
        self,
        method: str | Iterable[str] | None,
        *,
        times: int = 1,
        chat_id: int | str | None = None,
        processed: bool = False,
    ) -> None:
        """Cut the connection instead of answering (PTB raises NetworkError).

        processed=True performs the call first (the message is really sent) and then loses
        the answer — the case that makes naive retries send duplicates.
        """
        self._add_fault(
            _Fault(self._method_set(method), times, chat_id, disconnect=True, processed=processed)
        )

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = []

    def block(self, chat_id: int, *, notify: bool = False) -> None:
        """The user blocks the bot: every call to that chat fails with 403 until unblock().

        notify=True also sends the my_chat_member update Telegram emits (status kicked).
        """
        with self._lock:
            self._blocked.add(chat_id)
        if notify:
            self._my_chat_member(chat_id, chat_id, "member", "kicked")

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """Calls to chat_id fail with ChatMigrated(new_chat_id); no updates are sent."""
        with self._lock:
            self._migrated[chat_id] = new_chat_id
            old = self._chats.get(chat_id)
            if old is not None and new_chat_id not in self._chats:
                self._chats[new_chat_id] = {
                    "id": new_chat_id,
                    "title": old.get("title", f"Group {new_chat_id}"),
                    "type": "supergroup",
                }
            if chat_id in self._admins:
                self._admins[new_chat_id] = copy.deepcopy(self._admins[chat_id])

    def _method_set(self, method: str | Iterable[str] | None) -> frozenset[str] | None:
        if method is None or method == "*":
            return None
        names = [method] if isinstance(method, str) else list(method)
        return frozenset(self._canonical(m) for m in names)

    def _canonical(self, method: str) -> str:
        fn = self._methods.get(method.lower())
        if fn is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        return fn.__name__.removeprefix("_api_")

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    # ------------------------------------------------------------------ users and chats

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> dict:
        """Register (or update) a user; returns the User object as Telegram sends it."""
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                user = {
                    "id": user_id,
                    "is_bot": False,
                    "first_name": first_name or f"用户{user_id}",
                }
                if language_code:
                    user["language_code"] = language_code
                self._users[user_id] = user
            if first_name:
                user["first_name"] = first_name
            if last_name:
                user["last_name"] = last_name
            if username:
                user["username"] = username
            return copy.deepcopy(user)

    def add_chat(self, chat_id: int, chat_type: str = "group", *, title: str | None = None) -> dict:
        """Register a group/supergroup/channel chat; returns its Chat object."""
        with self._lock:
            chat = self._chats.setdefault(chat_id, {"id": chat_id, "type": chat_type})
            chat["type"] = chat_type
            if chat_type != "private":
                chat["title"] = title or chat.get("title") or f"测试群{abs(chat_id)}"
            return copy.deepcopy(chat)

    def set_chat_admins(
        self,
        chat_id: int,
        user_ids: Iterable[int],
        *,
        creator_id: int | None = None,
        bot_is_admin: bool = True,
    ) -> None:
        """Who getChatAdministrators/getChatMember report as admins of a group.

        creator_id (default: the first of user_ids) is the owner. An admin bot sees every
        group message even with privacy mode on, as on Telegram.
        """
        ids = list(user_ids)
        with self._lock:
            self._ensure_group(chat_id)
            for uid in ids:
                self.add_user(uid)
            if creator_id is None and ids:
                creator_id = ids[0]
            if creator_id is not None:
                self.add_user(creator_id)
            self._admins[chat_id] = {"ids": ids, "creator": creator_id, "bot": bot_is_admin}

    def _ensure_group(
        self, chat_id: int, chat_type: str | None = None, title: str | None = None
    ) -> dict:
        chat = self._chats.get(chat_id)
        if (
            chat is None
            or (chat_type and chat["type"] != chat_type)
            or (title and chat.get("title") != title)
        ):
            if chat_type is None:
                chat_type = (
                    chat["type"]
                    if chat
                    else ("supergroup" if str(chat_id).startswith("-100") else "group")
                )
            self.add_chat(chat_id, chat_type, title=title)
        return self._chats[chat_id]

    def _private_chat(self, user_id: int) -> dict:
        user = self._users.get(user_id) or self.add_user(user_id)
        chat = {"id": user_id, "first_name": user["first_name"], "type": "private"}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._chats[user_id] = chat
        return chat

    def _chat_for(self, chat_id: int) -> dict:
        """Chat object for a message in chat_id; unknown chats are invented unless strict."""
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict_chats:
                raise bad_request("chat not found")
            chat = self._private_chat(chat_id) if chat_id > 0 else self._ensure_group(chat_id)
        return copy.deepcopy(chat)

    @property
    def bot_user(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------------ update injection

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str | None,
        *,
        reply_to_message_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        chat_title: str | None = None,
        fields: dict,
    ) -> dict:
        with self._lock:
            user = self.add_user(
                user_id, first_name=first_name, last_name=last_name, username=username
            )
            if chat_id is None:
                chat_id = user_id
            if chat_id in self._migrated:
                raise ValueError(f"chat {chat_id} was migrated to {self._migrated[chat_id]}")
            if chat_type == "private" or (chat_type is None and chat_id == user_id):
                if chat_id != user_id:
                    raise ValueError("a private chat's id is the user's id")
                chat = self._private_chat(user_id)
                self._blocked.discard(user_id)  # writing to the bot means it is unblocked
            else:
                chat = self._ensure_group(chat_id, chat_type, chat_title)
            message = {
                "message_id": self._next_message_id(chat_id),
                "from": user,
                "chat": copy.deepcopy(chat),
                "date": int(self.clock()),
                **fields,
            }
            if reply_to_message_id is not None:
                original = self._messages.get((chat_id, reply_to_message_id))
                if original is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat_id}")
                message["reply_to_message"] = _without_reply(original)
            self._messages[(chat_id, message["message_id"])] = message
            return copy.deepcopy(message)

    def _deliver_message(self, message: dict, kind: str = "message") -> dict:
        chat_id = message["chat"]["id"]
        if kind == "message" and not self._bot_sees(message):
            with self._lock:
                self._filtered.append(message)
                self._mark(chat_id)
            return message
        self.inject_update({kind: message}, chat_id=chat_id)
        return message

    def _bot_sees(self, message: dict) -> bool:
        """Telegram's privacy mode: what a bot that is not an admin gets from a group."""
        chat = message["chat"]
        if chat["type"] not in ("group", "supergroup") or not self.privacy_mode:
            return True
        if self._admins.get(chat["id"], {}).get("bot"):
            return True
        if SERVICE_FIELDS & message.keys():
            return True
        if message.get("via_bot", {}).get("id") == self.bot_id:
            return True
        if message.get("reply_to_message", {}).get("from", {}).get("id") == self.bot_id:
            return True
        text = message.get("text") or message.get("caption") or ""
        for entity in message.get("entities") or message.get("caption_entities") or []:
            value = _entity_text(text, entity)
            if entity["type"] == "bot_command":
                target = value.partition("@")[2]
                if entity["offset"] == 0 and (
                    not target or target.lower() == self.bot_username.lower()
                ):
                    return True
            if entity["type"] == "mention" and value[1:].lower() == self.bot_username.lower():
                return True
        return False

    def inject_update(self, payload: dict, *, chat_id: int | None = None) -> dict | None:
        """Queue a raw update ({"message": {...}} etc.); update_id is assigned here.

        Returns the update, or None when the bot's allowed_updates excludes its type.
        """
        kind = next(iter(payload))
        with self._lock:
            self._mark(chat_id)
            self._stats["updates_injected"] += 1
            if kind not in self._allowed:
                self._stats["updates_not_allowed"] += 1
                return None
            update = {"update_id": self._next_update_id, **copy.deepcopy(payload)}
            self._next_update_id += 1
            self._updates.append(update)
        self._notify()
        return update

    def _mark(self, chat_id: Any) -> None:
        mark = len(self._calls)
        self._marks[None] = mark
        if chat_id is not None:
            self._marks[chat_id] = mark

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str | None = None,
        reply_to_message_id: int | None = None,
        entities: list[dict] | str | None = "auto",
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        chat_title: str | None = None,
    ) -> dict:
        """A user writes `text` (private chat unless chat_id is a group). Returns the Message.

        entities="auto" detects /commands, @mentions, links and e-mails like Telegram.
        In groups with privacy mode on, messages the bot would not see are kept out of its
        updates (see filtered_messages()).
        """
        if entities == "auto":
            entities = auto_entities(text)
        fields: dict[str, Any] = {"text": text}
        if entities:
            fields["entities"] = entities
        message = self._user_message(
            user_id,
            chat_id,
            chat_type,
            reply_to_message_id=reply_to_message_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            chat_title=chat_title,
            fields=fields,
        )
        return self._deliver_message(message)

    def edit_text(self, user_id: int, message: dict, text: str) -> dict:
        """The user edits one of their messages: an edited_message update."""
        with self._lock:
            key = (message["chat"]["id"], message["message_id"])
            stored = self._messages[key]
            stored["text"] = text
            stored["edit_date"] = int(self.clock())
            entities = auto_entities(text)
            stored.pop("entities", None)
            if entities:
                stored["entities"] = entities
            edited = copy.deepcopy(stored)
        return self._deliver_message(edited, "edited_message")

    def _media_message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str | None,
        caption: str | None,
        fields: dict,
    ) -> dict:
        if caption:
            fields["caption"] = caption
            caption_entities = auto_entities(caption)
            if caption_entities:
                fields["caption_entities"] = caption_entities
        return self._deliver_message(self._user_message(user_id, chat_id, chat_type, fields=fields))

    def _user_file(self, data: bytes, *, file_size: int | None = None, **extra: Any) -> dict:
        """A file a user sent. file_size is what Telegram reports (default: len(data)), so a
        test can stand for a huge file without moving its bytes."""
        size = len(data) if file_size is None else file_size
        with self._lock:
            self._seq += 1
            file_id = f"BQACAgUAAx{self._seq:08d}{secrets.token_hex(4)}"
            unique = f"AgAD{self._seq:06d}"
            self._files[file_id] = {
                "data": data,
                "size": size,
                "unique": unique,
                "path": f"user/file_{self._seq}",
            }
        return {"file_id": file_id, "file_unique_id": unique, "file_size": size, **extra}

    def downloads(self) -> list[str]:
        """Paths of the files the bot downloaded (file URL), oldest first."""
        with self._lock:
            return list(self._downloads)

    def send_voice(
        self,
        user_id: int,
        *,
        duration: int = 3,
        chat_id: int | None = None,
        chat_type: str | None = None,
        caption: str | None = None,
    ) -> dict:
        voice = self._user_file(b"OggS" + bytes(2000), duration=duration, mime_type="audio/ogg")
        return self._media_message(user_id, chat_id, chat_type, caption, {"voice": voice})

    def send_sticker(
        self,
        user_id: int,
        *,
        emoji: str = "👍",
        chat_id: int | None = None,
        chat_type: str | None = None,
        is_animated: bool = False,
    ) -> dict:
        sticker = self._user_file(
            b"RIFF\x00\x00\x00\x00WEBP" + bytes(1000),
            width=512,
            height=512,
            emoji=emoji,
            is_animated=is_animated,
            is_video=False,
            type="regular",
            set_name="TestStickers",
        )
        return self._media_message(user_id, chat_id, chat_type, None, {"sticker": sticker})

    def send_photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str | None = None,
        width: int = 1280,
        height: int = 960,
        data: bytes | None = None,
    ) -> dict:
        """A photo from a user; `data` is the picture the bot downloads (getFile + file URL).

        Without `data`, bytes that only look like a JPEG. The thumbnail is the same picture's
        first bytes: a bot should read the largest size."""
        data = b"\xff\xd8\xff\xe0" + bytes(3000) if data is None else data
        sizes = [
            self._user_file(data[:1000], width=max(1, width // 16), height=max(1, height // 16)),
            self._user_file(data, width=width, height=height),
        ]
        return self._media_message(user_id, chat_id, chat_type, caption, {"photo": sizes})

    def send_document(
        self,
        user_id: int,
        *,
        file_name: str = "证明.pdf",
        data: bytes = b"%PDF-1.4\n" + bytes(500),
        mime_type: str = "application/pdf",
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str | None = None,
        file_size: int | None = None,
    ) -> dict:
        document = self._user_file(data, file_name=file_name, mime_type=mime_type,
                                   file_size=file_size)
        return self._media_message(user_id, chat_id, chat_type, caption, {"document": document})

    def send_animation(
        self,
        user_id: int,
        *,
        data: bytes = b"\x00\x00\x00\x18ftypmp42" + bytes(2000),
        mime_type: str = "video/mp4",
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str | None = None,
    ) -> dict:
        """A GIF as Telegram delivers it: an `animation` (usually converted to MP4), and the
        same file as `document` too, as the Bot API does for backward compatibility."""
        animation = self._user_file(data, file_name="animation.gif.mp4", mime_type=mime_type,
                                    width=320, height=240, duration=2)
        document = {k: animation[k] for k in ("file_id", "file_unique_id", "file_size",
                                              "file_name", "mime_type")}
        return self._media_message(user_id, chat_id, chat_type, caption,
                                   {"animation": animation, "document": document})

    def send_contact(self, user_id: int, phone_number: str, *, chat_id: int | None = None) -> dict:
        with self._lock:
            first = (self._users.get(user_id) or self.add_user(user_id))["first_name"]
        contact = {"phone_number": phone_number, "first_name": first, "user_id": user_id}
        return self._media_message(user_id, chat_id, None, None, {"contact": contact})

    def press_button(
        self,
        user_id: int,
        message: dict | int,
        data: str | None = None,
        *,
        text: str | None = None,
        chat_id: int | None = None,
    ) -> str:
        """The user presses an inline button on a message the bot sent.

        message is the Message dict (or its message_id with chat_id); the button is chosen by
        callback `data` or by its visible `text`. Raises LookupError when the message (as it
        is now, after edits) has no such button. Returns the callback query id.
        """
        if isinstance(message, dict):
            chat_id, message_id = message["chat"]["id"], message["message_id"]
        else:
            message_id = message
        if chat_id is None:
            raise ValueError("press_button(message_id) needs chat_id")
        with self._lock:
            current = self._messages.get((chat_id, message_id))
            if current is None:
                raise LookupError(
                    f"message {message_id} in chat {chat_id} does not exist (deleted?)"
                )
            buttons = [
                b for row in current.get("reply_markup", {}).get("inline_keyboard", []) for b in row
            ]
            chosen = [
                b
                for b in buttons
                if "callback_data" in b
                and (data is None or b["callback_data"] == data)
                and (text is None or b["text"] == text)
            ]
            if not chosen or (data is None and text is None):
                listing = [(b.get("text"), b.get("callback_data")) for b in buttons]
                raise LookupError(
                    f"no button data={data!r} text={text!r} on message {message_id}; "
                    f"buttons: {listing}"
                )
            query = self._callback_query(user_id, chat_id, current, chosen[0]["callback_data"])
        self.inject_update({"callback_query": query}, chat_id=chat_id)
        return query["id"]

    def _callback_query(self, user_id: int, chat_id: int, message: dict, data: str) -> dict:
        """A new callback query from `user_id` on `message` (call with the lock held)."""
        user = self.add_user(user_id)
        self._seq += 1
        query_id = f"{self.bot_id % 10**6}{self._seq:012d}"
        self._callbacks[query_id] = {"answered": False, "user_id": user_id}
        return {
            "id": query_id,
            "from": user,
            "message": copy.deepcopy(message),
            "chat_instance": str(-(abs(chat_id) * 7919 % 10**18)),
            "data": data,
        }

    def forge_callback(self, user_id: int, message: dict, data: str) -> str:
        """A callback query with any `data`, as a modified client could send for `message`.

        Unlike press_button the data need not be on the message's buttons (ids out of range,
        garbage, old formats). Returns the callback query id.
        """
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        with self._lock:
            current = self._messages.get((chat_id, message_id)) or message
            query = self._callback_query(user_id, chat_id, current, data)
        self.inject_update({"callback_query": query}, chat_id=chat_id)
        return query["id"]

    def inline_query(
        self, user_id: int, query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> str:
        """The user types "@bot query" somewhere; returns the inline query id."""
        with self._lock:
            user = self.add_user(user_id)
            self._seq += 1
            query_id = f"{self.bot_id % 10**6}{self._seq:012d}"
            self._inline[query_id] = {"answered": False, "user_id": user_id, "query": query}
        payload = {
            "id": query_id,
            "from": user,
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self.inject_update({"inline_query": payload}, chat_id=user_id)
        return query_id

    def inline_results(self, query_id: str) -> list[dict] | None:
        """What the bot answered to an inline query (None while unanswered)."""
        with self._lock:
            return copy.deepcopy(self._inline.get(query_id, {}).get("results"))

    def choose_inline_result(
        self, user_id: int, query_id: str, result_id: str, *, chat_id: int
    ) -> dict:
        """The user picks one of the bot's inline results and it is posted into chat_id.

        Returns the posted message (via_bot set); the bot receives it only when it is a member
        that would see it, as on Telegram.
        """
        with self._lock:
            results = self._inline.get(query_id, {}).get("results") or []
            result = next((r for r in results if r.get("id") == result_id), None)
            if result is None:
                raise LookupError(f"inline query {query_id} has no result {result_id!r}")
            content = result.get("input_message_content", {})
            text, entities = self._format(
                content.get("message_text", ""), content.get("parse_mode"), content.get("entities")
            )
        fields: dict[str, Any] = {"text": text, "via_bot": self.bot_user}
        if entities:
            fields["entities"] = entities
        if result.get("reply_markup"):
            fields["reply_markup"] = result["reply_markup"]
        message = self._user_message(user_id, chat_id, None, fields=fields)
        with self._lock:
            known = chat_id in self._chats and chat_id != user_id
        return self._deliver_message(message) if known else message

    def add_bot_to_group(
        self,
        chat_id: int,
        *,
        title: str = "社区养老服务群",
        by_user_id: int = 1000,
        chat_type: str | None = None,
    ) -> dict:
        """A user adds the bot to a group: my_chat_member plus the new_chat_members message."""
        with self._lock:
            self._kicked.discard(chat_id)
            self._ensure_group(chat_id, chat_type, title)
        self._my_chat_member(chat_id, by_user_id, "left", "member")
        message = self._user_message(
            by_user_id,
            chat_id,
            None,
            fields={
                "new_chat_members": [self.bot_user],
                "new_chat_member": self.bot_user,
                "new_chat_participant": self.bot_user,
            },
        )
        return self._deliver_message(message)

    def join_group(self, chat_id: int, *, timeout: float = 10.0, **kwargs: Any) -> dict:
        """add_bot_to_group(), then wait for the bot's greeting there; returns the greeting.

        For bots that greet a group they are added to: later replies are then not mixed up
        with the greeting.
        """
        mark = self.mark()
        self.add_bot_to_group(chat_id, **kwargs)
        (greeting,) = self.wait_for_messages(chat_id, since=mark, timeout=timeout)
        return greeting

    def remove_bot_from_group(self, chat_id: int, *, by_user_id: int = 1000) -> None:
        """The bot is kicked: my_chat_member (kicked); later calls to the chat get 403."""
        with self._lock:
            self._kicked.add(chat_id)
        self._my_chat_member(chat_id, by_user_id, "member", "kicked")

    def _my_chat_member(self, chat_id: int, by_user_id: int, old: str, new: str) -> None:
        with self._lock:
            user = self.add_user(by_user_id)
            chat = self._chat_for(chat_id)

        def member(status: str) -> dict:
            body: dict[str, Any] = {"status": status, "user": self.bot_user}
            if status == "kicked":
                body["until_date"] = 0
            return body

        payload = {
            "chat": chat,
            "from": user,
            "date": int(self.clock()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        self.inject_update({"my_chat_member": payload}, chat_id=chat_id)

    def migrate_group(
        self, old_chat_id: int, new_chat_id: int, *, by_user_id: int = 1000
    ) -> tuple[dict, dict]:
        """Upgrade a group to a supergroup as Telegram does.

        Sends the migrate_to_chat_id service message in the old group and the
        migrate_from_chat_id one in the new supergroup; afterwards calls to the old id fail
        with ChatMigrated. Returns both messages.
        """
        with self._lock:
            title = self._ensure_group(old_chat_id).get("title")
        old_message = self._user_message(
            by_user_id, old_chat_id, None, fields={"migrate_to_chat_id": new_chat_id}
        )
        self._deliver_message(old_message)
        self.migrate(old_chat_id, new_chat_id)
        with self._lock:
            self.add_chat(new_chat_id, "supergroup", title=title)
        new_message = self._user_message(
            by_user_id, new_chat_id, "supergroup", fields={"migrate_from_chat_id": old_chat_id}
        )
        self._deliver_message(new_message)
        return old_message, new_message

    # ------------------------------------------------------------------ inspection

    def mark(self) -> int:
        """Number of calls recorded so far; pass as since= to only see later calls."""
        with self._lock:
            return len(self._calls)

    @property
    def last_mark(self) -> int:
        """mark() as it was at the most recent injected update."""
        with self._lock:
            return self._marks.get(None, 0)

    def calls(
        self, method: str | Iterable[str] | None = None, chat_id: Any = None, since: int = 0
    ) -> list[Call]:
        methods = self._method_set(method)
        with self._lock:
            return [c for c in self._calls[since:] if _call_matches(c, methods, chat_id)]

    def sent_messages(self, chat_id: int | None = None, since: int = 0) -> list[dict]:
        """Messages the bot successfully sent (sendMessage, sendPhoto, copyMessage…), oldest first.

        Each is the Message as returned to the bot at send time; get_message() shows the
        current state after edits.
        """
        with self._lock:
            return [
                copy.deepcopy(m)
                for index, m in self._sent
                if index >= since and (chat_id is None or m["chat"]["id"] == chat_id)
            ]

    def get_message(self, chat_id: int, message_id: int) -> dict | None:
        with self._lock:
            message = self._messages.get((chat_id, message_id))
            return copy.deepcopy(message)

    def reply_keyboard(self, chat_id: int) -> list[list[str]] | None:
        """Button texts of the reply keyboard the user currently sees in chat_id (None: none)."""
        with self._lock:
            return copy.deepcopy(self._keyboards.get(chat_id))

    def pinned_messages(self, chat_id: int) -> list[int]:
        with self._lock:
            return list(self._pinned.get(chat_id, []))

    def my_commands(
        self, scope: dict | str | None = None, language_code: str = ""
    ) -> list[dict] | None:
        """Commands set for a scope ("default", "all_private_chats", {"type": "chat", …})."""
        with self._lock:
            commands = self._commands.get(_scope_key(scope, language_code))
            return copy.deepcopy(commands)

    def filtered_messages(self) -> list[dict]:
        """Group messages withheld from the bot by privacy mode."""
        with self._lock:
            return copy.deepcopy(self._filtered)

    def pending_updates(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._updates)

    def webhook_info(self) -> dict:
        with self._lock:
            return copy.deepcopy({**self._webhook, **self._webhook_error})

    def stats(self) -> dict[str, Any]:
        """Counters: calls, per-method calls, sent, rate_limited (429s from the built-in
        limiter), injected_errors, blocked, updates_injected, webhook_delivered…"""
        with self._lock:
            result: dict[str, Any] = dict(self._stats)
            result["calls"] = len(self._calls)
            result["by_method"] = dict(Counter(c.method for c in self._calls))
            for key in ("sent", "rate_limited", "injected_errors", "blocked", "webhook_delivered"):
                result.setdefault(key, 0)
            return result

    # ------------------------------------------------------------------ waiting

    def wait_for(
        self,
        method: str | Iterable[str] | None,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = 10.0,
        count: int = 1,
        chat_id: Any = None,
        since: int = 0,
    ) -> list[Call]:
        """Block until `count` matching calls (recorded from index `since` on) exist.

        Returns all matching calls found; raises WaitTimeout with a dump of recent calls.
        """
        methods = self._method_set(method)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    c
                    for c in self._calls[since:]
                    if _call_matches(c, methods, chat_id) and (predicate is None or predicate(c))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    what = f"{count} {method or 'any'} call(s)"
                    if chat_id is not None:
                        what += f" for chat {chat_id}"
                    raise WaitTimeout(
                        self._dump(f"waited {timeout}s for {what} since #{since}; got {len(found)}")
                    )
                self._cond.wait(min(remaining, 1.0))

    def wait_for_messages(
        self,
        chat_id: int | None = None,
        *,
        count: int = 1,
        timeout: float = 10.0,
        since: int | None = None,
        predicate: Callable[[dict], bool] | None = None,
    ) -> list[dict]:
        """Block until the bot has sent `count` messages to chat_id (any chat if None).

        since=None counts from the most recent update injected into that chat — i.e. "the
        replies to what the user just did". Returns the Message dicts.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            if since is None:
                since = self._marks.get(chat_id, 0)
            while True:
                # _sent is ordered by call index: skip the old part without scanning it
                start = bisect.bisect_left(self._sent, since, key=lambda item: item[0])
                found = [
                    copy.deepcopy(m)
                    for _, m in self._sent[start:]
                    if (chat_id is None or m["chat"]["id"] == chat_id)
                    and (predicate is None or predicate(m))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(
                        self._dump(
                            f"waited {timeout}s for {count} message(s) to chat {chat_id} "
                            f"since #{since}; got {len(found)}"
                        )
                    )
                self._cond.wait(min(remaining, 1.0))

    def ask(
        self, user_id: int, text: str, *, count: int = 1, timeout: float = 10.0, **kwargs: Any
    ) -> list[dict]:
        """send_text() then wait_for_messages() in that chat: the bot's replies."""
        message = self.send_text(user_id, text, **kwargs)
        return self.wait_for_messages(message["chat"]["id"], count=count, timeout=timeout)

    async def wait_for_async(self, *args: Any, **kwargs: Any) -> list[Call]:
        """wait_for() for async tests whose own loop must keep running meanwhile."""
        return await asyncio.to_thread(self.wait_for, *args, **kwargs)

    async def wait_for_messages_async(self, *args: Any, **kwargs: Any) -> list[dict]:
        return await asyncio.to_thread(self.wait_for_messages, *args, **kwargs)

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        with self._lock:
            return self._active_polls > 0

    @property
    def poll_count(self) -> int:
        """How many getUpdates requests have started so far."""
        with self._lock:
            return self._poll_seq

    def wait_until_polling(
        self,
        timeout: float = 30.0,
        *,
        after: int | None = None,
        process: BotProcess | None = None,
    ) -> None:
        """Block until a bot is waiting in a long poll (or has set a webhook).

        after=poll_count taken before launching a bot ignores older pollers; a `process` that
        exits meanwhile fails fast with its log.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                polling = self._active_polls > 0 and (after is None or self._poll_seq > after)
                if polling or self._webhook.get("url"):
                    return
                if process is not None and process.returncode is not None:
                    raise WaitTimeout(
                        self._dump(f"bot process exited with {process.returncode} before polling")
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(self._dump(f"no bot started polling within {timeout}s"))
                self._cond.wait(min(remaining, 0.2))

    def _dump(self, headline: str, limit: int = 25) -> str:
        with self._lock:
            recent = [c for c in self._calls if c.method != "getUpdates" or not c.ok][-limit:]
            lines = [headline, f"recent calls ({len(self._calls)} in total, getUpdates hidden):"]
            start = self._calls[0].time if self._calls else 0.0
            for c in recent:
                outcome = "ok" if c.ok else f"{c.error_code} {c.description}"
                if c.dropped:
                    outcome += " [connection dropped]"
                detail = f" chat={c.chat_id}" if c.chat_id is not None else ""
                if c.text is not None:
                    detail += f" text={_short(c.text)!r}"
                if c.method == "answerCallbackQuery" and c.params.get("text"):
                    detail = f" text={_short(c.params['text'])!r}"
                lines.append(f"  #{c.index} +{c.time - start:.3f}s {c.method}{detail} -> {outcome}")
            ids = [u["update_id"] for u in self._updates]
            lines.append(
                f"pending updates: {len(ids)} {ids[:10]}; active long polls: {self._active_polls}; "
                f"webhook: {self._webhook.get('url') or 'none'}"
            )
            if self._filtered:
                lines.append(f"withheld by privacy mode: {len(self._filtered)} group message(s)")
        for process in self._processes:
            lines.append(
                f"--- log of {process.name} (pid {process.pid}, rc {process.returncode}) ---"
            )
            lines.append(process.log_tail(40))
        return "\n".join(lines)

    # ------------------------------------------------------------------ HTTP plumbing

    def _notify(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake_in_loop)

    def _wake_in_loop(self) -> None:
        event = getattr(self, "_event", None)
        if event is None:
            return
        self._event = asyncio.Event()
        event.set()
        with self._lock:
            if self._webhook.get("url") and not self._webhook_tasks_alive():
                self._start_webhook_workers()

    async def _read_params(self, request: web.Request) -> tuple[dict, dict[str, _Upload]]:
        params: dict[str, Any] = {k: decode_form_value(k, v) for k, v in request.query.items()}
        files: dict[str, _Upload] = {}
        if request.method != "POST" or not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = _Upload(value.filename, value.content_type, value.file.read())
                else:
                    params[key] = decode_form_value(key, str(value))
        return params, files

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        received, started = time.time(), time.monotonic()
        token = request.match_info["token"]
        if token != self.token:
            code, text = (
                (401, "Unauthorized") if re.fullmatch(r"\d+:[\w-]+", token) else (404, "Not Found")
            )
            return _envelope_error(ApiError(code, text))
        fn = self._methods.get(request.match_info["method"].lower())
        if fn is None:
            return _envelope_error(ApiError(404, "Not Found"))
        method = fn.__name__.removeprefix("_api_")
        try:
            params, files = await self._read_params(request)
        except ApiError as exc:
            return _envelope_error(exc)
        if method == "getUpdates":
            return await self._handle_get_updates(params, received, started)
        # Shielded: a client that gives up does not stop a call that reached "Telegram".
        outcome = await asyncio.shield(self._process(method, fn, params, files, received, started))
        if outcome is None:
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        return outcome

    async def _process(
        self,
        method: str,
        fn: Callable[[dict, dict], Any],
        params: dict,
        files: dict[str, _Upload],
        received: float,
        started: float,
    ) -> web.Response | None:
        latency = self._latency.get(method, self._latency.get(None, 0.0))
        if latency:
            await asyncio.sleep(latency)
        sizes = {name: len(upload.data) for name, upload in files.items()}
        chat_id = params.get("chat_id")
        fault = self._take_fault(method, chat_id)
        result: Any = None
        error: ApiError | None = None
        if fault is not None and not fault.disconnect:
            error = ApiError(fault.code, fault.description, fault.parameters)
            with self._lock:
                self._stats["injected_errors"] += 1
        elif fault is None or fault.processed:
            try:
                with self._lock:
                    if method in CHAT_METHODS and chat_id is not None:
                        self._check_chat(method, chat_id)
                    result = fn(params, files)
            except ApiError as exc:
                error = exc
        dropped = fault is not None and fault.disconnect
        if dropped and error is None and not fault.processed:
            error = ApiError(0, "connection dropped before processing")
        with self._cond:
            call = Call(
                index=len(self._calls),
                method=method,
                params=params,
                time=received,
                duration=time.monotonic() - started,
                ok=error is None,
                result=result,  # every _api_ method returns a fresh snapshot
                error_code=error.code if error else None,
                description=error.description if error else None,
                parameters=error.parameters if error else None,
                files=sizes,
                dropped=dropped,
            )
            self._calls.append(call)
            if error is None and method in SEND_METHODS:
                self._stats["sent"] += 1
                sent = self._sent_message_for(method, params, result)
                if sent is not None:
                    self._sent.append((call.index, sent))
            self._cond.notify_all()
        if dropped:
            return None
        if error is not None:
            return _envelope_error(error)
        return _envelope_ok(result)

    def _take_fault(self, method: str, chat_id: Any) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, chat_id):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _check_chat(self, method: str, chat_id: Any) -> None:
        chat_id = self._resolve_chat_id(chat_id)
        if chat_id in self._migrated:
            raise ApiError(400, MIGRATED, {"migrate_to_chat_id": self._migrated[chat_id]})
        if chat_id in self._blocked:
            self._stats["blocked"] += 1
            raise ApiError(403, BLOCKED)
        if chat_id in self._kicked:
            self._stats["blocked"] += 1
            raise ApiError(403, KICKED)
        if self._rate is not None and method in SEND_METHODS:
            self._rate_check(chat_id)

    def _rate_check(self, chat_id: int) -> None:
        assert self._rate is not None
        now = time.monotonic()
        rate = self._rate
        wanted = [("all", rate.overall_per_second, rate.overall_burst)]
        wanted.append((("chat", chat_id), rate.per_chat_per_second, rate.per_chat_burst))
        if chat_id < 0:
            wanted.append(
                (("group", chat_id), rate.per_group_per_minute / 60, rate.per_group_burst)
            )
        buckets = []
        for key, per_second, burst in wanted:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(per_second, burst, now)
            buckets.append(bucket)
        wait = max(b.wait(now) for b in buckets)
        if wait > 0:
            self._stats["rate_limited"] += 1
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        for bucket in buckets:
            bucket.take()

    def _sent_message_for(self, method: str, params: dict, result: Any) -> dict | None:
        if isinstance(result, dict) and "chat" in result:
            return result  # a snapshot already; readers get copies via sent_messages()
        if method == "copyMessage" and isinstance(result, dict):
            chat_id = self._resolve_chat_id(params["chat_id"])
            return copy.deepcopy(self._messages.get((chat_id, result["message_id"])))
        return None

    async def _handle_get_updates(
        self, params: dict, received: float, started: float
    ) -> web.Response:
        def finish(result: Any = None, error: ApiError | None = None) -> web.Response:
            with self._cond:
                self._calls.append(
                    Call(
                        index=len(self._calls),
                        method="getUpdates",
                        params=params,
                        time=received,
                        duration=time.monotonic() - started,
                        ok=error is None,
                        result=result,
                        error_code=error.code if error else None,
                        description=error.description if error else None,
                    )
                )
                self._cond.notify_all()
            return _envelope_error(error) if error else _envelope_ok(result)

        try:
            offset = _as_int(params, "offset", required=False)
            limit = min(max(_as_int(params, "limit", required=False) or 100, 1), 100)
            timeout = float(params.get("timeout") or 0)
        except (ApiError, ValueError):
            return finish(error=bad_request("wrong parameter in getUpdates"))
        fault = self._take_fault("getUpdates", None)
        if fault is not None and not fault.disconnect:
            return finish(error=ApiError(fault.code, fault.description, fault.parameters))
        with self._cond:
            if self._webhook.get("url"):
                return finish(error=ApiError(409, CONFLICT_WEBHOOK))
            allowed = params.get("allowed_updates")
            if allowed is not None:
                self._allowed = frozenset(allowed) if allowed else DEFAULT_ALLOWED
            self._confirm(offset)
            self._poll_generation += 1
            self._poll_seq += 1
            generation = self._poll_generation
            self._active_polls += 1
            self._cond.notify_all()
        self._wake_in_loop()  # an older poller must now answer 409
        deadline = time.monotonic() + timeout
        try:
            while True:
                event = self._event
                with self._lock:
                    if generation != self._poll_generation:
                        return finish(error=ApiError(409, CONFLICT_POLL))
                    if self._webhook.get("url"):
                        return finish(error=ApiError(409, CONFLICT_WEBHOOK))
                    batch = copy.deepcopy(self._updates[:limit])
                if batch or self._closing:
                    return finish(batch)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return finish([])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._cond:
                self._active_polls -= 1
                self._cond.notify_all()

    def _confirm(self, offset: int | None) -> None:
        """Telegram forgets updates once a getUpdates asks for a higher offset."""
        if offset is None:
            return
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _envelope_error(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        with self._lock:
            data = next((f["data"] for f in self._files.values() if f["path"] == path), None)
            self._downloads.append(path)
        if data is None:
            return _envelope_error(ApiError(404, "Not Found"))
        return web.Response(body=data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ webhook delivery

    def _webhook_tasks_alive(self) -> bool:
        return any(not t.done() for t in getattr(self, "_webhook_tasks", []))

    def _start_webhook_workers(self) -> None:
        for _ in range(min(self.webhook_concurrency, self._webhook.get("max_connections", 40))):
            self._webhook_tasks.append(
                asyncio.get_running_loop().create_task(self._webhook_worker())
            )

    def _stop_webhook_workers(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._stop_webhook_workers_in_loop)

    def _stop_webhook_workers_in_loop(self) -> None:
        for task in getattr(self, "_webhook_tasks", []):
            task.cancel()
        self._webhook_tasks = []

    async def _webhook_worker(self) -> None:
        in_flight = self._in_flight
        failures = 0
        while not self._closing:
            event = self._event
            with self._lock:
                url = self._webhook.get("url")
                if not url:
                    return
                secret = self._webhook.get("secret_token")
                update = next((u for u in self._updates if u["update_id"] not in in_flight), None)
                if update is not None:
                    in_flight.add(update["update_id"])
            if update is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 1.0)
                continue
            headers = {"Content-Type": "application/json"}
            if secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = secret
            error = None
            try:
                if self._session is None:
                    self._session = ClientSession(timeout=ClientTimeout(total=30))
                body = json.dumps(update, ensure_ascii=False).encode()
                async with self._session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if not 200 <= response.status < 300:
                        error = (
                            f"Wrong response from the webhook: {response.status} {response.reason}"
                        )
            except Exception as exc:
                error = f"Connection failed: {exc!r}"
            with self._lock:
                in_flight.discard(update["update_id"])
                if error is None:
                    self._updates = [
                        u for u in self._updates if u["update_id"] != update["update_id"]
                    ]
                    self._stats["webhook_delivered"] += 1
                    failures = 0
                else:
                    self._webhook_error = {
                        "last_error_date": int(self.clock()),
                        "last_error_message": error,
                    }
                    self._stats["webhook_errors"] += 1
                    failures += 1
            if error is not None:
                # Telegram backs off too; tests want quick recovery once the bot listens.
                await asyncio.sleep(min(0.05 * 2**failures, 1.0))

    # ------------------------------------------------------------------ Bot API methods
    # Each _api_<method>(params, files) runs under self._lock in the server loop and returns
    # the "result" or raises ApiError.

    def _api_getMe(self, params: dict, files: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_logOut(self, params: dict, files: dict) -> bool:
        return True

    def _api_close(self, params: dict, files: dict) -> bool:
        return True

    def _api_getUpdates(self, params: dict, files: dict) -> list:  # pragma: no cover - routed
        raise AssertionError("getUpdates is handled by _handle_get_updates")

    def _api_setWebhook(self, params: dict, files: dict) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if url and not re.match(r"^https?://", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._updates = []
        if params.get("allowed_updates") is not None:
            self._allowed = frozenset(params["allowed_updates"]) or DEFAULT_ALLOWED
        self._webhook_error = {}
        if not url:
            self._webhook = {}
        else:
            self._webhook = {
                "url": url,
                "secret_token": secret,
                "max_connections": int(params.get("max_connections") or 40),
            }
        self._cond.notify_all()
        self._notify()
        return True

    def _api_deleteWebhook(self, params: dict, files: dict) -> bool:
        if params.get("drop_pending_updates"):
            self._updates = []
        self._webhook = {}
        self._webhook_error = {}
        self._stop_webhook_workers()
        return True

    def _api_getWebhookInfo(self, params: dict, files: dict) -> dict:
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook.get("url"):
            info["max_connections"] = self._webhook["max_connections"]
            if self._allowed != DEFAULT_ALLOWED:
                info["allowed_updates"] = sorted(self._allowed)
        info.update(self._webhook_error)
        return info

    # messages

    def _resolve_chat_id(self, value: Any) -> int:
        if isinstance(value, str) and value.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username", "").lower() == value[1:].lower():
                    return chat["id"]
            raise bad_request("chat not found")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None

    def _target_chat(self, params: dict) -> int:
        if params.get("chat_id") in (None, ""):
            raise bad_request("chat_id is empty")
        return self._resolve_chat_id(params["chat_id"])

    def _format(
        self, text: str, parse_mode: str | None, entities: list | None
    ) -> tuple[str, list[dict]]:
        mode = (parse_mode or "").lower()
        if mode == "html":
            text, found = parse_html(text)
        elif mode == "markdownv2":
            text, found = parse_markdown_v2(text)
        elif mode == "markdown":
            text, found = parse_markdown(text)
        elif mode:
            raise bad_request(f"unsupported parse_mode {parse_mode}")
        else:
            found = list(entities or [])
        return _trim(text, found)

    def _check_markup(self, markup: Any, chat_id: int | None) -> dict | None:
        """Validate reply_markup; returns what a Message carries (inline keyboards only)."""
        if markup in (None, ""):
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    _check_inline_button(button)
            return {"inline_keyboard": rows}
        if "keyboard" in markup:
            rows = markup["keyboard"]
            texts = []
            for row in rows:
                texts.append([b if isinstance(b, str) else b.get("text", "") for b in row])
                if any(not t for t in texts[-1]):
                    raise bad_request("BUTTON_TEXT_INVALID")
            if chat_id is not None:
                self._keyboards[chat_id] = texts
            return None
        if markup.get("remove_keyboard"):
            if chat_id is not None:
                self._keyboards[chat_id] = None
            return None
        if markup.get("force_reply"):
            return None
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _reply_target(self, params: dict, chat_id: int) -> dict | None:
        reply = params.get("reply_parameters")
        message_id = None
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat_id):
                chat_id = self._resolve_chat_id(reply["chat_id"])
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
        if message_id is None:
            return None
        original = self._messages.get((chat_id, int(message_id)))
        if original is None and not allow_missing:
            raise bad_request("message to be replied not found")
        return _without_reply(original) if original else None

    def _bot_message(
        self, chat_id: int, params: dict, fields: dict, markup_chat: bool = True
    ) -> dict:
        chat = self._chat_for(chat_id)
        reply = self._reply_target(params, chat_id)
        markup = self._check_markup(params.get("reply_markup"), chat_id if markup_chat else None)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user,
            "chat": chat,
            "date": int(self.clock()),
        }
        if reply:
            message["reply_to_message"] = reply
        message.update(fields)
        if markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        return copy.deepcopy(message)

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        raw = params.get("text")
        if raw is None or raw == "":
            raise bad_request("message text is empty")
        text, entities = self._format(str(raw), params.get("parse_mode"), params.get("entities"))
        if not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        fields: dict[str, Any] = {"text": text}
        if entities:
            fields["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            fields["link_preview_options"] = params["link_preview_options"]
        return self._bot_message(chat_id, params, fields)

    def _caption_fields(self, params: dict) -> dict:
        raw = params.get("caption")
        if not raw:
            return {}
        text, entities = self._format(
            str(raw), params.get("parse_mode"), params.get("caption_entities")
        )
        if utf16_len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        fields: dict[str, Any] = {"caption": text} if text else {}
        if entities:
            fields["caption_entities"] = entities
        return fields

    def _stored_file(self, name: str, params: dict, files: dict) -> tuple[str, dict]:
        """file_id and record for an uploaded part, a known file_id, or a URL."""
        upload = files.get(name)
        if upload is None:
            ref = params.get(name)
            if not ref:
                raise bad_request(f"there is no {name} in the request")
            ref = str(ref)
            if ref.startswith("attach://"):
                upload = files.get(ref.removeprefix("attach://"))
                if upload is None:
                    raise bad_request(f"file {ref} not found in the request")
            elif ref in self._files:
                return ref, self._files[ref]
            elif re.match(r"^https?://", ref):
                upload = _Upload(
                    ref.rsplit("/", 1)[-1] or "file", "application/octet-stream", b"\x00" * 1024
                )
            else:
                raise bad_request("wrong file identifier/HTTP URL specified")
        if not upload.data:
            raise bad_request("file must be non-empty")
        self._seq += 1
        file_id = f"{name[:2].upper()}ACAgUAAx{self._seq:08d}{secrets.token_hex(4)}"
        record = {
            "data": upload.data,
            "unique": f"AgAD{self._seq:06d}",
            "path": f"{name}s/file_{self._seq}",
            "name": upload.filename,
            "mime": upload.content_type,
        }
        self._files[file_id] = record
        return file_id, record

    def _api_sendPhoto(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        fields = self._caption_fields(params)
        file_id, record = self._stored_file("photo", params, files)
        size = _image_size(record["data"])
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        fields["photo"] = [
            {
                "file_id": file_id + "_s",
                "file_unique_id": record["unique"] + "s",
                "file_size": max(len(record["data"]) // 10, 1),
                "width": max(width // 4, 1),
                "height": max(height // 4, 1),
            },
            {
                "file_id": file_id,
                "file_unique_id": record["unique"],
                "file_size": len(record["data"]),
                "width": width,
                "height": height,
            },
        ]
        return self._bot_message(chat_id, params, fields)

    def _api_sendDocument(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        fields = self._caption_fields(params)
        file_id, record = self._stored_file("document", params, files)
        fields["document"] = {
            "file_id": file_id,
            "file_unique_id": record["unique"],
            "file_name": record.get("name") or "document",
            "mime_type": record.get("mime") or "application/octet-stream",
            "file_size": len(record["data"]),
        }
        return self._bot_message(chat_id, params, fields)

    def _api_sendVoice(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        fields = self._caption_fields(params)
        file_id, record = self._stored_file("voice", params, files)
        fields["voice"] = {
            "file_id": file_id,
            "file_unique_id": record["unique"],
            "duration": int(params.get("duration") or 1),
            "mime_type": "audio/ogg",
            "file_size": len(record["data"]),
        }
        return self._bot_message(chat_id, params, fields)

    def _api_sendSticker(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        file_id, record = self._stored_file("sticker", params, files)
        fields = {
            "sticker": {
                "file_id": file_id,
                "file_unique_id": record["unique"],
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
                "file_size": len(record["data"]),
            }
        }
        return self._bot_message(chat_id, params, fields)

    def _api_sendChatAction(self, params: dict, files: dict) -> bool:
        self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _source_message(self, params: dict) -> dict:
        if params.get("from_chat_id") in (None, ""):
            raise bad_request("from_chat_id is empty")
        from_chat = self._resolve_chat_id(params["from_chat_id"])
        message_id = _as_int(params, "message_id")
        original = self._messages.get((from_chat, message_id))
        if original is None:
            raise bad_request("message to copy not found")
        return original

    _CONTENT_FIELDS = (
        "text",
        "entities",
        "photo",
        "document",
        "voice",
        "sticker",
        "caption",
        "caption_entities",
        "contact",
    )

    def _api_copyMessage(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        original = self._source_message(params)
        fields = {k: copy.deepcopy(v) for k, v in original.items() if k in self._CONTENT_FIELDS}
        if "caption" in params:
            fields.pop("caption", None)
            fields.pop("caption_entities", None)
            fields.update(self._caption_fields(params))
        message = self._bot_message(chat_id, params, fields)
        return {"message_id": message["message_id"]}

    def _api_forwardMessage(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        original = self._source_message(params)
        fields = {k: copy.deepcopy(v) for k, v in original.items() if k in self._CONTENT_FIELDS}
        sender = original.get("from", {})
        fields["forward_origin"] = {"type": "user", "sender_user": sender, "date": original["date"]}
        params = {k: v for k, v in params.items() if k != "reply_markup"}
        return self._bot_message(chat_id, params, fields)

    def _edit_target(self, params: dict) -> dict | None:
        """The stored message an edit refers to; None for inline messages."""
        if params.get("inline_message_id"):
            return None
        chat_id = self._target_chat(params)
        message_id = _as_int(params, "message_id")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(
        self, message: dict | None, changes: dict, markup: dict | None, params: dict
    ) -> dict | bool:
        if message is None:
            return True
        before = {k: message.get(k) for k in (*changes, "reply_markup")}
        after = {**changes, "reply_markup": markup}
        if before == after:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in after.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(self.clock())
        return copy.deepcopy(message)

    def _api_editMessageText(self, params: dict, files: dict) -> dict | bool:
        message = self._edit_target(params)
        raw = params.get("text")
        if not raw:
            raise bad_request("message text is empty")
        text, entities = self._format(str(raw), params.get("parse_mode"), params.get("entities"))
        if not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        if message is not None and "text" not in message:
            raise bad_request("there is no text in the message to edit")
        markup = self._check_markup(params.get("reply_markup"), None)
        return self._apply_edit(
            message, {"text": text, "entities": entities or None}, markup, params
        )

    def _api_editMessageCaption(self, params: dict, files: dict) -> dict | bool:
        message = self._edit_target(params)
        fields = self._caption_fields(params)
        markup = self._check_markup(params.get("reply_markup"), None)
        changes = {
            "caption": fields.get("caption"),
            "caption_entities": fields.get("caption_entities"),
        }
        return self._apply_edit(message, changes, markup, params)

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> dict | bool:
        message = self._edit_target(params)
        markup = self._check_markup(params.get("reply_markup"), None)
        return self._apply_edit(message, {}, markup, params)

    def _api_deleteMessage(self, params: dict, files: dict) -> bool:
        chat_id = self._target_chat(params)
        message_id = _as_int(params, "message_id")
        if self._messages.pop((chat_id, message_id), None) is None:
            raise bad_request("message to delete not found")
        return True

    def _api_deleteMessages(self, params: dict, files: dict) -> bool:
        chat_id = self._target_chat(params)
        for message_id in params.get("message_ids") or []:
            self._messages.pop((chat_id, int(message_id)), None)
        return True

    # callback and inline queries

    def _api_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        query = self._callbacks.get(str(params.get("callback_query_id", "")))
        if query is None or query["answered"]:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        return True

    def _api_answerInlineQuery(self, params: dict, files: dict) -> bool:
        query = self._inline.get(str(params.get("inline_query_id", "")))
        if query is None or query["answered"]:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            result_id = str(result.get("id", ""))
            if not result.get("type") or not result_id or len(result_id.encode()) > 64:
                raise bad_request("RESULT_ID_INVALID")
            if result_id in seen:
                raise bad_request("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            if result["type"] == "article" and not result.get("title"):
                raise bad_request("RESULT_TITLE_EMPTY")
            content = result.get("input_message_content")
            if content is not None and "message_text" in content:
                text, _ = self._format(
                    content["message_text"], content.get("parse_mode"), content.get("entities")
                )
                if not text:
                    raise bad_request("MESSAGE_EMPTY")
                if utf16_len(text) > MAX_TEXT:
                    raise bad_request("MESSAGE_TOO_LONG")
            if result.get("reply_markup"):
                self._check_markup(result["reply_markup"], None)
        query["answered"] = True
        query["results"] = copy.deepcopy(results)
        return True

    # commands

    def _api_setMyCommands(self, params: dict, files: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = _scope_key(params.get("scope"), params.get("language_code") or "")
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _api_getMyCommands(self, params: dict, files: dict) -> list:
        key = _scope_key(params.get("scope"), params.get("language_code") or "")
        return copy.deepcopy(self._commands.get(key, []))

    def _api_deleteMyCommands(self, params: dict, files: dict) -> bool:
        self._commands.pop(_scope_key(params.get("scope"), params.get("language_code") or ""), None)
        return True

    def _api_setMyDescription(self, params: dict, files: dict) -> bool:
        return True

    def _api_setMyShortDescription(self, params: dict, files: dict) -> bool:
        return True

    def _api_setMyName(self, params: dict, files: dict) -> bool:
        return True

    def _api_setChatMenuButton(self, params: dict, files: dict) -> bool:
        return True

    # chats and members

    def _api_getChat(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        if chat_id in self._migrated:
            raise ApiError(400, MIGRATED, {"migrate_to_chat_id": self._migrated[chat_id]})
        chat = self._chat_for(chat_id)
        info = {
            **chat,
            "accent_color_id": abs(chat_id) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        pinned = self._pinned.get(chat_id)
        if pinned and (chat_id, pinned[-1]) in self._messages:
            info["pinned_message"] = _without_reply(self._messages[(chat_id, pinned[-1])])
        return info

    def _member(self, chat_id: int, user_id: int) -> dict:
        user = self.bot_user if user_id == self.bot_id else self.add_user(user_id)
        admins = self._admins.get(chat_id)
        if admins and user_id == admins["creator"]:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if admins and (user_id in admins["ids"] or (user_id == self.bot_id and admins["bot"])):
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
            }
        if user_id == self.bot_id and chat_id in self._kicked:
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": "member", "user": user}

    def _api_getChatMember(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        user_id = _as_int(params, "user_id")
        assert user_id is not None
        if chat_id in self._migrated:
            raise ApiError(400, MIGRATED, {"migrate_to_chat_id": self._migrated[chat_id]})
        self._chat_for(chat_id)
        return self._member(chat_id, user_id)

    def _api_getChatAdministrators(self, params: dict, files: dict) -> list:
        chat_id = self._target_chat(params)
        if chat_id in self._migrated:
            raise ApiError(400, MIGRATED, {"migrate_to_chat_id": self._migrated[chat_id]})
        if self._chat_for(chat_id)["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = self._admins.get(chat_id)
        if not admins:
            return []
        ids = list(dict.fromkeys([admins["creator"], *admins["ids"]]))
        if admins["bot"]:
            ids.append(self.bot_id)
        return [self._member(chat_id, uid) for uid in ids if uid is not None]

    def _api_getChatMemberCount(self, params: dict, files: dict) -> int:
        chat_id = self._target_chat(params)
        senders = {
            m.get("from", {}).get("id") for (cid, _), m in self._messages.items() if cid == chat_id
        }
        return len(senders | {self.bot_id})

    def _api_pinChatMessage(self, params: dict, files: dict) -> bool:
        chat_id = self._target_chat(params)
        message_id = _as_int(params, "message_id")
        if (chat_id, message_id) not in self._messages:
            raise bad_request("message to pin not found")
        admins = self._admins.get(chat_id)
        if chat_id < 0 and admins is not None and not admins["bot"]:
            raise bad_request("not enough rights to manage pinned messages in the chat")
        assert message_id is not None
        self._pinned.setdefault(chat_id, []).append(message_id)
        return True

    def _api_unpinChatMessage(self, params: dict, files: dict) -> bool:
        chat_id = self._target_chat(params)
        pinned = self._pinned.get(chat_id, [])
        message_id = _as_int(params, "message_id", required=False)
        if message_id is None and pinned:
            pinned.pop()
        elif message_id in pinned:
            pinned.remove(message_id)
        return True

    def _api_unpinAllChatMessages(self, params: dict, files: dict) -> bool:
        self._pinned.pop(self._target_chat(params), None)
        return True

    def _api_leaveChat(self, params: dict, files: dict) -> bool:
        self._kicked.add(self._target_chat(params))
        return True

    def _api_getFile(self, params: dict, files: dict) -> dict:
        file_id = str(params.get("file_id", ""))
        record = self._files.get(file_id.removesuffix("_s"))
        if record is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": record["unique"],
            "file_size": record.get("size", len(record["data"])),
            "file_path": record["path"],
        }


# --------------------------------------------------------------------------- small helpers


def _envelope_ok(result: Any) -> web.Response:
    body = json.dumps({"ok": True, "result": result}, ensure_ascii=False)
    return web.Response(text=body, content_type="application/json")


def _envelope_error(error: ApiError) -> web.Response:
    payload: dict[str, Any] = {
        "ok": False,
        "error_code": error.code,
        "description": error.description,
    }
    if error.parameters:
        payload["parameters"] = error.parameters
    return web.Response(
        status=error.code or 500,
        text=json.dumps(payload, ensure_ascii=False),
        content_type="application/json",
    )


def _call_matches(call: Call, methods: frozenset[str] | None, chat_id: Any) -> bool:
    if methods is not None and call.method not in methods:
        return False
    return chat_id is None or str(call.chat_id) == str(chat_id)


def _without_reply(message: dict) -> dict:
    """Telegram nests reply_to_message only one level deep."""
    return copy.deepcopy({k: v for k, v in message.items() if k != "reply_to_message"})


def _entity_text(text: str, entity: dict) -> str:
    encoded = text.encode("utf-16-le")
    start, end = entity["offset"] * 2, (entity["offset"] + entity["length"]) * 2
    return encoded[start:end].decode("utf-16-le", errors="replace")


def _scope_key(scope: dict | str | None, language_code: str) -> str:
    if scope is None:
        scope = {"type": "default"}
    elif isinstance(scope, str):
        scope = {"type": scope}
    parts = [scope.get("type", "default")]
    for key in ("chat_id", "user_id"):
        if scope.get(key) is not None:
            parts.append(f"{key}={scope[key]}")
    return "|".join([*parts, language_code or ""])


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    if not str(button.get("text", "")).strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [a for a in BUTTON_ACTIONS if a in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = str(button["callback_data"])
        if not 1 <= len(data.encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not re.match(r"^(https?|tg)://[^\s]+$", str(button["url"])):
        raise bad_request(
            f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
        )


def _short(text: str, limit: int = 60) -> str:
    text = text.replace("\n", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- bot processes


class BotProcess:
    """A bot run as a child process against a BotApiServer, with its output in a log file.

    >>> with BotProcess(server, ["-m", "bot", "run"], env={"DATABASE_PATH": db}) as bot: ...
    start() waits until the bot long-polls; stop() sends SIGTERM (SIGKILL after `timeout`);
    kill() is the crash. Logs of attached processes appear in WaitTimeout messages.
    """

    def __init__(
        self,
        server: BotApiServer,
        args: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        log_path: str | Path | None = None,
        name: str | None = None,
        python: str = sys.executable,
    ) -> None:
        self.server = server
        self.args = [python, *args]
        self.env = env or {}
        self.cwd = Path(cwd) if cwd else REPO_ROOT
        self.name = name or " ".join(args)
        self._log_path = Path(log_path) if log_path else None
        self._log_file: Any = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        if self._log_path is None:
            import tempfile

            fd, path = tempfile.mkstemp(prefix="botproc-", suffix=".log")
            os.close(fd)
            self._log_path = Path(path)
        return self._log_path

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def returncode(self) -> int | None:
        return self.process.poll() if self.process else None

    def start(self, *, wait: bool = True, timeout: float = 60.0) -> BotProcess:
        after = self.server.poll_count
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the child
        self.process = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env=self.server.bot_env(self.env),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        if self not in self.server._processes:
            self.server._processes.append(self)
        if wait:
            self.server.wait_until_polling(timeout, after=after, process=self)
        return self

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not exit in time. Returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: the crash case (no cleanup, no final getUpdates)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._close()

    def wait(self, timeout: float | None = None) -> int:
        assert self.process is not None
        code = self.process.wait(timeout)
        self._close()
        return code

    def _close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log(self) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self in self.server._processes:
            self.server._processes.remove(self)
