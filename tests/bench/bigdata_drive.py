"""The big-data section's world and interactions (tests/bench/bigdata.py runs them on each bot): the
double's servers, team channels, managers and voters (`build_world`, whose ids the seeding writes),
and `exercise`, which sends the measured interactions one at a time — `/history`, the team and poll
autocompletes, `/poll create`, `/poll results` of a closed re-run poll, vote clicks, `/export` —
noting each one's latencies, the RSS after each kind and during the exports, and the exported file's
sizes (on the empty database a team is made and a prompt posted first)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tests.bench.bigdata_config import BigdataConfig, BigSize
from tests.bench.bigdata_report import BigdataResult, Measured
from tests.bench.bigdata_seed_state import Seeded
from tests.bench.load import _layout, option_ids, poll_id_of
from tests.bench.procs import BenchProcess
from tests.bench.world import offices
from tests.double import Channel, DiscordDouble, Guild, InteractionRecord, Member

VOTE_OPTIONS = ("Job", "Career", "Both")


@dataclass
class BigWorld:
    guilds: list[Guild]
    channels: list[list[Channel]]
    managers: list[Member]
    voters: list[Member]

    def for_seed(self) -> list[tuple[int, list[int], int]]:
        return [
            (g.id, [c.id for c in chans], m.id)
            for g, chans, m in zip(self.guilds, self.channels, self.managers, strict=True)
        ]


def build_world(dd: DiscordDouble, size: BigSize) -> BigWorld:
    return BigWorld(*offices(dd, size.guilds, size.teams_per_guild, size.voters))


async def _timed(
    dd: DiscordDouble,
    measured: Measured,
    send: Callable[[], Awaitable[InteractionRecord]],
    *,
    follow: bool = False,
    timeout: float = 60.0,
) -> InteractionRecord | None:
    """Send one interaction, wait for its answer (and follow-up), note the times."""
    measured.sent += 1
    try:
        ix = await send()
        await ix.response(timeout=10)
        if ix.latency is not None:
            measured.first.append(ix.latency)
        if follow and ix.response_type == 5:  # deferred: the answer comes as a follow-up
            await ix.wait_followup(timeout=timeout)
        if follow and ix.sent_at is not None:
            measured.complete.append(asyncio.get_running_loop().time() - ix.sent_at)
        return ix
    except AssertionError as error:
        measured.failures.append(str(error).splitlines()[0][:200])
        return None


async def exercise(
    dd: DiscordDouble,
    world: BigWorld,
    config: BigdataConfig,
    seeded: Seeded | None,
    process: BenchProcess | None = None,
    result: BigdataResult | None = None,
    notes: list[str] | None = None,
) -> list[Measured]:
    """Every measured interaction, `config`'s count of each, on the big team (the first team of
    the first server); with `seeded` None (the empty bot) one of each on a team made first."""
    manager, channel = world.managers[0], world.channels[0][0]
    counts = config
    rss: list[str] = []

    def note(phase: str) -> None:
        if process is not None:
            rss.append(
                f"{phase} {process.rss_kib() / 1024:.0f}/{process.peak_rss_kib() / 1024:.0f}"
            )

    if seeded is None:
        ix = await dd.slash(
            manager, "team create", channel=channel, name="Team 1", options={"channel": channel}
        )
        await ix.response(timeout=10)
        # a prompt posted, so that /history draws its chart here too (matplotlib's ~40 MiB
        # are the charts' cost, whatever the data)
        ix = await dd.slash(manager, "prompt post", channel=channel)
        await ix.response(timeout=10)
        await ix.wait_followup(timeout=30)
    history = Measured("/history")
    for _ in range(counts.history):
        await _timed(
            dd,
            history,
            lambda: dd.slash(manager, "history", channel=channel, weeks=config.weeks),
            follow=True,
        )
    note("/history")
    team_ac = Measured("autocomplete: team")
    for n in range(counts.autocompletes):
        typed = ("Tea", "team 1", "t", "")[n % 4]
        await _timed(
            dd,
            team_ac,
            lambda typed=typed: _autocomplete(dd, manager, channel, "history", "team", typed),
        )
    # a poll to click, posted by the bot in the big team's channel
    created = Measured("/poll create")
    # (each run's own question: the double keeps the other run's poll message in the channel)
    which = "the big database" if seeded is not None else "the empty database"
    question = f"Right now, on {which}: is what you do here a job or a career?"
    ix = await _timed(
        dd,
        created,
        lambda: dd.slash(
            manager,
            "poll create",
            channel=channel,
            question=question,
            options={"options": " | ".join(VOTE_OPTIONS)},
            duration="1d",
        ),
    )
    message = None
    if ix is not None:
        message = await dd.wait_for_message(
            channel, lambda m: bool(m.buttons()) and question in m.text, timeout=10
        )
    poll_ac = Measured("autocomplete: poll")
    for n in range(counts.autocompletes):
        typed = ("job", "", "Poll 9", "career")[n % 4]
        await _timed(
            dd,
            poll_ac,
            lambda typed=typed: _autocomplete(dd, manager, channel, "poll results", "poll", typed),
        )
    note("autocompletes")
    results = Measured("/poll results")
    if seeded is not None:
        poll_ref = str(seeded.results_poll_id)
    else:  # a re-run, closed, as the big run's: its results come with the runs chart too
        poll_ref = await _closed_rerun(dd, manager, channel)
    for _ in range(counts.results):
        await _timed(
            dd,
            results,
            lambda: dd.slash(manager, "poll results", channel=channel, poll=poll_ref),
            follow=True,
        )
    note("/poll results")
    votes = Measured("vote click")
    if message is not None:
        _guild, _channel, custom_ids = _layout(dd, message)
        assert set(option_ids(message)) >= set(VOTE_OPTIONS), option_ids(message)
        voters = world.voters or [manager]
        for n in range(counts.votes):
            label = VOTE_OPTIONS[n * 7 % len(VOTE_OPTIONS)]
            member = voters[n % len(voters)]
            ix = await _timed(
                dd,
                votes,
                lambda member=member, label=label: dd.click(member, message, custom_ids[label]),
            )
            said = ix.original.content if ix is not None and ix.original is not None else ""
            if ix is not None and f"**{label}**" not in said:  # refused, not counted
                votes.failures.append(f"the click was answered {said[:120]!r}")
            await asyncio.sleep(0.02)
    note("votes")
    export = Measured("/export")
    sampler = RssSampler(process) if process is not None else None
    for _ in range(counts.exports):
        ix = await _timed(
            dd,
            export,
            lambda: dd.slash(manager, "export", channel=channel, format="csv"),
            follow=True,
            timeout=120,
        )
        if result is not None and ix is not None and ix.followups:
            result.export_bytes = sum(len(data) for _, data in ix.followups[0].attachments)
            for _name, data in ix.followups[0].attachments:
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    result.export_text_bytes = sum(i.file_size for i in zf.infolist())
    if sampler is not None:
        before, highest = await sampler.stop()
        if result is not None:
            result.export_rss = (before, highest)
    note("/export")
    if notes is not None:
        notes.append("RSS now/peak MiB after each kind: " + ", ".join(rss))
    return [history, export, results, team_ac, poll_ac, votes, created]


class RssSampler:
    """The process's RSS now, and its highest every 10 ms until stopped (VmHWM keeps the peak of
    the whole run, charts included: not what one export adds)."""

    def __init__(self, process: BenchProcess) -> None:
        self.process = process
        self.before = process.rss_kib()
        self.highest = self.before
        self._task = asyncio.create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            self.highest = max(self.highest, self.process.rss_kib())
            await asyncio.sleep(0.01)

    async def stop(self) -> tuple[int, int]:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.before, self.highest


async def _closed_rerun(dd: DiscordDouble, manager: Member, channel: Channel) -> str:
    """A poll asked, closed, asked again and closed: the id of its second run."""
    question = "Warming up: a job or a career?"
    ix = await dd.slash(
        manager,
        "poll create",
        channel=channel,
        question=question,
        options={"options": " | ".join(VOTE_OPTIONS)},
        duration="1d",
    )
    await ix.response(timeout=10)
    first = await dd.wait_for_message(
        channel, lambda m: bool(m.buttons()) and question in m.text, timeout=10
    )
    ids = [poll_id_of(first)]
    for n in range(2):
        if n:
            ix = await dd.slash(manager, "poll rerun", channel=channel, poll=str(ids[-1]))
            await ix.response(timeout=10)
            await ix.wait_followup(timeout=30)
            ids.append(ids[-1] + 1)  # (the next poll of an empty database)
        ix = await dd.slash(manager, "poll close", channel=channel, poll=str(ids[-1]))
        await ix.response(timeout=10)
    return str(ids[-1])


async def _autocomplete(
    dd: DiscordDouble, member: Member, channel: Channel, command: str, focused: str, typed: str
) -> InteractionRecord:
    await dd.autocomplete(member, command, focused=focused, channel=channel, **{focused: typed})
    assert dd.last_autocomplete is not None
    return dd.last_autocomplete
