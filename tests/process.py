"""Run `python -m bot` as a real subprocess, reading its log as it goes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class BotProcess:
    def __init__(self, env: dict[str, str], cwd: Path, args: tuple[str, ...] = ()) -> None:
        self.env = env
        self.cwd = cwd
        self.args = args
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> BotProcess:
        # The test's own settings only; XDG_CONFIG_HOME is inherited, and conftest.py points it at
        # the test's temporary folder, so a key file never lands in the real ~/.config.
        own = ("DISCORD_", "DATABASE_", "BREAKROOM_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(own)}
        env.update(self.env)
        env["PYTHONPATH"] = str(REPO)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *self.args,
            cwd=self.cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            async with self._changed:
                self.lines.append(line.decode(errors="replace").rstrip("\n"))
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_line(self, pattern: str, timeout: float = 20) -> str:
        regex = re.compile(pattern)

        def found() -> str | None:
            return next((line for line in self.lines if regex.search(line)), None)

        async def wait() -> str:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: (
                        found() is not None or (self._reader is not None and self._reader.done())
                    )
                )
            line = found()
            if line is None:
                raise AssertionError(f"the bot exited without logging {pattern!r}:\n{self.output}")
            return line

        try:
            return await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no log line {pattern!r} in {timeout}s:\n{self.output}") from None

    async def wait(self, timeout: float = 20) -> int:
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            await self._reader
        return code

    def signal(self, sig: int = signal.SIGINT) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
