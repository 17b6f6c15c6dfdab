"""The message catalogues: every text the code marks (and every slash command's name, description
and choice) has a translation in every language, with the same fields, within Discord's limits;
and the language rules of bot/i18n.py."""

from __future__ import annotations

import ast
import asyncio
import re
import string
from datetime import UTC, date, datetime
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot import i18n
from bot.i18n import LANGUAGES, catalogue_path, language_of, speaking
from bot.translator import LOCALES, NAME_CONTEXT
from tests.i18n_catalogue import ROOT, command_messages, template
from tests.support import World

TRANSLATED = LANGUAGES[1:]
#: Discord's limits for texts the catalogue translates, by where the code uses them
LIMITS = {"label": 80, "title": 45, "placeholder": 150, "description": 100}
COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def catalogue(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.fixture(scope="module")
def wanted() -> Catalog:
    """What the code and the command tree ask to translate, as `tests.i18n_catalogue` sees it."""
    return template(asyncio.run(command_messages()))


def texts(message: Message) -> list[str]:
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    return [str(i) for i in ids]


def translations_of(message: Message) -> list[str]:
    found = message.string
    return [str(s) for s in found] if isinstance(found, tuple) else [str(found or "")]


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_has_a_translation_with_the_same_fields(language: str, wanted: Catalog) -> None:
    have = catalogue(language)
    missing, broken = [], []
    for message in wanted:
        if not message.id:
            continue
        found = have.get(message.id, context=message.context)
        if found is None or not all(translations_of(found)):
            missing.append(texts(message)[0])
            continue
        expected = set().union(*(fields(t) for t in texts(message)))
        for translation in translations_of(found):
            # a plural form may leave {count} out ("one vote": "eine Stimme"), nothing else
            if not fields(translation) <= expected or (expected - {"count"}) - fields(translation):
                broken.append((texts(message)[0], translation))
    assert not missing, f"{language}: {len(missing)} texts untranslated, e.g. {missing[:5]}"
    assert not broken, f"{language}: fields differ: {broken[:5]}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_command_names_and_descriptions_fit_discord(language: str, wanted: Catalog) -> None:
    have = catalogue(language)
    for message in wanted:
        if not message.id or message.locations != [("command-tree", 0)]:
            continue
        found = have.get(message.id, context=message.context)
        if found is None:
            continue  # reported by the test above
        text = translations_of(found)[0]
        if not text:
            continue  # untranslated: reported by the test above
        if message.context == NAME_CONTEXT:
            assert COMMAND_NAME.match(text) and text == text.lower(), (language, text)
        else:
            assert 1 <= len(text) <= 100, (language, message.id, text)


def limited_texts() -> dict[str, int]:
    """msgid → the Discord limit of the place the code uses it (a button's label, a modal's
    title, a select's placeholder, a form field's description), found in cogs/ by reading the
    code: `label=_("…")`, or `label=_(CONSTANT)` with `CONSTANT = N_("…")` in the module."""
    limits: dict[str, int] = {}
    for path in sorted((ROOT / "cogs").glob("*.py")):
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.args[0].value
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "N_"
            and node.value.args
            and isinstance(node.value.args[0], ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, ast.keyword) or node.arg not in LIMITS:
                continue
            call = node.value
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "_"):
                continue
            argument = call.args[0] if call.args else None
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                limits[argument.value] = LIMITS[node.arg]
            elif isinstance(argument, ast.Name) and argument.id in constants:
                limits[constants[argument.id]] = LIMITS[node.arg]
    return limits


@pytest.mark.parametrize("language", TRANSLATED)
def test_labels_titles_and_placeholders_fit_discord_in_every_language(language: str) -> None:
    have = catalogue(language)
    for msgid, limit in limited_texts().items():
        found = have.get(msgid)
        if found is None:
            continue  # untranslated: reported above
        for text in translations_of(found):
            assert len(text) <= limit, f"{language}: {text!r} is over {limit} ({msgid!r})"


def test_the_limits_are_found_in_the_code() -> None:
    # the scan can't pass by finding nothing: the cogs have labelled buttons and titled forms
    limits = limited_texts()
    assert 80 in limits.values() and 45 in limits.values()


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("de", "de"),
        ("pt-BR", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("es-ES", "es"),
        ("es-419", "es"),
        ("en-GB", "en"),
        ("fr", "fr"),
        ("nl", "nl"),
        ("pl", "pl"),
        ("ja", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_a_discord_locale_reads_one_of_breakroom_languages(
    locale: str | None, language: str
) -> None:
    assert language_of(locale) == language


def test_speaking_is_undone_after_the_block() -> None:
    assert i18n.current() == "en"
    with speaking("fr"):
        assert i18n.current() == "fr"
        with speaking("de"):
            assert i18n.current() == "de"
        assert i18n.current() == "fr"
    assert i18n.current() == "en"


def test_dates_and_numbers_follow_the_language() -> None:
    moment = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    with speaking("en"):
        assert i18n.day(date(2026, 1, 5)) == "5 Jan 2026"
        assert i18n.time_of_day(moment) == "09:30"
        assert i18n.percent(0.25) == "25%"
    with speaking("de"):
        assert i18n.day(date(2026, 1, 5)) == "05.01.2026"
        assert i18n.time_of_day(moment) == "09:30"
        assert i18n.percent(0.25) == "25\xa0%"  # a no-break space, as German writes it
    with speaking("fr"):
        assert i18n.day_month(date(2026, 1, 5)) == "5 janv."


def test_a_team_language_is_picked_by_code_or_by_name() -> None:
    assert i18n.validate_language("fr") == "fr"
    assert i18n.validate_language("pt-BR") == "pt_BR"
    assert i18n.validate_language(" français ") == "fr"
    with pytest.raises(i18n.InvalidInput, match="Deutsch"):
        i18n.validate_language("klingon")
    assert [code for code, _ in i18n.search_languages("n")][:2] == ["en", "fr"]


def test_every_language_has_its_catalogue() -> None:
    for language in TRANSLATED:
        assert catalogue_path(language).exists(), language


async def test_the_synced_commands_carry_every_languages_names_and_descriptions(
    world: World,
) -> None:
    locales = {locale.value for locale in LOCALES}
    assert locales == {"de", "fr", "es-ES", "es-419", "pt-BR", "nl", "pl"}
    commands = world.dd.synced_commands
    assert commands

    def distinct(siblings: list[dict[str, Any]], where: str) -> None:
        # Discord refuses two options (or subcommands) of one command with the same name
        for locale in locales:
            names = [(o.get("name_localizations") or {}).get(locale, o["name"]) for o in siblings]
            assert len(set(names)) == len(names), f"{where} ({locale}): {names}"

    distinct(commands, "the commands")

    def check(item: dict[str, Any], where: str) -> None:
        for key in ("name_localizations", "description_localizations"):
            assert set(item.get(key) or {}) == locales, f"{where}: {key} {item.get(key)}"
        distinct(item.get("options") or [], where)
        for option in item.get("options") or []:
            check(option, f"{where} {option['name']}")
            for choice in option.get("choices") or []:
                assert set(choice.get("name_localizations") or {}) == locales, (where, choice)

    for command in commands:
        check(command, f"/{command['name']}")
