"""One gateway websocket connection: an ordered writer, and zlib-stream/zstd-stream compression.

One writer task per connection sends frames in order (zlib-stream keeps one compressor per
connection, so frames must be compressed and written in sequence order).
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from .gateway import Session

try:  # discord.py asks for zstd-stream when the zstandard module is importable
    import zstandard
except ImportError:  # pragma: no cover - depends on the environment
    zstandard = None

log = logging.getLogger("tests.double.gateway")


@dataclass
class _Outgoing:
    text: str
    before: Callable[[float], None] | None = None
    after: Callable[[float], None] | None = None
    future: asyncio.Future[float] | None = None


class Connection:
    """One websocket connection (a bot process may open several over time)."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.loop = asyncio.get_running_loop()
        self.session: Session | None = None
        self.closed = False
        self.compress = compress
        self._queue: asyncio.Queue[_Outgoing | None] = asyncio.Queue()
        self._zlib: Any = None
        self._zstd: Any = None
        if compress == "zlib-stream":
            self._zlib = zlib.compressobj()
        elif compress == "zstd-stream":
            if zstandard is None:
                raise ValueError("zstd-stream requested but zstandard is not installed")
            self._zstd = zstandard.ZstdCompressor().compressobj()
        elif compress:
            raise ValueError(f"unsupported compress={compress!r}")
        self._writer = self.loop.create_task(
            self._write_loop(), name="discord-double-gateway-writer"
        )

    def send(
        self,
        payload: dict[str, Any],
        *,
        before: Callable[[float], None] | None = None,
        after: Callable[[float], None] | None = None,
        want_future: bool = False,
    ) -> asyncio.Future[float] | None:
        item = _Outgoing(
            json.dumps(payload, separators=(",", ":"), ensure_ascii=False), before, after
        )
        if want_future:
            item.future = self.loop.create_future()
        if self.closed:
            if item.future is not None:
                item.future.set_exception(ConnectionError("gateway connection is closed"))
            return item.future
        self._queue.put_nowait(item)
        return item.future

    def send_marker(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after everything queued before it was written (sends nothing)."""
        self._queue.put_nowait(_Outgoing("", after=lambda _t: callback()))

    def _encode(self, text: str) -> bytes:
        raw = text.encode()
        if self._zlib is not None:
            return bytes(self._zlib.compress(raw) + self._zlib.flush(zlib.Z_SYNC_FLUSH))
        return bytes(self._zstd.compress(raw) + self._zstd.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))

    async def _write_loop(self) -> None:
        item: _Outgoing | None = None
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    break
                now = self.loop.time()
                if item.before is not None:
                    item.before(now)
                if not item.text:
                    pass  # a marker
                elif self.compress:
                    await self.ws.send_bytes(self._encode(item.text))
                else:
                    await self.ws.send_str(item.text)
                if item.after is not None:
                    item.after(now)
                if item.future is not None and not item.future.done():
                    item.future.set_result(now)
                item = None
        except (ConnectionError, RuntimeError, asyncio.CancelledError) as exc:
            log.debug("gateway writer stopped: %r", exc)
        finally:
            self.closed = True
            pending: list[_Outgoing | None] = [item] if item is not None else []
            while not self._queue.empty():
                pending.append(self._queue.get_nowait())
            for it in pending:
                if it is not None and it.future is not None and not it.future.done():
                    it.future.set_exception(
                        ConnectionError("gateway connection closed before the event was sent")
                    )

    async def close(self, code: int, message: str = "") -> None:
        self.closed = True
        self._queue.put_nowait(None)
        if not self.ws.closed:
            await self.ws.close(code=code, message=message.encode())

    async def wait_writer(self) -> None:
        self._queue.put_nowait(None)
        await asyncio.gather(self._writer, return_exceptions=True)
