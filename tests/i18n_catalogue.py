"""Keeps the message catalogues in step with the code: `python -m tests.i18n_catalogue`.

It gathers every text to translate — what the code marks with `_`, `n_` and `N_` (bot/i18n.py),
and the slash commands' names (with the message context "command name"), descriptions and choice
names from the loaded command tree — into `data/locales/breakroom.pot`, and updates each
language's `<lang>.po` from it (new texts added untranslated, gone ones marked obsolete, the
translations kept). Translators then fill in the new entries; tests/test_i18n.py checks that none
is missing.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, catalogue_path
from bot.translator import NAME_CONTEXT

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
KEYWORDS = {"_": None, "n_": (1, 2), "N_": None}


def code_messages() -> Iterator[tuple[str | tuple[str, str], str, int]]:
    """(message, file, line) for every marked text in bot/ and cogs/."""
    for folder in ("bot", "cogs"):
        for filename, lineno, message, _comments, _context in extract_from_dir(
            ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            yield message, f"{folder}/{filename}", lineno


async def command_messages() -> list[tuple[str, str | None]]:
    """(text, context) for the slash commands' names, descriptions and choices."""
    from bot.client import Breakroom, cog_extensions
    from bot.config import Settings
    from bot.courier import Courier
    from bot.db import Database
    from bot.services import Services

    found: list[tuple[str, str | None]] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalogue.db"
        database = await Database.open(path)
        bot = Breakroom(Settings(token="unused", database_path=path), database=database)
        bot.services = Services(database, bot.clock, b"k" * 32)
        bot.courier = Courier(bot, bot.services.outbox, bot.clock, bot.scheduler.wake)
        try:
            for extension in cog_extensions():
                await bot.load_extension(extension)
            for command in bot.tree.walk_commands():
                found.append((command.name, NAME_CONTEXT))
                found.append((command.description, None))
                for parameter in getattr(command, "parameters", ()):
                    found.append((parameter.name, NAME_CONTEXT))
                    if parameter.description and parameter.description != "…":
                        found.append((parameter.description, None))
                    found += [(choice.name, None) for choice in parameter.choices]
        finally:
            await bot.close()
    return found


def template(commands: list[tuple[str, str | None]]) -> Catalog:
    catalog = Catalog(domain=DOMAIN, project="Breakroom", fuzzy=False)
    for message, where, line in code_messages():
        if isinstance(message, tuple):  # n_(singular, plural, count)
            catalog.add(message[:2], locations=[(where, line)], flags=["python-brace-format"])
        else:
            catalog.add(message, locations=[(where, line)], flags=["python-brace-format"])
    for text, context in commands:
        catalog.add(text, locations=[("command-tree", 0)], context=context)
    return catalog


def update(catalog: Catalog) -> list[str]:
    """Write the template and update every language's catalogue; returns what was written."""
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with TEMPLATE.open("wb") as handle:
        write_po(handle, catalog, omit_header=False, sort_output=True, width=100)
    written = [str(TEMPLATE.relative_to(ROOT))]
    for language in LANGUAGES[1:]:
        path = catalogue_path(language)
        if path.exists():
            with path.open("rb") as handle:
                translated = read_po(handle, locale=language, domain=DOMAIN)
        else:
            translated = Catalog(locale=language, domain=DOMAIN, project="Breakroom")
        translated.update(catalog, no_fuzzy_matching=True)
        translated.fuzzy = False  # the header: the catalogue is in use, not a draft
        with path.open("wb") as handle:
            write_po(handle, translated, sort_output=True, width=100, ignore_obsolete=True)
        written.append(str(path.relative_to(ROOT)))
    return written


def main() -> int:
    commands = asyncio.run(command_messages())
    for path in update(template(commands)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
