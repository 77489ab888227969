"""Protecting users: sensitive numbers they should not share, and messages that smell of fraud.

The bot never asks for ID numbers, passwords or bank details. When a user sends one anyway it
is warned, and `redact` removes the number before anything is stored or logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Numbers are found in a copy of the text with full-width digits, letters and separators made
# ASCII one character for one, so that positions are the same in the original.
_WIDE = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                       "Ｘ": "X", "ｘ": "x", "－": "-", "—": "-", "–": "-", "\u3000": " ",
                       "\u00a0": " ", "＋": "+", "（": "(", "）": ")", "．": "."})
# A run of digits, possibly in groups separated by one space, dash or dot (how people type
# ID and card numbers), possibly ending in the ID number's X.
_NUMBER_RUN = re.compile(r"(?<![0-9])[0-9](?:[ .-]?[0-9])*(?:[ .-]?[xX])?(?![0-9])")
_GROUP = re.compile(r"[0-9xX]+")
# Mobile numbers: 1[3-9]x xxxx xxxx, with +86 / 0086 / 86 in front, in groups or not.
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])")
_MOBILE_ODD = re.compile(r"(?<![0-9])1[3-9][0-9][ -]?[0-9]{3}[ -]?[0-9]{5}(?![0-9])")
# Landlines: 0 + 2–3 digit area code, then 7–8 digits: 010-62345678, (0411) 8765 4321.
_LANDLINE = re.compile(
    r"(?<![0-9])(?:\+?86[ -]?)?\(?0[1-9][0-9]{1,2}\)?[ -]?[0-9]{3,4}[ -]?[0-9]{4}(?![0-9])")
_SECRET = re.compile(r"(密码|验证码|口令|pin)\s*(?:是|为|:|：)?\s*([0-9a-zA-Z]{4,})", re.IGNORECASE)

_LINK = re.compile(r"(https?://|www\.|\b[a-z0-9-]+\.(?:cn|com|net|top|xyz|cc|vip)\b)", re.I)
_MONEY = ("交钱", "收费", "手续费", "转账", "汇款", "付款", "缴费才能", "保证金", "押金", "红包")
_MONEY_RE = re.compile(r"(交|给|付|收|转)[^,.!?，。！？]{0,6}(钱|元|块)|[0-9]+ *(块|元)")
_BAIT = ("社保异常", "停发", "冻结", "升级", "过期", "认证", "领取", "补贴", "津贴", "资格")
_ASKS = ("验证码", "银行卡号", "卡号", "密码", "身份证号")
# "要身份证号", "问我要验证码": someone asking for a secret, in any wording.
_ASKS_RE = re.compile(r"(要|问|索|拿|报)[^,.!?，。！？]{0,4}(身份证号|银行卡|卡号|密码|验证码)")
# Strangers who want to see or use the phone: screen sharing, remote control, "帮你刷脸".
_REMOTE = ("共享屏幕", "屏幕共享", "远程", "帮你刷脸", "帮忙刷脸", "替你刷脸", "下载会议")
# An alarm (社保卡需要升级, 账户异常) with an order to add someone on WeChat or QQ: official notices
# never send people to a private account. (Some cities do certify by video call, so a WeChat
# contact alone is not enough.)
_ALARM = ("升级", "异常", "冻结", "注销", "停发", "过期")
_ADD_FRIEND = re.compile(r"(请|需|须|速|立即|马上|尽快|让我|要我|叫我)[^,.!?，。！？]{0,3}"
                         r"(添?加|加我|加个)[^,.!?，。！？]{0,2}(微信|qq|好友)")
# A stranger who says they are from 社保局 and offers to certify for you (微信上有人加我说是社保局的
# 要帮我认证): real offices never approach people to do it for them.
_IMPERSONATION = re.compile(r"(说|自称|冒充|声称)(他|她|自己)?是?(社保|人社|12333|政府)"
                            r"[^,.!?，。！？]{0,6}(帮|替|给)(我|你|您)?[^,.!?，。！？]{0,3}"
                            r"(认证|刷脸|办)")
# A page that wants a bank card (请输入银行卡号, 填写银行卡密码).
_CARD_WANTED = re.compile(r"(输入|填写|提供|绑定)[^,.!?，。！？]{0,4}银行卡|"
                          r"银行卡[^,.!?，。！？]{0,4}(密码|卡号)")
# Secrets already given away: the warning then says what to do now.
_DISCLOSED = re.compile(r"(已经|刚才|刚刚|都)[^,.!?，。！？]{0,6}(说了|给了|告诉|报了|输了|填了|"
                        r"发了|念了)[^,.!?，。！？]{0,6}(卡号|密码|验证码|身份证)|"
                        r"(卡号|密码|验证码|身份证号?)[^,.!?，。！？]{0,4}(已经)(说|给|告诉|报|输|填|发)")
# Someone else demanding: a plain "认证要交钱吗" is a question, not a scam.
_AGENT = ("有人", "说", "让我", "要我", "叫我", "电话", "短信", "上门", "工作人员", "对方", "帮你",
          "帮我", "代办", "包过", "中介")


@dataclass(frozen=True)
class SafetyCheck:
    """What a message contains that needs a warning."""

    sensitive: tuple[str, ...]  # kinds found: "身份证号", "银行卡号", "密码或验证码"
    fraud: bool
    disclosed: bool = False  # a fraud where the writer says a secret was already given away


def _valid_id18(number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def _plausible_birth(digits: str) -> bool:
    """Whether an 18-character number has a date of birth where an ID number has one."""
    try:
        born = dt.date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return False
    return 1880 <= born.year <= 2100


def _classify(number: str) -> str | None:
    """"id", "card", "long" or None for a number with its separators removed.

    "long" is any other number of 15 digits or more: hidden (it may be an account, a policy or
    a number mistyped), but not warned about.
    """
    body = number.upper()
    if len(body) == 18 and body[:17].isdigit() and (body[17] == "X" or body[17].isdigit()):
        if body[17] == "X" or _valid_id18(body) or _plausible_birth(body):
            return "id"
        return "card"
    if not body.isdigit():
        return None
    if len(body) == 15:  # the old ID number: no check digit, a 6-digit date of birth
        try:
            dt.date(1900 + int(body[6:8]), int(body[8:10]), int(body[10:12]))
        except ValueError:
            return "long"
        return "id"
    if 16 <= len(body) <= 19:
        return "card"
    return "long" if len(body) > 19 else None


def _number_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of ID-like and card-like numbers, wherever and however typed.

    Check digits do not matter: a mistyped ID number is still someone's ID number. A number
    typed in groups counts when every group but the last has at least 3 digits, so that a
    date next to a phone number ("2025 3 10 139…") is not taken for a card.
    """
    plain = text.translate(_WIDE)
    found: list[tuple[int, int, str]] = []
    for run in _NUMBER_RUN.finditer(plain):
        groups = [(run.start() + m.start(), run.start() + m.end())
                  for m in _GROUP.finditer(run.group())]
        i = 0
        while i < len(groups):
            for j in range(len(groups), i, -1):
                window = groups[i:j]
                if any(end - start < 3 for start, end in window[:-1]):
                    continue
                kind = _classify("".join(plain[a:b] for a, b in window))
                if kind is not None:
                    found.append((window[0][0], window[-1][1], kind))
                    i = j
                    break
            else:
                i += 1
    return found


def _phone_spans(text: str) -> list[tuple[int, int]]:
    plain = text.translate(_WIDE)
    return [m.span() for pattern in (_MOBILE, _MOBILE_ODD, _LANDLINE)
            for m in pattern.finditer(plain)]


def _id_spans(text: str) -> list[tuple[int, int]]:
    return [(a, b) for a, b, kind in _number_spans(text) if kind == "id"]


def _card_spans(text: str) -> list[tuple[int, int]]:
    return [(a, b) for a, b, kind in _number_spans(text) if kind == "card"]


def check_message(text: str, *, seen: bool = False) -> SafetyCheck:
    """Find sensitive numbers and signs of fraud in a (raw or normalised) message; `seen`
    when the text was read from a picture someone was shown (see `looks_like_fraud`)."""
    found = []
    if _id_spans(text):
        found.append("身份证号")
    if _card_spans(text):
        found.append("银行卡号")
    if _SECRET.search(text):
        found.append("密码或验证码")
    fraud = looks_like_fraud(text, seen=seen)
    return SafetyCheck(tuple(found), fraud, fraud and bool(_DISCLOSED.search(text)))


def looks_like_fraud(text: str, *, seen: bool = False) -> bool:
    """A link or a demand for money or secrets, in a message about certification or benefits.

    `seen`: the text of a screenshot (a page or a message someone was shown). Nobody is named
    as asking there, the page itself asks; a certification page that wants money or a bank
    card is a scam (official ones ask for an ID number, a login password or a code too)."""
    lowered = text.lower()
    about_benefits = any(word in lowered for word in _BAIT) or "社保" in lowered
    if not about_benefits:
        return False
    if _LINK.search(lowered) and "gov.cn" not in lowered:
        return True
    agent = any(word in lowered for word in _AGENT)
    money = any(word in lowered for word in _MONEY) or bool(_MONEY_RE.search(lowered))
    if seen and (money or _CARD_WANTED.search(lowered)):
        return True
    asks = (any(word in lowered for word in _ASKS) and any(
        w in lowered for w in ("提供", "发给", "告诉", "输入", "填写", "要我", "让我", "索要")
    )) or bool(_ASKS_RE.search(lowered))
    remote = any(word in lowered for word in _REMOTE)
    if any(word in lowered for word in _ALARM) and _ADD_FRIEND.search(lowered):
        return True
    if agent and _IMPERSONATION.search(lowered):
        return True
    return agent and (money or asks or remote)


def redact(text: str) -> str:
    """The message with ID, card and phone numbers and secrets replaced, safe to store or log."""
    spans = [(a, b) for a, b, _kind in _number_spans(text)] + _phone_spans(text)
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + "[已隐藏]" + text[end:]
    return _SECRET.sub(lambda m: f"{m.group(1)}[已隐藏]", text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every record (message, arguments and traceback).

    Installed on the log handlers of the running bot, so that no library (python-telegram-bot
    logs whole updates at DEBUG level) can write a user's number to the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: log it as it is
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


SENSITIVE_WARNING = (
    "⚠️ 为了您的安全，请不要在聊天里发送{kinds}。本助手不需要这些信息，也不会保存它们；"
    "认证只需要本人刷脸或到现场办理。"
)
DISCLOSED_WARNING = ("已经说出或输入了银行卡号、密码、验证码的：马上打银行客服电话"
                     "冻结或挂失银行卡、改密码，再打110报警；以后谁再要，都别给。")
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
    if check.disclosed:
        warnings.append(DISCLOSED_WARNING)
    if check.sensitive:
        warnings.append(SENSITIVE_WARNING.format(kinds="、".join(check.sensitive)))
    return warnings
