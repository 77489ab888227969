"""Protecting users: sensitive numbers they should not share, and messages that smell of fraud.

The bot never asks for ID numbers, passwords or bank details. When a user sends one anyway it
is warned, and `redact` removes the number before anything is stored or logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_18 = re.compile(r"(?<![0-9])[1-9][0-9]{16}[0-9xX](?![0-9])")
_ID_15 = re.compile(
    r"(?<![0-9])[1-9][0-9]{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}(?![0-9])"
)
# Card numbers are often typed in groups of four.
_CARD = re.compile(r"(?<![0-9])(?:[0-9][ -]?){15,18}[0-9](?![0-9])")
_SECRET = re.compile(r"(密码|验证码|口令|pin)\s*(?:是|为|:|：)?\s*([0-9a-zA-Z]{4,})", re.IGNORECASE)

_LINK = re.compile(r"(https?://|www\.|\b[a-z0-9-]+\.(?:cn|com|net|top|xyz|cc|vip)\b)", re.I)
_MONEY = ("交钱", "收费", "手续费", "转账", "汇款", "付款", "缴费才能", "保证金", "押金", "红包")
_MONEY_RE = re.compile(r"(交|给|付|收|转)[^,.!?，。！？]{0,6}(钱|元|块)|[0-9]+ *(块|元)")
_BAIT = ("社保异常", "停发", "冻结", "升级", "过期", "认证", "领取", "补贴", "津贴", "资格")
_ASKS = ("验证码", "银行卡号", "卡号", "密码", "身份证号")
# Someone else demanding: a plain "认证要交钱吗" is a question, not a scam.
_AGENT = ("有人", "说", "让我", "要我", "叫我", "电话", "短信", "上门", "工作人员", "对方", "帮你",
          "帮我", "代办", "包过", "中介")


@dataclass(frozen=True)
class SafetyCheck:
    """What a message contains that needs a warning."""

    sensitive: tuple[str, ...]  # kinds found: "身份证号", "银行卡号", "密码或验证码"
    fraud: bool


def _valid_id18(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _id_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for m in _ID_18.finditer(text) if _valid_id18(m.group())]
    spans += [m.span() for m in _ID_15.finditer(text)]
    return spans


def _card_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 16 <= len(digits) <= 19 and _luhn(digits):
            spans.append(match.span())
    return spans


def check_message(text: str) -> SafetyCheck:
    """Find sensitive numbers and signs of fraud in a (raw or normalised) message."""
    found = []
    if _id_spans(text):
        found.append("身份证号")
    if _card_spans(text):
        found.append("银行卡号")
    if _SECRET.search(text):
        found.append("密码或验证码")
    return SafetyCheck(tuple(found), looks_like_fraud(text))


def looks_like_fraud(text: str) -> bool:
    """A link or a demand for money or secrets, in a message about certification or benefits."""
    lowered = text.lower()
    about_benefits = any(word in lowered for word in _BAIT) or "社保" in lowered
    if not about_benefits:
        return False
    if _LINK.search(lowered) and "gov.cn" not in lowered:
        return True
    agent = any(word in lowered for word in _AGENT)
    money = any(word in lowered for word in _MONEY) or bool(_MONEY_RE.search(lowered))
    asks = any(word in lowered for word in _ASKS) and any(
        w in lowered for w in ("提供", "发给", "告诉", "输入", "填写", "要我", "让我", "索要")
    )
    return agent and (money or asks)


def redact(text: str) -> str:
    """The message with ID numbers, card numbers and secrets replaced, safe to store or log."""
    spans = sorted(_id_spans(text) + _card_spans(text), reverse=True)
    for start, end in spans:
        text = text[:start] + "[已隐藏]" + text[end:]
    return _SECRET.sub(lambda m: f"{m.group(1)}[已隐藏]", text)


SENSITIVE_WARNING = (
    "⚠️ 为了您的安全，请不要在聊天里发送{kinds}。本助手不需要这些信息，也不会保存它们；"
    "认证只需要本人刷脸或到现场办理。"
)
FRAUD_WARNING = (
    "⚠️ 请提高警惕：养老金资格认证是免费的。社保部门的短信不会带不明链接，也不会要您提供"
    "银行卡号、密码或验证码，更不会让您转账。不要信、不要点、不要转；拿不准就打12333问一问，"
    "或者去社区核实。"
)


def warnings_for(check: SafetyCheck) -> list[str]:
    """The warning paragraphs to put before the answer."""
    warnings = []
    if check.fraud:
        warnings.append(FRAUD_WARNING)
    if check.sensitive:
        warnings.append(SENSITIVE_WARNING.format(kinds="、".join(check.sensitive)))
    return warnings
