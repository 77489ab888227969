"""Who may do what: the bot's admins (ADMIN_IDS) and a group's admins.

Two ways to ask about a group: `is_group_admin` reads getChatAdministrators, cached briefly,
to decide what to show; `is_group_admin_now` asks getChatMember afresh, for the moment of
acting, so an admin demoted meanwhile cannot act.
"""

from __future__ import annotations

import logging
import time

from telegram import Bot, Message
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot.tg.context import BotContext, Services

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 120.0
ADMIN_CACHE_FAILURE_SECONDS = 10.0


def posted_as_the_group(message: Message | None) -> bool:
    """Whether a group message was sent by an anonymous admin, in the group's own name (only
    admins can; their user is then Telegram's GroupAnonymousBot, never in the admin list)."""
    return message is not None and message.sender_chat is not None and \
        message.sender_chat.id == message.chat_id


def is_bot_admin(svc: Services, user_id: int | None) -> bool:
    return user_id is not None and user_id in svc.settings.admin_ids


async def is_group_admin(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Whether `user_id` administers `chat_id`, from getChatAdministrators cached briefly."""
    cache = context.services.group_admins
    now = time.monotonic()
    cached = cache.get(chat_id)
    if cached is None or cached[0] < now:
        try:
            admins = await context.bot.get_chat_administrators(chat_id)
            cached = (now + ADMIN_CACHE_SECONDS, frozenset(a.user.id for a in admins))
        except TelegramError as exc:
            log.info("getChatAdministrators(%s) failed: %s", chat_id, exc)
            cached = (now + ADMIN_CACHE_FAILURE_SECONDS, frozenset())
        cache[chat_id] = cached
    return user_id in cached[1]


async def is_group_admin_now(bot: Bot, chat_id: int, user_id: int) -> bool | None:
    """Whether `user_id` administers `chat_id`, asked of Telegram now (getChatMember).

    None when Telegram could not be asked (a network error): falsy for callers that refuse,
    a reason to ask again later for those that can wait. A refusal (chat not found, the bot no
    longer in the group) is an answer, False: asking again would only get it again.
    """
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except (BadRequest, Forbidden) as exc:  # BadRequest is a NetworkError in PTB: first
        log.info("getChatMember(%s) refused: %s", chat_id, exc)
        return False
    except NetworkError as exc:
        log.info("getChatMember(%s) failed: %s", chat_id, exc)
        return None
    except TelegramError as exc:
        log.info("getChatMember(%s) failed: %s", chat_id, exc)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def forget_group_admins(svc: Services, chat_id: int) -> None:
    """Drop the cached admin list of a group (it named someone who is no longer an admin)."""
    svc.group_admins.pop(chat_id, None)
