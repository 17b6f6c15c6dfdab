"""The thin hook that puts bot/pacing.py between discord.py and Discord: an aiohttp trace on the
bot's HTTP session (discord.py's `http_trace` option, given by bot/client.py).

A trace's `on_request_start` is awaited when a request really leaves — after discord.py's own
bucket waits, and for each retry after a 429 — so the global window counts what Discord counts.
Its `on_request_end` (or `on_request_exception`) tells the window the request is answered, and
shows every answer's headers, which teach the channels' edit buckets.
Interaction callbacks and follow-ups go through the same session and pass at once
(`pacing.exempt`); so does the gateway's websocket.
"""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp

from bot.pacing import Pacing


class PacedTrace(aiohttp.TraceConfig):
    """An aiohttp trace that paces one bot's requests (`pacing`, one per bot: one token)."""

    def __init__(self, pacing: Pacing | None = None) -> None:
        super().__init__()
        self.pacing = pacing or Pacing()
        self.on_request_start.append(self._start)
        self.on_request_end.append(self._end)
        self.on_request_exception.append(self._failed)

    async def _start(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        context.turn = None
        if params.headers.get("Upgrade", "").lower() == "websocket":
            return  # the gateway: not a REST request
        context.turn = await self.pacing.before(params.method, params.url.path)

    async def _end(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        response = params.response
        self.pacing.after(
            context.turn, params.method, params.url.path, response.headers, response.status
        )

    async def _failed(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        self.pacing.failed(getattr(context, "turn", None))


def pacing_of(http_trace: object) -> Pacing:
    """The bot's pacing, from the trace its HTTP client was given (a fresh one, pacing nothing
    the session sends, when it was given none)."""
    return http_trace.pacing if isinstance(http_trace, PacedTrace) else Pacing()
