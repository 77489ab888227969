"""A typed request to delete one's data (删除我的信息, 请把我的资料删掉): the same as /forget."""

from __future__ import annotations

import re

from bot.text.normalize import compact

_ERASE = "删除|删掉|清除|清空|注销"
# The whole message is the request, with the erasing verb before or after what is erased.
_FORGET_WORDS = re.compile(
    rf"^(请|麻烦)?(帮我|你)?把?(?P<before>{_ERASE})?(我的)?(所有|全部)?(个人)?"
    rf"(信息|资料|数据|记录|账号)都?(?P<after>{_ERASE})?(吧|了)?$")


def asks_to_forget(text: str) -> bool:
    """Whether a typed message asks for the user's data to be deleted."""
    words = _FORGET_WORDS.match(compact(text))
    return bool(words and (words["before"] or words["after"]))
