"""A typed request for a reminder (提醒我认证, 到时候提醒我一下, 怎么设置提醒): the bot then
starts its reminder flow instead of matching the words against the knowledge base."""

from __future__ import annotations

import re

from bot.text.normalize import compact

# The whole message is the request: 短信提醒我认证 (a message someone got) is not one.
_REMINDER_REQUEST = re.compile(
    r"^(请|麻烦你?|你|能不能|可不可以|可以|能|帮我|给我|我想|我要|到时候?|到期了?|快到期了?|"
    r"怎么|如何)*"
    r"(设置|设个|设|定个|定|开个|开|加个|弄个)?(一个|个)?(养老金)?(认证)?(到期)?提醒(我|一下|我一下)?"
    r"(认证|到期|下次认证|去认证)?(一下)?(吗|吧|好吗|呗|啊)?$"
)


def asks_for_reminder(text: str) -> bool:
    """Whether a message asks the bot to remind the user of the next certification."""
    return bool(_REMINDER_REQUEST.match(compact(text)))
