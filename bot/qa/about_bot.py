"""Messages that ask the bot itself to certify: 你能帮我认证吗, 在这个群里能认证吗.

The bot only answers questions; certifying happens in official channels, with the pensioner's
own face. Scammers offer "certification" in chat groups, so the reply also says never to send
papers, photos or codes to anyone who offers it there. This is about the bot, not about
certification, so it is read by a few patterns (like a greeting), not matched against the
knowledge base: an entry for it would shift the classifier's view of every other topic.
"""

from __future__ import annotations

import re

from bot.text.normalize import strip_non_words

_GREETING = re.compile(r"你好|您好|请问|麻烦|谢谢")
_YOU = r"(你们?|您|机器人|小?助手)"
_CAN = r"(能|可以|可不可以|能不能|会不会|直接|帮忙|就)"
# Between "do it for me" and 认证 only what is done and for whom: 帮我把认证弄了, 替我妈认证.
_FOR = (r"(帮|给|替|代)(我|俺|咱|我们|我家)?"
        r"(把|办|弄|做|搞|个|一下|下|养老金|社保|退休|资格|她|他|妈|爸|老人|家人|父母)*")
_CERTIFY = r"(认证|刷脸|认个证)"
_PATTERNS = (
    # The bot asked to do it: 你能帮我认证吗, 机器人能直接给我认证吗, 你能认证吗.
    re.compile(_YOU + r"(这|那)?(里|儿|边)?" + _CAN + "*" + _FOR + _CERTIFY),
    re.compile(_YOU + r"(能|可以|能不能|可不可以)(直接)?(办|做)?" + _CERTIFY),
    # At the bot's: 在你这能做养老金认证不; through it: 通过这个机器人怎么认证.
    re.compile(r"(你|您|机器人|助手)(这|那)(里|儿|边)?(能|可以).{0,6}?" + _CERTIFY),
    re.compile(r"(机器人|助手|电报|telegram)(里|上)?(怎么|如何|能|可以)(办|做)?(养老金)?"
               + _CERTIFY),
    # How to do it in this group: 怎么在这个群里认证.
    re.compile(r"(怎么|如何|能不能|可不可以)在?(这个群|群里|本群|聊天里)里?(办|做)?" + _CERTIFY),
    # Here, in this chat or group: 在这个群里能认证吗, 在这发照片能认证吗, 在这儿给我妈认证.
    re.compile(r"(群里|本群|这个群|聊天里|电报|telegram|在这(?![边个])里?|在这儿).{0,6}?"
               r"((能|可以|能不能|可不可以)(直接)?(" + _FOR + r")?|" + _FOR + r")"
               r"(办|做|弄)?(个)?(养老金|社保|退休|资格)?" + _CERTIFY),
)
BOT_CANNOT_CERTIFY = (
    "我只能解答问题，没法替您认证。认证免费，要刷领钱老人本人的脸，这样办：\n"
    "1. 用自己或子女的手机：掌上12333、电子社保卡，或当地人社的APP、小程序；\n"
    "2. 不用手机：去社区、街道便民服务中心或社保窗口。\n"
    "不要把身份证号、密码、验证码、照片或视频发给群里或私信里说能替您认证的人，那是骗子。"
)
# Where to go next, as the overview's buttons: label → entry id.
NEXT_TOPICS = (("用自己手机", "channels-overview"), ("帮家里老人", "proxy-certify"),
               ("不用手机", "offline-where"))


def asks_bot_to_certify(normalized: str) -> bool:
    """Whether a (normalised) message asks the bot itself to certify, or to do it here."""
    text = _GREETING.sub("", strip_non_words(normalized))
    return any(pattern.search(text) for pattern in _PATTERNS)
