"""A scenario: a bot's process (or processes) started, timed to ready, clicked phase by phase,
and stopped; with what it logged that a reader should see."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tests.bench import load, profile
from tests.bench.config import BenchConfig
from tests.bench.load import PhasePlan
from tests.bench.phase import Clicked, PhaseResult, run_phase
from tests.bench.procs import BenchProcess, ProcessGroup
from tests.bench.world import OPTIONS
from tests.double import Channel, DiscordDouble, Member, Message
from tests.support import TEST_SECRET

BREAKROOM_READY = "Breakroom is ready"


class BotProcesses(Protocol):
    """A BenchProcess, or a ProcessGroup of a sharded bot's (tests/bench/procs.py)."""

    @property
    def lines(self) -> list[str]: ...

    async def start(self) -> object: ...

    async def wait_for_line(self, pattern: str, timeout: float = 30.0) -> float: ...

    def cpu_seconds(self) -> float: ...

    def peak_rss_kib(self) -> int: ...

    async def stop(self, timeout: float = 20.0) -> int | None: ...


@dataclass
class ScenarioResult:
    name: str
    ready_seconds: float
    #: peak RSS once ready (before any click), and at the end (VmHWM, KiB; summed over the
    #: processes of a sharded bot)
    ready_rss_kib: int
    peak_rss_kib: int
    phases: list[PhaseResult]
    exit_code: int | None = None
    errors: list[str] = field(default_factory=list)
    processes: int = 1
    #: wall time of the whole scenario: start, ready, every phase, stop
    seconds: float = 0.0
    #: what else a reader should know about this scenario's processes
    notes: list[str] = field(default_factory=list)
    #: the event loop and speed-ups the bot logged it runs on ("running on …")
    runs_on: str = ""

    def phase(self, name: str) -> PhaseResult | None:
        return next((p for p in self.phases if p.name == name), None)

    @property
    def cpu_per_click_ms(self) -> float:
        clicks = sum(p.clicks for p in self.phases)
        return 1000 * sum(p.cpu_seconds for p in self.phases) / clicks if clicks else float("nan")


def bot_env(dd: DiscordDouble, db_path: Path) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": dd.token,
        "DISCORD_API_BASE": dd.api_base,
        "DISCORD_GATEWAY_URL": dd.gateway_url,
        "DATABASE_PATH": str(db_path),
        "BREAKROOM_SECRET": TEST_SECRET,
        "LOG_LEVEL": "INFO",
    }


async def create_poll(
    dd: DiscordDouble, manager: Member, channel: Channel, question: str, anonymous: bool = False
) -> tuple[int, Message]:
    """`/poll create` by a manager in a team's channel, open for a day."""
    ix = await dd.slash(
        manager,
        "poll create",
        channel=channel,
        question=question,
        options={"options": " | ".join(OPTIONS)},
        duration="1d",
        anonymous=anonymous,
    )
    await ix.response(timeout=10)  # a message, or "thinking" and the message later
    try:
        message = await dd.wait_for_message(
            channel, lambda m: bool(m.buttons()) and question in m.text, timeout=10
        )
    except AssertionError as error:
        answer = ix.original.text if ix.original is not None else ix.followups
        raise RuntimeError(f"/poll create posted no poll (it answered {answer!r})") from error
    return load.poll_id_of(message), message


async def run_scenario(
    name: str,
    process: BotProcesses,
    ready_line: str,
    dd: DiscordDouble,
    plans: list[PhasePlan],
    config: BenchConfig,
    get_target: Callable[[], Awaitable[Clicked]],
    server_cpu: Callable[[], float | None] | None = None,
) -> ScenarioResult:
    """Start the bot's process(es), time it to ready, run every phase, read its peak RSS, stop.

    `get_target` gives the messages to click, and for Breakroom what to check after each phase."""
    started = time.perf_counter()
    await process.start()
    try:
        ready = await process.wait_for_line(ready_line, timeout=60)
        ready_rss = process.peak_rss_kib()
        target = await get_target()
        recording = None
        if config.profile is not None and isinstance(process, BenchProcess):
            out = Path(config.profile) / (re.sub(r"\W+", "-", name).strip("-").lower() + ".raw")
            recording = await profile.Recording(process.pid, out).start()
        phases = []
        try:
            for plan in plans:
                phases.append(await run_phase(dd, process, plan, target, config, server_cpu))
        finally:
            if recording is not None:
                await recording.stop()
        rss = process.peak_rss_kib()
    finally:
        code = await process.stop()
    count = len(process.processes) if isinstance(process, ProcessGroup) else 1
    return ScenarioResult(
        name,
        ready,
        ready_rss,
        rss,
        phases,
        code,
        problems_of(process),
        processes=count,
        seconds=time.perf_counter() - started,
        runs_on=runs_on(process.lines),
    )


def runs_on(lines: list[str]) -> str:
    """What the bot said it runs on (bot/speedups.py's line), once per distinct value."""
    found = dict.fromkeys(
        line.split("running on ", 1)[1] for line in lines if "running on " in line
    )
    return " / ".join(found)


def problems_of(process: BotProcesses) -> list[str]:
    """log_problems of each process, after its name when there are several."""
    if isinstance(process, ProcessGroup):
        return [
            f"{name}: {line}"
            for name, part in zip(process.names, process.processes, strict=True)
            for line in log_problems(part.lines)
        ]
    return log_problems(process.lines)


def log_problems(lines: list[str]) -> list[str]:
    """Warnings and errors the bot logged, and for each traceback the exception it ended with."""
    problems = []
    for n, line in enumerate(lines):
        if "voice will NOT be supported" in line:  # discord.py: no voice libraries installed
            continue
        if any(level in line for level in (" WARNING ", " ERROR ", " CRITICAL ")):
            problems.append(line)
        elif line.startswith("Traceback"):
            for follow in lines[n + 1 : n + 400]:
                if follow and not follow[0].isspace():
                    problems.append(f"  raised {follow}")
                    break
    return problems
