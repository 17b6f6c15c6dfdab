"""The production install's speed-ups, and which of them this process runs with.

discord.py's `speed` extra (installed with Breakroom) brings orjson for the gateway's and the
REST API's JSON, zstandard for the gateway's compression, aiodns and Brotli for aiohttp;
discord.py and aiohttp use each when it is there. uvloop replaces asyncio's event loop, where the
platform has it (not on Windows); `UVLOOP=off` keeps asyncio's own.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
from collections.abc import Callable

#: what `loop_factory` gives to `asyncio.Runner`: None is asyncio's own loop
LoopFactory = Callable[[], asyncio.AbstractEventLoop] | None


def loop_factory(wanted: bool) -> LoopFactory:
    """uvloop's event loop when it is wanted and installed, else asyncio's (None)."""
    if not wanted or importlib.util.find_spec("uvloop") is None:
        return None
    import uvloop

    return uvloop.new_event_loop


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def describe(loop: asyncio.AbstractEventLoop) -> str:
    """One log line's worth: the event loop and the speed-ups discord.py found."""
    import discord.utils

    uvloop = type(loop).__module__.startswith("uvloop")
    parts = [f"uvloop {_version('uvloop')}" if uvloop else "asyncio's event loop"]
    parts.append(f"orjson {_version('orjson')}" if discord.utils.HAS_ORJSON else "json")
    zstd = getattr(discord.utils, "_ZSTD_SOURCE", None)
    parts.append("zstd-stream" if zstd else "zlib-stream")
    return ", ".join(parts)
