"""Benchmark: `/export` of a team with 10,000 answers while members keep using other commands.

Figures for `make bench` (printed, never asserted here): how long the export took from the
command to the file, and the slowest reply to the other commands sent meanwhile.

    .venv/bin/python -m tests.bench_export            # csv, 10,000 answers
    .venv/bin/python -m tests.bench_export json 20000

or from Python: `await run(answers=10_000, fmt="csv") -> dict`. `tests/test_export_load.py` uses
the same code and asserts that every other reply came within Discord's 3 seconds.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.prompts import Prompts
from bot.teams import Team
from tests.double import DiscordDouble, InteractionRecord, Message
from tests.support import World, endpoints, prompt_posted

WORDS = [
    "job",
    "career",
    "desk",
    "mail",
    "copier",
    "court",
    "filing",
    "runner",
    "records",
    "front",
    "reception",
    "clerk",
    "miracle",
    "ladder",
    "résumé",
    "skill",
    "week",
    "files",
    "deadline",
    "phone",
    "visitor",
    "archive",
    "paralegal",
    "stamp",
    "docket",
    "envelope",
    "courier",
    "morning",
    "lunch",
    "late",
    "early",
    "thanks",
    "help",
    "team",
    "quiet",
    "busy",
]
MEMBERS_PER_POST = 200


@dataclass
class Measurement:
    format: str
    answers: int
    export_seconds: float
    export_bytes: int
    #: the slowest answer to the other commands (/help, /team list) sent during the export
    slowest_other_reply: float
    other_replies: int
    #: other commands sent after the export began and before its file arrived
    during_export: int
    reply: Message | None = None
    latencies: list[float] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        return {
            "answers": float(self.answers),
            "export_seconds": round(self.export_seconds, 3),
            "export_megabytes": round(self.export_bytes / 1_000_000, 2),
            "slowest_other_reply_seconds": round(self.slowest_other_reply, 3),
            "other_replies": float(self.other_replies),
            "other_replies_during_export": float(self.during_export),
        }


def answer_text(rng: random.Random, length: int) -> str:
    words: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:length]


async def seed_answers(
    world: World, team: Team, answers: int, *, length: int = 300, seed: int = 6
) -> None:
    """Posts and answers made through the prompts feature itself (as the answer modal does)."""
    prompts = Prompts(world.bot.db, world.clock)
    rng = random.Random(seed)
    start = world.clock.now()
    posts: list[int] = []
    for number in range(-(-answers // MEMBERS_PER_POST)):
        world.clock.set(start + timedelta(days=number))
        claimed = (await prompts.posts.queue_manual(team.id, None)).post
        await prompt_posted(prompts, claimed, 900_000 + number)
        posts.append(claimed.id)
    for n in range(answers):
        post = posts[n // MEMBERS_PER_POST]
        user = 10**17 + n % MEMBERS_PER_POST
        await prompts.answers.save_answer(
            team.guild_id, post, user, f"clerk {n % MEMBERS_PER_POST}", answer_text(rng, length)
        )


async def export_with_probes(world: World, fmt: str, interval: float = 0.05) -> Measurement:
    """Send `/export` and, until its file arrives, `/help` and `/team list` every `interval`."""
    dd = world.dd
    member = world.members[0]
    answers = int(await world.bot.db.fetchval("SELECT COUNT(*) FROM prompt_answers"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    export = await dd.slash(world.manager, "export", channel=world.channel, format=fmt)
    done = asyncio.Event()
    probes: list[InteractionRecord] = []

    async def probe() -> None:
        names = ("help", "team list")
        while not done.is_set():
            probes.append(await dd.slash(member, names[len(probes) % 2], channel=world.channel))
            try:
                await asyncio.wait_for(done.wait(), interval)
            except TimeoutError:
                pass

    prober = asyncio.create_task(probe())
    try:
        await export.response(timeout=10)
        reply = await export.wait_followup(timeout=120)
        finished = loop.time()
    finally:
        done.set()
        await prober
    await asyncio.gather(*(ix.response(timeout=10) for ix in probes))
    latencies = [ix.latency if ix.latency is not None else 99.0 for ix in probes]
    during = [ix for ix in probes if ix.sent_at is not None and ix.sent_at < finished]
    size = sum(len(data) for _, data in reply.attachments)
    return Measurement(
        format=fmt,
        answers=answers,
        export_seconds=finished - started,
        export_bytes=size,
        slowest_other_reply=max(latencies, default=0.0),
        other_replies=len(probes),
        during_export=len(during),
        reply=reply,
        latencies=latencies,
    )


async def run(answers: int = 10_000, fmt: str = "csv", length: int = 300) -> dict[str, float]:
    """Start the bot against a fresh double, seed `answers`, export, and return the figures."""
    async with DiscordDouble() as dd, endpoints(dd):
        guild = dd.add_guild("Riverside Legal")
        channel = dd.add_channel(guild, "front-desk")
        manager = dd.add_member(guild, "maria", manager=True)
        members = [dd.add_member(guild, name) for name in ("alice", "bob", "carol")]
        with tempfile.TemporaryDirectory() as folder:
            world = World(
                dd=dd,
                clock=ManualClock(),
                db_path=Path(folder) / "breakroom.db",
                guild=guild,
                channel=channel,
                manager=manager,
                members=members,
            )
            await world.start()
            try:
                team = await world.bot.teams.create(guild.id, "Front desk", channel.id)
                began = time.perf_counter()
                await seed_answers(world, team, answers, length=length)
                seeding = time.perf_counter() - began
                measured = await export_with_probes(world, fmt)
            finally:
                await world.stop()
    figures = measured.figures()
    figures["seeding_seconds"] = round(seeding, 2)
    return figures


def main() -> None:
    fmt = sys.argv[1] if len(sys.argv) > 1 else "csv"
    answers = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    for name, value in asyncio.run(run(answers, fmt)).items():
        print(f"{name:>30}: {value:g}")


if __name__ == "__main__":
    main()
