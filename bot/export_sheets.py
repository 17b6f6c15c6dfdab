"""`/export`, the flat sheets of the CSV zip, for opening in a spreadsheet: `answers.csv` (one
row per answer), `polls.csv` (one row per option of each poll run) and `words.csv` (for each
repeated prompt, the words its answers used more or less than the time before). Each row is whole
on its own — the prompt's text, the member's name, the poll's question — so nothing needs a lookup
in another file; the tables beside them (and the JSON) keep the full structure with its ids.

They are built from the tables the export has already read (`bot/export.py`), in the same
thread, so they see the same consistent state and add no read; and they show no more than the
tables do: a poll's counts are those of `vote_counts` (an open anonymous poll's as last shown,
moved in steps), its turnout that of `polls`, and no sheet has a column for who voted. The words
come from the prompt answers only (given under the members' names, never from reflections), and
name nobody: the answering members' names, mentions and links are left out (bot/wording.py).

Plain Python: nothing from discord.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot import history_words
from bot.i18n import N_, _
from bot.poll_model import percent
from bot.wording import WordShift

#: table name -> its rows (as `bot.export.read_tables` gives them)
Tables = Mapping[str, Sequence[Sequence[Any]]]
#: table name -> its column names, in the order of the rows' values
Columns = Mapping[str, Sequence[str]]


class _Picker:
    """The value of a named column of one table's rows."""

    def __init__(self, columns: Columns, table: str) -> None:
        self._at = {name: index for index, name in enumerate(columns[table])}

    def __call__(self, row: Sequence[Any], column: str) -> Any:
        return row[self._at[column]]


def local_date(seconds: int | None, zone: ZoneInfo) -> str:
    """A UTC timestamp as the date it was in the team's timezone, yyyy-mm-dd."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(int(seconds), UTC).astimezone(zone).date().isoformat()


def answer_rows(tables: Tables, columns: Columns) -> Iterator[tuple[str, str, str, str]]:
    """date (of the post, in the team's timezone), prompt, member, answer: one row per answer,
    by post (the order they were posted) and then by the time of the answer."""
    team, prompt, post, answer = (
        _Picker(columns, name) for name in ("teams", "prompts", "posts", "answers")
    )
    zone = ZoneInfo(str(team(tables["teams"][0], "timezone")))
    texts = {prompt(row, "id"): str(prompt(row, "text")) for row in tables["prompts"]}
    posts = {
        post(row, "id"): (
            (post(row, "posted_at") or 0, post(row, "id")),
            local_date(post(row, "posted_at"), zone),
            texts.get(post(row, "prompt_id"), ""),
        )
        for row in tables["posts"]
    }

    def order(row: Sequence[Any]) -> tuple[tuple[int, int], int, int]:
        return posts[answer(row, "post_id")][0], answer(row, "answered_at"), answer(row, "id")

    for row in sorted(tables["answers"], key=order):
        _, day, text = posts[answer(row, "post_id")]
        yield day, text, str(answer(row, "display_name")), str(answer(row, "text"))


def run_numbers(tables: Tables, columns: Columns) -> dict[int, tuple[int, int]]:
    """poll id -> (the first run's id, which run it is: 1, 2, …), along the re-run chain
    (`polls.rerun_of`, see `bot/poll_runs.py`) among the exported polls."""
    poll = _Picker(columns, "polls")
    runs: dict[int, tuple[int, int]] = {}
    # By id: a re-run is always newer than the run it follows, so that one is numbered already.
    for row in sorted(tables["polls"], key=lambda r: int(poll(r, "id"))):
        before = runs.get(poll(row, "rerun_of"))
        runs[poll(row, "id")] = (before[0], before[1] + 1) if before else (poll(row, "id"), 1)
    return runs


def poll_rows(tables: Tables, columns: Columns) -> Iterator[tuple[str, int, str, int, int]]:
    """poll (its question), run, option, votes, share (the percentage of the run's voters, as
    the poll shows it): one row per option, a question's runs together, in the order asked."""
    poll, option, counted = (_Picker(columns, name) for name in ("polls", "options", "vote_counts"))
    runs = run_numbers(tables, columns)
    polls = {poll(row, "id"): row for row in tables["polls"]}
    votes = {counted(row, "option_id"): int(counted(row, "votes")) for row in tables["vote_counts"]}

    def order(row: Sequence[Any]) -> tuple[int, int, int]:
        first, run = runs[option(row, "poll_id")]
        return first, run, option(row, "position")

    for row in sorted(tables["options"], key=order):
        asked = polls[option(row, "poll_id")]
        picked = votes.get(option(row, "id"), 0)
        yield (
            str(poll(asked, "question")),
            runs[poll(asked, "id")][1],
            str(option(row, "label")),
            picked,
            percent(picked, int(poll(asked, "voters") or 0)),
        )


def post_words(tables: Tables, columns: Columns) -> dict[int, WordShift]:
    """post id -> for a repeat, the words its answers used more or less than those of the post it
    repeated (the names of the members who answered either time left out)."""
    post, answer = (_Picker(columns, name) for name in ("posts", "answers"))
    texts: dict[int, list[str]] = {post(row, "id"): [] for row in tables["posts"]}
    names: dict[int, list[str]] = {post(row, "id"): [] for row in tables["posts"]}
    for row in sorted(tables["answers"], key=lambda r: int(answer(r, "id"))):
        if answer(row, "post_id") in texts:
            texts[answer(row, "post_id")].append(str(answer(row, "text")))
            names[answer(row, "post_id")].append(str(answer(row, "display_name")))
    shifts: dict[int, WordShift] = {}
    for row in tables["posts"]:
        this, earlier = post(row, "id"), post(row, "repeat_of")
        if earlier in texts:
            exclude = names[earlier] + names[this]
            # remembered: the same old posts come back in every export (bot/history_words.py)
            shifts[this] = history_words.shift(texts[earlier], texts[this], exclude=exclude)
    return shifts


def words_json(tables: Tables, columns: Columns) -> dict[int, dict[str, Any]]:
    """post id -> for a repeat, its words as the JSON export gives them on the post."""
    return {
        post_id: {
            "more": [{"phrase": c.phrase, "before": c.before, "after": c.after} for c in s.more],
            "less": [{"phrase": c.phrase, "before": c.before, "after": c.after} for c in s.less],
            "language": s.language,
            "answers_before": s.answers_before,
            "answers_after": s.answers_after,
        }
        for post_id, s in post_words(tables, columns).items()
    }


def word_rows(tables: Tables, columns: Columns) -> Iterator[tuple[int, str, str, str, int, int]]:
    """post id, prompt, phrase, direction (more or less), answers using it before and after: for
    each repeated post in the order posted, the phrases used more (biggest change first), then
    less."""
    prompt, post = (_Picker(columns, name) for name in ("prompts", "posts"))
    texts = {prompt(row, "id"): str(prompt(row, "text")) for row in tables["prompts"]}
    prompts = {post(row, "id"): texts.get(post(row, "prompt_id"), "") for row in tables["posts"]}
    for post_id, shift in sorted(post_words(tables, columns).items()):
        for direction, changes in (("more", shift.more), ("less", shift.less)):
            for c in changes:
                yield post_id, prompts[post_id], c.phrase, direction, c.before, c.after


README = N_(
    """\
Breakroom export of the team "{team}" (schema version {version}), made {when} UTC.

All files are CSV, UTF-8, with a header row.

For a spreadsheet, flat files: each row is whole on its own, nothing to look up elsewhere.
{sheets}

The tables, one file per table in tables/, with the ids that link them. Times are UTC in
ISO 8601. Ids of Discord things (servers, channels, messages, members) are Discord's ids.
{tables}

Privacy: reflections carry no author of any kind; anonymous polls carry counts only.
In the CSV files, a text that begins with = + - or @ starts with an apostrophe so that
spreadsheet programs show it as text instead of running it; the JSON export keeps the exact text.
"""
)


def readme_text(
    team: str,
    version: int,
    exported_at: datetime,
    sheets: Sequence[tuple[str, str]],
    tables: Sequence[tuple[str, str]],
) -> str:
    """The zip's README.txt in the current language: the files (path, description marked with
    `N_`), what they hold and how they keep members' privacy."""
    return _(
        README,
        team=team,
        version=version,
        when=exported_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        sheets="\n".join(f"- {path}: {_(about)}" for path, about in sheets),
        tables="\n".join(f"- {path}: {_(about)}" for path, about in tables),
    )
