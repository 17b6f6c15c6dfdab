"""Writes PNG snapshots of every chart kind from fixed data into docs/charts/, to look at.

    .venv/bin/python -m tests.chart_snapshots [directory]

The same data (and matplotlib) give the same bytes, so a changed snapshot is a changed chart.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.charts import answers_chart, poll_runs_chart
from bot.poll_model import PollRun, RunOption

START = datetime(2025, 11, 3, 9, 30, tzinfo=UTC)
TWENTY = [
    "Clearer hand-offs between the early and the late shift, written down in the shared notebook",
    "A second person on the phones on Monday mornings, when the w"
    "eekend's tickets all arrive at once",
    "Fewer meetings on Thursdays so that the backlog of escalatio"
    "ns can be cleared before the weekend",
    "Templates for the ten most common replies, kept up to date by whoever last used them",
    "A quiet room",
    "Training on the new billing system before it goes live, not in the week after it goes live",
    "Knowing a week ahead who covers the lunch break at the front desk, and who covers the phones",
    "More plants",
    "A shared calendar of holidays so that nobody has to ask arou"
    "nd in the chat to find out who is off",
    "A way to flag a ticket as waiting for another team, so it st"
    "ops counting against our response times",
    "Better chairs for the long shifts",
    "A short written summary after each team meeting, posted in t"
    "he channel for those who missed it",
    "Rotating the on-call weekend fairly, with a swap list that e"
    "verybody can see and edit themselves",
    "Headsets that work",
    "A monthly check-in with the lead about workload, separate from the yearly review conversation",
    "Letting the late shift start thirty minutes later on Fridays"
    ", when the evening calls are fewer",
    "Coffee that is not from the machine on the third floor, whic"
    "h has been broken since the spring",
    "An agreed time to answer internal chat messages so that focus time is respected by everyone",
    "A glossary of the acronyms used by the finance team, who send us most of the tricky tickets",
    "Nothing: the quarter is fine as it is, and I would rather we kept things stable for a while",
]


def run(index: int, votes: dict[str, int], *, voters: int | None = None, weeks: int = 4) -> PollRun:
    """Run `index` (0 = the first) of a poll asked every `weeks` weeks, closed a day later."""
    total = voters if voters is not None else sum(votes.values())
    created = START + timedelta(weeks=weeks * index)
    return PollRun(
        poll_id=index + 1,
        created_at=created,
        closed_at=created + timedelta(days=1),
        voters=total,
        hide_results=False,
        options=tuple(
            RunOption(label, count, count / total if total else 0.0)
            for label, count in votes.items()
        ),
    )


def weeks(counts: list[int], first: date = date(2025, 11, 3)) -> list[tuple[date, int]]:
    return [(first + timedelta(weeks=n), count) for n, count in enumerate(counts)]


YEAR = [0, 3, 5, 4, 6, 2, 0, 7, 8, 5, 6, 9, 4, 3, 6, 7, 5, 8, 10, 6, 4, 5, 7, 0, 0, 3]
YEAR += [6, 8, 9, 7, 5, 6, 4, 8, 11, 9, 7, 6, 5, 8, 12, 9, 7, 6, 0, 4, 6, 8, 7, 9, 10, 6]
SIX = ["Coffee", "Tea", "Hot chocolate", "Water", "Juice", "Nothing, thanks"]
FOUR_RUNS = [
    {"Coffee": 6, "Tea": 3, "Hot chocolate": 1, "Water": 2, "Juice": 0, "Nothing, thanks": 0},
    {"Coffee": 5, "Tea": 4, "Hot chocolate": 2, "Water": 2, "Juice": 1, "Nothing, thanks": 0},
    {"Coffee": 4, "Tea": 4, "Hot chocolate": 3, "Water": 1, "Juice": 0, "Nothing, thanks": 1},
    {"Coffee": 7, "Tea": 2, "Hot chocolate": 0, "Water": 3, "Juice": 1, "Nothing, thanks": 1},
]

#: snapshot name -> (team name, weeks)
ANSWERS: dict[str, tuple[str, list[tuple[date, int]]]] = {
    "answers-one-week.png": ("Front desk", weeks([4])),
    "answers-few-weeks.png": ("Front desk", weeks([3, 5, 0, 4, 7])),
    "answers-year.png": ("Service desk, Lyon", weeks(YEAR)),
    "answers-none-yet.png": ("Night shift", weeks([0, 0, 0])),
}
#: snapshot name -> (runs, question)
RUNS: dict[str, tuple[list[PollRun], str]] = {
    "runs-two-with-a-tie.png": (
        [run(0, {"Job": 2, "Career": 4, "Both": 0}), run(1, {"Job": 3, "Career": 3, "Both": 0})],
        "Is this a job or a career for you?",
    ),
    "runs-four-by-six.png": (
        [run(i, votes) for i, votes in enumerate(FOUR_RUNS)],
        "What keeps you going at 3 pm?",
    ),
    "runs-twenty-long-options.png": (
        [
            run(0, {label: (n * 7) % 5 for n, label in enumerate(TWENTY)}, voters=12),
            run(1, {label: (n * 3) % 4 for n, label in enumerate(TWENTY)}, voters=10, weeks=26),
        ],
        "Which one change would make the next quarter easier for the whole team? Pick all "
        "that apply; the ones most of you pick go to the planning meeting.",
    ),
}


def main(directory: Path) -> dict[str, int]:
    """Writes every snapshot into `directory`; returns each file's size in bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, int] = {}
    rendered = [(name, answers_chart(*args)) for name, args in ANSWERS.items()]
    rendered += [(name, poll_runs_chart(*args)) for name, args in RUNS.items()]
    for name, data in rendered:
        (directory / name).write_bytes(data)
        sizes[name] = len(data)
    return sizes


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[1] / "docs/charts"
    for name, size in main(target).items():
        print(f"{target / name}: {size / 1024:.0f} KiB")
