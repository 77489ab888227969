"""Building and running the Telegram application: handlers wired in a readable order."""

from __future__ import annotations

import logging
import secrets
import warnings

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.broadcasts.store import ensure_broadcast_tables
from bot.clock import make_clock
from bot.config import Settings
from bot.db.connection import defer_failed_writes, open_database
from bot.deadline.region_data import use_knowledge_dir
from bot.qa.engine import Engine
from bot.reminders.plans import use_timezone
from bot.reminders.store import ensure_reminder_tables
from bot.tg import flow, texts
from bot.tg.background import repeat, stop_background
from bot.tg.broadcast_runner import BroadcastRunner
from bot.tg.callbacks import INVALID_BUTTON, answer_query
from bot.tg.context import CONTEXT_TYPES, Services, attach, services_of
from bot.tg.handlers import (
    admin,
    broadcast,
    chat,
    forget,
    group_remind,
    inline,
    my_reminders,
    remind,
    service,
)
from bot.tg.handlers import group as group_handlers
from bot.tg.handlers import picture as pictures
from bot.tg.handlers.deadline import city_conversation, deadline_conversation
from bot.tg.health import DatabaseHealth
from bot.tg.reminder_sender import on_start as start_reminder_sender
from bot.tg.sending import GroupLimiter
from bot.tg.updates import PerChatUpdateProcessor

log = logging.getLogger(__name__)

PRIVATE_COMMANDS = [
    BotCommand("start", "开始使用"),
    BotCommand("deadline", "算一算下次什么时候认证"),
    BotCommand("city", "设置我的城市"),
    BotCommand("remind", "设置认证到期提醒"),
    BotCommand("myreminders", "查看我的提醒"),
    BotCommand("stop", "停止所有提醒"),
    BotCommand("forget", "删除我的信息"),
    BotCommand("cancel", "取消当前操作"),
    BotCommand("help", "使用说明"),
]
GROUP_COMMANDS = [
    BotCommand("ask", "提一个认证问题"),
    BotCommand("help", "使用说明"),
]
GROUP_ADMIN_COMMANDS = [
    *GROUP_COMMANDS,
    BotCommand("autoanswer", "开关自动回答认证问题"),
    BotCommand("remind", "设置群定期提醒"),
    BotCommand("broadcast", "给本群发通知"),
]
NON_TEXT = (filters.VOICE | filters.AUDIO | filters.Sticker.ALL | filters.PHOTO
            | filters.VIDEO | filters.VIDEO_NOTE | filters.Document.ALL | filters.LOCATION
            | filters.CONTACT | filters.ANIMATION | filters.Dice.ALL | filters.POLL
            | filters.STORY | filters.VENUE)
# Pictures whose text is read (bot/tg/handlers/picture.py); stickers and GIFs keep the polite note.
PICTURES = filters.PHOTO | filters.Document.IMAGE
# What starts something new in a private chat (bot.tg.flow.fresh_start): any command but
# /cancel (the flows' own), a home keyboard button, 提醒我认证 or 删除我的信息 typed.
HOME_BUTTONS = filters.Text([texts.BUTTON_HOW, texts.BUTTON_WHEN, texts.BUTTON_FAMILY,
                             texts.BUTTON_MISSED, texts.BUTTON_REMIND])
FRESH_START = ((filters.COMMAND & ~filters.Regex(r"^/cancel(@\w+)?(\s|$)")) | HOME_BUTTONS
               | remind.ASKS_FOR_REMINDER | forget.ASKS_TO_FORGET)


async def _post_init(application: Application) -> None:
    """Once connected: the command menus per scope and the profile, then the background work
    (reminder sender, running and scheduled broadcasts, database watcher)."""
    bot = application.bot
    await bot.set_my_commands(PRIVATE_COMMANDS, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(GROUP_COMMANDS, scope=BotCommandScopeAllGroupChats())
    await bot.set_my_commands(GROUP_ADMIN_COMMANDS,
                              scope=BotCommandScopeAllChatAdministrators())
    await service.set_profile(bot)
    services = services_of(application)
    await start_reminder_sender(application)
    await services.broadcasts.on_start()
    _watch_database(application, services.db_health)
    log.info("bot @%s is running", bot.username)


async def _post_stop(application: Application) -> None:
    """Let running broadcasts and background loops finish what is under way."""
    services = services_of(application)
    await services.broadcasts.on_stop()
    await stop_background(application)


async def _post_shutdown(application: Application) -> None:
    """Write what was kept after failed writes one last time, and say what could not be."""
    services = services_of(application)
    health = services.db_health
    if health is not None and health.pending:
        health.retry()
        if health.pending:
            log.error("database: %d kept writes could not be written before stopping",
                      len(health.pending))
    services.db.close()


def file_url(base_url: str) -> str:
    """The file download URL of a Bot API URL: …/bot → …/file/bot (only the last /bot: a
    local server may be called http://botapi:8081/bot)."""
    head, sep, tail = base_url.rpartition("/bot")
    return f"{head}/file/bot{tail}" if sep else base_url


def build_application(settings: Settings, engine: Engine) -> Application:
    """The python-telegram-bot application with every handler, ready to run."""
    use_timezone(settings.timezone)  # reminder times follow BOT_TIMEZONE
    use_knowledge_dir(settings.knowledge_dir)  # and region data KNOWLEDGE_DIR
    db = open_database(settings.database_path)
    application = (
        Application.builder()
        .token(settings.token)
        .base_url(settings.base_url)
        .base_file_url(file_url(settings.base_url))
        .post_init(_post_init)
        .post_stop(_post_stop)
        .context_types(CONTEXT_TYPES)
        .post_shutdown(_post_shutdown)
        .concurrent_updates(PerChatUpdateProcessor())
        # Every new message to a group takes that group's turn (20 a minute), in one place.
        .rate_limiter(GroupLimiter())
        .build()
    )
    clock = make_clock(settings.timezone, settings.clock_file)
    health = DatabaseHealth(db, settings.database_path, clock.now)
    defer_failed_writes(db, health.failed, health.forget)
    ensure_reminder_tables(db)
    ensure_broadcast_tables(db)
    attach(application, Services(settings, engine, db, clock, db_health=health,
                                 broadcasts=BroadcastRunner(application)))
    add_handlers(application)
    return application


def _watch_database(application: Application, health: DatabaseHealth) -> None:
    """Every DB_CHECK_SECONDS: retry kept writes, look at the file, tell the admins."""
    services = services_of(application)

    async def notify(text: str) -> None:
        for admin_id in sorted(services.settings.admin_ids):
            try:
                await application.bot.send_message(admin_id, text)
            except TelegramError as exc:
                log.warning("database alert not delivered to an admin: %s", exc)

    async def tick() -> None:
        await health.check(notify)  # `repeat` logs a failure and goes on: the watcher never stops

    interval = services.settings.db_check_seconds
    repeat(application, tick, every=lambda: interval, first=interval, name="database-health")


async def unknown_button(update: Update, _context: object) -> None:
    """A press no other handler took: say so instead of leaving the button spinning."""
    await answer_query(update.callback_query, INVALID_BUTTON, alert=True)


def add_handlers(application: Application) -> None:
    """Wire handlers; order matters: flows first, then commands, then free text."""
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    text = filters.TEXT & ~filters.COMMAND
    # Before anything else, in this order: an ID or card number posted in a group is protected
    # and goes no further; an edit is not handled a second time (except a private question);
    # a command, a home button or a typed request ends the flows left open, so that the next
    # step of a forgotten flow does not take it.
    application.add_handler(MessageHandler(groups & (filters.TEXT | filters.CAPTION),
                                           group_handlers.guard_numbers), group=-3)
    application.add_handler(MessageHandler(
        filters.UpdateType.EDITED_MESSAGE & (filters.COMMAND | groups),
        group_handlers.ignore_edit), group=-2)
    application.add_handler(MessageHandler(private & FRESH_START, flow.fresh_start), group=-1)
    # Guided flows and the features' commands first: while a flow runs, its state takes the
    # user's next message. per_message=False is what we want for these flows.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        application.add_handler(deadline_conversation())
        application.add_handler(city_conversation())
        # Reminders: the /remind flow, /myreminders and /stop, group notices for group admins.
        application.add_handler(remind.remind_conversation())
        application.add_handler(my_reminders.leads_conversation(remind.cancel))
        application.add_handler(CommandHandler("remind", group_remind.group_remind,
                                               filters=groups))
        application.add_handler(CommandHandler("myreminders", my_reminders.my_reminders,
                                               filters=private))
        application.add_handler(CommandHandler("stop", my_reminders.stop_command,
                                               filters=private))
        application.add_handler(CallbackQueryHandler(my_reminders.reminder_button,
                                                     pattern=r"^rm:"))
        application.add_handler(CallbackQueryHandler(group_remind.group_button,
                                                     pattern=r"^grm:"))
        application.add_handler(CallbackQueryHandler(remind.stale_flow_button,
                                                     pattern=r"^rmf:"))
        # Broadcasts: the flow, the 停止 button under a running one, and a reply to a notice,
        # which confirms its delivery (group 2: beside the handler that answers the text).
        application.add_handler(broadcast.broadcast_conversation())
        application.add_handler(CallbackQueryHandler(broadcast.stop_pressed,
                                                     pattern=r"^bc:stop:"))
        application.add_handler(MessageHandler(filters.REPLY, broadcast.reply_to_bot), group=2)
        # Bot admins. Charts and knowledge builds take a moment: never hold up other updates.
        application.add_handler(CommandHandler("stats", admin.stats_command, block=False))
        application.add_handler(CommandHandler("unanswered", admin.unanswered_command))
        application.add_handler(CommandHandler("reload", admin.reload_command, block=False))
        # Privacy: /forget (or 删除我的信息) deletes what is kept about the user, after a yes.
        application.add_handler(CommandHandler("forget", forget.forget_command, filters=private))
        application.add_handler(CommandHandler("forget", forget.forget_in_group, filters=groups))
        application.add_handler(MessageHandler(private & text & forget.ASKS_TO_FORGET,
                                               forget.forget_command))
        application.add_handler(CallbackQueryHandler(forget.forget_button, pattern=r"^fg:"))

    application.add_handler(CommandHandler("start", service.deep_link_start,
                                           filters=private & filters.Regex(service.DEEP_LINK)))
    application.add_handler(CommandHandler("start", chat.start))
    application.add_handler(CommandHandler("help", chat.help_command))
    application.add_handler(CommandHandler("ask", chat.ask_command))
    application.add_handler(CommandHandler("autoanswer", chat.autoanswer))
    application.add_handler(CommandHandler("deadline", chat.start, filters=groups))

    application.add_handler(CallbackQueryHandler(chat.suggestion_chosen, pattern=r"^sug:"))
    application.add_handler(CallbackQueryHandler(chat.place_chosen, pattern=r"^plc:"))
    application.add_handler(CallbackQueryHandler(chat.sources_chosen, pattern=r"^src:"))
    application.add_handler(CallbackQueryHandler(chat.more_chosen, pattern=r"^more:"))
    application.add_handler(CallbackQueryHandler(chat.feedback, pattern=r"^fb:"))
    application.add_handler(InlineQueryHandler(inline.inline_query))
    # Last of the buttons: data no handler knows (a finished flow, an old or forged button).
    application.add_handler(CallbackQueryHandler(unknown_button))

    application.add_handler(ChatMemberHandler(group_handlers.bot_membership,
                                              ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, group_handlers.migrated))
    application.add_handler(MessageHandler(private & text, chat.private_text))
    application.add_handler(MessageHandler(groups & text, chat.group_text))
    application.add_handler(MessageHandler((private | groups) & PICTURES, pictures.picture))
    application.add_handler(MessageHandler(private & NON_TEXT, chat.non_text))
    # Last: a command none of the handlers above took (typo, old menu entry) in a private chat.
    application.add_handler(MessageHandler(private & filters.COMMAND, chat.unknown_command))
    application.add_error_handler(chat.on_error)


def run_polling(application: Application) -> None:
    """Long polling until SIGINT/SIGTERM, then a clean shutdown."""
    application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)


def run_webhook(application: Application, url: str, host: str, port: int,
                secret: str | None = None) -> None:
    """Serve a webhook on host:port; Telegram must reach `url` (HTTPS, via a proxy)."""
    secret = secret or secrets.token_urlsafe(32)
    path = "telegram/" + secrets.token_hex(8)
    application.run_webhook(listen=host, port=port, url_path=path,
                            webhook_url=f"{url.rstrip('/')}/{path}", secret_token=secret,
                            allowed_updates=Update.ALL_TYPES)
