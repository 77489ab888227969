"""Usage statistics for admins: questions per day, how they were answered, what is missing.

Read-only over the core tables (and the reminder tables when that feature is installed).
"today" is always a parameter. The chart is rendered with matplotlib's Agg backend and English
labels, so it needs no display and no Chinese system fonts.
"""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import sqlite_utils

from bot.broadcasts.store import count_sent as count_broadcasts_sent
from bot.db.groups import count_active_groups
from bot.db.questions import (
    count_kinds,
    count_votes,
    declined_or_downvoted,
    latest_texts,
    top_topics,
)
from bot.db.users import count_users
from bot.reminders.due import count_sent as count_reminders_sent
from bot.reminders.store import count_active as count_active_reminders
from bot.text.normalize import normalize, strip_non_words

ANSWERED_KINDS = ("answer", "deadline")
SUGGESTED_KINDS = ("suggest",)
DECLINED_KINDS = ("decline",)
# "empty" replies (a sticker, only punctuation) are not questions and are left out.
COUNTED_KINDS = ANSWERED_KINDS + SUGGESTED_KINDS + DECLINED_KINDS


@dataclass(frozen=True)
class Day:
    day: dt.date
    answered: int = 0
    suggested: int = 0
    declined: int = 0

    @property
    def total(self) -> int:
        return self.answered + self.suggested + self.declined


@dataclass
class Stats:
    since: dt.date
    today: dt.date
    days: list[Day]
    top_topics: list[tuple[str, int]]
    useful: int
    not_useful: int
    subscribers: int
    unsubscribed: int
    groups: int
    reminders_sent: int | None  # None when reminders are not installed
    reminders_active: int | None = None

    @property
    def questions(self) -> int:
        return sum(d.total for d in self.days)

    def share(self, attribute: str) -> float:
        total = self.questions
        return sum(getattr(d, attribute) for d in self.days) / total if total else 0.0

    def count(self, attribute: str) -> int:
        return sum(getattr(d, attribute) for d in self.days)


def collect_stats(db: sqlite_utils.Database, today: dt.date, days: int = 30,
                  top: int = 5) -> Stats:
    """The last `days` days up to and including `today`."""
    since = today - dt.timedelta(days=days - 1)
    lo, hi = since.isoformat(), (today + dt.timedelta(days=1)).isoformat()
    per_day: dict[str, Counter[str]] = {}
    for (day, kind), n in count_kinds(db, lo, hi).items():
        per_day.setdefault(day, Counter())[kind] += n
    series = []
    for offset in range(days):
        day = since + dt.timedelta(days=offset)
        kinds = per_day.get(day.isoformat(), Counter())
        series.append(Day(day, sum(kinds[k] for k in ANSWERED_KINDS),
                          sum(kinds[k] for k in SUGGESTED_KINDS),
                          sum(kinds[k] for k in DECLINED_KINDS)))
    topics = top_topics(db, lo, hi, ("answer",), top)
    votes = count_votes(db, lo, hi)
    reminders_sent = _if_present(lambda: count_reminders_sent(db, lo, hi))
    reminders_active = _if_present(lambda: count_active_reminders(db))
    if reminders_sent is None:
        reminders_active = None
    return Stats(
        since=since, today=today, days=series, top_topics=topics,
        useful=votes.get(True, 0), not_useful=votes.get(False, 0),
        subscribers=count_users(db, active=True), unsubscribed=count_users(db, active=False),
        groups=count_active_groups(db),
        reminders_sent=reminders_sent, reminders_active=reminders_active,
    )


def _percent(value: float) -> str:
    return f"{value * 100:.0f}%"


def format_stats(stats: Stats, titles: dict[str, str] | None = None) -> str:
    """The /stats message (Chinese, plain text)."""
    titles = titles or {}
    days = len(stats.days)
    lines = [f"📊 近{days}天统计（{stats.since:%m-%d} 至 {stats.today:%m-%d}）",
             f"提问 {stats.questions} 次，日均 {stats.questions / days:.1f} 次",
             "最近7天每天：" + " · ".join(f"{d.day:%m-%d} {d.total}" for d in stats.days[-7:])]
    if stats.questions:
        lines += [
            f"· 直接回答 {_percent(stats.share('answered'))}（{stats.count('answered')}）",
            f"· 给出相近话题 {_percent(stats.share('suggested'))}（{stats.count('suggested')}）",
            f"· 没能回答 {_percent(stats.share('declined'))}（{stats.count('declined')}）",
        ]
    votes = stats.useful + stats.not_useful
    feedback = f"反馈：👍 {stats.useful}  👎 {stats.not_useful}"
    if votes:
        feedback += f"（有用 {_percent(stats.useful / votes)}）"
    lines.append(feedback)
    lines.append(f"订阅用户 {stats.subscribers} 人（另有 {stats.unsubscribed} 人已屏蔽或停用），"
                 f"群 {stats.groups} 个")
    if stats.reminders_sent is not None:
        active = f"，有效提醒 {stats.reminders_active} 个" if stats.reminders_active is not None \
            else ""
        lines.append(f"提醒：近{days}天发出 {stats.reminders_sent} 条{active}")
    if stats.top_topics:
        lines.append("热门话题：")
        for rank, (entry_id, n) in enumerate(stats.top_topics, 1):
            lines.append(f"{rank}. {titles.get(entry_id, entry_id)} — {n} 次")
    return "\n".join(lines)


def render_chart(stats: Stats) -> bytes:
    """A stacked bar chart of questions per day as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure  # no pyplot: no global state, thread-safe

    figure = Figure(figsize=(9, 4), dpi=100)
    axes = figure.add_subplot()
    xs = list(range(len(stats.days)))
    answered = [d.answered for d in stats.days]
    suggested = [d.suggested for d in stats.days]
    declined = [d.declined for d in stats.days]
    axes.bar(xs, answered, color="#2e7d32", label="answered")
    axes.bar(xs, suggested, bottom=answered, color="#f9a825", label="suggested")
    axes.bar(xs, declined, bottom=[a + s for a, s in zip(answered, suggested, strict=True)],
             color="#c62828", label="declined")
    step = max(1, len(xs) // 10)
    axes.set_xticks(xs[::step], [f"{d.day:%m-%d}" for d in stats.days][::step])
    axes.set_ylabel("questions")
    axes.set_title(f"Questions per day, {stats.since:%Y-%m-%d} to {stats.today:%Y-%m-%d}")
    axes.legend(loc="upper left")
    axes.grid(axis="y", alpha=0.3)
    axes.set_ylim(bottom=0)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


@dataclass(frozen=True)
class Unanswered:
    text: str  # the most recent wording of the question
    count: int
    declined: int
    downvoted: int


def unanswered_questions(db: sqlite_utils.Database, today: dt.date, days: int = 90,
                         limit: int = 15) -> list[Unanswered]:
    """The most frequent declined or downvoted questions, grouped by their normalised text."""
    since = (today - dt.timedelta(days=days - 1)).isoformat()
    rows = declined_or_downvoted(db, since)
    groups: dict[str, list] = {}
    for text, declined, down in rows:
        key = strip_non_words(normalize(text or ""))
        if not key:
            continue
        group = groups.setdefault(key, [text, 0, 0, 0])
        group[1] += 1
        group[2] += int(bool(declined))
        group[3] += int(bool(down))
    # groups are in order of their latest question: ties go to the most recent
    ranked = sorted(groups.values(), key=lambda g: -g[1])
    return [Unanswered(text, n, declined, down) for text, n, declined, down in ranked[:limit]]


def format_unanswered(items: list[Unanswered], days: int = 90) -> str:
    if not items:
        return f"近{days}天没有未回答或被点“没用”的问题。"
    lines = [f"近{days}天没能回答或被点“没用”最多的问题（可据此补充知识库）："]
    for rank, item in enumerate(items, 1):
        marks = []
        if item.declined:
            marks.append(f"未回答 {item.declined}")
        if item.downvoted:
            marks.append(f"👎 {item.downvoted}")
        lines.append(f"{rank}. {item.text[:80]} — {item.count} 次（{'，'.join(marks)}）")
    return "\n".join(lines)


# ------------------------------------------------------------------ one group, for its admins


@dataclass
class GroupStats:
    """What happened in one group over the last `days` days."""

    since: dt.date
    today: dt.date
    answered: int
    unsure: int  # "did you mean" replies
    declined: int
    skipped: int  # certification questions auto-answer did not answer (not sure enough)
    top_topics: list[tuple[str, int]]
    skipped_examples: list[str]  # the latest skipped questions, redacted when stored
    reminders_sent: int | None
    broadcasts_sent: int | None

    @property
    def questions(self) -> int:
        return self.answered + self.unsure + self.declined + self.skipped


def collect_group_stats(db: sqlite_utils.Database, chat_id: int, today: dt.date,
                        days: int = 30, top: int = 3, examples: int = 5) -> GroupStats:
    """Questions, reminders and broadcasts of one group, the last `days` days to `today`."""
    since = today - dt.timedelta(days=days - 1)
    lo, hi = since.isoformat(), (today + dt.timedelta(days=1)).isoformat()
    kinds: Counter[str] = Counter()
    for (_day, kind), n in count_kinds(db, lo, hi, chat_id=chat_id).items():
        kinds[kind] += n
    topics = top_topics(db, lo, hi, ("answer", "skipped"), top, chat_id=chat_id)
    skipped = latest_texts(db, chat_id, "skipped", lo, hi, examples)
    reminders = _if_present(lambda: count_reminders_sent(db, lo, hi, chat_id=chat_id))
    broadcasts = _if_present(lambda: count_broadcasts_sent(db, chat_id, lo, hi))
    return GroupStats(
        since=since, today=today,
        answered=sum(kinds[k] for k in ANSWERED_KINDS),
        unsure=sum(kinds[k] for k in SUGGESTED_KINDS),
        declined=sum(kinds[k] for k in DECLINED_KINDS),
        skipped=kinds["skipped"], top_topics=topics, skipped_examples=skipped,
        reminders_sent=reminders, broadcasts_sent=broadcasts)


def _if_present(count: Callable[[], int]) -> int | None:
    """A feature's number, or None when its tables are missing or of another version."""
    try:
        return count()
    except sqlite3.Error:
        return None


def format_group_stats(stats: GroupStats, title: str = "",
                       titles: dict[str, str] | None = None) -> str:
    """The group /stats message, in plain words for a group's admins."""
    titles = titles or {}
    days = (stats.today - stats.since).days + 1
    name = f"“{title}”" if title else "本群"
    lines = [f"📊 {name}近{days}天（{stats.since:%m-%d} 至 {stats.today:%m-%d}）",
             f"群里问了我 {stats.questions} 个认证问题："]
    lines += [f"· 我回答了 {stats.answered} 个",
              f"· 拿不准、给了几个相近的问题让大家选 {stats.unsure} 个",
              f"· 没能回答 {stats.declined} 个"]
    lines.append(f"· 自动回答时没把握、没有回答 {stats.skipped} 个")
    if stats.top_topics:
        lines.append("问得最多的：")
        lines += [f"{rank}. {titles.get(entry_id, entry_id)}（{n} 次）"
                  for rank, (entry_id, n) in enumerate(stats.top_topics, 1)]
    if stats.skipped_examples:
        lines.append("我没把握、没有回答的问题（请您帮着回答一下）：")
        lines += [f"· {text[:60]}" for text in stats.skipped_examples]
    if stats.reminders_sent is not None:
        lines.append(f"定期提醒：发到本群 {stats.reminders_sent} 次")
    if stats.broadcasts_sent is not None:
        lines.append(f"通知：发到本群 {stats.broadcasts_sent} 条")
    return "\n".join(lines)
