"""The local Bot API server, driven by python-telegram-bot's real Bot over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import re
import time

import httpx
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChatAdministrators,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from tests.botapi import BotApiServer, BotProcess, RateLimit, WaitTimeout

# Reading RetryAfter.retry_after warns about its future type; not what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

USER = 5550001
GROUP = -4001
SUPERGROUP = -1004001
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    + (640).to_bytes(4, "big")
    + (480).to_bytes(4, "big")
    + bytes(200)
)


@pytest.fixture
def server(shared_server: BotApiServer) -> BotApiServer:
    shared_server.reset()
    return shared_server


@pytest.fixture
async def bot(server: BotApiServer):
    async with server.make_bot() as b:
        yield b


def buttons(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in pairs]])


# ------------------------------------------------------------------ basics


async def test_get_me_describes_the_bot(bot: Bot, server: BotApiServer) -> None:
    assert bot.bot.id == server.bot_id
    assert bot.bot.username == server.bot_username
    assert bot.bot.can_read_all_group_messages is False  # privacy mode on by default
    assert bot.bot.supports_inline_queries is True
    assert [c.method for c in server.calls()] == ["getMe"]


@pytest.mark.parametrize("token", ["7000000001:not-the-right-one", "garbage"])
async def test_wrong_token_is_rejected(server: BotApiServer, token: str) -> None:
    with pytest.raises(InvalidToken):
        async with Bot(token, base_url=server.base_url):
            pass


async def test_unknown_method_is_404(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": USER})


@pytest.mark.parametrize(
    ("how", "body"),
    [
        ("json", {"chat_id": USER, "text": "123", "reply_markup": {"remove_keyboard": True}}),
        (
            "form",
            {"chat_id": str(USER), "text": "123", "reply_markup": '{"remove_keyboard": true}'},
        ),
        ("query", {"chat_id": str(USER), "text": "123"}),
    ],
)
def test_request_encodings(server: BotApiServer, how: str, body: dict) -> None:
    url = f"{server.base_url}{server.token}/SENDMESSAGE"  # method names are case-insensitive
    with httpx.Client() as client:
        if how == "json":
            response = client.post(url, json=body)
        elif how == "form":
            response = client.post(url, data=body)
        else:
            response = client.get(url, params=body)
    payload = response.json()
    assert payload["ok"] is True, payload
    assert payload["result"]["text"] == "123"  # strings are not JSON-decoded
    call = server.calls("sendMessage")[-1]
    assert call.params["chat_id"] == USER
    assert call.params["text"] == "123"


def test_error_envelope_shape(server: BotApiServer) -> None:
    server.fail_next("sendMessage", 429, retry_after=5)
    url = f"{server.base_url}{server.token}/sendMessage"
    response = httpx.post(url, json={"chat_id": USER, "text": "hi"})
    assert response.status_code == 429
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 5",
        "parameters": {"retry_after": 5},
    }


# ------------------------------------------------------------------ sending messages


async def test_send_message_shape(bot: Bot, server: BotApiServer) -> None:
    question = server.send_text(USER, "怎么认证", first_name="王阿姨")
    sent = await bot.send_message(
        USER,
        "  <b>第一步</b>：打开 <a href='https://si.12333.gov.cn'>国家社保公共服务平台</a>  ",
        parse_mode="HTML",
        reply_markup=buttons(("有用", "fb:up"), ("没用", "fb:down")),
        reply_parameters=ReplyParameters(question["message_id"]),
    )
    assert sent.text == "第一步：打开 国家社保公共服务平台"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 3),
        ("text_link", 7, 10),
    ]
    assert sent.entities[1].url == "https://si.12333.gov.cn"
    assert sent.reply_to_message.message_id == question["message_id"]
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "fb:down"
    assert sent.from_user.id == server.bot_id

    raw = server.sent_messages(USER)[-1]
    assert raw["chat"] == {"id": USER, "first_name": "王阿姨", "type": "private"}
    assert raw["message_id"] == question["message_id"] + 1  # ids are per chat, shared
    assert set(raw) >= {"message_id", "from", "chat", "date", "text", "entities", "reply_markup"}
    assert server.calls("sendMessage")[-1].text.startswith("  <b>")


async def test_reply_keyboard_is_tracked_per_chat(bot: Bot, server: BotApiServer) -> None:
    keyboard = ReplyKeyboardMarkup([[KeyboardButton("怎么认证"), "什么时候认证"], ["设置提醒"]])
    message = await bot.send_message(USER, "请选择", reply_markup=keyboard)
    assert message.reply_markup is None  # Telegram only echoes inline keyboards
    assert server.reply_keyboard(USER) == [["怎么认证", "什么时候认证"], ["设置提醒"]]
    await bot.send_message(USER, "好的", reply_markup=ReplyKeyboardRemove())
    assert server.reply_keyboard(USER) is None


@pytest.mark.parametrize(
    ("text", "mode", "visible", "kinds"),
    [
        (
            "<b>粗</b><i>斜</i><u>下</u><s>删</s><code>c</code>",
            "HTML",
            "粗斜下删c",
            ["bold", "italic", "underline", "strikethrough", "code"],
        ),
        ('<pre><code class="language-py">x=1</code></pre>', "HTML", "x=1", ["pre"]),
        ("&lt;tag&gt; &amp; &#x4E2D; &unknown;", "HTML", "<tag> & 中 &unknown;", []),
        ("<blockquote expandable>引用</blockquote>", "HTML", "引用", ["expandable_blockquote"]),
        (
            "*粗* _斜_ __下__ ~删~ ||藏|| `c`",
            "MarkdownV2",
            "粗 斜 下 删 藏 c",
            ["bold", "italic", "underline", "strikethrough", "spoiler", "code"],
        ),
        (r"截止 2025\-01\-31\. 请带身份证\!", "MarkdownV2", "截止 2025-01-31. 请带身份证!", []),
        ("[平台](https://example.gov.cn/a\\)b)", "MarkdownV2", "平台", ["text_link"]),
        (">第一行\n>第二行\n正文", "MarkdownV2", "第一行\n第二行\n正文", ["blockquote"]),
        ("*bold* and 1.5 [x](http://a.cn)", "Markdown", "bold and 1.5 x", ["bold", "text_link"]),
        ("👍<b>好</b>", "HTML", "👍好", ["bold"]),
    ],
)
async def test_parse_modes(bot: Bot, text: str, mode: str, visible: str, kinds: list[str]) -> None:
    message = await bot.send_message(USER, text, parse_mode=mode)
    assert message.text == visible
    assert [e.type for e in message.entities] == kinds
    if visible.startswith("👍"):
        assert message.entities[0].offset == 2  # UTF-16 code units, as Telegram counts


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"text": "a < b", "parse_mode": "HTML"}, 'Unsupported start tag ""'),
        ({"text": "<b>没关", "parse_mode": "HTML"}, "Can't find end tag"),
        ({"text": "<b>x</i>", "parse_mode": "HTML"}, "Unmatched end tag"),
        ({"text": "<br>", "parse_mode": "HTML"}, 'Unsupported start tag "br"'),
        ({"text": "<span>x</span>", "parse_mode": "HTML"}, "tg-spoiler"),
        ({"text": "第1.5步", "parse_mode": "MarkdownV2"}, "Character '.' is reserved"),
        ({"text": "(12333)", "parse_mode": "MarkdownV2"}, "Character '(' is reserved"),
        ({"text": "*粗", "parse_mode": "MarkdownV2"}, "Can't find end of Bold entity"),
        ({"text": "_x", "parse_mode": "Markdown"}, "Can't find end of the entity"),
        ({"text": "字" * 4097}, "message is too long"),
        ({"text": " \n "}, "message text is empty"),
        ({"text": "x", "reply_markup": buttons(("长", "d" * 65))}, "BUTTON_DATA_INVALID"),
        (
            {"text": "x", "reply_parameters": ReplyParameters(999)},
            "message to be replied not found",
        ),
    ],
)
async def test_bad_messages_are_rejected_like_telegram(bot: Bot, kwargs: dict, error: str) -> None:
    # PTB drops "Bad Request: " and re-capitalises; compare case-insensitively
    with pytest.raises(BadRequest, match=r"(?i)" + re.escape(error)):
        await bot.send_message(USER, **kwargs)


async def test_media_uploads_and_file_download(bot: Bot, server: BotApiServer) -> None:
    photo = await bot.send_photo(USER, PNG, caption="<b>近30天</b>", parse_mode="HTML")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
    assert photo.caption == "近30天"
    assert server.calls("sendPhoto")[-1].files == {"photo": len(PNG)}

    document = await bot.send_document(USER, b"a,b\n1,2\n", filename="stats.csv")
    assert document.document.file_name == "stats.csv"
    assert document.document.file_size == 8

    downloaded = await (await bot.get_file(document.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"a,b\n1,2\n"
    assert len(server.sent_messages(USER)) == 2

    with pytest.raises(BadRequest, match=r"(?i)IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER, b"not an image")


async def test_edit_delete_and_pin(bot: Bot, server: BotApiServer) -> None:
    message = await bot.send_message(USER, "进度 0/10", reply_markup=buttons(("取消", "cancel")))
    edited = await bot.edit_message_text(
        "进度 5/10", USER, message.message_id, reply_markup=message.reply_markup
    )
    assert edited.text == "进度 5/10"
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "进度 5/10", USER, message.message_id, reply_markup=message.reply_markup
        )
    await bot.edit_message_reply_markup(USER, message.message_id, reply_markup=None)
    assert "reply_markup" not in server.get_message(USER, message.message_id)
    assert server.sent_messages(USER)[0]["text"] == "进度 0/10"  # as sent, not as edited

    await bot.pin_chat_message(USER, message.message_id)
    assert server.pinned_messages(USER) == [message.message_id]
    assert await bot.delete_message(USER, message.message_id) is True
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, message.message_id)


# ------------------------------------------------------------------ receiving updates


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    bot: Bot, server: BotApiServer
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await asyncio.to_thread(server.wait_until_polling, 10)
    started = time.monotonic()
    server.send_text(USER, "你好")
    updates = await asyncio.wait_for(poll, 10)
    assert time.monotonic() - started < 3  # promptly, far before the 20 s timeout
    assert [u.message.text for u in updates] == ["你好"]
    assert updates[0].message.from_user.language_code == "zh-hans"


async def test_updates_stay_until_confirmed_by_offset(bot: Bot, server: BotApiServer) -> None:
    first = server.send_text(USER, "一")
    server.send_text(USER, "二")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.message_id for u in updates] == [first["message_id"], first["message_id"] + 1]
    again = await bot.get_updates(timeout=0)  # not confirmed yet: delivered again
    assert [u.update_id for u in again] == [u.update_id for u in updates]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    assert server.pending_updates() == []

    server.send_text(USER, "三")
    limited = await bot.get_updates(offset=updates[-1].update_id + 1, limit=1, timeout=0)
    assert [u.message.text for u in limited] == ["三"]
    assert limited[0].update_id == updates[-1].update_id + 1


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_second_poller_terminates_the_first(bot: Bot, server: BotApiServer) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    try:
        await asyncio.to_thread(server.wait_until_polling, 10)
        # PTB's getUpdates pool has one connection, so the rival poller is another Bot
        async with server.make_bot() as second_instance:
            assert await second_instance.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await asyncio.wait_for(first, 10)
    finally:
        first.cancel()


async def test_abandoned_long_poll_ends_with_its_client(bot: Bot, server: BotApiServer) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.to_thread(server.wait_until_polling, 10)
    poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poll
    deadline = time.monotonic() + 10
    while server.polling and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not server.polling


async def test_allowed_updates_filter_new_updates(bot: Bot, server: BotApiServer) -> None:
    await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert server.inline_query(USER, "认证") and server.pending_updates() == []
    server.send_text(USER, "hi")
    assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["hi"]


@pytest.mark.parametrize(
    ("inject", "attribute"),
    [
        (lambda s: s.send_voice(USER, duration=4), "voice"),
        (lambda s: s.send_sticker(USER), "sticker"),
        (lambda s: s.send_photo(USER, caption="我的社保卡"), "photo"),
        (lambda s: s.send_document(USER), "document"),
        (lambda s: s.send_contact(USER, "13800000000"), "contact"),
    ],
)
async def test_non_text_messages_parse(
    bot: Bot, server: BotApiServer, inject, attribute: str
) -> None:
    inject(server)
    (update,) = await bot.get_updates(timeout=0)
    assert getattr(update.message, attribute)
    assert update.message.text is None


async def test_callback_query_round_trip(bot: Bot, server: BotApiServer) -> None:
    sent = await bot.send_message(
        USER, "这个回答有用吗？", reply_markup=buttons(("有用", "fb:1"), ("没用", "fb:0"))
    )
    query_id = server.press_button(USER, server.sent_messages(USER)[-1], text="没用")
    (update,) = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert (query.id, query.data, query.from_user.id) == (query_id, "fb:0", USER)
    assert query.message.message_id == sent.message_id
    assert query.message.reply_markup.inline_keyboard[0][0].text == "有用"

    await query.answer("谢谢反馈")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer("again")
    assert server.calls("answerCallbackQuery")[0].params["text"] == "谢谢反馈"

    await bot.edit_message_text("已记录", USER, sent.message_id)  # keyboard gone
    with pytest.raises(LookupError, match="no button"):
        server.press_button(USER, sent.message_id, "fb:1", chat_id=USER)


async def test_inline_query_round_trip(bot: Bot, server: BotApiServer) -> None:
    query_id = server.inline_query(USER, "怎么认证")
    (update,) = await bot.get_updates(timeout=0)
    assert update.inline_query.query == "怎么认证"
    result = InlineQueryResultArticle(
        "a1", "刷脸认证", InputTextMessageContent("<b>刷脸认证</b>步骤", parse_mode="HTML")
    )
    await update.inline_query.answer([result], cache_time=0)
    assert server.inline_results(query_id)[0]["title"] == "刷脸认证"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await update.inline_query.answer([result])

    server.add_bot_to_group(GROUP)
    posted = server.choose_inline_result(USER, query_id, "a1", chat_id=GROUP)
    assert posted["text"] == "刷脸认证步骤"
    assert posted["via_bot"]["id"] == server.bot_id


async def test_inline_answer_validation(bot: Bot, server: BotApiServer) -> None:
    server.inline_query(USER, "x")
    (update,) = await bot.get_updates(timeout=0)
    bad = InlineQueryResultArticle(
        "a1", "t", InputTextMessageContent("1.5", parse_mode="MarkdownV2")
    )
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await update.inline_query.answer([bad])


@pytest.mark.parametrize(
    ("text", "setup", "delivered"),
    [
        ("今天天气不错", None, False),
        ("/help", None, True),
        ("/help@pension_cert_test_bot", None, True),
        ("/help@some_other_bot", None, False),
        ("@pension_cert_test_bot 怎么认证", None, True),
        ("请问@pension_cert_test_bot 怎么认证", None, True),
        ("今天天气不错", "admin", True),
        ("今天天气不错", "privacy_off", True),
    ],
)
async def test_privacy_mode_in_groups(
    bot: Bot, server: BotApiServer, text: str, setup: str | None, delivered: bool
) -> None:
    server.add_bot_to_group(GROUP)
    if setup == "admin":
        server.set_chat_admins(GROUP, [USER])
    elif setup == "privacy_off":
        server.set_privacy_mode(False)
    server.send_text(USER, text, chat_id=GROUP)
    updates = await bot.get_updates(timeout=0)
    texts = [u.message.text for u in updates if u.message and u.message.text]
    assert texts == ([text] if delivered else [])
    assert len(server.filtered_messages()) == (0 if delivered else 1)


async def test_reply_to_the_bot_reaches_it_in_groups(bot: Bot, server: BotApiServer) -> None:
    server.add_bot_to_group(GROUP)
    answer = await bot.send_message(GROUP, "需要带身份证")
    server.send_text(USER, "谢谢", chat_id=GROUP, reply_to_message_id=answer.message_id)
    updates = await bot.get_updates(timeout=0)
    replies = [u.message for u in updates if u.message and u.message.text == "谢谢"]
    assert replies[0].reply_to_message.from_user.id == server.bot_id


async def test_group_lifecycle_and_migration(bot: Bot, server: BotApiServer) -> None:
    server.add_bot_to_group(GROUP, title="幸福社区")
    server.migrate_group(GROUP, SUPERGROUP)
    updates = await bot.get_updates(timeout=0)
    assert updates[0].my_chat_member.new_chat_member.status == "member"
    assert updates[1].message.new_chat_members[0].id == server.bot_id
    assert updates[2].message.migrate_to_chat_id == SUPERGROUP
    assert updates[3].message.migrate_from_chat_id == GROUP
    assert updates[3].message.chat.type == "supergroup"
    assert updates[3].message.chat.title == "幸福社区"
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(GROUP, "x")
    assert caught.value.new_chat_id == SUPERGROUP
    assert (await bot.send_message(SUPERGROUP, "x")).chat.type == "supergroup"


async def test_chat_admins_and_members(bot: Bot, server: BotApiServer) -> None:
    server.add_bot_to_group(SUPERGROUP, chat_type="supergroup")
    server.set_chat_admins(SUPERGROUP, [USER, USER + 1])
    admins = await bot.get_chat_administrators(SUPERGROUP)
    assert [type(a) for a in admins] == [
        ChatMemberOwner,
        ChatMemberAdministrator,
        ChatMemberAdministrator,
    ]
    assert [a.user.id for a in admins] == [USER, USER + 1, server.bot_id]
    assert isinstance(await bot.get_chat_member(SUPERGROUP, USER + 1), ChatMemberAdministrator)
    assert isinstance(await bot.get_chat_member(SUPERGROUP, USER + 2), ChatMemberMember)
    assert (await bot.get_chat(SUPERGROUP)).title
    with pytest.raises(BadRequest, match=r"(?i)no administrators in the private chat"):
        await bot.get_chat_administrators(USER)


async def test_commands_per_scope(bot: Bot, server: BotApiServer) -> None:
    private = [BotCommand("start", "开始"), BotCommand("deadline", "算截止日期")]
    admins = [BotCommand("autoanswer", "自动回答开关")]
    await bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(admins, scope=BotCommandScopeChatAdministrators(SUPERGROUP))
    got = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [c.command for c in got] == ["start", "deadline"]
    assert await bot.get_my_commands() == ()
    assert server.my_commands({"type": "chat_administrators", "chat_id": SUPERGROUP}) == [
        {"command": "autoanswer", "description": "自动回答开关"}
    ]
    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert server.my_commands("all_private_chats") is None
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "大写不行")])


# ------------------------------------------------------------------ faults


def fault_setups():
    return [
        pytest.param(
            lambda s: s.fail_next("sendMessage", 429, retry_after=7), RetryAfter, True, id="429"
        ),
        pytest.param(lambda s: s.fail_next("sendMessage", 403), Forbidden, True, id="403"),
        pytest.param(
            lambda s: s.fail_next("sendMessage", 400, migrate_to_chat_id=SUPERGROUP),
            ChatMigrated,
            True,
            id="migrate-once",
        ),
        pytest.param(lambda s: s.fail_next("*", 502), NetworkError, True, id="502-any-method"),
        pytest.param(lambda s: s.block(USER), Forbidden, False, id="blocked"),
        pytest.param(lambda s: s.migrate(USER, SUPERGROUP), ChatMigrated, False, id="migrated"),
        pytest.param(
            lambda s: s.disconnect_next("sendMessage"), NetworkError, True, id="disconnect"
        ),
    ]


@pytest.mark.parametrize(("setup", "error", "once"), fault_setups())
async def test_faults_raise_the_matching_ptb_exception(
    bot: Bot, server: BotApiServer, setup, error: type[Exception], once: bool
) -> None:
    setup(server)
    with pytest.raises(error) as caught:
        await bot.send_message(USER, "提醒")
    if error is RetryAfter:
        assert caught.value.retry_after in (7, dtm.timedelta(seconds=7))
    if error is ChatMigrated:
        assert caught.value.new_chat_id == SUPERGROUP
    if error is Forbidden:
        assert "bot was blocked by the user" in caught.value.message
    if once:
        assert (await bot.send_message(USER, "提醒")).text == "提醒"
    else:
        with pytest.raises(error):
            await bot.send_message(USER, "提醒")
    assert len(server.sent_messages(USER)) == (1 if once else 0)


async def test_fault_targets_one_chat_for_n_calls(bot: Bot, server: BotApiServer) -> None:
    server.fail_next("sendMessage", 403, chat_id=USER, times=2)
    await bot.send_message(USER + 1, "别人不受影响")
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(USER, "x")
    await bot.send_message(USER, "第三次成功")
    assert server.stats()["injected_errors"] == 2


async def test_block_then_unblock_and_kick(bot: Bot, server: BotApiServer) -> None:
    server.block(USER, notify=True)
    (update,) = await bot.get_updates(timeout=0)
    assert update.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER, "typing")
    server.send_text(USER, "/start")  # writing to the bot again unblocks it
    await bot.send_message(USER, "欢迎回来")

    server.add_bot_to_group(GROUP)
    server.remove_bot_from_group(GROUP)
    with pytest.raises(Forbidden, match=r"(?i)kicked from the group"):
        await bot.send_message(GROUP, "x")
    assert server.stats()["blocked"] == 2


async def test_dropped_connection_after_processing_still_sends(
    bot: Bot, server: BotApiServer
) -> None:
    server.disconnect_next("sendMessage", processed=True)
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "到底发出去没有")
    assert [m["text"] for m in server.sent_messages(USER)] == ["到底发出去没有"]
    assert server.calls("sendMessage")[-1].dropped


@pytest.mark.parametrize(
    ("chat_id", "limit", "burst_ok", "distinct_chats"),
    [
        pytest.param(USER, RateLimit(per_chat_burst=2), 2, False, id="per-chat"),
        pytest.param(
            GROUP, RateLimit(per_chat_burst=9, per_group_burst=3), 3, False, id="per-group"
        ),
        pytest.param(USER, RateLimit(overall_burst=4, overall_per_second=1), 4, True, id="overall"),
    ],
)
async def test_rate_limiter_answers_429(
    bot: Bot,
    server: BotApiServer,
    chat_id: int,
    limit: RateLimit,
    burst_ok: int,
    distinct_chats: bool,
) -> None:
    server.set_rate_limit(limit)
    for i in range(burst_ok + 1):
        target = chat_id + i if distinct_chats else chat_id
        if i < burst_ok:
            await bot.send_message(target, "x")
            continue
        with pytest.raises(RetryAfter):
            await bot.send_message(target, "x")
    assert server.stats()["rate_limited"] == 1
    assert server.stats()["sent"] == burst_ok


async def test_latency_is_added(bot: Bot, server: BotApiServer) -> None:
    server.set_latency(0.3, "sendMessage")
    await bot.send_message(USER, "慢")
    await bot.send_chat_action(USER, "typing")
    slow, fast = server.calls("sendMessage")[-1], server.calls("sendChatAction")[-1]
    assert slow.duration >= 0.3 > fast.duration


# ------------------------------------------------------------------ webhook


async def test_webhook_delivery_with_secret_token(bot: Bot, server: BotApiServer) -> None:
    received: list[tuple[str | None, dict]] = []
    statuses = [500]  # first delivery fails: Telegram retries

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=statuses.pop() if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret-Token_1")
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates(timeout=0)
        message = server.send_text(USER, "你好")
        deadline = time.monotonic() + 10
        while server.pending_updates() and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert len(received) == 2  # one failure, one retry
        secret, update = received[-1]
        assert secret == "s3cret-Token_1"
        assert update["message"]["text"] == "你好"
        assert update["message"]["message_id"] == message["message_id"]
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert "500" in info.last_error_message
    finally:
        await bot.delete_webhook()
        await runner.cleanup()
    assert (await bot.get_webhook_info()).url == ""


# ------------------------------------------------------------------ waiting helpers and a real bot


def test_wait_for_explains_a_timeout(server: BotApiServer) -> None:
    httpx.post(f"{server.base_url}{server.token}/sendMessage", json={"chat_id": USER, "text": "早"})
    with pytest.raises(WaitTimeout) as caught:
        server.wait_for("editMessageText", timeout=0.2)
    dump = str(caught.value)
    assert "editMessageText" in dump
    assert "sendMessage chat=5550001 text='早' -> ok" in dump


def test_wait_for_counts_and_filters(server: BotApiServer) -> None:
    url = f"{server.base_url}{server.token}/sendMessage"
    mark = server.mark()
    for text in ("一", "二", "三"):
        httpx.post(url, json={"chat_id": USER, "text": text})
    calls = server.wait_for("sendMessage", lambda c: c.text != "二", count=2, since=mark, timeout=5)
    assert [c.text for c in calls] == ["一", "三"]
    assert [m["text"] for m in server.wait_for_messages(USER, count=3, since=mark)] == [
        "一",
        "二",
        "三",
    ]


def test_echo_bot_answers_as_a_subprocess(server: BotApiServer, tmp_path) -> None:
    with BotProcess(
        server, ["-m", "tests.botapi.echo_bot"], log_path=tmp_path / "echo.log"
    ) as echo:
        assert server.wait_for("getMe", timeout=1)
        (reply,) = server.ask(USER, "我想认证养老金", timeout=30)
        assert reply["text"] == "我想认证养老金"
        assert reply["chat"]["id"] == USER
        server.reset()  # per-test reset must not disturb a bot that keeps running
        (second,) = server.ask(USER + 1, "第二位", timeout=30)
        assert second["text"] == "第二位"
    assert echo.returncode == 0, echo.log_tail()
    assert server.pending_updates() == []  # PTB confirmed what it handled before exiting
    assert json.dumps(server.stats())  # stats are plain data
