"""Breakroom in people's languages: gettext message catalogues (`data/locales/<lang>.po`, managed
with Babel), the language a text is for, and dates and numbers as that language writes them.

Who reads decides the language: a reply to one member follows their Discord client
(`interaction.locale`), a post for the team follows the team's `language`. The Discord layer says
which, once per interaction or draft (`speaking`); code in between writes `_("…")` and gets the
text in the language of the moment — a `ContextVar`, so each interaction's task keeps its own.

Messages are Python format strings with named fields, filled after translation:
`_("Poll #{id} is closed.", id=poll.id)`; plurals go through `n_`. A text defined at import time
(a constant) is marked with `N_` and translated where it is used, with `_(CONSTANT)`.

Feature logic only: plain Python, nothing from discord.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date, datetime
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.errors import InvalidInput

LOCALE_DIR = Path(__file__).resolve().parent.parent / "data" / "locales"
DOMAIN = "breakroom"
ENGLISH = "en"
#: every language Breakroom speaks: Babel's names (English is the source: no catalogue)
LANGUAGES = ("en", "de", "fr", "es", "pt_BR", "nl", "pl")
#: each language in its own words, for the `language` option's autocomplete
NATIVE = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
    "nl": "Nederlands",
    "pl": "Polski",
}

_current: ContextVar[str] = ContextVar("breakroom_language", default=ENGLISH)


def language_of(locale: str | None) -> str:
    """Breakroom's language for a Discord locale ("de", "pt-BR", "en-GB", "es-419"): the exact
    one, else the same language without its region, else English."""
    if not locale:
        return ENGLISH
    tag = str(locale).replace("-", "_")
    if tag in LANGUAGES:
        return tag
    base = tag.split("_")[0].lower()
    if base in LANGUAGES:
        return base
    regional = [lang for lang in LANGUAGES if lang.split("_")[0] == base]
    return regional[0] if regional else ENGLISH


def validate_language(value: str) -> str:
    """A team's language from what a member picked or typed: a language code ("fr", "pt-BR") or
    its name in its own words ("Français"); else InvalidInput listing the languages."""
    typed = " ".join(value.split()).casefold()
    for language, name in NATIVE.items():
        if typed in (language.casefold(), language.replace("_", "-").casefold(), name.casefold()):
            return language
    names = ", ".join(f"{name} ({language})" for language, name in NATIVE.items())
    raise InvalidInput(_("Breakroom speaks {names}: pick one of them.", names=names))


def search_languages(typed: str, limit: int = 25) -> list[tuple[str, str]]:
    """(code, name in its own words) of the languages matching what a member has typed."""
    needle = typed.strip().casefold()
    return [
        (language, name)
        for language, name in NATIVE.items()
        if needle in language.casefold() or needle in name.casefold()
    ][:limit]


def current() -> str:
    return _current.get()


@contextlib.contextmanager
def speaking(language: str | None) -> Iterator[str]:
    """Texts made inside are in `language` (a Breakroom language or a Discord locale)."""
    chosen = language_of(language)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def speak(language: str | None) -> str:
    """From now on in this task (an interaction's), texts are in `language`."""
    chosen = language_of(language)
    _current.set(chosen)
    return chosen


def catalogue_path(language: str) -> Path:
    return LOCALE_DIR / f"{language}.po"


@functools.cache
def translations(language: str) -> NullTranslations:
    """The language's catalogue, read from its .po file once (compiled in memory: no binary
    files in the repository, nothing to build)."""
    path = catalogue_path(language)
    if language == ENGLISH or not path.exists():
        return NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def N_(message: str) -> str:
    """Marks a text for translation where it is defined; `_(it)` translates it where it is used."""
    return message


def _(message: str, **fields: Any) -> str:
    """`message` in the current language, its `{fields}` filled in."""
    text = translations(current()).gettext(message)
    return text.format(**fields) if fields else text


def n_(singular: str, plural: str, count: int, **fields: Any) -> str:
    """The singular or plural form for `count` (as the language counts), fields filled in;
    `{count}` is always one of them."""
    text = translations(current()).ngettext(singular, plural, count)
    return text.format(count=count, **fields)


def in_language(language: str, message: str, **fields: Any) -> str:
    """`message` in that language, whatever the current one (the slash commands' translator)."""
    with speaking(language):
        return _(message, **fields)


def locale(language: str | None = None) -> Locale:
    # Not cached itself: a cache keyed on `None` would keep the first language it was asked in.
    return _parsed_locale(language or current())


@functools.cache
def _parsed_locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (ValueError, UnknownLocaleError):
        return Locale.parse(ENGLISH)


def day(moment: date | datetime, form: str = "medium") -> str:
    """A date as the current language writes it ("5 Jan 2026", "05.01.2026", "5 janv. 2026")."""
    return dates.format_date(moment, format=form, locale=locale())


def day_month(moment: date | datetime) -> str:
    """Day and month, no year ("5 Jan", "5. Jan.", "5 janv.")."""
    return dates.format_skeleton("MMMd", moment, locale=locale())


def time_of_day(moment: datetime) -> str:
    """A time as the current language writes it ("09:30", "9:30 AM")."""
    return dates.format_time(moment, format="short", locale=locale())


def percent(share: float) -> str:
    """A share (0.25) as the current language writes a percentage ("25%", "25 %")."""
    return numbers.format_percent(share, locale=locale())


def number(value: float) -> str:
    return numbers.format_decimal(value, locale=locale())
