"""A community worker runs a group of retirees: a scripted session, end to end.

The real `python -m bot run` against the local Bot API server. The whole conversation (what
people wrote, what the bot answered, its buttons and edits) is written to
docs/transcripts/community-worker.md, so a reviewer reads what users see; the assertions are
on lengths and on the buttons offered.
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from bot import PROJECT_DIR
from bot.qa.safety import redact
from tests.botapi import BotApiServer, wait_for_row

TRANSCRIPT = PROJECT_DIR / "docs" / "transcripts" / "community-worker.md"
GROUP = -6001
GROUP_TITLE = "幸福社区退休群"
WORKER = 9501
PEOPLE = {WORKER: "社区小陈", 9502: "王阿姨", 9503: "李大爷", 9504: "张叔", 9505: "刘阿姨"}
WANG, LI, ZHANG, LIU = 9502, 9503, 9504, 9505
VALID_ID = "11010519491231002X"
PLATFORM = "https://si.12333.gov.cn"
# A group answer: what fits a phone screen, the place line and the 依据 line.
MAX_ANSWER = 360
MAX_NOTICE = 300

pytestmark = pytest.mark.bot(clock="2026-11-23T10:00:00")


def buttons(message: dict) -> list[tuple[str, str]]:
    """(label, what it does) of every inline button."""
    markup = message.get("reply_markup") or {}
    found = []
    for row in markup.get("inline_keyboard", []):
        for b in row:
            if b.get("url"):
                found.append((b["text"], b["url"]))
            elif "switch_inline_query" in b:
                found.append((b["text"], f"内联：{b['switch_inline_query']}"))
            else:
                found.append((b["text"], b.get("callback_data", "")))
    return found


class Session:
    """Drives the conversation and keeps its transcript."""

    def __init__(self, server: BotApiServer, db: sqlite3.Connection) -> None:
        self.server, self.db = server, db
        self.lines: list[str] = []
        self.turns = 0

    def _where(self, chat_id: int) -> str:
        return "群里" if chat_id < 0 else "私聊"

    def _quote(self, text: str) -> list[str]:
        return [f"> {line}" if line else ">" for line in text.splitlines()]

    def _bot(self, message: dict, how: str = "机器人") -> None:
        where = self._where(message["chat"]["id"])
        self.lines.append(f"**{how}**（{where}，{len(message.get('text', ''))} 字）：")
        self.lines += self._quote(message.get("text", ""))
        shown = buttons(message)
        if shown:
            self.lines.append("")
            self.lines.append("按钮：" + " · ".join(
                f"[{label}]({target})" if target.startswith("http") else f"［{label}］"
                for label, target in shown))
        self.lines.append("")

    def _user(self, user: int, chat_id: int, text: str) -> None:
        self.turns += 1
        self.lines.append(f"### {self.turns}. {PEOPLE[user]}（{self._where(chat_id)}）")
        self.lines += self._quote(redact(text))  # the transcript shows no one's number
        self.lines.append("")

    def note(self, text: str) -> None:
        self.lines.append(f"*（{text}）*")
        self.lines.append("")

    def say(self, user: int, text: str, chat_id: int | None = None, *, expect: int = 1,
            **kwargs) -> list[dict]:
        chat = chat_id if chat_id is not None else user
        self._user(user, chat, text)
        mark = self.server.mark()
        self.server.send_text(user, text, chat_id=chat_id, first_name=PEOPLE[user], **kwargs)
        if not expect:
            return []
        replies = self.server.wait_for_messages(chat, count=expect, since=mark, timeout=15)
        for reply in replies:
            self._bot(reply)
        return replies

    def silence(self, why: str, seconds: float = 1.0) -> None:
        time.sleep(seconds)
        self.note(f"机器人没有回复：{why}")

    def press(self, user: int, message: dict, label: str) -> int:
        """Press a button; returns the mark to wait for what it does from."""
        self.turns += 1
        self.lines.append(f"### {self.turns}. {PEOPLE[user]} 点了［{label}］")
        self.lines.append("")
        mark = self.server.mark()
        self.server.press_button(user, message, text=label)
        return mark

    def edited(self, chat_id: int, message_id: int, mark: int, predicate) -> dict:
        self.server.wait_for("editMessageText", lambda c: predicate(c.params["text"]),
                             since=mark, timeout=30)
        message = self.server.get_message(chat_id, message_id)
        self._bot(message, "机器人把这条消息改成")
        return message

    def write(self) -> None:
        head = [
            "# 社区工作人员和一个退休老人群",
            "",
            "由 `tests/e2e/test_transcripts_group.py` 端到端运行机器人（本地 Bot API 服务器）时"
            "自动生成，"
            "请勿手改。社区小陈管理一个退休老人群：把机器人拉进群、开自动回答、群成员提问、"
            "有人误发身份证号、设每月提醒、发通知、看本群统计。",
            "",
        ]
        TRANSCRIPT.parent.mkdir(parents=True, exist_ok=True)
        TRANSCRIPT.write_text("\n".join(head + self.lines).rstrip() + "\n", encoding="utf-8")


def labels(message: dict) -> list[str]:
    return [label for label, _ in buttons(message)]


def test_community_worker_runs_a_group(server, bot, workdir) -> None:
    db = sqlite3.connect(workdir / "bot.db", timeout=10, isolation_level=None)
    s = Session(server, db)
    mention = f"@{server.bot_user['username']}"
    try:
        # 1. added to the group: the greeting, once
        s.turns += 1
        s.lines += [f"### {s.turns}. 社区小陈把机器人拉进群“{GROUP_TITLE}”", ""]
        greeting = server.join_group(GROUP, title=GROUP_TITLE, by_user_id=WORKER)
        s._bot(greeting)
        assert len(greeting["text"]) <= MAX_NOTICE and not buttons(greeting)
        assert all(c in greeting["text"] for c in ("/autoanswer", "/remind", "/broadcast"))
        server.set_chat_admins(GROUP, [WORKER])
        s.note("社区小陈按问候里说的，把机器人设为群管理员")

        # 2. auto-answer on
        (on,) = s.say(WORKER, "/autoanswer on", GROUP)
        assert "已开启" in on["text"] and "隐私模式" not in on["text"]

        # 3–5. members ask; auto-answer answers what it is sure of
        (first,) = s.say(WANG, "养老金认证在哪里弄", GROUP)
        assert len(first["text"]) <= MAX_ANSWER
        assert {"转发给家人", "👍 有用"} <= set(labels(first))
        s.say(LI, "刷脸老是不过咋整", GROUP, expect=0)
        wait_for_row(db, "select 1 from questions where kind = 'skipped'")
        s.silence("自动回答时没有把握，不插话；这个问题记下了，群管理员发 /stats 能看到")
        (face,) = s.say(LI, f"{mention} 刷脸老是不过咋整", GROUP)
        assert "依据：" in face["text"] and len(face["text"]) <= MAX_ANSWER
        assert "详细" in labels(face)

        # 6. 详细: the rest, edited into the same message
        mark = s.press(LI, face, "详细")
        whole = s.edited(GROUP, face["message_id"], mark, lambda t: len(t) > len(face["text"]))
        assert "详细" not in labels(whole) and "转发给家人" in labels(whole)

        (remote,) = s.say(ZHANG, "我妈在外地怎么认证", GROUP)
        assert len(remote["text"]) <= MAX_ANSWER and "转发给家人" in labels(remote)
        (channels,) = s.say(LIU, "手机上用哪个APP认证", GROUP)
        assert ("打开国家社会保险公共服务平台", PLATFORM) in buttons(channels)
        s.say(ZHANG, "今天天气不错，下午去公园下棋", GROUP, expect=0)
        s.silence("闲聊，不插话")

        # 9. an ID number in the group: deleted, and why
        posted_at = server.mark()
        (deleted,) = s.say(WANG, f"我身份证是{VALID_ID}，帮我看看认证了没有", GROUP)
        assert "删掉了" in deleted["text"] and VALID_ID not in deleted["text"]
        assert server.calls("deleteMessage", since=posted_at)
        s.note("王阿姨那条带身份证号的消息已经从群里删掉了")
        (here,) = s.say(WANG, "那在这个群里能认证吗", GROUP)
        assert "没法替您认证" in here["text"] and "骗子" in here["text"]

        (fraud,) = s.say(LIU, "有人打电话说交200块钱可以帮我认证，靠谱吗", GROUP)
        assert "免费" in fraud["text"] and "12333" in fraud["text"]

        # 11. a monthly reminder for the group
        (reminder,) = s.say(WORKER, "/remind 每月1日 09:00 本月请大家按时认证，不会的来社区找小陈",
                            GROUP)
        assert "每月1日 09:00" in reminder["text"]

        # 12–15. a notice to the group, composed in private, one status message
        (invite,) = s.say(WORKER, "/broadcast", GROUP)
        ((_, link),) = buttons(invite)
        assert link.endswith(f"?start=bc_{GROUP}")
        s.note("社区小陈点了［私聊我编写通知］，来到和机器人的私聊")
        (ask,) = s.say(WORKER, f"/start bc_{GROUP}")
        assert GROUP_TITLE in ask["text"]
        notice = ("本周六上午9点，社区在活动室集中帮大家认证，"
                  "行动不便的老人请提前告诉小陈，我们上门。")
        preview, summary = s.say(WORKER, notice, expect=2)
        assert preview["text"] == notice
        assert labels(summary) == ["✅ 立即发送", "📌 发送并置顶", "⏰ 定时发送", "❌ 取消"]
        before = len(server.sent_messages(WORKER))
        mark = s.press(WORKER, summary, "📌 发送并置顶")
        server.wait_for_messages(GROUP, since=mark, predicate=lambda m: m["text"] == notice)
        s.note("通知发到了群里，并置顶")
        status = s.edited(WORKER, summary["message_id"], mark, lambda t: "已经发到" in t)
        assert len(status["text"]) <= MAX_NOTICE and "屏蔽" not in status["text"]
        time.sleep(0.5)
        assert len(server.sent_messages(WORKER)) == before  # edited, no second status message

        # 16–17. statistics: members are refused, the worker sees the group's numbers
        (refused,) = s.say(ZHANG, "/stats", GROUP)
        assert refused["text"].startswith("抱歉")
        (stats,) = s.say(WORKER, "/stats", GROUP)
        assert "没有回答 1 个" in stats["text"] and "刷脸老是不过咋整" in stats["text"]
        assert "通知：发到本群 1 条" in stats["text"]
        assert len(stats["text"]) <= 600

        (ask_cmd,) = s.say(LIU, "/ask 错过了认证怎么补", GROUP)
        assert "依据：" in ask_cmd["text"] and "转发给家人" in labels(ask_cmd)
        (thanks,) = s.say(WANG, f"{mention} 谢谢你", GROUP)
        assert len(thanks["text"]) <= 60
        (off,) = s.say(WORKER, "/autoanswer off", GROUP)
        assert "已关闭" in off["text"]
    finally:
        db.close()
        s.write()
    assert s.turns >= 20
    text = TRANSCRIPT.read_text(encoding="utf-8")
    assert VALID_ID not in text and "[已隐藏]" in text
    assert text.count("### ") == s.turns
