"""Bot admins' tools on Telegram: /stats, /unanswered and /reload, in private only (in a
group, /stats shows that group's numbers to its admins: bot.tg.handlers.group)."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType

from bot.tg.context import BotContext
from bot.tg.permissions import is_bot_admin
from bot.tg.sending import send_text

log = logging.getLogger(__name__)

MAX_PROBLEM_LINES = 20

REFUSED_ADMIN_ONLY = "抱歉，这个命令只对机器人管理员开放。"
PRIVATE_ONLY = "这个命令请私聊我使用。"
CHART_CAPTION = "近30天每日提问：绿色为直接回答，黄色为给出相近话题，红色为没能回答。"
RELOAD_STARTED = "正在重新读取知识库…"
RELOAD_REJECTED = "知识库有 {n} 个问题，这次没有更新，机器人继续使用原来的知识库：\n{lines}"
RELOAD_OK = "✅ 知识库已重新加载：{summary}。"
RELOAD_FAILED = "重新加载失败（{error}），机器人继续使用原来的知识库。"
RELOAD_MISSING = "知识库目录不存在：{path}。机器人继续使用原来的知识库。"


async def _admin_in_private(update: Update, context: BotContext) -> bool:
    svc = context.services
    user = update.effective_user
    if not is_bot_admin(svc, user.id if user else None):
        await update.effective_message.reply_text(REFUSED_ADMIN_ONLY)
        return False
    if update.effective_chat.type != ChatType.PRIVATE:
        await update.effective_message.reply_text(PRIVATE_ONLY)
        return False
    return True


async def stats_command(update: Update, context: BotContext) -> None:
    """/stats: the numbers as text, then the last 30 days as a chart; in a group, that
    group's numbers for its admins (bot.tg.handlers.group)."""
    if update.effective_chat.type in (ChatType.GROUP, ChatType.SUPERGROUP):
        from bot.tg.handlers.group import group_stats

        await group_stats(update, context)
        return
    if not await _admin_in_private(update, context):
        return
    from bot.stats import collect_stats, format_stats, render_chart

    svc = context.services
    stats = collect_stats(svc.db, svc.clock.today())
    titles = {entry_id: entry.question for entry_id, entry in svc.engine.kb.entries.items()}
    await update.effective_message.reply_text(format_stats(stats, titles))
    png = await asyncio.to_thread(render_chart, stats)
    await update.effective_message.reply_photo(png, caption=CHART_CAPTION)


async def unanswered_command(update: Update, context: BotContext) -> None:
    """/unanswered: what people ask that the bot cannot answer (or answers badly)."""
    if not await _admin_in_private(update, context):
        return
    from bot.stats import format_unanswered, unanswered_questions

    svc = context.services
    items = unanswered_questions(svc.db, svc.clock.today())
    await send_text(context.bot, update.effective_chat.id, format_unanswered(items))


def _reload_engine(directory, build_engine):
    """Region data is read again from the same directory as the knowledge base, then the
    engine (its place words come from the region data) is built; if that fails, the region
    data in use before is used again, so the old engine keeps answering."""
    from bot.deadline.region_data import regions_dir, use_knowledge_dir

    before = regions_dir().parent
    use_knowledge_dir(directory)
    try:
        return build_engine(directory)
    except Exception:
        use_knowledge_dir(before)
        raise


async def reload_command(update: Update, context: BotContext) -> None:
    """/reload: re-read the knowledge directory; any problem keeps the old knowledge."""
    if not await _admin_in_private(update, context):
        return
    from bot.qa.check import check_problems
    from bot.qa.engine import build_engine

    svc = context.services
    message = update.effective_message
    lock = svc.reload_lock
    directory = svc.settings.knowledge_dir
    async with lock:
        if not directory.is_dir():
            await message.reply_text(RELOAD_MISSING.format(path=directory))
            return
        await message.reply_text(RELOAD_STARTED)
        try:
            problems, summary = await asyncio.to_thread(check_problems, directory)
            if problems:
                shown = problems[:MAX_PROBLEM_LINES]
                if len(problems) > len(shown):
                    shown.append(f"……另有 {len(problems) - len(shown)} 个问题，"
                                 "可用 python -m bot kb check 查看全部")
                await send_text(context.bot, message.chat_id, RELOAD_REJECTED.format(
                    n=len(problems), lines="\n".join(shown)))
                return
            engine = await asyncio.to_thread(_reload_engine, directory, build_engine)
        except Exception as exc:  # whatever went wrong, the running engine stays
            log.exception("reload failed")
            await message.reply_text(RELOAD_FAILED.format(error=type(exc).__name__))
            return
        svc.engine = engine
        log.info("knowledge reloaded from %s: %s", directory, summary)
        await message.reply_text(RELOAD_OK.format(summary=summary))
