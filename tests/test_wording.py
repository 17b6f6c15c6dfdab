"""bot/wording.py: what a team said more, or less, the second time a prompt was asked."""

from __future__ import annotations

import random

import pytest

from bot.stopwords import STOP_WORDS
from bot.wording import LANGUAGES, WordShift, language_of, word_shift


def changes(shift: WordShift) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    return (
        [(c.phrase, c.before, c.after) for c in shift.more],
        [(c.phrase, c.before, c.after) for c in shift.less],
    )


def phrases(shift: WordShift) -> set[str]:
    return {c.phrase for c in (*shift.more, *shift.less)}


# "Is this a job or a career?", asked twice (after the essay in shared/essay-job-vs-career.txt).
JOB_BEFORE = [
    "A job pays the bills. I don't think of this as my career path, just a job.",
    "My job is something I do on the way to my career. The job pays the bills for now.",
    "A job is like driving a car: you don't live in it, you just use it to get where you're going.",
    "Job security matters most to me, and a stable job with good hours.",
    "Honestly a job pays the bills and I go home at five. <@123> agrees!",
    "I love the team here, Priya and I laugh a lot. It's a job though.",
]
JOB_AFTER = [
    "A career is somewhere you desire to be; my career path is getting clearer since the training.",
    "I see a career path now: the training on records management opened doors.",
    "Career path, for sure. Mentoring from the lawyers makes this more than a job.",
    "Still a job that pays the bills, but the training helps. https://example.com/course",
    "My mindset changed: career growth and a career path in the office, not just a job.",
    "Priya's mentoring! Career growth is real here. Mentoring every week.",
    "Career growth, and I want to stay. The training was great.",
]


def test_english_answers_compared_without_their_stop_words() -> None:
    shift = word_shift(JOB_BEFORE, JOB_AFTER, exclude=["Priya", "Sam"])
    assert shift.language == "en"
    assert (shift.answers_before, shift.answers_after) == (6, 7)
    assert changes(shift) == (
        [
            ("training", 0, 4),
            ("career growth", 0, 3),  # shown instead of "career": it carries its change
            ("career path", 1, 4),
            ("mentoring", 0, 2),
        ],
        [("job pays", 3, 0), ("bills", 3, 1)],
    )
    for stop in ("the", "a", "is", "my", "don't", "just", "it's"):
        assert stop not in {w for p in phrases(shift) for w in p.split()}


def test_a_two_word_phrase_replaces_its_word_only_when_it_carries_the_change() -> None:
    before = ["Remote work is hard", "Office work all week", "Work from the office", "Work, work"]
    after = ["Remote work suits me", "Remote work, finally", "Remote work twice a week", "Work"]
    # "remote" only ever comes with "work": the phrase tells it
    assert changes(word_shift(before, after)) == ([("remote work", 1, 3)], [("office", 2, 0)])
    # "desk" grows on its own too: the word stays, the smaller phrase is left out
    before = ["The desk by the window", "A quiet corner", "Corner seat", "Anywhere"]
    after = [
        "Standing desk",
        "Standing desk please",
        "My desk",
        "Desk by the door",
        "A desk",
        "Desk",
    ]
    assert changes(word_shift(before, after)) == (
        [("desk", 1, 6), ("standing desk", 0, 2)],
        [("corner", 2, 0)],
    )


def test_an_answer_counts_once_however_often_it_repeats_a_word() -> None:
    before = [
        "Coffee coffee coffee coffee! Coffee is life, coffee again, coffee coffee",
        "The printer jammed again",
        "The printer is broken",
        "Printer and phones all morning",
    ]
    after = ["The printer works now", "Lunch with the team was fun", "Team lunch", "Lunch, sunny"]
    shift = word_shift(before, after)
    # eight times "coffee" is still one answer: left out, as used by one answer only
    assert changes(shift) == ([("lunch", 0, 3), ("team", 0, 2)], [("printer", 3, 1)])


def test_answers_are_compared_by_share_not_by_count() -> None:
    before = [
        "Phones all day",
        "Phones!",
        "Mail",
        "Post",
        "Filing",
        "Archive",
        "Copier",
        "Visitors",
    ]
    after = ["Phones ringing", "Phones again", "The phones!", "Mail"]
    # 2 of 8 answers, then 3 of 4; "mail": 1 of 8, then 1 of 4, used by one answer each time
    assert changes(word_shift(before, after)) == ([("phones", 2, 3)], [])
    # the same number of answers, from 2 of 3 to 2 of 6: used less
    shift = word_shift(["Phones", "Phones, phones", "Mail"], ["Phones"] * 2 + ["Mail"] * 4)
    assert changes(shift) == ([("mail", 1, 4)], [("phones", 2, 2)])


def test_a_phrase_used_by_one_answer_each_time_is_left_out() -> None:
    shift = word_shift(["Deadline Friday", "Busy week"], ["Deadline moved", "Quiet week"])
    assert shift.empty and phrases(shift) == set()
    # ... while one used by two answers once is in
    shift = word_shift(["Deadline Friday", "Deadline soon"], ["Quiet week", "Calm week"])
    assert changes(shift) == ([("week", 0, 2)], [("deadline", 2, 0)])


def test_no_member_is_named_mentions_links_and_names_left_out() -> None:
    before = [
        "Thanks <@123> for covering the phones",
        "<@&55> covered the phones again",
        "Ask in <#77> about phones, <@!123> knows",
        "Marta fixed the phones, thanks Marta!",
        "Marta's phones trick, <a:party:99> thanks",
    ]
    after = [
        "Marta and Jean-Luc ran the front desk",
        "Front desk with Jean-Luc, see https://wiki.example.com/desk-rota",
        "front desk @everyone www.example.org/rota",
        "Jean was great at the front desk",
        "Silva: front desk",
    ]
    shift = word_shift(before, after, exclude=["Marta Silva", "Jean-Luc"])
    assert changes(shift) == ([("front desk", 0, 5)], [("phones", 5, 0), ("thanks", 3, 0)])
    # without the names, they would show: the exclusion is what keeps them out
    named = phrases(word_shift(before, after))
    assert {"marta", "jean-luc"} <= named
    for text in ("123", "55", "77", "99", "party", "everyone", "wiki", "example", "rota"):
        assert not any(text in p for p in named)


def test_a_mention_or_a_name_breaks_a_phrase() -> None:
    before = ["Quiet", "Calm"]
    after = ["Great <@1> team", "Great <@2> team", "Great Ann team", "Great Ann team"]
    assert changes(word_shift(before, after, exclude=["Ann"])) == (
        [("great", 0, 4), ("team", 0, 4)],
        [],
    )


FR_BEFORE = [
    "Un travail, c'est pour payer les factures.",
    "Je fais mon travail et je rentre chez moi.",
    "Le travail paie les factures, rien de plus.",
    "Mon travail, c'est la stabilité et l'équipe.",
]
FR_AFTER = [
    "Je vois une vraie carrière maintenant, grâce à la formation.",
    "La formation m'a ouvert une carrière.",
    "Une carrière dans l'équipe, avec du mentorat. L'équipe m'aide.",
    "Toujours payer les factures, mais la formation aide.",
]


def test_french_answers_lose_their_own_stop_words_and_elisions() -> None:
    shift = word_shift(FR_BEFORE, FR_AFTER)
    assert shift.language == "fr"
    assert changes(shift) == (
        [("carrière", 0, 3), ("formation", 0, 3), ("aide", 0, 2)],  # "m'aide", "aide"
        [("travail", 4, 0), ("factures", 2, 1)],
    )
    # "l'équipe" is the word "équipe"; "qu'il", "c'est", "j'ai", "n'est" are stop words
    before = ["C'est calme, j'ai le temps.", "Qu'il pleuve ou non, c'est calme."]
    after = ["L'équipe n'est pas là.", "Une équipe soudée, qu'il dit.", "Équipe !"]
    assert changes(word_shift(before, after)) == ([("équipe", 0, 3)], [("calme", 2, 0)])


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("en", "Today I have no time, but the work is good and we are a team."),
        (
            "fr",
            "Aujourd'hui je n'ai pas le temps, mais le travail est bon et nous sommes une équipe.",
        ),
        ("de", "Ich habe heute keine Zeit, aber die Arbeit ist gut und wir sind ein Team."),
        ("es", "Hoy no tengo tiempo, pero el trabajo es bueno y somos un equipo."),
        ("nl", "Ik heb vandaag geen tijd, maar het werk is goed en we zijn een team."),
        ("it", "Oggi non ho tempo, ma il lavoro è buono e siamo una squadra."),
        ("pt", "Hoje não tenho tempo, mas o trabalho é bom e somos uma equipe."),
    ],
)
def test_the_language_is_the_one_whose_stop_words_the_answers_use(code: str, text: str) -> None:
    assert language_of([text]) == code
    assert word_shift([text, text], [text]).language == code


def test_the_teams_language_decides_unless_the_answers_plainly_use_another() -> None:
    assert set(LANGUAGES) == {"en", "fr", "de", "es", "nl", "it", "pt"}
    assert all(len(STOP_WORDS[code]) >= 80 for code in LANGUAGES)
    assert word_shift(FR_BEFORE, FR_AFTER, language="fr").language == "fr"
    assert word_shift(FR_BEFORE, FR_AFTER, language="ja").language == "fr"  # detected
    # a team left on English that writes French: the answers' language, its little words out
    french = word_shift(FR_BEFORE, FR_AFTER, language="en-GB")
    assert french.language == "fr" and "les factures" not in phrases(french)
    assert word_shift(JOB_BEFORE, JOB_AFTER, language="pt-BR").language == "en"
    # answers with too few little words to tell: the team's language
    few = ["Coffee machine coffee", "coffee machine"]
    assert word_shift(few, few, language="de").language == "de"
    # nothing to go by: English
    assert language_of(["1 2 3"]) == "en" and language_of([]) == "en"


def test_at_most_limit_phrases_each_way() -> None:
    before = [f"Alpha, beta, gamma, delta, epsilon, zeta ({n})" for n in range(3)]
    after = [f"Eta; theta; iota; kappa; lambda; mu; nu ({n})" for n in range(3)]
    shift = word_shift(before, after)
    # every one changed as much: in alphabetical order
    assert [c.phrase for c in shift.more] == ["eta", "iota", "kappa", "lambda", "mu"]
    assert [c.phrase for c in shift.less] == ["alpha", "beta", "delta", "epsilon", "gamma"]
    assert changes(word_shift(before, after, limit=1)) == (
        [("eta", 0, 3)],
        [("alpha", 3, 0)],
    )
    assert word_shift(before, after, limit=0).empty


def test_the_same_answers_in_any_order_give_the_same_shift() -> None:
    expected = word_shift(JOB_BEFORE, JOB_AFTER, exclude=["Priya"])
    rng = random.Random(13)
    for _ in range(20):
        before, after = JOB_BEFORE[:], JOB_AFTER[:]
        rng.shuffle(before)
        rng.shuffle(after)
        assert word_shift(before, after, exclude=["Priya"]) == expected


def test_plurals_fold_into_the_singular_when_it_is_used_too() -> None:
    before = ["Too many meetings", "Meetings all day", "One meeting a week"]
    after = ["Quiet", "Calm", "Nice"]
    assert changes(word_shift(before, after)) == ([], [("meetings", 3, 0)])
    before = ["Replies to emails", "A reply to every email", "Email replies"]
    assert changes(word_shift(before, after)) == ([], [("email", 3, 0), ("replies", 3, 0)])


def test_nothing_to_compare_gives_an_empty_shift() -> None:
    assert word_shift([], []) == WordShift()
    assert word_shift([], JOB_AFTER).empty
    assert word_shift(JOB_BEFORE, ["", "  \n "]).empty
    shift = word_shift(["the", "and", "<@1>"], ["a", "of", "https://x.example"])
    assert shift.empty and (shift.answers_before, shift.answers_after) == (3, 3)
