"""What members type, read the same way everywhere: text that shows nothing, duplicate keys,
digits from any script, and ids.

Pure functions, nothing from discord. Three rules:

- Text made only of characters that show nothing (spaces, controls, zero-width and other format
  characters, combining marks with nothing to sit on, Hangul fillers, the Braille blank) is
  empty, wherever a member writes it (`shows_nothing`).
- Two texts are duplicates when they read the same: NFKC (fullwidth `Ｃａｒｅｅｒ` is `Career`),
  invisible characters dropped, spacing collapsed, case folded (`comparison_key`). Only the key is
  normalised; what is stored and shown stays as the member wrote it.
- Numbers are read in ASCII: digits of any script (`٣٠`, `３０`, `३०`) are turned into ASCII
  before a pattern or `int()` sees them (`ascii_digits`), and patterns use `[0-9]`, never `\\d`.
  An id is a whole number SQLite can hold: 1 to 2**63 - 1 (`parse_id`); anything else is an id
  of nothing.
"""

from __future__ import annotations

import re
import unicodedata

#: The largest id a row can have: SQLite integers are signed 64-bit.
MAX_ID = 2**63 - 1
_ID_DIGITS = len(str(MAX_ID))
_DIGITS = re.compile(r"[0-9]+")

#: Characters that show nothing although Unicode files them as letters or symbols: the Hangul
#: fillers and the Braille blank (all used to make "empty" names look written).
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
#: Categories that show nothing on their own: controls, format characters (zero-width space,
#: joiners, word joiner, byte-order mark, direction marks), separators, and combining marks.
_BLANK_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Mc"})
#: Variation selectors and the combining grapheme joiner: marks that change nothing you read.
_IGNORED_MARKS = re.compile("[\u034f\u17b4\u17b5\u180b-\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")


def _blank(ch: str) -> bool:
    return ch in _BLANK_LETTERS or unicodedata.category(ch) in _BLANK_CATEGORIES


def shows_nothing(text: str) -> bool:
    """True when `text` would look empty on screen (also for the empty string)."""
    return all(_blank(ch) for ch in text)


def strip_invisible(text: str) -> str:
    """`text` without the characters that are never seen: format characters (zero-width space,
    joiners, byte-order mark…), the Hangul fillers, the Braille blank and variation selectors.
    Combining marks that sit on a letter are kept (they change what it reads)."""
    text = "".join(
        ch for ch in text if ch not in _BLANK_LETTERS and unicodedata.category(ch) != "Cf"
    )
    return _IGNORED_MARKS.sub("", text)


def comparison_key(text: str) -> str:
    """What makes two texts the same for a duplicate check: NFKC, invisible characters dropped,
    whitespace runs as one space, case folded. `Ｃａｒｅｅｒ`, `career\\u200b` and `Career` share a
    key."""
    text = strip_invisible(unicodedata.normalize("NFKC", text))
    text = " ".join(text.split()).casefold()
    return unicodedata.normalize("NFKC", text)


def _ascii_digit(ch: str) -> str:
    if ch.isascii():
        return ch
    value = unicodedata.decimal(ch, None)
    return ch if value is None else str(value)


def ascii_digits(text: str) -> str:
    """`text` with every decimal digit of any script (Arabic-Indic `٣`, fullwidth `３`,
    Devanagari `३` …) as its ASCII digit; other characters unchanged."""
    return "".join(_ascii_digit(ch) for ch in text)


def plain_number_text(text: str) -> str:
    """Text that should hold numbers (a duration, a time, an id), as ASCII as it can be made:
    NFKC (fullwidth `：` is `:`), digits of any script in ASCII, invisible characters dropped,
    trimmed."""
    return ascii_digits(strip_invisible(unicodedata.normalize("NFKC", text))).strip()


def parse_id(value: str | int) -> int | None:
    """The id a member typed or a custom_id carries (`12`, `#12`, `１２`, `١٢`), or None when it
    can't be the id of anything stored: not a whole number, 0, or beyond 2**63 - 1."""
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    text = plain_number_text(value).lstrip("#").strip()
    # Long strings never reach int(): it refuses more than 4300 digits, and no id has 20.
    if len(text) > _ID_DIGITS or not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def is_number(text: str) -> bool:
    """`text` is ASCII digits only (a number, however large)."""
    return _DIGITS.fullmatch(text) is not None
