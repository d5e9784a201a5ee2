"""Read the Quarto book definition: `_quarto.yml`, its metadata files and `_variables.yml`.

`_quarto.yml` is the single place that lists chapters and formats. The result is a plain
`Book` that the assemble and render stages use; it knows nothing about `data/`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from underlag.engine.confine import check_read, confinement_problems, inside
from underlag.engine.errors import InputError, Problem
from underlag.engine.guarded_yaml import expect, parse_yaml, read_text, read_yaml
from underlag.engine.settings import Settings, resolve, settings_problems
from underlag.engine.messages import text as _

FORMATS = ("html", "docx", "pdf")


@dataclass(frozen=True)
class Part:
    """A Quarto book part: `- part: "Title"` or `- part: part-1.qmd` (a file whose heading is the
    title and whose text opens the part), with the line of `_quarto.yml` that names it."""
    title: str | None
    path: Path | None
    line: int | None


@dataclass(frozen=True)
class Chapter:
    path: Path
    appendix: bool
    part: Part | None = None  # set on the first chapter of a part: the part opens before it


@dataclass(frozen=True)
class Book:
    root: Path
    chapters: list[Chapter]
    metadata: dict[str, Any]
    variables: dict[str, Any]
    output_name: str
    bibliography: tuple[Path, ...] = ()
    csl: Path | None = None
    profiles: tuple[str, ...] = ()
    editions: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (profile, formats) published with each version
    crossref: dict[str, Any] = field(default_factory=dict)  # `crossref:` options (prefixes, titles, chapters)
    format_options: dict[str, Any] = field(default_factory=dict)  # `format:` — per-format options override

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", ""))

    @property
    def lang(self) -> str:
        """Quarto's default is English: Swedish only when the book says so."""
        return str(self.metadata.get("lang") or "en")

    def settings(self, fmt: str) -> Settings:
        """The book's labels, numbering and contents settings for one format (html, docx, pdf)."""
        return resolve(self.metadata, self.crossref, self.format_options, fmt, self.root)


def read_book(root: Path, profiles: str | None = None) -> Book:
    """The book as `_quarto.yml` says, with each profile's `_quarto-<name>.yml` merged over it.

    Profiles come from `profiles` (comma-separated) or, like Quarto, from QUARTO_PROFILE.
    """
    if links := confinement_problems(root):
        raise InputError(links)
    config, positions = read_yaml(root / "_quarto.yml", root)
    if not isinstance(config, dict):
        raise InputError([Problem("_quarto.yml", 1, 1, _("book.not_mapping"))])
    if shape := _shape_problems(config, positions, "_quarto.yml"):
        raise InputError(shape)
    names = tuple(n.strip() for n in (profiles or os.environ.get("QUARTO_PROFILE", "")
                                      or _default_profiles(config)).split(",") if n.strip())
    chapters_file = "_quarto.yml"
    for name in names:
        path = root / f"_quarto-{name}.yml"
        if not path.is_file():
            raise InputError([Problem(f"_quarto-{name}.yml", None, None, _("book.profile_missing", name=name))])
        overlay, overlay_positions = read_yaml(path, root)
        if shape := (expect(overlay, dict, path.name, overlay_positions)
                     or _shape_problems(overlay, overlay_positions, path.name)):
            raise InputError(shape)
        if isinstance(overlay, dict):
            if "chapters" in (overlay.get("book") or {}) or "appendices" in (overlay.get("book") or {}):
                chapters_file, positions = path.name, overlay_positions
            config = merge(config, overlay)
    problems: list[Problem] = []
    book_section = config.get("book") or {}
    chapters = _chapters(root, book_section, positions, problems, chapters_file)
    metadata = _metadata(root, config, positions, problems)
    variables = _variables(root, problems)
    problems += _language_problems(metadata, positions) + _output_dir_problems(root, config, positions)
    problems += _network_addresses(metadata, positions) + settings_problems(config, positions, "_quarto.yml")
    problems += _language_file_problems(root, config, positions)
    output_name = _output_name(book_section, positions, problems)
    bibliography = tuple(root / str(b) for b in _as_list(metadata.get("bibliography")) if not _remote(b))
    csl = root / str(metadata["csl"]) if metadata.get("csl") and not _remote(metadata["csl"]) else None
    for path in [*bibliography, *([csl] if csl else [])]:
        if not path.resolve().is_relative_to(root.resolve()):
            problems.append(Problem("_quarto.yml", None, None, _("book.bibliography_outside", path=path)))
        elif not path.is_file():
            problems.append(Problem("_quarto.yml", None, None, _("book.bibliography_missing", path=path)))
    if problems:
        raise InputError(problems)
    return Book(
        root=root,
        chapters=chapters,
        metadata=metadata,
        variables=variables,
        output_name=output_name,
        bibliography=bibliography,
        csl=csl,
        profiles=names,
        editions=tuple((str(name), tuple(formats)) for name, formats in (metadata.get("editions") or {}).items()),
        crossref=config.get("crossref") if isinstance(config.get("crossref"), dict) else {},
        format_options=config.get("format") or {},
    )


def _default_profiles(config: dict) -> str:
    """Quarto's `profile: default:` (a name or a list): the profiles used when none is asked for."""
    profile = config.get("profile")
    default = profile.get("default") if isinstance(profile, dict) else None
    return ",".join(map(str, default)) if isinstance(default, list) else str(default or "")


def _language_file_problems(root: Path, config: dict, positions) -> list[Problem]:
    """`language: labels.yml` names a file of translations: it must exist inside the project."""
    formats = config.get("format") if isinstance(config.get("format"), dict) else {}
    places = [(("language",), config.get("language"))] + [
        (("format", fmt, "language"), section.get("language")) for fmt, section in formats.items()
        if isinstance(section, dict)]
    return [problem for loc, name in places if isinstance(name, str)
            for problem in _language_file_problem(root, name, ("_quarto.yml", *positions.get(loc, (None, None))))]


def _language_file_problem(root: Path, name: str, where: tuple) -> list[Problem]:
    try:
        path = check_read(root, root / name, where)
        if not path.is_file():
            return [Problem(*where, _("book.language_file_missing", name=name))]
        values, value_positions = read_yaml(path, root)
    except InputError as exc:
        return exc.problems
    return expect(values, dict, name, value_positions)


def _remote(value: Any) -> bool:
    return bool(re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.-]+:|//)", str(value)))


def _network_addresses(metadata: dict, positions) -> list[Problem]:
    """A bibliography or citation style given as an address would be fetched: refuse it, located."""
    problems = []
    for key in ("bibliography", "csl"):
        values = metadata.get(key)
        for index, value in enumerate(_as_list(values)):
            if _remote(value):
                line, column = positions.get((key, index) if isinstance(values, list) else (key,), (None, None))
                problems.append(Problem("_quarto.yml", line, column,
                                        _("book.network_address", key=key, value=value)))
    return problems


def _shape_problems(config: dict, positions, shown: str) -> list[Problem]:
    """The sections the tool reads must have the right shape: a located message, not a traceback."""
    problems = []
    for key, kind in (("book", dict), ("metadata-files", list), ("editions", dict), ("format", dict)):
        problems += expect(config.get(key), kind, shown, positions, (key,))
    book = config.get("book")
    if isinstance(book, dict):
        for key in ("chapters", "appendices"):
            problems += expect(book.get(key), list, shown, positions, ("book", key))
    problems += _flag_problems(config, positions, shown)
    for name, formats in (config.get("editions") or {}).items() if isinstance(config.get("editions"), dict) else ():
        problems += expect(formats, list, shown, positions, ("editions", name))
        for index, fmt in enumerate(formats if isinstance(formats, list) else []):
            if fmt not in FORMATS:
                line, column = positions.get(("editions", name, index), (None, None))
                problems.append(Problem(shown, line, column, _("book.unknown_format", format=fmt, edition=name,
                                                               choices=", ".join(FORMATS))))
    return problems


FLAGS = ("brief", "toc", "number-sections")  # yes/no settings the tool reads
SAYS_YES = ("yes", "y", "on", "ja", "sant")


def _flag_problems(config: dict, positions, shown: str) -> list[Problem]:
    """YAML 1.2 reads `no` as the text "no", which Python would take as true: say what was meant."""
    problems = []
    for key in FLAGS:
        value = config.get(key)
        if value is not None and not isinstance(value, bool):
            meant = "true" if str(value).strip().lower() in SAYS_YES else "false"
            line, column = positions.get((key,), (None, None))
            problems.append(Problem(shown, line, column, _("book.flag_is_text", key=key, value=value, meant=meant)))
    return problems


# A BCP 47 language tag as Quarto and pandoc expect it: sv, sv-SE, en-GB, zh-Hant-TW
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


def _language_problems(metadata: dict, positions) -> list[Problem]:
    lang = metadata.get("lang")
    if lang is None or (isinstance(lang, str) and LANGUAGE_TAG.match(lang)):
        return []
    line, column = positions.get(("lang",), (None, None))
    return [Problem("_quarto.yml", line, column, _("book.language_tag", tag=lang))]


def _output_dir_problems(root: Path, config: dict, positions) -> list[Problem]:
    """`project: output-dir:` is where real Quarto writes (--engine quarto): it must stay in the project."""
    project = config.get("project")
    folder = project.get("output-dir") if isinstance(project, dict) else None
    if folder is None or (isinstance(folder, str) and folder.strip() and not Path(folder).is_absolute()
                          and inside(root / folder, root) and root.resolve() != (root / folder).resolve()):
        return []
    line, column = positions.get(("project", "output-dir"), (None, None))
    return [Problem("_quarto.yml", line, column, _("book.output_dir_outside", folder=folder))]


def _output_name(book_section: dict, positions, problems: list[Problem]) -> str:
    """`output-file` names a file in report/, never a path: a contributor must not be able to make
    the build write anywhere else."""
    name = book_section.get("output-file", "rapport")
    if isinstance(name, str) and re.fullmatch(r"[^/\\\x00]+", name) and name not in (".", "..") \
            and not name.startswith("."):
        return name
    line, column = positions.get(("book", "output-file"), (None, None))
    problems.append(Problem("_quarto.yml", line, column, _("book.output_file_path", name=name)))
    return "rapport"


def merge(base: Any, overlay: Any) -> Any:
    """Quarto's profile merge: mappings merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        return {**base, **{k: merge(base.get(k), v) for k, v in overlay.items()}}
    return overlay


def _as_list(value: Any) -> list:
    return [] if value is None else value if isinstance(value, list) else [value]


def bibliography_keys(book: Book) -> set[str]:
    """Citation keys of the bibliography files (BibTeX, CSL JSON or CSL YAML)."""
    keys: set[str] = set()
    for path in book.bibliography:
        text = read_text(path, book.root, allow_empty=True)
        if path.suffix == ".bib":
            keys.update(re.findall(r"@\w+\s*\{\s*([^,\s]+)\s*,", text))
        else:
            keys.update(_csl_ids(path, text, book.root))
    return keys


def _csl_ids(path: Path, text: str, root: Path) -> list[str]:
    """The ids of a CSL JSON or CSL YAML bibliography: a list of entries, each a mapping with an id."""
    shown = path.relative_to(root.resolve()).as_posix() if path.is_relative_to(root.resolve()) else path.name
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError([Problem(shown, getattr(exc, "lineno", None), getattr(exc, "colno", None),
                                      _("book.bibliography_json", reason=exc))]) from None
    else:
        data = parse_yaml(text, shown)[0] or []
    entries = data.get("references", []) if isinstance(data, dict) else data
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise InputError([Problem(shown, 1, 1, _("book.bibliography_shape"))])
    return [str(entry.get("id")) for entry in entries]


def _chapters(root: Path, book_section: dict, positions, problems: list[Problem], source: str) -> list[Chapter]:
    chapters = []
    for key, appendix in (("chapters", False), ("appendices", True)):
        for index, entry in enumerate(book_section.get(key) or []):
            line, column = positions.get(("book", key, index), (None, None))
            part = _part(root, entry, line, column, source, problems) if isinstance(entry, dict) else None
            entries = (entry.get("chapters") or []) if isinstance(entry, dict) else [entry]
            if part and not entries:
                problems.append(Problem(source, line, column, _("book.part_without_chapters", part=entry.get("part"))))
            for number, name in enumerate(entries):
                path = root / str(name)
                if not path.resolve().is_relative_to(root.resolve()):
                    problems.append(Problem(source, line, column, _("book.chapter_outside", name=name)))
                    continue
                if not path.is_file():
                    problems.append(Problem(source, line, column, _("book.chapter_missing", name=name)))
                chapters.append(Chapter(path, appendix, part if number == 0 else None))
    if not chapters and not problems:
        problems.append(Problem(source, 1, 1, _("book.no_chapters")))
    return chapters


def _part(root: Path, entry: dict, line, column, source: str, problems: list[Problem]) -> Part | None:
    """Quarto reads `part:` as a file when it names one (.qmd/.md), else as the part's title."""
    value = entry.get("part")
    if value is None:
        return None
    name = str(value)
    if not re.search(r"\.(qmd|md)$", name):
        return Part(name, None, line)
    path = root / name
    if not path.resolve().is_relative_to(root.resolve()) or not path.is_file():
        problems.append(Problem(source, line, column, _("book.part_missing", name=name)))
        return None
    return Part(None, path, line)


def _metadata(root: Path, config: dict, positions, problems: list[Problem]) -> dict[str, Any]:
    """Quarto merges metadata files first, then the project's own keys and book keys."""
    merged: dict[str, Any] = {}
    for index, name in enumerate(config.get("metadata-files") or []):
        line, column = positions.get(("metadata-files", index), (None, None))
        try:
            path = check_read(root, root / str(name), ("_quarto.yml", line, column))
            values, value_positions = read_yaml(path, root)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if shape := expect(values, dict, str(name), value_positions):
            problems.extend(shape)
            continue
        merged.update(values or {})
    for key, value in config.items():
        if key not in ("project", "book", "format", "metadata-files", "profile", "crossref"):  # editions kept
            merged[key] = value
    for key in ("title", "subtitle", "author", "date"):
        if key in (config.get("book") or {}):
            merged[key] = config["book"][key]
    return merged


def _variables(root: Path, problems: list[Problem]) -> dict[str, Any]:
    path = root / "_variables.yml"
    if not path.is_file() and not path.is_symlink():
        return {}
    try:
        values, positions = read_yaml(path, root, allow_empty=True)
    except InputError as exc:
        problems.extend(exc.problems)
        return {}
    if shape := expect(values, dict, "_variables.yml", positions):
        problems.extend(shape)
        return {}
    return values or {}
