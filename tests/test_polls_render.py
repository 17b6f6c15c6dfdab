"""Poll messages stay within Discord's limits whatever members type (rendering only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord

from bot.poll_model import Poll, PollOption, PollRun, Results, RunOption, compare_runs
from cogs._poll_buttons import poll_view
from cogs._polls_ui import poll_embed, result_embed, results_embed

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def biggest_poll(closed: bool) -> Poll:
    options = tuple(
        PollOption(100 + n, n + 1, f"{n:02d} " + "*_~`|" * 10 + "x" * 2, 9_999) for n in range(20)
    )
    return Poll(
        id=123_456,
        team_id=1,
        team_name="T" * 50,
        guild_id=1,
        creator_id=2**63 - 1,
        question="@everyone **why**? " * 15 + "x" * 15,
        multiple=True,
        anonymous=False,
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
        options=options,
    )


def run_of(poll: Poll) -> PollRun:
    return PollRun(
        poll.id,
        poll.created_at,
        poll.closed_at,
        poll.voters,
        False,
        tuple(RunOption(o.label, o.votes, o.votes / poll.voters) for o in poll.options),
    )


def assert_within_limits(embed: discord.Embed) -> None:
    assert len(embed) <= 6000, len(embed)
    assert len(embed.title or "") <= 256
    assert len(embed.description or "") <= 4096
    assert len(embed.fields) <= 25
    for field in embed.fields:
        assert len(field.name or "") <= 256 and len(field.value or "") <= 1024, field


def test_the_biggest_poll_fits_open_and_closed() -> None:
    for closed in (False, True):
        poll = biggest_poll(closed)
        run = run_of(poll)
        assert_within_limits(
            poll_embed(poll, (run, compare_runs(run, run)) if closed else None, now=START)
        )
        view = poll_view(poll)
        assert len(view.children) == (20 if closed else 21)  # Close only while open
        assert all(len(str(getattr(b, "label", ""))) <= 80 for b in view.children)
        assert all(len(str(getattr(b, "custom_id", ""))) <= 100 for b in view.children)


def test_the_result_message_with_a_comparison_fits() -> None:
    poll = biggest_poll(True)
    run = run_of(poll)
    embed = result_embed(poll, (run, compare_runs(run, run)))
    assert_within_limits(embed)
    assert "+0" in (embed.description or "")


def test_results_with_every_voter_listed_fit() -> None:
    poll = biggest_poll(True)
    voters = {o.id: tuple(range(10**17, 10**17 + 500)) for o in poll.options}
    embed = results_embed(Results(poll, True, voters), None)
    assert_within_limits(embed)
    assert "more" in str(embed.fields[-1].value)


def test_times_are_discord_timestamps_every_member_reads_in_their_own_timezone() -> None:
    closes = int((START + timedelta(weeks=4)).timestamp())
    opened = biggest_poll(False)
    fields = {f.name: f.value for f in poll_embed(opened, now=START).fields}
    assert fields["Closes"] == f"<t:{closes}:R> (<t:{closes}:f>)"
    hidden = Results(opened, False, None)
    assert f"hidden until the poll closes <t:{closes}:R>." in (
        results_embed(hidden, None).description or ""
    )
    closed = biggest_poll(True)
    run = run_of(closed)
    fields = {f.name: f.value for f in poll_embed(closed, (run, []), now=START).fields}
    assert fields["Closed"] == f"<t:{closes}:f>"
    last_time = int(run.date.timestamp())
    assert fields["Last time"].startswith(f"<t:{last_time}:D>: ")
    result = result_embed(closed, (run, []))
    assert f"(<t:{last_time}:D>, " in (result.description or "")
