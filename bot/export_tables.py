"""`/export`'s contract: the tables it exports (a whitelist of columns, table by table), the
flat sheets of the CSV zip, and how values are written in CSV and JSON. Shared by the whole-table
rendering (`bot/export.py`) and the streamed CSV (`bot/export_stream.py`); see `bot/export.py`
for what goes out and why. Plain Python: nothing from discord.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from bot.export_sheets import (
    Columns,
    Tables,
    answer_rows,
    poll_rows,
    readme_text,
    word_rows,
)
from bot.i18n import N_

SCHEMA_VERSION = 1
Format = Literal["csv", "json"]
FORMATS: tuple[Format, ...] = ("csv", "json")
#: date = a yyyy-mm-dd text (the flat sheets only)
Kind = Literal["int", "id", "time", "bool", "text", "date"]

#: characters that make a spreadsheet read a cell as a formula
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    #: id = a Discord snowflake: a string in JSON, where JavaScript would round a large number
    kind: Kind


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    sql: str


_KINDS: dict[str, Kind] = {
    "int": "int",
    "id": "id",
    "time": "time",
    "bool": "bool",
    "text": "text",
    "date": "date",
}


def _cols(spec: str) -> tuple[Column, ...]:
    """`"id:int name:text"` -> columns."""
    columns = []
    for part in spec.split():
        name, kind = part.split(":")
        columns.append(Column(name, _KINDS[kind]))
    return tuple(columns)


# Each query takes the team id once, as its only parameter.
#: An open anonymous poll's counts as members see them (bot.poll_model.ANONYMOUS_STEP): an
#: export after each vote must not give single votes away either.
_STEPPED = "CASE WHEN p.anonymous = 1 AND p.closed_at IS NULL THEN"

TABLES: tuple[Table, ...] = (
    Table(
        "teams",
        N_("the team and its settings"),
        _cols(
            "id:int guild_id:id name:text channel_id:id role_id:id timezone:text"
            " schedule_weekday:int schedule_time:text reflection_threshold:int created_at:time"
        ),
        "SELECT id, guild_id, name, channel_id, role_id, timezone, schedule_weekday,"
        " schedule_time, reflection_threshold, created_at FROM teams WHERE id = ?",
    ),
    Table(
        "prompts",
        N_("the prompts the team was asked, and how often"),
        _cols("id:int text:text starter:bool created_at:time retired_at:time times_asked:int"),
        "SELECT p.id, p.text, p.starter, p.created_at, p.retired_at, COUNT(pp.id)"
        " FROM prompts p JOIN prompt_posts pp ON pp.prompt_id = p.id"
        " WHERE pp.team_id = ? AND pp.state = 'posted' GROUP BY p.id ORDER BY p.id",
    ),
    Table(
        "posts",
        N_(
            "each time a prompt was posted; repeat_of is the post it repeated (the words a repeat's"
            " answers used more or less than that post's: words.csv, or the post's words in JSON)"
        ),
        _cols(
            "id:int prompt_id:int posted_at:time slot_at:time channel_id:id message_id:id"
            " thread_id:id repeat_of:int"
        ),
        "SELECT id, prompt_id, posted_at, slot_at, channel_id, message_id, thread_id, repeat_of"
        " FROM prompt_posts WHERE team_id = ? AND state = 'posted' ORDER BY id",
    ),
    Table(
        "answers",
        N_("members' answers to the posts"),
        _cols(
            "id:int post_id:int user_id:id display_name:text text:text answered_at:time"
            " edited_at:time"
        ),
        "SELECT a.id, a.post_id, a.user_id, a.display_name, a.text, a.answered_at, a.edited_at"
        " FROM prompt_answers a JOIN prompt_posts pp ON pp.id = a.post_id"
        " WHERE pp.team_id = ? AND pp.state = 'posted' ORDER BY a.id",
    ),
    Table(
        "polls",
        N_("the team's polls; rerun_of is the previous run of the same question"),
        _cols(
            "id:int question:text creator_id:id multiple:bool anonymous:bool hide_results:bool"
            " created_at:time closes_at:time closed_at:time rerun_of:int voters:int"
            " channel_id:id message_id:id"
        ),
        "SELECT id, question, creator_id, multiple, anonymous, hide_results, created_at,"
        f" closes_at, closed_at, rerun_of, {_STEPPED.replace('p.', '')} shown_voters"
        " ELSE voters END,"
        " channel_id, message_id"
        " FROM polls WHERE team_id = ? AND message_id IS NOT NULL ORDER BY id",
    ),
    Table(
        "options",
        N_("the options of each poll"),
        _cols("id:int poll_id:int position:int label:text"),
        "SELECT o.id, o.poll_id, o.position, o.label FROM poll_options o"
        " JOIN polls p ON p.id = o.poll_id WHERE p.team_id = ? AND p.message_id IS NOT NULL"
        " ORDER BY o.poll_id, o.position",
    ),
    Table(
        "vote_counts",
        N_(
            "votes per option (anonymous polls: this is all there is; while one is open, its counts"
            " as last shown, moved in steps of several voters)"
        ),
        _cols("poll_id:int option_id:int votes:int"),
        f"SELECT o.poll_id, o.id, {_STEPPED} o.shown_votes ELSE o.votes END"
        " FROM poll_options o"
        " JOIN polls p ON p.id = o.poll_id WHERE p.team_id = ? AND p.message_id IS NOT NULL"
        " ORDER BY o.poll_id, o.position",
    ),
    Table(
        "votes",
        N_("who picked what, in named (not anonymous) polls only"),
        _cols("poll_id:int option_id:int user_id:id"),
        "SELECT v.poll_id, v.option_id, v.user_id FROM poll_votes v"
        " JOIN polls p ON p.id = v.poll_id WHERE p.team_id = ? AND p.anonymous = 0"
        " AND p.message_id IS NOT NULL ORDER BY v.poll_id, v.option_id, v.user_id",
    ),
    Table(
        "reflections",
        N_("reflections shared with the team (hidden ones without text); never who wrote them"),
        _cols("code:text state:text about:text text:text shared_at:time"),
        "SELECT ref, state, about, body, posted_at FROM reflections"
        " WHERE team_id = ? AND state IN ('posted', 'hidden') ORDER BY posted_at, ref",
    ),
)

TABLE_NAMES = tuple(table.name for table in TABLES)
COLUMNS: Columns = {table.name: tuple(c.name for c in table.columns) for table in TABLES}


@dataclass(frozen=True, slots=True)
class Sheet:
    """A flat file of the CSV zip, its rows made from the tables (`bot/export_sheets.py`)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    rows: Callable[[Tables, Columns], Iterable[Sequence[Any]]]


SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "answers",
        N_(
            "one row per answer: the post's date (in the team's timezone), the prompt, the member's"
            " name, the answer; by post, then by the time of the answer"
        ),
        _cols("date:date prompt:text member:text answer:text"),
        answer_rows,
    ),
    Sheet(
        "polls",
        N_(
            "one row per option of each poll: the question, which run of it (1, then 2 for its"
            " first re-run, ...), the option, its votes and its share of the run's voters in"
            " percent"
        ),
        _cols("poll:text run:int option:text votes:int share:int"),
        poll_rows,
    ),
    Sheet(
        "words",
        N_(
            "for each repeated prompt, the words and phrases its answers used more (or less) than"
            " the time before: the post, the prompt, the phrase, more or less, and how many answers"
            " used it before and after (members' names are left out)"
        ),
        _cols(
            "post_id:int prompt:text phrase:text direction:text answers_before:int"
            " answers_after:int"
        ),
        word_rows,
    ),
)


@dataclass(frozen=True, slots=True)
class ExportFile:
    filename: str
    data: bytes
    format: Format
    #: rows per table
    counts: dict[str, int]

    @property
    def size(self) -> int:
        return len(self.data)


def iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.casefold()).strip("-")[:40]


def json_value(value: Any, kind: Kind) -> Any:
    if value is None:
        return None
    if kind == "id":
        return str(value)
    if kind == "time":
        return iso(int(value))
    if kind == "bool":
        return bool(value)
    return value


def csv_value(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == "time":
        return iso(int(value)) or ""
    if kind == "bool":
        return "true" if value else "false"
    text = str(value)  # an id, an int or a date as it is
    if kind == "text" and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def file_name(tables: dict[str, Sequence[Sequence[Any]]], at: datetime, fmt: Format) -> str:
    team_id, team_name = tables["teams"][0][0], str(tables["teams"][0][2])
    base = f"breakroom-{slug(team_name) or 'team'}-{team_id}-{at:%Y-%m-%d}"
    return f"{base}.json" if fmt == "json" else f"{base}.zip"


def write_readme(
    zf: zipfile.ZipFile, team_name: str, exported_at: datetime, stamp: tuple[int, ...]
) -> None:
    """The zip's README.txt: what the export is and what each of its files holds."""
    readme = readme_text(
        team_name,
        SCHEMA_VERSION,
        exported_at,
        [(f"{s.name}.csv", s.description) for s in SHEETS],
        [(f"tables/{t.name}.csv", t.description) for t in TABLES],
    )
    info = zipfile.ZipInfo("README.txt", date_time=stamp)  # type: ignore[arg-type]
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, readme)
