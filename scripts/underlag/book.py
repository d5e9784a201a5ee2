"""Read the Quarto book definition: `_quarto.yml`, its metadata files and `_variables.yml`.

`_quarto.yml` is the single place that lists chapters and formats. The result is a plain
`Book` that the assemble and render stages use; it knows nothing about `data/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError, Problem
from .load import read_yaml

FORMATS = ("html", "docx", "pdf")


@dataclass(frozen=True)
class Chapter:
    path: Path
    appendix: bool


@dataclass(frozen=True)
class Book:
    root: Path
    chapters: list[Chapter]
    metadata: dict[str, Any]
    variables: dict[str, Any]
    output_name: str

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", ""))

    @property
    def lang(self) -> str:
        return str(self.metadata.get("lang", "sv-SE"))


def read_book(root: Path) -> Book:
    config, positions = read_yaml(root / "_quarto.yml", root)
    if not isinstance(config, dict):
        raise InputError([Problem("_quarto.yml", 1, 1, "expected a mapping with 'book:' and 'format:'")])
    problems: list[Problem] = []
    book_section = config.get("book") or {}
    chapters = _chapters(root, book_section, positions, problems)
    metadata = _metadata(root, config, problems)
    variables = _variables(root)
    if problems:
        raise InputError(problems)
    return Book(
        root=root,
        chapters=chapters,
        metadata=metadata,
        variables=variables,
        output_name=str(book_section.get("output-file", "rapport")),
    )


def _chapters(root: Path, book_section: dict, positions, problems: list[Problem]) -> list[Chapter]:
    chapters = []
    for key, appendix in (("chapters", False), ("appendices", True)):
        for index, entry in enumerate(book_section.get(key) or []):
            line, column = positions.get(("book", key, index), (None, None))
            if isinstance(entry, dict):  # a Quarto "part": its chapters count as ours
                entries = entry.get("chapters") or []
            else:
                entries = [entry]
            for name in entries:
                path = root / str(name)
                if not path.is_file():
                    problems.append(Problem("_quarto.yml", line, column,
                                            f"chapter '{name}' does not exist; create it or remove it from the list"))
                chapters.append(Chapter(path, appendix))
    if not chapters and not problems:
        problems.append(Problem("_quarto.yml", 1, 1, "no chapters listed; add them under book: chapters:"))
    return chapters


def _metadata(root: Path, config: dict, problems: list[Problem]) -> dict[str, Any]:
    """Quarto merges metadata files first, then the project's own keys and book keys."""
    merged: dict[str, Any] = {}
    for name in config.get("metadata-files") or []:
        try:
            values, _ = read_yaml(root / name, root)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        merged.update(values or {})
    for key, value in config.items():
        if key not in ("project", "book", "format", "metadata-files", "profile"):
            merged[key] = value
    for key in ("title", "subtitle", "author", "date"):
        if key in (config.get("book") or {}):
            merged[key] = config["book"][key]
    return merged


def _variables(root: Path) -> dict[str, Any]:
    path = root / "_variables.yml"
    if not path.is_file():
        return {}
    values, _ = read_yaml(path, root)
    return values or {}
