"""Every message a writer sees, addressed by key, in Swedish (the default) or English.

The texts live in gettext catalogues, one `.po` file per language and layer
(`locale/<lang>/LC_MESSAGES/<domain>.po`): the msgid is a stable key such as
`cli.problems_found`, the msgstr the sentence with `{name}` placeholders
(python-brace-format). Code and tests use the keys, so a sentence is written once per
language and a test never copies it.

The `.po` files are read as they are with polib (a small, maintained, pure-Python reader of
gettext catalogues) instead of being compiled to `.mo` with Babel at build time: there is no
build step to forget, the wheel and a checkout read the same files, and Babel's CLDR data
(tens of megabytes) would be carried only for this.

The language is Swedish unless `--lang en` is given or the environment asks for English
(`LC_ALL`, `LC_MESSAGES` or `LANG` starting with `en`, in gettext's order).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

LANGUAGES = ("sv", "en")
DEFAULT = "sv"
_chosen: str | None = None


def language_from_environment(environ: Mapping[str, str] = os.environ) -> str:
    """English when the first locale variable that is set starts with `en`; Swedish otherwise."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "en" if value.lower().startswith("en") else DEFAULT
    return DEFAULT


def set_language(lang: str | None) -> None:
    """Choose the language for this process (None: from the environment)."""
    global _chosen
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    _chosen = lang


def language() -> str:
    return _chosen or language_from_environment()


class Catalogue:
    """One layer's messages in every language."""

    def __init__(self, folder: Path, domain: str):
        self.folder = folder
        self.domain = domain

    def path(self, lang: str) -> Path:
        return self.folder / lang / "LC_MESSAGES" / f"{self.domain}.po"

    def entries(self, lang: str) -> dict[str, str]:
        return _read_catalogue(self.path(lang))

    def text(self, key: str, /, lang: str | None = None, **params: object) -> str:
        """The message `key` in the chosen language, its placeholders filled in.

        A key missing from the catalogue is a programming error (KeyError), caught by the
        catalogue tests; a key missing only in English falls back to Swedish."""
        chosen = lang or language()
        template = self.entries(chosen).get(key) or self.entries(DEFAULT)[key]
        return template.format(**params)

    def count(self, key: str, n: int, /, lang: str | None = None, **params: object) -> str:
        """`key.one` for exactly one, `key.other` otherwise; `{n}` is the number."""
        return self.text(f"{key}.{'one' if n == 1 else 'other'}", lang=lang, n=n, **params)

    def keys(self, lang: str = DEFAULT) -> set[str]:
        return set(self.entries(lang))


@cache
def _read_catalogue(path: Path) -> dict[str, str]:
    """key -> text of one .po file, read once per process."""
    import polib

    return {entry.msgid: entry.msgstr for entry in polib.pofile(str(path)) if entry.msgstr and not entry.obsolete}


ENGINE = Catalogue(Path(__file__).parent / "locale", "underlag")
text = ENGINE.text
count = ENGINE.count
