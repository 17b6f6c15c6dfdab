"""The slash commands in each member's language (Discord layer): discord.py's
`app_commands.Translator`, reading the same catalogues as every reply (bot/i18n.py).

Command, option and choice *names* are translated with the message context "command name" (a
name's translation must itself be a valid name: lowercase, no spaces, at most 32 characters),
descriptions as they are written. Every language is sent for every text, also where the word
is the English one ("export"); tests/test_i18n.py checks no text is left untranslated.
The English names stay the contract other programs drive the bot by.
"""

from __future__ import annotations

import discord
from discord import app_commands

from bot.i18n import ENGLISH, LANGUAGES, language_of, translations

#: the msgctxt of a command's, an option's or a choice's name in the catalogues
NAME_CONTEXT = "command name"
_NAMES = {
    app_commands.TranslationContextLocation.command_name,
    app_commands.TranslationContextLocation.group_name,
    app_commands.TranslationContextLocation.parameter_name,
}
#: the Discord locales Breakroom's languages are offered under
LOCALES = tuple(
    locale
    for locale in discord.Locale
    if language_of(locale.value) != ENGLISH and language_of(locale.value) in LANGUAGES
    # "es-419" and "es-ES" both read Spanish; "pt-BR" reads Brazilian Portuguese
)


class BreakroomTranslator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        language = language_of(locale.value)
        if language == ENGLISH or locale not in LOCALES:
            return None
        catalogue = translations(language)
        message = string.message
        if context.location in _NAMES:
            text = catalogue.pgettext(NAME_CONTEXT, message)
        else:
            text = catalogue.gettext(message)
        return text  # also when it is the English word ("export"): every language is listed
