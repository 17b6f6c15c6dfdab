"""The words a repeated prompt's answers used more or less than last time, remembered.

`bot.wording.word_shift` reads every answer of both posts: tens of milliseconds for a post of a
few hundred answers, seconds for a year of weekly repeats. `/history` and `/export` ask it again
and again about the same old posts, whose answers rarely change. So the results are kept here,
in memory, under a digest of exactly what they were computed from (the answers' texts, the
names left out, the language): an answer edited or deleted gives another digest, and the words
are computed afresh. Nothing of the answers themselves is kept, only the digest and the result.

Plain Python, safe to call from several threads (the export renders in one).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence

from bot.wording import WordShift, word_shift

#: results kept (each a few phrases): about a year of weekly repeats for a few hundred teams
CAPACITY = 20_000

_lock = threading.Lock()
_known: OrderedDict[bytes, WordShift] = OrderedDict()


def _digest(
    before: Sequence[str], after: Sequence[str], exclude: Sequence[str], language: str | None
) -> bytes:
    h = hashlib.blake2b(digest_size=20)
    h.update((language or "").encode())
    for part, texts in ((b"\x01", before), (b"\x02", after), (b"\x03", exclude)):
        h.update(part + len(texts).to_bytes(4, "little"))
        for text in texts:
            data = text.encode("utf-8", "surrogatepass")
            h.update(len(data).to_bytes(4, "little") + data)
    return h.digest()


def shift(
    before: Sequence[str],
    after: Sequence[str],
    *,
    exclude: Iterable[str] = (),
    language: str | None = None,
) -> WordShift:
    """`word_shift(before, after, exclude=…, language=…)`, computed once per distinct input."""
    names = tuple(exclude)
    key = _digest(before, after, names, language)
    with _lock:
        found = _known.get(key)
        if found is not None:
            _known.move_to_end(key)
            return found
    computed = word_shift(before, after, exclude=names, language=language)
    with _lock:
        _known[key] = computed
        while len(_known) > CAPACITY:
            _known.popitem(last=False)
    return computed


def forget() -> None:
    """Drop every remembered result (for tests that measure the computation itself)."""
    with _lock:
        _known.clear()
