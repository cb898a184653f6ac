"""PTB's networking on aiohttp instead of httpx.

PTB lets an application bring its own `BaseRequest`. Under load, profiling showed httpx's
connection pool taking most of the bot's CPU time per Bot API call; aiohttp does the same
work for a fraction of it (bench/throughput.py measures both). Behaviour is PTB's own:
`BaseRequest` parses responses and raises PTB's errors; this class only moves bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from telegram import Update
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_DEFAULT_TIMEOUT = 5.0

TOKEN_IN_URL = re.compile(r"bot\d+:[A-Za-z0-9_-]+")
"""The bot token in a Bot API URL: never in an error message (they end up in logs)."""


class AiohttpRequest(BaseRequest):
    def __init__(
        self, connection_pool_size: int = 64, read_timeout: float = _DEFAULT_TIMEOUT
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None = BaseRequest.DEFAULT_NONE,  # type: ignore[assignment]
        write_timeout: float | None = BaseRequest.DEFAULT_NONE,  # type: ignore[assignment]
        connect_timeout: float | None = BaseRequest.DEFAULT_NONE,  # type: ignore[assignment]
        pool_timeout: float | None = BaseRequest.DEFAULT_NONE,  # type: ignore[assignment]
    ) -> tuple[int, bytes]:
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=_seconds(connect_timeout),
            sock_read=_seconds(read_timeout, self._read_timeout),
        )
        try:
            async with self._session.request(
                method, url, data=_body(request_data), timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            reason = TOKEN_IN_URL.sub("bot***", str(error))
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {reason}") from error


def _seconds(value: object, default: float = _DEFAULT_TIMEOUT) -> float | None:
    if isinstance(value, int | float) or value is None:
        return value
    return default  # PTB's DEFAULT_NONE: the request's own default


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Form fields as PTB prepares them; files as multipart parts."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        if isinstance(part, tuple):
            filename, content, mime_type = part
            form.add_field(name, content, filename=filename, content_type=mime_type)
    return form


Quarantine = Callable[[int, str, str], Awaitable[None]]
"""Receives an update PTB cannot parse: its id, its raw JSON, and the error's type."""


class PollingRequest(AiohttpRequest):
    """The getUpdates connection, which checks each update before PTB parses the batch.

    One update the pinned PTB cannot parse (a field missing, a type it does not know) made
    PTB log the whole batch, names and texts included, and fetch the same batch again, for
    ever: polling stalled. Such an update is handed to `quarantine` (stored raw once,
    counted, logged without its content) and replaced by an empty update with its id, which
    no handler takes, so that the offset moves past it.
    """

    def __init__(self, quarantine: Quarantine) -> None:
        super().__init__(connection_pool_size=1)
        self._quarantine = quarantine
        self.heard_at: datetime | None = None
        """When Telegram last answered a getUpdates, or polling began (for the health check:
        a long poll waits up to its timeout for an answer)."""

    async def initialize(self) -> None:
        await super().initialize()
        self.heard_at = datetime.now(UTC)

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        status, body = await super().do_request(url, method, *args, **kwargs)
        if status != 200 or not url.endswith("/getUpdates"):
            return status, body
        self.heard_at = datetime.now(UTC)
        answer = json.loads(body)
        updates = answer.get("result")
        if not answer.get("ok") or not updates:
            return status, body
        try:
            Update.de_list(updates, None)
        except Exception:
            answer["result"] = [await self._checked(update) for update in updates]
            return status, json.dumps(answer).encode()
        return status, body

    async def _checked(self, update: dict[str, Any]) -> dict[str, Any]:
        try:
            Update.de_json(update, None)
        except Exception as error:
            await self._quarantine(update["update_id"], json.dumps(update), type(error).__name__)
            return {"update_id": update["update_id"]}
        return update
