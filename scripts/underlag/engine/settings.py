"""The book's own settings, as Quarto documents them: language labels, cross-reference options,
section numbering and the table of contents, resolved once per output format.

Labels come from Quarto's translation tables (`language/_language.yml` and
`_language-<lang>.yml`, copied from quarto-cli with their licence), with the engine's own keys
(`language/underlag*.yml`) layered on top, then the book's `language:` overrides, then the
`crossref:` options (`fig-prefix`, `fig-title`, …) — the order Quarto applies them in.
Top-level options are read first and `format: <fmt>:` options override them, as in Quarto.

The Lua filters receive the resolved settings as JSON in the environment variable
UNDERLAG_SETTINGS (`Settings.for_filters`); the templates receive them as variables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from underlag.engine.errors import Problem
from underlag.engine.messages import text as _

# Quarto's format names for each of our outputs: the PDF is made by Typst.
FORMAT_KEYS = {"html": ("html",), "docx": ("docx",), "pdf": ("pdf", "typst")}
# `crossref:` options that name a label, and the translation key each one replaces.
CROSSREF_LABELS = {f"{kind}-{what}": f"crossref-{kind}-{what}"
                   for kind in ("fig", "tbl", "lst", "eq", "sec") for what in ("prefix", "title")}
KINDS = ("fig", "tbl", "lst", "eq", "sec")
# `crossref: labels` / `fig-labels` / `tbl-labels` styles, as Quarto spells them, and the numbering
# pattern (Typst's letters) each one means.
LABEL_STYLES = {"arabic": "1", "roman": "I", "roman I": "I", "roman i": "i", "alpha a": "a", "alpha A": "A"}
# Quarto's callout cross-reference prefixes (`#nte-x`) and the callout each one numbers.
CALLOUT_KINDS = {"nte": "note", "tip": "tip", "wrn": "warning", "imp": "important", "cau": "caution"}


@cache
def _table(name: str) -> dict[str, str]:
    resource = files("underlag.engine") / "language" / name
    if not resource.is_file():
        if name in ("_language.yml", "underlag.yml"):  # the English base ships with the package
            raise FileNotFoundError(f"underlag.engine/language/{name} is missing from the installation")
        return {}
    return {str(k): str(v) for k, v in (yaml.safe_load(resource.read_text("utf-8")) or {}).items()}


def translations(lang: str) -> dict[str, str]:
    """Quarto's English table, then the language's own (`sv` before `sv-SE`), each with our keys on
    top: a key missing from a translation falls back to English, as in Quarto."""
    tags = lang.split("-")
    table: dict[str, str] = {}
    for tag in [""] + ["-".join(tags[:n]) for n in range(1, len(tags) + 1)]:
        suffix = f"-{tag}" if tag else ""
        table.update(_table(f"_language{suffix}.yml"))
        table.update(_table(f"underlag{suffix}.yml"))
    return table


@dataclass(frozen=True)
class Settings:
    lang: str
    labels: dict[str, str]
    toc: bool
    toc_depth: int
    number_sections: bool
    number_depth: int | None  # None: every level is numbered
    chapters: bool  # figures and tables numbered within chapters ("2.1"), else through the book ("3")
    numbering: dict[str, str] = field(default_factory=dict)  # kind -> pattern: "1", "I", "i", "a", "A"
    title_delim: str = ":"  # between a caption's number and its text: "Figure 1: …"

    def pattern(self, kind: str) -> str:
        return self.numbering.get(kind, "1")

    def label(self, key: str) -> str:
        return self.labels.get(key, "")

    def title(self, kind: str) -> str:
        """The caption word: "Figure" in "Figure 1: …"."""
        return self.label(f"crossref-{kind}-title") or self.label(f"crossref-{kind}-prefix")

    def prefix(self, kind: str) -> str:
        """The reference word: "Figure" in "see Figure 1"; Quarto falls back to the caption word."""
        return self.label(f"crossref-{kind}-prefix") or self.title(kind)

    def callout_prefix(self, abbreviation: str) -> str:
        """The reference word for a numbered callout: "Note" in "see Note 1.1" is the callout's
        title in Quarto; a language may set crossref-nte-prefix … (Swedish: lower case)."""
        return (self.label(f"crossref-{abbreviation}-prefix")
                or self.label(f"callout-{CALLOUT_KINDS[abbreviation]}-title"))

    @property
    def toc_title(self) -> str:
        return self.label("toc-title") or self.label("toc-title-document")

    def page_of_pages(self, page: str, pages: str) -> str:
        return self.label("page-of-pages").replace("{page}", page).replace("{pages}", pages)

    def for_filters(self) -> str:
        """What the Lua filters read (UNDERLAG_SETTINGS): the labels they print and the numbering."""
        return json.dumps({
            "lang": self.lang,
            "prefix": {**{kind: self.prefix(kind) for kind in KINDS},
                       **{abbreviation: self.callout_prefix(abbreviation) for abbreviation in CALLOUT_KINDS}},
            "title": {kind: self.title(kind) for kind in KINDS},
            "callout": {kind: self.label(f"callout-{kind}-title")
                        for kind in ("note", "tip", "important", "warning", "caution")},
            "and": self.label("crossref-list-and"),
            "number-sections": self.number_sections,
            "number-depth": self.number_depth or 0,
            "chapters": self.chapters,
            "numbering": {kind: self.pattern(kind) for kind in ("fig", "tbl")},
            "title-delim": self.title_delim,
        }, ensure_ascii=False)


def options(metadata: dict, format_options: dict, fmt: str) -> dict[str, Any]:
    """Top-level options with the format's own (`format: html: toc-title: …`) over them."""
    merged = dict(metadata)
    for key in FORMAT_KEYS.get(fmt, (fmt,)):
        section = format_options.get(key)
        if isinstance(section, dict):
            merged.update(section)
    return merged


def resolve(metadata: dict, crossref: dict, format_options: dict, fmt: str, root: Path | None = None) -> Settings:
    """The settings one format is rendered with."""
    values = options(metadata, format_options, fmt)
    lang = str(values.get("lang") or "en")
    labels = translations(lang)
    labels.update(_language_overrides(values.get("language"), root))
    for option, key in CROSSREF_LABELS.items():
        if crossref.get(option) is not None:
            labels[key] = str(crossref[option])
    if values.get("toc-title") is not None:
        labels["toc-title"] = str(values["toc-title"])
    number_depth = values.get("number-depth")
    return Settings(
        lang=lang,
        labels=labels,
        toc=values.get("toc", True) is not False,  # Quarto books have contents unless told otherwise
        # deeper than six levels means all of them (Quarto passes any depth to pandoc)
        toc_depth=min(int(values.get("toc-depth") or 3), 6),
        number_sections=values.get("number-sections", True) is not False,
        number_depth=min(int(number_depth), 6) if number_depth else None,
        chapters=crossref.get("chapters", True) is not False,
        numbering={kind: LABEL_STYLES.get(str(crossref.get(f"{kind}-labels") or crossref.get("labels") or "arabic"), "1")
                   for kind in ("fig", "tbl")},
        title_delim=str(crossref.get("title-delim", ":")),
    )


def _language_overrides(value: Any, root: Path | None) -> dict[str, str]:
    """`language:` is a mapping of keys, or the name of a YAML file of them (Quarto allows both)."""
    if isinstance(value, str) and root is not None:
        from underlag.engine.guarded_yaml import read_yaml

        value = read_yaml(root / value, root)[0]
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items() if not isinstance(v, (dict, list))}


def settings_problems(config: dict, positions, shown: str) -> list[Problem]:
    """The settings' shapes, located: a depth is a whole number, crossref a mapping, a label text."""
    problems = []
    crossref = config.get("crossref")
    if crossref is not None and not isinstance(crossref, dict):
        line, column = positions.get(("crossref",), (None, None))
        problems.append(Problem(shown, line, column, _("settings.crossref_not_mapping")))
    places = [((key,), config.get(key)) for key in ("toc-depth", "number-depth")]
    formats = config.get("format") if isinstance(config.get("format"), dict) else {}
    places += [((name, key), section.get(key)) for name, section in formats.items() if isinstance(section, dict)
               for key in ("toc-depth", "number-depth")]
    for loc, value in places:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            line, column = positions.get(("format", *loc) if len(loc) == 2 else loc, (None, None))
            problems.append(Problem(shown, line, column, _("settings.depth_not_number", key=loc[-1], value=value)))
    for key in ("labels", "fig-labels", "tbl-labels"):
        style = crossref.get(key) if isinstance(crossref, dict) else None
        if style is not None and str(style) not in LABEL_STYLES:
            line, column = positions.get(("crossref", key), (None, None))
            problems.append(Problem(shown, line, column, _("settings.label_style", key=key, style=style,
                                                           choices=", ".join(LABEL_STYLES))))
    language = config.get("language")
    if language is not None and not isinstance(language, (dict, str)):
        line, column = positions.get(("language",), (None, None))
        problems.append(Problem(shown, line, column, _("settings.language_shape")))
    return problems
