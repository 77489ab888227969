"""Photos and images sent as files: read the text in them and answer it as if typed.

Private chats always; groups only when the picture is addressed to the bot (a caption that
mentions it, or a reply to one of its messages). The file's size is checked from Telegram's
`file_size` before downloading, and OCR runs in a worker thread so other chats are not held up.
The picture is never written to disk; only the redacted text read from it is stored. In a
group, a picture that shows an ID or bank card number is deleted when the bot may (else the
sender is asked to take it back), like such a number typed in the group.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.errors import ImageError
from bot.ocr.picture import UNREADABLE, answer_read, polite
from bot.ocr.reader import MAX_BYTES, read_checked
from bot.qa.answers import Reply, answer
from bot.tg import texts
from bot.tg.context import BotContext, Services
from bot.tg.handlers import chat
from bot.tg.handlers import group as groups

log = logging.getLogger(__name__)


def _file_of(message: Message) -> tuple[str, int | None] | None:
    """(file_id, file_size) of the picture to read: the largest photo size under the limit."""
    if message.photo:
        sizes = [p for p in message.photo if (p.file_size or 0) <= MAX_BYTES]
        if not sizes:
            return None
        best = max(sizes, key=lambda p: (p.width * p.height, p.file_size or 0))
        return best.file_id, best.file_size
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return document.file_id, document.file_size
    return None


async def _download(context: BotContext, message: Message) -> bytes | None:
    """The picture's bytes, or None when it is too large or cannot be fetched."""
    found = _file_of(message)
    if found is None:
        return None
    file_id, size = found
    if size is not None and size > MAX_BYTES:
        return None
    try:
        telegram_file = await context.bot.get_file(file_id)
        if (telegram_file.file_size or 0) > MAX_BYTES:
            return None
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as exc:
        log.info("picture not downloaded: %s", exc)
        return None
    return data if len(data) <= MAX_BYTES else None


def _addressed(message: Message, bot_id: int, username: str) -> str | None:
    """The caption (without the mention) when a group picture is meant for the bot."""
    caption = message.caption or ""
    for entity in message.caption_entities or ():
        value = caption[entity.offset: entity.offset + entity.length]
        if (entity.type == MessageEntity.MENTION and username
                and value.lower() == f"@{username}".lower()) or (
                entity.type == MessageEntity.TEXT_MENTION and entity.user
                and entity.user.id == bot_id):
            return re.sub(rf"@{re.escape(username)}", " ", caption, flags=re.I).strip()
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return caption
    return None


def _unreadable(svc: Services, caption: str, place: str | None) -> Reply:
    """A picture that cannot be read: its caption, when there is one, is the question."""
    if not caption.strip():
        return polite(UNREADABLE)
    return answer(svc.engine, caption, svc.clock.today(), place)


async def picture(update: Update, context: BotContext) -> None:
    """A photo, or an image sent as a file: answer the text in it."""
    message = update.effective_message
    chat_type = update.effective_chat.type
    caption = message.caption or ""
    if chat_type != ChatType.PRIVATE:
        caption = _addressed(message, context.bot.id, context.bot.username or "")
        if caption is None:
            return
    chat._remember(update, context)
    svc = context.services
    user_id = update.effective_user.id if update.effective_user else None
    place = chat._remembered_city(svc, user_id) if chat_type == ChatType.PRIVATE else None
    data = await _download(context, message)
    reply_to = message.message_id if chat_type != ChatType.PRIVATE else None
    if data is None:
        reply = _unreadable(svc, caption, place)
    else:
        try:  # the engine is loaded on first use; both run off the event loop
            read, hidden = await asyncio.to_thread(read_checked, data)
        except ImageError:
            read, hidden = None, ()
        del data  # the picture is never kept
        if read is None:
            reply = _unreadable(svc, caption, place)
        else:
            reply = answer_read(svc.engine, read, svc.clock.today(), place, caption).reply
        # The whole group can see the number in the picture: take it down (or ask the sender
        # to) first; the answer then no longer points at a deleted message.
        exposed = reply_to is not None and any(k in groups.VISIBLE_NUMBERS for k in hidden)
        if exposed and await groups.protect_numbers(
                update, context, message, deleted_text=texts.PICTURE_ID_DELETED,
                kept_text=texts.PICTURE_ID_CANNOT_DELETE):
            reply_to = None
    await chat._send_reply(update, context, reply, reply_to=reply_to)
