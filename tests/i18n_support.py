"""Tiny message catalogues for tests: a few of Breakroom's texts translated into a test's own
words, written as .po files to a temporary folder and read by bot/i18n.py as it reads the real
ones (`installed`), so a test says exactly which texts are looked up in which language."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bot import i18n

#: msgid (or singular and plural) → the translation (or one per plural form)
Entries = Mapping[str | tuple[str, str], str | tuple[str, ...]]
PLURAL_FORMS = {"fr": "nplurals=2; plural=(n > 1);"}
OTHERWISE = "nplurals=2; plural=(n != 1);"


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def write_catalogue(folder: Path, language: str, messages: Entries) -> None:
    plural_forms = PLURAL_FORMS.get(language, OTHERWISE)
    entries = [
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
        f'"Plural-Forms: {plural_forms}\\n"\n'
    ]
    for msgid, msgstr in messages.items():
        if isinstance(msgid, tuple):
            forms = (msgstr,) if isinstance(msgstr, str) else msgstr
            lines = [f"msgid {quoted(msgid[0])}", f"msgid_plural {quoted(msgid[1])}"]
            lines += [f"msgstr[{n}] {quoted(form)}" for n, form in enumerate(forms)]
            entries.append("\n".join(lines) + "\n")
        else:
            assert isinstance(msgstr, str)
            entries.append(f"msgid {quoted(msgid)}\nmsgstr {quoted(msgstr)}\n")
    (folder / f"{language}.po").write_text("\n".join(entries), encoding="utf-8")


def installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, catalogues: Mapping[str, Entries]
) -> Iterator[Path]:
    """For a fixture: these catalogues instead of the real ones while the test runs."""
    folder = tmp_path / "locales"
    folder.mkdir()
    for language, messages in catalogues.items():
        write_catalogue(folder, language, messages)
    monkeypatch.setattr(i18n, "LOCALE_DIR", folder)
    i18n.translations.cache_clear()
    yield folder
    i18n.translations.cache_clear()
