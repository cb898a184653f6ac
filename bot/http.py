"""PTB's networking on aiohttp instead of httpx.

PTB lets an application bring its own `BaseRequest`. Under load, profiling showed httpx's
connection pool taking most of the bot's CPU time per Bot API call; aiohttp does the same
work for a fraction of it (bench/throughput.py measures both). Behaviour is PTB's own:
`BaseRequest` parses responses and raises PTB's errors; this class only moves bytes.
"""

from __future__ import annotations

import re

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_DEFAULT_TIMEOUT = 5.0

TOKEN_IN_URL = re.compile(r"bot\d+:[A-Za-z0-9_-]+")
"""The bot token in a Bot API URL: never in an error message (they end up in logs)."""


class AiohttpRequest(BaseRequest):
    def __init__(self, connection_pool_size: int = 64, read_timeout: float = _DEFAULT_TIMEOUT
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
