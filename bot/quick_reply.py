"""The answer to a click on a poll button, sent as one plain POST.

`interaction.response.send_message` is discord.py's general answer: it builds the request
through the webhook adapter (a route, a rate-limit lock, the `with_response` query), goes through
the bot's traced HTTP session (bot/paced_http.py), and parses the message Discord sends back into
a `discord.Message` nobody reads. For the one answer every click gets (a line of text, seen by the
member alone) that is most of the cost of answering, so `QuickReplies.text` sends the callback
itself: the same JSON discord.py would send, without `with_response` (Discord answers 204), on a
session of its own without the trace (interaction answers are outside the bot's rate limits, as
Discord has them: bot/pacing.py lets them through anyway).

The member sees the same thing either way. Anything but a plain success or a plain refusal (a
429, a 5xx, the network failing) is handed to `send_message`, which retries as discord.py
always does; a refusal raises the same `discord.HTTPException` it would.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord
import orjson  # discord.py's `speed` extra, a dependency

#: the interaction callback type for "a message in answer" (CHANNEL_MESSAGE_WITH_SOURCE)
CHANNEL_MESSAGE = 4
EPHEMERAL = 1 << 6
#: the longest a 429's retry_after is waited out before discord.py takes over (a click's answer
#: is due within 3 s)
MOST_RETRY_WAIT = 1.0


class QuickReplies:
    """Text answers to interactions, one POST each; `close()` when the bot stops."""

    def __init__(self, allowed_mentions: discord.AllowedMentions | None, user_agent: str) -> None:
        self._mentions = (allowed_mentions or discord.AllowedMentions.none()).to_dict()
        self._headers = {"User-Agent": user_agent, "Content-Type": "application/json"}
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def text(
        self, interaction: discord.Interaction[Any], content: str, *, ephemeral: bool = True
    ) -> None:
        """Answer `interaction` with `content` (as `interaction.response.send_message` would)."""
        if interaction.response.is_done():
            raise discord.InteractionResponded(interaction)
        if self._closed:  # the bot is stopping: no new session that nobody would close
            await interaction.response.send_message(content, ephemeral=ephemeral)
            return
        data = {"tts": False, "content": content, "allowed_mentions": self._mentions}
        if ephemeral:
            data["flags"] = EPHEMERAL
        path = f"/interactions/{interaction.id}/{interaction.token}/callback"
        url = discord.http.Route.BASE + path
        if self._session is None:
            # As discord.py's own session: no cap on connections, no cookies.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.DummyCookieJar()
            )
        body = orjson.dumps({"type": CHANNEL_MESSAGE, "data": data})
        try:
            async with self._session.post(url, data=body, headers=self._headers) as response:
                if 200 <= response.status < 300:
                    # What send_message records: the interaction is answered (is_done()).
                    interaction.response._response_type = discord.InteractionResponseType(
                        CHANNEL_MESSAGE
                    )
                    return
                if response.status == 429:
                    await asyncio.sleep(min(_retry_after(response), MOST_RETRY_WAIT))
                elif response.status < 500:
                    said = await discord.http.json_or_text(response)
                    if response.status == 403:
                        raise discord.Forbidden(response, said)
                    if response.status == 404:
                        raise discord.NotFound(response, said)
                    raise discord.HTTPException(response, said)
        except (OSError, aiohttp.ClientError):
            pass  # the network failed: discord.py tries again
        await interaction.response.send_message(content, ephemeral=ephemeral)

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None


def _retry_after(response: aiohttp.ClientResponse) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "0")))
    except ValueError:
        return 0.0
