"""A local fake Telegram Bot API server and simulated users, for tests, benchmarks and demos.

    async with FakeBotApi() as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
        ...  # start the Application polling
        user = api.make_user(1001, "Amal", language_code="ar")
        replies = await user.send_command("/start")
        await user.tap("English")
"""

from bot.simulator.server import MAX_CAPTION_LENGTH, BotAction, FakeBotApi, parse_text
from bot.simulator.users import SimulatedUser, keyboard_rows

__all__ = [
    "MAX_CAPTION_LENGTH",
    "BotAction",
    "FakeBotApi",
    "SimulatedUser",
    "keyboard_rows",
    "parse_text",
]
