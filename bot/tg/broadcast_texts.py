"""What admins read about broadcasts: the /broadcast conversation's messages, and the
progress message, final message and report of a run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.broadcasts.store import DONE, Progress

REFUSED_PRIVATE = (
    "抱歉，群发通知只对机器人管理员开放。\n"
    "如果您是某个群的管理员，请在那个群里发送 /broadcast，我会带您回到这里编写本群通知。"
)
REFUSED_GROUP = "抱歉，只有本群管理员可以用我给本群发通知。"
REFUSED_OTHER_GROUP = "抱歉，您不是这个群的管理员，不能给它发通知。"
REFUSED_NO_LONGER = "抱歉，您现在已经不是这个群的管理员了，这条通知没有发送。"
GO_PRIVATE = "请点下面的按钮私聊我，在那里编写、预览并确认本群通知。"
GO_PRIVATE_BUTTON = "私聊我编写通知"
CHOOSE_AUDIENCE = "要把通知发给谁？"
CHOOSE_CITY = "请选择城市，或直接发城市名（例如：锦州）："
CHOOSE_SCHEME = "请选择待遇类型："
NOBODY = "这个范围里现在没有可以发送的对象，请重新选择。"
NO_CITY = "没有所在城市为“{city}”的订阅用户。请换一个城市名，或发 /cancel 取消。"
ASK_TEXT = (
    "将发给：{label}（{count} 个）。\n"
    "请发送通知内容。需要链接按钮的话，在最后几行写“按钮文字 | https://链接”，每行一个，最多6个。\n"
    "发 /cancel 取消。"
)
PREVIEW = (
    "👆 上面是预览：收到的人看到的就是这样。\n"
    "将发送给：{label}，共 {count} 个。\n"
    "确认发送吗？想改内容的话直接发一段新内容。"
)
# The example date is tomorrow, from the bot's clock: never a year that has passed.
# A group admin's notice to their own group: no counts, plain words.
ASK_TEXT_GROUP = (
    "给{label}发通知。请把通知的内容发给我，我先给您看看效果，您确认了才发。\n"
    "想在通知下面加链接按钮，就在最后一行写“按钮文字 | https://链接”。\n"
    "不发了就发 /cancel。"
)
PREVIEW_GROUP = (
    "👆 上面就是群里大家会看到的样子。\n"
    "确认发到{label}吗？想改的话，直接发一段新内容。"
)
ASK_WHEN = "几点发？请发一个时间，例如：{example}、明天 9:30、下午3点、30分钟后。发 /cancel 取消。"
SCHEDULED_OK = "⏰ 已安排：通知 #{id} 将在 {when} 发给{label}。到时我会在这里报告进度。"
COMPOSE_CANCELLED = "好的，这条通知不发了。"
DRAFT_EXPIRED = "这条草稿已经失效了，请重新发送 /broadcast。"
BAD_GROUP_LINK = "这个链接不完整或已经失效了。请在群里重新发送 /broadcast，再点我给出的按钮。"
STOP_DENIED = "只有发起人或机器人管理员可以取消这条通知。"
STOP_DONE = "已取消。"
STOP_TOO_LATE = "这条通知已经结束了。"
SCHEDULE_CANCELLED = "⏹ 已取消定时通知 #{id}。"
NUMBERS_IN_NOTICE = ("通知里有身份证号或银行卡号，发出去大家都能看到，也会存进记录。"
                     "请去掉后再发一次，或发 /cancel 取消。")
SCHEDULE_REFUSED = ("⏹ 定时通知 #{id} 没有发送：没能确认您还是这个群的管理员"
                    "（可能已经不是了，或者机器人已经不在这个群里）。")


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} 秒"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} 分 {seconds} 秒"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes} 分"


def _counts_line(p: Progress) -> str:
    line = f"已送达 {p.sent} · 未送达 {p.not_delivered}"
    if p.unconfirmed:
        line += f" · 不确定 {p.unconfirmed}"
    return line


def progress_text(row: dict[str, Any], p: Progress, eta: float | None) -> str:
    """The progress message while a broadcast runs."""
    if for_one_group(row):
        return f"📣 正在把通知 #{row['id']} 发到{row['audience_label']}……"
    lines = [f"📣 通知 #{row['id']} 发送中 · {row['audience_label']}",
             f"{_counts_line(p)} · 剩余 {p.remaining}"]
    if eta is not None and p.remaining:
        lines.append(f"预计还需约 {_duration(eta)}")
    return "\n".join(lines)


def final_text(row: dict[str, Any], p: Progress) -> str:
    head = "✅" if row["status"] == DONE else "⏹"
    state = "发送完毕" if row["status"] == DONE else "已取消"
    return f"{head} 通知 #{row['id']} {state} · {row['audience_label']}\n{_counts_line(p)}"


def for_one_group(row: dict[str, Any]) -> bool:
    """A broadcast to one group (a group admin's notice): one status message, plain words."""
    return str(row.get("audience") or "").startswith("group:")


def group_final_text(row: dict[str, Any], p: Progress) -> str:
    """How a notice to one group ended, in the one status message."""
    where = row["audience_label"]
    if row["status"] != DONE and not p.sent:
        text = f"⏹ 通知 #{row['id']} 已取消，没有发到{where}。"
    elif p.sent:
        text = f"✅ 通知 #{row['id']} 已经发到{where}。"
        if row.get("pin") and not row.get("note"):
            text += "已置顶。"
    elif p.unconfirmed:
        text = (f"⚠️ 通知 #{row['id']} 可能已经发到{where}，但发的时候网络断了，没法确认。"
                "为了不重复，没有再发，请到群里看一眼。")
    else:
        text = (f"❌ 通知 #{row['id']} 没能发到{where}。"
                "可能机器人已经不在这个群里了，或者群里不让它发言。")
    return f"{text}\n{row['note']}" if row.get("note") else text


def report_text(row: dict[str, Any], p: Progress) -> str:
    """The final report, sent as a new message when a broadcast ends: what is known."""
    title = "发送报告" if row["status"] == DONE else "已取消，发送报告"
    delivered = f"已送达 {p.sent}"
    if p.confirmed:
        delivered += f"（其中 {p.confirmed} 条原本不确定，后来由对方的回复确认送达）"
    if p.resent:
        delivered += (f"（其中 {p.resent} 条发送时进程中断，重启后又发了一次，"
                      "这几位可能收到两次）")
    lines = [f"📋 通知 #{row['id']} {title}", f"对象：{row['audience_label']}，共 {p.total} 个",
             delivered,
             f"未送达 {p.not_delivered}（发送失败 {p.failed}，"
             f"屏蔽或已退群 {p.blocked}，以后不再发给他们）",
             f"不确定 {p.unconfirmed}" + ("（发送时网络断开，Telegram 无法查询是否送达；"
                                         "为避免重复没有重发。对方回复这条通知后会计为"
                                         "已送达）" if p.unconfirmed else "")]
    if p.skipped:
        lines.append(f"跳过 {p.skipped}（群已升级，名单里已有新群）")
    if p.cancelled:
        lines.append(f"未发送 {p.cancelled}（已取消）")
    started, finished = row.get("started_at"), row.get("finished_at")
    if started and finished:
        seconds = (dt.datetime.fromisoformat(finished) -
                   dt.datetime.fromisoformat(started)).total_seconds()
        lines.append(f"用时 {_duration(seconds)}")
    if row.get("note"):
        lines.append(row["note"])
    return "\n".join(lines)
