"""What `/history` renders (cogs/_history_ui.py), from timelines built directly with the types of
bot/history.py: the words a repeat was answered with, run labels, and Discord's limits with the
worst data members can type (20-option polls of 100-character options, 300-character prompts, a
year of weeks)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import discord

from bot.history import PollEntry, PromptEntry, RunSeries, Timeline, Week
from bot.poll_model import OptionChange, Poll, PollOption, PollRun, RunOption
from bot.prompt_posts import Post
from bot.teams import Team
from bot.wording import WordChange, WordShift
from cogs._history_ui import chart_names, history_layout, paginate
from cogs._layout import component_count, text_length, texts
from cogs.history import buttons
from tests.double.limits import FormErrors, check_message
from tests.double.models import MessageFlag

GUILD = 7001
MONDAY = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)  # Monday 3 November 2025, GMT in London


def team(created: datetime = MONDAY - timedelta(weeks=60)) -> Team:
    return Team(
        id=1,
        guild_id=GUILD,
        name="Front desk",
        channel_id=555,
        role_id=None,
        timezone="Europe/London",
        schedule_weekday=0,
        schedule_time="09:30",
        schedule_ping_role=False,
        reflection_threshold=3,
        reflection_share_time="17:00",
        last_post_error=None,
        created_at=created,
    )


def post(n: int, text: str, at: datetime, repeat_of: datetime | None = None) -> Post:
    return Post(
        id=n,
        team_id=1,
        team_name="Front desk",
        guild_id=GUILD,
        prompt_id=n,
        prompt_text=text,
        slot_at=None,
        state="posted",
        posted_at=at,
        channel_id=555,
        message_id=9000 + n,
        thread_id=8000 + n,
        repeat_of=None if repeat_of is None else n - 1,
        repeat_of_posted_at=repeat_of,
        ping_role=False,
        error=None,
    )


def poll(n: int, labels: list[str], votes: list[int], closed: datetime, **extra: Any) -> Poll:
    return Poll(
        id=n,
        team_id=1,
        team_name="Front desk",
        guild_id=GUILD,
        creator_id=1,
        question=extra.pop("question", "Job or career?"),
        multiple=False,
        anonymous=False,
        hide_results=False,
        created_at=closed - timedelta(hours=2),
        closes_at=closed,
        closed_at=closed,
        channel_id=555,
        message_id=7000 + n,
        rerun_of=extra.pop("rerun_of", None),
        result_state="posted",
        result_message_id=None,
        voters=max(1, sum(votes)),
        options=tuple(
            PollOption(100 * n + i, i, label, v)
            for i, (label, v) in enumerate(zip(labels, votes, strict=True))
        ),
    )


def run(found: Poll) -> PollRun:
    return PollRun(
        poll_id=found.id,
        created_at=found.created_at,
        closed_at=found.closed_at,
        voters=found.voters,
        hide_results=False,
        options=tuple(RunOption(o.label, o.votes, o.votes / found.voters) for o in found.options),
    )


def rerun_entry(first: Poll, second: Poll) -> PollEntry:
    before, after = run(first), run(second)
    changes = tuple(
        OptionChange(a.label, b.percent, a.percent)
        for a, b in zip(after.options, before.options, strict=True)
    )
    return PollEntry(second, True, 2, before, changes)


def timeline(
    weeks: list[Week], of: Team | None = None, series: tuple[RunSeries, ...] = ()
) -> Timeline:
    of = of or team()
    ordered = tuple(sorted(weeks, key=lambda w: w.start))
    until = datetime.combine(ordered[-1].start, datetime.min.time(), UTC) + timedelta(days=6)
    since = datetime.combine(ordered[0].start, datetime.min.time(), UTC)
    return Timeline(of, len(ordered), since, until, ordered, series)


def pages_of(found: Timeline) -> list[Any]:
    """Each page as /history sends it: the card and its buttons, with every chart."""
    pages = paginate(found)
    return [
        history_layout(found, pages, n, chart_names(found), buttons(found, len(pages), n))
        for n in range(1, len(pages) + 1)
    ]


def all_text(view: Any) -> str:
    return "\n".join(display.content for display in texts(view))


def test_a_repeat_shows_the_words_said_more_and_less() -> None:
    shift = WordShift(
        more=(WordChange("flexible hours", 1, 4), WordChange("training", 0, 3)),
        less=(WordChange("pay", 5, 2),),
    )
    first = MONDAY - timedelta(weeks=8)
    entry = PromptEntry(
        post(2, "What would make this a career?", MONDAY, repeat_of=first), 4, 5, shift
    )
    [page] = pages_of(timeline([Week(date(2025, 11, 3), prompts=(entry,))]))
    assert (
        "📝 **Mon 3 Nov** · What would make this a career?\n"
        "4 answers · [Open the discussion](https://discord.com/channels/7001/8002)\n"
        "↻ Asked before on Mon 8 Sep 2025: **4** answered this time, **5** last time (-1).\n"
        "Said more: *flexible hours* (1→4), *training* (0→3) · Said less: *pay* (5→2)"
    ) in all_text(page)

    # nothing said differently (or not compared yet): the answer counts only
    for words in (None, WordShift()):
        plain = PromptEntry(entry.post, 4, 5, words)
        [page] = pages_of(timeline([Week(date(2025, 11, 3), prompts=(plain,))]))
        assert "Asked before on Mon 8 Sep 2025" in all_text(page)
        assert "Said" not in all_text(page)


def test_only_more_or_only_less_and_markdown_in_phrases() -> None:
    entry = PromptEntry(
        post(2, "Why?", MONDAY, repeat_of=MONDAY - timedelta(weeks=1)),
        3,
        3,
        WordShift(less=(WordChange("*stars*", 3, 0),)),
    )
    [page] = pages_of(timeline([Week(date(2025, 11, 3), prompts=(entry,))]))
    assert "\nSaid less: *\\*stars\\** (3→0)" in all_text(page)
    assert "Said more" not in all_text(page)


def test_a_rerun_labels_each_run_with_its_number_and_day() -> None:
    labels = ["Job", "Career", "Both"]
    first = poll(1, labels, [1, 2, 0], datetime(2025, 11, 3, 12, 0, tzinfo=UTC))
    second = poll(2, labels, [0, 2, 1], datetime(2025, 12, 1, 12, 0, tzinfo=UTC), rerun_of=1)
    weeks = [
        Week(date(2025, 11, 3), polls=(PollEntry(first, True),)),
        Week(date(2025, 12, 1), polls=(rerun_entry(first, second),)),
    ]
    [page] = pages_of(timeline(weeks))
    text = all_text(page)
    assert (
        "📊 **Job or career?** · poll #2, run 2 · closed Mon 1 Dec\n"
        "**Run 1 · 3 Nov** (3 voters) → **Run 2 · 1 Dec** (3 voters)\n"
        "• Job: 33% → 0% (-33 pts)\n"
        "• Career: 67% → 67% (±0) 🏆\n"
        "• Both: 0% → 33% (+33 pts)"
    ) in text
    assert (
        "📊 **Job or career?** · poll #1 · closed Mon 3 Nov · 3 voters\n"
        "• Job: 33%\n• Career: 67% 🏆\n• Both: 0%"
    ) in text
    assert text.index("Run 2 · 1 Dec") < text.index("poll #1 ·")  # newest week first


def worst_case() -> tuple[Timeline, list[str], list[str]]:
    """A year of weeks, each with three 300-character prompts (repeats, with words), a
    20-option poll of 100-character options and its re-run, and reflections."""
    weeks = []
    labels: list[str] = []
    prompts: list[str] = []
    series = []
    for w in range(52):
        start = MONDAY + timedelta(weeks=w)
        options = [
            f"W{w:02d}O{o:02d} " + "an option somebody typed at length " * 3 for o in range(20)
        ]
        options = [o[:100] for o in options]
        labels += options
        shift = WordShift(
            more=tuple(WordChange(f"phrase {n} " + "x" * 30, 1, 9) for n in range(8)),
            less=tuple(WordChange(f"other {n} " + "y" * 30, 9, 1) for n in range(8)),
        )
        entries = []
        for p in range(3):
            body = f"Prompt W{w:02d}P{p} " + "what would you change about the rota? " * 8
            prompts.append(body[:300])
            entries.append(
                PromptEntry(
                    post(10 * w + p, body[:300], start, start - timedelta(weeks=9)), 7, 3, shift
                )
            )
        first = poll(2 * w, options, list(range(20)), start + timedelta(hours=3))
        second = poll(
            2 * w + 1, options, list(range(20, 0, -1)), start + timedelta(days=2), rerun_of=2 * w
        )
        series.append(RunSeries(first.question, (run(first), run(second))))
        weeks.append(
            Week(
                start.date(),
                prompts=tuple(entries),
                polls=(PollEntry(first, True), rerun_entry(first, second)),
                reflections=12,
            )
        )
    return timeline(weeks, series=tuple(series)), labels, prompts


def test_the_worst_case_pages_stay_within_discord_limits_and_lose_nothing() -> None:
    found, labels, prompts = worst_case()
    views = pages_of(found)
    assert len(views) > 52  # a poll of 20 long options nearly fills a page
    for n, view in enumerate(views, start=1):
        assert component_count(view) <= 40, n
        assert text_length(view) <= 4000, n
        errors = FormErrors()
        payload = {"components": view.to_components(), "flags": MessageFlag.IS_COMPONENTS_V2}
        check_message(payload, errors, filenames=chart_names(found))  # the charts go with it
        assert not errors, (n, str(errors))
        assert f"Page {n} of {len(views)}" in all_text(view)
        assert len(chart_names(found)) == 5 and "attachment://answers-per-week.png" in str(
            view.to_components()
        )
    everything = "\n".join(all_text(view) for view in views)
    assert "…" not in everything  # nothing was cut: every option and prompt in full
    for label in labels:
        assert everything.count(f"• {label}: ") == 2, label  # its run, and the re-run beside it
    for body in prompts:
        assert everything.count(body) == 1, body[:20]
    # Previous / Next / Share on every page, within Discord's sizes
    for view in views:
        row = next(c for c in view.to_components() if c["type"] == 1)
        assert [b["label"] for b in row["components"]] == [
            "◀ Previous",
            "Next ▶",
            "Share with the team",
        ]
        assert all(len(b["custom_id"]) <= 100 for b in row["components"])


def test_many_short_weeks_are_paged_by_discords_component_limit() -> None:
    """A year of weeks with a count each: short texts, but two components a week."""
    weeks = [Week((MONDAY + timedelta(weeks=w)).date(), reflections=w + 1) for w in range(52)]
    found = timeline(weeks, series=worst_case()[0].series)
    views = pages_of(found)
    assert len(views) == 5  # 12 weeks a page
    for view in views:
        assert component_count(view) <= 40
    everything = "\n".join(all_text(view) for view in views)
    for w in range(52):
        assert f"💬 {w + 1} anonymous reflection" in everything


def test_a_week_longer_than_a_page_goes_on_on_the_next_one() -> None:
    found, _, _ = worst_case()
    views = pages_of(found)
    first_week = all_text(views[0])
    assert "### Week of Mon 26 Oct 2026\n📝" in first_week  # the newest week
    continued = [v for v in views if "### Week of Mon 26 Oct 2026 (continued)" in all_text(v)]
    assert continued and continued[0] is views[1]


def test_the_shared_card_has_no_buttons_and_says_where_it_came_from() -> None:
    found, _, _ = worst_case()
    pages = paginate(found)
    view = history_layout(found, pages, 1, chart_names(found), shared=True)
    text = all_text(view)
    assert text.startswith("## History — Front desk\n**Last 52 weeks:**")
    assert "Shared from `/history`" in text and "more weeks in `/history`" in text
    assert "Page 1 of" not in text
    assert not [c for c in view.walk_children() if isinstance(c, discord.ui.Button)]
    assert text_length(view) <= 4000 and component_count(view) <= 40
