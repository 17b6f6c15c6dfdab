"""What a team said differently when a prompt came round again: the words and phrases its answers
used more, or less, than the time before (`word_shift`).

Each phrase (a word, or two words side by side) is counted once per answer that uses it, so one
chatty member can't tip the balance; the two askings are compared by the share of their answers
using it. Stop words of the answers' language (bot/stopwords.py) are left out, and so is anything
that could name a member: Discord mentions, links, and the words of the names the caller gives.

Feature logic only: plain Python, nothing from discord, no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from bot.stopwords import ELISIONS, STOP_WORDS


@dataclass(frozen=True, slots=True)
class WordChange:
    """A word or phrase, and how many answers used it each time."""

    phrase: str
    before: int
    after: int


@dataclass(frozen=True, slots=True)
class WordShift:
    """The phrases used more this time (most gained first) and less (most lost first)."""

    more: tuple[WordChange, ...] = ()
    less: tuple[WordChange, ...] = ()
    #: the language whose stop words were left out (e.g. "en")
    language: str = "en"
    #: how many answers each asking had (the shares are `before / answers_before`, ...)
    answers_before: int = 0
    answers_after: int = 0

    @property
    def empty(self) -> bool:
        return not (self.more or self.less)


#: the languages word_shift knows the stop words of; the first is the default
LANGUAGES = tuple(STOP_WORDS)
#: plurals folded into their singular (when the singular is used too): English only
_PLURALS = {"en"}

# Removed before anything is read, and a break between words: user, role and channel mentions,
# custom emoji, timestamps, command mentions, @everyone/@here; links.
_HIDDEN = re.compile(
    r"<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:-?\d+(?::\w)?|/[^<>]+:\d+)>"
    r"|@(?:everyone|here)\b|(?:https?://|www\.)\S+",
    re.IGNORECASE,
)
# A word (letters and digits, with inner apostrophes or hyphens), or one mark that breaks a phrase.
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*|[^\w\s]")


def _tokens(text: str) -> Iterator[tuple[str, str] | None]:
    """(key, as written in lower case) per word of `text`; None where a phrase breaks."""
    text = _HIDDEN.sub(" . ", unicodedata.normalize("NFKC", text))
    for match in _TOKEN.finditer(text):
        raw = match.group().replace("’", "'")
        if raw[0].isalnum():
            yield raw.casefold(), raw.lower()
        else:
            yield None


def _word(key: str, shown: str, stop: frozenset[str]) -> tuple[str, str] | None:
    """The word a token stands for ("l'équipe" -> "équipe", "team's" -> "team"), or None for a
    stop word, a single letter or a number."""
    if key in stop:
        return None
    head, _, tail = key.partition("'")
    if tail == "s":  # possessive
        key, shown = head, shown[: len(head)]
    elif tail and head in ELISIONS:
        key, shown = tail, shown[len(head) + 1 :]
    if key in stop or len(key) < 2 or not any(c.isalpha() for c in key):
        return None
    return key, shown


def language_of(texts: Iterable[str], language: str | None = None) -> str:
    """The language code of `language` (a Discord locale such as "fr" or "en-GB") when its stop
    words are known, else the one whose stop words the texts use most (ties: LANGUAGES order)."""
    if language:
        code = language.split("-")[0].split("_")[0].casefold()
        if code in STOP_WORDS:
            return code
    hits = Counter(
        code
        for text in texts
        for token in _tokens(text)
        if token is not None
        for code in LANGUAGES
        if token[0] in STOP_WORDS[code]
    )
    return max(LANGUAGES, key=lambda code: (hits[code], -LANGUAGES.index(code)))


def _excluded(names: Iterable[str]) -> set[str]:
    """Every word of the names, whole and in parts ("Jean-Luc" -> jean-luc, jean, luc)."""
    words: set[str] = set()
    for name in names:
        for token in _tokens(name):
            if token is not None:
                words.add(token[0])
                words.update(re.split(r"['\-]", token[0]))
    return words


def _answer_words(
    texts: Sequence[str], stop: frozenset[str], excluded: set[str]
) -> list[list[list[tuple[str, str]]]]:
    """Per answer, its runs of kept words (a stop word, a name or a mark ends a run)."""
    answers = []
    for text in texts:
        runs: list[list[tuple[str, str]]] = [[]]
        for token in _tokens(text):
            word = None if token is None else _word(*token, stop)
            if word is None or word[0] in excluded or (token and token[0] in excluded):
                if runs[-1]:
                    runs.append([])
            else:
                runs[-1].append(word)
        answers.append([run for run in runs if run])
    return answers


def _singular(vocabulary: set[str]) -> dict[str, str]:
    """English plurals whose singular is used too: meetings -> meeting, replies -> reply."""
    folded = {}
    for key in vocabulary:
        if len(key) < 4 or not key.endswith("s") or key.endswith(("ss", "us", "is")):
            continue
        for cut, add in (("ies", "y"), ("es", ""), ("s", "")):
            if key.endswith(cut) and (base := key[: -len(cut)] + add) in vocabulary:
                folded[key] = base
                break
    return folded


def _count(
    answers: list[list[list[tuple[str, str]]]], fold: dict[str, str], shown: dict[str, Counter[str]]
) -> Counter[str]:
    """Per phrase (word, or two words side by side: "a b"), how many answers use it; the ways each
    was written are tallied in `shown`."""
    counts: Counter[str] = Counter()
    for runs in answers:
        used: set[str] = set()
        for run in runs:
            keys = [fold.get(key, key) for key, _ in run]
            for index, key in enumerate(keys):
                used.add(key)
                shown.setdefault(key, Counter())[run[index][1]] += 1
                if index and keys[index - 1] != key:
                    pair = f"{keys[index - 1]} {key}"
                    used.add(pair)
                    shown.setdefault(pair, Counter())[f"{run[index - 1][1]} {run[index][1]}"] += 1
        counts.update(used)
    return counts


def word_shift(
    before: Sequence[str],
    after: Sequence[str],
    *,
    language: str | None = None,
    exclude: Iterable[str] = (),
    limit: int = 5,
) -> WordShift:
    """The words and two-word phrases the `after` answers used more, and less, than the `before`
    answers, by share of answers; at most `limit` each way, the biggest change first (ties in
    alphabetical order). A phrase used by one answer at most each time is left out; a two-word
    phrase is shown instead of its word when it accounts for at least half the word's change.
    `exclude`: names (of the members who answered) whose words never show."""
    before = [t for t in before if t.strip()]
    after = [t for t in after if t.strip()]
    code = language_of([*before, *after], language)
    if not before or not after or limit <= 0:
        return WordShift(language=code, answers_before=len(before), answers_after=len(after))
    stop, excluded = STOP_WORDS[code], _excluded(exclude)
    words_before = _answer_words(before, stop, excluded)
    words_after = _answer_words(after, stop, excluded)
    fold: dict[str, str] = {}
    if code in _PLURALS:
        vocabulary = {k for a in (*words_before, *words_after) for run in a for k, _ in run}
        fold = _singular(vocabulary)
    shown: dict[str, Counter[str]] = {}
    counts = _count(words_before, fold, shown), _count(words_after, fold, shown)
    totals = len(before), len(after)
    # the change in share, times both totals: a whole number, the same scale for every phrase
    change = {
        key: counts[1][key] * totals[0] - counts[0][key] * totals[1]
        for key in counts[0].keys() | counts[1].keys()
        if max(counts[0][key], counts[1][key]) >= 2
    }
    # each phrase as it was most often written (lower case; ties: alphabetical)
    label = {k: min(forms.items(), key=lambda f: (-f[1], f[0]))[0] for k, forms in shown.items()}

    def picked(sign: int) -> tuple[WordChange, ...]:
        keys = _pick({k: d * sign for k, d in change.items() if d * sign > 0}, label, limit)
        return tuple(WordChange(label[k], counts[0][k], counts[1][k]) for k in keys)

    return WordShift(picked(1), picked(-1), code, *totals)


def _pick(gains: dict[str, int], label: dict[str, str], limit: int) -> list[str]:
    """The `limit` biggest of `gains` (phrase -> its change, all positive), a two-word phrase in
    place of a word it accounts for at least half the change of, in order of change then name."""

    def rank(key: str) -> tuple[int, str, str]:
        return -gains[key], label[key], key

    carried: dict[str, str] = {}  # word -> the biggest pair carrying its change
    explains: set[str] = set()  # pairs carrying at least one word's change
    for pair in sorted((k for k in gains if " " in k), key=rank):
        for word in pair.split(" "):
            if word in gains and gains[word] <= 2 * gains[pair]:
                carried.setdefault(word, pair)
                explains.add(pair)
    chosen: list[str] = []
    for key in sorted(gains, key=rank):
        if len(chosen) == limit:
            break
        if " " in key and key not in explains and any(w in gains for w in key.split(" ")):
            continue  # its words moved for other reasons: they tell it better
        key = carried.get(key, key)
        if key not in chosen:
            chosen.append(key)
    return sorted(chosen, key=rank)
