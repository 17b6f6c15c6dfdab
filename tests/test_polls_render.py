"""Poll layouts stay within Discord's limits whatever members type, and show it as typed
(rendering only: the layouts as discord.py sends them, read as the Discord double reads them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import discord
import pytest
from discord.utils import escape_markdown, escape_mentions

from bot.poll_model import Poll, PollOption, PollRun, Results, RunOption, compare_runs
from cogs._layout import BUTTON_LABEL_LIMIT, COMPONENT_LIMIT, TEXT_LIMIT
from cogs._poll_layout import fits_as_sections, poll_layout
from cogs._poll_results import result_layout, results_layout
from tests.double.models import Message, walk_components

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
#: what a member might type to break a layout: markdown, a heading, a quote, code, a ping
HOSTILE = "# **bold** > `code` @everyone <@&123456789012345678> _x_ ~~y~~ ||z|| "


def label_of(n: int, length: int = 100) -> str:
    return (f"{n:02d} {HOSTILE}" + "*" * length)[:length]


def big_poll(options: int = 20, *, closed: bool = False, length: int = 100) -> Poll:
    return Poll(
        id=123_456,
        team_id=1,
        team_name="T" * 50,
        guild_id=1,
        creator_id=2**63 - 1,
        question=(HOSTILE * 10)[:300],
        multiple=True,
        anonymous=True,
        hide_results=False,
        created_at=START,
        closes_at=START + timedelta(weeks=4),
        closed_at=START + timedelta(weeks=4) if closed else None,
        channel_id=3,
        message_id=4,
        rerun_of=122_000,
        result_state="posted" if closed else "none",
        result_message_id=None,
        voters=99_999,
        options=tuple(
            PollOption(100 + n, n + 1, label_of(n, length), 99_999 - n) for n in range(options)
        ),
    )


def run_of(poll: Poll, poll_id: int) -> PollRun:
    return PollRun(
        poll_id,
        poll.created_at,
        poll.closed_at,
        poll.voters,
        False,
        tuple(RunOption(o.label, o.votes, o.votes / poll.voters) for o in poll.options),
    )


def sent(view: discord.ui.LayoutView) -> Message:
    """The message as Discord receives it (what discord.py serialises), read as a member."""
    return Message(id=1, channel_id=1, components=view.to_components(), flags=1 << 15)


def assert_within_limits(message: Message) -> None:
    components = list(walk_components(message.components))
    assert len(components) <= COMPONENT_LIMIT, len(components)
    displays = [c for c in components if c["type"] == 10]
    assert sum(len(c["content"]) for c in displays) <= TEXT_LIMIT
    for section in (c for c in components if c["type"] == 9):
        assert 1 <= len(section["components"]) <= 3 and section["accessory"]["type"] == 2
    for row in (c for c in components if c["type"] == 1):
        assert 1 <= len(row["components"]) <= 5
    for button in message.buttons():
        assert 1 <= len(button["label"]) <= BUTTON_LABEL_LIMIT
        assert len(button["custom_id"] or "") <= 100


def shown_literally(text: str) -> str:
    return escape_mentions(escape_markdown(text))


@pytest.mark.parametrize("closed", [False, True])
@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("length", [55, 100])
def test_twenty_long_options_fit_as_a_numbered_list(
    closed: bool, hidden: bool, length: int
) -> None:
    """55 characters (the longest an option may be) show whole even when every one is markdown
    to escape; 100 (worst case) are shortened alike to fit the 4000 characters, none dropped."""
    poll = replace(big_poll(closed=closed, length=length), hide_results=hidden)
    run = run_of(poll, 122_000)
    message = sent(poll_layout(poll, (run, compare_runs(run, run)) if closed else None, now=START))
    assert_within_limits(message)
    labels = [b["label"] for b in message.buttons()]
    assert labels == [str(n) for n in range(1, 21)] + ([] if closed else ["Close"])
    text = message.text
    lines = text.split("\n")
    for option in poll.options:  # each option once, markdown and pings shown as typed
        label = shown_literally(option.label)
        whole = f"**{option.position}. {label}**"
        [at] = [n for n, line in enumerate(lines) if line.startswith(f"**{option.position}. ")]
        line = lines[at].removesuffix(" 🏆")
        if length == 55:
            assert line == whole
        else:  # whole, or cut alike with an ellipsis
            assert line == whole or (line.startswith(whole[:60]) and line.endswith("…**")), line
        assert lines[at + 1].startswith("`") is (closed or not hidden)
    if length == 100 and not hidden:
        assert text.count("…**") == 20
    assert f"### 📊 {shown_literally(poll.question)}\n" in text
    assert "@everyone" not in text and "<@&123456789012345678>" not in text
    assert all(b["disabled"] for b in message.buttons()[:20]) is closed


@pytest.mark.parametrize("closed", [False, True])
def test_eleven_options_are_sections_twelve_a_list(closed: bool) -> None:
    """Each section costs three components: eleven of them and the frame (card, headline,
    separator, footer, Close's row and button) make 39; a twelfth would pass 40."""
    eleven, twelve = big_poll(11, closed=closed), big_poll(12, closed=closed)
    assert fits_as_sections(eleven, START) and not fits_as_sections(twelve, START)
    message = sent(poll_layout(eleven, now=START))
    assert_within_limits(message)
    components = list(walk_components(message.components))
    assert len(components) == (39 if not closed else 37)
    sections = [c for c in components if c["type"] == 9]
    assert len(sections) == 11
    for section, option in zip(sections, eleven.options, strict=True):
        first = section["components"][0]["content"].split("\n")[0]
        assert first.startswith(f"**{shown_literally(option.label)}**")
        assert section["accessory"]["custom_id"] == f"breakroom:poll:123456:{option.id}"
    winners = ["Winner"] if closed else []
    labels = [b["label"] for b in message.buttons()]
    assert labels == (winners + ["Vote"] * 10 if closed else ["Vote"] * 11 + ["Close"])
    assert_within_limits(sent(poll_layout(twelve, now=START)))


def test_labels_that_escape_to_double_length_are_shortened_evenly_not_dropped() -> None:
    poll = big_poll(20, length=100)
    poll = replace(
        poll,
        options=tuple(replace(o, label=f"{o.position:02d}" + "*" * 98) for o in poll.options),
    )
    message = sent(poll_layout(poll, now=START))
    assert_within_limits(message)
    for option in poll.options:
        assert f"**{option.position}. {option.position:02d}\\*\\*" in message.text
    assert message.text.count("…") == 20  # every label cut the same way, none left out


def test_the_result_post_and_results_with_voters_fit() -> None:
    poll = big_poll(closed=True)
    run = run_of(poll, 122_000)
    result = sent(result_layout(poll, (run, compare_runs(run, run))))
    assert_within_limits(result)
    assert result.text.count("· +0 pts") == 20
    assert [b["label"] for b in result.buttons()] == ["See the poll"]
    voters = {o.id: tuple(range(10**17, 10**17 + 500)) for o in poll.options}
    results = sent(results_layout(Results(poll, True, voters), None, chart="poll-runs.png"))
    assert_within_limits(results)
    assert results.text.count(" more") == 20


def test_times_are_discord_timestamps_every_member_reads_in_their_own_timezone() -> None:
    closes = int((START + timedelta(weeks=4)).timestamp())
    opened = big_poll(3)
    assert f" · closes <t:{closes}:R> · " in sent(poll_layout(opened, now=START)).text
    soon = sent(poll_layout(opened, now=START + timedelta(weeks=4, minutes=-59))).text
    assert f" · ⏳ closes soon <t:{closes}:R> · " in soon
    hidden = sent(results_layout(Results(opened, False, None), None)).text
    assert f"hidden until the poll closes <t:{closes}:R>." in hidden
    closed = big_poll(3, closed=True)
    run = replace(run_of(closed, 122_000), closed_at=START - timedelta(days=30))
    last_time = int(run.date.timestamp())
    shown = sent(poll_layout(closed, (run, []), now=START)).text
    assert f"-# 🏁 Closed <t:{closes}:R> · " in shown
    result = sent(result_layout(closed, (run, []))).text
    assert f" · pts since poll #122000 · <t:{last_time}:D> (99999 voted)" in result
