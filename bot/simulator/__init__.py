"""A local fake Telegram Bot API server and simulated users, for tests, benchmarks and demos.

    async with FakeBotApi() as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
        ...  # start the Application polling
        user = api.make_user(1001, "Amal", language_code="ar")
        replies = await user.send_command("/start")
        await user.tap("English")
"""

from bot.simulator.server import (
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_INLINE_BUTTONS,
    MAX_TEXT_LENGTH,
    SEND_METHODS,
    ApiError,
    BotAction,
    ChatState,
    FakeBotApi,
    StoredFile,
    UploadedFile,
    keyboard_rows,
    parse_text,
)
from bot.simulator.users import SimulatedUser, command_entities

__all__ = [
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_INLINE_BUTTONS",
    "MAX_TEXT_LENGTH",
    "SEND_METHODS",
    "ApiError",
    "BotAction",
    "ChatState",
    "FakeBotApi",
    "SimulatedUser",
    "StoredFile",
    "UploadedFile",
    "command_entities",
    "keyboard_rows",
    "parse_text",
]
