"""`python -m tests.bench --profile DIR`: py-spy samples each bot's process while its phases
run, and the report prints the lines that cost the most (what issue 16's closing note shows).

py-spy attaches from outside (ptrace), so the bot runs its ordinary code; the samples are
py-spy's "raw" format, one collapsed stack per line with its count.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import signal
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

#: a frame in py-spy's raw output: "function (path/to/file.py:123)"
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?):(?P<line>\d+)\)$")


def py_spy() -> str | None:
    """The py-spy next to this interpreter (the test extra installs it), or one on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Recording:
    """py-spy recording one process until `stop()`."""

    def __init__(self, pid: int, out: Path, rate: int = 200) -> None:
        self.pid, self.out, self.rate = pid, out, rate
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Recording:
        tool = py_spy()
        if tool is None:
            raise RuntimeError("--profile needs py-spy (pip install py-spy)")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.proc = await asyncio.create_subprocess_exec(
            tool,
            "record",
            "--pid",
            str(self.pid),
            "--rate",
            str(self.rate),
            "--format",
            "raw",
            "--nonblocking",
            "--output",
            str(self.out),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(0.5)  # attached before the first click
        return self

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGINT)  # py-spy writes its file and exits
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@dataclass
class Profile:
    samples: int
    #: (share of samples with this line on the stack, share where it is the innermost, frame)
    cumulative: list[tuple[float, float, str]]
    own: list[tuple[float, str]]


def _short(frame: str) -> str:
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker != "site-packages/":
                path = path.split("/", 1)[-1]
            break
    else:
        path = path.rsplit("/main/", 1)[-1]
    return f"{match['function']} ({path}:{match['line']})"


def read(
    path: Path,
    top: int = 25,
    idle: tuple[str, ...] = ("EpollSelector.select (", "poll (selectors.py"),
) -> Profile:
    """The lines on the most samples (cumulative) and innermost the most often (own), leaving
    out samples where the process waited in the event loop's select (idle, not CPU)."""
    on_stack: Counter[str] = Counter()
    innermost: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_short(f) for f in stack.split(";") if f.strip()]
        if not frames or any(frames[-1].startswith(i) for i in idle):
            continue
        count = int(count_text)
        samples += count
        for frame in set(frames):
            on_stack[frame] += count
        innermost[frames[-1]] += count
    if not samples:
        return Profile(0, [], [])
    cumulative = [
        (n / samples, innermost.get(f, 0) / samples, f) for f, n in on_stack.most_common(top)
    ]
    own = [(n / samples, f) for f, n in innermost.most_common(top)]
    return Profile(samples, cumulative, own)


def render(name: str, profile: Profile, top: int = 25) -> list[str]:
    if not profile.samples:
        return [f"profile of {name}: no samples"]
    lines = [f"profile of {name}: {profile.samples} busy samples; on the stack (own):"]
    lines += [f"  {c:6.1%} ({o:5.1%})  {f}" for c, o, f in profile.cumulative[:top]]
    lines.append(f"profile of {name}: innermost:")
    lines += [f"  {o:6.1%}  {f}" for o, f in profile.own[:top]]
    return lines


if __name__ == "__main__":  # python -m tests.bench.profile FILE [TOP]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    print("\n".join(render(sys.argv[1], read(Path(sys.argv[1]), top), top)))
