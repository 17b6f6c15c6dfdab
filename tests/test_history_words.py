"""bot/history_words.py: a repeat's words are remembered, and computed afresh as soon as any
answer, name or the language differs (an edit or a /forget-me must show at once)."""

from __future__ import annotations

from bot import history_words
from bot.wording import word_shift

BEFORE = ["the filing backlog again", "filing all day", "phones and filing", "lunch was late"]
AFTER = ["court runs all week", "court and more court", "the docket, court", "filing less now"]


def test_the_words_are_word_shifts_and_are_remembered() -> None:
    history_words.forget()
    first = history_words.shift(BEFORE, AFTER, exclude=["maria"], language="en")
    assert first == word_shift(BEFORE, AFTER, exclude=["maria"], language="en")
    assert "court" in [c.phrase for c in first.more]
    # the same answers again: the same result, not computed again
    assert history_words.shift(list(BEFORE), list(AFTER), exclude=["maria"], language="en") is first


def test_an_edited_answer_a_name_or_the_language_gives_new_words() -> None:
    history_words.forget()
    first = history_words.shift(BEFORE, AFTER, language="en")
    edited = [*AFTER[:3], "court again"]
    assert history_words.shift(BEFORE, edited, language="en") == word_shift(
        BEFORE, edited, language="en"
    )
    assert history_words.shift(BEFORE, edited, language="en") != first
    named = history_words.shift(BEFORE, AFTER, exclude=["court"], language="en")
    assert "court" not in [c.phrase for c in named.more]
    assert history_words.shift(BEFORE, AFTER, language="de") is not first
    # an answer moved from one side to the other is another input too
    assert history_words.shift(BEFORE[:3], [BEFORE[3], *AFTER], language="en") is not first


def test_it_keeps_a_bounded_number() -> None:
    history_words.forget()
    saved = history_words.CAPACITY
    history_words.CAPACITY = 3
    try:
        kept = [history_words.shift(BEFORE, [*AFTER, f"court {n}"]) for n in range(5)]
        assert len(history_words._known) == 3
        assert history_words.shift(BEFORE, [*AFTER, "court 4"]) is kept[4]
        assert history_words.shift(BEFORE, [*AFTER, "court 0"]) is not kept[0]
    finally:
        history_words.CAPACITY = saved
