"""The baseline for bench/throughput.py: a bare python-telegram-bot application that only
replies to each update, with the same concurrency as Hiwar. Run by the benchmark."""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None:
        await context.bot.send_message(update.effective_chat.id, "ok")


def main() -> None:
    application = (
        ApplicationBuilder()
        .token(os.environ["HIWAR_BOT_TOKEN"])
        .base_url(os.environ["HIWAR_API_BASE_URL"])
        .concurrent_updates(int(os.environ.get("HIWAR_CONCURRENT_UPDATES", "64")))
        .build()
    )
    application.add_handler(TypeHandler(Update, reply))
    application.run_polling(poll_interval=0.0, timeout=10, allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
