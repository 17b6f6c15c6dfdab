"""A bot under test in its own process: start it, read its log, its CPU time and peak RSS."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all processes of the machine spent busy so far (/proc/stat, every core)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    # guest times (fields 8, 9) are already counted in user and nice
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


class BenchProcess:
    """`python -m MODULE` with the given environment; its output is kept line by line."""

    def __init__(self, module: str, env: dict[str, str], cwd: Path) -> None:
        self.module = module
        self.env = env
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None
        self.lines: list[str] = []
        self.started_at = 0.0
        self._line_added = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> BenchProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "DATABASE_"))}
        env.update(self.env)
        env["PYTHONPATH"] = str(REPO)
        self.started_at = time.perf_counter()
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            cwd=self.cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read())
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.lines.append(line.decode(errors="replace").rstrip("\n"))
            self._line_added.set()
        self._line_added.set()

    async def wait_for_line(self, pattern: str, timeout: float = 30.0) -> float:
        """Wait for a log line matching `pattern`; returns seconds since the process started."""
        regex = re.compile(pattern)
        seen = 0
        deadline = time.perf_counter() + timeout
        while True:
            for line in self.lines[seen:]:
                if regex.search(line):
                    return time.perf_counter() - self.started_at
            seen = len(self.lines)
            if self._reader is not None and self._reader.done():
                raise RuntimeError(
                    f"{self.module} exited before logging {pattern!r}:\n{self.output}"
                )
            self._line_added.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise RuntimeError(f"{self.module}: no {pattern!r} in {timeout}s:\n{self.output}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._line_added.wait(), remaining)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (/proc/PID/stat utime + stime)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        # fields[0] is field 3 (state): utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def _status_kib(self, field: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise RuntimeError(f"no {field} in /proc/{self.pid}/status")

    def peak_rss_kib(self) -> int:
        """VmHWM: the process's peak resident set size so far."""
        return self._status_kib("VmHWM")

    def rss_kib(self) -> int:
        """VmRSS: the process's resident set size now."""
        return self._status_kib("VmRSS")

    async def stop(self, timeout: float = 20.0) -> int | None:
        """SIGINT (both bots close cleanly on it), then kill if it doesn't exit."""
        if self.proc is None:
            return None
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            await self._reader
        return self.proc.returncode


def _stat_fields(pid: int) -> list[str]:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2 :].split()  # fields[0] is field 3 (state)


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of a server and its children so far: PostgreSQL's postmaster, its backends (one
    per connection of the bots' pools) and helpers. A child that has exited and been waited for
    is in the postmaster's cutime + cstime; a live one is read from its own /proc entry."""
    fields = _stat_fields(pid)
    # utime, stime, cutime, cstime are fields 14-17
    total = sum(int(x) for x in fields[11:15])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = _stat_fields(int(entry.name))
        except (OSError, ValueError):
            continue  # it exited meanwhile
        if child[1] == str(pid):  # field 4: the parent's pid
            total += int(child[11]) + int(child[12])
    return total / CLOCK_TICKS


class ProcessGroup:
    """Several processes of one bot (one per shard range), measured as one: CPU time and peak
    RSS are the sums of theirs, ready is when the last one is."""

    def __init__(self, processes: list[BenchProcess], names: list[str]) -> None:
        self.processes = processes
        self.names = names
        #: per process: seconds from its start to its ready line, and its last peak RSS read
        self.ready: list[float] = []
        self.rss_kib: list[int] = []

    async def start(self) -> ProcessGroup:
        for process in self.processes:
            await process.start()
        return self

    @property
    def lines(self) -> list[str]:
        """Every process's log, each line after its process's name."""
        return [
            f"{name}: {line}"
            for name, process in zip(self.names, self.processes, strict=True)
            for line in process.lines
        ]

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_line(self, pattern: str, timeout: float = 30.0) -> float:
        """Wait until every process logged a line matching `pattern`; the seconds from the first
        start to the last such line."""
        first = min(p.started_at for p in self.processes)
        waits = [p.wait_for_line(pattern, timeout) for p in self.processes]
        seconds = await asyncio.gather(*waits)
        self.ready = list(seconds)
        return max(p.started_at - first + s for p, s in zip(self.processes, seconds, strict=True))

    def cpu_seconds(self) -> float:
        return sum(p.cpu_seconds() for p in self.processes)

    def peak_rss_kib(self) -> int:
        self.rss_kib = [p.peak_rss_kib() for p in self.processes]
        return sum(self.rss_kib)

    async def stop(self, timeout: float = 20.0) -> int | None:
        """Stop them all at once; the first non-zero exit code, else 0."""
        codes = await asyncio.gather(*(p.stop(timeout) for p in self.processes))
        return next((c for c in codes if c != 0), codes[0] if codes else None)
