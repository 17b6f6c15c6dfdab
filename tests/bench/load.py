"""The load generator: clicks built ahead of time, sent on an absolute schedule, measured from
the double's own timestamps (`sent_at` when INTERACTION_CREATE is written, `responded_at` when
the callback arrives).

Payload building (the member, the message, permissions) happens before a phase starts, so
sending a click costs the double only the JSON encoding and the socket write. The schedule is
absolute (click i is due at start + i / rate), so a late wake-up sends the clicks that fell
due at once instead of drifting; `sent_at - due` (the send lag) shows whether the generator
kept up.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from tests.double import (
    Channel,
    DiscordDouble,
    Guild,
    InteractionRecord,
    Member,
    Message,
    builders,
)
from tests.double.models import walk_components

Action = Literal["voted", "moved", "removed"]
CUSTOM_ID = re.compile(r"breakroom:poll:(\d+):(\d+)")


@dataclass(frozen=True, slots=True)
class PlannedClick:
    member: Member
    label: str
    #: what Breakroom must do with it, from the single-choice rules (see Ballot)
    action: Action


@dataclass(slots=True)
class Click:
    planned: PlannedClick
    ix: InteractionRecord
    due: float = 0.0


@dataclass(frozen=True, slots=True)
class PhasePlan:
    name: str
    #: clicks per second; None: all at once (a burst)
    rate: float | None
    clicks: tuple[PlannedClick, ...]
    #: member id -> label of their vote after this phase (the stored state expected)
    expected: dict[int, str] = field(hash=False)


class Ballot:
    """Single-choice rules: a click votes, moves the vote, or (same option again) removes it."""

    def __init__(self) -> None:
        self.choice: dict[int, str] = {}

    def click(self, member: Member, label: str) -> PlannedClick:
        current = self.choice.get(member.id)
        action: Action
        if current == label:
            del self.choice[member.id]
            action = "removed"
        elif current is not None:
            self.choice[member.id] = label
            action = "moved"
        else:
            self.choice[member.id] = label
            action = "voted"
        return PlannedClick(member, label, action)


def plan_phases(
    voters: Sequence[Member],
    labels: Sequence[str],
    burst: int,
    rates: Iterable[int],
    seconds: float,
    seed: int = 11,
) -> list[PhasePlan]:
    """A burst of `burst` different members voting once, then a stream per rate in which all
    voters take turns clicking random options (re-clicks move or remove votes)."""
    if burst > len(voters):
        raise ValueError(f"a burst of {burst} needs {burst} members; the world has {len(voters)}")
    rng = random.Random(seed)
    ballot = Ballot()
    phases = [
        PhasePlan(
            f"burst {burst}",
            None,
            tuple(ballot.click(m, labels[n % len(labels)]) for n, m in enumerate(voters[:burst])),
            dict(ballot.choice),
        )
    ]
    turn = 0
    for rate in rates:
        clicks = []
        for _ in range(round(rate * seconds)):
            clicks.append(ballot.click(voters[turn % len(voters)], rng.choice(labels)))
            turn += 1
        phases.append(
            PhasePlan(f"{rate}/s × {seconds:g} s", float(rate), tuple(clicks), dict(ballot.choice))
        )
    return phases


def prebuild(
    dd: DiscordDouble,
    messages: Sequence[Message],
    plan: PhasePlan,
    route: Mapping[int, int] | None = None,
) -> list[Click]:
    """The interaction payloads of a phase, as Discord would send them, built ahead of time.

    Each click goes to `messages[route[member id]]` (the first message for a member `route`
    doesn't name): two polls in two shards' servers get their own members' clicks, in the plan's
    order."""
    layouts = [_layout(dd, message) for message in messages]
    clicks = []
    for planned in plan.clicks:
        n = route.get(planned.member.id, 0) if route else 0
        message, (guild, channel, custom_ids) = messages[n], layouts[n]
        custom_id = custom_ids[planned.label]
        data = builders.component_data(
            dd,
            message,
            custom_id,
            select_values=None,
            guild=guild,
            channel=channel,
            user_id=planned.member.id,
        )
        ix = builders.new_interaction(
            dd, 3, planned.member, guild, channel, data, custom_id, message=message
        )
        clicks.append(Click(planned, ix))
    return clicks


def _layout(dd: DiscordDouble, message: Message) -> tuple[Guild, Channel, dict[str, str]]:
    """A poll message's server, channel, and option label -> the custom_id to click."""
    channel = dd._channels[message.channel_id]
    guild = dd._guilds[channel.guild_id or 0]
    custom_ids = {b["label"]: b["custom_id"] for b in message.buttons()}
    for section in walk_components(message.components):  # Breakroom's: "Vote" beside each
        if section.get("type") == 9:
            label = str(section["components"][0].get("content") or "").split("\n")[0]
            custom_ids[label.strip("*")] = section["accessory"].get("custom_id")
    return guild, channel, custom_ids


async def send(dd: DiscordDouble, clicks: list[Click], rate: float | None) -> None:
    """Send every click on schedule (all at once when `rate` is None); returns once all of
    them were written to the bot's socket."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.02
    tasks: list[asyncio.Task[InteractionRecord]] = []
    for n, click in enumerate(clicks):
        click.due = start if rate is None else start + n / rate
        delay = click.due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        # The double's own send path (what `dd.click` does after building the payload).
        tasks.append(loop.create_task(dd._send_interaction(click.ix, 30.0)))
    await asyncio.gather(*tasks)


def settled(ix: InteractionRecord) -> bool:
    """Answered, or refused for good (the response deadline passed)."""
    return ix.acknowledged or bool(ix.rejected)


async def wait_answered(clicks: Sequence[Click], deadline_after: float) -> None:
    """Wait until every click is answered or can no longer be (its response deadline passed
    `deadline_after` seconds ago, which leaves time for the refused attempts to arrive)."""
    loop = asyncio.get_running_loop()
    began = loop.time()
    cursor = 0
    while cursor < len(clicks):
        ix = clicks[cursor].ix
        if settled(ix) or loop.time() > (ix.sent_at or began) + deadline_after:
            cursor += 1
            continue
        await asyncio.sleep(0.02)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of an ascending list; NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def reply_matches(click: Click) -> bool:
    """Breakroom's ephemeral confirmation says what the click did to this member's vote."""
    original = click.ix.original
    text = original.content if original is not None else ""
    label = f"**{click.planned.label}**"
    expected = {
        "voted": f"Voted {label}",
        "moved": f"Moved to {label}",
        "removed": f"Removed your vote for {label}",
    }[click.planned.action]
    return click.ix.ephemeral and expected in text


def option_ids(message: Message) -> dict[str, int]:
    """Option label -> option id (from the custom_id `breakroom:poll:P:O`): the button's label
    (the baseline bot's buttons), or the option named in the section the button is beside
    (Breakroom's layout: its buttons say "Vote")."""
    ids = {}
    for button in message.buttons():
        match = CUSTOM_ID.fullmatch(str(button["custom_id"]))
        if match:
            ids[str(button["label"])] = int(match.group(2))
    for section in walk_components(message.components):
        if section.get("type") == 9:
            match = CUSTOM_ID.fullmatch(str(section["accessory"].get("custom_id")))
            label = str(section["components"][0].get("content") or "").split("\n")[0]
            if match:
                ids[label.removesuffix(" 🏆").strip("*")] = int(match.group(2))
    return ids


def poll_id_of(message: Message) -> int:
    for button in message.buttons():
        match = CUSTOM_ID.fullmatch(str(button["custom_id"]))
        if match:
            return int(match.group(1))
    raise ValueError(f"message {message.id} has no poll buttons")
