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
from collections.abc import Iterable, Sequence
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
    r"|@(?:everyone|here)\b|(?:https?://|www\.)\S+"  # read in lower case
)
# A word (letters and digits, with inner apostrophes or hyphens), or one mark that breaks a phrase.
_TOKEN = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*|[^\w\s]")


def _tokens(text: str) -> list[str]:
    """The words of `text` in lower case, and the marks between them (where a phrase breaks)."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    if "<" in text or "@" in text or "://" in text or "www." in text:
        text = _HIDDEN.sub(" . ", text)
    return _TOKEN.findall(text)


def _word(token: str, stop: frozenset[str], excluded: set[str]) -> tuple[str, str] | None:
    """The word a token stands for, casefolded and as written ("l'équipe" -> "équipe", "team's"
    -> "team"); None for a mark, a stop word, a name, a single letter or a number."""
    key, form = token.casefold(), token
    if not key[0].isalnum() or key in stop or key in excluded:
        return None
    head, _, tail = key.partition("'")
    if tail == "s":  # possessive
        key, form = head, form.partition("'")[0]
    elif tail and head in ELISIONS:
        key, form = tail, form.partition("'")[2]
    if key in stop or key in excluded or len(key) < 2 or not any(c.isalpha() for c in key):
        return None
    return key, form


def language_of(texts: Iterable[str], language: str | None = None) -> str:
    """The language code of `language` (a Discord locale such as "fr" or "en-GB") when its stop
    words are known, else the one whose stop words the texts use most (ties: LANGUAGES order)."""
    return _locale(language) or _detected(Counter(t for text in texts for t in _tokens(text)))


def _locale(language: str | None) -> str | None:
    code = (language or "").split("-")[0].split("_")[0].casefold()
    return code if code in STOP_WORDS else None


def _detected(tokens: Counter[str], hint: str | None = None) -> str:
    """The answers' language: the hint (the team's language) unless the answers plainly use
    another one (twice its stop words: a team left on English that writes French)."""
    hits = dict.fromkeys(LANGUAGES, 0)
    for token, times in tokens.items():
        key = token.casefold()
        for code in LANGUAGES:
            if key in STOP_WORDS[code]:
                hits[code] += times
    best = max(LANGUAGES, key=lambda code: (hits[code], -LANGUAGES.index(code)))
    if hint is not None and hits[best] <= 2 * hits[hint]:
        return hint
    return best


def _excluded(names: Iterable[str]) -> set[str]:
    """Every word of the names, whole and in parts ("Jean-Luc" -> jean-luc, jean, luc)."""
    words: set[str] = set()
    for name in names:
        for token in _tokens(name):
            words.add(token.casefold())
            words.update(re.split(r"['\-]", token.casefold()))
    return words


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


#: a word, or two words side by side
Phrase = str | tuple[str, str]


def _count(answers: list[list[str]], words: dict[str, str]) -> Counter[Phrase]:
    """Per phrase, how many answers use it (`words`: token -> its word; any other token, a mark,
    a stop word or a name, ends a run of words)."""
    counts: Counter[Phrase] = Counter()
    for tokens in answers:
        used: set[Phrase] = set()
        last = None
        for token in tokens:
            word = words.get(token)
            if word is not None:
                used.add(word)
                if last is not None and last != word:
                    used.add((last, word))
            last = word
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
    tokens = [_tokens(text) for text in before], [_tokens(text) for text in after]
    seen = Counter(token for side in tokens for answer in side for token in answer)
    code = _detected(seen, _locale(language))
    if not before or not after or limit <= 0:
        return WordShift(language=code, answers_before=len(before), answers_after=len(after))
    stop, excluded = STOP_WORDS[code], _excluded(exclude)
    found = {t: w for t in seen if (w := _word(t, stop, excluded)) is not None}
    fold = _singular({key for key, _ in found.values()}) if code in _PLURALS else {}
    words = {t: fold.get(key, key) for t, (key, _) in found.items()}
    counts = _count(tokens[0], words), _count(tokens[1], words)
    totals = len(before), len(after)
    # the change in share, times both totals: a whole number, the same scale for every phrase
    change = {
        key: counts[1][key] * totals[0] - counts[0][key] * totals[1]
        for key in counts[0].keys() | counts[1].keys()
        if max(counts[0][key], counts[1][key]) >= 2
    }
    # a word as it was most often written (lower case; ties: alphabetical), a pair as its words
    forms: dict[str, Counter[str]] = {}
    for token, word in words.items():
        forms.setdefault(word, Counter())[found[token][1]] += seen[token]
    written = {w: min(c.items(), key=lambda f: (-f[1], f[0]))[0] for w, c in forms.items()}
    label = {k: " ".join(written[w] for w in _parts(k)) for k in change}

    def picked(sign: int) -> tuple[WordChange, ...]:
        keys = _pick({k: d * sign for k, d in change.items() if d * sign > 0}, label, limit)
        return tuple(WordChange(label[k], counts[0][k], counts[1][k]) for k in keys)

    return WordShift(picked(1), picked(-1), code, *totals)


def _parts(phrase: Phrase) -> tuple[str, ...]:
    return (phrase,) if isinstance(phrase, str) else phrase


def _pick(gains: dict[Phrase, int], label: dict[Phrase, str], limit: int) -> list[Phrase]:
    """The `limit` biggest of `gains` (phrase -> its change, all positive), a two-word phrase in
    place of a word it accounts for at least half the change of, in order of change then name."""

    def rank(key: Phrase) -> tuple[int, str, str]:
        return -gains[key], label[key], repr(key)

    carried: dict[Phrase, Phrase] = {}  # word -> the biggest pair carrying its change
    explains: set[Phrase] = set()  # pairs carrying at least one word's change
    for pair in sorted((k for k in gains if isinstance(k, tuple)), key=rank):
        for word in pair:
            if word in gains and gains[word] <= 2 * gains[pair]:
                carried.setdefault(word, pair)
                explains.add(pair)
    chosen: list[Phrase] = []
    for key in sorted(gains, key=rank):
        if len(chosen) == limit:
            break
        if isinstance(key, tuple) and key not in explains and any(w in gains for w in key):
            continue  # its words moved for other reasons: they tell it better
        key = carried.get(key, key)
        if key not in chosen:
            chosen.append(key)
    return sorted(chosen, key=rank)
