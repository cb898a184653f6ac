"""The fake Bot API itself, driven by an unmodified python-telegram-bot over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import socket
import warnings

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.simulator import FakeBotApi, SimulatedUser

TOKEN = "123456:TEST"
USER_ID = 1001
GIF_1X1 = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


# --------------------------------------------------------------------------- a tiny bot


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message and update.effective_user
    payload = " ".join(context.args or []) or "-"
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Yes", callback_data="ans:yes"),
          InlineKeyboardButton("No", callback_data="ans:no")]]
    )
    await update.effective_message.reply_text(
        f"Hello <b>{html.escape(update.effective_user.first_name)}</b>! "
        f"lang={update.effective_user.language_code} payload={html.escape(payload)}",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Got it")
    await query.edit_message_text(f"You chose {query.data}")


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message and update.effective_message.text
    await update.effective_message.reply_text(
        "echo: " + html.escape(update.effective_message.text), parse_mode=ParseMode.HTML
    )


async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message and message.document
    data = await (await message.document.get_file()).download_as_bytearray()
    await message.reply_text(f"got {message.document.file_name}: {len(data)} bytes")


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message
    await update.effective_message.reply_text("I only read text")


def build_app(api: FakeBotApi) -> Application:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    app.add_handler(MessageHandler(filters.ALL & ~filters.COMMAND, on_other))
    return app


async def start_app(app: Application, *, poll_interval: float = 0.0) -> None:
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=poll_interval, timeout=1)


async def stop_app(app: Application) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


@pytest.fixture
async def api():
    async with FakeBotApi(TOKEN) as server:
        server.quiet = 0.05
        server.reply_timeout = 5.0
        yield server


@pytest.fixture
async def app(api: FakeBotApi):
    application = build_app(api)
    await start_app(application)
    yield application
    await stop_app(application)


@pytest.fixture
def user(api: FakeBotApi) -> SimulatedUser:
    return api.make_user(USER_ID, "Amal & Co", language_code="ar")


@pytest.fixture
async def bot(api: FakeBotApi):
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as tg_bot:
        yield tg_bot


async def _get_updates(session: aiohttp.ClientSession, api: FakeBotApi, **params) -> dict:
    form = {name: str(value) for name, value in params.items()}  # as PTB sends it
    async with session.post(f"{api.base_url}{TOKEN}/getUpdates", data=form) as response:
        return await response.json()


def _seconds(retry_after: int | dtm.timedelta) -> float:
    if isinstance(retry_after, dtm.timedelta):
        return retry_after.total_seconds()
    return float(retry_after)


def _message_update(user_id: int, text: str) -> dict:
    return {
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": user_id, "type": "private", "first_name": "X"},
            "from": {"id": user_id, "is_bot": False, "first_name": "X"},
            "text": text,
        }
    }


# ----------------------------------------------------------------------- conversations


async def test_text_round_trip(api: FakeBotApi, app: Application, user: SimulatedUser) -> None:
    replies = await user.send_text("salt & pepper <3")

    assert [r.method for r in replies] == ["sendMessage"]
    assert replies[0].text == "echo: salt &amp; pepper &lt;3"
    assert replies[0].rendered_text == "echo: salt & pepper <3"
    assert replies[0].parse_mode == "HTML"
    assert user.last_text == "echo: salt &amp; pepper &lt;3"
    assert api.requests["getMe"] == 1
    assert api.sent_count == 1 and len(api.send_timestamps) == 1
    # user and bot messages share the chat's message id sequence
    assert user.last_message is not None and user.last_message["message_id"] == 2
    assert user.chat.messages[1]["text"] == "salt & pepper <3"


async def test_command_payload_language_and_keyboard(
    api: FakeBotApi, app: Application, user: SimulatedUser
) -> None:
    replies = await user.send_command("/start abc")

    assert len(replies) == 1
    assert replies[0].text == "Hello <b>Amal &amp; Co</b>! lang=ar payload=abc"
    assert user.buttons() == [[("Yes", "ans:yes"), ("No", "ans:no")]]
    message = user.last_message
    assert message is not None
    assert message["text"] == "Hello Amal & Co! lang=ar payload=abc"
    assert message["entities"] == [{"type": "bold", "offset": 6, "length": 9}]
    assert message["from"]["username"] == "hiwar_test_bot"


async def test_tap_round_trip(api: FakeBotApi, app: Application, user: SimulatedUser) -> None:
    await user.send_command("start")
    keyboard_message_id = user.last_message["message_id"]  # type: ignore[index]

    replies = await user.tap("Yes")

    assert [r.method for r in replies] == ["answerCallbackQuery", "editMessageText"]
    assert replies[0].callback_text == "Got it" and not replies[0].show_alert
    assert replies[1].message_id == keyboard_message_id
    assert user.last_text == "You chose ans:yes"
    # editing the text without reply_markup removes the keyboard, as on Telegram
    assert user.buttons() == []
    with pytest.raises(AssertionError, match="no bot message with an inline keyboard"):
        await user.tap("No")

    await user.send_command("/start")
    with pytest.raises(AssertionError, match=r"available buttons.*'Yes', 'ans:yes'"):
        await user.tap("Maybe")
    replies = await user.tap(  # by callback_data; `until` guards against slow bots
        "ans:no", until=lambda actions: actions[-1].method == "editMessageText"
    )
    assert replies[-1].text == "You chose ans:no"
    assert [a.method for a in user.messages].count("answerCallbackQuery") == 2


async def test_other_media_and_user_documents(
    api: FakeBotApi, app: Application, user: SimulatedUser
) -> None:
    for send in (user.send_sticker, user.send_photo, user.send_voice):
        replies = await send()
        assert [r.text for r in replies] == ["I only read text"]

    replies = await user.send_document(b"a,b\n1,2\n", "answers.csv", "text/csv")
    # the bot downloaded the file through getFile + the file URL
    assert replies[0].text == "got answers.csv: 8 bytes"
    assert api.requests["getFile"] == 1


async def test_group_chat(api: FakeBotApi, app: Application, user: SimulatedUser) -> None:
    member = user.in_group(-100200, "Local council")

    replies = await member.send_command(f"/start@{api.bot_username} g")

    assert replies[0].chat_id == -100200
    # in groups PTB quotes by default: the reply points at the user's command message
    quoted = member.last_message["reply_to_message"]  # type: ignore[index]
    assert quoted["from"]["id"] == USER_ID and quoted["text"].startswith("/start@")
    assert "payload=g" in (member.last_text or "")
    assert api.chat(-100200).json_obj == {"id": -100200, "type": "group", "title": "Local council"}
    assert user.messages == []  # nothing in the private chat


async def test_expect_nothing_and_timeout(api: FakeBotApi, user: SimulatedUser) -> None:
    with pytest.raises(TimeoutError, match="never fetched"):
        await user.send_text("anyone?", timeout=0.2)

    application = build_app(api)
    application.handlers.clear()  # a bot that ignores everything
    await start_app(application)
    try:
        assert await user.send_text("hello", expect_reply=False) == []
        with pytest.raises(TimeoutError, match="did not react"):
            await user.send_text("hello?", timeout=0.5)
    finally:
        await stop_app(application)


# ------------------------------------------------------------------------ update queue


async def test_offset_semantics_over_http(api: FakeBotApi) -> None:
    ids = [api.push_update(_message_update(USER_ID, f"m{i}")) for i in range(3)]
    assert ids == [1, 2, 3]

    async with aiohttp.ClientSession() as session:
        first = await _get_updates(session, api)
        assert [u["update_id"] for u in first["result"]] == [1, 2, 3]
        # not confirmed: delivered again
        again = await _get_updates(session, api, limit=2)
        assert [u["update_id"] for u in again["result"]] == [1, 2]
        assert not api.is_consumed(1)
        # offset confirms everything before it
        rest = await _get_updates(session, api, offset=2)
        assert [u["update_id"] for u in rest["result"]] == [2, 3]
        assert api.is_consumed(1) and not api.is_consumed(2)
        empty = await _get_updates(session, api, offset=4, timeout=0)
        assert empty == {"ok": True, "result": []}
        assert api.is_consumed(3)

        # long polling wakes up when an update arrives
        poll = asyncio.create_task(_get_updates(session, api, offset=4, timeout=5))
        await asyncio.sleep(0.05)
        api.push_update(_message_update(USER_ID, "late"))
        woke = await asyncio.wait_for(poll, 2)
        assert [u["update_id"] for u in woke["result"]] == [4]

        # a second long poll terminates the first one with 409, like Telegram
        older = asyncio.create_task(_get_updates(session, api, offset=5, timeout=5))
        await asyncio.sleep(0.05)
        newer = asyncio.create_task(_get_updates(session, api, offset=5, timeout=0))
        assert (await asyncio.wait_for(older, 2))["error_code"] == 409
        assert (await newer)["result"] == []

        # method names are case-insensitive; unknown ones and bad tokens are refused
        async with session.get(f"{api.base_url}{TOKEN}/GETME") as response:
            assert (await response.json())["result"]["username"] == "hiwar_test_bot"
        async with session.post(f"{api.base_url}{TOKEN}/frobnicate") as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found: method not found"
        async with session.post(f"{api.base_url}1:WRONG/getMe") as response:
            assert response.status == 401
            assert await response.json() == {
                "ok": False, "error_code": 401, "description": "Unauthorized"
            }


async def test_unconfirmed_update_is_redelivered_after_restart(api: FakeBotApi) -> None:
    seen: list[tuple[str, int]] = []
    handled = asyncio.Event()

    def recording_app(name: str, crash: bool) -> Application:
        application = build_app(api)
        application.handlers.clear()

        async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            seen.append((name, update.update_id))
            if crash:  # the bot "dies" before it can confirm the update
                api.fail_next("getUpdates", status=502, times=1000)
            handled.set()

        application.add_handler(MessageHandler(filters.ALL, record))
        return application

    first = recording_app("first", crash=True)
    await start_app(first, poll_interval=0.3)  # the handler runs before the next poll
    update_id = api.push_update(_message_update(USER_ID, "hello"))
    await asyncio.wait_for(handled.wait(), 3)
    await stop_app(first)  # its final "confirm" getUpdates fails with 502
    assert not api.is_consumed(update_id)

    api.clear_faults()
    handled.clear()
    second = recording_app("second", crash=False)
    await start_app(second)
    try:
        await asyncio.wait_for(handled.wait(), 3)
        await api.wait_consumed(update_id, timeout=3)
    finally:
        await stop_app(second)
    assert seen == [("first", update_id), ("second", update_id)]


# ------------------------------------------------------------------------ fault injection


async def test_retry_after_and_rate_limit(api: FakeBotApi, bot: Bot) -> None:
    api.make_user(USER_ID)
    api.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as caught, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await bot.send_message(USER_ID, "hi")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _seconds(caught.value.retry_after) == 7
    assert api.errors[-1].error_code == 429
    assert (await bot.send_message(USER_ID, "hi again")).message_id == 1

    api.fail_next("sendmessage", chat_id=999, status=500, times=2)  # other chats unaffected
    await bot.send_message(USER_ID, "still fine")

    api.rate_limit(2)
    await bot.send_message(USER_ID, "1")
    await bot.send_message(USER_ID, "2")
    with pytest.raises(RetryAfter), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await bot.send_message(USER_ID, "3")
    assert api.rate_limited == 1
    api.rate_limit(None)
    await bot.send_message(USER_ID, "3")
    assert api.sent_count == 5


async def test_blocked_user(api: FakeBotApi, bot: Bot, user: SimulatedUser) -> None:
    api.block(USER_ID)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER_ID, "hi")
    with pytest.raises(Forbidden):
        await bot.send_chat_action(USER_ID, "typing")
    api.unblock(USER_ID)
    await bot.send_message(USER_ID, "welcome back")
    assert [a.method for a in user.messages] == ["sendMessage"]
    assert [e.error_code for e in user.chat.errors] == [403, 403]


# ----------------------------------------------------------------------------- validation


async def test_telegram_validation(api: FakeBotApi, bot: Bot, user: SimulatedUser) -> None:
    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data=data)]])

    await bot.send_message(USER_ID, "ok", reply_markup=keyboard("ا" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER_ID, "x", reply_markup=keyboard("ا" * 33))  # 66 bytes
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
        await bot.send_message(USER_ID, "1 < 2", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(USER_ID, "Q&A", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)can't find end tag"):
        await bot.send_message(USER_ID, "<b>bold", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode 'MarkdownV2'.*HTML only"):
        await bot.send_message(USER_ID, "*Done*", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(USER_ID, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(USER_ID, "")
    many = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=str(i)) for i in range(101)]]
    )
    with pytest.raises(BadRequest, match=r"(?i)buttons_too_much"):
        await bot.send_message(USER_ID, "x", reply_markup=many)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(4242, "who?")

    sent = await bot.send_message(USER_ID, "<b>same</b>", parse_mode=ParseMode.HTML,
                                  reply_markup=keyboard("k"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<b>same</b>", USER_ID, sent.message_id,
                                    parse_mode=ParseMode.HTML, reply_markup=keyboard("k"))
    await bot.edit_message_text("same", USER_ID, sent.message_id, reply_markup=keyboard("k"))
    await bot.edit_message_reply_markup(USER_ID, sent.message_id, reply_markup=None)
    assert user.buttons() == [[("x", "ا" * 32)]]  # the first message still has its keyboard
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(USER_ID, sent.message_id, reply_markup=None)
    assert await bot.delete_message(USER_ID, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER_ID, sent.message_id)
    assert {e.description for e in api.errors} >= {"Bad Request: BUTTON_DATA_INVALID"}


async def test_files_commands_and_chat(api: FakeBotApi, bot: Bot, user: SimulatedUser) -> None:
    message = await bot.send_document(USER_ID, b"id,answer\n1,yes\n", filename="export.csv",
                                      caption="Your <i>export</i>", parse_mode=ParseMode.HTML)
    assert message.document is not None and message.document.file_name == "export.csv"
    assert message.document.mime_type == "text/csv" and message.document.file_size == 16
    assert message.caption == "Your export"
    action = user.messages[-1]
    assert action.document == b"id,answer\n1,yes\n" and action.document_name == "export.csv"
    assert api.file_bytes(message.document.file_id) == b"id,answer\n1,yes\n"
    downloaded = await (await bot.get_file(message.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"id,answer\n1,yes\n"

    photo = await bot.send_photo(USER_ID, GIF_1X1, caption="chart")
    assert photo.photo[-1].width == 1 and user.messages[-1].photo == GIF_1X1
    again = await bot.send_photo(USER_ID, photo.photo[-1].file_id)  # re-send by file_id
    assert user.messages[-1].photo == GIF_1X1 and again.photo[-1].file_id == photo.photo[-1].file_id
    with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
        await bot.send_photo(USER_ID, b"not an image")

    await bot.set_my_commands([BotCommand("start", "Begin")])
    await bot.set_my_commands([BotCommand("start", "ابدأ")], language_code="ar")
    assert api.get_commands(language_code="ar") == [{"command": "start", "description": "ابدأ"}]
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    await bot.delete_my_commands(language_code="ar")
    assert api.get_commands(language_code="ar") == []
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "x")])

    await bot.set_chat_menu_button(USER_ID)
    chat = await bot.get_chat(USER_ID)
    assert chat.first_name == "Amal & Co" and chat.type == "private"
    await bot.send_chat_action(USER_ID, "typing")
    assert user.messages[-1].chat_action == "typing"


# -------------------------------------------------------------------------------- webhook


async def test_webhook_delivery_with_secret_and_retries(
    api: FakeBotApi, bot: Bot, user: SimulatedUser
) -> None:
    received: list[tuple[str | None, dict]] = []
    failures = {"left": 1}

    async def receive(request: web.Request) -> web.Response:
        if failures["left"]:
            failures["left"] -= 1
            return web.Response(status=500)
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(text="ok")

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    runner = web.AppRunner(receiver)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cr-et_")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()

        assert await user.send_text("via webhook", expect_reply=False) == []
        assert len(received) == 1
        secret, update = received[0]
        assert secret == "s3cr-et_"
        assert update["message"]["text"] == "via webhook"
        assert update["message"]["from"]["language_code"] == "ar"
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0
        assert info.last_error_message == (
            "Wrong response from the webhook: 500 Internal Server Error"
        )

        assert await bot.delete_webhook()
        update_id = api.push_update(_message_update(USER_ID, "queued"))
        assert [u.update_id for u in await bot.get_updates()] == [update_id]
    finally:
        await runner.cleanup()


async def test_webhook_gives_up_after_retries(api: FakeBotApi, bot: Bot,
                                              user: SimulatedUser) -> None:
    api.webhook_retries = 1
    api.webhook_retry_delay = 0.01
    await bot.set_webhook("http://127.0.0.1:9/nobody-listens")
    with pytest.raises(RuntimeError, match="webhook delivery failed"):
        await user.send_text("lost", expect_reply=False)
    assert len(api.webhook_failures) == 1


async def test_ptb_webhook_mode(api: FakeBotApi, user: SimulatedUser) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook"
    application = build_app(api)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_webhook(
        listen="127.0.0.1", port=port, url_path="hook", webhook_url=url, secret_token="abc-123"
    )
    try:
        replies = await user.send_command("/start hook")
        assert replies[0].text is not None and "payload=hook" in replies[0].text
        assert [a.method for a in await user.tap("Yes")] == [
            "answerCallbackQuery", "editMessageText"
        ]
        # PTB refuses a wrong secret with 403; the simulator retries, then gives up
        api.webhook_retries = 1
        api.webhook_retry_delay = 0.01
        await application.bot.set_webhook(url, secret_token="wrong")
        with pytest.raises(RuntimeError, match="403"):
            await user.send_text("lost")
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
