"""Discord out of reach at start: one sentence naming the address tried and the setting behind it.

`Breakroom.login` (the REST API) and `Breakroom.connect` (the first gateway connection) raise
`DiscordUnreachable`; `python -m bot` prints it and exits with code 2, like a bad setting.
"""

from __future__ import annotations

import os
import socket

import aiohttp

#: What a connection failure looks like from aiohttp and asyncio: refused, no such host, timed out.
CONNECTION_ERRORS = (OSError, aiohttp.ClientError, TimeoutError)


def reason(error: BaseException) -> str:
    """A few words on why nothing answered: 'connection refused', 'no answer in time', ..."""
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return f"it answered with HTTP {error.status}, not as a Discord gateway"
    if isinstance(error, TimeoutError):  # aiohttp's connect timeouts are TimeoutErrors too
        return "no answer in time"
    cause = getattr(error, "os_error", None) or error
    if isinstance(cause, socket.gaierror):
        return "its host name could not be looked up"
    if isinstance(cause, OSError) and cause.errno is not None and cause.errno > 0:
        return os.strerror(cause.errno).lower()
    return f"the connection failed ({error})"


class DiscordUnreachable(Exception):
    """Discord's REST API or gateway could not be reached. The message is one sentence for the
    host: the address tried, the setting that points there (or that it is Discord's own), why."""

    def __init__(self, what: str, url: str, setting: str, configured: bool, error: BaseException):
        self.url = url
        self.setting = setting
        if configured:
            where = f"the {what} address in {setting}"
            advice = f"check that address, or leave {setting} empty to use Discord's own"
        else:
            where = f"Discord's own {what}, as {setting} is empty"
            advice = "check this machine's network and firewall, then start Breakroom again"
        super().__init__(
            f"Breakroom cannot reach Discord at {url} ({where}): {reason(error)}; {advice}."
        )
