"""The baseline for bench/throughput.py: a bare python-telegram-bot application that makes the
same Bot API calls per update as Hiwar, with the same concurrency, and does nothing else.

    typed text      -> sendMessage: a question card (text + inline keyboard)
    button tap      -> editMessageText of the tapped message into the next card, then
                       answerCallbackQuery (Hiwar's order: the spinner stops once the new card
                       is on screen)

No storage, no state, no translation. The cards are Hiwar's own (HTML text and keyboard),
written by the benchmark to the JSON file named by HIWAR_BENCH_CARDS after its Hiwar run, so
that request and response sizes match; without that file, one built-in card of similar size
is used. Update k shows card k mod n, with its number, so that an edit always changes the
message (Telegram, and the fake Bot API, refuse an edit that changes nothing).

HIWAR_BENCH_HTTP=aiohttp runs PTB's requests on Hiwar's aiohttp transport (bot/http.py)
instead of PTB's default httpx. Run by the benchmark.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler

Card = tuple[str, list[list[tuple[str, str]]]]
"""HTML text and keyboard rows of (label, callback_data)."""

BUILT_IN: Card = (
    "<b>Question 7 of 21</b>\n"
    "National authorities share enough information with local actors about risks of violent "
    "extremism in their area.\n\n"
    "<i>Choose one answer.</i>",
    [
        [("1 · Strongly disagree", "A:q7:1")],
        [("2 · Disagree", "A:q7:2")],
        [("3 · Neither agree nor disagree", "A:q7:3")],
        [("4 · Agree", "A:q7:4")],
        [("5 · Strongly agree", "A:q7:5")],
        [("« Back", "B:q7"), ("Skip »", "S:q7")],
    ],
)


def load_cards() -> list[Card]:
    path = os.environ.get("HIWAR_BENCH_CARDS")
    if not path:
        return [BUILT_IN]
    cards = [
        (card["text"], [[(label, data) for label, data in row] for row in card["rows"]])
        for card in json.loads(Path(path).read_text(encoding="utf-8"))
    ]
    return cards or [BUILT_IN]


CARDS = load_cards()


def card_for(update: Update) -> tuple[str, InlineKeyboardMarkup]:
    text, rows = CARDS[update.update_id % len(CARDS)]
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
    return f"{text}\n\n#{update.update_id}", keyboard


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is not None:
        if isinstance(query.message, Message):
            text, keyboard = card_for(update)
            await query.message.edit_text(
                text, parse_mode=ParseMode.HTML, reply_markup=keyboard
            )
        await query.answer()
    elif update.effective_chat is not None:
        text, keyboard = card_for(update)
        await context.bot.send_message(
            update.effective_chat.id, text, parse_mode=ParseMode.HTML, reply_markup=keyboard
        )


def main() -> None:
    concurrency = int(os.environ.get("HIWAR_CONCURRENT_UPDATES", "64"))
    builder = (
        ApplicationBuilder()
        .token(os.environ["HIWAR_BOT_TOKEN"])
        .base_url(os.environ["HIWAR_API_BASE_URL"])
        .concurrent_updates(concurrency)
    )
    if os.environ.get("HIWAR_BENCH_HTTP") == "aiohttp":
        from bot.http import AiohttpRequest

        builder = builder.request(AiohttpRequest(connection_pool_size=concurrency))
        builder = builder.get_updates_request(AiohttpRequest(connection_pool_size=1))
    application = builder.build()
    application.add_handler(TypeHandler(Update, reply))
    application.run_polling(poll_interval=0.0, timeout=10, allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
