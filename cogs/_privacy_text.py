"""What `/privacy` says: a ten-second summary, the topics a member can open, and the full text
(every topic in order). Plain text only; cogs/_privacy_pages.py lays it out and pages it.

Every promise Breakroom makes about members' data is in exactly one topic, so the full text
holds all of them and the summary points at them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_, _

# Each paragraph is a message of its own, translated where it is shown (`Topic.text`,
# `summary_text`). A paragraph that names another topic has a field for its heading
# (`{polls}`, `{reflections}`: the topics' keys), so the reference reads as the heading does in
# every language.

TITLE = N_("Breakroom and your privacy")

SUMMARY = (
    N_(
        "• **Stored:** your prompt answers and your votes in named polls, with your Discord id, "
        "in a database on the host's machine."
    ),
    N_(
        "• **Reflections** never carry who wrote them: nobody, managers included, can trace one "
        "to you. Anonymous polls keep no id either."
    ),
    N_(
        "• **Kept** until a manager deletes the team; deleted 30 days after Breakroom leaves the "
        "server."
    ),
    N_("• **`/forget-me`** deletes what you wrote in this server."),
)


# What the database's files keep depends on the database: SQLite's are scrubbed after every
# sensitive write; PostgreSQL's server keeps a log of changes (README, Privacy). `/privacy` says
# what holds for the database this Breakroom runs on (`describe_database`).
FILES_NO_HISTORY = N_(
    "**The files keep no history**: after every write about a reflection or an anonymous "
    "vote the database's journal is emptied, deleted text is overwritten, and waiting "
    "reflections are stored in random order, so a copy of the data folder shows no "
    "author, no order of writing or voting, and nothing deleted."
)
FILES_SERVER_LOG = N_(
    "**The database server keeps a log of changes**: this Breakroom runs on PostgreSQL, whose "
    "log and backups keep for a while the order in which things were written, and deleted rows "
    "until they are cleaned up. They never show who wrote a reflection or what an anonymous "
    "vote chose: those stay sealed under a key the database never holds. Whoever runs the "
    "database server is trusted as the host is."
)
_database = {"backend": "sqlite"}


def describe_database(backend: str) -> None:
    """Which database this process's Breakroom runs on ("sqlite" or "postgresql")."""
    _database["backend"] = backend


def _as_stored(line: str) -> str:
    if line is FILES_NO_HISTORY and _database["backend"] != "sqlite":
        return FILES_SERVER_LOG
    return line


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    #: the select menu's label (≤100 characters) and the topic's heading
    label: str
    #: the menu's one-line description of the topic (≤100 characters)
    hint: str
    #: its paragraphs
    body: tuple[str, ...]

    @property
    def text(self) -> str:
        """The topic in the current language: its heading, then its paragraphs."""
        names = headings()
        lines = (_(_as_stored(line), **names) for line in self.body)
        return "\n".join([f"**{_(self.label)}**", *lines])


STORED = Topic(
    "stored",
    N_("What is stored"),
    N_("Teams, answers, votes, reflections; the files keep no history"),
    (
        N_("Breakroom keeps its data in a database on the host's machine."),
        N_("• Teams: name, channel, roles, timezone, weekly schedule, reflection settings."),
        N_(
            "• Prompts you answer: the text, with your Discord id, name and avatar link (your "
            "picture beside it in the thread), so you can edit it and the team can look back. "
            "`/forget-me` deletes them."
        ),
        N_(
            "• Votes in ordinary (named) polls: your id and your choice. Anonymous polls: no id "
            "(see *{polls}*)."
        ),
        N_("• Reflections: the text, never who wrote it (see *{reflections}*)."),
        FILES_NO_HISTORY,
    ),
)

REFLECTIONS = Topic(
    "reflections",
    N_("Anonymous reflections"),
    N_("Never who wrote it; when and how they are shared"),
    (
        N_(
            "• Breakroom stores the text, never who wrote it. Until it is shared, who wrote it is "
            "kept only sealed (encrypted), to count different authors; that goes when the batch "
            "is shared."
        ),
        N_(
            "• A keyed hash with a random value lets *you* delete yours with your receipt code "
            "(`/reflections delete`). The code is shown only to you, once."
        ),
        N_("• The 5-a-day limit is counted in the bot's memory only."),
        N_(
            "**When they are shared**: once a day at the team's sharing time (17:00 unless "
            "changed), when at least the threshold (3 or more) of different people have written, "
            "all together in random order; never right after someone writes. A reflection waits "
            "for the threshold that was set when it was written. Nobody, managers included, is "
            "told how many are waiting."
        ),
    ),
)

POLLS = Topic(
    "polls",
    N_("Polls and votes"),
    N_("Named polls keep your id; anonymous ones don't"),
    (
        N_(
            "• Votes in ordinary (named) polls: your id and your choice. `/forget-me` deletes them."
        ),
        N_(
            "• Votes in **anonymous** polls: no id. One vote per person is kept by a keyed hash "
            "(HMAC with a secret key kept outside the data folder) of the server, your id and "
            "that poll, with your choice sealed (encrypted) under the key."
        ),
        N_(
            "• While an anonymous poll is open its counts move only in steps of several voters, "
            "so no change gives one vote away; at close the hashes and sealed choices are deleted "
            "and only the counts stay."
        ),
    ),
)

LEADS = Topic(
    "leads",
    N_("Leads and managers"),
    N_("What they can see and do: never who wrote or who reported"),
    (
        N_(
            "• Managers, and the leads a manager gives a team, can hide a posted reflection (its "
            "text is deleted, an empty record stays) and read why it was reported, but never who "
            "wrote it or who reported it."
        ),
        N_("• Nobody, managers included, is told how many reflections are waiting."),
        N_(
            "• `/export` gives them the team's data as a file: answers and votes in named polls "
            "with members' ids; reflections with no author; anonymous polls as counts only. "
            "`/forget-me` can't reach copies a manager already exported."
        ),
    ),
)

HOST = Topic(
    "host",
    N_("The honest limit"),
    N_("What whoever runs the bot could do"),
    (
        N_(
            "Whoever runs the bot holds the key. With the key *and* the member list they could "
            "test, one member at a time, who matches a stored hash, or change the program."
        ),
    ),
)

DELETING = Topic(
    "deleting",
    N_("Deleting your data"),
    N_("How long things are kept; what /forget-me deletes"),
    (
        N_(
            "**How long**: a team's data stays until a manager deletes the team. If Breakroom is "
            "removed from the server, the server's data is deleted after 30 days unless it is "
            "added back."
        ),
        N_(
            "**`/forget-me`** deletes, after you confirm, in that server only: your answers and "
            "their posts, your votes in named polls, and your reflections (those written under "
            "the current key): waiting ones at once, shared ones each at its own random time "
            "within 24 hours, so nobody sees them vanish together. It can't find your votes in "
            "anonymous polls, reflections written under an older key, your own Discord messages, "
            "or copies a manager already exported."
        ),
        N_("One reflection: `/reflections delete` with its receipt code."),
    ),
)

TOPICS: tuple[Topic, ...] = (STORED, REFLECTIONS, POLLS, LEADS, HOST, DELETING)
BY_KEY = {topic.key: topic for topic in TOPICS}

#: characters of topics on one page of the full text (a layout's text is at most 4000)
PAGE_BUDGET = 3800


def full_pages(budget: int = PAGE_BUDGET) -> list[str]:
    """The full text: every topic in order, cut into pages between topics."""
    pages: list[str] = []
    for topic in TOPICS:
        if pages and len(pages[-1]) + 2 + len(topic.text) <= budget:
            pages[-1] += "\n\n" + topic.text
        else:
            pages.append(topic.text)
    return pages


def headings() -> dict[str, str]:
    """Every topic's heading in the current language, by key (for the references between
    them)."""
    return {topic.key: _(topic.label) for topic in TOPICS}


def title_text() -> str:
    return f"**{_(TITLE)}**"


def summary_text() -> str:
    return "\n".join(_(line) for line in SUMMARY)


def full_text() -> str:
    return "\n\n".join(topic.text for topic in TOPICS)
