"""Inline mode: @bot 问题 in any chat offers the best answers as results to send there."""

from __future__ import annotations

import logging

from telegram import (
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)
from telegram.error import TelegramError

from bot.qa.answers import DEADLINE_ENTRY, answer, format_entry
from bot.text.normalize import normalize
from bot.tg.context import BotContext

log = logging.getLogger(__name__)

INLINE_RESULTS = 3
# What an empty query offers: the topics people need most.
INLINE_POPULAR = ("channels-overview", "proxy-certify", "face-fail-repeated", "missed-makeup")


async def inline_query(update: Update, context: BotContext) -> None:
    """@bot 问题: offer the best answers as results that can be sent into any chat."""
    svc = context.services
    text = (update.inline_query.query or "").strip()
    kb = svc.engine.kb
    if text:
        reply = answer(svc.engine, text, svc.clock.today())
        results = []
        if reply.kind == "deadline":
            results.append(InlineQueryResultArticle(
                id="deadline", title="认证到期日计算", description=reply.text[:80],
                input_message_content=InputTextMessageContent(reply.text[:4096])))
        ranked = svc.engine.matcher.match(normalize(text))
        ids = [c.key for c in ranked.candidates
               if c.key in kb.entries and c.probability >= 0.05 and c.key != DEADLINE_ENTRY]
        # 转发给家人 sends a topic's own title: that topic first, whatever the ranking says.
        titled = next((e.id for e in kb.entries.values() if e.question == text), None)
        if titled is not None:
            ids = [titled, *(i for i in ids if i != titled)]
    else:
        results, ids = [], [i for i in INLINE_POPULAR if i in kb.entries]
    for entry_id in ids[:INLINE_RESULTS]:
        entry = kb.entries[entry_id]
        results.append(InlineQueryResultArticle(
            id=entry.id[:64], title=entry.question,
            description=entry.answer.replace("\n", " ")[:80],
            input_message_content=InputTextMessageContent(format_entry(entry)[:4096])))
    try:  # best-effort, like a button press: a query typed on is too old by now
        await update.inline_query.answer(
            results[:INLINE_RESULTS + 1], cache_time=30, is_personal=False,
            button=InlineQueryResultsButton(text="私聊我问问题", start_parameter="inline"),
        )
    except TelegramError as exc:
        log.info("inline query not answered: %s", exc)
